"""The ``hirebot`` command line: everything the Slack app does is reachable from here.

Exit codes follow the screening contract: 0 when every CV got a verdict, 2 when any input was
rejected (or the request itself is bad), 1 on an internal fault. Faults are logged without CV
text and reported as one line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli import (
    audit,
    data,
    db,
    evaluate,
    jobpost,
    models,
    profile,
    refresh,
    run,
    screen,
    status,
    suggest,
    train,
    worker,
)
from bot.cli.exits import EXIT_FAULT, EXIT_REJECTED
from bot.config import get_settings
from bot.logging_setup import configure_logging
from bot.services.errors import ConfigError, UserError

logger = logging.getLogger("hirebot")

#: Verb groups in the order ``hirebot --help`` lists them.
VERBS = (screen, suggest, train, evaluate, jobpost, models, refresh, data, profile, run, status,
         audit, db, worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hirebot", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.add_parsers(sub)
    return parser


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        return args.func(args, settings)
    except UserError as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except ConfigError as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_FAULT
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - last line of defence: one line for the user, log for us
        logger.exception("internal error in %s", args.command)
        print("hirebot: internal error; see the log above.", file=sys.stderr)
        return EXIT_FAULT
