"""A grounded draft as the recruiter reads it, and its best-of-n rank score.

Rendering is the last guard: a line the decoder's rules should already have kept out (cut by
the length cap, repeated, holding an unknown word) is dropped here; bullets end with a full
stop; the company's own facts (about us, benefits, equal opportunity) are added from its
profile, or Benefits is a marked placeholder.
"""

from __future__ import annotations

import re

from models.generation.grounded import RowState, line_is_complete
from models.generation.known_words import Vocabulary

_WORDS = re.compile(r"[a-z0-9+#]+")


def _line_key(line: str) -> str:
    return " ".join(_WORDS.findall(line.lower()))


def tidy_lines(body: str, *, sentence: bool = False, drop: set[str] | None = None,
               vocabulary: Vocabulary | None = None, dropped: list[str] | None = None
               ) -> list[str]:
    """A section's lines without cut-off, repeated or unknown-word ones (the last guard: the
    decoder's rules should have kept them out already; ``dropped`` collects what it removed,
    so the evaluation can count it). A cut-off paragraph (``sentence``) keeps its whole
    sentences."""
    dropped = [] if dropped is None else dropped
    out, seen = [], set()
    for line in body.split("\n"):
        line = line.strip()
        if not line:
            continue
        if (drop and line in drop and not sentence) or (
                vocabulary is not None and vocabulary.unknown_words(line)):
            dropped.append(line)
            continue
        key = _line_key(line)
        if key in seen or not line_is_complete(line, sentence=sentence):
            dropped.append(line)
            if not line_is_complete(line, sentence=sentence) and sentence and "." in line:
                line = line[: line.rfind(".") + 1]  # keep the paragraph's whole sentences
                key = _line_key(line)
                if key and key not in seen:
                    seen.add(key)
                    out.append(line)
            continue
        seen.add(key)
        out.append(line)
    return out


def _own_sections(text: str) -> dict[str, str]:
    """The parts by the headings the plan wrote (a line such as "Experience with SQL" would look
    like a heading to the general splitter)."""
    parts = {"summary": [], "responsibilities": [], "requirements": []}
    current = "summary"
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped in ("Responsibilities:", "Requirements:"):
            current = stripped[:-1].lower()
            continue
        parts[current].append(line)
    return {k: "\n".join(v) for k, v in parts.items()}


def _full_stop(line: str) -> str:
    """Bullets end with a full stop, as the copied statements do."""
    return line if line[-1:] in ".!?" else line + "."


def render_grounded(generator, state: RowState, decoding, *, partial: bool = False) -> str:
    """The draft as the recruiter reads it: generated parts, then the company's own facts."""
    from models.generation.contact_scrub import scrub_contacts
    from models.generation.profile import BENEFITS_PLACEHOLDER

    # Decoded as a whole: a character spread over byte-level tokens ("é", "–") shows whole.
    text = generator.tokenizer.decode(state.ids) if state.ids else state.text
    if partial:  # streaming: whole lines only
        text = text[: text.rfind("\n")] if "\n" in text else ""
        if not text.strip():
            return ""
    if decoding.scrub_contacts:
        text = scrub_contacts(text)
    parts = _own_sections(text)
    profile = state.grounding.profile
    drop = set(state.cut_texts)
    vocabulary = state.vocabulary
    dropped = state.dropped_lines
    dropped.clear()
    opening = tidy_lines(parts.get("summary", ""), sentence=True, drop=drop,
                         vocabulary=vocabulary, dropped=dropped)
    if profile is not None and profile.about:
        opening.append(profile.about)
    blocks = [" ".join(opening)] if opening else []
    for key, heading in (("responsibilities", "Responsibilities"),
                         ("requirements", "Requirements")):
        lines = [_full_stop(line) for line in
                 tidy_lines(parts.get(key, ""), drop=drop, vocabulary=vocabulary,
                            dropped=dropped)]
        if lines:
            blocks.append(f"{heading}:\n" + "\n".join(lines))
    if partial and not state.done:
        return "\n\n".join(blocks)
    if profile is not None and profile.benefits:
        blocks.append("Benefits:\n" + "\n".join(profile.benefits))
    else:
        blocks.append("Benefits:\n" + BENEFITS_PLACEHOLDER)
    if profile is not None and profile.equal_opportunity:
        blocks.append(profile.equal_opportunity)
    return "\n\n".join(b for b in blocks if b.strip())


def rank_score(state: RowState, text: str, *, coded_words: int) -> float:
    """Best-of-n score: grounding coverage + fluency under the model - flagged words.

    coverage: share of the duties copied (or edited) into Responsibilities, plus the share of
    requirement terms present; fluency: mean log-probability the model gave its own sampled
    tokens (higher is more fluent); each gender-coded word and each trimmed line costs a little.
    """
    # Coverage of the duties a draft has room for (5 lines), so a 7-line draft does not win
    # on length alone.
    duty_cover = state.grounding.duties and min(
        1.0, sum(_near(d, text) for d in state.grounding.duties) / 5)
    terms = state.grounding.requirement_terms
    term_cover = sum(t.lower() in text.lower() for t in terms) / len(terms) if terms else 0.0
    must = state.grounding.request.must
    if must and not all(t.lower() in text.lower() for t in must):
        term_cover -= 1.0  # a draft missing a must term ranks below every one that has them
    fluency = state.logprob / max(state.scored, 1)
    return float(duty_cover or 0.0) + 0.5 * term_cover + 0.5 * fluency \
        - 0.05 * coded_words - 0.3 * state.cut_lines


def _near(statement: str, text: str) -> bool:
    words = set(re.findall(r"[a-z]+", statement.lower()))
    have = set(re.findall(r"[a-z]+", text.lower()))
    return bool(words) and len(words & have) / len(words) >= 0.8
