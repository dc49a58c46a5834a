"""``hirebot train classifier``: build the screening model folder from labelled CVs.

Steps, all seeded: embed every CV once; out-of-fold decisions (3 folds) give the softmax
temperature and the held-out probabilities the verdict calibrator is fitted on; then the final
classifier, the skills lexicon and the title bank are fitted on all data. The folder holds arrays
(safetensors) and JSON only, plus a model card with the data hashes, command and metrics.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from models.common.fingerprint import expected_calibration_error, files_hash
from models.screening.classifier import CVClassifier, Recipe, encode_cvs, learn_title_words
from models.screening.datasets import LabelledCVs
from models.screening.head import softmax
from models.screening.roles import TitleBank, plausible_title
from models.screening.screener import MODEL_NAME, Thresholds, VerdictCalibrator
from models.screening.skills import SkillLexicon, prepare_text

logger = logging.getLogger(__name__)

# Raising probabilities to this power reproduces how unsure the classifier is of real-world CVs
# (top probability ~0.1-0.35 on the CC0 fixtures vs ~0.8 out-of-fold on the training CVs).
FLATTEN_POWER = 0.35


def out_of_fold_decisions(
    enc,
    labels: list[str],
    recipe: Recipe,
    *,
    folds: int,
    seed: int,
    progress=None,
    title_words: list[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    classes = sorted(set(labels))
    y = np.asarray(labels)
    dec = np.zeros((len(labels), len(classes)), dtype=np.float64)
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(y)), y):
        clf = CVClassifier(recipe).fit(
            enc.subset(tr), list(y[tr]), title_words=title_words or []
        )
        fold_dec = clf.decision_function(enc.subset(te))
        # a fold may miss a rare class: place its columns by name
        cols = [classes.index(c) for c in clf.classes]
        dec[np.ix_(te, cols)] = fold_dec
        missing = [i for i, c in enumerate(classes) if c not in clf.classes]
        if missing:
            dec[np.ix_(te, missing)] = fold_dec.min() - 1.0
        if progress:
            progress.update(1)
    return dec, classes


def calibration_pairs(enc, labels, probs, classes, bank, lexicon, embedder, *, seed: int):
    """Held-out (CV, title) pairs: for each CV one real title of its own category and one of
    another, scored as if the title were unseen (and each again without the CV's headline).
    Returns features, targets and the CV index of each pair."""
    rng = np.random.default_rng(seed)
    titled = [i for i, h in enumerate(enc.headlines) if plausible_title(h)]
    by_cat: dict[str, list[int]] = {}
    for i in titled:
        by_cat.setdefault(labels[i], []).append(i)
    title_text = {i: " ".join(enc.headlines[i].split()).title() for i in titled}
    unique_titles = sorted(set(title_text.values()))
    title_emb = dict(zip(unique_titles, embedder.encode(unique_titles), strict=True))
    dist_cache: dict[str, np.ndarray] = {}
    calib = VerdictCalibrator()
    feats, targets, groups = [], [], []
    prepared = [prepare_text(t) for t in enc.texts]
    flat = probs**FLATTEN_POWER
    flat /= flat.sum(axis=1, keepdims=True)
    for i in range(len(labels)):
        same = [j for j in by_cat.get(labels[i], []) if j != i]
        other = [j for j in titled if labels[j] != labels[i]]
        picks = []
        if same:
            picks.append((same[rng.integers(len(same))], 1))
        if other:
            picks.append((other[rng.integers(len(other))], 0))
        for j, target in picks:
            title = title_text[j]
            emb = title_emb[title]
            if title not in dist_cache:
                dist_cache[title] = bank.distribution(emb, classes, exclude=title)
            dist = dist_cache[title]
            skills = _role_skills(dist, classes, lexicon)
            matched = sum(1 for s in skills if f" {s} " in prepared[i])
            coverage = matched / len(skills) if skills else 0.5
            body_sim = float(enc.body_emb[i] @ emb)
            head_sim = float(enc.head_emb[i] @ emb) if enc.headlines[i] else None
            # Real-world CVs differ from the training CVs in two ways the calibrator must have
            # seen: the classifier is less sure of them (flattened twin), and most open with a
            # name rather than a job title (twin without the headline signal).
            for p in (probs[i], flat[i]):
                mass, top = float(dist @ p), float(p.max())
                feats.append(calib.features(mass, top, head_sim, body_sim, coverage))
                targets.append(target)
                groups.append(i)
                if head_sim is not None:
                    feats.append(calib.features(mass, top, None, body_sim, coverage))
                    targets.append(target)
                    groups.append(i)
    return np.array(feats), np.array(targets), np.array(groups)


def _role_skills(dist, classes, lexicon) -> list[str]:
    order = np.argsort(-dist, kind="stable")
    skills: list[str] = []
    for rank, i in enumerate(order[:3]):
        if rank > 0 and dist[i] < 0.15:
            break
        for s in lexicon.by_category.get(classes[i], [])[: 10 if rank == 0 else 4]:
            if s not in skills:
                skills.append(s)
    return skills


def train_classifier(
    data: LabelledCVs,
    out_dir: Path,
    embedder,
    *,
    recipe: Recipe | None = None,
    folds: int = 3,
    seed: int = 0,
    command: str = "hirebot train classifier",
    progress: bool = True,
) -> dict:
    """Train and write a complete screening model folder; returns the metrics."""
    from tqdm import tqdm

    recipe = recipe or Recipe(seed=seed)
    started = time.time()
    labels = list(data.labels)
    logger.info("embedding %d CVs", len(labels))
    title_words = learn_title_words(data.texts)
    enc = encode_cvs(data.texts, embedder, title_words=title_words, progress=progress)

    bar = tqdm(total=folds + 1, desc="fitting", unit="model", disable=not progress)
    dec, classes = out_of_fold_decisions(
        enc, labels, recipe, folds=folds, seed=seed, progress=bar, title_words=title_words
    )
    clf = CVClassifier(recipe)
    clf.classes = classes
    temperature = clf.fit_temperature(dec, labels)
    probs = softmax(dec / temperature)
    y_idx = np.array([classes.index(lbl) for lbl in labels])
    oof_acc = float((dec.argmax(1) == y_idx).mean())
    oof_nll = float(-np.mean(np.log(probs[np.arange(len(y_idx)), y_idx] + 1e-12)))

    final = CVClassifier(recipe).fit(enc, labels, title_words=title_words)
    final.temperature = temperature
    bar.update(1)
    bar.close()

    lexicon = SkillLexicon.build(data.texts, labels)
    bank = TitleBank.build(enc.headlines, labels, embedder, classes=classes)

    x, t, groups = calibration_pairs(
        enc, labels, probs, classes, bank, lexicon, embedder, seed=seed
    )
    # Hold out by CV: all of a CV's pairs (and their headline-less twins) on one side.
    rng = np.random.default_rng(seed)
    holdout = (rng.random(len(labels)) < 0.3)[groups]
    lr = LogisticRegression(C=1.0).fit(x[~holdout], t[~holdout])
    p_hold = lr.predict_proba(x[holdout])[:, 1]
    thresholds = Thresholds()
    verdicts = np.array([thresholds.verdict(p) for p in p_hold])
    verdict_metrics = {
        "pairs": int(len(t)),
        "heldout_pairs": int(holdout.sum()),
        "auc": round(float(roc_auc_score(t[holdout], p_hold)), 4),
        "brier": round(float(brier_score_loss(t[holdout], p_hold)), 4),
        "ece": round(expected_calibration_error(p_hold, t[holdout]), 4),
        "fit_precision": round(float(t[holdout][verdicts == "fit"].mean()), 4),
        "no_fit_precision": round(float(1 - t[holdout][verdicts == "no_fit"].mean()), 4),
        "share_maybe": round(float((verdicts == "maybe").mean()), 4),
    }
    lr = LogisticRegression(C=1.0).fit(x, t)  # final calibrator on all pairs

    out_dir.mkdir(parents=True, exist_ok=True)
    verdict = {"coef": [float(c) for c in lr.coef_[0]], "intercept": float(lr.intercept_[0])}
    (out_dir / "verdict.json").write_text(json.dumps(verdict, indent=2))
    lexicon.save(out_dir / "skills.json")
    bank.save(out_dir)
    metrics = {
        "n_cvs": len(labels),
        "n_classes": len(classes),
        "oof_accuracy": round(oof_acc, 4),
        "oof_log_loss": round(oof_nll, 4),
        "temperature": round(temperature, 4),
        "verdict": verdict_metrics,
        "train_seconds": round(time.time() - started, 1),
    }
    final.metadata = {
        "name": MODEL_NAME,
        "data": data.name,
        "data_sha256": data.sha256,
        "embedding_model": getattr(embedder, "name", "all-MiniLM-L6-v2"),
        "command": command,
        "seed": seed,
        "recipe": asdict(recipe),
        "metrics": metrics,
    }
    final.save(out_dir)
    version = _content_version(out_dir)
    final.metadata["version"] = version
    final.save(out_dir)
    write_model_card(out_dir, final.metadata)
    logger.info("classifier %s written to %s", version, out_dir)
    return {"version": version, **metrics}


def _content_version(folder: Path) -> str:
    return files_hash(folder, ("head.safetensors", "vocab.json", "verdict.json", "skills.json",
                               "titles.json"), missing_ok=False)


def write_model_card(folder: Path, meta: dict) -> None:
    m = meta["metrics"]
    v = m["verdict"]
    eval_path = folder / "EVAL.json"
    eval_section = ""
    ev = json.loads(eval_path.read_text()) if eval_path.exists() else {}
    if ev and ev.get("recipe") == meta.get("recipe"):
        rows = []
        for ds, res in ev.items():
            if ds == "recipe" or not isinstance(res, dict) or "hirebot" not in res:
                continue
            for model, r in res.items():
                rows.append(f"| {ds} | {model} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |")
        eval_section = (
            "\n## Cross-validated accuracy (`hirebot eval classifier`)\n\n"
            "| dataset | model | accuracy | macro-F1 |\n|---|---|---|---|\n"
            + "\n".join(rows)
            + "\n"
        )
    card = f"""# {meta['name']} {meta['version']}

CV occupational classifier and verdict calibrator for hirebot. Arrays in safetensors, vocabularies
and parameters in JSON: nothing in this folder is unpickled.

## Data
- `{meta['data']}`: {m['n_cvs']} CVs after removing exact duplicate texts,
  {m['n_classes']} categories (`models/screening/taxonomy.py` maps both label sets onto one
  taxonomy).
- Sources: `resumes/kaggle_livecareer_resume_text_from_pdf.csv` (livecareer, 24 industries) and
  `resumes/UpdatedResumeDataSet.csv` (166 unique of 962 rows, 25 tech-leaning roles), from
  `../shared/data` (see its MANIFEST.tsv for origin; no license stated, so only derived weights,
  counts and job-title strings ship here -- no CV text).
- Data sha256: `{meta['data_sha256']}`

## Command
`{meta['command']}` (seed {meta['seed']}; embeddings: {meta['embedding_model']}, bf16 where the CPU
supports it).

## Model
Stacked features -- word 1-2-gram TF-IDF, char 3-5-gram TF-IDF, headline TF-IDF, MiniLM embeddings
of the first 256 tokens and of the headline (the headline is the opening line that holds a job-title
word, never the candidate's name) -- into a class-balanced LinearSVC, plus a small prior on each
category whose name occurs in the CV; softmax temperature {m['temperature']} fitted on out-of-fold
decisions. Recipe: `{meta['recipe']}`.

## Metrics
- Out-of-fold (3-fold) accuracy on the training data: {m['oof_accuracy']:.3f}; log-loss
  {m['oof_log_loss']:.3f}.
- Verdict calibration on {v['heldout_pairs']} held-out CV/title pairs (30% of CVs held out; titles
  are other CVs' real headlines, one from the CV's own category and one from another; every pair
  also appears with flattened classifier probabilities and without the CV's headline, the two ways
  real-world CVs differ from the training CVs): AUC {v['auc']:.3f}, Brier {v['brier']:.3f},
  expected calibration error {v['ece']:.3f}; "fit" verdicts are right {v['fit_precision']:.1%} of
  the time, "no fit" {v['no_fit_precision']:.1%}; {v['share_maybe']:.1%} land in "maybe".
{eval_section}
## Refresh data
`refresh_data.safetensors` / `refresh_data.json` hold what a classifier refresh trains and gates on,
in derived form only: per training CV its MiniLM embeddings (body and headline), this
classifier's 3-fold out-of-fold decisions, its category and whether it is in the fixed 20 %
evaluation split; no text. Made by `hirebot train refresh-data --only classifier`; rebuild it
after retraining this folder (a refresh only uses data made by the classifier it refreshes).

## Limits
Labels are job-board categories and are noisy (an "ADVOCATE" CV can be a nurse's; livecareer files
"Software Engineer" CVs under four different industries). The taxonomy has no office/administration
category, so such CVs get flat category probabilities. The training CVs are older US job-board
CVs; modern CVs (name and contact lines first, shorter) are classified less confidently, which the
calibrator accounts for but cannot fully undo. The score says whether a CV belongs to the role's
occupation, not how good the candidate is; it is a screening aid for a person, never a decision.
"""
    (folder / "MODEL_CARD.md").write_text(card)
