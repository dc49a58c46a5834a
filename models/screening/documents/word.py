"""Word (DOCX) CVs: paragraph and table text in reading order, with zip-bomb checks first."""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.parser import parse_xml

from models.screening.documents.results import (
    _CORRUPT_DOCX_MSG,
    _MACRO_MSG,
    CORRUPT_DOCX,
    MACRO_DOCUMENT,
    ZIP_BOMB,
    DocumentLimits,
    _Fail,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- DOCX

_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P, _W_T = _W_NS + "p", _W_NS + "t"
_W_TABS = {_W_NS + "tab", _W_NS + "ptab"}
_W_BREAKS = {_W_NS + "br", _W_NS + "cr"}
_W_HYPHEN = _W_NS + "noBreakHyphen"
_MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _docx_text(data: bytes, limits: DocumentLimits) -> str:
    """Text of a Word file: headers first, then the body in document order.

    Walking the XML (rather than ``doc.paragraphs``) keeps paragraphs, table cells, nested
    tables, content controls and text boxes in the order they appear, which is where CV
    templates put most of their content.  ``mc:Fallback`` copies are skipped so text boxes
    are not duplicated.
    """
    _check_docx_bomb(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        seen_headers: set[str] = set()
        for rel in document.part.rels.values():
            if rel.is_external or rel.reltype != RT.HEADER:
                continue
            header_lines: list[str] = []
            _walk_docx(rel.target_part.element, header_lines, [])
            header_text = "\n".join(line for line in header_lines if line.strip())
            if header_text and header_text not in seen_headers:
                seen_headers.add(header_text)
                lines.append(header_text)
        _walk_docx(document.element.body, lines, [])
        return "\n".join(lines)
    except _Fail:
        raise
    except Exception as exc:  # python-docx rejects .dotx and odd packages
        logger.debug("python-docx could not open the file (%s); trying the raw XML",
                     type(exc).__name__)
    return _docx_text_raw(data)


def _docx_text_raw(data: bytes) -> str:
    """Fallback for Word packages python-docx refuses (macro-enabled, templates, quirks)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            root = parse_xml(zf.read("word/document.xml"))  # python-docx's safe parser
        lines: list[str] = []
        _walk_docx(root, lines, [])
        return "\n".join(lines)
    except Exception as exc:  # any failure here: the file is damaged
        logger.debug("raw DOCX parse failed (%s)", type(exc).__name__)
        raise _Fail(CORRUPT_DOCX, _CORRUPT_DOCX_MSG) from None


def _walk_docx(element: Any, lines: list[str], buf: list[str]) -> None:
    """Append one line per ``w:p`` to ``lines``; ``buf`` collects the current paragraph."""
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        if tag == _W_T:
            buf.append(child.text or "")
        elif tag == _W_P:
            inner: list[str] = []
            _walk_docx(child, lines, inner)
            lines.append("".join(inner))
        elif tag in _W_TABS:
            buf.append("\t")
        elif tag in _W_BREAKS:
            buf.append("\n")
        elif tag == _W_HYPHEN:
            buf.append("-")
        elif tag != _MC_FALLBACK:
            _walk_docx(child, lines, buf)


def _check_docx_bomb(data: bytes, limits: DocumentLimits) -> None:
    """python-docx inflates (and parses) every part in memory, so check declared sizes first.

    A real CV's XML is well under a megabyte; an XML part over the per-file cap, or a
    package over the archive cap, is a decompression bomb.  zipfile never inflates past a
    member's declared size (and checks its CRC), so a header cannot lie its way past this.
    A package with a VBA project (a .docm renamed .docx) is refused: macros are never run
    here, but the HR person should not open that file either.  (XML entities are safe:
    python-docx parses with ``resolve_entities=False`` and lxml never fetches from the
    network, so an XXE entity stays unexpanded.)
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except Exception:  # not even a readable package
        raise _Fail(CORRUPT_DOCX, _CORRUPT_DOCX_MSG) from None
    if any(info.filename.lower().endswith(_MACRO_PARTS) for info in infos):
        raise _Fail(MACRO_DOCUMENT, _MACRO_MSG)
    total = sum(info.file_size for info in infos)
    biggest_xml = max(
        (info.file_size for info in infos if info.filename.endswith((".xml", ".rels"))),
        default=0,
    )
    if total > limits.max_zip_total_bytes or biggest_xml > limits.max_file_bytes:
        raise _Fail(
            ZIP_BOMB,
            "This Word file unpacks to an unusually large size (a possible ZIP bomb), so it was "
            "skipped for safety; please save it again or upload a PDF.",
        )
