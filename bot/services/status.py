"""One status report for ``hirebot status``, ``/hirebot status`` and the App Home."""

from __future__ import annotations

from bot.config import Settings
from bot.jobs import JobQueue
from bot.services.model_service import ModelService
from bot.storage import Store


def status_report(settings: Settings, models: ModelService, store: Store,
                  worker: JobQueue | None = None) -> dict:
    """Model versions and headline metrics, counts of JDs, screenings and team data; the work
    queue when a worker is serving (the CLI has none)."""
    report = {"models": models.model_cards(), "counts": store.counts(),
              "data_dir": str(settings.data_dir)}
    if worker is not None:
        report["queue"] = worker.status()
    return report


def metrics_text(card: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in card.get("metrics", {}).items() if v is not None)
