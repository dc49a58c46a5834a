"""``hirebot refresh [classifier|generator|matcher] [--now] [--force] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys

from bot.config import Settings
from bot.services.refresh import (
    format_run_time,
    next_scheduled,
    refresh_history,
    refresh_kinds,
    spawn_refresh,
)
from bot.slack.format import refresh_report_text
from bot.slack.refresh_report import admin_reporter
from models.common.registry import KINDS


def cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    """Without --now: the schedule and the last decisions. With --now: refresh and decide."""
    kinds = refresh_kinds([args.kind]) if args.kind else list(KINDS)
    if not args.now:
        _print_schedule(kinds, settings)
        return 0
    worst = 0
    for kind in kinds:
        print(f"{kind}: refreshing in a low-priority process…", file=sys.stderr, flush=True)
        outcome = spawn_refresh(kind, settings, force=args.force,
                                reporter=admin_reporter(settings))
        if args.json:
            print(json.dumps(outcome))
        else:
            print(refresh_report_text(outcome).replace("*", ""))
        if outcome.get("decision") == "busy":
            worst = max(worst, 2)
        elif outcome.get("decision") == "failed":
            worst = max(worst, 1)
    return worst


def _print_schedule(kinds: list[str], settings: Settings) -> None:
    for kind in kinds:
        cron, upcoming = next_scheduled(settings, kind)
        history = refresh_history(settings, kind, limit=3)
        after = " (right after the classifier's)" if kind == "matcher" else ""
        print(f"{kind}: schedule '{cron}'{after} ({settings.timezone}), next "
              f"{upcoming:%Y-%m-%d %H:%M %Z} while the bot runs; active {history['active']}")
        for run in history["runs"]:
            print(f"  {format_run_time(run['started'])} {run['status']}: "
                  f"{run.get('reason', '')}")
    print("Run one now with `hirebot refresh [classifier|generator|matcher] --now` (the "
          "classifier's brings the matcher's along).")


def add_parsers(sub) -> None:
    refresh = sub.add_parser("refresh", help="retrain on the team's data; promote if better")
    refresh.add_argument("kind", nargs="?", choices=KINDS)
    refresh.add_argument("--now", action="store_true", help="run it now and print the decision")
    refresh.add_argument("--force", action="store_true",
                         help="run even with no new team data since the active version")
    refresh.add_argument("--json", action="store_true")
    refresh.set_defaults(func=cmd_refresh)
