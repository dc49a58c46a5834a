"""What runs inside the training process: gather the team's data, train, gate, promote.

Started by :func:`bot.services.refresh.spawn_refresh` as ``python -m bot.refresh`` (the entry
point keeps its old path). It prints its outcome on one marked line for the parent and posts
nothing: reporting is the parent's job, so the training process needs no Slack client.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from bot.config import Settings, get_settings
from bot.logging_setup import configure_logging
from bot.services.team_data import features_from_blob
from bot.services.versions import PIN_SETTINGS, embedder_for, pinned_dir, registry_for
from bot.storage import Store

logger = logging.getLogger(__name__)

OUTCOME_MARK = "HIREBOT-REFRESH-OUTCOME "
EXIT_BUSY = 3


class RefreshBusy(Exception):
    """A refresh of this kind is already running."""


def team_cvs(store: Store) -> list:
    from models.refresh.pipeline import TeamCV

    return [TeamCV(r["key"], r["label"], features_from_blob(r["features"]),
                   r.get("base_version") or "") for r in store.labelled_cvs()]


def team_postings(store: Store) -> list:
    from models.generation.postings import Posting, clean_description, clean_title

    out = []
    for row in store.team_postings():
        posting = Posting(clean_title(row["title"] or ""),
                          clean_description(row["description"] or ""), "team")
        if posting.title and posting.description:
            out.append(posting)
    return out


def team_match_pairs(store: Store) -> list:
    from models.refresh.matcher_refresh import TeamPair

    return [TeamPair(r["key"], int(r["label"]), r["features"], r.get("layout") or "",
                     r.get("role") or "") for r in store.match_pairs()]


def pinned_reason(kind: str, settings: Settings) -> str | None:
    """Refreshes train the registry's versions; a folder pinned in the settings is served
    instead, so a refresh of that kind could never reach users."""
    pinned = pinned_dir(settings, kind)
    if pinned is None:
        return None
    name = "HIREBOT_" + PIN_SETTINGS[kind].upper()
    return f"{name} pins the served {kind} to {pinned}; refreshes are off for it"


def run_refresh(kind: str, settings: Settings, *, force: bool = False):
    """One refresh in this process (the child): train, gate, promote or reject."""
    from models.refresh.generator import GeneratorRefreshConfig
    from models.refresh.pipeline import (
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
        store = Store.open(settings)
        try:
            if kind == "classifier":
                outcome = refresh_classifier(registry, team_cvs(store), tolerance=tolerance,
                                             force=force)
            elif kind == "matcher":
                from models.refresh.matcher_refresh import refresh_matcher

                outcome = refresh_matcher(registry, team_match_pairs(store),
                                          tolerance=settings.gate_match_tolerance, force=force)
            else:
                config = GeneratorRefreshConfig(minutes=settings.generator_refresh_minutes,
                                                epochs=settings.generator_refresh_epochs)
                outcome = refresh_generator(
                    registry, team_postings(store), config=config,
                    min_postings=settings.generator_refresh_min_postings,
                    gate_samples=settings.refresh_gate_samples, tolerance=tolerance,
                    force=force, embedder_factory=lambda: embedder_for(settings))
        finally:
            store.close()
    logger.info("%s", outcome.summary())
    return outcome


def run_child(kind: str, *, force: bool = False) -> int:
    """The whole child: lowest priority, one refresh, its outcome on stdout; the exit code."""
    from models.refresh.pipeline import RefreshOutcome

    settings = get_settings()
    configure_logging(settings.log_level)
    # lowest priority first thing (not preexec_fn: the bot that spawns this has threads)
    os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0),
                                           settings.refresh_nice))
    try:
        outcome = run_refresh(kind, settings, force=force)
    except RefreshBusy as exc:
        print(f"hirebot: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except Exception as exc:  # noqa: BLE001 - always leave an outcome for the parent
        logger.exception("the %s refresh failed", kind)
        outcome = RefreshOutcome(kind, "-", "failed", f"{type(exc).__name__}: {exc}", "")
    print(OUTCOME_MARK + json.dumps(outcome.to_json()), flush=True)
    return 0 if outcome.decision != "failed" else 1
