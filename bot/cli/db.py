"""``hirebot db upgrade`` and ``hirebot db current``: the schema migrations (Alembic)."""

from __future__ import annotations

import argparse

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.database import current_revision, head_revision, make_engine, redacted, sqlalchemy_url
from bot.database import upgrade as apply_migrations


def cmd_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_target)
    try:
        before, after = apply_migrations(engine)
    finally:
        engine.dispose()
    where = redacted(sqlalchemy_url(settings.database_target))
    if before == after:
        print(f"{where}: already at revision {after}")
    else:
        print(f"{where}: upgraded from {before or 'an empty database'} to revision {after}")
    return EXIT_OK


def cmd_current(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_target)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else f"behind: run `hirebot db upgrade` ({head})"
    print(f"{redacted(sqlalchemy_url(settings.database_target))}: revision "
          f"{current or 'none'}, {state}")
    return EXIT_OK


def add_parsers(sub) -> None:
    db = sub.add_parser("db", help="the database schema (SQLite file or HIREBOT_DATABASE_URL)")
    verbs = db.add_subparsers(dest="db_command", required=True)
    verbs.add_parser("upgrade", help="apply the migrations not yet applied").set_defaults(
        func=cmd_upgrade)
    verbs.add_parser("current", help="the schema's revision").set_defaults(func=cmd_current)
