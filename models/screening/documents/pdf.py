"""PDF text from pdfium with recovered word spaces; pypdf as the fallback and reference."""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import threading
from collections import deque
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from models.screening.documents.pdfscan import StreamScan, scan_pdf_streams
from models.screening.documents.results import (
    _CORRUPT_PDF_MSG,
    _DEFAULT_LIMITS,
    _ENCRYPTED_PDF_MSG,
    _NO_TEXT_LAYER_MSG,
    _PDF_BOMB_MSG,
    CORRUPT_PDF,
    ENCRYPTED_PDF,
    NO_TEXT_LAYER,
    PDF_BOMB,
    TOO_FEW_WORDS,
    DocumentLimits,
    ParsedDocument,
    _cap_text,
    _count_words,
    _Fail,
    _hidden_text_warning,
    _normalise_text,
    _pages_skipped_warning,
    _too_few_words_msg,
    _truncated_warning,
    _visibility_unchecked_warning,
)
from models.screening.documents.visibility import PageLayout, visible_mask

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- PDF

# pdfium is not thread-safe; the bot may parse uploads from several threads.
_PDFIUM_LOCK = threading.Lock()
_RECT_SIZE = ctypes.sizeof(pdfium_c.FS_RECTF)
# Calling the C function through a plain prototype with integer addresses skips ctypes'
# per-call argument conversion; the per-character box loop is the hot path.
_LOOSE_CHAR_BOX = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)(
    ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
)
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x10000)], dtype=bool)
# A space is inserted when the gap between two characters exceeds that character's usual
# gap in this document by this fraction of the line height (a space is ~0.25 of it).
_SPACE_GAP = 0.12
_MIN_SAMPLES = 8
_SCAN_MAX_WORDS = 5


@dataclass
class _PdfText:
    """Raw text of the pages read, and what was left out on the way."""

    text: str = ""
    hidden_chars: int = 0
    pages_total: int = 0
    pages_read: int = 0
    pages_failed: int = 0  # pages pdfium could not load
    pages_too_complex: int = 0  # pages with more objects than max_pdf_page_objects
    truncated: bool = False
    visibility_unchecked: bool = False  # read by pypdf, which cannot see what is hidden


def _read_pdf(display: str, data: bytes, limits: DocumentLimits) -> ParsedDocument:
    """PDF -> ParsedDocument with only the visible text, telling scans, damaged files and
    merely short documents apart."""
    scan = scan_pdf_streams(
        data,
        max_stream=limits.max_pdf_stream_bytes,
        max_content=limits.max_pdf_content_bytes,
        max_total=limits.max_pdf_inflated_bytes,
    )
    if scan.refusal is not None:
        logger.info("PDF refused before parsing: inflates past the %s cap", scan.refusal)
        raise _Fail(PDF_BOMB, _PDF_BOMB_MSG)
    extracted = _pdf_extract(data, limits)
    text, truncated = _cap_text(_normalise_text(extracted.text), limits)
    n_words = _count_words(text)
    if n_words < limits.min_words:
        if extracted.hidden_chars:
            # The visible text is too short; what is hidden is not read (nor is pypdf asked).
            raise _Fail(
                TOO_FEW_WORDS,
                _too_few_words_msg(n_words, limits.min_words).replace(
                    " were found", " were found (hidden text was ignored)", 1
                ),
            )
        if extracted.pages_too_complex and n_words < _SCAN_MAX_WORDS:
            raise _Fail(PDF_BOMB, _PDF_BOMB_MSG)  # pypdf would walk those objects too
        if n_words < _SCAN_MAX_WORDS:
            # pdfium found (almost) nothing; ask pypdf before calling it a scan.
            fallback = _pypdf_text_or_none(data, limits)
            if fallback is not None and _count_words(fallback) >= limits.min_words:
                extracted = _PdfText(fallback, pages_total=extracted.pages_total,
                                     pages_read=extracted.pages_read, visibility_unchecked=True)
                text, truncated = _cap_text(fallback, limits)
                return _parsed(display, data, text, extracted, truncated)
            if _looks_damaged(data, scan, extracted):
                raise _Fail(CORRUPT_PDF, _CORRUPT_PDF_MSG)
            raise _Fail(NO_TEXT_LAYER, _NO_TEXT_LAYER_MSG)
        if _pdf_has_images(data):
            raise _Fail(NO_TEXT_LAYER, _NO_TEXT_LAYER_MSG)
        raise _Fail(TOO_FEW_WORDS, _too_few_words_msg(n_words, limits.min_words))
    return _parsed(display, data, text, extracted, truncated)


