"""A copy distribution over retrieved statements, mixed into the model's next-token distribution
(the pointer-generator / kNN-LM idea).

At a line start, the first tokens of the statements not yet used are favoured (each weighted by
how much the model itself likes it, so the model chooses which statement to start); once a line
has started like a statement, that statement's next token is favoured, so a bullet comes out
whole. The model keeps part of the mass at every step: it may insert or drop a word (the
alignment follows such light edits), leave the statement, and it writes the text between. A
statement is used up once a line has reproduced most of it, so no list repeats an item.

Terms (skills, the user's ``must`` words) are copied the same way inside a line: at a word start
their first token is favoured and, once started, the rest of the term follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Share of the probability mass the copy distribution gets while a statement is being copied
#: (at a line start, and while the line stays aligned with one), and the model's share of the
#: choice among statement starts (its probabilities, to this power, weight each start).
COPY_WEIGHT = 0.98
START_SHARPNESS = 0.5
MAX_EDITS = 3  # a line that departs from a statement more than this stops copying it
USED_SHARE = 0.6  # a line that reproduced this share of a statement uses it up


@dataclass
class CopySource:
    """Statements as token ids, each ending with the newline token.

    While a line is written, each statement it started with stays *aligned*: a pointer to the
    statement's next token, moved on when the model writes that token (or the one after it: a
    dropped word), and left in place when the model writes something else (an inserted word).
    A statement departed from more than ``MAX_EDITS`` times is dropped for this line; with none
    left, the model writes the rest of the line alone.
    """

    statements: list[list[int]]
    priors: list[float]
    newline: int
    used: set[int] = field(default_factory=set)
    line: list[int] = field(default_factory=list)
    aligned: dict[int, tuple[int, int]] = field(default_factory=dict)  # j -> (next pos, edits)

    def distribution(self, model_probs: np.ndarray | None = None,
                     inside_word: frozenset[int] | None = None
                     ) -> tuple[float, dict[int, float]]:
        """(weight of the copy distribution, token -> copy probability) for the next token.

        ``inside_word``: tokens that continue a word; when every aligned statement goes on
        with one, the copy takes all the mass, so no edit ever splits a word ("PastraMi").
        """
        scores: dict[int, float] = {}
        if not self.line:
            for j in range(len(self.statements)):
                if j in self.used:
                    continue
                first = self.statements[j][0]
                liking = 1.0 if model_probs is None else \
                    float(model_probs[first] + 1e-6) ** START_SHARPNESS
                scores[first] = scores.get(first, 0.0) + self.priors[j] * liking
            return (COPY_WEIGHT, _normalise(scores)) if scores else (0.0, {})
        for j, (pos, edits) in self.aligned.items():
            tokens = self.statements[j]
            if pos < len(tokens):
                weight = self.priors[j] * (0.5 ** edits)
                scores[tokens[pos]] = scores.get(tokens[pos], 0.0) + weight
        if not scores:
            return 0.0, {}
        if set(scores) == {self.newline}:  # the statement is complete: so is the line
            return 1.0, {self.newline: 1.0}
        if inside_word is not None and all(t in inside_word for t in scores):
            return 1.0, _normalise(scores)
        return COPY_WEIGHT, _normalise(scores)

    def append(self, token: int) -> None:
        """Record a token of the current line and move each alignment on."""
        if not self.line:
            self.aligned = {j: (1, 0) for j in range(len(self.statements))
                            if j not in self.used and self.statements[j][0] == token}
        else:
            exact, edited = {}, {}
            for j, (pos, edits) in self.aligned.items():
                tokens = self.statements[j]
                if pos < len(tokens) and tokens[pos] == token:
                    exact[j] = (pos + 1, edits)
                elif pos + 1 < len(tokens) and tokens[pos + 1] == token:
                    edited[j] = (pos + 2, edits + 1)  # the model dropped a word
                elif edits + 1 <= MAX_EDITS:
                    edited[j] = (pos, edits + 1)  # the model inserted a word
            # A statement the line still follows word for word wins over edited ones, so two
            # statements that start alike ("Experience with" / "Experience as") never mix.
            self.aligned = exact or edited
        self.line.append(token)

    @property
    def copying(self) -> bool:
        return bool(self.aligned) or not self.line

    def close_line(self) -> None:
        if self.line:
            line = set(self.line)
            for j, tokens in enumerate(self.statements):
                body = tokens[:-1]
                if j not in self.used and body and \
                        sum(t in line for t in body) / len(body) >= USED_SHARE:
                    self.used.add(j)
        self.line = []
        self.aligned = {}


@dataclass
class TermCopier:
    """Copies whole terms ("Python", "Microsoft Excel") inside lines; tracks which appeared."""

    terms: list[list[int]]  # each term's tokens as spelt after a space
    bonus: list[float]  # logit bonus for starting the term
    covered: set[int] = field(default_factory=set)
    active: tuple[int, int] | None = None  # (term, next position) while a term is being copied

    def forced(self) -> int | None:
        if self.active is None:
            return None
        j, pos = self.active
        return self.terms[j][pos]

    def starts(self) -> dict[int, float]:
        """First tokens of uncovered terms, with their bonus (at a word start only)."""
        out: dict[int, float] = {}
        for j, tokens in enumerate(self.terms):
            if j not in self.covered and tokens:
                out[tokens[0]] = max(out.get(tokens[0], 0.0), self.bonus[j])
        return out

    def feed(self, token: int) -> None:
        if self.active is not None:
            j, pos = self.active
            pos += 1
            self.active = None if pos >= len(self.terms[j]) else (j, pos)
            if self.active is None:
                self.covered.add(j)
            return
        for j, tokens in enumerate(self.terms):
            if j not in self.covered and tokens and tokens[0] == token:
                if len(tokens) == 1:
                    self.covered.add(j)
                else:
                    self.active = (j, 1)
                return

    def note_text(self, text_lower: str, spelled: list[str]) -> None:
        """Terms the model wrote on its own count as covered too."""
        for j, term in enumerate(spelled):
            if j not in self.covered and term.lower() in text_lower:
                self.covered.add(j)


def _normalise(scores: dict[int, float]) -> dict[int, float]:
    total = sum(scores.values())
    return {t: s / total for t, s in scores.items()} if total > 0 else {}
