"""Where the bot's state lives: a SQLite file by default, PostgreSQL when
``HIREBOT_DATABASE_URL`` names one; and the migrations that shape both (Alembic).

A SQLite file belongs to one machine, so the bot brings it up to date itself when it opens it
(the default needs no set-up step). A PostgreSQL database is shared by every bot and worker
process, so the schema moves only when an operator runs ``hirebot db upgrade``; a process
that finds it behind refuses to start with that instruction rather than half-working.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

_MIGRATIONS = str(Path(__file__).with_name("migrations"))
_checked: set[str] = set()  # databases found up to date by this process
_check_lock = threading.Lock()


class SchemaBehind(RuntimeError):
    """The shared database needs ``hirebot db upgrade`` before this version can use it."""


def sqlalchemy_url(target: str | Path) -> str:
    """A path (the SQLite file) or a URL; ``postgresql://`` is driven by psycopg 3."""
    text = str(target)
    if "://" not in text:
        return f"sqlite:///{Path(text)}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def redacted(url: str) -> str:
    """The URL as logs and messages may show it (no password)."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(target: str | Path) -> Engine:
    url = sqlalchemy_url(target)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA secure_delete=ON")  # a purged row is zeroed on disk
            cursor.close()

        return engine
    # A restarted server leaves dead connections in the pool: test each before use.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         pool_recycle=1800)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


def upgrade(engine: Engine) -> tuple[str, str]:
    """Apply every migration not yet applied; (revision before, revision after)."""
    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    """SQLite: migrate now. PostgreSQL: raise :class:`SchemaBehind` unless at the head."""
    key = str(engine.url)
    with _check_lock:
        if key in _checked:
            return
        current, head = current_revision(engine), head_revision()
        if current != head:
            if engine.dialect.name != "sqlite":
                raise SchemaBehind(
                    f"The database {redacted(key)} is at revision {current or 'none'}, this "
                    f"version needs {head}: run `hirebot db upgrade` once, then start again.")
            with _file_lock(Path(engine.url.database or "hirebot.db")):
                if current_revision(engine) != head:  # another process may have just done it
                    before, after = upgrade(engine)
                    # a new store is made at the head without a word; an old one says so
                    logger.log(logging.INFO if before else logging.DEBUG,
                               "store schema migrated from %s to %s", before or "none", after)
        _checked.add(key)


@contextmanager
def _file_lock(db_file: Path) -> Iterator[None]:
    """One process migrates a SQLite file at a time (the bot, the CLI, a refresh child)."""
    with db_file.with_name(db_file.name + ".migrate.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
