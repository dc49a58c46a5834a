"""Deciding a file's type from its bytes, never from its extension (people rename files)."""

from __future__ import annotations

import io
import struct
import zipfile

from models.screening.documents.results import _UPLOAD_HINT

# --------------------------------------------------------------------------- sniffing

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Storage names of a VBA project inside an OLE compound file (UTF-16 directory entries).
_OLE_MACRO_MARKERS = tuple(
    name.encode("utf-16-le") for name in ("_VBA_PROJECT", "Macros", "VBA\x00")
)
_IMAGE_HINT = (
    "not a document with text; please upload a PDF exported from your word processor "
    "(with real text, not a scan), or a DOCX or TXT file."
)
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "This file is a PNG image, " + _IMAGE_HINT),
    (b"\xff\xd8\xff", "This file is a JPEG image, " + _IMAGE_HINT),
    (b"GIF87a", "This file is a GIF image, " + _IMAGE_HINT),
    (b"GIF89a", "This file is a GIF image, " + _IMAGE_HINT),
    (b"II*\x00", "This file is a TIFF image, " + _IMAGE_HINT),
    (b"MM\x00*", "This file is a TIFF image, " + _IMAGE_HINT),
    (b"{\\rtf", "This file is an RTF document, which is not supported; " + _UPLOAD_HINT + "."),
    (b"%!PS", "This file is a PostScript file, which is not supported; " + _UPLOAD_HINT + "."),
    (b"\x7fELF", "This file is a program, not a CV; " + _UPLOAD_HINT + "."),
    (b"\xcf\xfa\xed\xfe", "This file is a program, not a CV; " + _UPLOAD_HINT + "."),
    (b"\xca\xfe\xba\xbe", "This file is a program, not a CV; " + _UPLOAD_HINT + "."),
    (b"Rar!\x1a\x07", "This file is a RAR archive, which is not supported; please use ZIP."),
    (b"7z\xbc\xaf\x27\x1c", "This file is a 7-Zip archive, which isn't supported; please use ZIP."),
    (b"\x1f\x8b", "This file is a gzip archive, which is not supported; please use ZIP."),
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def _sniff(data: bytes) -> str:
    """Decide the type from the bytes: "pdf", "zip", "text", "macro" (an old Office file
    with macros) or "unsupported:<message>".

    Containers are recognised by their magic at offset 0 before a PDF header is searched for:
    a ZIP that stores (does not compress) a PDF carries ``%PDF-`` in its first kilobyte too.
    """
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            return (
                "unsupported:This Word file is password-protected; please remove the password "
                "(or export a PDF) and upload it again."
            )
        if any(marker in data for marker in _OLE_MACRO_MARKERS):
            return "macro"
        return (
            "unsupported:This is an old-style Word (.doc) or Excel file, which is not "
            "supported; please save it as DOCX or PDF and upload that."
        )
    for magic, message in _SIGNATURES:
        if data.startswith(magic):
            return "unsupported:" + message
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "unsupported:This file is a WebP image, " + _IMAGE_HINT
    if data[4:8] == b"ftyp":
        if data[8:12] in _HEIF_BRANDS:
            return "unsupported:This file is a HEIC/AVIF photo, " + _IMAGE_HINT
        return "unsupported:This file is a video or media file, not a CV; " + _UPLOAD_HINT + "."
    if data[:2] == b"BM" and len(data) >= 26 and struct.unpack_from("<I", data, 2)[0] == len(data):
        return "unsupported:This file is a BMP image, " + _IMAGE_HINT
    if data[:2] == b"MZ" and b"PE\x00\x00" in data[:1024]:
        return "unsupported:This file is a Windows program, not a CV; " + _UPLOAD_HINT + "."
    return "text"


def _classify_zip(data: bytes) -> str:
    """Tell a DOCX (or other office package) from a plain archive by its member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except Exception:  # any zipfile failure means "damaged"
        # Only the extension-free evidence in the first bytes can tell us it was meant to be
        # a Word file; that gives the user a more useful message.
        head = data[:4096]
        if b"word/" in head or b"[Content_Types].xml" in head:
            return "corrupt_docx"
        return "corrupt_zip"
    name_set = set(names)
    if "word/document.xml" in name_set or (
        "[Content_Types].xml" in name_set and any(n.startswith("word/") for n in names)
    ):
        return "docx"
    if "xl/workbook.xml" in name_set:
        return "unsupported:This file is an Excel spreadsheet, not a CV; " + _UPLOAD_HINT + "."
    if "ppt/presentation.xml" in name_set:
        return "unsupported:This file is a PowerPoint deck, not a CV; " + _UPLOAD_HINT + "."
    if names and names[0] == "mimetype" and "content.xml" in name_set:
        return (
            "unsupported:This is an OpenDocument (LibreOffice) file, which is not supported; "
            "please save it as DOCX or PDF."
        )
    if "Index/Document.iwa" in name_set:
        return (
            "unsupported:This is an Apple Pages file, which is not supported; please export "
            "it as PDF or DOCX."
        )
    return "archive"
