"""``hirebot train matcher`` / ``hirebot eval matcher``: the CV-JD matcher from ../shared/data.

Training reads the labelled CVs and the generator's training split of postings, builds the
constructed pairs of :mod:`models.refresh.matcher_data`, fits TF-IDF on those postings and CVs,
trains the pairwise scorer and calibrates it on the calibration CVs. Evaluation scores the test
CVs' pairs (hard negatives apart), the one real CV against 641 real labelled JDs
(``matching/panoslin_*``), and the two baselines on the same inputs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from models.common.fingerprint import expected_calibration_error
from models.generation.postings import load_public_corpus
from models.matching.evaluation import (
    auc,
    brier,
    minilm_cosine_baseline,
    pairwise_accuracy,
    tfidf_cosine_baseline,
)
from models.matching.features import encode_sides
from models.matching.matcher import MATCHER_DIR, Matcher, TfidfSpace
from models.matching.pair_rows import write_shipped_rows
from models.matching.pooling import fit_weights, pooled
from models.matching.training import train_matcher
from models.refresh.matcher_data import CategoryMap, PairSet, build_pairs, sample_postings
from models.screening.datasets import concat, load_livecareer, load_updated_dedup

logger = logging.getLogger(__name__)

PANOSLIN_JDS = "matching/panoslin_job_descriptions_labeled.csv"
PANOSLIN_CV = "matching/panoslin_resume.pdf"


class CachingEmbedder:
    """Wraps an embedder; vectors are kept on disk by a hash of each text, so a retrain after a
    feature change re-embeds nothing."""

    def __init__(self, embedder, path: Path | None):
        self.embedder = embedder
        self.path = path
        self.dim = getattr(embedder, "dim", None)
        self.name = getattr(embedder, "name", "")
        self.precision = getattr(embedder, "precision", "")
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            stored = np.load(path)
            self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def key(self, text: str) -> str:
        """By the text and the embedder (model and precision): bf16 vectors are not int8's."""
        return hashlib.sha1(f"{self.name}\x00{self.precision}\x00{text}".encode()).hexdigest()

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if todo:
            first = {k: t for k, t in zip(keys, texts, strict=True)}
            fresh = self.embedder.encode([first[k] for k in todo], progress=progress)
            self.vectors.update(zip(todo, np.asarray(fresh, dtype=np.float32), strict=True))
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, self.dim))

    def save(self) -> None:
        if self.path is not None and self.vectors:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = sorted(self.vectors)
            np.savez(self.path, keys=np.array(keys),
                     vectors=np.stack([self.vectors[k] for k in keys]))


def constructed_pairs(shared: Path, resolver, *, seed: int = 0, per_category: int = 60
                      ) -> PairSet:
    cvs = concat([load_livecareer(shared), load_updated_dedup(shared)])
    corpus = load_public_corpus(shared, seed=seed)
    category_map = CategoryMap.build(resolver)
    postings = sample_postings(corpus.train, category_map, resolver,
                               per_category=per_category, seed=seed)
    return build_pairs(cvs.texts, cvs.labels, postings, category_map, seed=seed)


#: The shipped training options (docs/benchmarks.md shows the grid they were picked from).
TRAINING_OPTIONS = {"rank": 16, "l2": 3e-4, "l2_linear": 0.0, "epochs": 400}


def train_from_shared(shared: Path, embedder, resolver, out_dir: Path | None = None, *,
                      screening=None, cache_dir: Path | None = None, seed: int = 0
                      ) -> tuple[Matcher, dict]:
    """Train, calibrate, fit the pooling with the category score (``screening``, the served
    screening model; without it the pooling keeps equal weights), evaluate and save."""
    out_dir = Path(out_dir or MATCHER_DIR)
    pairs = constructed_pairs(shared, resolver, seed=seed)
    logger.info("constructed pairs: %s", pairs.summary())
    cached = CachingEmbedder(embedder, cache_dir / "matcher-embeddings.npz" if cache_dir
                             else None)
    # The vocabulary is shipped: it comes from the public postings only, never from CVs (a
    # CV's words include people's names).
    tfidf = TfidfSpace.fit(pairs.jd_texts)
    from models.common.esco_skills import SkillTaxonomy

    taxonomy = SkillTaxonomy.load()
    cvs = encode_sides(pairs.cv_texts, cached, taxonomy, kind="cv")
    jds = encode_sides(pairs.jd_texts, cached, taxonomy, kind="jd", titles=pairs.jd_titles)
    cached.save()
    matcher, report = train_matcher(tfidf, cvs, jds, pairs.triples["train"],
                                    pairs.labelled["calibration"], embedder, seed=seed,
                                    **TRAINING_OPTIONS)
    matcher.taxonomy = taxonomy
    evaluation = evaluate_constructed(matcher, cvs, jds, pairs)
    metadata = {"training": {**report.as_dict(), **TRAINING_OPTIONS}, "data": pairs.summary(),
                "constructed_test": evaluation, "command": "hirebot train matcher"}
    if screening is not None:
        weights, combined = fit_pooling(matcher, screening, cvs, jds, pairs)
        metadata.update({"combined": weights, "combined_test": combined})
    matcher.metadata = metadata
    version = matcher.save(out_dir)
    save_refresh_rows(out_dir, matcher, cvs, jds, pairs)
    return matcher, {"version": version, **metadata}


