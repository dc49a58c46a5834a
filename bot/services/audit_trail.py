"""The audit trail: who asked for which verdict or JD, when, from which model, with what result.

The store writes an ``audit`` row with every screening and JD it keeps; this module adds who
asked and which Slack file a verdict was for (known only once the job has run), keeps nothing
past the reply when the retention is 0, records the CLI's verdicts, and exports the trail as CSV
for a reviewer. CV text is never part of it; the file name is, as on the screening row.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.config import Settings
from bot.services.spreadsheet import csv_text
from bot.storage import Store

COLUMNS = ("when_utc", "kind", "user", "source", "channel", "role", "file_name", "verdict",
           "score", "model_name", "model_version")


def _loose(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class AuditTrail:
    """The Slack side: remembers each fetched file's name for the job that runs it (one model
    worker, so one job at a time) and attributes the verdicts once they are delivered."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self._names: dict[str, str] = {}

    def uploaded(self, channel: str, message_ts: str, file_ids: Sequence[str],
                 user: str | None) -> None:
        self.store.set_uploader(channel, message_ts, list(file_ids), user or "")

    def fetched(self, file_id: str, fetched):
        """Pass-through for the fetch step: note which name this file id came in as."""
        self._names[file_id] = fetched.name
        return fetched

    def delivered(self, channel: str, files: Sequence[tuple[str, str]], batch) -> None:
        """Attribute each stored verdict to its Slack file and uploader; with a retention of 0
        days erase them now that the reply is out."""
        owners = [(file_id, _loose(self._names.pop(file_id, "")),
                   self._uploader(channel, message_ts, file_id))
                  for message_ts, file_id in files]
        at = 0
        for result, screening_id in zip(batch.results, batch.ids, strict=True):
            name = _loose(str(result.get("file", "")))
            for i in range(at, len(owners)):
                if owners[i][1] and name.startswith(owners[i][1]):
                    at = i
                    break
            if screening_id is not None and owners:
                file_id, _, user = owners[at]
                self.store.attribute(screening_id, user=user, file_id=file_id)
        if self.settings.retention_days <= 0:
            ids = [i for i in batch.ids if i is not None]
            self.store.delete_in("screenings", "id", ids)
            self.store.delete_in("audit", "ref_id", ids, where="kind = 'verdict' AND ")

    def _uploader(self, channel: str, message_ts: str, file_id: str) -> str:
        rows = self.store.rows_where("file_claims", "key = ?",
                                     [f"{channel}|{message_ts}|{file_id}"])
        return (rows[0].get("user") or "") if rows else ""


def record_cli_verdicts(settings: Settings, results: Sequence[dict]) -> int:
    """``hirebot screen``'s verdicts in the trail (user: the account that ran it)."""
    if settings.retention_days <= 0:
        return 0
    store = Store(settings.db_path)
    try:
        done = 0
        for r in results:
            if "error" in r:
                continue
            store.add_audit("verdict", user=_os_user(), source="cli", file_name=r["file"],
                            role=r["role"], verdict=r["verdict"], score=r["score"],
                            model_name=r["model"]["name"], model_version=r["model"]["version"])
            done += 1
    finally:
        store.close()
    return done


def record_cli_jd(settings: Settings, title: str, model: dict) -> None:
    """``hirebot jobpost``'s draft in the trail."""
    if settings.retention_days <= 0:
        return
    store = Store(settings.db_path)
    try:
        store.add_audit("jd", user=_os_user(), source="cli", role=title,
                        model_name=model.get("name"), model_version=model.get("version"))
    finally:
        store.close()


def _os_user() -> str:
    try:
        return "os:" + getpass.getuser()
    except (KeyError, OSError):
        return "os:unknown"


def audit_csv(store: Store, since: date | None = None) -> tuple[str, int]:
    """The trail from ``since`` (UTC midnight) on as CSV text, and its row count."""
    start = 0.0 if since is None else datetime(since.year, since.month, since.day,
                                               tzinfo=UTC).timestamp()
    rows = store.audit_rows(start)
    cells = []
    for r in rows:
        when = datetime.fromtimestamp(r["created_at"], UTC).isoformat(timespec="seconds")
        score = "" if r.get("score") is None else f"{r['score']:.3f}"
        cells.append([when, r["kind"], r.get("user"), r.get("source"), r.get("channel"),
                      r.get("role"), r.get("file_name"), r.get("verdict"), score,
                      r.get("model_name"), r.get("model_version")])
    return csv_text(list(COLUMNS), cells), len(rows)


def export_audit(settings: Settings, since: date | None, out: Path | None) -> tuple[str, int]:
    """Open the store and export; writes ``out`` when given (else returns the text only)."""
    store = Store(settings.db_path)
    try:
        text, count = audit_csv(store, since)
    finally:
        store.close()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text, count
