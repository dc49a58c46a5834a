"""PDF text from pdfium with recovered word spaces; pypdf as the fallback and reference."""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import threading
from collections import deque
from itertools import repeat

import numpy as np
import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from models.screening.documents.results import (
    _CORRUPT_PDF_MSG,
    _ENCRYPTED_PDF_MSG,
    _NO_TEXT_LAYER_MSG,
    CORRUPT_PDF,
    ENCRYPTED_PDF,
    NO_TEXT_LAYER,
    TOO_FEW_WORDS,
    DocumentLimits,
    ParsedDocument,
    _count_words,
    _Fail,
    _normalise_text,
    _too_few_words_msg,
)

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


def _read_pdf(display: str, data: bytes, limits: DocumentLimits) -> ParsedDocument:
    """PDF -> ParsedDocument, telling scans apart from merely short documents."""
    text = _normalise_text(_pdf_text(data))
    n_words = _count_words(text)
    if n_words < limits.min_words:
        if n_words < _SCAN_MAX_WORDS:
            # pdfium found (almost) nothing; ask pypdf before calling it a scan.
            fallback = _pypdf_text_or_none(data)
            if fallback is not None and _count_words(fallback) >= limits.min_words:
                return ParsedDocument(display, fallback, "pdf", hashlib.sha256(data).hexdigest())
            raise _Fail(NO_TEXT_LAYER, _NO_TEXT_LAYER_MSG)
        if _pdf_has_images(data):
            raise _Fail(NO_TEXT_LAYER, _NO_TEXT_LAYER_MSG)
        raise _Fail(TOO_FEW_WORDS, _too_few_words_msg(n_words, limits.min_words))
    return ParsedDocument(display, text, "pdf", hashlib.sha256(data).hexdigest())


def _pdf_text(data: bytes) -> str:
    """Raw (unnormalised) PDF text: pdfium with recovered spaces, pypdf as a fallback."""
    try:
        return _insert_missing_spaces(_pdfium_pages(data))
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG) from None
        logger.debug("pdfium could not open the PDF (%s); trying pypdf", exc)
    except Exception:  # unexpected: keep the upload working, but make the cause visible
        logger.warning("pdfium extraction failed unexpectedly; trying pypdf", exc_info=True)
    return _pypdf_fallback(data)


def _pdfium_pages(data: bytes) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per page: character codes and loose character boxes (left, top, right, bottom)."""
    pages: list[tuple[np.ndarray, np.ndarray]] = []
    with _PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            for index in range(len(document)):
                try:
                    page = document[index]
                except pdfium.PdfiumError:
                    logger.debug("skipping an unreadable PDF page")
                    continue
                try:
                    textpage = page.get_textpage()
                    try:
                        arrays = _textpage_arrays(textpage.raw)
                    finally:
                        textpage.close()
                finally:
                    page.close()
                if arrays is not None:
                    pages.append(arrays)
        finally:
            document.close()
    return pages


def _textpage_arrays(textpage: object) -> tuple[np.ndarray, np.ndarray] | None:
    """Copy a text page's characters and boxes into numpy arrays (one C call per char)."""
    n_chars = pdfium_c.FPDFText_CountChars(textpage)
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
    except Exception:  # only a hint for choosing the message
        logger.debug("image check failed", exc_info=True)
    return False


def _pypdf_fallback(data: bytes) -> str:
    """pypdf for files pdfium refuses; it is slower but repairs some broken files."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG)
        if len(reader.pages) == 0:
            raise _Fail(CORRUPT_PDF, _CORRUPT_PDF_MSG)
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except _Fail:
        raise
    except (pypdf.errors.FileNotDecryptedError, pypdf.errors.DependencyError):
        raise _Fail(ENCRYPTED_PDF, _ENCRYPTED_PDF_MSG) from None
    except Exception:  # pypdf raises many types on malformed input
        logger.debug("pypdf could not read the PDF either", exc_info=True)
        raise _Fail(CORRUPT_PDF, _CORRUPT_PDF_MSG) from None


def _pypdf_text_or_none(data: bytes) -> str | None:
    """Second opinion for PDFs where pdfium found no text; never raises."""
    try:
        return _normalise_text(_pypdf_fallback(data))
    except _Fail:
        return None
