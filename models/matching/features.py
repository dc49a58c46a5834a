"""What the matcher sees of a CV and a JD: chunked MiniLM embeddings and overlap features.

MiniLM reads 256 tokens; a CV's skills and last two jobs are often past that, and a JD's
requirements usually are. A side is therefore embedded in chunks and its vector is the
normalised mean of its chunks':

- a JD in chunks of whole lines (about 120 words each, at most ``MAX_CHUNKS``); a JD is encoded
  once for every CV screened against it, so its chunks cost nothing per CV;
- a CV in two: its *body*, the first 256 tokens exactly as the screening model embeds the whole
  text (so screening with a JD reuses that vector instead of embedding the CV again), and its
  *digest*, the ESCO skills named only past the body's reach, written as one short line. What
  the 256 tokens cut off still reaches the vector, at the cost of a few dozen tokens instead of
  the CV's whole length; the overlap features below read the whole text in any case.

The overlap features are the ones a recruiter checks first: how many of the JD's skills (ESCO
skills named in it) the CV shows, how much of the JD's title the CV's text carries, whether the
seniority the JD's title names is near the CV's, and whether the CV's years reach the JD's
"N+ years". Every feature is computed from the two texts alone (and, for a job that runs to
"present", today's year), so the same inputs give the same numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.common.esco_skills import SkillTaxonomy

CHUNK_WORDS = 120
MAX_CHUNKS = 8
BODY_WORDS = 190     # about what MiniLM's 256 tokens cover of a CV's start
DIGEST_SKILLS = 12   # skills in a CV's digest line, in order of appearance
#: How a side becomes vectors; part of a stored pair's layout (votes made under another
#: encoding cannot train this one).
ENCODING = f"cv:body+digest/{BODY_WORDS}/{DIGEST_SKILLS};jd:chunks/{CHUNK_WORDS}/{MAX_CHUNKS}"
FEATURE_NAMES = (
    "embedding_cosine",       # mean-chunk MiniLM vectors of both sides
    "best_chunk_cosine",      # mean over JD chunks of the best CV chunk
    "jd_title_cosine",        # the JD's title against the CV
    "tfidf_cosine",           # word overlap weighted by rarity in postings and CVs
    "jd_skills_shown",        # share of the JD's ESCO skills the CV names
    "jd_skills_missing_log",  # log(1 + JD skills the CV does not name)
    "shared_skills_log",      # log(1 + skills both name)
    "cv_skills_in_jd",        # share of the CV's skills the JD names
    "title_words_in_cv",      # share of the JD title's content words found in the CV
    "seniority_gap",          # |JD title level - CV level|, levels 0 (intern) to 5 (head)
    "years_short",            # years the JD asks for beyond the CV's, capped at 10
)
_WORD = re.compile(r"[a-z][a-z0-9+#]*")
_TITLE_STOP = frozenset("""a an and the of for in at to with on or senior junior lead staff
principal head chief intern graduate entry level remote hybrid i ii iii iv sr jr mid f m d
new grad team""".split())
_LEVELS = (
    (0, re.compile(r"\b(intern|internship|apprentice|trainee|student|working student)\b")),
    (1, re.compile(r"\b(junior|jr|graduate|entry[- ]level|new grad|assistant)\b")),
    (5, re.compile(r"\b(head of|director|vp|vice president|chief|cto|cfo|ceo)\b")),
    (4, re.compile(r"\b(principal|staff|lead|manager|architect)\b")),
    (3, re.compile(r"\b(senior|sr|experienced|iii)\b")),
)
_YEARS_CLAIM = re.compile(r"\b(\d{1,2})\s*\+?\s*(?:years?|yrs?)\b(?:\s+of)?(?:\s+\w+){0,3}\s+"
                          r"experience", re.IGNORECASE)
_YEARS_OVER = re.compile(r"\b(?:over|more than|nearly|almost)\s+(\d{1,2})\s+years",
                         re.IGNORECASE)
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d{2})\s*(?:[-–—]|to)\s*((?:19|20)\d{2}|present|current|"
                         r"now|today)\b", re.IGNORECASE)
_JD_YEARS = re.compile(r"\b(\d{1,2})\s*(?:\+|-\s*\d{1,2}|to\s+\d{1,2})?\s*(?:years?|yrs?)\b",
                       re.IGNORECASE)


def chunks(text: str, words_per_chunk: int = CHUNK_WORDS, limit: int = MAX_CHUNKS) -> list[str]:
    """Whole lines packed into chunks of about ``words_per_chunk`` words."""
    out: list[str] = []
    current: list[str] = []
    count = 0
    for line in text.split("\n"):
        words = line.split()
        if not words:
            continue
        if count and count + len(words) > words_per_chunk:
            out.append(" ".join(current))
            current, count = [], 0
            if len(out) >= limit:
                return out
        current.extend(words[: words_per_chunk * 2])
        count += len(words)
    if current and len(out) < limit:
        out.append(" ".join(current))
    return out or [text[:1000]]


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass
class SideEncoding:
    """One CV or JD, encoded once and reused for every pairing."""

    text: str
    title: str
    vector: np.ndarray        # normalised mean of the chunk vectors
    chunk_vectors: np.ndarray
    title_vector: np.ndarray
    skills: tuple[str, ...]   # ESCO skill names, in order of appearance
    words: frozenset[str]
    level: int | None
    years: float | None       # a CV's years of experience, a JD's minimum


def first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()[:120]
    return ""


def seniority(title: str) -> int | None:
    lowered = title.lower()
    for level, pattern in _LEVELS:
        if pattern.search(lowered):
            return level
    return None


def cv_years(text: str) -> float | None:
    """Years of experience a CV states ("7+ years of experience") or its date ranges span."""
    claims = [int(m.group(1)) for m in _YEARS_CLAIM.finditer(text)]
    claims += [int(m.group(1)) for m in _YEARS_OVER.finditer(text)]
    claims = [c for c in claims if 0 < c <= 45]
    if claims:
        return float(max(claims))
    years = []
    this_year = dt.date.today().year  # "2019 - present" runs to this year
    for m in _YEAR_RANGE.finditer(text):
        start = int(m.group(1))
        end_raw = m.group(2).lower()
        end = this_year if not end_raw[0].isdigit() else int(end_raw)
        if 1960 <= start <= end <= this_year:
            years.append((start, end))
    if not years:
        return None
    return float(min(45, max(e for _, e in years) - min(s for s, _ in years)))


def jd_years(text: str) -> float | None:
    """The smallest "N+ years" a JD asks for (a range counts by its lower end)."""
    found = [int(m.group(1)) for m in _JD_YEARS.finditer(text)]
    found = [y for y in found if 0 < y <= 15]
    return float(min(found)) if found else None


def level_from_years(years: float | None) -> int | None:
    if years is None:
        return None
    return 1 if years < 2 else 2 if years < 5 else 3 if years < 9 else 4


def split_body(text: str, words: int = BODY_WORDS) -> tuple[str, str]:
    """The whole lines MiniLM's 256 tokens about cover, and the rest."""
    lines = [line for line in text.split("\n") if line.strip()]
    count = 0
    for i, line in enumerate(lines):
        count += len(line.split())
        if count > words:
            return "\n".join(lines[:i + 1]), "\n".join(lines[i + 1:])
    return "\n".join(lines), ""


