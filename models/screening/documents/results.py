"""What reading a CV gives: a document or an error with a stable code and a message an HR
person can act on; the limits; the text normalisation every format shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class DocumentLimits:
    """Safety caps; small values are handy in tests, the defaults suit real uploads."""

    max_file_bytes: int = 10 * 1024 * 1024  # per file (and per ZIP member, uncompressed)
    max_zip_members: int = 200  # total documents across nested zips
    max_zip_total_bytes: int = 100 * 1024 * 1024  # total uncompressed bytes, whole archive tree
    max_zip_depth: int = 2  # a zip inside a zip is expanded; deeper -> error for that member
    min_words: int = 30
    # What is kept of one CV's text (the models read far less) and of a whole upload's.
    max_text_chars: int = 100_000
    max_upload_chars: int = 2_000_000  # ~15 s of screening at most
    # PDFs: pages read, and what their streams may inflate to (see pdfscan).
    max_pdf_pages: int = 30
    max_pdf_page_chars: int = 30_000
    max_pdf_page_objects: int = 50_000
    max_pdf_stream_bytes: int = 768 * 1024  # real CV pages: under 150 KB
    max_pdf_content_bytes: int = 2 * 1024 * 1024  # real CVs: under 500 KB in all
    max_pdf_inflated_bytes: int = 64 * 1024 * 1024
    # PDFs are parsed in a child process with this address-space cap and deadline (see
    # isolation); None parses in this process (tests that patch the reader need that).
    pdf_memory_bytes: int | None = 1024 * 1024 * 1024  # real CVs peak under 300 MB
    pdf_parse_seconds: float = 60.0  # real CVs: well under a second a page


@dataclass(frozen=True)
class DocumentWarning:
    """Something the reader did to a readable CV that the verdict should mention."""

    code: str  # HIDDEN_TEXT | TEXT_TRUNCATED | PAGES_SKIPPED
    message: str  # one sentence for the HR person


@dataclass(frozen=True)
class ParsedDocument:
    """A document whose text could be extracted."""

    name: str  # base name, or "outer.zip/inner/member.pdf" for ZIP members (sanitised)
    text: str  # normalised text (see _normalise_text)
    kind: str  # "pdf" | "docx" | "text"
    sha256: str  # hex sha256 of the raw file bytes
    # Characters a reader cannot see (white, invisible, off-page, tiny, covered) that were
    # found and left out of ``text``; 0 for formats without such tricks.
    hidden_text_chars: int = 0
    warnings: tuple[DocumentWarning, ...] = ()


@dataclass(frozen=True)
class DocumentError:
    """A document that could not be used, with a reason an HR user understands."""

    name: str
    code: str
    message: str


DocumentResult = ParsedDocument | DocumentError

EMPTY_FILE = "empty_file"
TOO_LARGE = "too_large"
CORRUPT_PDF = "corrupt_pdf"
ENCRYPTED_PDF = "encrypted_pdf"
NO_TEXT_LAYER = "no_text_layer"
CORRUPT_DOCX = "corrupt_docx"
CORRUPT_ZIP = "corrupt_zip"
ZIP_BOMB = "zip_bomb"
ZIP_TOO_MANY_MEMBERS = "zip_too_many_members"
ZIP_TOO_DEEP = "zip_too_deep"
UNSUPPORTED_TYPE = "unsupported_type"
NOT_TEXT = "not_text"
TOO_FEW_WORDS = "too_few_words"
ENCRYPTED_ZIP = "encrypted_zip"
PDF_BOMB = "pdf_bomb"
MACRO_DOCUMENT = "macro_document"
ZIP_LINK = "zip_link"
ZIP_DUPLICATE_NAME = "zip_duplicate_name"
ZIP_TOO_MUCH_TEXT = "zip_too_much_text"

# warning codes (a ParsedDocument's ``warnings``)
HIDDEN_TEXT = "hidden_text"
TEXT_TRUNCATED = "text_truncated"
PAGES_SKIPPED = "pages_skipped"
VISIBILITY_UNCHECKED = "visibility_unchecked"

ERROR_CODES = frozenset(
    {
        EMPTY_FILE,
        TOO_LARGE,
        CORRUPT_PDF,
        ENCRYPTED_PDF,
        NO_TEXT_LAYER,
        CORRUPT_DOCX,
        CORRUPT_ZIP,
        ZIP_BOMB,
        ZIP_TOO_MANY_MEMBERS,
        ZIP_TOO_DEEP,
        UNSUPPORTED_TYPE,
        NOT_TEXT,
        TOO_FEW_WORDS,
        ENCRYPTED_ZIP,
        PDF_BOMB,
        MACRO_DOCUMENT,
        ZIP_LINK,
        ZIP_DUPLICATE_NAME,
        ZIP_TOO_MUCH_TEXT,
    }
)

_DEFAULT_LIMITS = DocumentLimits()
_UPLOAD_HINT = "please upload a PDF, DOCX or TXT file"


class _Fail(Exception):
    """Internal: carries an error code + user message up to the per-file boundary."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def _mb(n_bytes: int) -> str:
    """Human size for messages ("10 MB", "512 KB")."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.0f} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.0f} KB"
    return f"{n_bytes} bytes"


def _empty_error(display: str) -> DocumentError:
    return DocumentError(display, EMPTY_FILE, "This file is empty; please upload it again.")


def _too_large_error(display: str, size: int, cap: int) -> DocumentError:
    return DocumentError(
        display,
        TOO_LARGE,
        f"This file is {_mb(size)}, over the {_mb(cap)} limit; please upload a smaller copy "
        "(for example a PDF without large images).",
    )


def _too_few_words_msg(n_words: int, min_words: int) -> str:
    word = "word" if n_words == 1 else "words"
    return (
        f"Only {n_words} {word} of text were found (a CV needs at least {min_words}); "
        "please check you uploaded the complete CV."
    )


_CORRUPT_PDF_MSG = (
    "This PDF is damaged and could not be read; please export it again and re-upload."
)
_CORRUPT_DOCX_MSG = (
    "This Word file is damaged and could not be read; please save it again (or as PDF) and "
    "re-upload."
)
_CORRUPT_ZIP_MSG = "This ZIP archive is damaged and could not be opened; please create it again."
_ENCRYPTED_PDF_MSG = "This PDF is password-protected; please upload an unprotected copy."
_NO_TEXT_LAYER_MSG = (
    "This PDF looks scanned: it has no text layer and OCR is not supported; please upload a PDF "
    "exported from a word processor, or a DOCX."
)
_PDF_BOMB_MSG = (
    "This PDF unpacks to an unusually large amount of data (a possible decompression bomb), "
    "so it was skipped for safety; please export it again or upload a DOCX."
)
_PDF_TOO_SLOW_MSG = (
    "This PDF took far longer to read than a CV ever does, so it was skipped for safety; "
    "please export it again or upload a DOCX."
)
_MACRO_MSG = (
    "This Word file contains macros, which are never opened for safety; please save it as a "
    "plain DOCX (or PDF) and upload that."
)
_NOT_TEXT_MSG = "This file is not a PDF, Word document or readable text file; " + _UPLOAD_HINT + "."


def _visibility_unchecked_warning() -> DocumentWarning:
    return DocumentWarning(
        VISIBILITY_UNCHECKED,
        "This PDF could only be read by the fallback reader, which cannot tell hidden text from "
        "visible text; if the verdict looks surprising, open the file.",
    )


def _hidden_text_warning(n_chars: int) -> DocumentWarning:
    return DocumentWarning(
        HIDDEN_TEXT,
        f"Hidden text was found and ignored ({n_chars} characters a reader cannot see, such "
        "as white or invisible text); only the visible text was screened.",
    )


def _truncated_warning(kept_chars: int) -> DocumentWarning:
    return DocumentWarning(
        TEXT_TRUNCATED,
        f"This CV is unusually long; only its first {kept_chars:,} characters were screened.",
    )


def _pages_skipped_warning(read: int, total: int) -> DocumentWarning:
    return DocumentWarning(
        PAGES_SKIPPED,
        f"Only {read} of this PDF's {total} pages were read (the rest are too many or too "
        "complex to be a CV).",
    )


def _cap_text(text: str, limits: DocumentLimits) -> tuple[str, bool]:
    """The first ``max_text_chars`` characters, cut at a line or word break when one is near."""
    cap = limits.max_text_chars
    if len(text) <= cap:
        return text, False
    cut = text.rfind("\n", cap - 2000, cap)
    if cut < 0:
        cut = text.rfind(" ", cap - 200, cap)
    return text[: cut if cut > 0 else cap], True


# --------------------------------------------------------------------------- text normalisation

# str.translate table: line-separator-like characters become \n, other C0/C1 controls (except
# \t and \n), zero-width spaces, BOMs and non-characters are dropped.
_DROP_CHARS: dict[int, str | None] = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0), 0x200B, 0xFEFF, 0xFFFE, 0xFFFF]
)
_DROP_CHARS.update(dict.fromkeys((0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029), "\n"))
_SPACE_RUN_RE = re.compile(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_TRAILING_RE = re.compile(r"[ \t]+$", re.MULTILINE)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_WORD_RE = re.compile(r"\w+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _normalise_text(text: str) -> str:
    """Make text from every source look alike for the classifier.

    \\r\\n and other line separators become \\n, control characters (except \\n and \\t) are
    dropped, runs of spaces collapse to one, and trailing spaces go from every line.
    """
    text = text.replace("\r\n", "\n").translate(_DROP_CHARS)
    if _SURROGATE_RE.search(text):
        text = _SURROGATE_RE.sub("", text)
    text = _SPACE_RUN_RE.sub(" ", text)
    text = _TRAILING_RE.sub("", text)
    return text.strip("\n")


def _count_words(text: str) -> int:
    """Words as \\w+ runs; each CJK character counts as one (those scripts use no spaces)."""
    return len(_WORD_RE.findall(text)) + len(_CJK_RE.findall(text))
