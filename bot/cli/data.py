"""``hirebot data add-postings | add-cvs | list | clear``: the team's own training data."""

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
          f"({', '.join(f'{k} {v}' for k, v in report['labels_by_source'].items()) or 'none'})"
          + "".join(f"\n  {name}: {count}" for name, count in report["labelled_cvs"].items()))
    return 0


def cmd_data_clear(args: argparse.Namespace, settings: Settings) -> int:
    removed = team_data.clear_team_data(settings, cvs=args.cvs, postings=args.postings)
    print("removed " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in removed.items()))
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
    listing = team_sub.add_parser("list", help="how much team data there is, by category")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_data_list)
    clear = team_sub.add_parser("clear", help="forget the team's training data")
    clear.add_argument("--cvs", action="store_true", help="labelled CVs (votes included)")
    clear.add_argument("--postings", action="store_true",
                       help="added postings; approved JDs stop counting as approved")
    clear.set_defaults(func=cmd_data_clear)
