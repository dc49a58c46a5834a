"""``hirebot eval generator``: the five measures of the generator issue, in one run.

Both decoders run on the same titles and seeds, so each safeguard's effect is visible beside the
lineage's plain top-k / top-p sampling.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from models.generation.contact_scrub import contains_contact
from models.generation.generator import Decoding, Draft, JobPostGenerator
from models.generation.postings import Posting, PostingCorpus
from models.generation.sections import section_count
from models.generation.title_lexicon import _singular, head_word
from models.generation.training import bits_per_char

logger = logging.getLogger(__name__)

RELEVANCE_POOL = 6000
NEIGHBOURS = 5
_WORD = re.compile(r"[a-z]+")


# ------------------------------------------------------------------------------ measures
def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_degenerate(text: str, n: int = 4, times: int = 3) -> bool:
    """Any word n-gram occurring at least ``times`` times: the loop failure of plain sampling."""
    tokens = words(text)
    grams = Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return any(count >= times for count in grams.values())


def distinct_2(texts: Sequence[str]) -> float:
    bigrams: list[tuple[str, str]] = []
    for text in texts:
        tokens = words(text)
        bigrams.extend(zip(tokens, tokens[1:], strict=False))
    return len(set(bigrams)) / max(len(bigrams), 1)


def title_words(title: str) -> set[str]:
    return {_singular(w) for w in words(title)}


def choose_titles(held_out: Sequence[Posting], count: int, seed: int = 0) -> list[str]:
    """Distinct held-out titles with a recognisable head word, in a seeded order."""
    seen: set[str] = set()
    candidates = []
    for posting in held_out:
        title = posting.title.strip()
        key = title.lower()
        if key in seen or len(title) > 60 or head_word(title) is None:
            continue
        seen.add(key)
        candidates.append(title)
    random.Random(seed).shuffle(candidates)
    return candidates[:count]


class RelevanceIndex:
    """MiniLM embeddings of real postings, to find each sample's nearest ads."""

    def __init__(self, postings: Sequence[Posting], embedder, seed: int = 0,
                 cache_dir: Path | None = None):
        pool = list(postings)
        if len(pool) > RELEVANCE_POOL:
            pool = random.Random(seed).sample(pool, RELEVANCE_POOL)
        self.titles = [p.title for p in pool]
        self.embedder = embedder
        cache = None
        if cache_dir is not None:
            key = (getattr(embedder, "name", ""), getattr(embedder, "precision", ""))
            digest = hashlib.sha256(repr(key).encode())
            for p in pool:
                digest.update(p.description.encode("utf-8"))
            cache = cache_dir / f"relevance-{digest.hexdigest()[:16]}.npy"
        if cache is not None and cache.is_file():
            self.matrix = np.load(cache)
        else:
            self.matrix = self._embed([p.description for p in pool], progress=True)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, self.matrix)

    def _embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.asarray(self.embedder.encode(list(texts), progress=progress),
                             dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def relevance(self, prompts: Sequence[str], samples: Sequence[str]) -> float:
        """Mean share of the 5 nearest real postings whose title holds the prompt's head word."""
        sims = self._embed(samples) @ self.matrix.T
        shares = []
        for prompt, row in zip(prompts, sims, strict=True):
            head = head_word(prompt)
            nearest = np.argsort(-row)[:NEIGHBOURS]
            hits = sum(head in title_words(self.titles[i]) for i in nearest) if head else 0
            shares.append(hits / NEIGHBOURS)
        return float(np.mean(shares)) if shares else 0.0


def score_drafts(drafts: Sequence[Draft], prompts: Sequence[str],
                 index: RelevanceIndex) -> dict[str, float]:
    texts = [d.text for d in drafts]
    n = max(len(texts), 1)
    return {
        "repetition_rate": round(sum(is_degenerate(t) for t in texts) / n, 4),
        "distinct_2": round(distinct_2(texts), 4),
        "title_relevance": round(index.relevance(prompts, texts), 4),
        "structure": round(sum(section_count(t) >= 2 for t in texts) / n, 4),
        "contact_leak": round(sum(contains_contact(t) for t in texts) / n, 4),
        "finished": round(sum(d.finished for d in drafts) / n, 4),
        "mean_words": round(float(np.mean([len(t.split()) for t in texts])) if texts else 0, 1),
    }


# ------------------------------------------------------------------------------ run
def evaluate_generator(generator: JobPostGenerator, corpus: PostingCorpus, *, titles: int = 100,
                       samples_per_title: int = 2, max_new_tokens: int = 400,
                       batch_size: int = 8, seed: int = 0, bpc_docs: int | None = None,
                       embedder=None, cache_dir: Path | None = None) -> dict:
    """The figures of ``EVAL.json``; ``embedder`` (default MiniLM) scores title relevance and
    ``cache_dir`` keeps its corpus embeddings between runs."""
    from models.common.embeddings import FastEmbedder

    decoding = Decoding()
    logger.info("bits/char on %d held-out postings", len(corpus.held_out))
    bpc = bits_per_char(generator.model, generator.tokenizer, corpus.held_out, max_docs=bpc_docs)
    chosen = choose_titles(corpus.held_out, titles, seed=seed)
    first_ad = {}
    for posting in corpus.held_out:
        first_ad.setdefault(posting.title.strip(), posting)
    real = [first_ad[t] for t in chosen if t in first_ad]  # the metric's ceiling, for reference
    prompts = [t for t in chosen for _ in range(samples_per_title)]
    seeds = [seed + i for i in range(len(prompts))]
    ours: list[Draft] = []
    naive: list[Draft] = []
    for start in tqdm(range(0, len(prompts), batch_size), desc="sampling", unit="batch"):
        batch = [(t, "") for t in prompts[start:start + batch_size]]
        ours.extend(generator.write_batch(batch, seeds=seeds[start:start + batch_size],
                                          max_new_tokens=max_new_tokens, decoding=decoding))
        naive.extend(generator.naive_generate(batch, seed=seeds[start],
                                              max_new_tokens=max_new_tokens))
    if embedder is None:
        embedder = FastEmbedder()
    index = RelevanceIndex(corpus.train + corpus.held_out, embedder, seed=seed,
                           cache_dir=cache_dir)
    return {
        "model": generator.model_info,
        "bits_per_char": round(bpc, 4),
        "n_titles": len(chosen),
        "n_samples": len(prompts),
        "max_new_tokens": max_new_tokens,
        "hirebot": score_drafts(ours, prompts, index),
        "naive": score_drafts(naive, prompts, index),
        "real_postings_title_relevance": round(index.relevance(
            [p.title for p in real], [p.description for p in real]), 4) if real else None,
        "decoding": {"hirebot": decoding.__dict__, "naive": Decoding.naive().__dict__},
    }


def format_report(report: dict) -> str:
    lines = [f"model {report['model']['name']} {report['model']['version']}",
             f"held-out bits/char: {report['bits_per_char']:.4f}",
             f"{report['n_samples']} samples for {report['n_titles']} held-out titles",
             "", f"{'metric':18s} {'hirebot':>9s} {'naive':>9s}"]
    for key in report["hirebot"]:
        lines.append(f"{key:18s} {report['hirebot'][key]:9.4g} {report['naive'][key]:9.4g}")
    return "\n".join(lines)
