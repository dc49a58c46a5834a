"""Model jobs on Celery: the bot enqueues, ``hirebot worker`` processes run them.

Set ``HIREBOT_BROKER_URL=redis://…`` and the bot stops running models itself: each job goes to
one of three queues (``bot.jobs.QUEUES``) as its kind and JSON arguments, never CV text, and
a worker takes it. Delivery is "at least once" by Celery's own settings: a job is acknowledged
only when it has finished (``task_acks_late``), one job at a time per process
(``worker_prefetch_multiplier=1``), and a job whose worker died goes back on the queue
(``task_reject_on_worker_lost``, and Redis's visibility timeout when the whole worker is
killed). "At most once" is :mod:`bot.job_ledger`'s: a second copy of a job skips or waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from celery import Celery
from kombu import Queue
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.config import Settings
from bot.job_ledger import BUSY, DONE, JobLedger
from bot.jobs import BULK, INTERACTIVE, QUEUES, JobRunner, JobSpec

logger = logging.getLogger(__name__)

TASK = "hirebot.job"
#: The bot's own connections only (sends and queue lengths): a broker that drops packets
#: instead of refusing must not hold a send, and every upload behind it, for minutes. Never
#: on the workers' consumers, whose blocking reads wait on the broker by design.
SEND_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 10}
#: What a worker process runs jobs with; set by ``hirebot worker`` (``serve_jobs``).
_context: dict = {}


def celery_app(settings: Settings) -> Celery:
    url = settings.secret("broker_url")
    if not url:
        raise ValueError("HIREBOT_BROKER_URL is not set")
    app = Celery("hirebot", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=INTERACTIVE,
        task_queues=[Queue(name) for name in QUEUES],
        task_serializer="json", accept_content=["json"],
        task_ignore_result=True,  # results go to the database, not the broker
        # "priority": a worker always looks at the queues in the order given (interactive
        # first), so a /jobpost waits at most for the chunk in hand, not for a turn
        broker_transport_options={"visibility_timeout": settings.job_visibility_s,
                                  "queue_order_strategy": "priority"},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.task(name=TASK, bind=True, max_retries=None)(_run_job)
    return app


def _run_job(task, message: dict) -> None:  # noqa: ANN001 - Celery's bound task
    """One job on a worker: take it in the ledger, run it, mark it done."""
    spec = JobSpec.from_message(message)
    key = f"{spec.kind}:{spec.key}"
    runner: JobRunner = _context["runner"]()
    ledger: JobLedger = _context["ledger"]()
    lease = float(_context["lease_s"])
    try:
        state = ledger.begin(key, lease)
    except OperationalError:  # the database is restarting: try again shortly
        raise task.retry(countdown=2) from None
    if state == DONE:
        logger.info("job %s already done; skipped", spec.kind)
        return
    if state == BUSY:  # another worker runs it: ask again when its lease could have lapsed
        raise task.retry(countdown=max(2.0, lease / 2))
    stop = threading.Event()
    threading.Thread(target=_keep_lease, args=(ledger, key, spec.kind, lease, stop),
                     daemon=True).start()
    try:
        try:
            runner.between_jobs()
            runner.run(spec)
        except OperationalError:  # not the job's fault; the next copy runs it again
            raise task.retry(countdown=5) from None
        except Exception as exc:  # noqa: BLE001 - one line to the user; the worker goes on
            logger.error("job %s failed: %s", spec.kind, type(exc).__name__)
            runner.failed(spec, exc)
        _mark_done(ledger, key, spec.kind)  # still under the lease: no copy takes it over
    finally:
        stop.set()


def _mark_done(ledger: JobLedger, key: str, kind: str, tries: int = 15) -> None:
    """The job's reply is out: record it done even across a database restart. A row left
    "running" would read as work in hand until its lease lapsed, and a redelivered copy
    would then do the job again."""
    for attempt in range(1, tries + 1):
        try:
            ledger.finish(key)
            return
        except DBAPIError:  # the server restarting, or a connection it dropped
            if attempt == tries:
                logger.error("could not mark a %s job done; a late copy may repeat it", kind)
                return
            time.sleep(min(0.5 * attempt, 3.0))


def _keep_lease(ledger: JobLedger, key: str, kind: str, lease: float,
                stop: threading.Event) -> None:
    while not stop.wait(lease / 3):
        try:
            ledger.renew(key, lease)
        except Exception:  # noqa: BLE001 - a missed renewal only risks a second copy
            logger.warning("could not renew the lease of a %s job", kind)


def serve_jobs(runner: Callable[[], JobRunner], ledger: Callable[[], JobLedger],
               lease_s: float) -> None:
    """This process runs jobs with what these build (each called once per process)."""
    _context.update(runner=_once(runner), ledger=_once(ledger), lease_s=lease_s)


def current_runner() -> JobRunner:
    """This process's runner (built on first use, e.g. to warm the models before jobs)."""
    return _context["runner"]()


