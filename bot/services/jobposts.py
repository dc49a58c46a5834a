"""Job descriptions in threads: write a draft, keep it, regenerate it, approve it.

A request writes several drafts in one batch (``jobpost_drafts``), ranked by the generator's
score; the best is shown and the rest are kept with it, so Regenerate shows the next-best draft
without writing again instead of sampling a fresh random one. When a batch is used up,
Regenerate writes a new batch with a new seed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.services.company import current_profile
from bot.services.model_service import ModelService
from bot.storage import Store

MAX_TEAM_JDS = 200


@dataclass
class ShownDraft:
    """What the thread shows: a generator draft, or a kept alternate of an earlier batch."""

    text: str
    model: dict
    grounded_on: str = ""
    inclusive: str = ""
    number: int = 1
    of: int = 1
    by_votes: bool = False  # ranked by the team's votes on matches for the title

    @property
    def notes(self) -> list[str]:
        notes = [n for n in (self.grounded_on, self.inclusive) if n]
        if self.of > 1:
            ranked = ("ranked by the matcher against the CVs your team voted on for this "
                      "title" if self.by_votes else "ranked best first")
            notes.append(f"Draft {self.number} of {self.of} ({ranked}; Regenerate shows the "
                         "next)")
        return notes


class JobPostDesk:
    def __init__(self, store: Store, models: ModelService):
        self.store = store
        self.models = models

    def open_thread(self, channel: str, thread_ts: str, title: str) -> None:
        """A ``/jobpost`` thread: CVs uploaded in it are screened for this title."""
        self.store.set_thread(channel, thread_ts, "job", title)

    def team_jds(self) -> list:
        return self.team_jds_of(self.store)

    @staticmethod
    def team_jds_of(store: Store) -> list:
        """The team's approved JDs, newest first, as grounding for similar titles."""
        from models.generation.grounding import TeamJD

        rows = store.approved_jobposts()[-MAX_TEAM_JDS:]
        return [TeamJD(title=r["title"], text=r["text"]) for r in reversed(rows)]

    def write(self, *, channel: str, thread_ts: str, message_ts: str, raw_title: str,
              title: str, context: str, user: str, seed: int,
              on_text: Callable[[str], None] | None = None,
              alternate: dict | None = None) -> tuple[ShownDraft, int]:
        """Write (or, with ``alternate``, show a kept) draft and keep it; the thread's CVs are
        then screened against it. Returns ``(draft, jobpost_id)``."""
        rest: list[dict] = []
        if alternate is not None:
            shown = ShownDraft(text=alternate["text"], model=alternate["model"],
                               grounded_on=alternate.get("grounded_on", ""),
                               inclusive=alternate.get("inclusive", ""),
                               number=alternate["number"], of=alternate["of"],
                               by_votes=alternate.get("by_votes", False))
            rest = alternate.get("rest", [])
        else:
            settings = self.models.settings
            drafts = self.models.write_jds(
                raw_title, seed=seed, on_text=on_text, n=settings.jobpost_drafts,
                profile=current_profile(settings, self.store), team=self.team_jds())
            # best-of-n aligned with recruiter feedback: the matcher re-ranks the drafts
            # against the CVs the team voted on for this title, when there are any
            drafts, by_votes = self.models.rank_by_votes(drafts, self.store.match_pairs(title))
            of = len(drafts)
            shown = ShownDraft(text=drafts[0].text, model=drafts[0].model,
                               grounded_on=drafts[0].grounded_on,
                               inclusive=drafts[0].inclusive, number=1, of=of,
                               by_votes=by_votes)
            rest = [{"text": d.text, "model": d.model, "grounded_on": d.grounded_on,
                     "inclusive": d.inclusive, "number": i, "of": of, "by_votes": by_votes}
                    for i, d in enumerate(drafts[1:], start=2)]
        jobpost_id = self.store.add_jobpost(
            channel=channel, thread_ts=thread_ts, message_ts=message_ts, title=title,
            context=context, text=shown.text, model_version=shown.model["version"],
            model_name=shown.model["name"], user=user, grounded_on=shown.grounded_on,
            inclusive=shown.inclusive, alternates=json.dumps(rest),
            draft_number=shown.number, drafts_in_batch=shown.of, raw_request=raw_title)
        self.store.set_thread(channel, thread_ts, "job", title, jobpost_id)
        return shown, jobpost_id

    def regeneration(self, jobpost_id: int) -> dict | None:
        """What a Regenerate click shows: the batch's next draft, else a new batch's seed."""
        row = self.store.jobpost(jobpost_id)
        if row is None:
            return None
        raw = row.get("raw_request") or (
            row["title"] + (f", {row['context']}" if row.get("context") else ""))
        again = {"channel": row["channel"], "thread_ts": row["thread_ts"], "raw_title": raw,
                 "title": row["title"], "context": row.get("context") or "",
                 "seed": int(time.time() * 1000) % 1_000_000, "alternate": None}
        rest = json.loads(row.get("alternates") or "[]")
        if rest:
            again["alternate"] = {**rest[0], "rest": rest[1:]}
            # The kept drafts move on with the one shown next: a second click on this message
            # writes a new batch instead of showing the same draft twice.
            self.store.update_jobpost(jobpost_id, alternates="[]")
        return again

    def approve(self, jobpost_id: int, user: str) -> dict | None:
        """An approved JD becomes team data for generator refreshes; returns the JD."""
        row = self.store.jobpost(jobpost_id)
        if row is None:
            return None
        self.store.update_jobpost(jobpost_id, approved=1, approved_by=user)
        self.store.add_feedback("jobpost", jobpost_id, user, "approve")
        return row