def digest_line(skills: Sequence[str]) -> str:
    return "Skills: " + ", ".join(skills[:DIGEST_SKILLS]) if skills else ""


def encode_cv_sides(texts: Sequence[str], embedder, taxonomy: SkillTaxonomy,
                    body_vectors: Sequence[np.ndarray] | None = None) -> list[SideEncoding]:
    """CVs as body + digest (see the module's docstring). ``body_vectors``: the screening
    model's embeddings of the same texts, when it has just made them."""
    parts = [split_body(t) for t in texts]
    found = [(taxonomy.names_in(head), taxonomy.names_in(tail)) for head, tail in parts]
    digests = [digest_line([s for s in dict.fromkeys(tail) if s not in set(head)])
               for head, tail in found]
    wanted = [d for d in digests if d]
    if body_vectors is None:
        vectors = np.asarray(embedder.encode(list(texts) + wanted), dtype=np.float32)
        bodies, extra = vectors[:len(texts)], vectors[len(texts):]
    else:
        bodies = np.stack([np.asarray(v, dtype=np.float32) for v in body_vectors])
        if bodies.shape[0] != len(texts):
            raise ValueError(f"{bodies.shape[0]} body vectors for {len(texts)} CVs")
        extra = np.asarray(embedder.encode(wanted), dtype=np.float32) if wanted else None
    out: list[SideEncoding] = []
    at = 0
    for text, body, digest, (head, tail) in zip(texts, bodies, digests, found, strict=True):
        chunk_vectors = body[None]
        if digest:
            chunk_vectors = np.vstack([body, extra[at]])
            at += 1
        vector = _unit(chunk_vectors.mean(axis=0))
        years = cv_years(text)
        level = seniority(first_line(text))
        out.append(SideEncoding(
            text=text, title=first_line(text), vector=vector, chunk_vectors=chunk_vectors,
            title_vector=vector, skills=tuple(dict.fromkeys(head + tail)),
            words=frozenset(_WORD.findall(text.lower())),
            level=level if level is not None else level_from_years(years), years=years))
    return out