def _parsed(
    display: str, data: bytes, text: str, extracted: _PdfText, truncated: bool
) -> ParsedDocument:
    warnings = []
    if extracted.hidden_chars:
        logger.info("PDF: %d hidden characters ignored", extracted.hidden_chars)
        warnings.append(_hidden_text_warning(extracted.hidden_chars))
    if extracted.pages_read < extracted.pages_total:
        warnings.append(_pages_skipped_warning(extracted.pages_read, extracted.pages_total))
    if truncated or extracted.truncated:
        warnings.append(_truncated_warning(len(text)))
    if extracted.visibility_unchecked:
        warnings.append(_visibility_unchecked_warning())
    return ParsedDocument(
        display,
        text,
        "pdf",
        hashlib.sha256(data).hexdigest(),
        hidden_text_chars=extracted.hidden_chars,
        warnings=tuple(warnings),
    )


def _looks_damaged(data: bytes, scan: StreamScan, extracted: _PdfText) -> bool:
    """No text, and the reason is broken data rather than a scan or an empty page."""
    if extracted.pages_total == 0 or extracted.pages_failed == extracted.pages_total:
        return True
    if scan.damaged_streams and b"/Encrypt" not in data:  # encrypted streams never inflate
        return not _pdf_has_images(data)
    return False


def _pdf_text(data: bytes, limits: DocumentLimits = _DEFAULT_LIMITS) -> str:
    """Raw (unnormalised) visible PDF text; see :func:`_pdf_extract`."""
    return _pdf_extract(data, limits).text


def _pdf_extract(data: bytes, limits: DocumentLimits) -> _PdfText:
    """pdfium with recovered spaces and hidden text left out; pypdf when pdfium fails."""
    try:
        return _pdfium_extract(data, limits)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG) from None
        logger.debug("pdfium could not open the PDF (error %s); trying pypdf", exc.err_code)
    except Exception as exc:  # unexpected: keep the upload working, but make the cause visible
        logger.warning("pdfium extraction failed unexpectedly (%s); trying pypdf",
                       type(exc).__name__)
    text = _pypdf_fallback(data, limits)
    return _PdfText(text, pages_total=1, pages_read=1, visibility_unchecked=True)


def _pdfium_extract(data: bytes, limits: DocumentLimits) -> _PdfText:
    """Visible characters of the first ``max_pdf_pages`` pages, each page and the file
    capped, with their boxes turned into text by :func:`_insert_missing_spaces`."""
    pages: list[tuple[np.ndarray, np.ndarray]] = []
    result = _PdfText()
    file_cap = limits.max_text_chars + limits.max_text_chars // 2
    kept = 0
    with _PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            result.pages_total = len(document)
            for index in range(min(result.pages_total, limits.max_pdf_pages)):
                if kept > file_cap:
                    result.truncated = True
                    break
                arrays = _page_arrays(document, index, limits, result)
                if arrays is not None:
                    pages.append(arrays)
                    kept += len(arrays[0])
        finally:
            document.close()
    result.text = _insert_missing_spaces(pages)
    return result


def _page_arrays(
    document: pdfium.PdfDocument, index: int, limits: DocumentLimits, result: _PdfText
) -> tuple[np.ndarray, np.ndarray] | None:
    """One page's visible character codes and boxes; updates ``result``'s counters."""
    try:
        page = document[index]
    except pdfium.PdfiumError:
        logger.debug("skipping an unreadable PDF page")
        result.pages_failed += 1
        return None
    try:
        layout = PageLayout(page.raw, limits.max_pdf_page_objects)
        if layout.too_complex:
            logger.info("skipping a PDF page with too many objects")
            result.pages_too_complex += 1
            return None
        result.pages_read += 1
        textpage = page.get_textpage()
        try:
            arrays = _textpage_arrays(textpage.raw, limits.max_pdf_page_chars)
            if arrays is None:
                return None
            if len(arrays[0]) >= limits.max_pdf_page_chars:
                result.truncated = True
            keep, hidden = visible_mask(layout, textpage.raw, arrays[1])
        finally:
            textpage.close()
    finally:
        page.close()
    result.hidden_chars += hidden
    return arrays[0][keep], arrays[1][keep]


def _textpage_arrays(
    textpage: object, max_chars: int = 1 << 30
) -> tuple[np.ndarray, np.ndarray] | None:
    """Copy a text page's first ``max_chars`` characters and boxes into numpy arrays."""
    n_chars = min(pdfium_c.FPDFText_CountChars(textpage), max_chars)
    if n_chars <= 0:
        return None
    buffer = (ctypes.c_ushort * (n_chars + 1))()
    written = pdfium_c.FPDFText_GetText(textpage, 0, n_chars, buffer)
    codes = np.frombuffer(buffer, dtype=np.uint16, count=n_chars).astype(np.uint32)
    if written - 1 != n_chars or ((codes >= 0xD800) & (codes < 0xE000)).any():
        # Characters outside the BMP become surrogate pairs and shift the UTF-16 buffer
        # against the character indices; ask per character instead (rare).
        codes = np.array(
            [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(n_chars)], dtype=np.uint32
        )
    rects = (pdfium_c.FS_RECTF * n_chars)()
    base = ctypes.addressof(rects)
    address = ctypes.cast(textpage, ctypes.c_void_p).value
    deque(
        map(
            _LOOSE_CHAR_BOX,
            repeat(address, n_chars),
            range(n_chars),
            range(base, base + _RECT_SIZE * n_chars, _RECT_SIZE),
        ),
        maxlen=0,
    )
    boxes = np.frombuffer(rects, dtype=np.float32).reshape(n_chars, 4).astype(np.float64)
    return codes, boxes


