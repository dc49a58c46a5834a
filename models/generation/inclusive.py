"""Gender-coded wording and reading grade of a job description.

Why: job ads worded with masculine-coded words ("competitive", "dominant", "leader") draw fewer
applications from women, who read them as a sign they would not belong; feminine-coded wording
does not put men off to the same degree. That is the finding of

    Gaucher, D., Friesen, J. & Kay, A. C. (2011). "Evidence that gendered wording in job
    advertisements exists and sustains gender inequality." Journal of Personality and Social
    Psychology, 101(1), 109-128. https://doi.org/10.1037/a0022530

The word lists below are the paper's lists of word stems as used by the open gender-decoder
tools, in particular Kat Matfield's gender-decoder (https://github.com/lovedaybrooke/gender-decoder,
served at https://gender-decoder.katmatfield.com), written out here from those sources. A stem is
a prefix: ``"compet"`` codes "competitive" and "competition", ``"lead"`` codes "leader" and
"leading".

Matching rules (``check_text`` and ``coded_stem``):

* Case-insensitive; a word is a run of letters, hyphenated compounds kept whole.
* A word is coded when it STARTS with a stem ("misleading" does not match ``"lead"``). When
  several stems fit, the longest wins, and each occurrence is counted once.
* A hyphenated compound is matched whole first (``"self-confident"``, ``"co-operative"``,
  ``"decision-making"``), and otherwise part by part (``"team-leader"`` counts ``"leader"``),
  as gender-decoder does.
* Section-heading lines are skipped: a line that, after markdown marks (``#``, ``**``) and a
  trailing colon are removed, is made only of section-heading vocabulary - "Responsibilities:",
  "Key responsibilities", "Roles & Responsibilities", "What you'll do" - is not a sentence a
  candidate reads as describing them, and every JD has one, so the ``"respon"`` it contains
  would be noise. gender-decoder counts those; we do not. Bullets are never headings:
  "- Responsible for the roadmap" still counts ``"respon"``, as the paper's stems do.
* ``NOT_CODED``: a few whole words that a stem catches by accident and whose meaning has nothing
  to do with the coded sense ("SharePoint", "shareholders", "committee", "kinds"). Every other
  match is kept as the paper's stems give it.

Reading grade: the Flesch-Kincaid grade level. ``textstat`` (0.7.13) was the first choice, but it
fetches NLTK's CMU pronouncing dictionary from the internet the first time it counts English
syllables, and this bot runs on machines that may be offline, so the formula is implemented here
with a documented syllable heuristic (see ``_syllables``).

Only the standard library is imported, so the JD decoder can call ``coded_stem`` on every
candidate token without pulling in anything else.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["masculine", "feminine"]

MASCULINE_STEMS: tuple[str, ...] = (
    "active", "adventurous", "aggress", "ambitio", "analy", "assert", "athlet", "autonom",
    "battle", "boast", "challeng", "champion", "compet", "confident", "courag", "decide",
    "decision", "decisive", "defend", "determin", "domina", "dominant", "driven", "fearless",
    "fight", "force", "greedy", "head-strong", "headstrong", "hierarch", "hostil", "impulsive",
    "independen", "individual", "intellect", "lead", "logic", "objective", "opinion",
    "outspoken", "persist", "principle", "reckless", "self-confiden", "self-relian",
    "self-sufficien", "selfconfiden", "selfrelian", "selfsufficien", "stubborn", "superior",
    "unreasonab",
)
"""Masculine-coded stems (Gaucher, Friesen & Kay 2011, as listed by gender-decoder)."""

FEMININE_STEMS: tuple[str, ...] = (
    "agree", "affectionate", "child", "cheer", "collab", "commit", "communal", "compassion",
    "connect", "considerate", "cooperat", "co-operat", "depend", "emotiona", "empath", "feel",
    "flatterable", "gentle", "honest", "interpersonal", "interdependen", "interpersona",
    "inter-personal", "inter-dependen", "inter-persona", "kind", "kinship", "loyal", "modesty",
    "nag", "nurtur", "pleasant", "polite", "quiet", "respon", "sensitiv", "submissive",
    "support", "sympath", "tender", "together", "trust", "understand", "warm", "whin",
    "enthusias", "inclusive", "yield", "share", "sharing",
)
"""Feminine-coded stems (Gaucher, Friesen & Kay 2011, as listed by gender-decoder)."""

ALTERNATIVES: dict[str, str] = {
    # masculine-coded
    "active": "engaged",
    "adventurous": "curious",
    "aggress": "proactive",
    "ambitio": "motivated",
    "analy": "examine / review",
    "assert": "clear / direct",
    "athlet": "energetic",
    "autonom": "self-directed",
    "battle": "tackle",
    "boast": "highlight",
    "challeng": "problem / demanding",
    "champion": "advocate",
    "compet": "skilled",
    "confident": "assured",
    "courag": "bold",
    "decide": "choose",
    "decision": "choice",
    "decisive": "clear",
    "defend": "uphold",
    "determin": "focused / work out",
    "domina": "excel in",
    "dominant": "prominent",
    "driven": "motivated",
    "fearless": "bold",
    "fight": "push for",
    "force": "push",
    "greedy": "eager",
    "head-strong": "steadfast",
    "headstrong": "steadfast",
    "hierarch": "structure",
    "hostil": "difficult",
    "impulsive": "spontaneous",
    "independen": "self-directed",
    "individual": "person",
    "intellect": "thoughtful",
    "lead": "guide / coordinate",
    "logic": "reasoned",
    "objective": "goal / fair-minded",
    "opinion": "view",
    "outspoken": "candid",
    "persist": "steady",
    "principle": "value",
    "reckless": "daring",
    "self-confiden": "assured",
    "self-relian": "resourceful",
    "self-sufficien": "resourceful",
    "selfconfiden": "assured",
    "selfrelian": "resourceful",
    "selfsufficien": "resourceful",
    "stubborn": "steadfast",
    "superior": "excellent",
    "unreasonab": "excessive",
    # feminine-coded
    "agree": "align",
    "affectionate": "friendly",
    "child": "young person",
    "cheer": "positive",
    "collab": "work with",
    "commit": "dedicated",
    "communal": "common",
    "compassion": "care",
    "connect": "link",
    "considerate": "mindful",
    "cooperat": "work with",
    "co-operat": "work with",
    "depend": "reliable / rely",
    "emotiona": "personal",
    "empath": "perceptive",
    "feel": "sense",
    "flatterable": "receptive",
    "gentle": "calm",
    "honest": "open",
    "interpersonal": "people",
    "interdependen": "linked",
    "interpersona": "people",
    "inter-personal": "people",
    "inter-dependen": "linked",
    "inter-persona": "people",
    "kind": "courteous",
    "kinship": "belonging",
    "loyal": "dedicated",
    "modesty": "humility",
    "nag": "remind",
    "nurtur": "develop",
    "pleasant": "friendly",
    "polite": "courteous",
    "quiet": "calm",
    "respon": "duties / in charge of",
    "sensitiv": "aware",
    "submissive": "flexible",
    "support": "help",
    "sympath": "caring",
    "tender": "careful / bid",
    "together": "jointly",
    "trust": "rely on",
    "understand": "grasp",
    "warm": "friendly",
    "whin": "complain",
    "enthusias": "keen",
    "inclusive": "welcoming",
    "yield": "produce",
    "share": "pass on",
    "sharing": "passing on",
}
"""A neutral wording to suggest for each stem; short enough for a Slack line."""

NOT_CODED: frozenset[str] = frozenset({
    "sharepoint",  # "share": a Microsoft product
    "shareholder", "shareholders",  # "share": owners of stock
    "committee", "committees",  # "commit": a body of people, not commitment
    "kinds",  # "kind": the noun ("all kinds of"), not kindness
    "response", "responses",  # "respon": an answer, not responsibility
})
"""Whole words a stem catches by accident and that are not coded in meaning."""

READING_GRADE_TARGET: tuple[float, float] = (8.0, 10.0)
"""Plain-language target for a JD; above it, the summary suggests simpler sentences."""

_MAX_LISTED = 5  # distinct words listed per kind in the summary; the rest become "…"

_KIND_OF: dict[str, Kind] = {
    **{stem: "masculine" for stem in MASCULINE_STEMS},
    **{stem: "feminine" for stem in FEMININE_STEMS},
}
# Longest stems first: re tries alternatives in order, so .match() returns the longest stem.
_STEM_RE = re.compile(
    "|".join(re.escape(s) for s in sorted(_KIND_OF, key=lambda s: (-len(s), s)))
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # letters; hyphenated compounds kept whole
_EDGE_NON_LETTERS = re.compile(r"^[\W\d_]+|[\W\d_]+$")

_HEADING_WORDS: frozenset[str] = frozenset("""
    key main core your our the job role roles position essential primary principal general
    minimum preferred desired required additional bonus nice to have haves and or of in a
    responsibilities responsibility duties accountabilities tasks requirements qualifications
    skills experience education knowledge competencies criteria benefits perks rewards
    compensation salary pay package summary overview description details about you us team
    company what we're we are will you'll do need offer who looking for ideal candidate day life
    person specification why join
