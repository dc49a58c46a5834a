"""``hirebot refresh``, ``hirebot data add-postings|add-cvs`` and the refresh data builder."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from bot.config import Settings


class RefreshUserError(Exception):
    """A bad file, an unknown category, a refresh already running; one line, exit 2."""


KINDS = ("classifier", "generator")


# ------------------------------------------------------------------------------ refresh
def cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    """Without --now: the schedule and the last decisions. With --now: refresh and decide."""
    from bot.slack_format import refresh_report_text

    kinds = [args.kind] if args.kind else list(KINDS)
    if not args.now:
        _print_schedule(kinds, settings)
        return 0
    from bot.refresh import spawn_refresh

    worst = 0
    for kind in kinds:
        print(f"{kind}: refreshing in a low-priority process…", file=sys.stderr, flush=True)
        outcome = spawn_refresh(kind, settings, force=args.force)
        if args.json:
            print(json.dumps(outcome))
        else:
            text = refresh_report_text(outcome).replace("*", "")
            print(text)
        if outcome.get("decision") == "busy":
            worst = max(worst, 2)
        elif outcome.get("decision") == "failed":
            worst = max(worst, 1)
    return worst


def _print_schedule(kinds: list[str], settings: Settings) -> None:
    from bot.models_commands import registry_for
    from bot.scheduler import cron_trigger

    crons = {"classifier": settings.classifier_refresh_cron,
             "generator": settings.generator_refresh_cron}
    for kind in kinds:
        trigger = cron_trigger(crons[kind], settings.timezone)
        now = dt.datetime.now(trigger.timezone)
        upcoming = trigger.get_next_fire_time(None, now)
        registry = registry_for(settings, kind)
        registry.recover()
        print(f"{kind}: schedule '{crons[kind]}' ({settings.timezone}), next "
              f"{upcoming:%Y-%m-%d %H:%M %Z} while the bot runs; active "
              f"{registry.active_version()}")
        for run in registry.runs(limit=3):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started"]))
            print(f"  {when} {run['status']}: {run.get('reason', '')}")
    print("Run one now with `hirebot refresh [classifier|generator] --now`.")


# ------------------------------------------------------------------------------ team data
def cmd_add_postings(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import Store
    from models.postings import read_postings_file

    postings = []
    for path in args.files:
        try:
            postings.extend(read_postings_file(path))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise RefreshUserError(f"cannot read {path}: {exc}") from None
    if not postings:
        raise RefreshUserError("no usable postings (each needs a title and a description of "
                               "at least 200 characters)")
    store = Store(settings.db_path)
    try:
        added = store.add_team_postings([{"key": p.key, "title": p.title,
                                          "description": p.description,
                                          "source": p.source} for p in postings])
        total = len(store.team_postings())
    finally:
        store.close()
    print(f"added {added} new postings ({len(postings) - added} already there); "
          f"{total} team postings in all (approved JDs included)")
    return 0


def cmd_add_cvs(args: argparse.Namespace, settings: Settings) -> int:
    """Label CVs for the classifier; only derived features are stored, never the text."""
    from bot.cli import read_inputs
    from bot.storage import Store
    from bot.team_data import cv_key, features_blob
    from models import BUNDLED_ROOT
    from models.classifier import CVClassifier
    from models.classifier_refresh import cv_features
    from models.documents import DocumentError
    from models.embeddings import FastEmbedder
    from models.taxonomy import category_name, normalise_label

    base = CVClassifier.load(BUNDLED_ROOT / "classifier")
    label = normalise_label(args.label)
    if label not in base.classes:
        names = ", ".join(sorted(category_name(c) for c in base.classes))
        raise RefreshUserError(f"unknown category {args.label!r}; use one of: {names}")
    docs = read_inputs(args.files, settings)
    good = [d for d in docs if not isinstance(d, DocumentError)]
    for bad in (d for d in docs if isinstance(d, DocumentError)):
        print(f"skipped {bad.name}: {bad.message}", file=sys.stderr)
    if not good:
        raise RefreshUserError("no readable CVs in the files given")
    embedder = FastEmbedder(settings.embedding_model, precision=settings.embedding_precision)
    x = cv_features(base, [d.text for d in good], embedder)
    store = Store(settings.db_path)
    try:
        for doc, row in zip(good, x, strict=True):
            store.set_labelled_cv(cv_key(doc.text), label, features_blob(row),
                                  base.metadata.get("version", ""), "cli")
        total = len(store.labelled_cvs())
    finally:
        store.close()
    print(f"labelled {len(good)} CVs as {category_name(label)} (stored as embeddings and "
          f"classifier scores, not text); {total} team labels in all")
    return 2 if len(good) < len(docs) else 0


def cmd_data_list(args: argparse.Namespace, settings: Settings) -> int:
    from collections import Counter

    from bot.storage import Store
    from models.taxonomy import category_name

    store = Store(settings.db_path)
    try:
        labels = store.labelled_cvs()
        postings = store.team_postings()
    finally:
        store.close()
    report = {"team_postings": len(postings),
              "labelled_cvs": {category_name(k): v for k, v in
                               Counter(r["label"] for r in labels).most_common()},
              "labels_by_source": dict(Counter(r["source"] for r in labels))}
    print(json.dumps(report, indent=2) if args.json else
          f"{report['team_postings']} team postings (added and approved); "
          f"{len(labels)} labelled CVs "
          f"({', '.join(f'{k} {v}' for k, v in report['labels_by_source'].items()) or 'none'})"
          + "".join(f"\n  {name}: {count}" for name, count in report["labelled_cvs"].items()))
    return 0


def cmd_data_clear(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import Store

    if not (args.cvs or args.postings):
        raise RefreshUserError("say what to forget: --cvs, --postings or both")
    store = Store(settings.db_path)
    try:
        removed = store.clear_team_data(cvs=args.cvs, postings=args.postings)
    finally:
        store.close()
    print("removed " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in removed.items()))
    return 0


# ------------------------------------------------------------------------------ shipped data
def cmd_train_refresh_data(args: argparse.Namespace, settings: Settings) -> int:
    """Derived rows (embeddings, out-of-fold decisions, labels) shipped beside the classifier,
    and the generator's anchor postings."""
    from models import BUNDLED_ROOT

    if args.only in (None, "generator"):
        from models.generator_refresh import REFRESH_DIR, build_anchor_set

        shared = settings.resolved_shared_data()
        if shared is None:
            raise RefreshUserError("set HIREBOT_SHARED_DATA_DIR to the public datasets folder")
        print(json.dumps({"anchor": build_anchor_set(shared, REFRESH_DIR)}))
    if args.only == "generator":
        return 0
    from bot.cli import default_training_data
    from models.classifier import CVClassifier
    from models.classifier_refresh import build_refresh_data
    from models.embeddings import FastEmbedder

    folder = args.out or BUNDLED_ROOT / "classifier"
    data = default_training_data(settings)
    classifier = CVClassifier.load(folder)
    embedder = FastEmbedder(settings.embedding_model, precision=settings.embedding_precision)
    command = "hirebot train refresh-data" + (f" --out {args.out}" if args.out else "") + (
        f" --only {args.only}" if args.only else "")
    meta = build_refresh_data(data.texts, data.labels, classifier, embedder, folder,
                              data_name=data.name, data_sha256=data.sha256, command=command)
    print(json.dumps({k: v for k, v in meta.items() if k != "classes"}, indent=2))
    return 0


