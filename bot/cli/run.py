"""``hirebot run [--http] [--port N]`` and ``hirebot shell [--demo]``."""

from __future__ import annotations

import argparse
import sys

from bot.config import Settings
from bot.services.errors import UserError
from models.common.paths import BUNDLED_ROOT

DEMO_SCRIPT = [
    "/jobpost Data Scientist",
    "upload {cv}",
    "/screen Registered Nurse",
    "upload {cv}",
    "/hirebot status",
]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Socket Mode with both Slack tokens, HTTP with ``--http``, otherwise the local shell."""
    from bot.cli.app import run_http, run_socket_mode  # Bolt loads only for these verbs

    if args.http:
        if settings.slack_bot_token is None:
            raise UserError("HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.")
        return run_http(settings, port=args.port)
    if settings.slack_bot_token is not None and settings.slack_app_token is not None:
        return run_socket_mode(settings)
    if settings.slack_bot_token is not None:
        raise UserError("SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not: set the app-level "
                        "token for Socket Mode, or use `hirebot run --http` with "
                        "SLACK_SIGNING_SECRET.")
    print("No Slack tokens set: opening the local shell (the same app, no workspace).",
          file=sys.stderr)
    # stdin that is not a terminal is read as commands, as a shell reads a script
    # (`hirebot run < commands.txt`); `hirebot shell --demo` plays the demo.
    return cmd_shell(argparse.Namespace(demo=False), settings)


def cmd_shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.shell import run_shell

    lines = None
    if args.demo:
        cv = BUNDLED_ROOT / "demo" / "sample_resume.txt"
        lines = [line.format(cv=cv) for line in DEMO_SCRIPT]
    return run_shell(settings, lines)


def add_parsers(sub) -> None:
    run = sub.add_parser("run", help="run the Slack app (no Slack tokens: the local shell)")
    run.add_argument("--http", action="store_true",
                     help="serve /slack/events over HTTP instead of Socket Mode")
    run.add_argument("--port", type=int, help="HTTP port (default: the http_port setting)")
    run.set_defaults(func=cmd_run)

    shell = sub.add_parser("shell", help="use the Slack app from this terminal, no workspace")
    shell.add_argument("--demo", action="store_true", help="run a short scripted session")
    shell.set_defaults(func=cmd_shell)
