"""The audit trail: who asked for which verdict or JD, when, from which model, with what result.

The store writes an ``audit`` row with every screening and JD it keeps; this module adds who
asked and which Slack file a verdict was for (known only once the job has run), keeps nothing
past the reply when the retention is 0, records the CLI's verdicts, and exports the trail as CSV
for a reviewer. CV text is never part of it; the file name is, as on the screening row.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.config import Settings
from bot.services.spreadsheet import csv_text
from bot.storage import Store

COLUMNS = ("when_utc", "kind", "user", "source", "channel", "role", "file_name", "verdict",
           "score", "model_name", "model_version")


class AuditTrail:
    """The Slack side: who uploaded each file, and each delivered verdict attributed to the
    Slack file it came from (``ScreeningBatch.sources``: a ZIP's members share their file)."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store

    def uploaded(self, channel: str, message_ts: str, file_ids: Sequence[str],
                 user: str | None) -> None:
        self.store.set_uploader(channel, message_ts, list(file_ids), user or "")

    def delivered(self, channel: str, files: Sequence[tuple[str, str]], batch) -> None:
        """Attribute each stored verdict to its Slack file and uploader; with a retention of 0
        days erase them now that the reply is out."""
        for screening_id, (message_ts, file_id) in zip(batch.ids, batch.sources, strict=True):
            if screening_id is not None:
                self.store.attribute(screening_id, file_id=file_id,
                                     user=self._uploader(channel, message_ts, file_id))
        if self.settings.retention_days <= 0:
            ids = [i for i in batch.ids if i is not None]
            self.store.delete_in("screenings", "id", ids)
            self.store.delete_in("audit", "ref_id", ids, kind="verdict")

    def _uploader(self, channel: str, message_ts: str, file_id: str) -> str:
        rows = self.store.rows_where("file_claims", key=f"{channel}|{message_ts}|{file_id}")
        return (rows[0].get("user") or "") if rows else ""


def record_cli_verdicts(settings: Settings, results: Sequence[dict]) -> int:
    """``hirebot screen``'s verdicts in the trail (user: the account that ran it)."""
    if settings.retention_days <= 0:
        return 0
    store = Store.open(settings)
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
    store = Store.open(settings)
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
    store = Store.open(settings)
    try:
        text, count = audit_csv(store, since)
    finally:
        store.close()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text, count
