"""The model operations the Slack app queues: write a JD, screen documents, report versions.

Models load lazily, on the worker thread, the first time they are needed, so the Bolt app acks
its first request at once and a bot that is only asked for JDs never loads the CV classifier.
Nothing here knows about Slack.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import Settings

logger = logging.getLogger(__name__)


class ModelService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._screening = None
        self._generator = None

    # --------------------------------------------------------------------------- loading
    @property
    def screening(self):
        with self._lock:
            if self._screening is None:
                from bot.cli import load_screening_model

                self._screening = load_screening_model(self.settings)
            return self._screening

    @property
    def generator(self):
        with self._lock:
            if self._generator is None:
                from bot.generator_commands import load_generator

                self._generator = load_generator(self.settings)
            return self._generator

    def warm_up(self) -> None:
        """Load both models (and their imports) before the first request needs them."""
        _ = self.generator
        _ = self.screening

    # --------------------------------------------------------------------------- work
    def write_jd(self, raw_title: str, *, seed: int = 0,
                 on_text: Callable[[str], None] | None = None):
        """One draft (``models.generator.Draft``); raises ``TitleError`` for a bad title."""
        return self.generator.write(raw_title, seed=seed,
                                    max_new_tokens=self.settings.jobpost_max_new_tokens,
                                    on_text=on_text)

    def read_upload(self, name: str, data: bytes) -> list:
        from models.documents import read_document_bytes

        return read_document_bytes(name, data, self.settings.document_limits())

    def screen(self, role: str, documents: Sequence, jd_text: str | None = None) -> list[dict]:
        """One result per document, in order (errors carry a message instead of a verdict)."""
        from models.screening import Thresholds

        model = self.screening
        profile = model.role_profile(role, jd_text)
        return model.screen_documents(
            documents, profile,
            thresholds=Thresholds(self.settings.fit_threshold, self.settings.maybe_threshold),
            top_k=self.settings.top_categories)

    # --------------------------------------------------------------------------- status
    def model_cards(self) -> list[dict]:
        """Name, version and headline metrics of each model, read from its folder (no load)."""
        from models.generator import BUNDLED_GENERATOR_DIR
        from models.screening import BUNDLED_DIR

        out = []
        for label, folder in (("screening", self.settings.classifier_dir or BUNDLED_DIR),
                              ("generator", self.settings.generator_dir
                               or BUNDLED_GENERATOR_DIR)):
            out.append({"model": label, **_folder_summary(Path(folder))})
        return out


def _folder_summary(folder: Path) -> dict:
    summary: dict = {"folder": str(folder), "version": "missing", "metrics": {}}
    generator_info = folder / "hirebot_generator.json"
    if generator_info.is_file():
        summary["version"] = json.loads(generator_info.read_text()).get("version", "unversioned")
    elif (folder / "config.json").is_file():
        from models.screening import model_version

        meta = json.loads((folder / "config.json").read_text()).get("metadata", {})
        summary["version"] = meta.get("version") or model_version(folder)
    eval_path = folder / "EVAL.json"
    if eval_path.is_file():
        try:
            summary["metrics"] = headline_metrics(json.loads(eval_path.read_text()))
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
