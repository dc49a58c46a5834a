"""``hirebot screen FILES --role TITLE [--jd FILE] [--json]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.exits import EXIT_OK, EXIT_REJECTED
from bot.config import Settings
from bot.services.audit_trail import record_cli_verdicts
from bot.services.inputs import read_inputs, read_jd, validate_role
from bot.services.model_service import ModelService
from bot.services.screening import AUTOMATED_AID_NOTICE, VERDICT_WORDS
from models.common.user_text import printable_name


def cmd_screen(args: argparse.Namespace, settings: Settings) -> int:
    role = validate_role(args.role)
    jd_text = read_jd(args.jd, settings)
    docs = read_inputs(args.files, settings)
    results = ModelService(settings).screen(role, docs, jd_text, "file")
    record_cli_verdicts(settings, results)  # who ran it, when, which model; never the text
    if args.json:
        for result in results:
            public = {k: v for k, v in result.items() if not k.startswith("_")}
            print(json.dumps(public, ensure_ascii=False, sort_keys=False))
    else:
        print(format_table(results))
    return EXIT_REJECTED if any("error" in r for r in results) else EXIT_OK


def format_table(results: list[dict]) -> str:
    rows = [("file", "verdict", "score", "category", "matched skills")]
    for r in results:
        if "error" in r:
            rows.append((printable_name(r["file"]), "REJECTED", "", r["error"]["code"],
                         r["error"]["message"]))
        else:
            rows.append(
                (
                    printable_name(r["file"]),
                    VERDICT_WORDS[r["verdict"]],
                    f"{r['score']:.2f}",
                    r["category"],
                    ", ".join(r["evidence"]["matched"][:4]),
                )
            )
    widths = [min(max(len(row[i]) for row in rows), 40) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells + [row[4]]))
    for r in results:
        for note in r.get("notes", ()):
            lines.append(f"note: {printable_name(r['file'])}: {note}")
    if any("error" not in r for r in results):
        lines.append(AUTOMATED_AID_NOTICE)
    return "\n".join(lines)


def add_parsers(sub) -> None:
    screen = sub.add_parser("screen", help="screen CV files (PDF, DOCX, TXT/MD, ZIP) for a role")
    screen.add_argument("files", nargs="+", type=Path, metavar="FILE")
    screen.add_argument("--role", required=True, help="role title, e.g. 'Registered Nurse'")
    screen.add_argument("--jd", type=Path, help="job description file (its skills are used)")
    screen.add_argument("--json", action="store_true", help="one JSON object per CV per line")
    screen.set_defaults(func=cmd_screen)
