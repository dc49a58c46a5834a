"""``hirebot profile [show [--json] | set FILE|- | clear]``: the company facts a JD may state.

The same profile ``/hirebot profile`` shows and sets: one stored in the bot's database wins
over the file in ``HIREBOT_COMPANY_PROFILE_FILE``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from bot.cli.exits import EXIT_FAULT, EXIT_OK
from bot.config import Settings
from bot.services import company
from bot.services.errors import UserError
from bot.storage import Store


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.open(settings)
    try:
        status = company.profile_status(settings, store)
    finally:
        store.close()
    profile = status["profile"]
    if args.json:
        print(json.dumps({**status, "profile": profile.as_json() if profile else None},
                         indent=2))
    else:
        where = {"stored": f"stored, set by {status['set_by'] or 'an admin'}",
                 "file": f"from {status['file']}"}.get(status["source"] or "", "none set")
        print(f"company profile: {where}")
        print(company.profile_text(profile))
    if status["problem"]:
        print(f"hirebot: {status['problem']}", file=sys.stderr)
        return EXIT_FAULT
    return EXIT_OK


def cmd_set(args: argparse.Namespace, settings: Settings) -> int:
    """A ``.toml`` / ``.json`` file, or ``field: value`` lines from another file or stdin."""
    source: str = args.file
    store = Store.open(settings)
    try:
        if source != "-" and Path(source).suffix.lower() in {".toml", ".json"}:
            profile = company.set_profile_from_file(store, Path(source), _who())
        else:
            if source == "-":
                text = sys.stdin.read()
            else:
                try:
                    text = Path(source).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise UserError(f"Cannot read {source}: {exc}") from None
            profile = company.set_profile_from_text(store, text, _who())
    finally:
        store.close()
    print("saved; new JDs state these facts (this wins over HIREBOT_COMPANY_PROFILE_FILE):")
    print(company.profile_text(profile))
    return EXIT_OK


def cmd_clear(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.open(settings)
    try:
        had = company.clear_profile(store)
    finally:
        store.close()
    print("cleared the stored company profile" if had else "no stored company profile")
    if settings.company_profile_file is not None:
        print(f"JDs use {settings.company_profile_file} again")
    return EXIT_OK


def add_parsers(sub) -> None:
    profile = sub.add_parser("profile", help="the company facts JDs state (name, benefits, ...)")
    profile.set_defaults(func=cmd_show, json=False)
    actions = profile.add_subparsers(dest="action")
    show = actions.add_parser("show", help="the profile in use, and what it leaves out")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    setter = actions.add_parser("set", help="store a profile (wins over the settings' file)")
    setter.add_argument("file", metavar="FILE|-",
                        help="a .toml or .json profile, or `field: value` lines (a file or - "
                             "for stdin)")
    setter.set_defaults(func=cmd_set)
    clear = actions.add_parser("clear", help="forget the stored profile")
    clear.set_defaults(func=cmd_clear)
