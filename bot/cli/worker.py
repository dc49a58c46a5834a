"""``hirebot worker [--concurrency N] [--queues interactive,bulk,refresh]``: a Celery worker
that runs the bot's model jobs (``HIREBOT_BROKER_URL``), on this machine or any other.

Each worker process loads the models from the registry (``HIREBOT_MODELS_URL``), checks the
active version's checksum, and switches to a newly promoted version between jobs, as the
single-process bot does. ``--concurrency 1`` (the default) runs jobs in this process; more
forks that many processes, each with its own copy of the models.
"""

from __future__ import annotations

import argparse
import logging
import os

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.jobs import QUEUES
from bot.services.errors import UserError

logger = logging.getLogger(__name__)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.broker_url is None:
        raise UserError("`hirebot worker` needs HIREBOT_BROKER_URL (e.g. redis://localhost:6379/0)"
                        "; without it the bot runs its model jobs itself.")
    if settings.database_url is None:
        raise UserError("`hirebot worker` needs HIREBOT_DATABASE_URL as well: workers and the "
                        "bot must share one database (a SQLite file is one machine's).")
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if unknown := sorted(set(queues) - set(QUEUES)):
        raise UserError(f"unknown queue {', '.join(unknown)}; the queues: {', '.join(QUEUES)}")
    from bot.celery_queue import celery_app, serve_jobs

    serve_jobs(lambda: _runner(settings), lambda: _ledger(settings),
               lease_s=max(10.0, settings.job_visibility_s / 2))
    app = celery_app(settings)
    if args.concurrency == 1:
        _warm_up()  # before Celery says "ready": the first job finds the models loaded
    else:
        from celery.signals import worker_process_init

        worker_process_init.connect(lambda **_: _warm_up(), weak=False)  # in each child
    pool = ["--pool", "solo"] if args.concurrency == 1 else [
        "--pool", "prefork", "--concurrency", str(args.concurrency)]
    logger.info("worker %d: queues %s, concurrency %d", os.getpid(), ",".join(queues),
                args.concurrency)
    app.worker_main(["worker", *pool, "--queues", ",".join(queues), "--loglevel",
                     settings.log_level, "--without-gossip", "--without-mingle",
                     "--without-heartbeat", "--hostname", f"hirebot-{os.getpid()}@%h"])
    return EXIT_OK


def _warm_up() -> None:
    from bot.celery_queue import current_runner

    try:
        current_runner().bot.models.warm_up()
    except Exception as exc:  # noqa: BLE001 - the first job loads them (and reports a fault)
        logger.error("could not load the models at start: %s", type(exc).__name__)


_store: dict = {}


def _shared_store(settings: Settings):
    """One store per worker process (made after a fork, never inherited across one)."""
    from bot.storage import Store

    if _store.get("pid") != os.getpid():
        _store.update(pid=os.getpid(), store=Store.open(settings))
    return _store["store"]


def _runner(settings: Settings):
    from bot.cli.app import build_bot, build_queue
    from bot.services.model_service import ModelService

    _, runner = build_bot(settings, _shared_store(settings), ModelService(settings),
                          build_queue(settings))
    return runner


def _ledger(settings: Settings):
    from bot.job_ledger import JobLedger
    from bot.leases import holder_id

    return JobLedger(_shared_store(settings), holder_id())


def add_parsers(sub) -> None:
    worker = sub.add_parser("worker", help="run model jobs from the Celery queues "
                                           "(HIREBOT_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=1,
                        help="processes (each loads the models; default 1)")
    worker.add_argument("--queues", default=",".join(QUEUES),
                        help=f"comma-separated, of {', '.join(QUEUES)} (default: all)")
    worker.set_defaults(func=cmd_worker)
