"""Erase one candidate on request: ``/hirebot forget <file link | @user>`` and the CLI's twin.

A candidate is found by the Slack file their CV came in (its id, or a permalink holding it) or,
for everything one person uploaded, by that Slack user. Erasing removes the screening rows,
the derived features and the team labels and votes made from them, the upload claims and any
upload still waiting for a role; the audit rows stay (who asked, when, which model, the
verdict) but lose the file's name and id, so the trail no longer points at the person.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from bot.config import Settings
from bot.services.errors import UserError
from bot.services.team_data import VOTE_PREFIX
from bot.storage import Store

USAGE = "`forget <file link | file ID | @user>`"
#: A permalink (/files/U…/F…/name) or a url_private link (/files-pri/T…-F…/name).
_FILE_IN_LINK = re.compile(
    r"/(?:files|files-pri|file)/(?:[^/\s>|]+/)?(?:T[A-Z0-9]+-)?(F[A-Z0-9]{6,})\b")
_FILE_ID = re.compile(r"^F[A-Z0-9]{6,}$")
_USER = re.compile(r"^<?@([UW][A-Z0-9]{4,})(?:\|[^>]*)?>?$|^([UW][A-Z0-9]{4,})$")
#: What each count of a reply means, in the order it is shown.
WORDS = {"screenings": "screening records", "labelled_cvs": "team labels",
         "match_pairs": "match labels", "feedback": "votes",
         "pending_files": "uploads waiting for a role", "file_claims": "upload records",
         "audit_anonymised": "audit rows anonymised (file name removed)"}

Target = tuple[Literal["file_id", "user"], str]


def parse_target(text: str) -> Target:
    """``<https://x.slack.com/files/U1/F0AB/cv.pdf>``, ``F0AB…``, ``<@U123|ana>`` or ``U123``."""
    raw = text.strip().strip("<>").split("|")[0].strip() if "/" in text else text.strip()
    if match := _FILE_IN_LINK.search(raw):
        return "file_id", match.group(1)
    if _FILE_ID.match(raw):
        return "file_id", raw
    if match := _USER.match(raw):
        return "user", match.group(1) or match.group(2)
    raise UserError(f"Say whose records to forget: {USAGE}.")


def derived_key(blob: bytes) -> str:
    """The key ``team_data`` gives a label made from a screening's derived row."""
    return VOTE_PREFIX + hashlib.sha256(blob).hexdigest()[:24]


def forget(store: Store, target: Target) -> dict[str, int]:
    """Erase what ``target`` names; how many rows each table lost."""
    column, value = target
    rows = store.rows_where("screenings", **{column: value})
    ids = [r["id"] for r in rows]
    keys = [derived_key(r[c]) for r in rows for c in ("features", "match_pair") if r.get(c)]
    claims = [r["key"] for r in store.rows_where("file_claims", **{column: value})]
    out = {"screenings": store.delete_in("screenings", "id", ids),
           "labelled_cvs": store.delete_in("labelled_cvs", "key", keys),
           "match_pairs": store.delete_in("match_pairs", "key", keys),
           "feedback": store.delete_in("feedback", "target_id", ids, target="screening"),
           "pending_files": store.delete_in("pending_files", "key", claims)}
    if column == "file_id":
        out["pending_files"] += store.delete_in("pending_files", "file_id", [value])
    out["file_claims"] = store.delete_in("file_claims", "key", claims)
    out["audit_anonymised"] = store.anonymise_audit(ids, value if column == "file_id" else "")
    return out


def forget_text(target: Target, counts: dict[str, int]) -> str:
    who = f"file {target[1]}" if target[0] == "file_id" else f"<@{target[1]}>'s uploads"
    if not any(counts.values()):
        return f"Nothing stored for {who}: there was nothing to forget."
    parts = [f"{counts[k]} {w}" for k, w in WORDS.items() if counts.get(k)]
    return f"Forgot {who}: " + ", ".join(parts) + "."


def forget_in(settings: Settings, text: str) -> tuple[str, dict[str, int]]:
    """The CLI's path: open the store, erase, close; the reply and the counts."""
    target = parse_target(text)
    store = Store.open(settings)
    try:
        counts = forget(store, target)
    finally:
        store.close()
    return forget_text(target, counts), counts
