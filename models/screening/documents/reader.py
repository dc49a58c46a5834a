"""The entry points: read a file or an upload's bytes, decide its type from the bytes, route it."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import pypdf

from models.screening.documents.archive import _display_name, _read_zip, _ZipBudget
from models.screening.documents.isolation import isolation_available, read_pdf_isolated
from models.screening.documents.pdf import _pdf_text, _read_pdf
from models.screening.documents.plaintext import _decode_text, text_byte_cap
from models.screening.documents.results import (
    _CORRUPT_DOCX_MSG,
    _CORRUPT_ZIP_MSG,
    _DEFAULT_LIMITS,
    _MACRO_MSG,
    CORRUPT_DOCX,
    CORRUPT_ZIP,
    MACRO_DOCUMENT,
    TOO_FEW_WORDS,
    UNSUPPORTED_TYPE,
    DocumentError,
    DocumentLimits,
    DocumentResult,
    ParsedDocument,
    _cap_text,
    _count_words,
    _empty_error,
    _Fail,
    _normalise_text,
    _too_few_words_msg,
    _too_large_error,
    _truncated_warning,
)
from models.screening.documents.sniff import _classify_zip, _sniff
from models.screening.documents.word import _docx_text

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- entry points


def read_document_file(
    path: Path, limits: DocumentLimits = _DEFAULT_LIMITS
) -> list[DocumentResult]:
    """Read one uploaded file from disk.

    The size is checked with ``stat()`` before any content is read, so a huge upload is refused
    without touching it.  The one exception is a ZIP archive: a batch of CVs is legitimately
    bigger than one CV, so a file that starts with the ZIP magic may be up to
    ``max_zip_total_bytes`` (its members are still capped individually).  Only the first
    4 bytes are peeked to decide that.

    Raises ``OSError`` only when the caller hands us a path that cannot be opened at all
    (that is the caller's file handling, not the upload's content).
    """
    path = Path(path)
    display = _display_name(path.name)
    size = path.stat().st_size
    if size == 0:
        return [_empty_error(display)]
    cap = limits.max_file_bytes
    if size > cap:
        with path.open("rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04" or size > limits.max_zip_total_bytes:
            return [_too_large_error(display, size, cap)]
        cap = limits.max_zip_total_bytes
    with path.open("rb") as fh:
        data = fh.read(cap + 1)  # bounded even if the file grows after stat()
    return read_document_bytes(display, data, limits)


def read_document_bytes(
    name: str,
    data: bytes,
    limits: DocumentLimits = _DEFAULT_LIMITS,
    members: tuple[int, int] | None = None,
) -> list[DocumentResult]:
    """Read one uploaded file given as bytes (e.g. straight from a Slack download).

    Returns one result for an ordinary file, or one result per member document for a ZIP
    (in archive order, junk such as ``__MACOSX/`` skipped). ``members``: of a ZIP, read only
    the members ``[start, stop)`` (see ``zip_member_count``).
    """
    budget = _ZipBudget(only=members) if members is not None else None
    return _read_any(_display_name(name), bytes(data), limits, depth=0, budget=budget)


def extract_pdf_text_pypdf(data: bytes) -> str:
    """Plain pypdf extraction, pages joined with newlines.

    This is the reference the CV classifier was trained on and the benchmark's naive path;
    production code uses :func:`read_document_bytes`.  Raises whatever pypdf raises.
    """
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def extract_pdf_text_pdfium(data: bytes) -> str:
    """The fast pdfium extraction with recovered word spaces, normalised.

    Exposed for benchmarks and fidelity checks.  Raises ``ValueError`` (with the user-facing
    message) when the PDF cannot be read.
    """
    try:
        return _normalise_text(_pdf_text(data))
    except _Fail as exc:
        raise ValueError(exc.message) from None


# --------------------------------------------------------------------------- dispatch


def _read_any(
    display: str,
    data: bytes,
    limits: DocumentLimits,
    depth: int,
    budget: _ZipBudget | None,
) -> list[DocumentResult]:
    """Sniff ``data`` and route it; ``depth`` is the number of archives we are inside."""
    if not data or (len(data) <= 65_536 and not data.strip(b"\x00 \t\r\n")):
        return [_empty_error(display)]
    kind = _sniff(data)
    if kind == "zip":
        kind = _classify_zip(data)
    if len(data) > limits.max_file_bytes and not (
        kind == "archive" and len(data) <= limits.max_zip_total_bytes
    ):
        return [_too_large_error(display, len(data), limits.max_file_bytes)]
    if kind == "archive":
        if budget is not None and depth > 0:
            budget.members -= 1  # a nested archive is a container, not a document
        return _read_zip(display, data, limits, depth, budget, _read_any)
    try:
        if kind == "pdf":
            if limits.pdf_memory_bytes is None or not isolation_available():
                return [_read_pdf(display, data, limits)]
            return [read_pdf_isolated(display, data, limits)]
        if kind == "docx":
            return [_finish(display, data, "docx", _docx_text(data, limits), limits)]
        if kind == "macro":
            raise _Fail(MACRO_DOCUMENT, _MACRO_MSG)
        if kind == "corrupt_docx":
            raise _Fail(CORRUPT_DOCX, _CORRUPT_DOCX_MSG)
        if kind == "corrupt_zip":
            raise _Fail(CORRUPT_ZIP, _CORRUPT_ZIP_MSG)
        if kind.startswith("unsupported:"):
            raise _Fail(UNSUPPORTED_TYPE, kind.split(":", 1)[1])
        text = _decode_text(data, limits.max_text_chars)
        truncated = len(data) > text_byte_cap(limits.max_text_chars)
        return [_finish(display, data, "text", text, limits, truncated)]
    except _Fail as exc:
        # The name is left out on purpose: CV file names usually carry the candidate's name.
        logger.info("document rejected: %s", exc.code)
        return [DocumentError(display, exc.code, exc.message)]


def _finish(
    display: str,
    data: bytes,
    kind: str,
    raw_text: str,
    limits: DocumentLimits,
    truncated: bool = False,
) -> ParsedDocument:
    """Normalise, keep at most ``max_text_chars``, enforce the minimum length, build."""
    slack = 2 * limits.max_text_chars + 4096  # normalising only ever shortens the text
    if len(raw_text) > slack:
        raw_text, truncated = raw_text[:slack], True
    text, cut = _cap_text(_normalise_text(raw_text), limits)
    n_words = _count_words(text)
    if n_words < limits.min_words:
        raise _Fail(TOO_FEW_WORDS, _too_few_words_msg(n_words, limits.min_words))
    warnings = (_truncated_warning(len(text)),) if truncated or cut else ()
    return ParsedDocument(
        display, text, kind, hashlib.sha256(data).hexdigest(), warnings=warnings
    )
