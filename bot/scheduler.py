"""Background schedules that survive restarts: APScheduler 3 with its jobs in the bot's SQLite.

Jobs live in the same SQLite file as the rest of the bot's state (``SQLAlchemyJobStore``), so a
restart neither loses a schedule nor runs it twice: a run missed while the bot was down is run
once at start-up (``coalesce=True``) if it is within the grace time, never once per missed
slot, and never beside itself (``max_instances=1``). Job functions are referenced by import
path, as the job store requires, and find their settings through :func:`get_settings`.
"""

from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings, get_settings

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1}


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SQLAlchemyJobStore(url=f"sqlite:///{settings.db_path}",
                               tablename="scheduled_jobs")
    return BackgroundScheduler(
        jobstores={"default": store},
        job_defaults={**JOB_DEFAULTS, "misfire_grace_time": settings.misfire_grace_s},
        timezone=settings.timezone)


def install_schedules(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """The standing schedules, by stable id: re-installing replaces, never duplicates."""
    scheduler.add_job("bot.scheduler:purge_expired", CronTrigger.from_crontab(
        settings.retention_cron, timezone=settings.timezone), id="retention",
        name="delete screening records past the retention", replace_existing=True)


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = build_scheduler(settings)
    install_schedules(scheduler, settings)
    scheduler.start()
    return scheduler


def purge_expired() -> dict[str, int]:
    """Scheduled: the retention rule, applied even on a day nobody screens anything."""
    from bot.storage import Store

    settings = get_settings()
    store = Store(settings.db_path)
    try:
        removed = store.purge(settings.retention_days)
    finally:
        store.close()
    logger.info("retention: removed %s", removed)
    return removed
