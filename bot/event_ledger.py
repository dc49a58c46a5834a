"""Slack's event ids, claimed in a SQLite file of their own.

Every event delivery is claimed before it is acknowledged (``once_per_event``), so the claim
sits on the ack path.  On the store's shared connection it waited behind whatever the lazy
listeners and the model worker were writing under the store's lock; on a second connection
to the same file it waited for SQLite's write lock instead, polling in millisecond sleeps.
In its own file, with its own connection and lock, a claim waits only for other claims:
in the load benchmark the ack p99 went from 113-140 ms to 80-102 ms (docs/benchmarks.md,
"Load and retries").  The ids are purged with the store's personal tables (``Store.purge``).

On PostgreSQL (several bot processes share one database) the ids are a table of that database,
and ``INSERT ... ON CONFLICT DO NOTHING`` decides between processes: :class:`SharedEventLedger`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert

from bot import schema


def ledger_path(db_path: Path) -> Path:
    """``hirebot.db`` -> ``hirebot-events.db``, next to it in the data folder."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}-events{db_path.suffix}")


def EventLedger(target: Path | Engine) -> SQLiteEventLedger | SharedEventLedger:  # noqa: N802
    """The ledger for a store: a SQLite file's path, or a server database's engine."""
    if isinstance(target, Engine):
        return SharedEventLedger(target)
    return SQLiteEventLedger(target)


class SharedEventLedger:
    """The ``events`` table of a PostgreSQL database (migration 0002), shared by processes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, event_id: str) -> bool:
        with self._engine.begin() as conn:
            return conn.execute(insert(schema.events).values(
                event_id=event_id, received_at=time.time()).on_conflict_do_nothing()
                .returning(schema.events.c.event_id)).first() is not None

    def purge(self, cutoff: float) -> int:
        with self._engine.begin() as conn:
            return conn.execute(delete(schema.events)
                                .where(schema.events.c.received_at < cutoff)).rowcount

    def close(self) -> None:
        """The store's engine is closed by the store."""


class SQLiteEventLedger:
    """``claim(event_id)``: True the first time an id is seen, ever; False for redeliveries."""

    def __init__(self, db_path: Path) -> None:
        self.path = ledger_path(db_path)
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30,
                                     isolation_level=None)  # each claim commits by itself
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.execute("CREATE TABLE IF NOT EXISTS events "
                               "(event_id TEXT PRIMARY KEY, received_at FLOAT)")
            self._adopt_old_table(Path(db_path))

    def _adopt_old_table(self, db_path: Path) -> None:
        """Before the ledger, claims lived in the store's own ``events`` table: move them."""
        if not db_path.exists():
            return
        self._conn.execute("ATTACH DATABASE ? AS store", (str(db_path),))
        try:
            find = "SELECT 1 FROM store.sqlite_master WHERE type = 'table' AND name = 'events'"
            # IMMEDIATE: a second process starting at once waits, then finds nothing to move
            if self._conn.execute(find).fetchone():
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    if self._conn.execute(find).fetchone():  # still there once we hold the lock
                        self._conn.execute("INSERT OR IGNORE INTO events SELECT event_id, "
                                           "received_at FROM store.events")
                        self._conn.execute("DROP TABLE store.events")
                    self._conn.execute("COMMIT")
                except sqlite3.Error:
                    if self._conn.in_transaction:  # SQLite may have rolled back already
                        self._conn.execute("ROLLBACK")
                    raise
        finally:
            self._conn.execute("DETACH DATABASE store")

    def claim(self, event_id: str) -> bool:
        with self._lock:
            cur = self._conn.execute("INSERT OR IGNORE INTO events (event_id, received_at) "
                                     "VALUES (?, ?)", (event_id, time.time()))
            return cur.rowcount == 1

    def purge(self, cutoff: float) -> int:
        """Drop ids received before ``cutoff`` (epoch seconds); how many went."""
        with self._lock:
            removed = self._conn.execute("DELETE FROM events WHERE received_at < ?",
                                         (cutoff,)).rowcount
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return removed

    def close(self) -> None:
        with self._lock:
            self._conn.close()
