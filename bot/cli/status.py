"""``hirebot status [--json]``: what ``/hirebot status`` and the App Home show."""

from __future__ import annotations

import argparse
import json

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.services.model_service import ModelService
from bot.services.status import metrics_text, status_report
from bot.storage import Store


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.open(settings)
    try:
        report = status_report(settings, ModelService(settings), store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    for card in report["models"]:
        print(f"{card['model']:10s} {card['version']:14s} {metrics_text(card)}")
    counts = report["counts"]
    print(f"{counts['jobposts']} JDs ({counts['approved_jobposts']} approved), "
          f"{counts['screenings']} screenings, {counts['feedback']} feedback votes; team data: "
          f"{counts['team_postings']} added postings, {counts['labelled_cvs']} labelled CVs, "
          f"{counts['match_votes']} votes on matches")
    print(f"data: {report['data_dir']}")
    return EXIT_OK


def add_parsers(sub) -> None:
    status = sub.add_parser("status", help="model versions, metrics and counts")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
