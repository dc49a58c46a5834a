"""Constructed CV-JD pairs for the matcher, from ../shared/data alone.

A posting's categories come from its title: the category phrases it names ("Java Developer"
names java), and otherwise the occupation the resolver maps the title to, when a category's own
names resolve to the same occupation. A CV's positives are postings of its category; its
negatives are postings of none of its categories; its *hard* negatives are negatives whose
occupation sits in the same SOC major group as the category's (a Python Developer ad for a
Java Developer's CV, a Civil Engineer ad for a Mechanical Engineer's). CVs are split into
train / calibration / test by a hash of the text, so no scored CV trained the weights.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.generation.postings import Posting
from models.screening.taxonomy import CATEGORIES, category_phrases

SPLITS = ("train", "calibration", "test")


def split_of(text: str) -> str:
    """70 / 15 / 15 by a hash of the text: stable across runs and machines."""
    bucket = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "calibration" if bucket < 85 else "test"


def _phrase_pattern(phrase: str) -> re.Pattern:
    return re.compile(rf"(?<![\w.+#]){re.escape(phrase.lower())}(?![\w+#])")


@dataclass
class CategoryMap:
    """Category ids of posting titles, and each category's occupations (O*NET codes)."""

    codes: dict[str, set[str]]
    patterns: dict[str, list[re.Pattern]] = field(default_factory=dict)

    @classmethod
    def build(cls, resolver) -> CategoryMap:
        codes: dict[str, set[str]] = {}
        patterns: dict[str, list[re.Pattern]] = {}
        for category in CATEGORIES:
            phrases = category_phrases(category.id)
            found = resolver.resolve_many(list(phrases))
            codes[category.id] = {r.code for r in found if r.code is not None}
            patterns[category.id] = [_phrase_pattern(p) for p in phrases if len(p) > 1]
        return cls(codes, patterns)

    def categories_of(self, title: str, code: str | None) -> set[str]:
        lowered = title.lower()
        named = {c for c, pats in self.patterns.items() if any(p.search(lowered) for p in pats)}
        if named:
            return named
        return {c for c, codes in self.codes.items() if code in codes} if code else set()

    def major_groups(self, category: str) -> set[str]:
        return {code[:2] for code in self.codes.get(category, ())}


@dataclass
class PairSet:
    cv_texts: list[str]
    cv_labels: list[str]
    cv_splits: list[str]
    jd_texts: list[str]
    jd_titles: list[str]
    jd_categories: list[set[str]]
    jd_codes: list[str | None]
    triples: dict[str, list[tuple[int, int, int]]]   # split -> (cv, better jd, worse jd)
    hard: dict[str, list[tuple[int, int, int]]]      # the triples whose worse jd is hard
    labelled: dict[str, list[tuple[int, int, int]]]  # split -> (cv, jd, 1 or 0)

    def summary(self) -> dict:
        return {"cvs": {s: self.cv_splits.count(s) for s in SPLITS},
                "postings": len(self.jd_texts),
                "triples": {s: len(v) for s, v in self.triples.items()},
                "hard_negative_triples": {s: len(v) for s, v in self.hard.items()}}


def sample_postings(postings: Sequence[Posting], category_map: CategoryMap, resolver, *,
                    per_category: int = 60, seed: int = 0) -> list[tuple[Posting, set[str],
                                                                            str | None]]:
    """Up to ``per_category`` postings per category (distinct titles first), with categories."""
    pool = [p for p in postings if 40 <= len(p.description.split())]
    resolved = resolver.resolve_many([p.title for p in pool])
    by_category: dict[str, list[int]] = defaultdict(list)
    tagged = []
    for i, (posting, resolution) in enumerate(zip(pool, resolved, strict=True)):
        cats = category_map.categories_of(posting.title, resolution.code)
        tagged.append((posting, cats, resolution.code))
        for c in cats:
            by_category[c].append(i)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for category in sorted(by_category):
        members = by_category[category]
        rng.shuffle(members)
        seen_titles: set[str] = set()
        ordered = [i for i in members if not (pool[i].title.lower() in seen_titles
                                              or seen_titles.add(pool[i].title.lower()))]
        chosen.update(ordered[:per_category])
    # postings of no category are negatives for every CV: a few hundred of them too
    rest = [i for i, (_, cats, _) in enumerate(tagged) if not cats]
    rng.shuffle(rest)
    chosen.update(rest[:per_category * 4])
    return [tagged[i] for i in sorted(chosen)]


def build_pairs(cv_texts: Sequence[str], cv_labels: Sequence[str],
                postings: Sequence[tuple[Posting, set[str], str | None]],
                category_map: CategoryMap, *, positives: int = 2, negatives: int = 2,
                hard_negatives: int = 2, seed: int = 0) -> PairSet:
    rng = random.Random(seed)
    jd_categories = [cats for _, cats, _ in postings]
    jd_codes = [code for _, _, code in postings]
    by_category: dict[str, list[int]] = defaultdict(list)
    for j, cats in enumerate(jd_categories):
        for c in cats:
            by_category[c].append(j)
    all_jds = list(range(len(postings)))
    triples: dict[str, list] = {s: [] for s in SPLITS}
    hard: dict[str, list] = {s: [] for s in SPLITS}
    labelled: dict[str, list] = {s: [] for s in SPLITS}
    splits = [split_of(t) for t in cv_texts]
    for i, (label, split) in enumerate(zip(cv_labels, splits, strict=True)):
        pos_pool = by_category.get(label, [])
        if not pos_pool:
            continue
        groups = category_map.major_groups(label)
        hard_pool = [j for j in all_jds if label not in jd_categories[j] and jd_codes[j]
                     and jd_codes[j][:2] in groups]
        easy_pool = [j for j in all_jds if label not in jd_categories[j]]
        pos = rng.sample(pos_pool, min(positives, len(pos_pool)))
        hard_neg = rng.sample(hard_pool, min(hard_negatives, len(hard_pool)))
        easy_neg = rng.sample(easy_pool, min(negatives, len(easy_pool)))
        for p in pos:
            labelled[split].append((i, p, 1))
            for n in hard_neg:
                triples[split].append((i, p, n))
                hard[split].append((i, p, n))
            for n in easy_neg:
                triples[split].append((i, p, n))
        for n in hard_neg + easy_neg:
            labelled[split].append((i, n, 0))
    return PairSet(list(cv_texts), list(cv_labels), splits,
                   [f"{p.title}\n{p.description}" for p, _, _ in postings],
                   [p.title for p, _, _ in postings], jd_categories, jd_codes, triples, hard,
                   labelled)
