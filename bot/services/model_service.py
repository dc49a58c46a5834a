"""The served models: loaded lazily on the worker thread, swapped between jobs, described.

Models load the first time they are needed, so the Bolt app acks its first request at once
and a bot that is only asked for JDs never loads the CV classifier.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import Settings
from bot.services.inputs import read_upload
from bot.services.versions import active_dir, load_generator, load_screening_model
from models.common.registry import KINDS
from models.generation.profile import CompanyProfile

logger = logging.getLogger(__name__)

GATE_FIGURES = ("fixed_macro_f1", "team_macro_f1", "anchor_bits_per_char",
                "team_bits_per_char", "repetition_rate")


class ModelService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._models: dict[str, object] = {}  # kind -> loaded model
        self._loaded_from: dict[str, Path] = {}

    # --------------------------------------------------------------------------- versions
    def active_dir(self, kind: str) -> Path:
        return active_dir(self.settings, kind)

    def sync_active(self) -> None:
        """Hot swap: called by the worker between jobs, so a job never sees two versions.

        A model whose registry pointer moved is loaded from its new folder first and swapped
        in only when that load succeeds; a broken candidate leaves the serving model alone.
        """
        for kind in KINDS:
            loaded = self._loaded_from.get(kind)
            if loaded is None:
                continue  # not loaded yet: the first use loads the active version
            target = self.active_dir(kind)
            if target == loaded:
                continue
            try:
                model = self._load(kind, target)
            except Exception as exc:  # noqa: BLE001 - keep serving the current version
                logger.error("could not switch the %s to %s: %s", kind, target,
                             type(exc).__name__)
                continue
            self.install(kind, model, target)
            logger.info("switched the %s to %s", kind, target.name)

    def _load(self, kind: str, folder: Path):
        if kind == "classifier":
            current = self._models.get("classifier")  # a swap: reuse the loaded MiniLM
            return load_screening_model(
                self.settings, folder,
                embedder=current.embedder if current is not None else None)
        return load_generator(self.settings, folder)

    # --------------------------------------------------------------------------- loading
    def install(self, kind: str, model, folder: Path | None = None) -> None:
        """Serve ``model`` for ``kind`` (a hot swap, or a model the caller already loaded)."""
        with self._lock:
            self._models[kind] = model
            if folder is not None:
                self._loaded_from[kind] = folder

    def _get(self, kind: str):
        with self._lock:
            if kind not in self._models:
                folder = self.active_dir(kind)
                self._models[kind] = self._load(kind, folder)
                self._loaded_from[kind] = folder
            return self._models[kind]

    @property
    def screening(self):
        return self._get("classifier")

    @property
    def generator(self):
        return self._get("generator")

    def warm_up(self) -> None:
        """Load both models (and their imports) before the first request needs them."""
        generator = self.generator
        _ = self.screening
        self._attach_resolver(generator)
        if hasattr(generator, "planner"):
            generator.planner()  # the known-word vocabulary and per-token tables

    # --------------------------------------------------------------------------- work
    def write_jd(self, raw_title: str, *, seed: int = 0,
                 on_text: Callable[[str], None] | None = None,
                 profile: CompanyProfile | None = None):
        """The best draft (``models.generation.generator.Draft``); raises ``TitleError``."""
        return self.write_jds(raw_title, seed=seed, on_text=on_text, profile=profile)[0]

    def write_jds(self, raw_title: str, *, seed: int = 0,
                  on_text: Callable[[str], None] | None = None,
                  profile: CompanyProfile | None = None, team: list | None = None,
                  n: int = 1) -> list:
        """``n`` drafts of one request written in one batch, best first.

        ``profile`` (``bot.services.company.current_profile``) gives the company facts the
        drafts state; ``team`` the approved JDs that similar titles are grounded on.
        """
        generator = self.generator
        self._attach_resolver(generator)
        return generator.write_drafts(
            raw_title, seed=seed, max_new_tokens=self.settings.jobpost_max_new_tokens,
            on_text=on_text, profile=profile, team=team, n=n)

    def _attach_resolver(self, generator) -> None:
        """The occupation resolver shares the screening model's MiniLM (loaded once)."""
        if getattr(generator, "resolver", True) is None:
            from models.common.occupations import OccupationResolver

            generator.resolver = OccupationResolver.load(self.screening.embedder)

    def read_upload(self, name: str, data: bytes) -> list:
        return read_upload(name, data, self.settings)

    def screen(self, role: str, documents: Sequence, jd_text: str | None = None) -> list[dict]:
        """One result per document, in order (errors carry a message instead of a verdict)."""
        from models.screening.screener import Thresholds

        model = self.screening
        profile = model.role_profile(role, jd_text)
        return model.screen_documents(
            documents, profile,
            thresholds=Thresholds(self.settings.fit_threshold, self.settings.maybe_threshold),
            top_k=self.settings.top_categories)

    # --------------------------------------------------------------------------- status
    def model_cards(self) -> list[dict]:
        """Name, version and headline metrics of each model, read from its folder (no load)."""
        return [{"model": label, **folder_summary(self.active_dir(kind))}
                for label, kind in (("screening", "classifier"), ("generator", "generator"))]


def folder_summary(folder: Path) -> dict:
    summary: dict = {"folder": str(folder), "version": "missing", "metrics": {}}
    generator_info = folder / "hirebot_generator.json"
    if generator_info.is_file():
        summary["version"] = json.loads(generator_info.read_text()).get("version", "unversioned")
    elif (folder / "config.json").is_file():
        from models.screening.screener import model_version

        meta = json.loads((folder / "config.json").read_text()).get("metadata", {})
        summary["version"] = meta.get("version") or model_version(folder)
    eval_path = folder / "EVAL.json"
    refresh_path = folder / "METRICS.json"  # a refreshed version: the gate's figures
    try:
        if eval_path.is_file():
            summary["metrics"] = headline_metrics(json.loads(eval_path.read_text()))
        elif refresh_path.is_file():
            figures = json.loads(refresh_path.read_text())
            summary["metrics"] = {k.replace("_", " "): v for k, v in figures.items()
                                  if isinstance(v, int | float) and k in GATE_FIGURES}
    except ValueError:
        pass
    return summary


def headline_metrics(report: dict) -> dict[str, float]:
    """The few figures an admin looks for, from a model folder's ``EVAL.json``."""
    if "bits_per_char" in report:
        ours = report.get("hirebot", {})
        return {"held-out bits/char": report["bits_per_char"],
                "repetition rate": ours.get("repetition_rate"),
                "title relevance": ours.get("title_relevance")}
    out = {}
    for dataset, block in report.items():
        if isinstance(block, dict) and isinstance(block.get("hirebot"), dict):
            out[f"{dataset} macro-F1"] = block["hirebot"].get("macro_f1")
    return out
