"""Model work as data: a job is a kind and JSON arguments, so it can cross a process boundary.

The Slack app never runs a model itself; it describes the work (:class:`JobSpec`) and hands it
to a queue. :class:`InProcessQueue` (the default) runs it on the bot's own bounded worker
thread; :class:`bot.celery_queue.CeleryQueue` sends it to Redis for ``hirebot worker``
processes. Both end in the same :class:`JobRunner`, which the Slack layer provides, so the
code that writes a JD or screens a CV is the same whichever queue carried it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from bot.worker import ModelWorker

#: Queues, so a bulk ZIP never waits in front of a ``/jobpost``: workers take ``interactive``
#: first (JDs, a few CVs), ``bulk`` chunks when it is empty, ``refresh`` for training.
INTERACTIVE, BULK, REFRESH = "interactive", "bulk", "refresh"
QUEUES = (INTERACTIVE, BULK, REFRESH)


@dataclass(frozen=True)
class JobSpec:
    kind: str  # what to run: "jobpost", "screen", "screen_chunk", "screen_gather", ...
    key: str  # the job's identity: a copy delivered twice has the same key
    args: dict = field(default_factory=dict)  # JSON only: no CV text, no secrets
    queue: str = INTERACTIVE

    def to_message(self) -> dict:
        return asdict(self)

    @classmethod
    def from_message(cls, message: dict) -> JobSpec:
        return cls(**message)


class JobRunner(Protocol):
    def run(self, spec: JobSpec) -> None:
        """Do the job (on a worker)."""

    def failed(self, spec: JobSpec, exc: Exception) -> None:
        """Tell the user a job could not be done (one line, no traceback)."""

    def between_jobs(self) -> None:
        """Switch to a newly promoted model version, if any."""


class JobQueue(Protocol):
    #: Chunks of one bulk upload can run at once (several worker processes).
    parallel: bool

    def bind(self, runner: JobRunner) -> None: ...

    def submit(self, spec: JobSpec) -> bool:
        """Queue the job; False when it could not be queued (full, or the broker is down)."""

    @property
    def depth(self) -> int: ...

    def status(self) -> dict: ...

    def wait_idle(self, timeout: float = 60.0) -> bool: ...

    def stop(self, timeout: float = 60.0) -> bool: ...


class InProcessQueue:
    """Today's single process: one bounded queue and one thread (``bot.worker``)."""

    parallel = False

    def __init__(self, maxsize: int = 20) -> None:
        self._runner: JobRunner | None = None
        self.worker = ModelWorker(maxsize, between_jobs=self._between_jobs)

    def bind(self, runner: JobRunner) -> None:
        self._runner = runner

    def _between_jobs(self) -> None:
        if self._runner is not None:
            self._runner.between_jobs()

    def submit(self, spec: JobSpec) -> bool:
        runner = self._runner
        if runner is None:
            raise RuntimeError("no job runner bound to the queue")
        return self.worker.submit(f"{spec.kind}:{spec.key}", lambda: runner.run(spec),
                                  lambda exc: runner.failed(spec, exc))

    @property
    def depth(self) -> int:
        return self.worker.depth

    @property
    def running(self) -> str | None:
        return self.worker.running

    def status(self) -> dict:
        return self.worker.status()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return self.worker.wait_idle(timeout)

    def stop(self, timeout: float = 60.0) -> bool:
        return self.worker.stop(timeout)
