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

import numpy as np

from bot.config import Settings
from bot.services.errors import ConfigError
from bot.services.inputs import read_upload
from bot.services.matching import apply_match
from bot.services.role_heads import serving_head
from bot.services.versions import active_dir, load_generator, load_screening_model
from models.common.registry import KINDS, verify_folder
from models.generation.profile import CompanyProfile

logger = logging.getLogger(__name__)

TITLE_JDS = 64  # JDs written for bare role titles, kept for reuse
GATE_FIGURES = ("fixed_macro_f1", "team_macro_f1", "hard_pairwise_accuracy",
                "pairwise_accuracy", "calibration_brier", "team_auc", "anchor_bits_per_char",
                "team_bits_per_char", "repetition_rate")


class ModelService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._models: dict[str, object] = {}  # kind -> loaded model
        self._loaded_from: dict[str, Path] = {}
        self._title_jds: dict[str, str] = {}  # role title -> the JD written for it
        self._profiles: dict[tuple, object] = {}  # (model, role, JD) -> its role profile

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
        if problem := verify_folder(folder):  # e.g. a shared folder still being copied
            raise ConfigError(f"The {kind} in {folder} fails its checksum ({problem}); "
                              "not loading it.")
        if kind == "classifier":
            current = self._models.get("classifier")  # a swap: reuse the loaded MiniLM
            return load_screening_model(
                self.settings, folder,
                embedder=current.embedder if current is not None else None)
        if kind == "matcher":  # it shares the screening model's MiniLM (loaded first)
            from models.matching.matcher import Matcher

            screening = self._models.get("classifier")
            return Matcher.load(folder, embedder=screening.embedder if screening else None)
        return load_generator(self.settings, folder)

    # --------------------------------------------------------------------------- loading
    def install(self, kind: str, model, folder: Path | None = None) -> None:
        """Serve ``model`` for ``kind`` (a hot swap, or a model the caller already loaded)."""
        with self._lock:
            self._models[kind] = model
            if folder is not None:
                self._loaded_from[kind] = folder
            if kind == "generator":
                self._title_jds.clear()
            self._profiles.clear()

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

    @property
    def matcher(self):
        """The CV-JD matcher: the pinned folder, else the registry's active version."""
        _ = self.screening  # loaded first, outside the lock: the matcher shares its MiniLM
        try:
            return self._get("matcher")
        except Exception as exc:  # noqa: BLE001 - a broken folder: category only
            raise ConfigError(f"cannot load the matcher: {exc}") from None

    def jd_for_title(self, role: str) -> str:
        """A JD the generator writes for a role title, kept for the last ``TITLE_JDS`` titles
        (forgotten when the generator is swapped)."""
        if role not in self._title_jds:
            while len(self._title_jds) >= TITLE_JDS:
                self._title_jds.pop(next(iter(self._title_jds)))
            self._title_jds[role] = self.write_jd(role).text
        return self._title_jds[role]

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

    def rank_by_votes(self, drafts: list, votes: list[dict]) -> tuple[list, bool]:
        """``drafts`` best first by the matcher against the title's voted CVs (``votes``:
        the store's match pairs for the title); unchanged, and False, without a matched one."""
        if len(drafts) < 2 or not votes:
            return drafts, False
        from models.matching.feedback_rank import feedback_order
        from models.matching.pair_rows import rows_from_blobs

        try:
            matcher = self.matcher
            usable = [v for v in votes if v.get("layout") == matcher.layout]
            labels = np.array([int(v["label"]) for v in usable])
            if not (labels == 1).any():
                return drafts, False
            rows = rows_from_blobs([v["features"] for v in usable],
                                   matcher.weights.cv_proj.shape[1])
            vectors = np.stack([e.vector for e in matcher.encode_jds([d.text for d in drafts])])
            order = feedback_order(matcher.weights, rows, labels, vectors,
                                   np.array([getattr(d, "score", 0.0) for d in drafts]))
        except Exception as exc:  # noqa: BLE001 - the generator's own order still serves
            logger.warning("drafts not ranked by votes: %s", type(exc).__name__)
            return drafts, False
        return [drafts[i] for i in order], True

    def _attach_resolver(self, generator) -> None:
        """The occupation resolver shares the screening model's MiniLM (loaded once)."""
        if getattr(generator, "resolver", True) is None:
            from models.common.occupations import OccupationResolver

            generator.resolver = OccupationResolver.load(self.screening.embedder)

    def read_upload(self, name: str, data: bytes,
                    members: tuple[int, int] | None = None) -> list:
        return read_upload(name, data, self.settings, members)

    def screen(self, role: str, documents: Sequence, jd_text: str | None = None,
               jd_source: str = "thread") -> list[dict]:
        """One result per document, in order (errors carry a message instead of a verdict).

        With a JD (``jd_source``: "thread" or "file"), or one written for the title when the
        settings allow, the verdict is role-aware (``bot.services.matching``)."""
        from models.screening.documents import ParsedDocument
        from models.screening.screener import Thresholds

        if self.settings.blind_screening:  # the one place CV text becomes what models read
            from models.screening.blinding import blind_documents

            documents = blind_documents(documents)
        model = self.screening
        thresholds = Thresholds(self.settings.fit_threshold, self.settings.maybe_threshold)
        if not jd_text and self.settings.match_generated_jd:
            try:
                jd_text, jd_source = self.jd_for_title(role), "generated"
            except Exception as exc:  # noqa: BLE001 - the category score still serves
                logger.warning("no JD for the title (%s): category score only",
                               type(exc).__name__)
        matcher = None
        if jd_text:
            try:
                matcher = self.matcher
            except ConfigError as exc:
                logger.warning("%s: category score only", exc)
        # With the matcher, the category score is the one its pooling weights were fitted on
        # (no JD skills in it); the JD's skills reach the verdict through the matcher.
        profile = self._role_profile(model, role, None if matcher else jd_text)
        results = model.screen_documents(documents, profile, thresholds=thresholds,
                                         top_k=self.settings.top_categories)
        if matcher is None:
            return with_reading_notes(results, documents)
        texts = [d.text if isinstance(d, ParsedDocument) else None for d in documents]
        # A role head stands for the bare title; a JD the recruiter gave says more than the
        # title, so with one the pooled score serves.
        head = serving_head(self.settings, role) if jd_source == "generated" else None
        if head is not None and head.data.get("layout") != matcher.layout:
            head = None  # its vectors were made another way (another encoding or model)
        return with_reading_notes(
            apply_match(results, texts, jd_text, jd_source, matcher, thresholds, head), documents)

    def _role_profile(self, model, role: str, jd_text: str | None):
        """The role's profile (its title embedded, its category), kept for the last
        ``TITLE_JDS`` requests of the model in service: a batch of CVs embeds its role once."""
        key = (id(model), role, jd_text)
        if key not in self._profiles:
            while len(self._profiles) >= TITLE_JDS:
                self._profiles.pop(next(iter(self._profiles)))
            self._profiles[key] = model.role_profile(role, jd_text)
        return self._profiles[key]

    # --------------------------------------------------------------------------- status
    def model_cards(self) -> list[dict]:
        """Name, version and headline metrics of each model, read from its folder (no load)."""
        return [{"model": label, **folder_summary(self.active_dir(kind))}
                for label, kind in (("screening", "classifier"), ("generator", "generator"),
                                    ("matcher", "matcher"))]


def with_reading_notes(results: list[dict], documents: Sequence) -> list[dict]:
    """What the reader did to each CV that its verdict must say: hidden text left out,
    text cut, pages skipped, a language the model reads less well."""
    from models.screening.documents import ParsedDocument
    from models.screening.language import language_note

    for result, doc in zip(results, documents, strict=True):
        if "error" in result or not isinstance(doc, ParsedDocument):
            continue
        notes = [w.message for w in doc.warnings]
        if note := language_note(doc.text):
            notes.append(note)
        if notes:
            result["notes"] = notes
    return results


def folder_summary(folder: Path) -> dict:
    summary: dict = {"folder": str(folder), "version": "missing", "metrics": {}}
    generator_info = folder / "hirebot_generator.json"
    if (folder / "matcher.safetensors").is_file():
        from models.matching.matcher import weights_version

        summary["version"] = weights_version(folder)
    elif generator_info.is_file():
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
    if "panoslin" in report:
        return {"AUC on real labelled JDs": report["panoslin"]["auc"]["hirebot"],
                "hard-negative pairwise accuracy":
                    report["constructed_test"]["pairwise_accuracy_hard"]}
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
