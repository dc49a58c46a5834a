"""Plain-text CVs in any common encoding, with binary files refused."""

from __future__ import annotations

import codecs
import logging

from charset_normalizer import from_bytes

from models.screening.documents.results import _NOT_TEXT_MSG, NOT_TEXT, _Fail

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- plain text

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32"),  # the BOM-aware codecs consume the BOM
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Bytes that never occur in real text files (tab, LF, VT, FF, CR and ESC/SUB excepted).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1C, 0x20)])
_NON_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_BAD_DECODED_CHARS = [chr(b) for b in _CONTROL_BYTES] + ["\ufffd"]


def text_byte_cap(max_chars: int) -> int:
    """Bytes of a text file worth decoding to keep ``max_chars`` characters (UTF-32: 4 each)."""
    return 4 * max_chars + 4


def _decode_text(data: bytes, max_chars: int | None = None) -> str:
    """Decode a text file in whatever encoding it came in, or fail with ``not_text``.

    With ``max_chars`` only the bytes that can hold that many characters are decoded (a
    10 MB file of one line would otherwise be decoded, checked and normalised whole); a
    character cut in half at the end is dropped."""
    if max_chars is not None and len(data) > text_byte_cap(max_chars):
        data = data[: text_byte_cap(max_chars)]
        final = False
    else:
        final = True
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _check_decoded(_decode(data, encoding, final))
            except UnicodeDecodeError:
                continue  # e.g. UTF-16 "FF FE" followed by a NUL looks like UTF-32
    # UTF-16 without a BOM is valid UTF-8 (NUL is ASCII), so it is looked for first.
    utf16 = _guess_bomless_utf16(data)
    if utf16 is not None:
        return _check_decoded(utf16)
    try:
        return _check_decoded(_decode(data, "utf-8", final))
    except UnicodeDecodeError:
        pass
    n_control = len(data.translate(None, _NON_CONTROL_BYTES))
    if n_control > max(2, len(data) // 100):
        raise _Fail(NOT_TEXT, _NOT_TEXT_MSG)
    try:
        best = from_bytes(data[: text_byte_cap(max_chars or len(data))]).best()
    except Exception as exc:  # detector failure: not text we can read
        logger.debug("charset detection failed (%s)", type(exc).__name__)
        best = None
    if best is None:
        raise _Fail(NOT_TEXT, _NOT_TEXT_MSG)
    return _check_decoded(str(best))


def _decode(data: bytes, encoding: str, final: bool) -> str:
    """Strict decode; when ``data`` was cut short, an incomplete last character is dropped."""
    if final:
        return data.decode(encoding)
    return codecs.getincrementaldecoder(encoding)().decode(data, final=False)


def _guess_bomless_utf16(data: bytes) -> str | None:
    """Windows tools sometimes write UTF-16 without a BOM: NULs on every other byte."""
    half = len(data) // 2
    if half < 8:
        return None
    sample = data[: 2 * 65_536]  # the pattern shows in the first 128 KB
    half = len(sample) // 2
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls > 0.7 * half and even_nuls < 0.05 * half:
        encoding = "utf-16-le"
    elif even_nuls > 0.7 * half and odd_nuls < 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return _decode(data[: len(data) // 2 * 2], encoding, final=False)
    except UnicodeDecodeError:
        return None


def _check_decoded(text: str) -> str:
    """Reject decodings that are mostly control characters or replacement characters."""
    bad = sum(map(text.count, _BAD_DECODED_CHARS))
    if bad > max(2, len(text) // 100):
        raise _Fail(NOT_TEXT, _NOT_TEXT_MSG)
    return text
