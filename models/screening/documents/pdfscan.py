"""A cheap pass over a PDF's raw bytes before pdfium sees it: how big do its streams inflate?

The upload cap is on the compressed file, but a 4 MB PDF can hold a page stream that
inflates to gigabytes, and pdfium inflates and parses it whole (about 200 bytes of memory
per character of text on the page).  So every Flate stream is inflated here, in bounded
chunks that are thrown away, and the file is refused before pdfium opens it when:

* one content-like stream (page content, form, object stream, CMap) inflates past
  ``max_pdf_stream_bytes``: real CV pages are tens of kilobytes;
* content-like streams together pass ``max_pdf_content_bytes``;
* all non-image streams together (fonts included: a full CJK font is ~20 MB) pass
  ``max_pdf_inflated_bytes``.

Images are skipped: text extraction never decodes them.  Streams that fail to inflate are
counted, so a PDF whose text streams are damaged is told apart from a blank (scanned) one.
The scan finds streams by their ``stream`` keyword rather than through the object graph,
so it needs no PDF parser and cannot be fooled by a broken cross-reference table.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_STREAM_RE = re.compile(rb"stream(?:\r\n|\n|\r)")
_DICT_LOOKBACK = 4096
_CHUNK = 64 * 1024
_FONT_KEYS = (b"/Length1", b"/Length2", b"/Length3", b"/Type1C", b"/CIDFontType0C", b"/OpenType")


@dataclass(frozen=True)
class StreamScan:
    """What the raw scan found; ``refusal`` names the cap that was passed, if any."""

    inflated_bytes: int = 0  # all non-image Flate streams (stops counting at the cap)
    content_bytes: int = 0  # the content-like ones
    largest_content: int = 0
    damaged_streams: int = 0  # Flate streams that would not inflate at all
    flate_streams: int = 0
    refusal: str | None = None  # "stream" | "content" | "total"


def scan_pdf_streams(
    data: bytes, *, max_stream: int, max_content: int, max_total: int
) -> StreamScan:
    """Inflate every non-image Flate stream of ``data`` with bounded memory; see the module."""
    inflated = content = largest = damaged = flate = 0
    for match in _STREAM_RE.finditer(data):
        start = match.start()
        if data[max(0, start - 3) : start] == b"end":
            continue  # "endstream" followed by a newline
        head = data[max(0, start - _DICT_LOOKBACK) : start]
        obj = head.rfind(b" obj")
        stream_dict = head[obj:] if obj >= 0 else head[-512:]
        if b"Fl" not in stream_dict or b"/Image" in stream_dict:
            continue  # not Flate-encoded (or an image, never decoded for text)
        flate += 1
        is_font = any(key in stream_dict for key in _FONT_KEYS)
        stream_cap = max_total - inflated if is_font else min(max_stream, max_content - content)
        size = _inflated_size(data, match.end(), max(stream_cap, 0) + 1)
        if size is None:
            damaged += 1
            continue
        inflated += size
        if not is_font:
            content += size
            largest = max(largest, size)
            if size > max_stream:
                return StreamScan(inflated, content, largest, damaged, flate, "stream")
            if content > max_content:
                return StreamScan(inflated, content, largest, damaged, flate, "content")
        if inflated > max_total:
            return StreamScan(inflated, content, largest, damaged, flate, "total")
    return StreamScan(inflated, content, largest, damaged, flate)


def _inflated_size(data: bytes, start: int, cap: int) -> int | None:
    """Bytes the zlib stream at ``start`` inflates to, counting stops just past ``cap``;
    None when it is not zlib data at all.  Output is discarded chunk by chunk."""
    inflater = zlib.decompressobj()
    total, pos = 0, start
    try:
        while pos < len(data) and not inflater.eof and total < cap:
            pending = data[pos : pos + _CHUNK]
            pos += len(pending)
            while pending and total < cap:
                total += len(inflater.decompress(pending, min(cap - total, 1 << 20)))
                pending = inflater.unconsumed_tail
    except zlib.error:
        return None if total == 0 else total
    return total
