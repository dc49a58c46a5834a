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
import fcntl
import json
import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from pydantic import AliasChoices, SecretStr

from bot.config import Settings, get_settings
from bot.storage import Store

logger = logging.getLogger(__name__)

OUTCOME_MARK = "HIREBOT-REFRESH-OUTCOME "


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
@contextmanager
def refresh_lock(settings: Settings, kind: str):
    path = settings.data_dir / "models" / kind / "refresh.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshBusy(f"a {kind} refresh is already running") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_refresh(kind: str, settings: Settings, *, force: bool = False):
    """One refresh in this process (the child): train, gate, promote or reject, report."""
    from bot.models_commands import registry_for
    from models.generator_refresh import GeneratorRefreshConfig
    from models.refresh import GateTolerance, refresh_classifier, refresh_generator

    tolerance = GateTolerance(settings.gate_f1_tolerance, settings.gate_bpc_tolerance,
                              settings.gate_repetition_tolerance)
    with refresh_lock(settings, kind):
        registry = registry_for(settings, kind)
        registry.recover()
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
    post_report(outcome, settings)
    return outcome


def post_report(outcome, settings: Settings) -> bool:
    """The decision and its figures, with the PNG, to the admin channel (if one is set)."""
    token = settings.secret("slack_bot_token")
    if not (settings.admin_channel and token):
        return False
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.slack_format import refresh_report_text

    client = WebClient(token=token, base_url=settings.slack_api_url)
    text = refresh_report_text(outcome)
    try:
        if outcome.png and Path(outcome.png).is_file():
            client.files_upload_v2(channel=settings.admin_channel, file=outcome.png,
                                   filename=Path(outcome.png).name, initial_comment=text,
                                   title=f"{outcome.kind} refresh {outcome.run_id}")
        else:
            client.chat_postMessage(channel=settings.admin_channel, text=text)
    except SlackApiError as exc:
        logger.error("could not post the refresh report: %s", exc.response.get("error"))
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

    A child that dies without an outcome (killed, out of memory, disk full) is reported as a
    failed run; the registry marks it so on the next look.
    """
    cmd = [sys.executable, "-m", "bot.refresh", kind] + (["--force"] if force else [])
    proc = subprocess.run(cmd, env=child_environment(settings), capture_output=True, text=True,
                          timeout=timeout, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(OUTCOME_MARK):
            return json.loads(line[len(OUTCOME_MARK):])
    if "already running" in proc.stderr:
        return {"kind": kind, "decision": "busy",
                "reason": f"a {kind} refresh is already running"}
    from bot.models_commands import registry_for

    registry_for(settings, kind).recover()
    logger.error("%s refresh process ended with code %s and no outcome", kind, proc.returncode)
    return {"kind": kind, "decision": "failed",
            "reason": f"the training process ended with code {proc.returncode} "
                      "(killed, out of memory or disk full?); the active model is unchanged"}


def scheduled_refresh(kind: str) -> dict:
    """The schedules' job function (referenced by import path from the SQLite job store)."""
    return spawn_refresh(kind, get_settings())


def main(argv: list[str] | None = None) -> int:
    from bot.logging_setup import configure_logging

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
        return 2
    print(OUTCOME_MARK + json.dumps(outcome.to_json()), flush=True)
    return 0 if outcome.decision != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
