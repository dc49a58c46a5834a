"""Selection rates and impact ratios per group: the figures a bias audit reports.

NYC Local Law 144 (and the EEOC's four-fifths rule of thumb) compare each group's selection
rate with the rate of the most selected group; a ratio under 0.8 is the usual warning sign.
The labels file is a CSV with a ``group`` column and either ``selected`` (decisions already
made) or ``file`` (CVs the bot screens now for a role). Group labels are what the team
declares: the bot never infers a protected attribute, and a small group's ratio is noise.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from bot.config import Settings
from bot.services.errors import UserError

logger = logging.getLogger(__name__)

YES = {"1", "yes", "y", "true", "t", "selected", "fit"}
NO = {"0", "no", "n", "false", "f", "rejected", "no_fit", "no fit"}
#: Verdicts at or above the ``--selected`` level count as selected.
VERDICT_RANK = {"no_fit": 0, "maybe": 1, "fit": 2}
SMALL_GROUP = 30  # fewer people than this in a group: its rate says little; the report says so
MAX_ROWS = 100_000


def impact_ratios(rows: list[tuple[str, bool]], threshold: float = 0.8) -> dict:
    """Per group: count, selected, selection rate, impact ratio against the top group."""
    counts: dict[str, list[int]] = {}
    for group, chosen in rows:
        tally = counts.setdefault(group, [0, 0])
        tally[0] += 1
        tally[1] += int(chosen)
    rates = {g: sel / n for g, (n, sel) in counts.items()}
    top = max(rates.values(), default=0.0)
    groups = []
    for group in sorted(counts):
        n, sel = counts[group]
        ratio = rates[group] / top if top > 0 else None
        groups.append({"group": group, "count": n, "selected": sel,
                       "selection_rate": round(rates[group], 4),
                       "impact_ratio": None if ratio is None else round(ratio, 4),
                       "flagged": ratio is not None and ratio < threshold,
                       "small_group": n < SMALL_GROUP})
    return {"threshold": threshold, "total": len(rows),
            "most_selected": [g for g, r in rates.items() if top > 0 and r == top],
            "groups": groups}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise UserError(f"{path} is not a readable file.")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            rows = []
            for i, raw in enumerate(reader):
                if i >= MAX_ROWS:
                    raise UserError(f"{path.name} has more than {MAX_ROWS} rows.")
                rows.append({k.strip().lower(): (v or "").strip()
                             for k, v in raw.items() if k is not None})
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path.name} is not a UTF-8 CSV file ({type(exc).__name__}).") from None
    if "group" not in fields:
        raise UserError(f"{path.name} needs a 'group' column (and 'selected' or 'file').")
    if "selected" not in fields and "file" not in fields:
        raise UserError(f"{path.name} needs a 'selected' column (decisions made) or a 'file' "
                        "column (CVs to screen with --role).")
    return rows


def _decision(value: str, line: int, selected: str) -> bool:
    word = value.strip().lower()
    if word in VERDICT_RANK:
        return VERDICT_RANK[word] >= VERDICT_RANK[selected]
    if word in YES:
        return True
    if word in NO:
        return False
    raise UserError(f"line {line}: 'selected' must be 1/0, yes/no, true/false or a verdict "
                    f"(fit, maybe, no_fit), not {value[:20]!r}.")


def audit_labels(path: Path, settings: Settings, *, role: str | None = None,
                 jd: Path | None = None, selected: str = "fit",
                 threshold: float = 0.8) -> dict:
    """The audit of a labels CSV: precomputed decisions, or the CVs screened for ``role``."""
    if not 0 < threshold <= 1:
        raise UserError("--threshold must be in (0, 1].")
    rows = _read_csv(path)
    if not rows:
        raise UserError(f"{path.name} has no rows.")
    for line, row in enumerate(rows, start=2):
        if not row.get("group"):
            raise UserError(f"line {line}: the group is empty.")
    has_decisions = all(row.get("selected") for row in rows)
    if has_decisions and not role:
        pairs = [(row["group"], _decision(row["selected"], line, selected))
                 for line, row in enumerate(rows, start=2)]
        report = impact_ratios(pairs, threshold)
        report["source"] = "decisions"
        return report
    if not role:
        raise UserError("say which role the CVs are screened for: --role TITLE "
                        "(or give every row a 'selected' decision).")
    return _screened(path, rows, settings, role, jd, selected, threshold)


def _screened(path: Path, rows: list[dict[str, str]], settings: Settings, role: str,
              jd: Path | None, selected: str, threshold: float) -> dict:
    from bot.services.inputs import read_inputs, read_jd, validate_role
    from bot.services.model_service import ModelService

    role = validate_role(role)
    files = []
    for line, row in enumerate(rows, start=2):
        if not row.get("file"):
            raise UserError(f"line {line}: the file is empty.")
        files.append((path.parent / row["file"]).resolve())
    docs = read_inputs(files, settings)
    if len(docs) != len(rows):
        raise UserError("a 'file' in the labels is a ZIP; list the CVs one per row.")
    results = ModelService(settings).screen(role, docs, read_jd(jd, settings), "file")
    pairs, skipped = [], []
    for row, result in zip(rows, results, strict=True):
        if "error" in result:
            skipped.append({"file": row["file"], "reason": result["error"]["message"]})
            continue
        pairs.append((row["group"], VERDICT_RANK[result["verdict"]] >= VERDICT_RANK[selected]))
    if not pairs:
        raise UserError("no CV in the labels could be screened.")
    report = impact_ratios(pairs, threshold)
    report.update(source="screened", role=role, selected_at=selected, skipped=skipped)
    return report


def format_report(report: dict) -> str:
    lines = [f"{'group':24s} {'count':>6s} {'selected':>9s} {'rate':>7s} {'impact':>7s}"]
    for g in report["groups"]:
        ratio = "-" if g["impact_ratio"] is None else f"{g['impact_ratio']:.2f}"
        flag = f" FLAGGED (under {report['threshold']:.2f})" if g["flagged"] else ""
        marks = flag + (" small group" if g["small_group"] else "")
        lines.append(f"{g['group'][:24]:24s} {g['count']:6d} {g['selected']:9d} "
                     f"{g['selection_rate']:7.2f} {ratio:>7s}{marks}")
    for skip in report.get("skipped", []):
        lines.append(f"skipped {skip['file']}: {skip['reason']}")
    lines.append(f"Impact ratio = a group's selection rate / the most selected group's rate; "
                 f"under {report['threshold']:.2f} is flagged (four-fifths rule). Groups under "
                 f"{SMALL_GROUP} people give unstable ratios. This is a screening check, not a "
                 "legal bias audit.")
    return "\n".join(lines)
