"""The parts of a JD (opening, Responsibilities, Requirements, Benefits) found by their headings."""

from __future__ import annotations

import re

SECTION_PATTERNS: dict[str, re.Pattern] = {
    "responsibilities": re.compile(
        r"^(key |main |your |core )?(responsibilities|duties|accountabilities|tasks|"
        r"what you('ll| will) do|the role|role description|job description|about the role|"
        r"main duties|day to day|job responsibilities|essential functions)\b", re.IGNORECASE),
    "requirements": re.compile(
        r"^(key |minimum |preferred |essential |desired |required )?(requirements|"
        r"qualifications|skills|experience|person specification|who you are|what you('ll| will) "
        r"need|about you|competencies|education|knowledge|criteria|what we('re| are) looking for|"
        r"the ideal candidate|you have)\b", re.IGNORECASE),
    "benefits": re.compile(
        r"^(our |employee )?(benefits|what we offer|perks|salary|compensation|why join|"
        r"we offer|pay and benefits|rewards)\b", re.IGNORECASE),
}
_HEADING_MAX_CHARS = 60


def heading_kind(line: str) -> str | None:
    if line.lstrip().startswith(("-", "•", "* ", "·")):  # a bullet, not a heading
        return None
    stripped = line.strip().strip("#*: ").strip()
    if not stripped or len(stripped) > _HEADING_MAX_CHARS or stripped.endswith("."):
        return None
    for kind, pattern in SECTION_PATTERNS.items():
        if pattern.match(stripped):
            return kind
    return None


def split_sections(text: str) -> dict[str, str]:
    """``{"summary": ..., "responsibilities": ..., ...}`` from recognisable headings."""
    sections: dict[str, list[str]] = {"summary": []}
    current = "summary"
    for line in text.split("\n"):
        kind = heading_kind(line) if len(line.strip()) <= _HEADING_MAX_CHARS else None
        if kind is not None:
            current = kind
            sections.setdefault(kind, [])
            rest = line.split(":", 1)[1].strip() if ":" in line else ""
            if rest:
                sections[kind].append(rest)
            continue
        sections.setdefault(current, []).append(line)
    out = {k: "\n".join(v).strip() for k, v in sections.items()}
    return {k: v for k, v in out.items() if v}


def section_count(text: str) -> int:
    return len({k for k in split_sections(text) if k != "summary"})
