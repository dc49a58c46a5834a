"""Screening uploads in a thread: claim each file once, screen, record, hand the result over.

The front end supplies only its own I/O -- how to fetch a file's bytes, how to show progress,
how to deliver the verdicts -- and this module keeps the bookkeeping in order: a file is
claimed once (redeliveries are no-ops), waits for a role when none is known, is marked read,
its verdict recorded (derived features only, never CV text), then marked done once delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.config import Settings
from bot.services.model_service import ModelService
from bot.services.team_data import features_blob
from bot.storage import Store

VERDICT_WORDS = {"fit": "Fit", "maybe": "Maybe", "no_fit": "No fit"}
#: Under every verdict, in Slack and the CLI: the bot ranks and explains, a person decides
#: (recruitment is a high-risk use under the EU AI Act, Annex III).
AUTOMATED_AID_NOTICE = ("Automated screening aid: it can be wrong, and a person makes every "
                        "hiring decision.")
CHUNK = 4  # CVs per model call: progress moves while a long batch runs

FileRef = tuple[str, str]  # (message ts, file id)


class Fetched(NamedTuple):
    name: str
    data: bytes
    is_zip: bool


class FetchError(Exception):
    """A file the front end could not get; becomes that CV's error line, not a fault.

    ``is_zip`` says what the upload claimed to be: a ZIP that could not be fetched still
    makes the batch a ranked table, as the ZIP would have."""

    def __init__(self, name: str, code: str, message: str, *, is_zip: bool = False):
        super().__init__(message)
        self.name, self.code, self.message, self.is_zip = name, code, message, is_zip


@dataclass
class ScreeningBatch:
    results: list[dict] = field(default_factory=list)
    ids: list[int | None] = field(default_factory=list)  # screening row per result
    #: the Slack file (message ts, file id) each result came from: a ZIP gives many results
    sources: list[FileRef] = field(default_factory=list)
    had_zip: bool = False


class ScreeningDesk:
    def __init__(self, settings: Settings, store: Store, models: ModelService):
        self.settings = settings
        self.store = store
        self.models = models

    # ------------------------------------------------------------------ routing
    def claim(self, channel: str, message_ts: str, file_ids: Sequence[str]) -> list[str]:
        """The files of a message not seen before (an upload can arrive by several routes)."""
        return [f for f in file_ids if self.store.claim_file(channel, message_ts, f)]

    def thread_role(self, channel: str, thread_ts: str | None) -> tuple[str | None, str | None]:
        """The role of a bot thread and, in a ``/jobpost`` thread, the JD's text."""
        if not thread_ts:
            return None, None
        thread = self.store.thread(channel, thread_ts)
        if thread is None:
            return None, None
        jd = None
        if thread.get("jobpost_id"):
            row = self.store.jobpost(int(thread["jobpost_id"]))
            jd = row["text"] if row else None
        return thread["role"], jd

    def open_thread(self, channel: str, thread_ts: str, role: str) -> None:
        self.store.set_thread(channel, thread_ts, "screen", role)

    def hold(self, channel: str, thread_ts: str, files: Sequence[FileRef]) -> None:
        """Keep files until the thread names a role (or the worker is free again)."""
        for message_ts, file_id in files:
            self.store.add_pending(channel, thread_ts, message_ts, file_id)

    def take_held(self, channel: str, thread_ts: str) -> list[FileRef]:
        return [(r["message_ts"], r["file_id"])
                for r in self.store.take_pending(channel, thread_ts)]

    # ------------------------------------------------------------------ the work
    def screen_files(self, channel: str, thread_ts: str, files: Sequence[FileRef], role: str,
                     jd_text: str | None, *, fetch: Callable[[str], Fetched],
                     deliver: Callable[[ScreeningBatch], None],
                     progress: Callable[[int, int], None] | None = None) -> None:
        """Fetch, read and screen the files, record each verdict, deliver, mark them done.

        ``progress(done, total)`` is called before the first CV and after each chunk when
        there is more than one CV.
        """
        batch = self.screen_part(channel, thread_ts, [(m, f, None) for m, f in files], role,
                                 jd_text, fetch=fetch, progress=progress)
        deliver(batch)
        self.finish(channel, files)

    def screen_part(self, channel: str, thread_ts: str, items: Sequence[tuple], role: str,
                    jd_text: str | None, *, fetch: Callable[[str], Fetched],
                    progress: Callable[[int, int], None] | None = None,
                    record: bool = True) -> ScreeningBatch:
        """Screen and record (message ts, file id, ZIP members or None) items: a whole upload,
        or one chunk of a bulk one (``members`` = a range of a ZIP's members). ``record=False``
        leaves the recording to the caller (:meth:`record`, in the caller's transaction)."""
        from models.screening.documents import DocumentError

        batch = ScreeningBatch()
        documents: list = []
        for message_ts, file_id, members in items:
            try:
                fetched = fetch(file_id)
            except FetchError as exc:
                batch.had_zip = batch.had_zip or exc.is_zip
                name = exc.name if members is None or members[0] == 0 else (
                    f"{exc.name} (members {members[0] + 1}-{members[1]})")  # a later chunk
                documents.append(DocumentError(name, exc.code, exc.message))
                batch.sources.append((message_ts, file_id))
                continue
            batch.had_zip = batch.had_zip or fetched.is_zip
            read = self.models.read_upload(fetched.name, fetched.data,
                                           tuple(members) if members is not None else None)
            documents.extend(read)
            batch.sources.extend([(message_ts, file_id)] * len(read))
            self.store.finish_file(channel, message_ts, file_id, "read")
        total = len(documents)
        show = progress if total > 1 else None
        if show:
            show(0, total)
        for start in range(0, total, CHUNK):
            batch.results.extend(self.models.screen(role, documents[start:start + CHUNK],
                                                    jd_text))
            if show:
                show(len(batch.results), total)
        if record:
            batch.ids = self.record(channel, thread_ts, batch.results)
        return batch

    def record(self, channel: str, thread_ts: str, results: Sequence[dict]) -> list[int | None]:
        """Keep each verdict (derived features only); the screening row id of each result."""
        return [self._record(channel, thread_ts, r) for r in results]

    def finish(self, channel: str, files: Sequence[FileRef]) -> None:
        for message_ts, file_id in files:
            self.store.finish_file(channel, message_ts, file_id, "done")

    def wants_table(self, batch: ScreeningBatch) -> bool:
        """A ZIP or many CVs: one ranked table and a CSV rather than a reply per CV."""
        return batch.had_zip or len(batch.results) > self.settings.batch_table_threshold

    def _record(self, channel: str, thread_ts: str, result: dict) -> int | None:
        if "error" in result:
            return None
        return self.store.add_screening(
            channel=channel, thread_ts=thread_ts, file_name=result["file"], role=result["role"],
            verdict=result["verdict"], score=result["score"], category=result["category"],
            model_version=result["model"]["version"],
            features=features_blob(result["_features"]) if "_features" in result else None,
            role_category=result.get("_role_category"), base_version=result.get("_base_version"),
            match_pair=result.get("_match_pair"), match_layout=result.get("_match_layout"))
