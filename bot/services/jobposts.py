"""Job descriptions in threads: write a draft, keep it, regenerate it, approve it."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.services.model_service import ModelService
from bot.storage import Store


class JobPostDesk:
    def __init__(self, store: Store, models: ModelService):
        self.store = store
        self.models = models

    def open_thread(self, channel: str, thread_ts: str, title: str) -> None:
        """A ``/jobpost`` thread: CVs uploaded in it are screened for this title."""
        self.store.set_thread(channel, thread_ts, "job", title)

    def write(self, *, channel: str, thread_ts: str, message_ts: str, raw_title: str,
              title: str, context: str, user: str, seed: int,
              on_text: Callable[[str], None] | None = None):
        """Write a draft and keep it; the thread's CVs are then screened against it.

        Returns ``(draft, jobpost_id)``.
        """
        draft = self.models.write_jd(raw_title, seed=seed, on_text=on_text)
        jobpost_id = self.store.add_jobpost(
            channel=channel, thread_ts=thread_ts, message_ts=message_ts, title=title,
            context=context, text=draft.text, model_version=draft.model["version"],
            model_name=draft.model["name"], user=user)
        self.store.set_thread(channel, thread_ts, "job", title, jobpost_id)
        return draft, jobpost_id

    def regeneration(self, jobpost_id: int) -> dict | None:
        """What a Regenerate click writes again: the stored title and context, a new seed."""
        row = self.store.jobpost(jobpost_id)
        if row is None:
            return None
        raw = row["title"] + (f", {row['context']}" if row.get("context") else "")
        return {"channel": row["channel"], "thread_ts": row["thread_ts"], "raw_title": raw,
                "title": row["title"], "context": row.get("context") or "",
                "seed": int(time.time() * 1000) % 1_000_000}

    def approve(self, jobpost_id: int, user: str) -> dict | None:
        """An approved JD becomes team data for generator refreshes; returns the JD."""
        row = self.store.jobpost(jobpost_id)
        if row is None:
            return None
        self.store.update_jobpost(jobpost_id, approved=1, approved_by=user)
        self.store.add_feedback("jobpost", jobpost_id, user, "approve")
        return row
