"""Build the occupation index (``hirebot data occupations``): package data under
``models/bundled/occupations`` made from ``../shared/data`` alone.

Every name in the index is tied to an O*NET code; ESCO titles and real posting titles get their
code from *text* similarity (an ESCO definition, an ad's text, against each O*NET profile), which
is far more reliable than title similarity: both sides describe the work in many words. Posting
titles come from the generator's training split only, so its held-out titles stay unseen; the
labelled evaluation titles are never read here.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.common.occupations import (
    ESCO_ATTRIBUTION,
    OCCUPATIONS_DIR,
    ONET_ATTRIBUTION,
    normalise_title,
    quantise,
)
from models.generation.known_words import corpus_word_counts
from models.generation.postings import Posting, load_public_corpus
from models.screening.skills import JD_NOT_SKILLS, SkillLexicon, normalise_phrase

logger = logging.getLogger(__name__)

ONET_FILE = "job_postings/onet_occupation_profiles.csv"
ESCO_FILE = "job_postings/esco_v1_occupations_en.csv"
MAX_POSTINGS = 5000
MIN_POSTING_SIM = 0.45  # an ad less like any profile than this names no occupation
SKILLS_PER_OCCUPATION = 12
_AND_LIST = re.compile(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+")


def read_onet(shared: Path) -> list[dict]:
    rows = []
    with open(shared / ONET_FILE, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            body = row["description"]
            tasks = []
            if "Tasks:" in body:
                for line in body.split("Tasks:", 1)[1].splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        tasks.append(line[2:].strip())
            rows.append({"code": row["onet_soc_code"], "title": row["title"].strip(),
                         "summary": row["occupation_description"].strip(), "tasks": tasks})
    return rows


def read_esco(shared: Path) -> list[dict]:
    rows = []
    with open(shared / ESCO_FILE, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels = [row["title"].strip()] + [a.strip() for a in row["altLabels"].split("\n")]
            rows.append({"title": row["title"].strip(),
                         "labels": list(dict.fromkeys(a for a in labels if a)),
                         "description": (row["description"] or row["definition"]).strip()})
    return rows


def onet_title_names(title: str) -> list[str]:
    """"Meeting, Convention, and Event Planners" -> the whole title and each "X Planners"."""
    names = [title]
    head = title.split()[-1]
    if "," in title or " and " in title:
        parts = [p.strip() for p in _AND_LIST.split(title) if p.strip()]
        for part in parts:
            names.append(part if part.split()[-1] == head or len(part.split()) > 1
                         else f"{part} {head}")
    return list(dict.fromkeys(names))


def _embed(embedder, texts: list[str], cache: Path | None, *, progress: bool = False
           ) -> np.ndarray:
    """Unit vectors of ``texts``, kept in ``cache`` by a hash of the texts (a rebuild after a
    rule change then takes seconds, not the ~10 CPU-minutes of embedding 5,000 ads)."""
    import hashlib

    path = None
    if cache is not None:
        digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
        path = cache / f"occupation-index-{digest}.npy"
        if path.is_file():
            return np.load(path)
    vectors = _unit(embedder.encode(texts, progress=progress))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _profile_text(row: dict) -> str:
    return f"{row['title']}. {row['summary']} " + " ".join(row["tasks"][:6])


def _sample_postings(postings: Sequence[Posting], limit: int, seed: int) -> list[Posting]:
    """One ad per distinct normalised title, up to ``limit``, in a seeded order."""
    by_title: dict[str, Posting] = {}
    pool = list(postings)
    random.Random(seed).shuffle(pool)
    for posting in pool:
        key = normalise_title(posting.title)
        if key and len(key) <= 60 and key not in by_title:
            by_title[key] = posting
    return list(by_title.values())[:limit]


def _surface_form(postings: Sequence[Posting], phrase: str) -> str:
    """The spelling ads use most for a lexicon phrase ("SQL", "Microsoft Excel")."""
    counts: Counter[str] = Counter()
    pattern = re.compile(rf"(?<![\w+#]){re.escape(phrase)}(?![\w+#])", re.IGNORECASE)
    for posting in postings:
        counts.update(m.group(0) for m in pattern.finditer(posting.description[:4000]))
    return counts.most_common(1)[0][0] if counts else phrase


def occupation_skills(assigned: dict[str, list[Posting]], lexicon: SkillLexicon
                      ) -> dict[str, list[str]]:
    """Per occupation, the lexicon phrases its ads ask for far more often than ads overall."""
    def phrases_of(posting: Posting) -> set[str]:
        words = normalise_phrase(posting.description[:4000]).split()
        grams = {" ".join(words[i:i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
        return {g for g in grams if g in lexicon.doc_freq and g not in JD_NOT_SKILLS
                and len(g) > 1 and not g.isdigit()}

    per_posting = {id(p): phrases_of(p) for ads in assigned.values() for p in ads}
    overall: Counter[str] = Counter()
    for found in per_posting.values():
        overall.update(found)
    n_all = max(len(per_posting), 1)
    chosen: dict[str, list[str]] = {}
    for code, ads in assigned.items():
        counts: Counter[str] = Counter()
        for posting in ads:
            counts.update(per_posting[id(posting)])
        scored = []
        for phrase, df in counts.items():
            if df < 2 or df / len(ads) < 0.15:
                continue
            lift = (df / len(ads)) / (overall[phrase] / n_all)
            if lift >= 1.5:
                scored.append((df / len(ads) * math.log(lift), phrase))
        scored.sort(key=lambda s: (-s[0], s[1]))
        chosen[code] = [_surface_form(ads, p) for _, p in scored[:SKILLS_PER_OCCUPATION]]
    return chosen


def build_occupation_index(shared: Path, embedder, out_dir: Path | None = None, *,
                           seed: int = 0, max_postings: int = MAX_POSTINGS,
                           cache_dir: Path | None = None) -> dict:
    """Write ``occupations.json``, ``names.json`` / ``names.npy`` (the names and their int8
    vectors), ``profiles.npy``, ``esco.json`` (ESCO titles and definitions),
    ``corpus_words.tsv``, ``index.json`` (counts) and ``ATTRIBUTION.md``."""
    out_dir = Path(out_dir or OCCUPATIONS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    onet = read_onet(shared)
    esco = read_esco(shared)
    logger.info("embedding %d O*NET profiles", len(onet))
    profiles = _embed(embedder, [_profile_text(r) for r in onet], cache_dir, progress=True)

    # Only occupations with task statements may be tied to: O*NET keeps old codes with none,
    # and an old code's names go to its current twin (same title) where there is one.
    no_tasks = np.array([not r["tasks"] for r in onet])
    base = np.array([r["code"].endswith(".00") for r in onet], dtype=np.float32)
    with_tasks = {r["title"].lower(): r["code"] for r in onet if r["tasks"]}
    twin = {r["code"]: with_tasks[r["title"].lower()] for r in onet
            if not r["tasks"] and r["title"].lower() in with_tasks}
    onet_names, onet_name_code = [], []
    for j, row in enumerate(onet):
        for name in dict.fromkeys(normalise_title(n) for n in onet_title_names(row["title"])):
            if name:
                onet_names.append(name)
                onet_name_code.append(j)
    onet_name_vectors = _embed(embedder, onet_names, cache_dir)
    name_code = np.array(onet_name_code)

    def best_name_sim(vectors: np.ndarray) -> np.ndarray:
        """Per O*NET occupation, the best cosine of each vector to one of its names."""
        out = np.full((len(vectors), len(onet)), -1.0, dtype=np.float32)
        for start in range(0, len(vectors), 2048):
            sims = vectors[start:start + 2048] @ onet_name_vectors.T
            block = out[start:start + 2048]
            for k in range(sims.shape[1]):
                np.maximum(block[:, name_code[k]], sims[:, k], out=block[:, name_code[k]])
        return out

    logger.info("tying %d ESCO occupations to O*NET profiles", len(esco))
    esco_desc = _embed(embedder, [f"{r['title']}. {r['description'][:600]}" for r in esco],
                       cache_dir, progress=True)
    labels, label_owner = [], []
    for i, row in enumerate(esco):
        for label in dict.fromkeys(normalise_title(x) for x in row["labels"]):
            if label:
                labels.append(label)
                label_owner.append(i)
    label_vectors = _embed(embedder, labels, cache_dir, progress=True)
    label_sims = best_name_sim(label_vectors)
    esco_label_sim = np.full((len(esco), len(onet)), -1.0, dtype=np.float32)
    np.maximum.at(esco_label_sim, np.array(label_owner), label_sims)
    # An ESCO occupation is tied by its definition (mostly) and its best title match.
    esco_scores = 0.75 * (esco_desc @ profiles.T) + 0.25 * esco_label_sim + 0.03 * base
    esco_scores[:, no_tasks] = -1.0
    esco_code = esco_scores.argmax(axis=1)

    corpus = load_public_corpus(shared, seed=seed)
    sample = _sample_postings(corpus.train, max_postings, seed)
    logger.info("tying %d real posting titles to O*NET profiles", len(sample))
    ad_vectors = _embed(embedder, [f"{p.title}. {p.description[:1500]}" for p in sample],
                        cache_dir, progress=True)
    ad_scores = ad_vectors @ profiles.T + 0.03 * base
    ad_scores[:, no_tasks] = -1.0
    ad_code = ad_scores.argmax(axis=1)
    ad_best = ad_scores.max(axis=1)
    posting_names = [normalise_title(p.title) for p in sample]
    posting_vectors = _embed(embedder, posting_names, cache_dir)

    names: list[dict] = []
    vectors: list[np.ndarray] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, code: str, source: str, vector: np.ndarray, esco: int | None = None
            ) -> None:
        if name and (name, code, source) not in seen:
            seen.add((name, code, source))
            entry = {"name": name, "code": code, "source": source}
            if esco is not None:
                entry["esco"] = esco  # which ESCO occupation the label names
            names.append(entry)
            vectors.append(vector)

    for name, j, vector in zip(onet_names, onet_name_code, onet_name_vectors, strict=True):
        add(name, twin.get(onet[j]["code"], onet[j]["code"]), "onet", vector)
    esco_by_code: dict[str, list[str]] = defaultdict(list)
    for i, row in enumerate(esco):
        esco_by_code[onet[int(esco_code[i])]["code"]].append(row["title"])
    for label, owner, vector in zip(labels, label_owner, label_vectors, strict=True):
        add(label, onet[int(esco_code[owner])]["code"], "esco", vector, owner)
    assigned: dict[str, list[Posting]] = defaultdict(list)
    for posting, name, vector, index, score in zip(sample, posting_names, posting_vectors,
                                                   ad_code, ad_best, strict=True):
        if score < MIN_POSTING_SIM:
            continue
        code = onet[int(index)]["code"]
        assigned[code].append(posting)
        add(name, code, "posting", vector)

    lexicon = SkillLexicon.load(Path(__file__).resolve().parents[1] / "bundled" / "classifier"
                                / "skills.json")
    skills = occupation_skills(assigned, lexicon)
    occupations = [{**row, "esco_titles": esco_by_code.get(row["code"], [])[:8],
                    "skills": skills.get(row["code"], [])} for row in onet]
    (out_dir / "occupations.json").write_text(json.dumps(occupations, ensure_ascii=False,
                                                         indent=0))
    (out_dir / "names.json").write_text(json.dumps(names, ensure_ascii=False))
    (out_dir / "esco.json").write_text(json.dumps(
        [{"title": r["title"], "description": r["description"]} for r in esco],
        ensure_ascii=False))
    counts = corpus_word_counts(p.description for p in corpus.train)
    (out_dir / "corpus_words.tsv").write_text(
        "".join(f"{w}\t{n}\n" for w, n in sorted(counts.items())), encoding="utf-8")
    np.save(out_dir / "names.npy", quantise(np.stack(vectors)))
    np.save(out_dir / "profiles.npy", quantise(profiles))
    (out_dir / "ATTRIBUTION.md").write_text(
        "# Sources of the occupation index\n\n"
        f"- Occupation titles, summaries and task statements: {ONET_ATTRIBUTION}. "
        "Task statements are used verbatim or lightly edited in generated job descriptions.\n"
        f"- Alternative titles and occupation definitions (`esco.json`; a definition that "
        f"names the requested title closely is used, lightly edited, in a JD's opening): "
        f"{ESCO_ATTRIBUTION}.\n"
        "- Posting titles (titles only, no ad text) from the public job-posting datasets in "
        "../shared/data/job_postings (see their licences there), used to tie real-world titles "
        "to occupations.\n"
        "- Skills per occupation: phrases of the CV skills lexicon that ads tied to the "
        "occupation ask for (counts only).\n"
        "\nMade by `hirebot data occupations`.\n")
    summary = {"occupations": len(onet), "names": len(names),
               "by_source": dict(Counter(n["source"] for n in names)),
               "postings_tied": int((ad_best >= MIN_POSTING_SIM).sum()),
               "postings_sampled": len(sample), "corpus_words": len(counts),
               "old_codes_merged_into_twins": len(twin)}
    (out_dir / "index.json").write_text(json.dumps(summary, indent=2))
    return summary