def add_parsers(sub, train_sub) -> None:
    data = train_sub.add_parser(
        "refresh-data", help="the shipped data refreshes train and gate on")
    data.add_argument("--out", type=Path, help="classifier folder (default: the bundled one)")
    data.add_argument("--only", choices=KINDS)
    data.set_defaults(func=cmd_train_refresh_data)

    refresh = sub.add_parser("refresh", help="retrain on the team's data; promote if better")
    refresh.add_argument("kind", nargs="?", choices=KINDS)
    refresh.add_argument("--now", action="store_true", help="run it now and print the decision")
    refresh.add_argument("--force", action="store_true",
                         help="run even with no new team data since the active version")
    refresh.add_argument("--json", action="store_true")
    refresh.set_defaults(func=cmd_refresh)

    team = sub.add_parser("data", help="the team's own training data")
    team_sub = team.add_subparsers(dest="action", required=True)
    postings = team_sub.add_parser("add-postings", help="postings (CSV/JSONL: title, "
                                                        "description) for generator refreshes")
    postings.add_argument("files", nargs="+", type=Path, metavar="FILE")
    postings.set_defaults(func=cmd_add_postings)
    cvs = team_sub.add_parser("add-cvs", help="CVs (PDF, DOCX, TXT, ZIP) of one category for "
                                              "classifier refreshes")
    cvs.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cvs.add_argument("--label", required=True, help="the category, e.g. 'Information Technology'")
    cvs.set_defaults(func=cmd_add_cvs)
    listing = team_sub.add_parser("list", help="how much team data there is, by category")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_data_list)
    clear = team_sub.add_parser("clear", help="forget the team's training data")
    clear.add_argument("--cvs", action="store_true", help="labelled CVs (votes included)")
    clear.add_argument("--postings", action="store_true",
                       help="added postings; approved JDs stop counting as approved")
    clear.set_defaults(func=cmd_data_clear)
