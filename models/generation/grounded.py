"""Grounded decoding: the model writes a JD from retrieved facts, section by section.

Per draft (a row of the batch):

* **Opening**: a sentence naming the title and the user's location / remote words (forced), then
  the model writes on, with the occupation's summary as a copy source ("You will ...").
* **Responsibilities**: one line per duty; the copy distribution over the occupation's task
  statements and the team's approved lines (:mod:`models.generation.copying`) is mixed into the
  model's distribution, so the model picks a statement, copies it and may edit it.
* **Requirements**: candidate lines state the request's ``must`` / ``nice`` terms, the
  occupation's typical skills and tasks the duties did not use (as abilities); the model picks
  and edits them the same way. Must / nice terms are also copied whole wherever the model
  writes one itself, and the section cannot end before every must term appeared.
* Benefits and the equal-opportunity statement come from the company profile at render time.

At every sampled step three constraints hold: the known-word constraint
(:mod:`models.generation.known_words`), sentence-final stopping (a line or section may end only
where a sentence or bullet ends: not after "and", "of", "(e.g.", an open bracket or a comma),
and a small penalty on gender-coded words (:mod:`models.generation.inclusive`).

Each draft gets a score for best-of-n ranking (:func:`rank_score`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from models.generation.copying import CopySource, TermCopier
from models.generation.grounding import Grounding, article, join_terms
from models.generation.inclusive import coded_stem
from models.generation.known_words import TokenChecker, Vocabulary, words_in

CANDIDATES = 160  # tokens examined per step before the top-k / top-p cut
LINE_TOKENS = 48  # with LINE_OVERRUN, the most tokens a line may run
LINE_OVERRUN = 24  # past LINE_TOKENS + this, the line is closed and dropped at render time
OPENING_TOKENS = 70
CODED_PENALTY = 2.5
FREE_LINE_END_BONUS = 4.0
REQUIREMENTS_RESERVE = 130  # tokens kept for Requirements
MUST_RESERVE = 40  # tokens kept for the must terms' line
MUST_BONUS, NICE_BONUS = 6.0, 3.5
DANGLING = frozenset("""a an the and or of to with for in on at by from as into such including
like via than that which who whose whom your our their its is are be will can may must should
e.g i.e eg ie etc. per plus nor but if when while within across between both either""".split())
_DANGLING_BARE = frozenset(d.rstrip(".") for d in DANGLING)
OPENERS = (
    "We are looking for {a} {title} to join our team{where}.",
    "We are recruiting {a} {title}{where}.",
    "An exciting opportunity has arisen for {a} {title} to join our team{where}.",
    "We are hiring {a} {title}{where}.",
)


def line_is_complete(line: str, *, sentence: bool = False) -> bool:
    """May a line (a bullet, or with ``sentence`` a paragraph) end here?"""
    text = line.strip()
    if not text:
        return False
    if text.count("(") > text.count(")") or text.count("[") > text.count("]"):
        return False
    if text[-1] in ",;:-/&(+–—":
        return False
    if sentence:
        return text[-1] in ".!?"
    if text[-1] in ".!?" and not re.search(r"\b(e\.g|i\.e|eg|ie)\.$", text, re.IGNORECASE):
        return len(text.split()) >= 3  # a full stop ends it, whatever the word before
    last = re.findall(r"[A-Za-z.]+$", text)
    if last and last[0].lower().rstrip(".") in _DANGLING_BARE:
        return False
    return len(text.split()) >= 3


@dataclass
class RowState:
    grounding: Grounding
    seed: int
    part: str = "opening"  # opening -> responsibilities -> requirements -> done
    queue: list[int] = field(default_factory=list)
    text: str = ""  # everything generated so far, this row (per-token text: for the rules)
    ids: list[int] = field(default_factory=list)  # the same as token ids (decoded to render)
    line: str = ""  # the current line's text
    line_tokens: int = 0
    part_tokens: int = 0
    lines_in_part: int = 0
    target_lines: int = 5
    partial: str = ""  # the unfinished last word
    copy: CopySource | None = None
    terms: TermCopier | None = None
    term_spelling: list[str] = field(default_factory=list)
    logprob: float = 0.0
    sampled: int = 0
    scored: int = 0  # sampled tokens the model gave a probability (the fluency average's n)
    cut_lines: int = 0  # lines closed by the hard cap (dropped when rendered)
    cut_texts: list[str] = field(default_factory=list)
    dropped_lines: list[str] = field(default_factory=list)  # removed by the render guard
    vocabulary: Vocabulary | None = None  # known words plus this draft's own

    @property
    def done(self) -> bool:
        return self.part == "done"


class GroundedPlanner:
    """Builds each row's plan and applies the per-step rules; shared by the rows of a batch."""

    def __init__(self, generator, vocabulary: Vocabulary):
        self.generator = generator
        self.tokenizer = generator.tokenizer
        self.token_text: list[str] = generator.token_text
        self.newline = self._ids("\n")[0]
        self.vocabulary = vocabulary
        self.checker = TokenChecker(self.token_text, vocabulary)
        self.newline_tokens = np.array([i for i, t in enumerate(self.token_text) if "\n" in t],
                                       dtype=np.intp)
        coded = np.zeros(len(self.token_text), dtype=np.float32)
        for i, text in enumerate(self.token_text):
            word = text.strip()
            if text[:1] in " \n" and word.isalpha() and len(word) >= 3 and coded_stem(word):
                coded[i] = CODED_PENALTY
        self.coded = coded
        #: Tokens that go on with the word before them (no leading space or punctuation).
        self.inside_word = frozenset(i for i, t in enumerate(self.token_text)
                                     if t[:1].isalpha() or t[:1] == "'")

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    # ------------------------------------------------------------------ plan
    def start(self, grounding: Grounding, seed: int) -> RowState:
        request = grounding.request
        state = RowState(grounding=grounding, seed=seed)
        state.vocabulary = self.vocabulary.extended(words_in(" ".join(
            [request.title, request.location, *request.must, *request.nice, grounding.summary,
             *grounding.esco_clauses, *grounding.duties, *grounding.requirements,
             *grounding.skills])))
        where = f" {request.where}" if request.where else ""
        title = f"{request.title} ({request.context})" if request.context else request.title
        team = "our team"
        if grounding.profile is not None and grounding.profile.name:
            team = grounding.profile.name
        opener = OPENERS[seed % len(OPENERS)].format(a=article(request.title), title=title,
                                                     where=where).replace("our team", team)
        state.queue = self._ids(opener)
        sources, priors = [], []
        clauses = grounding.esco_clauses
        if clauses:  # the ESCO definition names this very title: it leads
            text = f" You will {clauses[0]}." + "".join(f" You will also {c}."
                                                         for c in clauses[1:])
            sources.append(self._ids(text) + [self.newline])
            priors.append(1.0)
        if grounding.summary:
            sources.append(self._ids(f" You will {grounding.summary}.") + [self.newline])
            priors.append(0.5 if clauses else 1.0)
            sources.append(self._ids(f" In this role you will {grounding.summary}.")
                           + [self.newline])
            priors.append(0.3 if clauses else 0.8)
        state.copy = CopySource(sources, priors, self.newline) if sources else None
        if not sources:  # nothing known to say about the work: the opener stands alone
            state.queue.append(self.newline)
        return state

    def _enter(self, state: RowState, part: str) -> None:
        g = state.grounding
        lead = "\n" if state.text.endswith("\n") else "\n\n"
        if state.text.endswith("\n\n"):
            lead = ""
        heading = {"responsibilities": "Responsibilities:", "requirements": "Requirements:"}
        state.part = part
        state.part_tokens = 0
        state.lines_in_part = 0
        state.copy = None
        state.terms = None
        if part == "done":
            return
        state.queue = self._ids(f"{lead}{heading[part]}\n")
        if part == "responsibilities":
            duties = g.duties
            if duties:
                ids = [self._ids(d) + [self.newline] for d in duties]
                priors = [0.85 ** i for i in range(len(ids))]
                state.copy = CopySource(ids, priors, self.newline)
            state.target_lines = min(len(duties), 5 + state.seed % 3) if duties else 4
        else:
            reqs = g.requirements
            if reqs:
                ids = [self._ids(r) + [self.newline] for r in reqs]
                priors = [1.0 if i == 0 and g.request.must else 0.8 ** i for i in range(len(ids))]
                state.copy = CopySource(ids, priors, self.newline)
            # Skills come through the copied lines; must / nice terms are also copied whole
            # wherever the model writes them, and must ones get a bonus at every word start.
            terms = list(dict.fromkeys([*g.request.must, *g.request.nice]))
            bonus = [MUST_BONUS if t in g.request.must else NICE_BONUS for t in terms]
            state.terms = TermCopier([self._ids(f" {t}") for t in terms], bonus)
            state.term_spelling = terms
            state.target_lines = min(len(reqs), 4 + state.seed % 3) if reqs else 3

    def forced(self, state: RowState) -> tuple[int | None, str | None]:
        """The next token when the plan decides it, and why ("queue" or "term")."""
        if state.queue:
            return state.queue.pop(0), "queue"
        if state.terms is not None and state.terms.forced() is not None:
            return state.terms.forced(), "term"
        return None, None

    # ------------------------------------------------------------------ scoring one step
    def choose(self, state: RowState, logits: np.ndarray, rng: np.random.Generator, *,
               top_k: int, top_p: float, banned: set[int]) -> int:
        """Mix, constrain and draw the next token of one row."""
        scores = logits - self.coded
        if banned:
            scores[list(banned)] = -np.inf
        scores[self.generator.eos_id] = -np.inf  # the plan ends a draft, never the model
        line_may_end = line_is_complete(state.line, sentence=state.part == "opening")
        if not line_may_end:
            scores[self.newline_tokens] = -np.inf
        copying = state.copy is not None and state.copy.copying and bool(state.copy.aligned)
        if state.terms is not None and state.line.strip() and not copying:
            # inside a line the model writes itself, must / nice terms may start anywhere
            for token, bonus in state.terms.starts().items():
                scores[token] += bonus
        free_line = state.copy is not None and state.line.strip() and not state.copy.copying
        if free_line and line_may_end and len(state.line.split()) >= 6:
            scores[self.newline] += FREE_LINE_END_BONUS  # off every statement: finish soon
        shift = scores.max()
        probs = np.exp(scores - shift)
        probs /= probs.sum()
        model_probs = probs
        copy: dict[int, float] = {}
        if state.copy is not None:
            weight, copy = state.copy.distribution(model_probs, self.inside_word)
            if not line_may_end:  # a statement's end is a line end; the line must be whole
                copy = {t: p for t, p in copy.items() if "\n" not in self.token_text[t]}
            if copy and weight:
                # Copying a statement is not a loop: its tokens are exempt from the n-gram ban
                # (each statement is used once, so nothing repeats).
                total = sum(copy.values())
                probs = probs * (1.0 - weight)
                for token, p in copy.items():
                    probs[token] += weight * p / total
        kept, mass = self._candidates(state, probs, banned, copy, top_k)
        if not kept:  # rare: the model's own order, past the first candidates
            kept, mass = self._candidates(state, model_probs, banned, {}, 1, full=True)
        if not kept:  # nothing at all: close the line; it is dropped when rendered
            state.cut_texts.append(state.line.strip())
            return self.newline
        mass_np = np.asarray(mass)
        mass_np /= mass_np.sum()
        if top_p < 1.0:
            before = mass_np.cumsum() - mass_np
            mass_np[before >= top_p] = 0.0
        cumulative = mass_np.cumsum()
        pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        token = kept[min(pick, len(kept) - 1)]
        state.sampled += 1
        if model_probs[token] > 0:  # fluency: the model's own view of its own choices (a
            # copied token the 4-gram ban hid from the model says nothing about fluency)
            state.logprob += float(np.log(model_probs[token]))
            state.scored += 1
        return token

    def _candidates(self, state: RowState, probs: np.ndarray, banned: set[int],
                    copy: dict[int, float], top_k: int, *, full: bool = False
                    ) -> tuple[list[int], list[float]]:
        """The best ``top_k`` tokens that spell known words (and are not banned, unless the
        copy proposes them)."""
        if full:
            order = np.argsort(-probs)
        else:
            k = min(CANDIDATES, probs.shape[0] - 1)
            order = np.argpartition(-probs, k)[:k]
            order = order[np.argsort(-probs[order])]
        kept, mass = [], []
        for token in order:
            p = float(probs[token])
            if p <= 0:
                break
            token = int(token)
            if banned and token in banned and token not in copy:
                continue
            if not self.checker.allowed(state.partial, token, state.vocabulary):
                continue
            kept.append(token)
            mass.append(p)
            if len(kept) >= top_k:
                break
        return kept, mass

    # ------------------------------------------------------------------ after each token
    def advance(self, state: RowState, token: int, *, source: str | None) -> None:
        """Track the row after ``token``; ``source`` is "queue" (a heading, the opener), "term"
        (the rest of a term being copied) or None (sampled)."""
        text = self.token_text[token]
        state.text += text
        state.ids.append(token)
        state.partial = TokenChecker.advance(state.partial, text)
        if "\n" in text:
            finished = state.line + text.split("\n", 1)[0]
            state.line = text.rsplit("\n", 1)[1]
            state.line_tokens = 0
            if state.copy is not None:
                state.copy.close_line()
            if finished.strip() and source != "queue":
                state.lines_in_part += 1
                if state.terms is not None:
                    state.terms.note_text(finished.lower(), state.term_spelling)
            if not state.queue:
                self._after_line(state)
        else:
            state.line += text
            state.line_tokens += 1
            if state.copy is not None and source != "queue":
                state.copy.append(token)
            if state.terms is not None and source != "queue":
                state.terms.feed(token)
        if source is None:
            state.part_tokens += 1
        self._caps(state)

    def _after_line(self, state: RowState) -> None:
        g = state.grounding
        if state.part == "opening":
            self._enter(state, "responsibilities")
        elif state.part == "responsibilities":
            used_up = state.copy is not None and len(state.copy.used) >= len(g.duties)
            if state.lines_in_part >= state.target_lines or (used_up and state.lines_in_part
                                                             >= 3):
                self._enter(state, "requirements")
        elif state.part == "requirements":
            if state.lines_in_part >= state.target_lines and not self._state_missing(state):
                self._enter(state, "done")

    def budget(self, state: RowState, remaining: int) -> None:
        """Near the token limit, the Requirements (and their must terms) still get written."""
        if state.queue or state.done or state.line_tokens:
            return
        if state.part == "responsibilities" and remaining < REQUIREMENTS_RESERVE \
                and state.lines_in_part >= 2:
            self._enter(state, "requirements")
        elif state.part == "requirements" and remaining < MUST_RESERVE:
            self._state_missing(state)

    def _state_missing(self, state: RowState) -> bool:
        """Queue one plain line for the must terms the model left out; True if it did."""
        if state.terms is None:
            return False
        missing = [t for j, t in enumerate(state.term_spelling)
                   if t in state.grounding.request.must and j not in state.terms.covered]
        if not missing:
            return False
        state.queue = self._ids(f"Experience with {join_terms(missing)}.\n")
        state.terms.covered.update(j for j, t in enumerate(state.term_spelling)
                                   if t in missing)
        return True

    def _caps(self, state: RowState) -> None:
        """Hard limits: a runaway line or opening is closed (and trimmed when rendered)."""
        if state.queue or state.done:
            return
        limit = OPENING_TOKENS if state.part == "opening" else LINE_TOKENS
        count = state.part_tokens if state.part == "opening" else state.line_tokens
        if count >= limit + LINE_OVERRUN and (state.terms is None or state.terms.active is None):
            state.cut_lines += 1
            state.cut_texts.append(state.line.strip())
            state.queue = [self.newline]