""".split())
_HEADING_MAX_WORDS = 6
_BULLET_RE = re.compile(r"^\s*(?:[-•·▪‣–*]\s|\d+[.)]\s)")


def _is_heading(line: str) -> bool:
    """True for a section-heading line, which ``check_text`` skips (see the module rules)."""
    if _BULLET_RE.match(line):
        return False
    text = line.strip().lstrip("#").strip().strip("*_").strip().rstrip(":").strip().lower()
    text = text.replace("’", "'").replace("&", " and ").replace("/", " ")
    words = text.split()
    return 0 < len(words) <= _HEADING_MAX_WORDS and all(w in _HEADING_WORDS for w in words)


def _match_single(word: str) -> tuple[str, str] | None:
    if word in NOT_CODED:
        return None
    found = _STEM_RE.match(word)
    if found is None:
        return None
    return found.group(), _KIND_OF[found.group()]


def _match_compound(word: str) -> tuple[str, tuple[str, str]] | None:
    """(matched word, (stem, kind)) for a lower-case word, hyphenated compounds per the rules."""
    hit = _match_single(word)
    if hit is not None:
        return word, hit
    if "-" in word:
        for part in word.split("-"):
            hit = _match_single(part)
            if hit is not None:
                return part, hit
    return None


@lru_cache(maxsize=65536)
def coded_stem(word: str) -> tuple[str, str] | None:
    """``(stem, kind)`` when ``word`` is gender-coded, else ``None``.

    Why: the JD decoder calls this for candidate tokens while it samples, to steer away from
    coded words, so it is one precompiled regex match and cached. ``word`` may carry
    surrounding spaces or punctuation (a GPT-2 token such as ``" Leader,"``); it is
    lower-cased and trimmed to its letters first. Rules as in the module docstring.
    """
    cleaned = _EDGE_NON_LETTERS.sub("", word.lower())
    if not cleaned:
        return None
    hit = _match_compound(cleaned)
    return None if hit is None else hit[1]


@dataclass(frozen=True)
class CodedWord:
    """One gender-coded word form found in a text, how often, and what to say instead."""

    word: str
    stem: str
    kind: Kind
    alternative: str
    count: int


@dataclass(frozen=True)
class InclusiveReport:
    """What ``check_text`` found: coded words by kind (most frequent first) and reading grade."""

    masculine: tuple[CodedWord, ...]
    feminine: tuple[CodedWord, ...]
    reading_grade: float

    @property
    def coded_count(self) -> int:
        """Total occurrences of coded words of both kinds (not distinct words)."""
        return sum(w.count for w in self.masculine) + sum(w.count for w in self.feminine)

    def summary_lines(self) -> list[str]:
        """Plain-text lines for the recruiter, short enough to sit under a JD in Slack.

        The count is of occurrences; each distinct word is listed once with its suggestion
        (``×n`` when repeated), at most five per kind. The reading-grade target is spelled out
        only when the grade is above it, since that is when the recruiter has something to do.
        """
        parts: list[str] = []
        by_kind = (("masculine-coded", self.masculine), ("feminine-coded", self.feminine))
        for label, words in by_kind:
            if not words:
                continue
            total = sum(w.count for w in words)
            noun = "" if parts else (" word" if total == 1 else " words")
            listed = "; ".join(_describe(w) for w in words[:_MAX_LISTED])
            if len(words) > _MAX_LISTED:
                listed += "; …"
            parts.append(f"{total} {label}{noun} ({listed})")
        coded = ", ".join(parts) if parts else "no gender-coded words"
        grade = f"Reading grade {self.reading_grade:.1f}"
        low, high = READING_GRADE_TARGET
        if self.reading_grade > high:
            grade += f" (aim for {low:g}–{high:g})"
        return [f"Inclusive language: {coded}. {grade}."]


def _describe(word: CodedWord) -> str:
    times = f" ×{word.count}" if word.count > 1 else ""
    return f"{word.word}{times} → {word.alternative}"


def check_text(text: str, exempt: frozenset[str] | set[str] = frozenset()) -> InclusiveReport:
    """Find the gender-coded words of ``text`` and its Flesch-Kincaid grade.

    Why: recruiters see, before posting, which words may put candidates off and a neutral
    wording for each, plus whether the text is harder to read than it needs to be. Heading
    lines are skipped for both measures; see the module docstring for the matching rules.
    """
    body = [line for line in text.splitlines() if not _is_heading(line)]
    found: Counter[tuple[str, str]] = Counter()
    for line in body:
        for token in _WORD_RE.findall(line.lower()):
            if token in exempt:  # the job's own words ("Support Worker", a must term)
                continue
            hit = _match_compound(token)
            if hit is not None:
                found[(hit[0], hit[1][0])] += 1
    coded = [
        CodedWord(word=w, stem=s, kind=_KIND_OF[s], alternative=ALTERNATIVES[s], count=n)
        for (w, s), n in found.items()
    ]
    coded.sort(key=lambda c: (-c.count, c.word))
    return InclusiveReport(
        masculine=tuple(c for c in coded if c.kind == "masculine"),
        feminine=tuple(c for c in coded if c.kind == "feminine"),
        reading_grade=reading_grade("\n".join(body)),
    )


# --- reading grade --------------------------------------------------------------------------

_READ_WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUPS_RE = re.compile(r"[aeiouy]+")


def _syllables(word: str) -> int:
    """Syllables of one word by a spelling heuristic (no dictionary; works offline).

    Count groups of adjacent vowels (``y`` included), after dropping endings that are usually
    silent: a final ``-e`` ("make"; not "-le", "-ee", "-ie": "table", "free"), ``-es`` unless
    after a sibilant ("takes" but not "services", "uses"), and ``-ed`` unless after ``t``/``d``
    ("worked" but not "needed"). Words of three letters or fewer, numbers and words left with
    no vowel count as one. Right for most common English words; off by one on some (e.g.
    "created" gives 2), which moves a JD's grade by a few tenths at most.
    """
    w = "".join(ch for ch in word.lower() if "a" <= ch <= "z")
    if len(w) <= 3:
        return 1
    if w.endswith("es") and not w.endswith(("ses", "zes", "xes", "ches", "shes", "ces", "ges")):
        w = w[:-2]
    elif w.endswith("ed") and not w.endswith(("ted", "ded")):
        w = w[:-2]
    elif w.endswith("e") and not w.endswith(("le", "ee", "ie")):
        w = w[:-1]
    return max(1, len(_VOWEL_GROUPS_RE.findall(w)))


def _sentences(text: str) -> int:
    """Sentences: each ``.``/``!``/``?`` run before a space or line end, plus one for every
    non-empty line that does not end with one - bullets are written without full stops but
    are read as separate sentences, and must not merge into one giant sentence."""
    count = 0
    for line in text.splitlines():
        line = line.strip()
        if not _READ_WORD_RE.search(line):
            continue
        count += len(_SENTENCE_END_RE.findall(line))
        if not line.endswith((".", "!", "?")):
            count += 1
    return count


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level, rounded to one decimal and floored at 0.

    ``0.39 * words/sentences + 11.8 * syllables/words - 15.59``, with sentences counted by
    ``_sentences`` and syllables by ``_syllables``. An empty text gives 0.0.
    """
    words = _READ_WORD_RE.findall(text)
    if not words:
        return 0.0
    sentences = max(1, _sentences(text))
    syllables = sum(_syllables(w) for w in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return max(0.0, round(grade, 1))
