"""Starting a refresh and reading what refreshes did: one path for the scheduler, ``/hirebot
refresh`` and ``hirebot refresh --now``.

The bot never trains in its own process. :func:`spawn_refresh` starts ``python -m bot.refresh``
at the lowest CPU priority with one torch/OMP thread (settings), so on a 2-core machine the
Slack app keeps acking and screening while a refresh runs (docs/benchmarks.md measures it). A
file lock per model kind keeps two refreshes of one kind from overlapping, and the OS drops it
when the child dies, however it dies. The caller's ``reporter`` (the Slack admin-channel poster,
or none) hears every decision, including a child that died without one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import AliasChoices, SecretStr

from bot.config import Settings
from bot.leases import Lease
from bot.services.errors import UserError
from bot.services.refresh_child import EXIT_BUSY, OUTCOME_MARK
from bot.services.versions import embedder_for, registry_for
from bot.storage import Store
from models.common.registry import KINDS

logger = logging.getLogger(__name__)

Reporter = Callable[[dict], object]


# ------------------------------------------------------------------------------ the child
def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so the child sees exactly the bot's settings
    (including ones the bot was given in code rather than in its environment)."""
    env: dict[str, str] = {}
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(value)
        names = [f"HIREBOT_{name.upper()}"]
        if isinstance(field.validation_alias, AliasChoices):
            names = [c for c in field.validation_alias.choices if isinstance(c, str)]
        for key in names:
            env[key] = str(value)
    return env


def child_environment(settings: Settings) -> dict[str, str]:
    threads = str(max(1, settings.refresh_threads))
    return {**os.environ, **settings_env(settings), "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads, "HIREBOT_TORCH_THREADS": threads,
            "TOKENIZERS_PARALLELISM": "false"}


def spawn_refresh(kind: str, settings: Settings, *, force: bool = False,
                  timeout: float | None = None, reporter: Reporter | None = None) -> dict:
    """Run a refresh in a low-priority child and return its outcome (a dict), unless another
    process of the deployment holds this kind's refresh lease in the database (the registry's
    file lock alone cannot see a process on another machine)."""
    with refresh_lease(settings, kind) as held:
        if not held:
            return _reported({"kind": kind, "decision": "busy",
                              "reason": f"a {kind} refresh is already running on another "
                                        "worker"}, None)
        return _spawn_refresh(kind, settings, force=force, timeout=timeout, reporter=reporter)


@contextmanager
def refresh_lease(settings: Settings, kind: str, ttl_s: float = 120.0) -> Iterator[bool]:
    """Hold ``refresh:KIND`` while the body runs, renewed every ``ttl_s / 4`` seconds."""
    store = Store.open(settings)
    lease = Lease(store, f"refresh:{kind}", ttl_s)
    try:
        if not lease.acquire():
            yield False
            return
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(ttl_s / 4):
                try:
                    lease.renew()
                except Exception:  # noqa: BLE001 - the next renewal may work
                    logger.warning("could not renew the %s refresh lease", kind)

        keeper = threading.Thread(target=keep, name=f"lease-{kind}", daemon=True)
        keeper.start()
        try:
            yield True
        finally:
            stop.set()
            keeper.join(timeout=5)
            lease.release()
    finally:
        store.close()


