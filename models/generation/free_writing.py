"""The previous release's free writing, kept for comparison (``Decoding.free()``): an opener that
names the title, then one heading at a time with the model writing each part, and the streamer
that shows whole lines only."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from models.generation.contact_scrub import scrub_contacts
from models.generation.grounding import article
from models.generation.sampling import Decoding

OPENERS = (
    "We are looking for {a} {title} to join our team.",
    "An exciting opportunity has arisen for {a} {title} to join our team.",
    "We are recruiting {a} {title}.",
    "As {a} {title}, you will",
)
MIN_SECTION_TOKENS = 25
OVERRUN = 25  # past its budget, a part may run this far to finish its sentence


_article = article  # the old name, which tests and the opener below use


class RowPlan:
    """Section-by-section decoding for one draft: an opener that names the title, then one
    heading at a time. The model writes each part; a part ends at a blank line (or its token
    budget), and the next heading is fed in as forced tokens."""

    def __init__(self, generator, decoding: Decoding, title: str, seed: int):
        self.tokenizer = generator.tokenizer
        self.token_text = generator.token_text
        self.decoding = decoding
        self.headings = list(decoding.sections)
        self.queue: list[int] = []
        if decoding.opener:
            opener = OPENERS[seed % len(OPENERS)].format(a=_article(title), title=title)
            self.queue = self._encode(opener)
        self.part = 0  # 0 = opening paragraph, then one per heading
        self.part_tokens = 0
        self.part_text = ""

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def may_end(self) -> bool:
        return self.part >= len(self.headings)

    def next_forced(self) -> int | None:
        return self.queue.pop(0) if self.queue else None

    def after_sampled(self, token: int) -> bool:
        """Track the part being written; True when the last part is complete."""
        if not self.headings:  # opener only: the model writes the rest freely
            return False
        self.part_tokens += 1
        self.part_text += self.token_text[token]
        limit = self.decoding.opening_tokens if self.part == 0 else self.decoding.section_tokens
        blank_line = "\n\n" in self.part_text.lstrip() and self.part_tokens >= MIN_SECTION_TOKENS
        over = self.part_tokens >= limit
        at_break = self.part_text.endswith("\n") or self.part_text.rstrip().endswith(".")
        if not (blank_line or (over and at_break) or self.part_tokens >= limit + OVERRUN):
            return False
        if self.part >= len(self.headings):
            return True
        lead = "" if self.part_text.endswith("\n\n") else (
            "\n" if self.part_text.endswith("\n") else "\n\n")
        self.queue = self._encode(f"{lead}{self.headings[self.part]}:\n")
        self.part += 1
        self.part_tokens = 0
        self.part_text = ""
        return False


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


@dataclass
class LineStreamer:
    """Emits the scrubbed draft a completed line at a time, so no half URL is ever shown."""

    generator: object  # the JobPostGenerator
    on_text: Callable[[str], None]
    decoding: Decoding
    shown: str = ""

    def feed(self, ids: list[int]) -> None:
        if not ids or "\n" not in self.generator.token_text[ids[-1]]:
            return
        text = self.generator.tokenizer.decode(ids, skip_special_tokens=True)
        complete = text[: text.rfind("\n")]
        if self.decoding.scrub_contacts:
            complete = scrub_contacts(complete)
        complete = tidy(complete)
        if complete and complete != self.shown:
            self.shown = complete
            self.on_text(complete)

    def finish(self, final: str) -> None:
        if final != self.shown:
            self.shown = final
            self.on_text(final)
