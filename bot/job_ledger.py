"""What queued jobs have done, so a job delivered twice runs once and a job whose worker died
runs again.

Celery is configured with late acknowledgement: a job leaves the broker only once it has
finished, so a worker killed mid-job means the broker hands the job out again. That is the
"at least once" half; this ledger is the "at most once" half. A worker starts a job by taking
its row with a lease it renews while working (``begin`` / ``renew``); a second copy that finds
the row done skips, finds it held by a live lease waits and asks again, and finds it lapsed
(the holder died) takes it over. The verdicts of a bulk upload's chunks are kept here until
the one gather job posts them (``batch_chunks``; purged with the personal tables).
"""

from __future__ import annotations

import json
import time

from sqlalchemy import delete, func, select, update

from bot import schema
from bot.storage import Store

RUNS, CHUNKS = schema.job_runs, schema.batch_chunks
RUN, DONE, BUSY = "run", "done", "busy"


class JobLedger:
    def __init__(self, store: Store, holder: str) -> None:
        self.store, self.holder = store, holder

    def begin(self, key: str, lease_s: float) -> str:
        """``RUN`` (this worker has the job now), ``DONE`` (it finished before) or ``BUSY``
        (another worker holds it with a live lease)."""
        now = time.time()
        with self.store.transaction() as conn:
            if conn.execute(self.store.insert_for(RUNS).values(
                    key=key, state="running", holder=self.holder, lease_until=now + lease_s,
                    attempts=1, created_at=now).on_conflict_do_nothing()
                    .returning(RUNS.c.key)).first() is not None:
                return RUN
            row = conn.execute(select(RUNS).where(RUNS.c.key == key)).first()
            if row is None or row.state == "done":
                return DONE
            taken = conn.execute(update(RUNS).where(
                RUNS.c.key == key, RUNS.c.state == "running",
                (RUNS.c.lease_until < now) | (RUNS.c.holder == self.holder),
            ).values(holder=self.holder, lease_until=now + lease_s,
                     attempts=RUNS.c.attempts + 1)).rowcount
            return RUN if taken == 1 else BUSY

    def renew(self, key: str, lease_s: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(RUNS).where(RUNS.c.key == key, RUNS.c.holder == self.holder)
                         .values(lease_until=time.time() + lease_s))

    def finish(self, key: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(RUNS).where(RUNS.c.key == key).values(state="done"))

    def state(self, key: str) -> dict | None:
        with self.store.transaction() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.key == key)).first()
        return dict(row._mapping) if row is not None else None

    # ----------------------------------------------------------------------- bulk chunks
    def chunk_done(self, batch_id: str, chunk: int) -> bool:
        with self.store.transaction() as conn:
            return conn.execute(select(CHUNKS.c.chunk).where(
                CHUNKS.c.batch_id == batch_id, CHUNKS.c.chunk == chunk)).first() is not None

    def claim_chunk(self, batch_id: str, chunk: int) -> bool:
        """Claim a chunk's row (in the caller's ``Store.unit``): True for the one copy that
        may record it. A second copy's insert waits on the first's row lock (PostgreSQL) or
        the write lock (SQLite) and, once that commits, finds the row and records nothing."""
        with self.store.transaction() as conn:
            return conn.execute(self.store.insert_for(CHUNKS).values(
                batch_id=batch_id, chunk=chunk, created_at=time.time(), results="{}",
            ).on_conflict_do_nothing().returning(CHUNKS.c.chunk)).first() is not None

    def fill_chunk(self, batch_id: str, chunk: int, results: dict) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(CHUNKS).where(CHUNKS.c.batch_id == batch_id,
                                              CHUNKS.c.chunk == chunk)
                         .values(results=json.dumps(results, default=_plain)))

    def keep_chunk(self, batch_id: str, chunk: int, results: dict) -> int:
        """Keep one chunk's results (once); how many chunks of the batch are kept now."""
        if self.claim_chunk(batch_id, chunk):
            self.fill_chunk(batch_id, chunk, results)
        return self.kept(batch_id)

    def kept(self, batch_id: str) -> int:
        """Chunks of the batch kept (committed) so far."""
        with self.store.transaction() as conn:
            return int(conn.execute(select(func.count()).select_from(CHUNKS)
                                    .where(CHUNKS.c.batch_id == batch_id)).scalar_one())

    def chunks(self, batch_id: str) -> list[dict]:
        """Every kept chunk's results, in chunk order."""
        with self.store.transaction() as conn:
            rows = conn.execute(select(CHUNKS.c.results).where(CHUNKS.c.batch_id == batch_id)
                                .order_by(CHUNKS.c.chunk)).all()
        return [json.loads(r.results) for r in rows]

    def drop_batch(self, batch_id: str) -> None:
        """Forget a batch's results (kept until the purge otherwise, so a late copy of a
        chunk finds its work done rather than screening again)."""
        with self.store.transaction() as conn:
            conn.execute(delete(CHUNKS).where(CHUNKS.c.batch_id == batch_id))


def _plain(value: object) -> object:
    """numpy numbers and arrays as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")
