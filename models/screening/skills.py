"""A skills lexicon learned from the CVs' own skills sections, and the matching used for evidence.

Hand-written skill lists go stale and cover one industry; the 2,600 labelled CVs list their skills
in "Skills" / "Highlights" / "Skill Details" sections, across 44 occupations. Phrases that many
CVs list become the lexicon; those listed far more often in one category than overall become that
category's expected skills. Only short phrases and counts are kept -- never CV text.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

SECTION_HEADERS = {
    "skills",
    "skill",
    "highlights",
    "skill highlights",
    "core qualifications",
    "qualifications",
    "technical skills",
    "core competencies",
    "areas of expertise",
    "skill details",
    "key skills",
    "it skills",
    "computer skills",
    "professional skills",
    "skill set",
    "technical proficiencies",
}
OTHER_HEADERS = {
    "summary",
    "professional summary",
    "experience",
    "work experience",
    "professional experience",
    "education",
    "education and training",
    "accomplishments",
    "additional information",
    "interests",
    "certifications",
    "languages",
    "affiliations",
    "company details",
    "education details",
    "work history",
    "professional profile",
    "career overview",
    "executive profile",
    "objective",
    "presentations",
    "publications",
    "awards",
    "activities and honors",
}
# Phrases that sections list but that say nothing about a role.
NOT_SKILLS = {
    "company name",
    "city",
    "state",
    "current",
    "less than 1 year",
    "months",
    "exprience",
    "experience",
    "skills",
    "team player",
    "hard working",
    "hardworking",
    "self motivated",
    "self-motivated",
    "detail oriented",
    "detail-oriented",
    "results-oriented",
    "results oriented",
    "strong work ethic",
    "quick learner",
    "fast learner",
    "reliable",
    "dependable",
    "punctual",
    "flexible",
    "organized",
    "motivated",
    "honest",
    "professional",
    "excellent",
    "good",
    "proficient",
    "strong",
    "ms",
    "microsoft",
    "and",
    "others",
    "etc",
    "company",
    "description",
    "duration",
    "client",
    "team",
}
_SPLIT = re.compile(r"\s*(?:[,;•●▪◦|·]|\s-\s|\s–\s|:)\s*")
_UPDATED_SKILL = re.compile(r"^(.*?)\s*-\s*Exp?e?rience\s*-", re.IGNORECASE)
_BAD_CHARS = re.compile(r"[0-9@/\\()\[\]{}<>=$%]")
_WORD = re.compile(r"[a-z0-9+#.]+")


def normalise_phrase(text: str) -> str:
    return " ".join(_WORD.findall(text.lower())).strip(". ")


def candidate_phrases(cv_text: str) -> set[str]:
    """Short phrases listed in a CV's skills sections, normalised."""
    found: set[str] = set()
    in_skills = False
    for raw in cv_text.split("\n"):
        line = raw.strip()
        header = line.lower().rstrip(":").strip()
        if header in SECTION_HEADERS:
            in_skills = True
            continue
        if header in OTHER_HEADERS:
            in_skills = False
            continue
        updated = _UPDATED_SKILL.match(line)
        if updated:
            pieces: Iterable[str] = [updated.group(1)]
        elif in_skills:
            pieces = _SPLIT.split(line)
        else:
            continue
        for piece in pieces:
            if _BAD_CHARS.search(piece):
                continue
            phrase = normalise_phrase(piece).removesuffix(" experience")
            words = phrase.split()
            if not 1 <= len(words) <= 4 or not 2 <= len(phrase) <= 40:
                continue
            if phrase in NOT_SKILLS or all(w in NOT_SKILLS for w in words):
                continue
            found.add(phrase)
    return found


@dataclass
class SkillLexicon:
    """Phrases with their document frequency, and each category's most distinctive phrases."""

    doc_freq: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, list[str]] = field(default_factory=dict)
    n_docs: int = 0

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        min_df: int = 4,
        min_category_df: int = 3,
        per_category: int = 25,
    ) -> SkillLexicon:
        overall: Counter[str] = Counter()
        per_cat: dict[str, Counter[str]] = defaultdict(Counter)
        cat_sizes: Counter[str] = Counter(labels)
        for text, label in zip(texts, labels, strict=True):
            phrases = candidate_phrases(text)
            overall.update(phrases)
            per_cat[label].update(phrases)
        doc_freq = {p: n for p, n in overall.items() if n >= min_df}
        n = len(texts)
        by_category: dict[str, list[str]] = {}
        for label, counts in per_cat.items():
            scored = []
            for phrase, df_c in counts.items():
                if phrase not in doc_freq or df_c < min_category_df:
                    continue
                share = df_c / cat_sizes[label]
                lift = share / (doc_freq[phrase] / n)
                if lift < 1.5:
                    continue
                scored.append((share * math.log(lift), phrase))
            scored.sort(key=lambda s: (-s[0], s[1]))
            by_category[label] = [p for _, p in scored[:per_category]]
        return cls(dict(sorted(doc_freq.items())), dict(sorted(by_category.items())), n)

    def save(self, path: Path) -> None:
        payload = {
            "n_docs": self.n_docs,
            "doc_freq": self.doc_freq,
            "by_category": self.by_category,
        }
        path.write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> SkillLexicon:
        payload = json.loads(path.read_text())
        return cls(payload["doc_freq"], payload["by_category"], payload["n_docs"])

    def find_in(self, text: str, *, limit: int = 20) -> list[str]:
        """Lexicon phrases that occur in ``text`` (a JD), rarest-first so specific skills lead."""
        norm = " " + normalise_phrase(text) + " "
        words = norm.split()
        grams: set[str] = set()
        for size in range(1, 5):
            for i in range(len(words) - size + 1):
                grams.add(" ".join(words[i : i + size]))
        hits = [p for p in grams if p in self.doc_freq and p not in JD_NOT_SKILLS]
        # Drop phrases contained in a longer hit ("data" when "data analysis" matched).
        hits = [p for p in hits if not any(p != q and f" {p} " in f" {q} " for q in hits)]
        hits.sort(key=lambda p: (self.doc_freq[p], p))
        return hits[:limit]


#: Words a few CVs list under "skills" but every JD uses as prose: matching them on a JD made
#: "to" and "requirements" the evidence for a verdict.
JD_NOT_SKILLS = frozenset(ENGLISH_STOP_WORDS) | frozenset({
    "work", "working", "develop", "development", "requirements", "responsibilities", "detail",
    "details", "techniques", "experience", "skills", "ability", "team", "role", "job", "duties",
    "benefits", "support", "knowledge", "excellent", "strong", "good", "new", "including",
    "environment", "opportunity", "candidate", "company", "position", "years", "year",
    "understanding", "required", "preferred", "ensure", "provide", "related", "various",
})


def contains_phrase(normalised_text: str, phrase: str) -> bool:
    """Whole-word phrase test on text prepared with :func:`prepare_text`."""
    return f" {phrase} " in normalised_text


def prepare_text(text: str) -> str:
    return " " + normalise_phrase(text) + " "
