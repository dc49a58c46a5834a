"""One refresh: train a candidate, measure it beside the active version, promote or reject.

Both kinds follow the same steps inside a registry run: the candidate is built in the run's
``tmp-`` folder, measured with the *same* figures as the active version in the same process, and
moved into ``versions/`` and made active only when the gate passes. Anything that stops the
process part-way leaves the active version as it was (see :mod:`models.common.registry`).
Nothing here knows about Slack or the bot's database: the team's data comes in as plain rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from models.common.registry import Registry, RunRecord
from models.generation.postings import Posting
from models.refresh.figures import improved_figures
from models.refresh.generator import GeneratorRefreshConfig

logger = logging.getLogger(__name__)


@dataclass
class GateTolerance:
    """How much worse than the active version a candidate may measure and still be promoted."""

    macro_f1: float = 0.01  # absolute
    bits_per_char: float = 0.01  # relative (1 %)
    repetition_rate: float = 0.05  # absolute share of samples


@dataclass
class TeamCV:
    """A labelled CV in derived form (head features under the bundled classifier), no text."""

    key: str
    label: str
    features: np.ndarray
    base_version: str


@dataclass
class RefreshOutcome:
    kind: str
    run_id: str
    decision: str  # promoted | rejected | skipped | failed
    reason: str
    active_version: str
    candidate_version: str | None = None
    figures: dict = field(default_factory=dict)  # {"active": {...}, "candidate": {...}}
    png: str | None = None
    seconds: float = 0.0
    data_hash: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line an admin reads: the decision and the figures it compared."""
        active, cand = self.figures.get("active", {}), self.figures.get("candidate", {})
        compared = ", ".join(
            f"{name} {active[name]} -> {cand[name]}" for name in cand
            if name in active and name != "samples")
        head = f"{self.kind} refresh: {self.decision}"
        if self.candidate_version:
            head += f" (candidate {self.candidate_version} vs active {self.active_version})"
        return head + (f": {compared}" if compared else "") + (
            f". {self.reason}" if self.reason else "")