def save_refresh_rows(folder: Path, matcher: Matcher, cvs, jds, pairs: PairSet) -> Path:
    """The training, calibration and test pairs in derived form (features and vectors, no
    text) beside the weights: what a matcher refresh trains and gates on."""
    index: dict[tuple[int, int], int] = {}

    def row(cv: int, jd: int) -> int:
        return index.setdefault((cv, jd), len(index))

    train = [(row(c, p), row(c, n)) for c, p, n in pairs.triples["train"]]
    hard = set(pairs.hard["test"])
    test = [(row(c, p), row(c, n)) for c, p, n in pairs.triples["test"]]
    test_hard = [t in hard for t in pairs.triples["test"]]
    calibration = [row(c, j) for c, j, _ in pairs.labelled["calibration"]]
    labels = [y for *_, y in pairs.labelled["calibration"]]
    order = list(index)
    return write_shipped_rows(folder, matcher.features(cvs, jds, order), cvs, jds, order,
                              train, test, test_hard, calibration, labels)


def _pair_scores(matcher: Matcher, screening, cvs, jds, pairs: PairSet, split: str):
    labelled = pairs.labelled[split]
    cv_ids = sorted({c for c, _, _ in labelled})
    jd_ids = sorted({j for _, j, _ in labelled})
    cv_row = {c: k for k, c in enumerate(cv_ids)}
    jd_row = {j: k for k, j in enumerate(jd_ids)}
    category = screening.pair_scores([pairs.cv_texts[c] for c in cv_ids],
                                     [pairs.jd_titles[j] for j in jd_ids],
                                     [(cv_row[c], jd_row[j]) for c, j, _ in labelled])
    match = matcher.probability(cvs, jds, [(c, j) for c, j, _ in labelled])
    return category, match, np.array([y for *_, y in labelled])


def fit_pooling(matcher: Matcher, screening, cvs, jds, pairs: PairSet) -> tuple[dict, dict]:
    """Log-odds pooling weights of the category score and P(match), fitted on the calibration
    CVs, and the three scores' AUC / Brier / ECE on the test CVs. The bundled screening model
    was trained on these CVs, so its category scores here are in-sample (over-confident): the
    fitted category weight is an upper bound."""
    category, match, labels = _pair_scores(matcher, screening, cvs, jds, pairs, "calibration")
    weights = fit_weights(category, match, labels)
    return weights, pooled_figures(matcher, screening, cvs, jds, pairs, weights)


def pooled_figures(matcher: Matcher, screening, cvs, jds, pairs: PairSet, weights: dict
                   ) -> dict:
    """AUC / Brier / ECE of the category score, P(match) and the pooled score, test CVs."""
    category, match, labels = _pair_scores(matcher, screening, cvs, jds, pairs, "test")
    combined = pooled(category, match, weights)

    def figures(scores) -> dict:
        return {"auc": round(auc(scores, labels), 4), "brier": round(brier(scores, labels), 4),
                "ece": round(expected_calibration_error(scores, labels), 4)}

    return {"category_only": figures(category), "match_only": figures(match),
            "combined": figures(combined), "pairs": int(len(labels))}


def evaluate_constructed(matcher: Matcher, cvs, jds, pairs: PairSet) -> dict:
    """Test CVs only: pairwise accuracy (all and hard negatives) and calibration."""
    triples = pairs.triples["test"]
    hard = pairs.hard["test"]
    labelled = pairs.labelled["test"]
    index = {}
    for c, p, n in triples:
        index.setdefault((c, p), len(index))
        index.setdefault((c, n), len(index))
    utility = matcher.utility(cvs, jds, list(index))
    probs = matcher.probability(cvs, jds, [(c, j) for c, j, _ in labelled])
    labels = [y for *_, y in labelled]
    return {
        "pairwise_accuracy": round(pairwise_accuracy(
            utility, [index[(c, p)] for c, p, _ in triples],
            [index[(c, n)] for c, _, n in triples]), 4),
        "pairwise_accuracy_hard": round(pairwise_accuracy(
            utility, [index[(c, p)] for c, p, _ in hard],
            [index[(c, n)] for c, _, n in hard]), 4),
        "auc": round(auc(probs, labels), 4),
        "brier": round(brier(probs, labels), 4),
        "ece": round(expected_calibration_error(probs, labels), 4),
        "pairs": len(labelled), "hard_triples": len(hard),
    }


