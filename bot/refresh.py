"""Running a refresh: gather the team's data, train in a low-priority child process, report.

The bot never trains in its own process. :func:`spawn_refresh` starts ``python -m bot.refresh``
at the lowest CPU priority with one torch/OMP thread (settings), so on a 2-core machine the
Slack app keeps acking and screening while a refresh runs (docs/benchmarks.md measures it). The
child does everything else -- the registry run, the gate, the promotion, the admin report -- so a
refresh from the scheduler, from ``/hirebot refresh`` and from ``hirebot refresh --now`` is the
same code. A file lock per model kind keeps two refreshes of one kind from overlapping, and the
OS drops it when the child dies, however it dies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from pydantic import AliasChoices, SecretStr

from bot.config import Settings, get_settings
from bot.storage import Store

logger = logging.getLogger(__name__)

OUTCOME_MARK = "HIREBOT-REFRESH-OUTCOME "
EXIT_BUSY = 3


class RefreshBusy(Exception):
    """A refresh of this kind is already running."""


# ------------------------------------------------------------------------------ team data
def team_cvs(store: Store) -> list:
    from bot.team_data import features_from_blob
    from models.refresh import TeamCV

    return [TeamCV(r["key"], r["label"], features_from_blob(r["features"]),
                   r.get("base_version") or "") for r in store.labelled_cvs()]


def team_postings(store: Store) -> list:
    from models.postings import Posting, clean_description, clean_title

    out = []
    for row in store.team_postings():
        posting = Posting(clean_title(row["title"] or ""),
                          clean_description(row["description"] or ""), "team")
        if posting.title and posting.description:
            out.append(posting)
    return out


# ------------------------------------------------------------------------------ in the child
def pinned_reason(kind: str, settings: Settings) -> str | None:
    """Refreshes train the registry's versions; a folder pinned in the settings is served
    instead, so a refresh of that kind could never reach users."""
    pinned = settings.classifier_dir if kind == "classifier" else settings.generator_dir
    if pinned is None:
        return None
    name = "HIREBOT_CLASSIFIER_DIR" if kind == "classifier" else "HIREBOT_GENERATOR_DIR"
    return f"{name} pins the served {kind} to {pinned}; refreshes are off for it"


def run_refresh(kind: str, settings: Settings, *, force: bool = False):
    """One refresh in this process (the child): train, gate, promote or reject."""
    from bot.models_commands import registry_for
    from models.generator_refresh import GeneratorRefreshConfig
    from models.refresh import (
        GateTolerance,
        RefreshOutcome,
        refresh_classifier,
        refresh_generator,
    )

    registry = registry_for(settings, kind)
    if reason := pinned_reason(kind, settings):
        return RefreshOutcome(kind, "-", "skipped", reason, "pinned")
    tolerance = GateTolerance(settings.gate_f1_tolerance, settings.gate_bpc_tolerance,
                              settings.gate_repetition_tolerance)
    with registry.lock() as acquired:
        if not acquired:
            raise RefreshBusy(f"a {kind} refresh is already running")
        registry.recover(holding_lock=True)
        store = Store(settings.db_path)
        try:
            if kind == "classifier":
                outcome = refresh_classifier(registry, team_cvs(store), tolerance=tolerance,
                                             force=force)
            else:
                config = GeneratorRefreshConfig(minutes=settings.generator_refresh_minutes,
                                                epochs=settings.generator_refresh_epochs)
                outcome = refresh_generator(
                    registry, team_postings(store), config=config,
                    min_postings=settings.generator_refresh_min_postings,
                    gate_samples=settings.refresh_gate_samples, tolerance=tolerance,
                    force=force)
        finally:
            store.close()
    logger.info("%s", outcome.summary())
    return outcome


def post_report(outcome, settings: Settings) -> bool:
    """The decision and its figures, with the PNG, to the admin channel (if one is set).

    A skipped refresh (nothing new to learn) is not posted; the App Home and ``/hirebot
    status`` still show it. Never raises: the decision is already made and recorded.
    """
    o = outcome if isinstance(outcome, dict) else outcome.to_json()
    token = settings.secret("slack_bot_token")
    if not (settings.admin_channel and token) or o.get("decision") == "skipped":
        return False
    try:
        from slack_sdk import WebClient

        from bot.slack_format import refresh_report_text

        client = WebClient(token=token, base_url=settings.slack_api_url)
        text = refresh_report_text(o)
        png = o.get("png")
        if png and Path(png).is_file():
            client.files_upload_v2(channel=settings.admin_channel, file=png,
                                   filename=Path(png).name, initial_comment=text,
                                   title=f"{o.get('kind')} refresh {o.get('run_id', '')}")
        else:
            client.chat_postMessage(channel=settings.admin_channel, text=text)
    except Exception as exc:  # noqa: BLE001 - Slack errors, network errors, a vanished PNG
        error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
        logger.error("could not post the refresh report: %s", error or type(exc).__name__)
        return False
    return True


# ------------------------------------------------------------------------------ in the bot
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
                  timeout: float | None = None) -> dict:
    """Run a refresh in a low-priority child and return its outcome (a dict).

    The child's log goes to ``models/KIND/refresh.log`` under the data directory. A child that
    dies without an outcome (killed, out of memory, disk full, a fault) is reported as a failed
    run -- or as promoted, if its version was already in service -- here and to the admin
    channel, since the child could not.
    """
    from bot.models_commands import registry_for

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
                return json.loads(line[len(OUTCOME_MARK):])
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
    post_report(outcome, settings)
    return outcome


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def scheduled_refresh(kind: str) -> dict:
    """The schedules' job function (referenced by import path from the SQLite job store)."""
    return spawn_refresh(kind, get_settings())


def main(argv: list[str] | None = None) -> int:
    from bot.logging_setup import configure_logging
    from models.refresh import RefreshOutcome

    parser = argparse.ArgumentParser(prog="python -m bot.refresh")
    parser.add_argument("kind", choices=("classifier", "generator"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    # lowest priority first thing (not preexec_fn: the bot that spawns this has threads)
    os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0),
                                           settings.refresh_nice))
    try:
        outcome = run_refresh(args.kind, settings, force=args.force)
    except RefreshBusy as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except Exception as exc:  # noqa: BLE001 - always leave an outcome for the parent
        logger.exception("the %s refresh failed", args.kind)
        outcome = RefreshOutcome(args.kind, "-", "failed", f"{type(exc).__name__}: {exc}", "")
    # the outcome first: the decision stands even if the report cannot be posted
    print(OUTCOME_MARK + json.dumps(outcome.to_json()), flush=True)
    post_report(outcome, settings)
    return 0 if outcome.decision != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
