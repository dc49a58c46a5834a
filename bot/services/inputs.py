"""Checking and reading what a user hands in: role titles, CV files, postings, training data."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.services.errors import UserError

MAX_ROLE_CHARS = 120


def validate_role(role: str) -> str:
    from models.common.user_text import drop_ignorable, text_problem

    role = " ".join(drop_ignorable(role or "").split())
    if not role:
        raise UserError("Please give a role title, e.g. --role \"Registered Nurse\".")
    if len(role) > MAX_ROLE_CHARS:
        raise UserError(f"The role title is longer than {MAX_ROLE_CHARS} characters.")
    problem = text_problem(role, "role title")
    if problem:
        raise UserError(problem)
    return role


def document_limits(settings: Settings):
    """The upload limits of the settings, as the document reader takes them."""
    from models.screening.documents import DocumentLimits

    return DocumentLimits(
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        max_zip_members=settings.max_zip_members,
        max_zip_total_bytes=int(settings.max_zip_total_mb * 1024 * 1024),
        max_zip_depth=settings.max_zip_depth,
        max_upload_chars=settings.max_upload_chars,
        min_words=settings.min_cv_words,
        pdf_memory_bytes=settings.pdf_memory_mb * 1024 * 1024 or None,
        pdf_parse_seconds=settings.pdf_parse_seconds,
    )


def read_inputs(paths: list[Path], settings: Settings) -> list:
    """One ``ParsedDocument`` or ``DocumentError`` per CV (a ZIP gives one per member)."""
    from models.screening.documents import DocumentError, read_document_file

    limits = document_limits(settings)
    docs: list = []
    for path in paths:
        if not path.is_file():
            docs.append(DocumentError(path.name, "not_found", f"{path} is not a readable file."))
            continue
        try:
            docs.extend(read_document_file(path, limits))
        except OSError as exc:
            docs.append(
                DocumentError(path.name, "unreadable", f"Could not open the file ({exc.strerror}).")
            )
    return docs


def read_upload(name: str, data: bytes, settings: Settings,
                members: tuple[int, int] | None = None) -> list:
    """The bytes of one upload (a Slack file), read like a file on disk; ``members``: of a
    ZIP, only that range of its members (one chunk of a bulk upload)."""
    from models.screening.documents import read_document_bytes

    return read_document_bytes(name, data, document_limits(settings), members)


def read_jd(path: Path | None, settings: Settings) -> str | None:
    if path is None:
        return None
    from models.screening.documents import DocumentError

    docs = read_inputs([path], settings)
    if len(docs) != 1 or isinstance(docs[0], DocumentError):
        reason = docs[0].message if docs and isinstance(docs[0], DocumentError) else "one file"
        raise UserError(f"Could not use the job description {path.name}: {reason}")
    return docs[0].text


def default_training_data(settings: Settings):
    """The public labelled CVs the bundled classifier was trained on."""
    from models.screening.datasets import concat, load_livecareer, load_updated_dedup

    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError(
            "No training data: pass --data FILE.csv or set HIREBOT_SHARED_DATA_DIR to the "
            "folder holding resumes/*.csv."
        )
    return concat([load_livecareer(shared), load_updated_dedup(shared)], name="livecareer+updated")


def labelled_training_data(paths: list[Path] | None, settings: Settings):
    """CSV files of labelled CVs, or the public ones when none are given."""
    from models.screening.datasets import concat, load_labelled_csv

    if not paths:
        return default_training_data(settings)
    return concat([load_labelled_csv(p) for p in paths], name="+".join(p.stem for p in paths))


def postings_corpus(paths: list[Path] | None, settings: Settings):
    """Postings (CSV/JSONL: title, description) split for training, or the public corpus."""
    from models.generation.postings import load_corpus, load_public_corpus

    if paths:
        try:
            return load_corpus(paths)
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read the postings: {exc}") from None
    shared = settings.resolved_shared_data()
    if shared is None:
        raise UserError(
            "No postings: pass --data FILE.csv|FILE.jsonl (title, description) or set "
            "HIREBOT_SHARED_DATA_DIR to the folder holding job_postings/.")
    return load_public_corpus(shared)


def held_out_postings(paths: list[Path]):
    """The user's own postings, all held out (to evaluate a generator on)."""
    from models.generation.postings import PostingCorpus, deduplicate, read_postings_file

    try:
        postings = deduplicate(p for path in paths for p in read_postings_file(path))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the postings: {exc}") from None
    if not postings:
        raise UserError("no usable postings (title + description of 200+ chars).")
    return PostingCorpus(train=[], held_out=postings)


def read_postings_files(paths: list[Path]) -> list:
    """Postings to add to the team's data; every file must be readable."""
    from models.generation.postings import read_postings_file

    postings = []
    for path in paths:
        try:
            postings.extend(read_postings_file(path))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    if not postings:
        raise UserError("no usable postings (each needs a title and a description of "
                        "at least 200 characters)")
    return postings
