"""Job postings for the generator: read, clean, de-duplicate, balance and split.

Every source file spells its columns differently, and the corpus has known traps (see
``../shared/data/README.md``): the NHS file would make the model mostly about nursing, some sources
repeat the same ad dozens of times, and a few ads are flagged scams. The held-out split is decided
by a hash of the de-duplication key, so it never changes when files are added or reordered, and
an exact copy of a held-out ad can never sit in the training half.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ftfy

logger = logging.getLogger(__name__)

EOS_TOKEN = "<|endoftext|>"
TITLE_PREFIX = "Job title: "
HELD_OUT_PERCENT = 5
NHS_PER_TITLE = 3
NHS_CAP = 3000
MIN_DESCRIPTION_CHARS = 200

csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class Posting:
    title: str
    description: str
    source: str

    @property
    def key(self) -> str:
        return dedup_key(self.description)

    def document(self) -> str:
        """The training document: the model learns title -> ad -> end of text."""
        return format_prompt(self.title) + self.description


@dataclass(frozen=True)
class SourceSpec:
    """How one public file maps onto (title, description)."""

    file: str
    title: str
    description: tuple[str, ...]
    drop_if: tuple[str, str] | None = None  # (column, value) marking rows to drop


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("nhs_jobs_uk_2020.csv", "title", ("description",)),
    SourceSpec("city_of_la_job_bulletins.csv", "title", ("description",)),
    SourceSpec("linkedin2023_postings_first1000_koriralex.csv", "title", ("description",)),
    SourceSpec("monster_com_sample500_cleaned_razan.csv", "title", ("description",)),
    SourceSpec("linkedin_2025_jobs_m5991.csv", "title", ("description",)),
    SourceSpec("linkedin_ca2018_DataAnalyst.csv", "title", ("description",)),
    SourceSpec("linkedin_ca2018_DataScientist.csv", "title", ("description",)),
    SourceSpec("indeed_ca2018_cal_da_500.csv", "title", ("description",)),
    SourceSpec("indeed_ca2018_cal_ds_500.csv", "title", ("description",)),
    SourceSpec("glassdoor_jobs.csv", "Job Title", ("Job Description",)),
    SourceSpec("glassdoor_Uncleaned_DS_jobs.csv", "Job Title", ("Job Description",)),
    SourceSpec(
        "google_job_skills.csv",
        "Title",
        ("Responsibilities", "Minimum Qualifications", "Preferred Qualifications"),
    ),
    SourceSpec(
        "emscad_fake_job_postings_first500.csv",
        "title",
        ("description", "requirements", "benefits"),
        drop_if=("fraudulent", "1"),
    ),
    SourceSpec("uk_civil_service_jobs_2023_sample75.csv", "title", ("description",)),
    SourceSpec("kenya_jobboards_2025_short_snippets.csv", "title", ("description",)),
    SourceSpec("onet_occupation_profiles.csv", "title", ("description",)),
    SourceSpec("esco_v1_occupations_en.csv", "title", ("description",)),
)

#: Section headings some sources glue together; named so the generator sees real headings.
GOOGLE_HEADINGS = ("Responsibilities", "Minimum qualifications", "Preferred qualifications")
EMSCAD_HEADINGS = ("", "Requirements", "Benefits")

_WS = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_GLUED_SENTENCE = re.compile(r"([a-z\.\!\?])([A-Z][a-z]+ )")


def format_prompt(title: str) -> str:
    return f"{TITLE_PREFIX}{title.strip()}\n\n"


def dedup_key(description: str) -> str:
    """The README's rule: hash of the first 300 chars, lower-cased, whitespace collapsed."""
    head = " ".join(description.lower().split())[:300]
    return hashlib.sha1(head.encode("utf-8")).hexdigest()


def is_held_out(posting: Posting, percent: int = HELD_OUT_PERCENT) -> bool:
    return int(posting.key[:8], 16) % 100 < percent


def clean_description(text: str) -> str:
    """Repair mojibake and whitespace; glue points (``team.Also``) get a line break back."""
    text = text or ""
    if not text.isascii():  # ftfy is slow on 40 MB; pure ASCII cannot hold mojibake
        text = ftfy.fix_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _GLUED_SENTENCE.sub(r"\1\n\2", text) if "\n" not in text.strip() else text
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def clean_title(title: str) -> str:
    return " ".join(ftfy.fix_text(title or "").split())[:120]


