"""Write a job description from a title with the local GPT-2.

Plain top-k / top-p sampling from a small GPT-2 falls into loops ("Sr. Business Development,
Sr. Business Development, ...") and copies recruiters' contact details from its training ads.
The decoder here keeps the lineage's sampling (top_k 40, top_p 0.9) and adds the safeguards that
stop both: a ban on repeating any token n-gram, a repetition penalty over recent tokens, a
minimum length before the end-of-text token may end the draft, and a contact scrubber on the text.
Each safeguard is a field of :class:`Decoding`, so the evaluation can show its effect against the
naive settings.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from models.common.paths import BUNDLED_ROOT
from models.generation.contact_scrub import scrub_contacts
from models.generation.free_writing import LineStreamer, RowPlan, tidy
from models.generation.postings import format_prompt
from models.generation.request import JobRequest, TitleError, parse_request
from models.generation.sampling import (
    Decoding,
    NgramBan,
    _draw,
    _RecentPenalty,
    _top_k_top_p,
    torch_threads,
)
from models.generation.sections import split_sections
from models.generation.tokenizer import load_tokenizer

__all__ = ["Draft", "JobPostGenerator", "TitleError", "parse_title", "JobRequest"]

logger = logging.getLogger(__name__)

BUNDLED_GENERATOR_DIR = BUNDLED_ROOT / "generator"


@dataclass
class Draft:
    title: str
    text: str
    sections: dict[str, str]
    model: dict[str, str]
    new_tokens: int
    seconds: float
    finished: bool = True  # ended with end-of-text rather than the token limit
    grounded_on: str = ""  # "Based on O*NET 15-2051.00 Data Scientists ..." (the reply says it)
    inclusive: str = ""  # the inclusive-language line shown under the draft
    score: float = 0.0  # best-of-n rank score (models.generation.grounded.rank_score)
    request: dict | None = None
    occupation: str | None = None  # O*NET code, when one was close enough
    #: Everything the draft was grounded on, for the evaluation (not shown, not stored).
    source_text: str = field(default="", repr=False)
    dropped_lines: int = 0  # lines the render guard removed (counted by the evaluation)

    def as_json(self) -> dict:
        return {"title": self.title, "text": self.text, "sections": self.sections,
                "model": self.model, "new_tokens": self.new_tokens,
                "seconds": round(self.seconds, 3), "grounded_on": self.grounded_on,
                "inclusive": self.inclusive, "score": round(self.score, 4),
                "request": self.request, "occupation": self.occupation}


def parse_title(raw: str) -> tuple[str, str]:
    """Split "Data Scientist, remote, fintech" into the title and the extra prompt context
    (options after ``;`` are checked too, so a malformed request is refused here)."""
    request = parse_request(raw)
    return request.title, request.context


def build_prompt(title: str, context: str = "") -> str:
    prompt = format_prompt(title)
    if context:
        prompt += f"{title} ({context})\n\n"
    return prompt


# ------------------------------------------------------------------------------ generator
StepFn = Callable[[torch.Tensor, torch.Tensor, object | None], tuple[torch.Tensor, object]]


class JobPostGenerator:
    """A trained GPT-2 folder plus the decoding that makes it safe to show to users."""

    def __init__(self, model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase, *,
                 name: str, version: str, folder: Path | None = None,
                 lexicon: dict | None = None, head_precision: str = "int8",
                 decode_threads: int = 2):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.version = version
        self.folder = folder
        self.eos_id = int(model.config.eos_token_id)
        self.max_positions = int(model.config.n_positions)
        from models.generation.fast_gpt2 import FastGPT2

        self.fast = FastGPT2(self.model, head_precision)
        self.structural_ids = self._structural_ids()
        self.lexicon = lexicon or {}
        #: Threads while decoding (0: leave the process setting alone, as a refresh child
        #: does). The per-step scoring runs in numpy, so mostly the layer matmuls use them:
        #: two beat one by ~20 % at batch 1 on an idle 2-core machine, and by ~4 % with a
        #: nice-19 busy loop on the other core (docs/benchmarks.md).
        self.decode_threads = decode_threads
        self.resolver = None  # set by the service (shares its embedder), else loaded on use
        #: What builds the resolver's embedder when it is loaded on use (the caller's
        #: settings: model and precision); MiniLM with ``auto`` precision when unset.
        self.embedder_factory = None
        self._planner = None

    def _structural_ids(self) -> frozenset[int]:
        """Tokens that are only whitespace or punctuation: line breaks and bullets must repeat
        in a structured posting, so the repetition penalty leaves them alone."""
        out = set()
        self.token_text = [self.tokenizer.decode([i]) for i in range(len(self.tokenizer))]
        for token_id, text in enumerate(self.token_text):
            if not any(ch.isalnum() for ch in text):
                out.add(token_id)
        out.discard(self.eos_id)
        return frozenset(out)

    @classmethod
    def load(cls, folder: Path | None = None, *, head_precision: str = "int8",
             decode_threads: int = 2) -> JobPostGenerator:
        from models.common.embeddings import configure_threads

        configure_threads()
        folder = Path(folder) if folder else BUNDLED_GENERATOR_DIR
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no generator model in {folder}")
        model = GPT2LMHeadModel.from_pretrained(str(folder), dtype=torch.float32)
        tokenizer = load_tokenizer(folder)
        info_path = folder / "hirebot_generator.json"
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        from models.generation.title_lexicon import load_lexicon

        return cls(model, tokenizer, name=info.get("name", "hirebot-jd-gpt2"),
                   version=info.get("version", "unversioned"), folder=folder,
                   lexicon=load_lexicon(folder), head_precision=head_precision,
                   decode_threads=decode_threads)

    @property
    def model_info(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}

    # --------------------------------------------------------------------------- public
    def write(self, raw_title: str, *, seed: int = 0, max_new_tokens: int = 600,
              decoding: Decoding | None = None,
              on_text: Callable[[str], None] | None = None, profile=None, team=None,
              n: int = 1) -> Draft:
        """The best of ``n`` drafts; ``on_text`` receives the first draft's text a line at a
        time (the ranked best replaces it when all are written)."""
        return self.write_drafts(raw_title, seed=seed, max_new_tokens=max_new_tokens,
                                 decoding=decoding, on_text=on_text, profile=profile,
                                 team=team, n=n)[0]

    def write_drafts(self, raw_title: str, *, seed: int = 0, max_new_tokens: int = 600,
                     decoding: Decoding | None = None,
                     on_text: Callable[[str], None] | None = None, profile=None, team=None,
                     n: int = 1) -> list[Draft]:
        """``n`` grounded drafts written in one batch, best first (see ``rank_score``)."""
        decoding = decoding or Decoding()
        request = parse_request(raw_title)
        if not decoding.grounded:
            return self.write_batch([(request.title, request.context)], seeds=[seed],
                                    max_new_tokens=max_new_tokens, decoding=decoding,
                                    on_text=on_text)
        n = max(1, n)
        return self.write_grounded([request] * n, seeds=[seed + i for i in range(n)],
                                   max_new_tokens=max_new_tokens, decoding=decoding,
                                   on_text=on_text, profile=profile, team=team, rank=True)

    def occupation_resolver(self):
        if self.resolver is None:
            from models.common.embeddings import FastEmbedder
            from models.common.occupations import OccupationResolver

            embedder = self.embedder_factory() if self.embedder_factory else FastEmbedder()
            self.resolver = OccupationResolver.load(embedder)
        return self.resolver

    def planner(self):
        if self._planner is None:
            from models.generation.grounded import GroundedPlanner
            from models.generation.known_words import known_vocabulary

            self._planner = GroundedPlanner(self, known_vocabulary())
        return self._planner

    def write_grounded(self, requests: list[JobRequest], *, seeds: list[int],
                       max_new_tokens: int = 600, decoding: Decoding | None = None,
                       on_text: Callable[[str], None] | None = None, profile=None, team=None,
                       rank: bool = False) -> list[Draft]:
        """One grounded draft per request, in one batch; ``rank`` sorts them best first."""
        from models.generation.grounded import sample_grounded
        from models.generation.grounding import build_grounding
        from models.generation.inclusive import check_text
        from models.generation.render import render_grounded

        decoding = decoding or Decoding()
        start = time.monotonic()
        resolver = self.occupation_resolver()
        groundings = [build_grounding(r, resolver, profile=profile, team=team, seed=s)
                      for r, s in zip(requests, seeds, strict=True)]
        planner = self.planner()
        show = None
        if on_text is not None:
            def show(state) -> None:
                text = render_grounded(self, state, decoding, partial=True)
                if text:
                    on_text(text)
        with torch_threads(self.decode_threads):
            states = sample_grounded(self, groundings, seeds, decoding=decoding,
                                     planner=planner, max_new_tokens=max_new_tokens,
                                     on_text=show)
        seconds = time.monotonic() - start
        from models.generation.render import rank_score

        drafts = []
        for request, grounding, state in zip(requests, groundings, states, strict=True):
            text = render_grounded(self, state, decoding)
            own_words = {w.lower() for w in re.findall(r"[A-Za-z]+", " ".join(
                [request.title, *request.must, *request.nice]))}
            report = check_text(text, exempt=own_words)  # not the job's own words
            drafts.append(Draft(
                title=request.title, text=text, sections=split_sections(text),
                model=self.model_info, new_tokens=len(state.ids), seconds=seconds,
                finished=state.done, grounded_on=grounding.attribution(),
                inclusive=" ".join(report.summary_lines()),
                score=rank_score(state, text, coded_words=report.coded_count),
                request=request.as_json(), occupation=(grounding.occupation.code
                                                       if grounding.occupation else None),
                source_text=" ".join([grounding.summary, *grounding.esco_clauses,
                                      *grounding.duties, *grounding.requirements,
                                      *grounding.skills]),
                dropped_lines=len(state.dropped_lines)))
        if rank:
            drafts.sort(key=lambda d: -d.score)
        if on_text is not None and drafts:
            on_text(drafts[0].text)
        return drafts

    def write_batch(self, titles: list[tuple[str, str]], *, seeds: list[int],
                    max_new_tokens: int = 400, decoding: Decoding | None = None,
                    on_text: Callable[[str], None] | None = None,
                    use_fast: bool = True) -> list[Draft]:
        decoding = decoding or Decoding()
        start = time.monotonic()
        prompts = [build_prompt(t, c) for t, c in titles]
        prompt_ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        budget = self.max_positions - max(len(p) for p in prompt_ids)
        max_new_tokens = max(1, min(max_new_tokens, budget))
        streamer = LineStreamer(self, on_text, decoding) if on_text else None
        boosts = [self.steering_ids(t) for t, _ in titles] if decoding.title_boost else None
        plans = None
        if decoding.sections or decoding.opener:
            plans = [RowPlan(self, decoding, t, seed) for (t, _), seed in zip(titles, seeds,
                                                                                strict=True)]
        with torch_threads(self.decode_threads):
            outputs, finished = self._sample(prompt_ids, seeds, max_new_tokens, decoding,
                                             streamer, use_fast=use_fast, boosts=boosts,
                                             plans=plans)
        seconds = time.monotonic() - start
        drafts = []
        for (title, context), new_ids, done in zip(titles, outputs, finished, strict=True):
            text = self.render(new_ids, decoding, context=context, title=title)
            drafts.append(Draft(title=title, text=text, sections=split_sections(text),
                                model=self.model_info, new_tokens=len(new_ids), seconds=seconds,
                                finished=done))
        if streamer:
            streamer.finish(drafts[0].text)
        return drafts

    def render(self, new_ids: list[int], decoding: Decoding, *, context: str = "",
               title: str = "") -> str:
        text = self.tokenizer.decode(new_ids, skip_special_tokens=True)
        if context:
            text = f"{title} ({context})\n\n{text}"
        if decoding.scrub_contacts:
            text = scrub_contacts(text)
        return tidy(text)

    def steering_ids(self, title: str) -> list[int]:
        """Tokens of the title's words and its family's words, with and without capitals."""
        from models.generation.title_lexicon import steering_words

        ids: set[int] = set()
        for word in steering_words(title, self.lexicon):
            for variant in (f" {word}", f" {word.capitalize()}"):
                encoded = self.tokenizer(variant, add_special_tokens=False)["input_ids"]
                # Only whole-word tokens: boosting a word's first fragment (" Bo" of " Bour...")
                # makes the model spell invented names.
                if len(encoded) == 1 and encoded[0] not in self.structural_ids:
                    ids.add(encoded[0])
        ids.discard(self.eos_id)
        return sorted(ids)

    def _same_word(self, ids: list[int]) -> dict[int, list[int]]:
        """Each steering token -> every steering token spelling the same word (" chef",
        " Chef")."""
        groups: dict[str, list[int]] = {}
        for token_id in ids:
            groups.setdefault(self.token_text[token_id].strip().lower(), []).append(token_id)
        return {token_id: group for group in groups.values() for token_id in group}

    # --------------------------------------------------------------------------- sampling
    @torch.no_grad()
    def _sample(self, prompt_ids: list[list[int]], seeds: list[int], max_new_tokens: int,
                decoding: Decoding, streamer: LineStreamer | None, *, use_fast: bool = True,
                boosts: list[list[int]] | None = None,
                plans: list[RowPlan] | None = None) -> tuple[list[list[int]], list[bool]]:
        rows = len(prompt_ids)
        vocab = len(self.tokenizer)
        bias = None
        spelling: list[dict[int, list[int]]] = [{} for _ in range(rows)]
        if boosts and decoding.title_boost:
            bias = np.zeros((rows, vocab), dtype=np.float32)
            for r, ids_r in enumerate(boosts):
                if ids_r:
                    bias[r, ids_r] = decoding.title_boost
                    spelling[r] = self._same_word(ids_r)
        # numpy wants a non-negative seed; any int the CLI accepts maps to one.
        rngs = [np.random.default_rng(int(s) & 0xFFFF_FFFF_FFFF_FFFF) for s in seeds]
        width = max(len(p) for p in prompt_ids)
        ids = torch.full((rows, width), self.eos_id, dtype=torch.long)
        # The whole mask is allocated once; each step passes a view of one more column.
        mask = torch.ones((rows, width + max_new_tokens), dtype=torch.long)
        mask[:, :width] = 0
        for r, p in enumerate(prompt_ids):  # left padding keeps every row's last token aligned
            ids[r, width - len(p):] = torch.tensor(p)
            mask[r, width - len(p):width] = 1
        step: StepFn = self.fast.step if use_fast else self._hf_step
        logits, state = step(ids, mask[:, :width], None)
        new = torch.empty((rows, 1), dtype=torch.long)
        new_np = new.numpy()
        generated: list[list[int]] = [[] for _ in range(rows)]
        history = [list(p) for p in prompt_ids]
        ban = NgramBan(decoding.no_repeat_ngram, rows)
        for r in range(rows):
            for i in range(len(history[r])):
                ban.update(r, history[r][: i + 1])
        done = [False] * rows
        penalty = None
        if decoding.repetition_penalty != 1.0:
            penalty = _RecentPenalty(rows, decoding, self.structural_ids)
        inverse_temperature = np.float32(1.0 / max(decoding.temperature, 1e-5))
        for t in range(max_new_tokens):
            # numpy for the per-step scoring: each op here is ~1 us against ~5-10 us of
            # framework dispatch for the same op on a tensor, and there are a dozen per step.
            scores = logits.float().numpy()[:, :vocab] * inverse_temperature
            if bias is not None:
                scores += bias
            if penalty is not None:
                penalty.apply(scores)
            for r in range(rows):
                if t < decoding.min_new_tokens or (plans and not plans[r].may_end()):
                    scores[r, self.eos_id] = -np.inf
                banned = ban.banned(r, history[r])
                if banned:
                    scores[r, list(banned)] = -np.inf
            probs, candidates = _top_k_top_p(scores, decoding.top_k, decoding.top_p)
            for r in range(rows):
                if done[r]:
                    new_np[r, 0] = self.eos_id
                    continue
                forced = plans[r].next_forced() if plans else None
                if forced is not None:
                    token = forced
                else:
                    token = int(candidates[r, _draw(probs[r], rngs[r])])
                new_np[r, 0] = token
                if token == self.eos_id:
                    done[r] = True
                    continue
                generated[r].append(token)
                history[r].append(token)
                if forced is None and token in spelling[r]:
                    # The model wrote a steering word: it gets no more help, in any spelling.
                    # (Words the opener or a heading forced in keep theirs.)
                    bias[r, spelling[r][token]] = 0.0
                ban.update(r, history[r])
                if penalty is not None:
                    penalty.add(r, token)
                if plans and forced is None and plans[r].after_sampled(token):
                    done[r] = True  # the last section is complete
            if streamer:
                streamer.feed(generated[0])
            if all(done):
                break
            logits, state = step(new, mask[:, :width + t + 1], state)
        return generated, done

    def _hf_step(self, ids: torch.Tensor, mask: torch.Tensor, past: object | None):
        """Reference step through the unmodified Hugging Face model."""
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         past_key_values=past, use_cache=True)
        return out.logits[:, -1, :], out.past_key_values

    def naive_generate(self, titles: list[tuple[str, str]], *, seed: int,
                       max_new_tokens: int = 400) -> list[Draft]:
        """The lineage's way: fp32 ``generate()`` with top_k 40 / top_p 0.9, nothing else."""
        start = time.monotonic()
        prompts = [build_prompt(t, c) for t, c in titles]
        self.tokenizer.padding_side = "left"
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        budget = self.max_positions - enc["input_ids"].shape[1]
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self.model.generate(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], do_sample=True,
                top_k=40, top_p=0.9, max_new_tokens=max(1, min(max_new_tokens, budget)),
                pad_token_id=self.eos_id, eos_token_id=self.eos_id,
            )
        seconds = time.monotonic() - start
        drafts = []
        naive = Decoding.naive()
        for (title, context), row in zip(titles, out, strict=True):
            new_ids = row[enc["input_ids"].shape[1]:].tolist()
            finished = self.eos_id in new_ids
            if finished:
                new_ids = new_ids[: new_ids.index(self.eos_id)]
            text = self.render(new_ids, naive, context=context, title=title)
            drafts.append(Draft(title, text, split_sections(text), self.model_info,
                                len(new_ids), seconds, finished))
        return drafts
