"""Choosing the next token: top-k / top-p in numpy, a sparse repetition penalty, an n-gram
ban and an inverse-CDF draw from a seeded generator (no multinomial kernel)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Decoding:
    """Sampling settings; :meth:`naive` is the lineage's plain sampling with no safeguards."""

    top_k: int = 40
    top_p: float = 0.9
    temperature: float = 0.8
    no_repeat_ngram: int = 4
    repetition_penalty: float = 1.15
    penalty_window: int = 64
    min_new_tokens: int = 60
    scrub_contacts: bool = True
    #: Logit bonus for the title's words and its family's words, each until it is written once
    #: (so the bonus widens the vocabulary instead of repeating one word).
    title_boost: float = 3.0
    opener: bool = True  # start with a sentence that names the title (varies with the seed)
    sections: tuple[str, ...] = ("Responsibilities", "Requirements", "Benefits")
    opening_tokens: int = 60  # the opening paragraph ends at a blank line or this many tokens
    section_tokens: int = 70
    #: Write from the occupation's facts (models.generation.grounded); False is the old
    #: section-by-section free writing, kept for comparison in the evaluation.
    grounded: bool = True

    @classmethod
    def naive(cls) -> Decoding:
        return cls(temperature=1.0, no_repeat_ngram=0, repetition_penalty=1.0,
                   min_new_tokens=0, scrub_contacts=False, title_boost=0.0, opener=False,
                   sections=(), grounded=False)

    @classmethod
    def free(cls) -> Decoding:
        """The previous release's decoding: safeguards, but no grounding."""
        return cls(grounded=False)



@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` for a block (the worker runs one job at a
    time, so the process-wide setting is safe to borrow)."""
    old = torch.get_num_threads()
    change = bool(n) and n != old
    if change:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(old)


class _RecentPenalty:
    """CTRL-style repetition penalty over each row's last ``penalty_window`` generated tokens.

    Only the tokens in a row's window are touched (at most ``penalty_window`` of them), so
    applying it costs a gather and a scatter of a few dozen scores instead of passes over the
    whole vocabulary at every step.
    """

    def __init__(self, rows: int, decoding: Decoding, exempt: frozenset[int]):
        self.counts: list[dict[int, int]] = [{} for _ in range(rows)]
        self.windows: list[list[int]] = [[] for _ in range(rows)]
        self.size = decoding.penalty_window
        self.penalty = decoding.repetition_penalty
        self.exempt = exempt

    def add(self, row: int, token: int) -> None:
        window, counts = self.windows[row], self.counts[row]
        window.append(token)
        if token not in self.exempt:
            counts[token] = counts.get(token, 0) + 1
        if len(window) > self.size:
            old = window.pop(0)
            if old not in self.exempt:
                counts[old] -= 1
                if not counts[old]:
                    del counts[old]

    def apply(self, scores: np.ndarray) -> None:
        for row, counts in enumerate(self.counts):
            if counts:
                ids = np.fromiter(counts, dtype=np.intp, count=len(counts))
                seen = scores[row, ids]
                scores[row, ids] = np.where(seen > 0, seen / self.penalty, seen * self.penalty)


def _top_k_top_p(scores: np.ndarray, top_k: int, top_p: float,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The top-k / nucleus candidates of each row: (probabilities, token ids), both rows x k.

    Working on the k best tokens only (``topk`` returns them sorted) gives exactly the
    distribution of masking the full vocabulary, without sorting and scattering all of it at
    every step.
    """
    k = top_k if top_k and top_k < scores.shape[-1] else scores.shape[-1]
    values, ids = torch.topk(torch.from_numpy(scores), k, dim=-1)
    values, ids = values.numpy(), ids.numpy()
    probs = np.exp(values - values[:, :1])
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p < 1.0:
        before = probs.cumsum(axis=-1) - probs  # mass of the better candidates
        probs[before >= top_p] = 0.0
    return probs, ids


def _draw(probs: np.ndarray, rng: np.random.Generator) -> int:
    """Index of one draw from unnormalised ``probs`` (inverse CDF: one uniform, no kernel)."""
    cumulative = probs.cumsum()
    total = cumulative[-1]
    if not (np.isfinite(total) and total > 0):  # NaN logits, or every candidate masked
        raise ValueError("no token can be sampled (the model's scores are not finite)")
    pick = int(np.searchsorted(cumulative, rng.random() * total, side="right"))
    return min(pick, len(probs) - 1)


class NgramBan:
    """Tracks every token n-gram of each row; bans the token that would repeat one."""

    def __init__(self, n: int, rows: int):
        self.n = n
        self.seen: list[dict[tuple[int, ...], set[int]]] = [{} for _ in range(rows)]

    def update(self, row: int, tokens: list[int]) -> None:
        if self.n and len(tokens) >= self.n:
            key = tuple(tokens[-self.n:-1])
            self.seen[row].setdefault(key, set()).add(tokens[-1])

    def banned(self, row: int, tokens: list[int]) -> set[int]:
        if not self.n or len(tokens) < self.n - 1:
            return set()
        return self.seen[row].get(tuple(tokens[-(self.n - 1):]), set())