def encode_sides(texts: Sequence[str], embedder, taxonomy: SkillTaxonomy, *, kind: str,
                 titles: Sequence[str] | None = None,
                 body_vectors: Sequence[np.ndarray] | None = None) -> list[SideEncoding]:
    """Encode CVs (``kind="cv"``) or JDs (``kind="jd"``) in one embedding batch."""
    if kind == "cv":
        return encode_cv_sides(texts, embedder, taxonomy, body_vectors)
    titles = list(titles) if titles is not None else [first_line(t) for t in texts]
    pieces = [chunks(t) for t in texts]
    flat = [c for p in pieces for c in p]
    vectors = np.asarray(embedder.encode(flat + titles), dtype=np.float32) if flat else None
    out: list[SideEncoding] = []
    at = 0
    for text, title, parts in zip(texts, titles, pieces, strict=True):
        chunk_vectors = vectors[at:at + len(parts)]
        at += len(parts)
        out.append(SideEncoding(
            text=text, title=title, vector=_unit(chunk_vectors.mean(axis=0)),
            chunk_vectors=chunk_vectors, title_vector=vectors[len(flat) + len(out)],
            skills=tuple(taxonomy.names_in(text)), words=frozenset(_WORD.findall(text.lower())),
            level=seniority(title), years=jd_years(text)))
    return out


def title_content_words(title: str) -> set[str]:
    return {w for w in _WORD.findall(title.lower()) if w not in _TITLE_STOP and len(w) > 1}


def pair_features(cv: SideEncoding, jd: SideEncoding, tfidf_cosine: float) -> np.ndarray:
    """The overlap features of one CV-JD pair, in :data:`FEATURE_NAMES` order."""
    sims = jd.chunk_vectors @ cv.chunk_vectors.T
    jd_skills, cv_skills = set(jd.skills), set(cv.skills)
    shared = jd_skills & cv_skills
    title_words = title_content_words(jd.title)
    gap = abs(jd.level - cv.level) if jd.level is not None and cv.level is not None else 0
    short = 0.0
    if jd.years is not None:
        short = min(10.0, max(0.0, jd.years - (cv.years if cv.years is not None else 0.0)))
    return np.array([
        float(cv.vector @ jd.vector),
        float(sims.max(axis=1).mean()),
        float(jd.title_vector @ cv.vector),
        float(tfidf_cosine),
        len(shared) / len(jd_skills) if jd_skills else 0.5,
        math.log1p(len(jd_skills - cv_skills)),
        math.log1p(len(shared)),
        len(shared) / len(cv_skills) if cv_skills else 0.0,
        (sum(w in cv.words for w in title_words) / len(title_words)) if title_words else 0.5,
        float(gap),
        short,
    ], dtype=np.float32)
