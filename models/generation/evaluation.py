"""``hirebot eval generator``: the generator issues' measures, in one run.

Three decoders (the grounded writer, the previous release's free writing, the lineage's plain
top-k / top-p sampling) run on the same titles and seeds, and the real held-out ad of each
title is scored beside them.
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


# ------------------------------------------------------------------------------ readability
#: Must terms the evaluation asks for, two per title in a seeded order (the issue's ``must``
#: measure: each must appear in Requirements).
MUST_POOL = ("Python", "SQL", "Microsoft Excel", "first aid", "Spanish", "customer service",
             "project management", "a driving licence", "German", "Salesforce", "CAD",
             "health and safety")


def _body_lines(text: str) -> list[str]:
    """Lines of the text that are not headings or blank."""
    from models.generation.sections import heading_kind

    return [line.strip() for line in text.split("\n")
            if line.strip() and heading_kind(line) is None]


def cut_line_rate(texts: Sequence[str]) -> float:
    """Share of lines ending mid-phrase: on "and", "of", "(e.g.", an open bracket, a comma."""
    from models.generation.grounded import line_is_complete

    lines = [line for t in texts for line in _body_lines(t)]
    cut = [line for line in lines if not line_is_complete(line) and len(line.split()) >= 3]
    return len(cut) / max(len(lines), 1)


def has_repeated_item(text: str) -> bool:
    """Two list lines (of 3+ words) with the same words, or a comma list naming an item twice."""
    seen: set[str] = set()
    for line in _body_lines(text):
        key = " ".join(words(line))
        if len(key.split()) >= 3:
            if key in seen:
                return True
            seen.add(key)
        items = [" ".join(words(i)) for i in re.split(r",|;", line) if words(i)]
        short = [i for i in items if len(i.split()) <= 3]
        if len(short) >= 3 and len(set(short)) < len(short):
            return True
    return False


def invented_words(text: str, vocabulary, given: str = "") -> list[str]:
    """Words neither English's frequency list nor the corpus (3+ uses) knows, nor ``given``
    (the request and the statements the draft was grounded on: the model copied those, it did
    not spell them). `code spans` (the placeholder's `/hirebot profile`) are commands."""
    from models.generation.known_words import words_in

    known = set(words_in(given))
    return [w for w in vocabulary.unknown_words(re.sub(r"`[^`]*`", " ", text))
            if w not in known]


def title_retrieval(titles: Sequence[str], texts: Sequence[str], embedder) -> float:
    """With each text's own title words removed, is its title among the 5 nearest (MiniLM) of
    all the titles evaluated? (The opener that names the title cannot help here.)"""
    if not titles:
        return 0.0
    unique = list(dict.fromkeys(titles))
    stripped = []
    for title, text in zip(titles, texts, strict=True):
        drop = {w for w in words(title)} | {_singular(w) for w in words(title)}
        kept = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*|\S", text)
                if w.lower() not in drop and _singular(w.lower()) not in drop]
        stripped.append(" ".join(kept))
    def unit(vectors):
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = unit(embedder.encode(stripped)) @ unit(embedder.encode(unique)).T
    hits = 0
    for title, row in zip(titles, sims, strict=True):
        nearest = [unique[i] for i in np.argsort(-row)[:NEIGHBOURS]]
        hits += title in nearest
    return hits / len(titles)


def readability_scores(titles: Sequence[str], texts: Sequence[str], vocabulary,
                       embedder, given: Sequence[str] | None = None) -> dict[str, float]:
    from models.generation.inclusive import check_text

    n = max(len(texts), 1)
    given = list(given) if given is not None else list(titles)
    invented = [invented_words(t, vocabulary, g) for t, g in zip(texts, given, strict=True)]
    return {
        "invented_word_drafts": round(sum(bool(i) for i in invented) / n, 4),
        "cut_lines": round(cut_line_rate(texts), 4),
        "repeated_item_drafts": round(sum(has_repeated_item(t) for t in texts) / n, 4),
        "title_retrieval_at_5": round(title_retrieval(titles, texts, embedder), 4),
        "coded_words_per_draft": round(sum(check_text(t).coded_count for t in texts) / n, 2),
        "reading_grade": round(float(np.mean([check_text(t).reading_grade for t in texts]))
                               if texts else 0.0, 1),
    }


