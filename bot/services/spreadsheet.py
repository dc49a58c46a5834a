"""CSV that a spreadsheet opens as data, never as formulas.

A file name or role such as ``=HYPERLINK("http://x","cv")`` is a formula to Excel, LibreOffice
and Google Sheets. OWASP's CSV-injection rule: a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading apostrophe, which the spreadsheet shows as
text. Numbers stay numbers (a negative score would be written as a number, not a string).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
