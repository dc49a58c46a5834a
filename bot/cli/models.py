"""``hirebot models list | promote VERSION | rollback``: the model registry from the shell."""

from __future__ import annotations

import argparse
import json
import time

from bot.config import Settings
from bot.services.errors import UserError
from bot.services.model_service import headline_metrics
from bot.services.refresh import format_run_time, refresh_history
from bot.services.versions import registry_for
from models.common.registry import BUNDLED, KINDS


def _kinds(args: argparse.Namespace) -> tuple[str, ...]:
    return (args.kind,) if getattr(args, "kind", None) else KINDS


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    report = {kind: refresh_history(settings, kind, limit=10) for kind in _kinds(args)}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    for kind, block in report.items():
        print(f"{kind}: active {block['active']}")
        for version in block["versions"]:
            mark = "*" if version["active"] else " "
            created = (time.strftime("%Y-%m-%d %H:%M", time.localtime(version["created"]))
                       if version["created"] else "shipped")
            print(f"  {mark} {version['version']:22s} {created:16s} "
                  f"{_short_metrics(version['metrics'])}")
        for run in block["runs"][:5]:
            print(f"    run {run['run_id']} {format_run_time(run['started'])} {run['status']}"
                  + (f" ({run['reason']})" if run.get("reason") else ""))
    return 0


def _short_metrics(metrics: dict) -> str:
    flat = headline_metrics(metrics) if metrics else {}
    if not flat:
        flat = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    return ", ".join(f"{k} {v}" for k, v in list(flat.items())[:4] if v is not None)


def cmd_models_promote(args: argparse.Namespace, settings: Settings) -> int:
    for kind in _kinds(args):
        registry = registry_for(settings, kind)
        try:
            registry.path_of(args.version)
        except KeyError:
            continue
        if args.version == BUNDLED and not getattr(args, "kind", None):
            raise UserError("say which model goes back to the bundled one: "
                            "--kind classifier|generator|matcher")
        registry.promote(args.version)
        print(f"{kind}: active version is now {args.version} (the bot switches between jobs)")
        return 0
    raise UserError(f"no stored version {args.version!r}; see `hirebot models list`")


def cmd_models_rollback(args: argparse.Namespace, settings: Settings) -> int:
    if not getattr(args, "kind", None):
        raise UserError("say which model to roll back: --kind classifier|generator|matcher")
    registry = registry_for(settings, args.kind)
    before = registry.active_version()
    after = registry.rollback()
    print(f"{args.kind}: rolled back from {before} to {after}")
    return 0


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="list, promote or roll back model versions")
    models_sub = models.add_subparsers(dest="action", required=True)
    listing = models_sub.add_parser("list", help="stored versions, the active one, recent runs")
    listing.add_argument("--kind", choices=KINDS)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_models_list)
    promote = models_sub.add_parser("promote", help="make a stored version the active one")
    promote.add_argument("version")
    promote.add_argument("--kind", choices=KINDS)
    promote.set_defaults(func=cmd_models_promote)
    rollback = models_sub.add_parser("rollback", help="back to the previously active version")
    rollback.add_argument("--kind", choices=KINDS, required=True)
    rollback.set_defaults(func=cmd_models_rollback)
