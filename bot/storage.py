"""The bot's SQLite store: what it has already answered, the threads it runs, and feedback.

Slack redelivers events and an upload can arrive by two routes, so "exactly one reply" is
enforced by unique keys in a file that survives restarts. CV text is never stored. Every table
that can hold personal data is emptied past the retention (``PERSONAL_TABLES``;
``NO_PERSONAL_DATA`` says why the others are kept), every verdict and JD leaves an ``audit``
row, deleted rows are zeroed on disk (``secure_delete``), and row ids are never reused.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.event_ledger import EventLedger

SCHEMA: dict[str, dict[str, Any]] = {
    "file_claims": {
        "columns": {"key": str, "channel": str, "message_ts": str, "file_id": str,
                    "status": str, "created_at": float, "user": str},  # user: the uploader
        "pk": "key",
    },
    "threads": {
        "columns": {"channel": str, "thread_ts": str, "kind": str, "role": str,
                    "jobpost_id": int, "created_at": float},
        "pk": ("channel", "thread_ts"),
    },
    "pending_files": {
        "columns": {"key": str, "channel": str, "thread_ts": str, "message_ts": str,
                    "file_id": str, "created_at": float},
        "pk": "key",
    },
    "jobposts": {
        "columns": {"id": int, "channel": str, "thread_ts": str, "message_ts": str,
                    "title": str, "context": str, "text": str, "model_version": str,
                    "model_name": str, "user": str, "approved": int, "approved_by": str,
                    "created_at": float,
                    # what the draft was grounded on and its inclusive-language line, shown
                    # under it; the unshown drafts of its batch (JSON) for Regenerate
                    "grounded_on": str, "inclusive": str, "alternates": str,
                    "draft_number": int, "drafts_in_batch": int, "raw_request": str},
        "pk": "id",
    },
    "screenings": {
        "columns": {"id": int, "channel": str, "thread_ts": str, "file_name": str,
                    "role": str, "verdict": str, "score": float, "category": str,
                    "model_version": str, "created_at": float,
                    # derived features (no text) for a thumbs vote to become a team label;
                    # purged with the row
                    "features": bytes, "role_category": str, "base_version": str,
                    # a verdict against a JD: the CV-JD pair's matcher row (features and two
                    # MiniLM vectors, no text), for a vote to become a matcher label
                    "match_pair": bytes, "match_layout": str,
                    # the Slack file and its uploader, so `forget` can find a candidate
                    "file_id": str, "user": str},
        "pk": "id",
    },
    "team_postings": {
        "columns": {"key": str, "title": str, "description": str, "source": str,
                    "created_at": float},
        "pk": "key",
    },
    "labelled_cvs": {
        # a CV the team labelled, in derived form only (embeddings and classifier decisions)
        "columns": {"key": str, "label": str, "features": bytes, "base_version": str,
                    "source": str, "created_at": float,
                    # "flagged": contradicts a confident prediction, trains once confirmed
                    "state": str, "flag_reason": str},
        "pk": "key",
    },
    "match_pairs": {
        # a vote on a verdict against a JD: does the CV match it (1) or not (0), derived row
        "columns": {"key": str, "label": int, "features": bytes, "layout": str,
                    "role": str, "created_at": float},
        "pk": "key",
    },
    "feedback": {
        "columns": {"id": int, "target": str, "target_id": int, "user": str, "value": str,
                    "created_at": float},
        "pk": "id",
    },
    "audit": {
        # who asked for which verdict or JD, when, which model version (never CV text)
        "columns": {"id": int, "kind": str, "ref_id": int, "user": str, "channel": str,
                    "file_name": str, "file_id": str, "role": str, "verdict": str,
                    "score": float, "model_name": str, "model_version": str, "source": str,
                    "created_at": float},
        "pk": "id",
    },
    "company_profile": {
        # at most one row (id 1): the profile an admin set in Slack, as JSON
        "columns": {"id": int, "data": str, "set_by": str, "created_at": float},
        "pk": "id",
    },
}

SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT", bytes: "BLOB"}
#: Tables emptied by the retention purge (each row can name or describe a person), by the
#: column that dates the row.
PERSONAL_TABLES = {"events": "received_at", **dict.fromkeys((
    "screenings", "pending_files", "file_claims", "labelled_cvs", "match_pairs", "feedback",
    "audit"), "created_at")}
#: Tables the purge leaves alone, and why they hold no candidate's data.
NO_PERSONAL_DATA = {
    "threads": "a thread's channel and role title, no candidate",
    "jobposts": "the company's JDs (a title and generated text), no candidate",
    "team_postings": "job postings the team added for generator refreshes",
    "company_profile": "the company's facts for JDs",
    "scheduled_jobs": "APScheduler's schedules (job names and next run times)",
}
#: Folders under the data folder for transient files; the purge empties them as well.
TEMP_DIRS = ("tmp", "downloads")


def role_key(title: str) -> str:
    """A role title as votes group by it ("Senior  data scientist" = "Senior Data Scientist")."""
    return " ".join(title.lower().split())


class Store:
    """One SQLite file shared by the Bolt threads and the model worker (one lock, WAL); the
    event ids, claimed on the ack path, in a ledger file of their own (``event_ledger``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        with self._locked():
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA secure_delete=ON")  # a purged row is zeroed on disk
            for name, spec in SCHEMA.items():
                table = self.db[name]
                if table.exists():  # a database from an older version: add new columns
                    for column, kind in spec["columns"].items():
                        if column not in table.columns_dict:
                            table.add_column(column, kind)
                elif spec["pk"] == "id":  # ids never reused: a vote names one verdict
                    cols = "".join(f", [{c}] {SQL_TYPES[k]}" for c, k in spec["columns"].items()
                                   if c != "id")
                    self.db.execute(f"CREATE TABLE [{name}] (id INTEGER PRIMARY KEY "
                                    f"AUTOINCREMENT{cols})")
                else:
                    table.create(spec["columns"], pk=spec["pk"])
            self.db["feedback"].create_index(["target", "target_id", "user", "value"],
                                             unique=True, if_not_exists=True)
        self.events = EventLedger(self.path)  # moves an older store's events table

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield
            self.db.conn.commit()

    def close(self) -> None:
        self.events.close()
        with self._lock:
            self.db.conn.close()

    # ----------------------------------------------------------------------- exactly once
    def claim_event(self, event_id: str) -> bool:
        """True the first time an ``event_id`` is seen, ever (own connection: see ledger)."""
        return self.events.claim(event_id)

    def claim_file(self, channel: str, message_ts: str, file_id: str) -> bool:
        key = f"{channel}|{message_ts}|{file_id}"
        with self._locked():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO file_claims (key, channel, message_ts, file_id, status, "
                "created_at) VALUES (?, ?, ?, ?, 'claimed', ?)",
                [key, channel, message_ts, file_id, time.time()])
            return cur.rowcount == 1

    def finish_file(self, channel: str, message_ts: str, file_id: str, status: str) -> None:
        with self._locked():
            self.db.execute("UPDATE file_claims SET status = ? WHERE key = ?",
                            [status, f"{channel}|{message_ts}|{file_id}"])

    # ----------------------------------------------------------------------- threads
    def set_thread(self, channel: str, thread_ts: str, kind: str, role: str,
                   jobpost_id: int | None = None) -> None:
        with self._locked():
            self.db["threads"].upsert(
                {"channel": channel, "thread_ts": thread_ts, "kind": kind, "role": role,
                 "jobpost_id": jobpost_id, "created_at": time.time()},
                pk=("channel", "thread_ts"))

    def thread(self, channel: str, thread_ts: str) -> dict | None:
        with self._locked():
            rows = list(self.db["threads"].rows_where(
                "channel = ? AND thread_ts = ?", [channel, thread_ts]))
        return rows[0] if rows else None

    def add_pending(self, channel: str, thread_ts: str, message_ts: str, file_id: str) -> None:
        with self._locked():
            self.db["pending_files"].upsert(
                {"key": f"{channel}|{message_ts}|{file_id}", "channel": channel,
                 "thread_ts": thread_ts, "message_ts": message_ts, "file_id": file_id,
                 "created_at": time.time()}, pk="key")

    def take_pending(self, channel: str, thread_ts: str) -> list[dict]:
        """The uploads that waited for a role in this thread; removed as they are handed out."""
        with self._locked():
            rows = list(self.db["pending_files"].rows_where(
                "channel = ? AND thread_ts = ?", [channel, thread_ts], order_by="created_at"))
            self.db.execute("DELETE FROM pending_files WHERE channel = ? AND thread_ts = ?",
                            [channel, thread_ts])
        return rows

    # ----------------------------------------------------------------------- jobposts
    def add_jobpost(self, **fields: Any) -> int:
        """Keep a shown draft; its audit row (who asked, which model) is written with it."""
        with self._locked():
            now = time.time()
            table = self.db["jobposts"].insert({"approved": 0, "created_at": now, **fields},
                                               pk="id")
            jobpost_id = int(table.last_pk)
            self.add_audit("jd", ref_id=jobpost_id, created_at=now, role=fields.get("title"),
                           **{k: fields.get(k) for k in ("user", "channel", "model_name",
                                                         "model_version")})
            return jobpost_id

    def update_jobpost(self, jobpost_id: int, **fields: Any) -> None:
        with self._locked():
            self.db["jobposts"].update(jobpost_id, fields)

    def jobpost(self, jobpost_id: int) -> dict | None:
        with self._locked():
            rows = list(self.db["jobposts"].rows_where("id = ?", [jobpost_id]))
        return rows[0] if rows else None

    def approved_jobposts(self) -> list[dict]:
        with self._locked():
            return list(self.db["jobposts"].rows_where("approved = 1", order_by="id"))

    # ----------------------------------------------------------------------- screenings
    def add_screening(self, **fields: Any) -> int:
        """Keep a verdict; its audit row is written with it (``attribute`` adds who asked)."""
        with self._locked():
            now = time.time()
            table = self.db["screenings"].insert({"created_at": now, **fields}, pk="id")
            screening_id = int(table.last_pk)
            self.add_audit("verdict", ref_id=screening_id, created_at=now,
                           **{k: fields.get(k) for k in ("channel", "file_name", "role",
                                                         "verdict", "score", "model_version",
                                                         "file_id", "user")})
            return screening_id

    def add_audit(self, kind: str, **fields: Any) -> None:
        """One audit row (a verdict or a JD) that belongs to no stored row, e.g. the CLI's."""
        with self._locked():
            self.db["audit"].insert({"kind": kind, "source": "slack", "created_at": time.time(),
                                     **{k: v for k, v in fields.items() if v is not None}},
                                    pk="id", alter=False)

    def attribute(self, screening_id: int, *, user: str, file_id: str) -> None:
        """Who asked for a verdict and which Slack file it was (known once it is delivered)."""
        with self._locked():
            self.db.execute("UPDATE screenings SET user = ?, file_id = ? WHERE id = ?",
                            [user, file_id, screening_id])
            self.db.execute("UPDATE audit SET user = ?, file_id = ? WHERE kind = 'verdict' "
                            "AND ref_id = ?", [user, file_id, screening_id])

    def set_uploader(self, channel: str, message_ts: str, file_ids: list[str],
                     user: str) -> None:
        with self._locked():
            for file_id in file_ids:
                self.db.execute("UPDATE file_claims SET user = ? WHERE key = ?",
                                [user, f"{channel}|{message_ts}|{file_id}"])

    def audit_rows(self, since: float = 0.0) -> list[dict]:
        with self._locked():
            return list(self.db["audit"].rows_where("created_at >= ?", [since],
                                                    order_by="created_at, id"))

    def screening(self, screening_id: int) -> dict | None:
        with self._locked():
            rows = list(self.db["screenings"].rows_where("id = ?", [screening_id]))
        return rows[0] if rows else None

    # ----------------------------------------------------------------------- feedback
    def add_feedback(self, target: str, target_id: int, user: str, value: str) -> bool:
        """One vote per user, target and value; the opposite thumb replaces an earlier one."""
        with self._locked():
            if value in {"up", "down"}:
                self.db.execute(
                    "DELETE FROM feedback WHERE target = ? AND target_id = ? AND user = ? "
                    "AND value IN ('up', 'down')", [target, target_id, user])
            cur = self.db.execute(
                "INSERT OR IGNORE INTO feedback (target, target_id, user, value, created_at) "
                "VALUES (?, ?, ?, ?, ?)", [target, target_id, user, value, time.time()])
            return cur.rowcount == 1

    def feedback(self, target: str | None = None) -> list[dict]:
        with self._locked():
            if target:
                return list(self.db["feedback"].rows_where("target = ?", [target], order_by="id"))
            return list(self.db["feedback"].rows_where(order_by="id"))

    # ----------------------------------------------------------------------- team data
    def add_team_postings(self, postings: list[dict]) -> int:
        """Postings an admin adds for generator refreshes; returns how many were new."""
        with self._locked():
            before = self.db["team_postings"].count
            self.db["team_postings"].insert_all(
                [{"created_at": time.time(), **p} for p in postings], pk="key", ignore=True)
            return self.db["team_postings"].count - before

    def team_postings(self) -> list[dict]:
        """Added postings and approved JDs: what a generator refresh learns from."""
        with self._locked():
            added = list(self.db["team_postings"].rows_where(order_by="created_at"))
            approved = list(self.db.query(
                "SELECT title, text AS description FROM jobposts WHERE approved = 1 "
                "ORDER BY id"))
        return [*({"title": r["title"], "description": r["description"]} for r in added),
                *approved]

    def set_labelled_cv(self, key: str, label: str, features: bytes, base_version: str,
                        source: str, flag_reason: str = "") -> None:
        """Keep a team label; with a ``flag_reason`` it waits for an admin (trains nothing)."""
        with self._locked():
            self.db["labelled_cvs"].upsert(
                {"key": key, "label": label, "features": features, "base_version": base_version,
                 "source": source, "created_at": time.time(),
                 "state": "flagged" if flag_reason else "", "flag_reason": flag_reason},
                pk="key")

    def flagged_labels(self) -> list[dict]:
        with self._locked():
            return list(self.db["labelled_cvs"].rows_where("state = 'flagged'",
                                                           order_by="created_at"))

    def confirm_label(self, key: str | None = None) -> int:
        """An admin's yes to a flagged label (None: all; else its key, or its last 6+ chars)."""
        if key is not None and len(key.strip()) < 6:
            return 0
        with self._locked():
            return self.db.execute("UPDATE labelled_cvs SET state = '' WHERE state = 'flagged' "
                                   "AND (? IS NULL OR key = ? OR substr(key, -?) = ?)",
                                   [key, key, len(key or "x"), key]).rowcount

    def drop_labelled_cv(self, key: str) -> None:
        with self._locked():
            self.db.execute("DELETE FROM labelled_cvs WHERE key = ?", [key])

    def set_match_pair(self, key: str, label: int, features: bytes, layout: str,
                       role: str = "") -> None:
        with self._locked():
            self.db["match_pairs"].upsert({"key": key, "label": label, "features": features,
                                           "layout": layout, "role": role_key(role),
                                           "created_at": time.time()}, pk="key")

    def drop_match_pair(self, key: str) -> None:
        with self._locked():
            self.db.execute("DELETE FROM match_pairs WHERE key = ?", [key])

    def match_pairs(self, role: str | None = None) -> list[dict]:
        """Every vote on a match, or those on verdicts for one role title."""
        with self._locked():
            if role is not None:
                return list(self.db["match_pairs"].rows_where(
                    "role = ?", [role_key(role)], order_by="created_at"))
            return list(self.db["match_pairs"].rows_where(order_by="created_at"))

    def clear_team_data(self, *, cvs: bool, postings: bool) -> dict[str, int]:
        """Forget the team's training data (approved JDs stay JDs; they stop being approved)."""
        out = {}
        with self._locked():
            if cvs:
                out["labelled_cvs"] = self.db.execute("DELETE FROM labelled_cvs").rowcount
                out["match_votes"] = self.db.execute("DELETE FROM match_pairs").rowcount
            if postings:
                out["team_postings"] = self.db.execute("DELETE FROM team_postings").rowcount
                out["approved_jobposts"] = self.db.execute(
                    "UPDATE jobposts SET approved = 0 WHERE approved = 1").rowcount
        return out

    def labelled_cvs(self) -> list[dict]:
        """The labels that train (flagged ones wait for an admin and are left out)."""
        with self._locked():
            return list(self.db["labelled_cvs"].rows_where(
                "state IS NULL OR state != 'flagged'", order_by="created_at"))

    # ----------------------------------------------------------------------- company profile
    def set_company_profile(self, data: dict, user: str) -> None:
        """Replace the profile set in Slack (a plain dict of its fields)."""
        with self._locked():
            self.db["company_profile"].upsert(
                {"id": 1, "data": json.dumps(data, ensure_ascii=False), "set_by": user,
                 "created_at": time.time()}, pk="id")

    def company_profile(self) -> dict | None:
        """The profile set in Slack (the dict ``set_company_profile`` was given), or None."""
        row = self.company_profile_row()
        return None if row is None else row["data"]

    def company_profile_row(self) -> dict | None:
        """``{"data": dict, "set_by": str, "created_at": float}``, or None when unset."""
        with self._locked():
            rows = list(self.db["company_profile"].rows_where("id = 1"))
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
        with self._locked():
            return self.db.execute("DELETE FROM company_profile").rowcount > 0

    # ----------------------------------------------------------------------- housekeeping
    def counts(self) -> dict[str, int]:
        with self._locked():
            return {
                "jobposts": self.db["jobposts"].count,
                "approved_jobposts": self.db.execute(
                    "SELECT COUNT(*) FROM jobposts WHERE approved = 1").fetchone()[0],
                "screenings": self.db["screenings"].count,
                "feedback": self.db["feedback"].count,
                "team_postings": self.db["team_postings"].count,
                "labelled_cvs": self.db["labelled_cvs"].count,
                "match_votes": self.db["match_pairs"].count,
            }

    def purge(self, retention_days: float, now: float | None = None) -> dict[str, int]:
        """Drop what can name or describe a person (``PERSONAL_TABLES``, ``TEMP_DIRS``) past
        the retention; ``retention_days=0`` keeps nothing."""
        cutoff = (time.time() if now is None else now) - retention_days * 86400
        out = {}
        with self._locked():
            for table, column in PERSONAL_TABLES.items():  # "events": the ledger's own file
                out[table] = self.events.purge(cutoff) if table == "events" else self.db.execute(
                    f"DELETE FROM {table} WHERE {column} < ?", [cutoff]).rowcount  # noqa: S608
        out["temp_files"] = self._purge_temp_files(cutoff)
        with self._lock:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old pages leave the WAL too
        return out

    def _purge_temp_files(self, cutoff: float) -> int:
        old = [e for name in TEMP_DIRS if (self.path.parent / name).is_dir()
               for e in (self.path.parent / name).iterdir() if e.lstat().st_mtime < cutoff]
        for entry in old:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        return len(old)

    def rows_where(self, table: str, where: str, params: list) -> list[dict]:
        """Rows of one table (``where`` is the caller's fixed SQL; values go in ``params``)."""
        with self._locked():
            return list(self.db[table].rows_where(where, params))

    def delete_in(self, table: str, column: str, values: list, where: str = "") -> int:
        """Delete the rows whose ``column`` is one of ``values``; how many went."""
        with self._locked():
            return self._delete_in(table, column, values, where)

    def anonymise_audit(self, screening_ids: list[int], file_id: str = "") -> int:
        """Audit rows of erased verdicts keep who asked, when and which model, not the file."""
        marks = ",".join("?" * len(screening_ids))
        with self._locked():
            count = self.db.execute(
                "UPDATE audit SET file_name = '', file_id = '' WHERE kind = 'verdict' AND "
                f"(ref_id IN ({marks}) OR (file_id != '' AND file_id = ?))",  # noqa: S608
                [*screening_ids, file_id]).rowcount
        with self._lock:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old pages leave the WAL too
        return count

    def _delete_in(self, table: str, column: str, values: list, where: str = "") -> int:
        total = 0
        for start in range(0, len(values), 500):  # SQLite's parameter limit
            chunk = values[start:start + 500]
            total += self.db.execute(
                f"DELETE FROM {table} WHERE {where}{column} IN "  # noqa: S608 - fixed names
                f"({','.join('?' * len(chunk))})", chunk).rowcount
        return total

    def dump(self, table: str) -> list[dict]:
        """Every row of one table (for tests and inspection)."""
        SCHEMA[table]  # noqa: B018 - a KeyError for a table that is not ours
        with self._locked():
            return list(self.db[table].rows)