def _join_sections(values: Sequence[str], headings: Sequence[str]) -> str:
    parts = []
    for heading, value in zip(headings, values, strict=False):
        value = (value or "").strip()
        if value:
            parts.append(f"{heading}:\n{value}" if heading else value)
    return "\n\n".join(parts)


def read_source(folder: Path, spec: SourceSpec) -> list[Posting]:
    path = folder / spec.file
    if not path.is_file():
        logger.warning("postings file missing, skipped: %s", path)
        return []
    headings: Sequence[str] = ("",)
    if spec.file.startswith("google_job_skills"):
        headings = GOOGLE_HEADINGS
    elif spec.file.startswith("emscad"):
        headings = EMSCAD_HEADINGS
    out: list[Posting] = []
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            if spec.drop_if and (row.get(spec.drop_if[0]) or "").strip() == spec.drop_if[1]:
                continue
            values = [row.get(col) or "" for col in spec.description]
            body = values[0] if len(values) == 1 else _join_sections(values, headings)
            posting = Posting(clean_title(row.get(spec.title, "")), clean_description(body),
                              spec.file)
            if posting.title and len(posting.description) >= MIN_DESCRIPTION_CHARS:
                out.append(posting)
    return out


def read_postings_file(path: Path) -> list[Posting]:
    """A user's CSV or JSONL of postings with ``title`` and ``description`` columns or keys."""
    rows: Iterable[dict]
    if path.suffix.lower() in {".jsonl", ".json"}:
        with path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    else:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        if "title" not in lowered or "description" not in lowered:
            raise ValueError(f"{path.name}: needs 'title' and 'description' columns or keys")
        posting = Posting(clean_title(str(lowered["title"] or "")),
                          clean_description(str(lowered["description"] or "")), path.name)
        if posting.title and len(posting.description) >= MIN_DESCRIPTION_CHARS:
            out.append(posting)
    return out


def deduplicate(postings: Iterable[Posting]) -> list[Posting]:
    seen: set[str] = set()
    out = []
    for posting in postings:
        if posting.key not in seen:
            seen.add(posting.key)
            out.append(posting)
    return out


def balance_nhs(postings: list[Posting], seed: int = 0) -> list[Posting]:
    """Keep at most a few NHS ads per title and a cap overall, so nursing does not dominate."""
    rng = random.Random(seed)
    by_title: dict[str, list[Posting]] = defaultdict(list)
    rest = []
    for posting in postings:
        if posting.source.startswith("nhs_"):
            by_title[posting.title.lower()].append(posting)
        else:
            rest.append(posting)
    kept: list[Posting] = []
    for title in sorted(by_title):
        group = by_title[title]
        rng.shuffle(group)
        kept.extend(group[:NHS_PER_TITLE])
    rng.shuffle(kept)
    return rest + kept[:NHS_CAP]


@dataclass
class PostingCorpus:
    train: list[Posting]
    held_out: list[Posting]

    def summary(self) -> dict:
        def count(items: list[Posting]) -> dict[str, int]:
            counts: dict[str, int] = defaultdict(int)
            for p in items:
                counts[p.source] += 1
            return dict(sorted(counts.items()))

        return {
            "train": len(self.train),
            "held_out": len(self.held_out),
            "train_chars": sum(len(p.document()) for p in self.train),
            "sources": count(self.train + self.held_out),
            "sha256": corpus_hash(self.train + self.held_out),
        }


def corpus_hash(postings: Sequence[Posting]) -> str:
    digest = hashlib.sha256()
    for posting in postings:
        digest.update(posting.document().encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def split(postings: Iterable[Posting]) -> PostingCorpus:
    unique = deduplicate(postings)
    train = [p for p in unique if not is_held_out(p)]
    held_out = [p for p in unique if is_held_out(p)]
    return PostingCorpus(train, held_out)


def load_public_corpus(shared_data: Path, seed: int = 0) -> PostingCorpus:
    """The bundled generator's data: all public posting files, de-duplicated, NHS balanced."""
    folder = shared_data / "job_postings"
    postings: list[Posting] = []
    for spec in SOURCES:
        postings.extend(read_source(folder, spec))
    unique = deduplicate(postings)
    return split(balance_nhs(unique, seed=seed))


def load_corpus(paths: Sequence[Path]) -> PostingCorpus:
    postings: list[Posting] = []
    for path in paths:
        postings.extend(read_postings_file(path))
    return split(postings)
