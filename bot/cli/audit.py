"""``hirebot audit SUBCOMMAND``: checks an HR team runs on the bot's own decisions.

Each subcommand is one ``add_*`` function listed in ``SUBCOMMANDS``: adding one (an
``export``, say) is a new function that builds its parser and sets ``func``, plus one entry
in the tuple; ``add_parsers`` needs no change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.exits import EXIT_OK
from bot.config import Settings


# ------------------------------------------------------------------------------ bias
def cmd_audit_bias(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.bias_audit import audit_labels, format_report

    report = audit_labels(args.labels, settings, role=args.role, jd=args.jd,
                          selected=args.selected, threshold=args.threshold)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return EXIT_OK


def add_bias(audit_sub) -> None:
    bias = audit_sub.add_parser(
        "bias", help="selection rate per group and impact ratio (four-fifths rule)",
        description="Selection rate per group and each group's impact ratio against the most "
                    "selected group, as NYC Local Law 144 bias audits report them. LABELS is a "
                    "CSV with a 'group' column and either 'selected' (decisions already made: "
                    "1/0, yes/no, true/false, or a verdict fit/maybe/no_fit) or 'file' (CVs, "
                    "relative to the CSV, that the bot screens for --role). Not a legal audit.")
    bias.add_argument("--labels", required=True, type=Path, metavar="FILE",
                      help="CSV: group plus selected, or group plus file (with --role)")
    bias.add_argument("--role", help="role title to screen the 'file' CVs for")
    bias.add_argument("--jd", type=Path, help="job description file for the screening")
    bias.add_argument("--selected", choices=("fit", "maybe"), default="fit",
                      help="lowest verdict that counts as selected (default: fit)")
    bias.add_argument("--threshold", type=float, default=0.8,
                      help="impact ratio under which a group is flagged (default 0.8)")
    bias.add_argument("--json", action="store_true", help="the report as JSON")
    bias.set_defaults(func=cmd_audit_bias)


# ------------------------------------------------------------------------------ export
def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    """The audit trail (who asked, when, which model, score, verdict; no CV text) as CSV."""
    import sys

    from bot.services.audit_trail import export_audit

    text, count = export_audit(settings, args.since, args.out)
    if args.out is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {count} audit rows to {args.out}")
    return EXIT_OK


def _date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def add_export(audit_sub) -> None:
    export = audit_sub.add_parser(
        "export", help="the audit trail of verdicts and JDs as CSV (kept for the retention)")
    export.add_argument("--since", type=_date, metavar="DATE",
                        help="from this day on (YYYY-MM-DD, UTC); default: everything kept")
    export.add_argument("--out", type=Path, metavar="FILE", help="CSV file (default: stdout)")
    export.set_defaults(func=cmd_audit_export)


#: One builder per ``audit`` subcommand, in the order ``hirebot audit --help`` lists them.
SUBCOMMANDS = (add_bias, add_export)


def add_parsers(sub) -> None:
    audit = sub.add_parser("audit", help="audits of the bot's decisions (bias)")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    for add in SUBCOMMANDS:
        add(audit_sub)
