"""One bounded queue and one thread for all model work.

The models are CPU-bound and the machine may have two cores: two torch jobs at once would each
run at half speed and fight over caches, so every JD and every screening runs here, one at a
time. Slack listeners only enqueue (and say "busy" when the queue is full); they never wait.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    run: Callable[[], None]
    on_error: Callable[[Exception], None] | None = None
    submitted: float = field(default_factory=time.monotonic)


class ModelWorker:
    def __init__(self, maxsize: int = 20, name: str = "hirebot-models",
                 between_jobs: Callable[[], None] | None = None):
        self.between_jobs = between_jobs  # e.g. switch to a newly promoted model version
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._running: str | None = None
        self._stopping = False
        self.done = 0
        self.failed = 0
        self._thread.start()

    def submit(self, name: str, run: Callable[[], None],
               on_error: Callable[[Exception], None] | None = None) -> bool:
        """Queue a job; False (nothing queued) when the queue is full."""
        try:
            self._queue.put_nowait(Job(name, run, on_error))
        except queue.Full:
            logger.warning("work queue full; refused %s", name)
            return False
        return True

    @property
    def depth(self) -> int:
        """Jobs waiting, plus the one running."""
        return self._queue.qsize() + (1 if self._running else 0)

    @property
    def running(self) -> str | None:
        return self._running

    def status(self) -> dict:
        return {"queued": self._queue.qsize(), "running": self._running, "done": self.done,
                "failed": self.failed, "capacity": self._queue.maxsize}

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until every queued job has finished (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 60.0) -> bool:
        """Finish the running job, drop the queued ones, stop; True once the thread is gone."""
        self._stopping = True
        dropped = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            dropped += job is not None
        if dropped:
            logger.warning("shutting down: %d queued jobs not run", dropped)
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # pragma: no cover - just drained
            pass
        self._thread.join(timeout=timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._stopping:
                self._queue.task_done()
                if job is None:
                    return
                continue
            self._running = job.name
            try:
                if self.between_jobs is not None:
                    self.between_jobs()
                job.run()
                self.done += 1
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one job
                self.failed += 1
                # Only the job's name and the exception type: messages can quote CV text.
                logger.error("job %s failed: %s", job.name, type(exc).__name__)
                if job.on_error is not None:
                    try:
                        job.on_error(exc)
                    except Exception:  # noqa: BLE001
                        logger.exception("error handler of %s failed", job.name)
            finally:
                self._running = None
                self._queue.task_done()
