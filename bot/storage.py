"""The bot's store: what it has already answered, the threads it runs, and feedback.

Slack redelivers events and an upload can arrive by two routes, so "exactly one reply" is
enforced by unique keys in a database that survives restarts: a SQLite file by default, or
PostgreSQL shared by several bot and worker processes (``bot.database``; the tables are in
``bot.schema``). CV text is never stored. Every table that can hold personal data is emptied
past the retention (``PERSONAL_TABLES``; ``NO_PERSONAL_DATA`` says why the others are kept),
every verdict and JD leaves an ``audit`` row, deleted rows are zeroed on disk (SQLite's
``secure_delete``), and row ids are never reused.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import schema
from bot.database import ensure_schema, make_engine
from bot.event_ledger import EventLedger

if TYPE_CHECKING:
    from bot.config import Settings

TABLES = schema.TABLES
#: Tables emptied by the retention purge (each row can name or describe a person), by the
#: column that dates the row.
PERSONAL_TABLES = {"events": "received_at", **dict.fromkeys((
    "screenings", "pending_files", "file_claims", "labelled_cvs", "match_pairs", "feedback",
    "audit", "job_runs", "batch_chunks"), "created_at")}
#: Tables the purge leaves alone, and why they hold no candidate's data.
NO_PERSONAL_DATA = {
    "threads": "a thread's channel and role title, no candidate",
    "jobposts": "the company's JDs (a title and generated text), no candidate",
    "team_postings": "job postings the team added for generator refreshes",
    "company_profile": "the company's facts for JDs",
    "scheduled_jobs": "APScheduler's schedules (job names and next run times)",
    "leases": "which process holds the scheduler or a refresh, and until when",
    "alembic_version": "the schema's migration revision",
}
#: Job state a running job needs (bulk chunks, job leases): kept at least ``IN_FLIGHT_S``.
IN_FLIGHT, IN_FLIGHT_S = ("job_runs", "batch_chunks"), 6 * 3600
#: Folders under the data folder for transient files; the purge empties them as well.
TEMP_DIRS = ("tmp", "downloads")


def role_key(title: str) -> str:
    """A role title as votes group by it ("Senior  data scientist" = "Senior Data Scientist")."""
    return " ".join(title.lower().split())


def _rows(result) -> list[dict]:  # noqa: ANN001 - a SQLAlchemy result
    return [dict(row._mapping) for row in result]


class Store:
    """The bot's tables through one SQLAlchemy engine; the event ids, claimed on the ack path,
    in a ledger of their own (``event_ledger``).

    On SQLite, one lock per store serialises this process's writers (SQLite has one writer
    at a time, and a deferred transaction that must upgrade to a write fails instead of
    waiting); PostgreSQL takes concurrent transactions as they come.
    """

    def __init__(self, target: str | Path, data_dir: Path | None = None):
        url = str(target)
        self.is_sqlite = "://" not in url or url.startswith("sqlite")
        self.path = Path(url.removeprefix("sqlite:///")) if self.is_sqlite else None
        if data_dir is None and self.path is None:
            raise ValueError("a database URL needs the data folder (Store.open(settings))")
        self.data_dir = Path(data_dir) if data_dir is not None else self.path.parent
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(target)
        ensure_schema(self.engine)
        self._lock = threading.RLock() if self.is_sqlite else None
        self._unit = threading.local()  # the open transaction of ``unit()``, per thread
        self.events = EventLedger(self.path if self.is_sqlite else self.engine)

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The store the settings name: ``HIREBOT_DATABASE_URL``, else the SQLite file."""
        return cls(settings.database_target, data_dir=settings.data_dir)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction (committed on leaving, rolled back on an error), or the open one of
        :meth:`unit` on this thread."""
        open_conn = getattr(self._unit, "conn", None)
        if open_conn is not None:
            yield open_conn
            return
        with self._lock if self._lock is not None else nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Every store call inside is one transaction: all of it is kept, or none (a bulk
        chunk's verdicts and its results, so a chunk that runs again adds no second copy)."""
        if getattr(self._unit, "conn", None) is not None:
            yield
            return
        with self.transaction() as conn:
            self._unit.conn = conn
            try:
                yield
            finally:
                self._unit.conn = None

    def insert_for(self, table: Table):
        """INSERT with ON CONFLICT support in the engine's own dialect."""
        return (sqlite if self.is_sqlite else postgresql).insert(table)

    def _upsert(self, conn: Connection, table: Table, row: dict) -> None:
        keys = [c.name for c in table.primary_key]
        stmt = self.insert_for(table).values(**row)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=keys, set_={k: v for k, v in row.items() if k not in keys}))

    def _select(self, table: str, *where, order_by=None) -> list[dict]:  # noqa: ANN001
        t = TABLES[table]
        stmt = select(t).where(*where)
        if order_by is not None:
            stmt = stmt.order_by(*(order_by if isinstance(order_by, tuple) else (order_by,)))
        with self.transaction() as conn:
            return _rows(conn.execute(stmt))

    def close(self) -> None:
        self.events.close()
        self.engine.dispose()

    # ----------------------------------------------------------------------- exactly once
    def claim_event(self, event_id: str) -> bool:
        """True the first time an ``event_id`` is seen, ever (own connection: see ledger)."""
        return self.events.claim(event_id)

    def claim_file(self, channel: str, message_ts: str, file_id: str) -> bool:
        t = schema.file_claims
        with self.transaction() as conn:
            result = conn.execute(self.insert_for(t).values(
                key=f"{channel}|{message_ts}|{file_id}", channel=channel, message_ts=message_ts,
                file_id=file_id, status="claimed", created_at=time.time(),
            ).on_conflict_do_nothing().returning(t.c.key))
            return result.first() is not None

    def finish_file(self, channel: str, message_ts: str, file_id: str, status: str) -> None:
        t = schema.file_claims
        with self.transaction() as conn:
            conn.execute(update(t).where(t.c.key == f"{channel}|{message_ts}|{file_id}")
                         .values(status=status))

    def file_status(self, channel: str, message_ts: str, file_id: str) -> str | None:
        rows = self._select("file_claims",
                            schema.file_claims.c.key == f"{channel}|{message_ts}|{file_id}")
        return rows[0]["status"] if rows else None

    # ----------------------------------------------------------------------- threads
    def set_thread(self, channel: str, thread_ts: str, kind: str, role: str,
                   jobpost_id: int | None = None) -> None:
        with self.transaction() as conn:
            self._upsert(conn, schema.threads,
                         {"channel": channel, "thread_ts": thread_ts, "kind": kind, "role": role,
                          "jobpost_id": jobpost_id, "created_at": time.time()})

    def thread(self, channel: str, thread_ts: str) -> dict | None:
        t = schema.threads
        rows = self._select("threads", t.c.channel == channel, t.c.thread_ts == thread_ts)
        return rows[0] if rows else None

    def add_pending(self, channel: str, thread_ts: str, message_ts: str, file_id: str) -> None:
        with self.transaction() as conn:
            self._upsert(conn, schema.pending_files,
                         {"key": f"{channel}|{message_ts}|{file_id}", "channel": channel,
                          "thread_ts": thread_ts, "message_ts": message_ts, "file_id": file_id,
                          "created_at": time.time()})

    def take_pending(self, channel: str, thread_ts: str) -> list[dict]:
        """The uploads that waited for a role in this thread; removed as they are handed out."""
        t = schema.pending_files
        with self.transaction() as conn:  # one statement: two processes never share a file
            rows = _rows(conn.execute(delete(t).where(
                t.c.channel == channel, t.c.thread_ts == thread_ts).returning(*t.c)))
        return sorted(rows, key=lambda r: r["created_at"] or 0)

    # ----------------------------------------------------------------------- jobposts
    def add_jobpost(self, **fields: Any) -> int:
        """Keep a shown draft; its audit row (who asked, which model) is written with it."""
        now = time.time()
        with self.transaction() as conn:
            result = conn.execute(insert(schema.jobposts).values(
                approved=0, created_at=now, **fields))
            jobpost_id = int(result.inserted_primary_key[0])
            self._add_audit(conn, "jd", ref_id=jobpost_id, created_at=now,
                            role=fields.get("title"),
                            **{k: fields.get(k) for k in ("user", "channel", "model_name",
                                                          "model_version")})
            return jobpost_id

    def update_jobpost(self, jobpost_id: int, **fields: Any) -> None:
        t = schema.jobposts
        with self.transaction() as conn:
            conn.execute(update(t).where(t.c.id == jobpost_id).values(**fields))

    def jobpost(self, jobpost_id: int) -> dict | None:
        rows = self._select("jobposts", schema.jobposts.c.id == jobpost_id)
        return rows[0] if rows else None

    def approved_jobposts(self) -> list[dict]:
        t = schema.jobposts
        return self._select("jobposts", t.c.approved == 1, order_by=t.c.id)

    # ----------------------------------------------------------------------- screenings
    def add_screening(self, **fields: Any) -> int:
        """Keep a verdict; its audit row is written with it (``attribute`` adds who asked)."""
        now = time.time()
        with self.transaction() as conn:
            result = conn.execute(insert(schema.screenings).values(created_at=now, **fields))
            screening_id = int(result.inserted_primary_key[0])
            self._add_audit(conn, "verdict", ref_id=screening_id, created_at=now,
                            **{k: fields.get(k) for k in ("channel", "file_name", "role",
                                                          "verdict", "score", "model_version",
                                                          "file_id", "user")})
            return screening_id

    def add_audit(self, kind: str, **fields: Any) -> None:
        """One audit row (a verdict or a JD) that belongs to no stored row, e.g. the CLI's."""
        with self.transaction() as conn:
            self._add_audit(conn, kind, **fields)

    def _add_audit(self, conn: Connection, kind: str, **fields: Any) -> None:
        row = {"kind": kind, "source": "slack", "created_at": time.time(),
               **{k: v for k, v in fields.items() if v is not None}}
        unknown = set(row) - set(schema.audit.c.keys())
        if unknown:
            raise ValueError(f"no audit column {sorted(unknown)}")
        conn.execute(insert(schema.audit).values(**row))

    def attribute(self, screening_id: int, *, user: str, file_id: str) -> None:
        """Who asked for a verdict and which Slack file it was (known once it is delivered)."""
        s, a = schema.screenings, schema.audit
        with self.transaction() as conn:
            conn.execute(update(s).where(s.c.id == screening_id)
                         .values(user=user, file_id=file_id))
            conn.execute(update(a).where(a.c.kind == "verdict", a.c.ref_id == screening_id)
                         .values(user=user, file_id=file_id))

    def set_uploader(self, channel: str, message_ts: str, file_ids: list[str],
                     user: str) -> None:
        t = schema.file_claims
        keys = [f"{channel}|{message_ts}|{file_id}" for file_id in file_ids]
        with self.transaction() as conn:
            conn.execute(update(t).where(t.c.key.in_(keys)).values(user=user))

    def audit_rows(self, since: float = 0.0) -> list[dict]:
        t = schema.audit
        return self._select("audit", t.c.created_at >= since, order_by=(t.c.created_at, t.c.id))

    def screening(self, screening_id: int) -> dict | None:
        rows = self._select("screenings", schema.screenings.c.id == screening_id)
        return rows[0] if rows else None

    # ----------------------------------------------------------------------- feedback
    def add_feedback(self, target: str, target_id: int, user: str, value: str) -> bool:
        """One vote per user, target and value; the opposite thumb replaces an earlier one."""
        t = schema.feedback
        with self.transaction() as conn:
            if value in {"up", "down"}:
                conn.execute(delete(t).where(t.c.target == target, t.c.target_id == target_id,
                                             t.c.user == user, t.c.value.in_(("up", "down"))))
            result = conn.execute(self.insert_for(t).values(
                target=target, target_id=target_id, user=user, value=value,
                created_at=time.time()).on_conflict_do_nothing().returning(t.c.id))
            return result.first() is not None

    def feedback(self, target: str | None = None) -> list[dict]:
        t = schema.feedback
        where = (t.c.target == target,) if target else ()
        return self._select("feedback", *where, order_by=t.c.id)

    # ----------------------------------------------------------------------- team data
    def add_team_postings(self, postings: list[dict]) -> int:
        """Postings an admin adds for generator refreshes; returns how many were new."""
        if not postings:
            return 0
        now = time.time()
        with self.transaction() as conn:
            result = conn.execute(self.insert_for(schema.team_postings).values(
                [{"created_at": now, **p} for p in postings]).on_conflict_do_nothing()
                .returning(schema.team_postings.c.key))
            return len(result.all())

    def team_postings(self) -> list[dict]:
        """Added postings and approved JDs: what a generator refresh learns from."""
        t, j = schema.team_postings, schema.jobposts
        with self.transaction() as conn:
            added = _rows(conn.execute(select(t.c.title, t.c.description)
                                       .order_by(t.c.created_at)))
            approved = _rows(conn.execute(select(j.c.title, j.c.text.label("description"))
                                          .where(j.c.approved == 1).order_by(j.c.id)))
        return [*added, *approved]

    def set_labelled_cv(self, key: str, label: str, features: bytes, base_version: str,
                        source: str, flag_reason: str = "") -> None:
        """Keep a team label; with a ``flag_reason`` it waits for an admin (trains nothing)."""
        with self.transaction() as conn:
            self._upsert(conn, schema.labelled_cvs,
                         {"key": key, "label": label, "features": features,
                          "base_version": base_version, "source": source,
                          "created_at": time.time(),
                          "state": "flagged" if flag_reason else "", "flag_reason": flag_reason})

    def flagged_labels(self) -> list[dict]:
        t = schema.labelled_cvs
        return self._select("labelled_cvs", t.c.state == "flagged", order_by=t.c.created_at)

    def confirm_label(self, key: str | None = None) -> int:
        """An admin's yes to a flagged label (None: all; else its key, or its last 6+ chars)."""
        if key is not None and len(key.strip()) < 6:
            return 0
        t = schema.labelled_cvs
        with self.transaction() as conn:
            keys = [r.key for r in conn.execute(select(t.c.key).where(t.c.state == "flagged"))
                    if key is None or r.key == key or r.key.endswith(key)]
            if not keys:
                return 0
            return conn.execute(update(t).where(t.c.key.in_(keys)).values(state="")).rowcount

    def drop_labelled_cv(self, key: str) -> None:
        self.delete_in("labelled_cvs", "key", [key])

    def set_match_pair(self, key: str, label: int, features: bytes, layout: str,
                       role: str = "") -> None:
        with self.transaction() as conn:
            self._upsert(conn, schema.match_pairs,
                         {"key": key, "label": label, "features": features, "layout": layout,
                          "role": role_key(role), "created_at": time.time()})

    def drop_match_pair(self, key: str) -> None:
        self.delete_in("match_pairs", "key", [key])

    def match_pairs(self, role: str | None = None) -> list[dict]:
        """Every vote on a match, or those on verdicts for one role title."""
        t = schema.match_pairs
        where = (t.c.role == role_key(role),) if role is not None else ()
        return self._select("match_pairs", *where, order_by=t.c.created_at)

    def clear_team_data(self, *, cvs: bool, postings: bool) -> dict[str, int]:
        """Forget the team's training data (approved JDs stay JDs; they stop being approved)."""
        out = {}
        with self.transaction() as conn:
            if cvs:
                out["labelled_cvs"] = conn.execute(delete(schema.labelled_cvs)).rowcount
                out["match_votes"] = conn.execute(delete(schema.match_pairs)).rowcount
            if postings:
                j = schema.jobposts
                out["team_postings"] = conn.execute(delete(schema.team_postings)).rowcount
                out["approved_jobposts"] = conn.execute(
                    update(j).where(j.c.approved == 1).values(approved=0)).rowcount
        return out

    def labelled_cvs(self) -> list[dict]:
        """The labels that train (flagged ones wait for an admin and are left out)."""
        t = schema.labelled_cvs
        return self._select("labelled_cvs", t.c.state.is_(None) | (t.c.state != "flagged"),
                            order_by=t.c.created_at)

    # ----------------------------------------------------------------------- company profile
    def set_company_profile(self, data: dict, user: str) -> None:
        """Replace the profile set in Slack (a plain dict of its fields)."""
        with self.transaction() as conn:
            self._upsert(conn, schema.company_profile,
                         {"id": 1, "data": json.dumps(data, ensure_ascii=False),
                          "set_by": user, "created_at": time.time()})

    def company_profile(self) -> dict | None:
        """The profile set in Slack (the dict ``set_company_profile`` was given), or None."""
        row = self.company_profile_row()
        return None if row is None else row["data"]

    def company_profile_row(self) -> dict | None:
        """``{"data": dict, "set_by": str, "created_at": float}``, or None when unset."""
        rows = self._select("company_profile", schema.company_profile.c.id == 1)
        if not rows:
            return None
        try:
            data = json.loads(rows[0]["data"] or "")
        except ValueError:
            return None
        return {"data": data, "set_by": rows[0]["set_by"] or "",
                "created_at": rows[0]["created_at"]}

    def clear_company_profile(self) -> bool:
        """Forget the profile set in Slack; True when there was one."""
        with self.transaction() as conn:
            return conn.execute(delete(schema.company_profile)).rowcount > 0

    # ----------------------------------------------------------------------- housekeeping
    def counts(self) -> dict[str, int]:
        def count(table: Table, *where) -> int:  # noqa: ANN002
            return int(conn.execute(select(func.count()).select_from(table).where(*where))
                       .scalar_one())

        with self.transaction() as conn:
            return {
                "jobposts": count(schema.jobposts),
                "approved_jobposts": count(schema.jobposts, schema.jobposts.c.approved == 1),
                "screenings": count(schema.screenings),
                "feedback": count(schema.feedback),
                "team_postings": count(schema.team_postings),
                "labelled_cvs": count(schema.labelled_cvs),
                "match_votes": count(schema.match_pairs),
            }

    def purge(self, retention_days: float, now: float | None = None) -> dict[str, int]:
        """Drop what can name or describe a person (``PERSONAL_TABLES``, ``TEMP_DIRS``) past
        the retention; ``retention_days=0`` keeps nothing -- except the state of jobs that may
        still be running (``IN_FLIGHT_S``), which a purge at a bot's start must not pull from
        under a worker."""
        now = time.time() if now is None else now
        cutoff = now - retention_days * 86400
        out = {}
        with self.transaction() as conn:
            for table, column in PERSONAL_TABLES.items():
                if table == "events":  # the ledger's (own file on SQLite)
                    continue
                t = TABLES[table]
                before = min(cutoff, now - IN_FLIGHT_S) if table in IN_FLIGHT else cutoff
                out[table] = conn.execute(delete(t).where(t.c[column] < before)).rowcount
        out["events"] = self.events.purge(cutoff)
        out["temp_files"] = self._purge_temp_files(cutoff)
        self._checkpoint()
        return out

    def _checkpoint(self) -> None:
        """SQLite: deleted rows' old pages leave the write-ahead log too."""
        if self.is_sqlite:
            with self.transaction() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    def _purge_temp_files(self, cutoff: float) -> int:
        old = [e for name in TEMP_DIRS if (self.data_dir / name).is_dir()
               for e in (self.data_dir / name).iterdir() if e.lstat().st_mtime < cutoff]
        for entry in old:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        return len(old)

    def rows_where(self, table: str, **equals: Any) -> list[dict]:
        """Rows of one table whose columns equal the given values."""
        t = TABLES[table]
        return self._select(table, *(t.c[k] == v for k, v in equals.items()))

    def delete_in(self, table: str, column: str, values: list, **equals: Any) -> int:
        """Delete the rows whose ``column`` is one of ``values`` (and whose other columns
        equal ``equals``); how many went."""
        t = TABLES[table]
        total = 0
        with self.transaction() as conn:
            for start in range(0, len(values), 500):  # SQLite's parameter limit
                chunk = values[start:start + 500]
                total += conn.execute(delete(t).where(
                    t.c[column].in_(chunk), *(t.c[k] == v for k, v in equals.items()))).rowcount
        return total

    def anonymise_audit(self, screening_ids: list[int], file_id: str = "") -> int:
        """Audit rows of erased verdicts keep who asked, when and which model, not the file."""
        a = schema.audit
        match = a.c.ref_id.in_(screening_ids)
        if file_id:
            match = match | (a.c.file_id == file_id)
        with self.transaction() as conn:
            count = conn.execute(update(a).where(a.c.kind == "verdict", match)
                                 .values(file_name="", file_id="")).rowcount
        self._checkpoint()
        return count

    def dump(self, table: str) -> list[dict]:
        """Every row of one table (for tests and inspection).

        "Was it new" is asked with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` throughout
        (SQLite 3.35+): the driver-reported row count of such an insert did not say so on
        PostgreSQL here (-1)."""
        return self._select(table)
