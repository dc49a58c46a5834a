"""Background schedules that survive restarts: APScheduler 3 with its jobs in the bot's SQLite.

Jobs live in the same SQLite file as the rest of the bot's state (``SQLAlchemyJobStore``), so a
restart neither loses a schedule nor runs it twice: a run missed while the bot was down is run
once at start-up (``coalesce=True``) if it is within the grace time, never once per missed
slot, and never beside itself (``max_instances=1``). The standing jobs: the retention purge and
the two fine-tune refreshes (which train in a child process, see :mod:`bot.refresh`). Job
functions are referenced by import path, as the job store requires, and find their settings
through :func:`get_settings`.

Several bot processes (``docs/deploy.md``) share one job store, and two APScheduler instances on
one store would each run every job; so only the holder of the ``scheduler`` lease in the
database runs one (:class:`LeaderScheduler`). The others wait to take over if it dies.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings, get_settings
from bot.database import sqlalchemy_url
from bot.leases import Lease
from bot.storage import Store

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
    store = SQLAlchemyJobStore(url=sqlalchemy_url(settings.database_target),
                               tablename="scheduled_jobs",
                               engine_options={"pool_pre_ping": True})
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


class LeaderScheduler:
    """The scheduler of one process per deployment: the one holding the ``scheduler`` lease.

    Every bot process runs one of these; each tries the lease every ``renew_s`` seconds. The
    holder starts APScheduler and renews the lease; a process that loses it (it could not
    renew in time) stops its scheduler, and a waiting one starts its own once it lapses.
    """

    def __init__(self, settings: Settings, store: Store, ttl_s: float = 60.0,
                 renew_s: float = 15.0) -> None:
        self.settings, self.lease = settings, Lease(store, "scheduler", ttl_s)
        self.renew_s = renew_s
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler-leader", daemon=True)

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> LeaderScheduler:
        self._step()
        self._thread.start()
        return self

    def _step(self) -> None:
        try:
            held = self.lease.acquire()
        except Exception as exc:  # noqa: BLE001 - the database is away: stop leading
            logger.warning("scheduler lease unavailable: %s", type(exc).__name__)
            held = False
        if held and self.scheduler is None:
            logger.info("this process runs the schedules")
            self.scheduler = start_scheduler(self.settings)
        elif not held and self.scheduler is not None:
            logger.warning("lost the scheduler lease; another process runs the schedules")
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def _loop(self) -> None:
        while not self._stop.wait(self.renew_s):
            self._step()

    def shutdown(self, wait: bool = False) -> None:
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None
        try:
            self.lease.release()
        except Exception:  # noqa: BLE001 - it lapses by itself
            logger.info("scheduler lease not released; it lapses in %.0f s", self.lease.ttl_s)


def purge_expired() -> dict[str, int]:
    """Scheduled: the retention rule, applied even on a day nobody screens anything."""
    settings = get_settings()
    store = Store.open(settings)
    try:
        removed = store.purge(settings.retention_days)
    finally:
        store.close()
    logger.info("retention: removed %s", removed)
    return removed
