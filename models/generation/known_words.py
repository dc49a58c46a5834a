"""The known-word constraint: the decoder may only spell words that exist.

A 5 M-parameter BPE model glues fragments into non-words ("Developspecific", "Miguration").
A word is *known* when English's word-frequency list (``wordfreq``, the large list) has it, or the
training corpus / the draft's grounding (task statements, skills, the user's terms) uses it. While
sampling, a candidate token is dropped when the word it would complete is unknown, or when the
letters it starts could not begin any known word, so the next-best token is drawn instead: the
word is resampled, never shown.

Prefix tests run on one sorted list with :mod:`bisect` (no set of every prefix: that would hold
millions of strings).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
#: Letters of a word: apostrophes stay inside ("don't"); hyphens, digits and punctuation split.
_LETTER = re.compile(r"[A-Za-z']")
MIN_CORPUS_COUNT = 3


def words_in(text: str) -> list[str]:
    return [w.strip("'").lower() for w in _WORD.findall(text) if w.strip("'")]


#: The decoder spells only words at least this common (Zipf scale: 2.3 is about once per 200 M
#: words); wordfreq's long tail holds web fragments such as "attri" and "curer".
DECODER_MIN_ZIPF = 2.3
DECODER_MIN_CORPUS_COUNT = 10


@lru_cache(maxsize=4)
def english_words(min_zipf: float = 0.0) -> frozenset[str]:
    """wordfreq's large English list (words at least ``min_zipf`` common), lower-case."""
    import math

    import wordfreq

    floor = 10 ** (min_zipf - 9) if min_zipf > 0 else 0.0
    return frozenset(w for w, f in wordfreq.get_frequency_dict("en", "large").items()
                     if f >= floor and w.replace("'", "").isalpha() and not math.isnan(f))


def corpus_word_counts(texts: Iterable[str], min_count: int = MIN_CORPUS_COUNT
                       ) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_in(text))
    return {w: n for w, n in counts.items() if n >= min_count and len(w) > 1}


class Vocabulary:
    """Known words, with a fast "can a known word start with these letters?" test.

    :meth:`extended` adds a draft's own words (its title, terms, grounding) as a small second
    list, so the big sorted list is built once per process.
    """

    def __init__(self, words: Iterable[str], *, _base: Vocabulary | None = None):
        self.base = _base
        self.words = {w.lower() for w in words if w}
        self._sorted = sorted(self.words)

    def extended(self, extra: Iterable[str]) -> Vocabulary:
        new = {w.lower() for w in extra if w} - self.words
        return Vocabulary(new, _base=self) if new else self

    def __contains__(self, word: str) -> bool:
        word = word.lower().strip("'")
        if len(word) <= 1 or word in self.words:
            return True
        return self.base is not None and word in self.base

    def is_prefix(self, letters: str) -> bool:
        letters = letters.lower()
        if not letters:
            return True
        i = bisect.bisect_left(self._sorted, letters)
        if i < len(self._sorted) and self._sorted[i].startswith(letters):
            return True
        return self.base is not None and self.base.is_prefix(letters)

    def unknown_words(self, text: str) -> list[str]:
        return [w for w in words_in(text) if w not in self]


def split_token(text: str) -> tuple[str, bool, str]:
    """A token's text as (letters that continue the current word, whether the word ends inside
    the token, letters of the word the token starts)."""
    i = 0
    while i < len(text) and _LETTER.match(text[i]):
        i += 1
    head = text[:i]
    if i == len(text):
        return head, False, ""
    j = len(text)
    while j > i and _LETTER.match(text[j - 1]):
        j -= 1
    return head, True, text[j:]


class TokenChecker:
    """Per-token precomputation, so each step tests up to 160 candidates (usually a handful:
    the first top-k known ones end the search) in microseconds."""

    def __init__(self, token_texts: list[str], vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        self.parts = [split_token(t) for t in token_texts]
        # Tokens with letters in the middle (" e.g." -> "e", "g") would need a word test per
        # inner word; the few that exist are checked in full in :meth:`allowed`.
        self.inner = [_inner_words(t) for t in token_texts]

    def allowed(self, partial: str, token: int, vocabulary: Vocabulary | None = None) -> bool:
        """May ``token`` follow text whose unfinished last word is ``partial``?"""
        vocab = vocabulary if vocabulary is not None else self.vocabulary
        head, ends, tail = self.parts[token]
        word = partial + head
        if ends:
            if word and word not in vocab:
                return False
            for inner in self.inner[token]:
                if inner not in vocab:
                    return False
            return vocab.is_prefix(tail.rstrip("'"))
        return vocab.is_prefix(word.rstrip("'"))  # "patients'" is "patients" and its mark

    @staticmethod
    def advance(partial: str, token_text: str) -> str:
        """The unfinished last word after appending a token."""
        head, ends, tail = split_token(token_text)
        return tail if ends else partial + head


def _inner_words(text: str) -> tuple[str, ...]:
    """Whole words strictly inside a token (neither its first nor its last letter run)."""
    runs = re.findall(r"[A-Za-z']+", text)
    if len(runs) <= 2:
        starts_word = bool(text) and bool(_LETTER.match(text[0]))
        ends_word = bool(text) and bool(_LETTER.match(text[-1]))
        inner = runs[1 if starts_word else 0: len(runs) - (1 if ends_word else 0)]
    else:
        inner = runs[1:-1]
    return tuple(w.lower() for w in inner if len(w.strip("'")) > 1)


def corpus_counts() -> dict[str, int]:
    """Words of the training postings used at least three times, with their counts (written
    with the occupation index by ``hirebot data occupations``)."""
    from models.common.occupations import OCCUPATIONS_DIR

    path = OCCUPATIONS_DIR / "corpus_words.tsv"
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        if word and count.isdigit():
            out[word] = int(count)
    return out


@lru_cache(maxsize=2)
def known_vocabulary(strict: bool = True) -> Vocabulary:
    """The words a draft may contain.

    ``strict`` (the decoder): common English words and words the postings use 10+ times.
    Otherwise (the evaluation's measure, as the issue defines an invented word): any word of
    wordfreq's list, or one the postings use 3+ times.
    """
    if strict:
        words = set(english_words(DECODER_MIN_ZIPF))
        words.update(w for w, n in corpus_counts().items() if n >= DECODER_MIN_CORPUS_COUNT)
    else:
        words = set(english_words())
        words.update(w for w, n in corpus_counts().items() if n >= MIN_CORPUS_COUNT)
    return Vocabulary(words)