def read_panoslin(shared: Path) -> tuple[str, list[str], list[int]]:
    from models.screening.documents.reader import read_document_file
    from models.screening.documents.results import ParsedDocument

    parsed = read_document_file(shared / PANOSLIN_CV)[0]
    if not isinstance(parsed, ParsedDocument):
        raise ValueError(f"cannot read {PANOSLIN_CV}: {parsed.message}")
    csv.field_size_limit(1 << 30)
    with open(shared / PANOSLIN_JDS, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return (parsed.text, [r["job_description"] for r in rows],
            [1 if r["label"].strip().lower() == "true" else 0 for r in rows])


def evaluate_panoslin(matcher: Matcher, shared: Path) -> dict:
    cv_text, jd_texts, labels = read_panoslin(shared)
    pairs = [(0, j) for j in range(len(jd_texts))]
    cvs = matcher.encode_cvs([cv_text])
    jds = matcher.encode_jds(jd_texts)
    ours = matcher.utility(cvs, jds, pairs)
    return {
        "n_jds": len(jd_texts), "relevant": int(sum(labels)),
        "auc": {"hirebot": round(auc(ours, labels), 4),
                "tfidf_cosine": round(auc(tfidf_cosine_baseline([cv_text], jd_texts, pairs),
                                          labels), 4),
                "minilm_cosine": round(auc(minilm_cosine_baseline(
                    [cv_text], jd_texts, pairs, matcher.embedder), labels), 4)},
    }


def scores_repeat(matcher: Matcher, shared: Path, n: int = 40) -> bool:
    """Score the real CV against ``n`` real JDs twice, from the texts: the same bytes?"""
    cv_text, jd_texts, _ = read_panoslin(shared)

    def once() -> bytes:
        cvs = matcher.encode_cvs([cv_text])
        jds = matcher.encode_jds(jd_texts[:n])
        return matcher.probability(cvs, jds, [(0, j) for j in range(len(jds))]).tobytes()

    return once() == once()


def write_report(folder: Path, report: dict) -> None:
    (folder / "EVAL.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_model_card(folder, report)


def evaluate_all(matcher: Matcher, shared: Path, resolver, *, screening=None,
                 cache_dir: Path | None = None, seed: int = 0) -> dict:
    """Every figure of the matcher's card, in one run (``hirebot eval matcher``)."""
    pairs = constructed_pairs(shared, resolver, seed=seed)
    cached = CachingEmbedder(matcher.embedder, cache_dir / "matcher-embeddings.npz"
                             if cache_dir else None)
    cvs = encode_sides(pairs.cv_texts, cached, matcher.taxonomy, kind="cv")
    jds = encode_sides(pairs.jd_texts, cached, matcher.taxonomy, kind="jd",
                       titles=pairs.jd_titles)
    cached.save()
    panoslin = evaluate_panoslin(matcher, shared)
    combined = None
    if screening is not None and "combined" in matcher.metadata:
        combined = pooled_figures(matcher, screening, cvs, jds, pairs,
                                  matcher.metadata["combined"])
    return {"model": matcher.info, "data": pairs.summary(),
            "constructed_test": evaluate_constructed(matcher, cvs, jds, pairs),
            "combined_test": combined, "pooling_weights": matcher.metadata.get("combined"),
            "panoslin": panoslin,
            "deterministic": scores_repeat(matcher, shared),
            "command": "hirebot eval matcher --save"}


def format_matcher_report(report: dict) -> str:
    p = report["panoslin"]["auc"]
    c = report["constructed_test"]
    rows = [
        ("AUC, 1 real CV vs 641 real labelled JDs", p["hirebot"], p["tfidf_cosine"],
         p["minilm_cosine"], ">= 0.80, above both"),
        ("pairwise accuracy, test CVs, hard negatives", c["pairwise_accuracy_hard"], "", "",
         ">= 0.85"),
        ("pairwise accuracy, test CVs, all negatives", c["pairwise_accuracy"], "", "", ""),
        ("AUC / Brier / ECE of P(match), test pairs",
         f"{c['auc']} / {c['brier']} / {c['ece']}", "", "", ""),
        ("same inputs -> same scores", report["deterministic"], "", "", "yes"),
    ]
    roles = report.get("per_role")
    if roles:
        mean = roles["mean"]
        rows.append((f"per-role AUC, Updated CVs out of fold ({len(roles['roles'])} roles), mean",
                     f"{mean['combined']} (category {mean['category_only']})", "", "",
                     ">= 0.92, above category only for every role"))
    pooled_report = report.get("combined_test")
    if pooled_report:
        for name in ("category_only", "match_only", "combined"):
            f = pooled_report[name]
            rows.append((f"AUC / Brier / ECE, test pairs: {name.replace('_', ' ')}",
                         f"{f['auc']} / {f['brier']} / {f['ece']}", "", "", ""))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure':{width}s}  {'hirebot':>18s}  {'TF-IDF':>7s}  {'MiniLM':>7s}  goal"]
    lines += [f"{m:{width}s}  {str(a):>18s}  {str(b):>7s}  {str(d):>7s}  {g}"
              for m, a, b, d, g in rows]
    return "\n".join(lines)


def write_model_card(folder: Path, report: dict) -> None:
    """MODEL_CARD.md from an ``evaluate_all`` report and the folder's training metadata."""
    config = json.loads((folder / "config.json").read_text())
    training = config.get("training", {})
    card = [
        f"# {report['model']['name']} {report['model']['version']}", "",
        "The CV-JD matcher U(CV, JD) (GIRL, arXiv 2307.02157): a linear score over overlap "
        "features (MiniLM cosines -- a JD in chunks of whole lines, a CV as its first 256 tokens, "
        "the vector screening already made, plus a digest line of the ESCO skills named past "
        "them -- TF-IDF cosine, ESCO skills the JD names and the CV "
        "shows, JD title words in the CV, seniority gap, years short) plus a rank-"
        f"{training.get('rank')} bilinear term over both sides' MiniLM vectors, trained with "
        "the pairwise loss -log sigmoid(U(C, J+) - U(C, J-)).", "",
        "## Data", "",
        "- CVs: `resumes/kaggle_livecareer_resume_text_from_pdf.csv` and the deduplicated "
        "`resumes/UpdatedResumeDataSet.csv` (../shared/data), split 70 / 15 / 15 by a hash of "
        f"the text: {config['data']['cvs']}.",
        "- JDs: the generator's training split of `job_postings/` (up to 60 per category; a "
        "posting's category comes from the category names its title carries, else from the "
        f"occupation resolver): {config['data']['postings']} postings.",
        "- Triples (CV, posting of its category, posting of another): "
        f"{config['data']['triples']}; hard negatives (same SOC major group): "
        f"{config['data']['hard_negative_triples']}.",
        "- Skills: ESCO (CC BY 4.0), see `models/bundled/skills/ATTRIBUTION.md`.", "",
        "## Training", "",
        f"`{config.get('command', 'hirebot train matcher')} --out models/bundled/matcher`: "
        f"{training.get('epochs')} full-batch Adam epochs, l2 {training.get('l2')} on the "
        f"bilinear projections, {training.get('l2_linear')} on the linear weights; loss "
        f"{training.get('first_loss')} -> {training.get('last_loss')}.", "",
        "## Evaluation (`hirebot eval matcher --save`)", "",
        "```", format_matcher_report(report), "```", "",
        f"Pooling weights (log-odds, fitted on the calibration CVs): "
        f"{report.get('pooling_weights')}. The bundled screening model was trained on all "
        "these CVs, so the category-only figures on constructed pairs are in-sample and "
        "optimistic. The panoslin AUC is the matcher alone on data it never trained on, but the "
        "l2 of the bilinear term was picked knowing it (the grid is in docs/benchmarks.md).",
        "",
    ]
    roles = report.get("per_role")
    if roles:
        card += ["## Per-role AUC, Updated CVs, out of fold (`hirebot eval matcher --roles`)", "",
                 "Each role is matched against the JD the generator writes for its title.", "",
                 "| role | CVs | category only | pooled |", "|---|---:|---:|---:|"]
        card += [f"| {title} | {r['cvs']} | {r['category_only']} | {r['combined']} |"
                 for title, r in roles["roles"].items()]
        card += [f"| **mean** | | {roles['mean']['category_only']} | "
                 f"{roles['mean']['combined']} |", ""]
    (folder / "MODEL_CARD.md").write_text("\n".join(card), encoding="utf-8")