def _once(factory: Callable):
    made: dict = {}
    lock = threading.Lock()

    def get():
        with lock:
            if "value" not in made:
                made["value"] = factory()
            return made["value"]
    return get


class CeleryQueue:
    """The bot's side: jobs are sent to Redis, never run here."""

    parallel = True
    #: How long one submit keeps trying (Redis restarting) before the user is told "busy".
    submit_timeout_s = 15.0

    def __init__(self, settings: Settings) -> None:
        self.app = celery_app(settings)
        self.sent = 0
        self.refused = 0
        # Bolt answers each event on its own thread; kombu's Redis channel is not safe to
        # publish on from several at once (seen as refused jobs under a burst of uploads)
        self._publish = threading.Lock()
        self._counts = threading.Lock()  # sent / refused (a refusal may come without _publish)
        self._connection = None  # this queue's own broker connection, made again after a fault
        self._outage_logged = False  # one traceback per outage, not one per upload

    def bind(self, runner: JobRunner) -> None:
        """Nothing to bind: the workers have their own runners."""

    def submit(self, spec: JobSpec) -> bool:
        """Queue one job, trying again on a new connection while the broker comes back.

        kombu's own retry revives the connection it has; after a Redis restart that channel
        can be half closed and fail with errors kombu does not count as recoverable (an
        ``AttributeError`` in CI), so each further try starts from a new connection.
        """
        deadline = time.monotonic() + self.submit_timeout_s
        if not self._publish.acquire(timeout=self.submit_timeout_s):  # others wait on Redis
            return self._refuse(spec, "earlier sends held the queue")
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._send(spec)
                except Exception as exc:  # noqa: BLE001 - the broker is unreachable: say so
                    self._drop_connection()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return self._refuse(spec, f"{attempt} tries: {type(exc).__name__}")
                    logger.warning("queueing a %s job failed (%s); trying a new connection",
                                   spec.kind, type(exc).__name__,
                                   exc_info=not self._outage_logged)
                    self._outage_logged = True
                    time.sleep(min(0.25 * attempt, 2.0, left))
                    continue
                self._outage_logged = False
                with self._counts:
                    self.sent += 1
                return True
        finally:
            self._publish.release()

    def _refuse(self, spec: JobSpec, why: str) -> bool:
        with self._counts:
            self.refused += 1
        logger.error("could not queue a %s job (%s)", spec.kind, why)
        return False

    def _send(self, spec: JobSpec) -> None:
        if self._connection is None:
            self._connection = self.app.connection_for_write(transport_options=SEND_OPTIONS)
        # no kombu retry: it revives the same half-closed channel, and its waits would run
        # past ``submit_timeout_s``; ``submit`` tries again on a new connection instead
        self.app.send_task(TASK, args=[spec.to_message()], queue=spec.queue,
                           connection=self._connection, retry=False)

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - a broken connection may not close cleanly
                # (its sockets then go with the garbage collector)
                logger.debug("closing a broken broker connection failed", exc_info=True)

    def queue_lengths(self) -> dict[str, int]:
        try:
            # its own short-lived connection: status must not wait behind sends to a broker
            # that is away (the home tab, /hirebot status, the "busy" reply itself)
            with self.app.connection_for_write(transport_options=SEND_OPTIONS) as conn:
                client = conn.default_channel.client
                return {name: int(client.llen(name)) for name in QUEUES}
        except Exception:  # noqa: BLE001 - status must not fail with the broker
            return {}

    @property
    def depth(self) -> int:
        return sum(self.queue_lengths().values())

    @property
    def running(self) -> str | None:
        return None

    def status(self) -> dict:
        lengths = self.queue_lengths()
        return {"queued": sum(lengths.values()), "running": None, "done": self.sent,
                "failed": self.refused, "capacity": 0, "queues": lengths,
                "broker": "celery"}

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return True  # the workers' business

    def stop(self, timeout: float = 60.0) -> bool:
        """Close the broker connection (after a send in progress, or its deadline)."""
        if not self._publish.acquire(timeout=min(timeout, self.submit_timeout_s)):
            return False
        try:
            self._drop_connection()
        finally:
            self._publish.release()
        return True


__all__ = ["BULK", "INTERACTIVE", "CeleryQueue", "celery_app", "serve_jobs"]