# ---------------------------------------------------------------------- the batch loop
def sample_grounded(generator, groundings: list[Grounding], seeds: list[int], *, decoding,
                    planner: GroundedPlanner, max_new_tokens: int = 600,
                    on_text=None) -> list[RowState]:
    """Write one draft per grounding in one batch; returns each row's final state."""
    import torch

    from models.generation.postings import format_prompt
    from models.generation.sampling import NgramBan, _RecentPenalty

    rows = len(groundings)
    rngs = [np.random.default_rng(int(s) & 0xFFFF_FFFF_FFFF_FFFF) for s in seeds]
    states = [planner.start(g, s) for g, s in zip(groundings, seeds, strict=True)]
    prompts = [planner._ids(format_prompt(g.request.title)) for g in groundings]
    width = max(len(p) for p in prompts)
    max_new_tokens = max(1, min(max_new_tokens, generator.max_positions - width))
    ids = torch.full((rows, width), generator.eos_id, dtype=torch.long)
    mask = torch.ones((rows, width + max_new_tokens), dtype=torch.long)
    mask[:, :width] = 0
    for r, p in enumerate(prompts):
        ids[r, width - len(p):] = torch.tensor(p)
        mask[r, width - len(p):width] = 1
    vocab = len(generator.tokenizer)
    bias = np.zeros((rows, vocab), dtype=np.float32)
    spellings: list[dict[int, list[int]]] = [{} for _ in range(rows)]
    if decoding.title_boost:
        for r, g in enumerate(groundings):
            steer = generator.steering_ids(g.request.title)
            if steer:
                bias[r, steer] = decoding.title_boost
                spellings[r] = generator._same_word(steer)
    ban = NgramBan(decoding.no_repeat_ngram, rows)
    history = [list(p) for p in prompts]
    penalty = _RecentPenalty(rows, decoding, generator.structural_ids) \
        if decoding.repetition_penalty != 1.0 else None
    inverse_temperature = np.float32(1.0 / max(decoding.temperature, 1e-5))
    new = torch.empty((rows, 1), dtype=torch.long)
    new_np = new.numpy()
    with torch.no_grad():
        logits, state = generator.fast.step(ids, mask[:, :width], None)
        for t in range(max_new_tokens):
            scores = logits.float().numpy()[:, :vocab] * inverse_temperature + bias
            if penalty is not None:
                penalty.apply(scores)
            for r, row in enumerate(states):
                if row.done:
                    new_np[r, 0] = generator.eos_id
                    continue
                planner.budget(row, max_new_tokens - t)
                token, source = planner.forced(row)
                if token is None:
                    token = planner.choose(row, scores[r], rngs[r], top_k=decoding.top_k,
                                           top_p=decoding.top_p,
                                           banned=ban.banned(r, history[r]))
                    if bias[r, token]:  # a title word written: no more help, in any spelling
                        bias[r, spellings[r].get(token, [token])] = 0.0
                new_np[r, 0] = token
                history[r].append(token)
                ban.update(r, history[r])
                if penalty is not None:
                    penalty.add(r, token)
                planner.advance(row, token, source=source)
            if on_text is not None and "\n" in planner.token_text[int(new_np[0, 0])]:
                on_text(states[0])
            if all(row.done for row in states):
                break
            logits, state = generator.fast.step(new, mask[:, :width + t + 1], state)
    return states
