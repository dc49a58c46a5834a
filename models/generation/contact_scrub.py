"""Remove e-mail addresses, phone numbers and URLs that a model invents from its training ads.

A small model trained on real postings reproduces real recruiters' contact details; they must
never reach a user. The sentence holding one is dropped (a half sentence such as "Apply at" is
worse than none), and a line left empty disappears.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+\s?(?:@|\(at\)|\[at\])\s?[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
URL = re.compile(
    r"(?:https?://|ftp://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|io|co|uk|nhs|us|"
    r"ca|info|biz|jobs|ke|in|au|de)(?:/\S*)?\b",
    re.IGNORECASE,
)
#: What is left of an address cut at its dots ("jane. … @example."), or a social handle.
AT_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9][\w-]*|[\w.+-]+@(?![\w-])")
PHONE = re.compile(r"(?<![\w£$€])(?:\+?\d[\d ().\-]{7,}\d)(?![\w%])")
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|$)")


def contains_contact(text: str) -> bool:
    return bool(EMAIL.search(text) or AT_HANDLE.search(text) or URL.search(text)
                or _has_phone(text))


def _has_phone(text: str) -> bool:
    for match in PHONE.finditer(text):
        digits = sum(ch.isdigit() for ch in match.group())
        if digits >= 9 and not _looks_like_money_or_range(match.group()):
            return True
    return False


def _looks_like_money_or_range(span: str) -> bool:
    # "25,000 - 30,000" and "2019 - 2020" are not phone numbers.
    return bool(re.fullmatch(r"[\d,.]+\s*-\s*[\d,.]+", span.strip()))


def scrub_contacts(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        if not contains_contact(line):
            lines.append(line)
            continue
        kept = [s for s in _SENTENCE.findall(line) if s.strip() and not contains_contact(s)]
        cleaned = " ".join(s.strip() for s in kept).strip()
        if cleaned and cleaned not in {"-", "*", "•"}:
            lines.append(cleaned)
    return "\n".join(lines)