def _insert_missing_spaces(pages: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """Join the pages' text, adding the word spaces pdfium dropped.

    Some generators (the livecareer CVs among them) place every glyph, spaces included, with
    its own text operator.  pdfium ignores zero-width space objects and its own gap heuristic
    misses many word breaks, giving "FinancialAccountant".  We look at consecutive
    non-blank characters on the same line: ``gap = (next.left - this.right) / line height``.
    Within a word that gap is a per-glyph constant (negative where the glyph box overhangs
    its advance, e.g. "f"), so for each (character, line height) we take the median gap in
    the document as the baseline - most occurrences are inside words - and insert a space
    where the gap exceeds the baseline by ``_SPACE_GAP``.
    """
    if not pages:
        return ""
    codes = np.concatenate([np.append(c, np.uint32(10)) for c, _ in pages])
    boxes = np.concatenate([np.vstack([b, np.zeros((1, 4))]) for _, b in pages])
    text = codes.astype("<u4").tobytes().decode("utf-32-le", errors="replace")
    left, top, right, bottom = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    blank = _IS_SPACE[np.minimum(codes, 0xFFFF)] | (codes == 0)
    height = top[:-1] - bottom[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        candidate = (
            ~blank[1:]
            & ~blank[:-1]
            & (height > 0)
            & (np.abs(bottom[1:] - bottom[:-1]) < 0.5 * height)
        )
        candidate &= np.isfinite(height)
        gaps = (left[1:] - right[:-1]) / height
    idx = np.flatnonzero(candidate)
    if idx.size == 0:
        return _undo_hyphen_marker(text)
    gap = gaps[idx]
    heights = np.round(height[idx] * 10).clip(0, 99_999).astype(np.int64)
    keys = codes[idx].astype(np.int64) * 100_000 + heights
    _, group, counts = np.unique(keys, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    order = np.lexsort((gap, group))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_gap = gap[order]
    medians = (sorted_gap[starts + (counts - 1) // 2] + sorted_gap[starts + counts // 2]) / 2
    overall = float(np.median(gap))
    baseline = np.where(counts >= _MIN_SAMPLES, np.minimum(medians, overall), overall)
    cuts = (idx[gap - baseline[group] > _SPACE_GAP] + 1).tolist()
    if cuts:
        bounds = [0, *cuts, len(text)]
        text = " ".join(text[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1))
    return _undo_hyphen_marker(text)


def _undo_hyphen_marker(text: str) -> str:
    """pdfium turns a line-ending hyphen into U+FFFE and drops the break; pypdf keeps "-\n"."""
    return text.replace("\ufffe", "-\n")


def _pdf_has_images(data: bytes) -> bool:
    """Whether any page draws an image (directly or one form XObject deep): a scan."""
    try:
        with _PDFIUM_LOCK:
            document = pdfium.PdfDocument(data)
            try:
                for index in range(len(document)):
                    page = document[index]
                    try:
                        images = page.get_objects(
                            filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2
                        )
                        if next(images, None) is not None:
                            return True
                    finally:
                        page.close()
            finally:
                document.close()
    except Exception as exc:  # only a hint for choosing the message
        logger.debug("image check failed (%s)", type(exc).__name__)
    return False


def _pypdf_fallback(data: bytes, limits: DocumentLimits = _DEFAULT_LIMITS) -> str:
    """pypdf for files pdfium refuses; it is slower but repairs some broken files.

    pypdf caps what one stream may inflate to itself; pages and text are capped here."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG)
        if len(reader.pages) == 0:
            raise _Fail(CORRUPT_PDF, _CORRUPT_PDF_MSG)
        texts: list[str] = []
        kept = 0
        for page in reader.pages[: limits.max_pdf_pages]:
            texts.append((page.extract_text() or "")[: limits.max_pdf_page_chars])
            kept += len(texts[-1])
            if kept > limits.max_text_chars:
                break
        return "\n".join(texts)
    except _Fail:
        raise
    except (pypdf.errors.FileNotDecryptedError, pypdf.errors.DependencyError):
        raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG) from None
    except Exception as exc:  # pypdf raises many types on malformed input
        logger.debug("pypdf could not read the PDF either (%s)", type(exc).__name__)
        raise _Fail(CORRUPT_PDF, _CORRUPT_PDF_MSG) from None


def _pypdf_text_or_none(data: bytes, limits: DocumentLimits) -> str | None:
    """Second opinion for PDFs where pdfium found no text; never raises."""
    try:
        return _normalise_text(_pypdf_fallback(data, limits))
    except _Fail:
        return None