def must_terms_for(titles: Sequence[str], seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [tuple(rng.sample(MUST_POOL, 2)) for _ in titles]


def must_term_rate(drafts: Sequence[Draft], musts: Sequence[tuple[str, ...]]) -> float:
    """Share of the asked-for must terms that appear in the draft's Requirements."""
    asked = found = 0
    for draft, terms in zip(drafts, musts, strict=True):
        requirements = draft.sections.get("requirements", "").lower()
        for term in terms:
            asked += 1  # a whole-word match: "CAD" is not in "academic"
            found += re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", requirements) \
                is not None
    return found / max(asked, 1)


# ------------------------------------------------------------------------------ run
def evaluate_generator(generator: JobPostGenerator, corpus: PostingCorpus, *, titles: int = 40,
                       samples_per_title: int = 1, max_new_tokens: int = 600,
                       batch_size: int = 8, seed: int = 0, bpc_docs: int | None = None,
                       embedder=None, cache_dir: Path | None = None,
                       resolver=None) -> dict:
    """The figures of ``EVAL.json``; ``embedder`` (default MiniLM) scores relevance and
    retrieval, ``cache_dir`` keeps its corpus embeddings between runs.

    Three decoders on the same titles and seeds: the grounded writer (this release), the
    previous release's free writing with safeguards, and the lineage's plain sampling; the real
    held-out ads of the same titles are scored beside them.
    """
    from models.common.embeddings import FastEmbedder
    from models.common.occupations import OccupationResolver, evaluate_resolver
    from models.generation.known_words import known_vocabulary
    from models.generation.request import JobRequest

    if embedder is None:
        embedder = FastEmbedder()
    if resolver is None:
        resolver = generator.resolver or OccupationResolver.load(embedder)
    generator.resolver = resolver
    logger.info("bits/char on %d held-out postings", len(corpus.held_out))
    bpc = bits_per_char(generator.model, generator.tokenizer, corpus.held_out, max_docs=bpc_docs)
    chosen = choose_titles(corpus.held_out, titles, seed=seed)
    first_ad = {}
    for posting in corpus.held_out:
        first_ad.setdefault(posting.title.strip(), posting)
    real = [first_ad[t] for t in chosen if t in first_ad]  # the ceiling, for reference
    prompts = [t for t in chosen for _ in range(samples_per_title)]
    seeds = [seed + i for i in range(len(prompts))]
    ours: list[Draft] = []
    free: list[Draft] = []
    naive: list[Draft] = []
    free_decoding = Decoding.free()
    for start in tqdm(range(0, len(prompts), batch_size), desc="sampling", unit="batch"):
        batch = prompts[start:start + batch_size]
        batch_seeds = seeds[start:start + batch_size]
        ours.extend(generator.write_grounded([JobRequest(title=t) for t in batch],
                                             seeds=batch_seeds, max_new_tokens=max_new_tokens))
        free.extend(generator.write_batch([(t, "") for t in batch], seeds=batch_seeds,
                                          max_new_tokens=max_new_tokens, decoding=free_decoding))
        naive.extend(generator.naive_generate([(t, "") for t in batch], seed=batch_seeds[0],
                                              max_new_tokens=max_new_tokens))
    musts = must_terms_for(prompts, seed)
    with_must: list[Draft] = []
    for start in tqdm(range(0, len(prompts), batch_size), desc="must terms", unit="batch"):
        batch = [JobRequest(title=t, must=m) for t, m in
                 zip(prompts[start:start + batch_size], musts[start:start + batch_size],
                     strict=True)]
        with_must.extend(generator.write_grounded(batch, seeds=seeds[start:start + batch_size],
                                                  max_new_tokens=max_new_tokens))
    index = RelevanceIndex(corpus.train + corpus.held_out, embedder, seed=seed,
                           cache_dir=cache_dir)
    vocabulary = known_vocabulary(strict=False)
    real_titles = [p.title.strip() for p in real]
    real_texts = [p.description for p in real]

    def grounding_text(draft: Draft) -> str:
        return f"{draft.title} {draft.source_text} {draft.grounded_on}"

    def scored(drafts: list[Draft]) -> dict:
        texts = [d.text for d in drafts]
        return {**score_drafts(drafts, prompts, index),
                **readability_scores(prompts, texts, vocabulary, embedder,
                                     [grounding_text(d) for d in drafts]),
                # The grounded writer's last guard drops a line the decoder's rules let
                # through; counted so the zeros above are not only the guard's doing.
                "guard_dropped_lines_per_draft": round(
                    sum(d.dropped_lines for d in drafts) / max(len(drafts), 1), 3)}

    resolver_report = evaluate_resolver(resolver)
    real_scores = {
        "title_relevance": round(index.relevance(real_titles, real_texts), 4) if real else None,
        **readability_scores(real_titles, real_texts, vocabulary, embedder),
        "repetition_rate": round(sum(is_degenerate(t) for t in real_texts)
                                 / max(len(real_texts), 1), 4),
        "contact_leak": round(sum(contains_contact(t) for t in real_texts)
                              / max(len(real_texts), 1), 4),
    }
    return {
        "model": generator.model_info,
        "bits_per_char": round(bpc, 4),
        "n_titles": len(chosen),
        "n_samples": len(prompts),
        "max_new_tokens": max_new_tokens,
        "hirebot": {**scored(ours), "must_terms_present": round(must_term_rate(with_must, musts),
                                                                 4)},
        "free": scored(free),
        "naive": scored(naive),
        "real_postings": real_scores,
        "real_postings_title_relevance": real_scores["title_relevance"],
        "resolver": {k: v for k, v in resolver_report.items() if k != "wrong"},
        "resolver_wrong": resolver_report["wrong"][:40],
        "samples": [{"title": d.title, "grounded_on": d.grounded_on, "text": d.text,
                     "free": f.text} for d, f in zip(ours[:5], free[:5], strict=False)],
        "decoding": {"hirebot": Decoding().__dict__, "free": free_decoding.__dict__,
                     "naive": Decoding.naive().__dict__},
    }


def format_report(report: dict) -> str:
    lines = [f"model {report['model']['name']} {report['model']['version']}",
             f"held-out bits/char: {report['bits_per_char']:.4f}",
             f"{report['n_samples']} samples for {report['n_titles']} held-out titles",
             "", f"{'metric':24s} {'hirebot':>9s} {'free':>9s} {'naive':>9s} {'real ads':>9s}"]
    real = report.get("real_postings", {})
    def cell(part: dict, key: str) -> str:
        value = part.get(key)
        return f"{value:9.4g}" if isinstance(value, int | float) else f"{'—':>9s}"

    for key in report["hirebot"]:
        lines.append(f"{key:24s} {cell(report['hirebot'], key)} "
                     f"{cell(report.get('free', {}), key)} {cell(report['naive'], key)} "
                     f"{cell(real, key)}")
    resolver = report.get("resolver")
    if resolver:
        lines += ["", f"occupation resolver: {resolver['accuracy']:.1%} right on "
                      f"{resolver['n']} labelled titles; "
                  + ", ".join(f"{t}: {'right' if ok else 'WRONG'}"
                              for t, ok in resolver["must_resolve"].items())]
    return "\n".join(lines)
