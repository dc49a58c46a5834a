"""Background schedules that survive restarts: APScheduler 3 with its jobs in the bot's SQLite.

Jobs live in the same SQLite file as the rest of the bot's state (``SQLAlchemyJobStore``), so a
restart neither loses a schedule nor runs it twice: a run missed while the bot was down is run
once at start-up (``coalesce=True``) if it is within the grace time, never once per missed
slot, and never beside itself (``max_instances=1``). The standing jobs: the retention purge and
the two fine-tune refreshes (which train in a child process, see :mod:`bot.refresh`). Job
functions are referenced by import path, as the job store requires, and find their settings
through :func:`get_settings`.
"""

from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings, get_settings

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1}
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_days(field: str) -> str:
    """Crontab's day-of-week field (0 or 7 = Sunday; ranges, lists, steps) as day names."""
    if not any(ch.isdigit() for ch in field):
        return field  # "*" or names: the same in both
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low, high = (int(v) for v in span.split("-", 1))
        else:
            low = high = int(span)
            if step:
                high = 6
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A crontab line as a trigger, with crontab's day numbers (0 or 7 = Sunday).

    APScheduler 3 counts days of the week from Monday = 0, so ``from_crontab("0 3 * * 0")``
    alone would run on Mondays; the fifth field is turned into day names first.
    """
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = _crontab_days(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SQLAlchemyJobStore(url=f"sqlite:///{settings.db_path}",
                               tablename="scheduled_jobs")
    return BackgroundScheduler(
        jobstores={"default": store},
        job_defaults={**JOB_DEFAULTS, "misfire_grace_time": settings.misfire_grace_s},
        timezone=settings.timezone)


def install_schedules(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """The standing schedules, by stable id: re-installing never duplicates, and a job whose
    schedule is unchanged keeps its stored next run, so a run missed while the bot was down is
    still caught up (once, within the grace time) rather than moved to the next slot."""
    _ensure_job(scheduler, "bot.scheduler:purge_expired",
                cron_trigger(settings.retention_cron, settings.timezone), "retention",
                "delete screening records past the retention")
    for kind, cron in (("classifier", settings.classifier_refresh_cron),
                       ("generator", settings.generator_refresh_cron)):
        _ensure_job(scheduler, "bot.refresh:scheduled_refresh",
                    cron_trigger(cron, settings.timezone), f"refresh-{kind}",
                    f"{kind} fine-tune refresh", args=(kind,))


def _ensure_job(scheduler: BackgroundScheduler, func: str, trigger: CronTrigger, job_id: str,
                name: str, args: tuple = ()) -> None:
    existing = scheduler.get_job(job_id)
    if (existing is not None and existing.func_ref == func and tuple(existing.args) == args
            and repr(existing.trigger) == repr(trigger)):
        return
    scheduler.add_job(func, trigger, args=list(args), id=job_id, name=name,
                      replace_existing=True)


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)  # the job store is open: installing sees the stored jobs
    install_schedules(scheduler, settings)
    scheduler.resume()
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
