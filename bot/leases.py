"""Leases in the database: one holder at a time across processes and machines.

A refresh must never train twice at once and the scheduler must run once per deployment, not
once per bot process. A lease row names its holder and when it lapses; the holder renews it
while it works, and a holder that dies simply stops renewing, so the next process takes over
once the lease lapses (no lock is left behind by a killed process).
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import delete, select, update

from bot import schema
from bot.storage import Store

T = schema.leases


def holder_id() -> str:
    """This process, as a lease names it (host, pid and a random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    def __init__(self, store: Store, name: str, ttl_s: float = 60.0,
                 holder: str | None = None) -> None:
        self.store, self.name, self.ttl_s = store, name, ttl_s
        self.holder = holder or holder_id()

    def acquire(self) -> bool:
        """Take the lease if it is free, lapsed or already ours (renewing it); else False."""
        now = time.time()
        with self.store.transaction() as conn:
            inserted = conn.execute(self.store.insert_for(T).values(
                name=self.name, holder=self.holder, expires_at=now + self.ttl_s,
            ).on_conflict_do_nothing().returning(T.c.name)).first()
            if inserted is not None:
                return True
            taken = conn.execute(update(T).where(
                T.c.name == self.name, (T.c.holder == self.holder) | (T.c.expires_at < now),
            ).values(holder=self.holder, expires_at=now + self.ttl_s)).rowcount
            return taken == 1

    renew = acquire

    def release(self) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(T).where(T.c.name == self.name, T.c.holder == self.holder))

    def current_holder(self) -> str | None:
        with self.store.transaction() as conn:
            row = conn.execute(select(T).where(T.c.name == self.name)).first()
        if row is None or row.expires_at < time.time():
            return None
        return row.holder