def data_hash(parts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for part in sorted(parts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def _finish(registry: Registry, record: RunRecord, outcome: RefreshOutcome,
            started: float) -> RefreshOutcome:
    outcome.seconds = round(time.time() - started, 1)
    record.data_hash = outcome.data_hash
    registry.finish_run(record, outcome.decision, reason=outcome.summary(),
                        figures=outcome.figures, version=outcome.candidate_version)
    (registry.root / "runs" / f"{record.run_id}.outcome.json").write_text(
        json.dumps(outcome.to_json(), indent=2))
    return outcome


def _already_seen(registry: Registry, team_hash: str, what: str, detail: str = "") -> str | None:
    """Why a refresh would learn nothing new: an earlier run, promoted or rejected, already
    trained on exactly this team data (so a rolled-back version is not promoted again)."""
    seen = registry.seen_data(team_hash)
    if not seen:
        return None
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(seen["started"]))
    return f"no new {what} since the refresh of {when} ({seen['status']}{detail})"


def _in_run(registry: Registry, kind: str, work) -> RefreshOutcome:
    """What both kinds share: a registry run, and no failure escaping it unrecorded."""
    started = time.time()
    record, tmp = registry.start_run()
    outcome = RefreshOutcome(kind, record.run_id, "failed", "", registry.active_version())
    try:
        return work(record, tmp, outcome, started)
    except Exception as exc:
        outcome.decision = "failed"
        outcome.reason = f"{type(exc).__name__}: {exc}"
        logger.exception("%s refresh failed", kind)
        return _finish(registry, record, outcome, started)


def _gate_table(active: dict, candidate: dict) -> str:
    """The gate's figures as the rows of a model card's Markdown table."""
    return "\n".join(f"| {k} | {active.get(k)} | {v} |" for k, v in candidate.items()
                     if k != "samples")


# ------------------------------------------------------------------------------ classifier
def refresh_classifier(registry: Registry, team: Sequence[TeamCV], *,
                       tolerance: GateTolerance | None = None,
                       force: bool = False) -> RefreshOutcome:
    """Refit the stacked head on shipped rows + team labels; promote if the gate passes."""
    from models.refresh.classifier import (
        confusion,
        fit_head,
        load_refresh_rows,
        macro_f1,
        predictions,
        team_split,
    )
    from models.refresh.plots import confusion_png
    from models.screening.head import RefreshHead
    from models.screening.taxonomy import category_name

    tolerance = tolerance or GateTolerance()

    def work(record: RunRecord, tmp: Path, outcome: RefreshOutcome, started: float):
        active_dir = registry.active_dir()
        bundled = json.loads((registry.bundled_dir / "config.json").read_text())
        base_version = bundled["metadata"].get("version", "")
        rows = load_refresh_rows(registry.bundled_dir)
        usable = [t for t in team if t.base_version == base_version and t.label in rows.classes
                  and len(t.features) == rows.x.shape[1]]
        ignored = len(team) - len(usable)
        team_hash = data_hash([f"{t.key}:{t.label}" for t in usable])
        if not force and (seen := _already_seen(registry, team_hash, "labelled CVs",
                                                f"; {len(usable)} labels")):
            outcome.decision, outcome.reason = "skipped", seen
            return _finish(registry, record, outcome, started)
        outcome.data_hash = team_hash
        held = team_split([t.key for t in usable])
        team_x = np.array([t.features for t in usable], dtype=np.float32).reshape(
            len(usable), rows.x.shape[1])
        team_y = np.array([rows.classes.index(t.label) for t in usable], dtype=np.int64)
        if not len(usable) and not force:
            outcome.decision = "skipped"
            outcome.reason = ("no team labels yet (👍 on a right \"fit\", 👎 on a wrong "
                              "\"no fit\", or `hirebot data add-cvs`)")
            return _finish(registry, record, outcome, started)
        head = fit_head(rows, team_x[~held], team_y[~held])

        n = len(rows.classes)
        x_eval, y_eval = rows.x[rows.is_eval], rows.y[rows.is_eval]
        active_head = RefreshHead.load(active_dir)
        figures: dict[str, dict] = {}
        for name, model in (("active", active_head), ("candidate", head)):
            figures[name] = {"fixed_macro_f1": macro_f1(y_eval, predictions(model, x_eval, n))}
            if held.any():
                figures[name]["team_macro_f1"] = macro_f1(
                    team_y[held], predictions(model, team_x[held], n))
        outcome.figures = figures
        passed = all(figures["candidate"][k] >= figures["active"][k] - tolerance.macro_f1
                     for k in figures["candidate"])

        version = "clf-" + hashlib.sha256(head.coef.tobytes() + head.intercept.tobytes()
                                          ).hexdigest()[:10]
        outcome.candidate_version = version
        folder = tmp / "model"
        shutil.copytree(registry.bundled_dir, folder,
                        ignore=shutil.ignore_patterns("refresh_data*", "EVAL.json",
                                                      "MODEL_CARD.md", "METRICS.json"))
        head.metadata = {"base_version": base_version, "team_labels": len(usable),
                         "team_held_out": int(held.sum()), "ignored_labels": ignored,
                         "shipped_rows": int((~rows.is_eval).sum()), "run_id": record.run_id}
        head.save(folder)
        config = json.loads((folder / "config.json").read_text())
        config["metadata"]["version"] = version
        config["metadata"]["refreshed_from"] = base_version
        (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        (folder / "METRICS.json").write_text(json.dumps(
            {"kind": "classifier", **{f"{k}": v for k, v in figures["candidate"].items()},
             "active_figures": figures["active"], "team_data_sha256": team_hash,
             "team_labels": len(usable), "tolerance": tolerance.macro_f1}, indent=2))
        png = registry.root / "runs" / f"{record.run_id}.png"
        confusion_png(confusion(y_eval, predictions(head, x_eval, n), n),
                      [category_name(c) for c in rows.classes], png,
                      title=f"candidate {version}: fixed evaluation set "
                            f"(macro-F1 {figures['candidate']['fixed_macro_f1']})")
        outcome.png = str(png)
        _write_classifier_card(folder, version, base_version, figures, len(usable),
                               int(held.sum()), tolerance)
        return _decide(registry, record, outcome, folder, passed, started,
                       f"macro-F1 may drop by at most {tolerance.macro_f1}")

    return _in_run(registry, "classifier", work)


def _decide(registry: Registry, record: RunRecord, outcome: RefreshOutcome, folder: Path,
            passed: bool, started: float, rule: str) -> RefreshOutcome:
    better = improved_figures(outcome.figures or {})
    if passed and (not better or outcome.candidate_version == registry.active_version()):
        outcome.decision = "rejected"
        outcome.reason = ("learnt nothing new: no figure is better than the active version's, "
                          "so promoting it would only add a version to roll back past")
        return _finish(registry, record, outcome, started)
    if passed:
        registry.commit(record, folder, outcome.candidate_version)
        registry.promote(outcome.candidate_version)
        outcome.decision = "promoted"
        outcome.reason = (f"better on {', '.join(better)}, and no figure worse than the active "
                          f"version's beyond the tolerance ({rule})")
    else:
        outcome.decision = "rejected"
        outcome.reason = f"worse than the active version beyond the tolerance ({rule})"
    return _finish(registry, record, outcome, started)


def _write_classifier_card(folder: Path, version: str, base_version: str, figures: dict,
                           labels: int, held: int, tolerance: GateTolerance) -> None:
    rows = _gate_table(figures["active"], figures["candidate"])
    (folder / "MODEL_CARD.md").write_text(f"""# hirebot-cv-screener {version} (refresh)

The bundled classifier {base_version} with a refreshed stacked head: a residual multinomial
logistic layer on the bundled classifier's decisions and the CV's MiniLM embeddings, fitted with
the shipped rows as soft targets (the bundled classifier's own out-of-fold probabilities) so it
moves only where the team's labels disagree with the bundled classifier.

## Data
- Shipped derived rows (`refresh_data.safetensors` of the bundled model: embeddings and
  out-of-fold decisions of the training CVs, no text), training split only.
- {labels} team labels (`hirebot data add-cvs`, and thumbs on verdicts), {held} of them held out
  for the gate; the team labels' mean loss weighs n / (n + 50) of the shipped rows' mean loss,
  so a few labels nudge the classifier and hundreds move it.

## Command
`hirebot refresh classifier --now` (or the nightly schedule).

## Gate (tolerance {tolerance.macro_f1} macro-F1)
| figure | active | this version |
|---|---|---|
{rows}
""")


# ------------------------------------------------------------------------------ generator
def refresh_generator(registry: Registry, team: Sequence[Posting], *,
                      config: GeneratorRefreshConfig | None = None, min_postings: int = 5,
                      gate_samples: int = 24, tolerance: GateTolerance | None = None,
                      force: bool = False,
                      embedder_factory: Callable[[], object] | None = None) -> RefreshOutcome:
    """Continue training the active generator on team postings; promote if the gate passes.

    ``embedder_factory`` builds the title resolver's embedder for the gate's drafts (the
    caller's embedding model and precision; MiniLM at ``auto`` precision when omitted)."""
    from models.generation.postings import deduplicate
    from models.generation.training import save_generator
    from models.refresh.classifier import team_split
    from models.refresh.generator import continue_training, gate_figures, load_anchor
    from models.refresh.plots import loss_curve_png

    tolerance = tolerance or GateTolerance()

    def work(record: RunRecord, tmp: Path, outcome: RefreshOutcome, started: float):
        active_dir = registry.active_dir()
        postings = deduplicate(team)
        team_hash = data_hash([p.key for p in postings])
        held = team_split([p.key for p in postings])
        team_eval = [p for p, h in zip(postings, held, strict=True) if h]
        team_train = [p for p, h in zip(postings, held, strict=True) if not h]
        if len(team_train) < min_postings and not force:
            outcome.decision = "skipped"
            outcome.reason = (f"{len(team_train)} team postings to train on; a refresh needs "
                              f"{min_postings} (approve JDs or `hirebot data add-postings`)")
            return _finish(registry, record, outcome, started)
        if not force and (seen := _already_seen(registry, team_hash, "team postings")):
            outcome.decision, outcome.reason = "skipped", seen
            return _finish(registry, record, outcome, started)
        outcome.data_hash = team_hash
        anchor_eval, replay = load_anchor()
        cfg = config or GeneratorRefreshConfig()
        model, tokenizer, result = continue_training(active_dir, team_train, anchor_eval,
                                                     replay, cfg)
        folder = tmp / "model"
        info = json.loads((active_dir / "hirebot_generator.json").read_text())
        info.update({"base": f"{info.get('version', 'unversioned')} (continued)",
                     "command": "hirebot refresh generator --now",
                     "refresh": {"team_postings": len(team_train), "team_held_out":
                                 len(team_eval), "team_data_sha256": team_hash,
                                 "anchor_eval": len(anchor_eval), "run_id": record.run_id},
                     "training": {k: v for k, v in asdict(result).items() if k != "history"},
                     "history": result.history})
        save_generator(model, tokenizer, folder, info)
        for name in ("title_lexicon.json", "generation_config.json"):
            if (active_dir / name).is_file() and not (folder / name).is_file():
                shutil.copy2(active_dir / name, folder / name)
        version = "gen-" + hashlib.sha256((folder / "model.safetensors").read_bytes()
                                          ).hexdigest()[:10]
        info["version"] = version
        (folder / "hirebot_generator.json").write_text(json.dumps(info, indent=2))
        outcome.candidate_version = version

        titles = [p.title for p in team_eval] + [p.title for p in anchor_eval]
        prompts = [titles[i % len(titles)] for i in range(gate_samples)] if titles else []
        resolver = None
        if prompts:  # the title resolver (MiniLM and its index) loaded once for both folders
            from models.common.embeddings import FastEmbedder
            from models.common.occupations import OccupationResolver

            resolver = OccupationResolver.load(
                embedder_factory() if embedder_factory else FastEmbedder())
        figures = {name: gate_figures(path, anchor_eval, team_eval, prompts, seed=cfg.seed,
                                      resolver=resolver)
                   for name, path in (("active", active_dir), ("candidate", folder))}
        outcome.figures = figures
        cand, act = figures["candidate"], figures["active"]
        passed = (cand["anchor_bits_per_char"] <= act["anchor_bits_per_char"]
                  * (1 + tolerance.bits_per_char)
                  and cand["repetition_rate"] <= act["repetition_rate"]
                  + tolerance.repetition_rate)
        if "team_bits_per_char" in cand:
            passed = passed and (cand["team_bits_per_char"] <= act["team_bits_per_char"]
                                 * (1 + tolerance.bits_per_char))
        (folder / "METRICS.json").write_text(json.dumps(
            {"kind": "generator", **{k: v for k, v in cand.items() if k != "samples"},
             "active_figures": act, "team_data_sha256": team_hash,
             "train_seconds": result.train_seconds, "steps": result.steps}, indent=2))
        _write_generator_card(folder, version, info, act, cand, tolerance)
        png = registry.root / "runs" / f"{record.run_id}.png"
        loss_curve_png(result.history, png, title=f"generator refresh {version}",
                       before=act["anchor_bits_per_char"], after=cand["anchor_bits_per_char"])
        outcome.png = str(png)
        return _decide(registry, record, outcome, folder, passed, started,
                       f"bits/char +{tolerance.bits_per_char:.0%}, repetition "
                       f"+{tolerance.repetition_rate}")

    return _in_run(registry, "generator", work)


def _write_generator_card(folder: Path, version: str, info: dict, active: dict,
                          candidate: dict, tolerance: GateTolerance) -> None:
    refresh, training = info["refresh"], info["training"]
    rows = _gate_table(active, candidate)
    (folder / "MODEL_CARD.md").write_text(f"""# hirebot-jd-gpt2 {version} (refresh)

Continued from {info['base']} -- never retrained from zero.

## Data
- {refresh['team_postings']} team postings (approved JDs and `hirebot data add-postings`), each
  seen twice per epoch, mixed with shipped O*NET occupation profiles (CC BY 4.0,
  `models/bundled/refresh/`) so the model keeps general occupations;
  {refresh['team_held_out']} team postings held out for the gate. Team data sha256
  `{refresh['team_data_sha256']}`.

## Command
`hirebot refresh generator --now` (or the weekly schedule): {training['steps']} steps in
{training['train_seconds']} s, learning rate {training['recipe']['lr']}.

## Gate (bits/char may rise {tolerance.bits_per_char:.0%}, repetition rate
{tolerance.repetition_rate})
| figure | active | this version |
|---|---|---|
{rows}
""")
