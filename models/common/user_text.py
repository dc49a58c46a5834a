"""What may be in a short text a person types (a role, a job title) or a name shown back to them.

Titles come from every script: Persian and Hindi need the zero-width joiners (U+200C, U+200D),
emoji sequences need ZWJ and variation selectors, so "no format characters at all" refuses
real titles. What is refused is what can hide or reorder text: the bidirectional overrides and
isolates (a "Nurse" that reads "esruN" in the bot's reply, or a file name that shows ``fdp.exe``
as ``exe.pdf``), other invisible format characters, and C0/C1 control characters. Slack's
mention syntax (``<@U123>``, ``<!channel>``) is refused in a role because a role is echoed
into every verdict of a thread.
"""

from __future__ import annotations

import re
import unicodedata

#: Format characters that scripts and emoji need; every other one (Cf) is refused.
JOINERS = frozenset({"\u200c", "\u200d"})
#: Invisible characters that carry no meaning in a title and are dropped silently.
IGNORABLE = frozenset({"\u200b", "\ufeff", "\u00ad", "\u2060"})
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
_MENTION = re.compile(r"<\s*[@#!][^>]*>")


def drop_ignorable(text: str) -> str:
    return "".join(ch for ch in text if ch not in IGNORABLE)


def text_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be used as ``what`` ("role title", "job title"), or None.

    A title is one line: tabs and line breaks are control characters here (a title that
    smuggles "Nurse\nrm -rf" must not reach a prompt or a log as two lines).
    """
    for ch in text:
        if ch in BIDI_CONTROLS:
            return (f"The {what} contains right-to-left override or isolate characters, "
                    "which can make text read differently from what it is. Please retype it.")
        if ch in JOINERS or ch in IGNORABLE or unicodedata.category(ch) == "Zs":
            continue
        if ch in "\n\r\t\v\f\x85\u2028\u2029":
            return f"The {what} must be one line (it contains a line break or tab)."
        category = unicodedata.category(ch)
        if category in {"Cc", "Cf"}:
            return f"The {what} contains control characters (U+{ord(ch):04X})."
        if category in {"Co", "Cs", "Cn"}:
            return f"The {what} contains a character that is not assigned (U+{ord(ch):04X})."
    if _MENTION.search(text):
        return f"The {what} contains a Slack mention (@someone, #channel or @here); leave it out."
    if not any(ch.isalpha() for ch in text):
        return f"The {what} has no letters in it."
    return None


def printable_name(name: str, limit: int = 120) -> str:
    """A file name as it may be shown: no control, bidi or invisible characters, one line,
    at most ``limit`` characters (the extension kept)."""
    kept = []
    for ch in name:
        if ch in BIDI_CONTROLS or ch in IGNORABLE:
            continue
        category = unicodedata.category(ch)
        if ch.isspace() or category in {"Cc", "Zl", "Zp"}:
            kept.append(" ")
        elif category in {"Cf", "Co", "Cs", "Cn"} and ch not in JOINERS:
            kept.append("\ufffd")
        else:
            kept.append(ch)
    clean = " ".join("".join(kept).split()) or "(no name)"
    if len(clean) > limit:
        stem, dot, ext = clean.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 6 else ""
        clean = clean[: limit - len(ext) - 1] + "…" + ext
    return clean


def strip_bidi(text: str) -> str:
    """Text quoted from a CV (a snippet): bidi controls removed, so a quote cannot reorder
    the reply around it."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)
