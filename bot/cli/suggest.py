"""``hirebot suggest CV [--json]``: the CV's best roles and a JD written for the best one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.exits import EXIT_OK
from bot.config import Settings
from bot.services.errors import UserError
from bot.services.inputs import read_inputs
from bot.services.model_service import ModelService
from bot.services.suggest import suggest


def cmd_suggest(args: argparse.Namespace, settings: Settings) -> int:
    from models.screening.documents import ParsedDocument

    docs = read_inputs([args.file], settings)
    if len(docs) != 1:
        raise UserError("suggest reads one CV; a ZIP holds several: unpack it first")
    if not isinstance(docs[0], ParsedDocument):
        raise UserError(f"{docs[0].name}: {docs[0].message}")
    result = suggest(ModelService(settings), docs[0].text, seed=args.seed).as_dict()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return EXIT_OK
    print("Roles this CV fits best:")
    for role in result["roles"]:
        print(f"  {role['role']}: {role['score']:.2f}")
    must = ", ".join(result["must"]) or "none found"
    print(f"\nA JD for {result['jd']['title']} asking for the CV's skills ({must}); "
          f"match {result['jd']['match']:.2f}, best of {1 + len(result['other_drafts_match'])} "
          "drafts:\n")
    print(result["jd"]["text"])
    if result["jd"]["grounded_on"]:
        print(f"\n{result['jd']['grounded_on']}")
    return EXIT_OK


def add_parsers(sub) -> None:
    parser = sub.add_parser("suggest", help="the roles a CV fits best and a JD for the best one")
    parser.add_argument("file", type=Path, metavar="CV")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=cmd_suggest)