def _spawn_refresh(kind: str, settings: Settings, *, force: bool = False,
                   timeout: float | None = None, reporter: Reporter | None = None) -> dict:
    """Run a refresh in a low-priority child and return its outcome (a dict).

    The child's log goes to ``models/KIND/refresh.log`` under the data directory. A child that
    dies without an outcome (killed, out of memory, disk full, a fault) is reported as a failed
    run -- or as promoted, if its version was already in service.
    """
    registry = registry_for(settings, kind)
    cmd = [sys.executable, "-m", "bot.refresh", kind] + (["--force"] if force else [])
    if timeout is None:  # the training budget twice over, plus loading and the gate
        timeout = settings.generator_refresh_minutes * 120 + 1800
    log_path = registry.root / "refresh.log"
    spawned = time.time()
    with log_path.open("a") as log:  # append: a busy refusal must not wipe a live log
        try:
            proc = subprocess.run(cmd, env=child_environment(settings), stdout=subprocess.PIPE,
                                  stderr=log, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:  # run() has killed the child
            proc = None
    if proc is not None:
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith(OUTCOME_MARK):
                return _reported(json.loads(line[len(OUTCOME_MARK):]), reporter)
        if proc.returncode == EXIT_BUSY:
            return {"kind": kind, "decision": "busy",
                    "reason": f"a {kind} refresh is already running"}
    registry.recover()
    last = next(iter(registry.runs(limit=1)), None)
    if last and last.get("started", 0) < spawned - 1:
        last = None  # the child died before it started a run of its own
    if proc is None:
        reason = f"the training process ran past {timeout:.0f} s and was stopped"
    else:
        reason = f"the training process ended with code {proc.returncode} and no outcome"
        logger.error("%s refresh ended with code %s; the end of %s:\n%s", kind,
                     proc.returncode, log_path, _tail(log_path))
    if last and last.get("status") == "promoted" and last.get("version"):
        outcome = {"kind": kind, "decision": "promoted", "run_id": last["run_id"],
                   "candidate_version": last["version"],
                   "reason": f"{reason} after promoting {last['version']}"}
    else:
        outcome = {"kind": kind, "decision": "failed",
                   "run_id": last["run_id"] if last else "",
                   "reason": f"{reason}; the active model is unchanged (log: {log_path})"}
    return _reported(outcome, reporter)


def _reported(outcome: dict, reporter: Reporter | None) -> dict:
    """The decision stands whatever happens to its report."""
    if reporter is not None:
        try:
            reporter(outcome)
        except Exception as exc:  # noqa: BLE001 - a lost report must not lose the outcome
            logger.error("could not report the %s refresh: %s", outcome.get("kind"),
                         type(exc).__name__)
    return outcome


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------------------ what happened
def refresh_history(settings: Settings, kind: str, limit: int = 10) -> dict:
    """The active version, stored versions and the latest runs of one model kind (a run
    killed with the bot is marked failed first, so it shows as what it was)."""
    registry = registry_for(settings, kind)
    registry.recover()
    return {"active": registry.active_version(), "versions": registry.versions(),
            "runs": registry.runs(limit=limit)}


def last_refresh(settings: Settings, kind: str) -> tuple[str, dict | None]:
    """The active version and the latest run, read only: a status page must never take the
    refresh lock (a refresh starting at that moment would be refused as busy)."""
    registry = registry_for(settings, kind)
    return registry.active_version(), next(iter(registry.runs(limit=1)), None)


def recover_refreshes(settings: Settings) -> None:
    """A refresh killed with the bot (or before it) is marked failed and its temporary folder
    removed now; a refresh still running is left alone -- on this machine (the registry's
    file lock) or on any other sharing the models folder (its database lease)."""
    store = Store.open(settings)
    try:
        held = {kind for kind in KINDS
                if Lease(store, f"refresh:{kind}").current_holder() is not None}
    finally:
        store.close()
    for kind in KINDS:
        if kind in held:
            continue
        try:
            if marked := registry_for(settings, kind).recover():
                logger.warning("%s refresh runs that never finished: %s", kind,
                               ", ".join(marked))
        except OSError as exc:
            logger.error("could not check the %s refreshes: %s", kind, exc)


#: Refreshes that run right after another kind's: the matcher learns from the same thumbs
#: votes as the classifier, so the classifier's refresh (and schedule) brings it along.
FOLLOWS = {"classifier": ("matcher",)}


def refresh_kinds(kinds: list[str]) -> list[str]:
    """``kinds`` with the refreshes that follow them, each once, in order."""
    out: list[str] = []
    for kind in kinds:
        for k in (kind, *FOLLOWS.get(kind, ())):
            if k not in out:
                out.append(k)
    return out


def next_scheduled(settings: Settings, kind: str) -> tuple[str, dt.datetime]:
    """The crontab line of a kind's schedule and its next run, in the bot's time zone."""
    from bot.scheduler import cron_trigger  # APScheduler and SQLAlchemy only when asked

    cron = (settings.generator_refresh_cron if kind == "generator"
            else settings.classifier_refresh_cron)
    trigger = cron_trigger(cron, settings.timezone)
    now = dt.datetime.now(trigger.timezone)
    return cron, trigger.get_next_fire_time(None, now)


def format_run_time(started: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(started))


# ------------------------------------------------------------------------------ shipped data
def build_shipped_refresh_data(settings: Settings, only: str | None = None,
                               classifier_dir: Path | None = None,
                               command: str = "hirebot train refresh-data",
                               on_part: Callable[[str, dict], None] | None = None) -> dict:
    """The derived rows shipped beside the classifier (embeddings, out-of-fold decisions,
    labels) and the generator's anchor postings, which refreshes train and gate on.

    ``on_part(name, summary)`` hears each part as soon as it is written."""
    from models.common.paths import BUNDLED_ROOT

    out: dict = {}
    done = on_part or (lambda _name, _summary: None)
    if only in (None, "generator"):
        from models.refresh.generator import REFRESH_DIR, build_anchor_set

        shared = settings.resolved_shared_data()
        if shared is None:
            raise UserError("set HIREBOT_SHARED_DATA_DIR to the public datasets folder")
        out["anchor"] = build_anchor_set(shared, REFRESH_DIR)
        done("anchor", out["anchor"])
    if only == "generator":
        return out
    from bot.services.inputs import default_training_data
    from models.refresh.classifier import build_refresh_data
    from models.screening.classifier import CVClassifier

    folder = classifier_dir or BUNDLED_ROOT / "classifier"
    data = default_training_data(settings)
    classifier = CVClassifier.load(folder)
    out["classifier"] = build_refresh_data(
        data.texts, data.labels, classifier, embedder_for(settings), folder,
        data_name=data.name, data_sha256=data.sha256, command=command)
    done("classifier", out["classifier"])
    return out
