"""ZIP batches, read in memory with bounded reads and budgets shared with nested archives,
so a ZIP bomb or a ``../../evil`` member can neither fill the disk or RAM nor write anywhere."""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from models.screening.documents.results import (
    _CORRUPT_ZIP_MSG,
    CORRUPT_ZIP,
    EMPTY_FILE,
    ENCRYPTED_ZIP,
    ZIP_BOMB,
    ZIP_DUPLICATE_NAME,
    ZIP_LINK,
    ZIP_TOO_DEEP,
    ZIP_TOO_MANY_MEMBERS,
    ZIP_TOO_MUCH_TEXT,
    DocumentError,
    DocumentLimits,
    DocumentResult,
    ParsedDocument,
    _mb,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- ZIP archives

_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"}
_EOCD = b"PK\x05\x06"
_SUSPICIOUS_RATIO = 200  # real documents compress < 20:1; zeros/bombs reach 1000:1


@dataclass
class _ZipBudget:
    """Counters shared by an archive and all archives nested in it."""

    members: int = 0
    total_bytes: int = 0
    chars: int = 0  # text kept from the documents read so far
    #: Read only the top archive's members ``[start, stop)`` (one chunk of a bulk upload that
    #: several workers share); the others count towards the byte budget by their declared
    #: size and give no result. The text budget then applies per chunk.
    only: tuple[int, int] | None = None


def zip_member_count(data: bytes) -> int:
    """How many members (junk such as ``__MACOSX/`` left out) the top of an archive lists:
    the index range a chunk of it names. 0 for something that is not a readable ZIP."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sum(not _is_junk(info) for info in zf.infolist())
    except Exception:  # noqa: BLE001 - not a ZIP: the reader says why
        return 0


#: How an archive reads each member: the dispatcher itself, handed in, so that nested
#: archives recurse without this module importing the dispatcher.
MemberReader = Callable[[str, bytes, DocumentLimits, int, "_ZipBudget | None"], list]


def _read_zip(
    display: str,
    data: bytes,
    limits: DocumentLimits,
    depth: int,
    budget: _ZipBudget | None,
    read_member: MemberReader,
) -> list[DocumentResult]:
    """Expand an archive in memory, one result per member document, in archive order."""
    results = _expand_zip(display, data, limits, depth, budget, read_member)
    codes = Counter(r.code for r in results if isinstance(r, DocumentError))
    logger.info(
        "archive: %d documents read, rejected: %s",
        len(results) - sum(codes.values()),
        dict(codes) or "none",
    )
    return results


def _expand_zip(
    display: str,
    data: bytes,
    limits: DocumentLimits,
    depth: int,
    budget: _ZipBudget | None,
    read_member: MemberReader,
) -> list[DocumentResult]:
    """The body of :func:`_read_zip`; budgets are shared with nested archives."""
    if depth + 1 > limits.max_zip_depth:
        return [
            DocumentError(
                display,
                ZIP_TOO_DEEP,
                "This ZIP is nested inside too many other ZIPs; please put the CVs in a single "
                "ZIP.",
            )
        ]
    budget = budget if budget is not None else _ZipBudget()
    too_many = DocumentError(
        display,
        ZIP_TOO_MANY_MEMBERS,
        f"This ZIP holds more than {limits.max_zip_members} documents; please split it into "
        "smaller batches.",
    )
    declared = _declared_entry_count(data)
    if declared is not None and declared > 10 * limits.max_zip_members + 100:
        return [too_many]  # don't even parse a central directory with thousands of entries
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, OSError, ValueError, EOFError ...
        return [DocumentError(display, CORRUPT_ZIP, _CORRUPT_ZIP_MSG)]
    with zf:
        members = [info for info in zf.infolist() if not _is_junk(info)]
        if not members:
            return [DocumentError(display, EMPTY_FILE, "This ZIP archive has no documents in it.")]
        if budget.members + len(members) > limits.max_zip_members:
            return [too_many]
        budget.members += len(members)
        results: list[DocumentResult] = []
        exhausted = False
        seen: set[str] = set()
        only = budget.only if depth == 0 else None
        for index, info in enumerate(members):
            name = f"{display}/{_sanitise_member_name(info.filename)}"
            if only is not None and not only[0] <= index < only[1]:
                seen.add(name)
                budget.total_bytes += info.file_size  # another chunk reads it
                continue
            if exhausted:
                results.append(_total_exceeded(name, limits))
                continue
            if name in seen:
                results.append(_duplicate_error(name))
                continue
            seen.add(name)
            if budget.chars >= limits.max_upload_chars:
                results.append(_too_much_text(name, limits))
                continue
            error = _member_precheck(name, info, limits)
            if error is not None:
                results.append(error)
                continue
            if budget.total_bytes + info.file_size > limits.max_zip_total_bytes:
                exhausted = True
                results.append(_total_exceeded(name, limits))
                continue
            member_data = _bounded_read(zf, info, limits.max_file_bytes)
            if member_data is None:
                results.append(
                    DocumentError(
                        name,
                        CORRUPT_ZIP,
                        "This file inside the ZIP is damaged and could not be unpacked; "
                        "please create the ZIP again.",
                    )
                )
                continue
            if len(member_data) > limits.max_file_bytes:  # header lied about the size
                results.append(_member_too_big(name, limits))
                continue
            budget.total_bytes += len(member_data)
            if budget.total_bytes > limits.max_zip_total_bytes:
                exhausted = True
                results.append(_total_exceeded(name, limits))
                continue
            read = read_member(name, member_data, limits, depth + 1, budget)
            if len(read) == 1 and isinstance(read[0], ParsedDocument):
                budget.chars += len(read[0].text)  # nested archives count their own
            results.extend(read)
        return results


def _member_precheck(
    name: str, info: zipfile.ZipInfo, limits: DocumentLimits
) -> DocumentError | None:
    """Refuse encrypted or bomb-like members from their headers, before inflating anything."""
    if _is_link(info):
        return DocumentError(
            name,
            ZIP_LINK,
            "This entry inside the ZIP is a link to another file, not a document, so it was "
            "skipped; please put the CV files themselves in the ZIP.",
        )
    if info.flag_bits & 0x1:
        return DocumentError(
            name,
            ENCRYPTED_ZIP,
            "This file inside the ZIP is password-protected; please make the ZIP without a "
            "password.",
        )
    if info.file_size > limits.max_file_bytes:
        return _member_too_big(name, limits)
    if info.file_size > 1024 * 1024 and info.file_size > _SUSPICIOUS_RATIO * max(
        info.compress_size, 1
    ):
        return DocumentError(
            name,
            ZIP_BOMB,
            "This file inside the ZIP is compressed suspiciously well (a possible ZIP bomb), "
            "so it was skipped for safety.",
        )
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    """A Unix symbolic link (its "content" is a path) stored as a member."""
    return info.create_system == 3 and (info.external_attr >> 16) & 0o170000 == 0o120000


def _duplicate_error(name: str) -> DocumentError:
    return DocumentError(
        name,
        ZIP_DUPLICATE_NAME,
        "Another file in this ZIP has the same name, so only the first one was read; please "
        "give each CV its own file name.",
    )


def _too_much_text(name: str, limits: DocumentLimits) -> DocumentError:
    return DocumentError(
        name,
        ZIP_TOO_MUCH_TEXT,
        f"The documents before this one in the ZIP already hold {limits.max_upload_chars:,} "
        "characters of text, the most one upload may; please split the batch into smaller "
        "ZIPs.",
    )


def _member_too_big(name: str, limits: DocumentLimits) -> DocumentError:
    return DocumentError(
        name,
        ZIP_BOMB,
        f"This file inside the ZIP unpacks to more than {_mb(limits.max_file_bytes)}, so it "
        "was skipped for safety; please upload it separately as a smaller file.",
    )


def _total_exceeded(name: str, limits: DocumentLimits) -> DocumentError:
    return DocumentError(
        name,
        ZIP_BOMB,
        f"The ZIP unpacks to more than {_mb(limits.max_zip_total_bytes)} in total, so this file "
        "was skipped; please split the batch into smaller ZIPs.",
    )


def _bounded_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """Inflate at most ``cap + 1`` bytes of a member; None when the member is damaged.

    zipfile also stops at the declared size and verifies the CRC, so a header that lies
    about the size yields an error instead of an unbounded inflate.
    """
    try:
        with zf.open(info) as fh:
            return fh.read(cap + 1)
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError ...
        # Only the type: zipfile's messages (and tracebacks) carry the member's file name,
        # which is usually the candidate's name.
        logger.debug("could not inflate a zip member (%s)", type(exc).__name__)
        return None


def _declared_entry_count(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record (None if absent or ZIP64)."""
    pos = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if pos < 0 or pos + 22 > len(data):
        return None
    total = struct.unpack_from("<H", data, pos + 10)[0]
    return None if total == 0xFFFF else total


def _is_junk(info: zipfile.ZipInfo) -> bool:
    """Directories and OS/editor droppings that users never meant to upload."""
    if info.is_dir():
        return True
    parts = info.filename.replace("\\", "/").split("/")
    base = parts[-1]
    return (
        not base
        or "__MACOSX" in parts
        or base.lower() in _JUNK_NAMES
        or base.startswith(("._", "~$"))
    )


_NAME_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _sanitise_member_name(filename: str) -> str:
    """Display path of a member: no leading '/', no drive letter, no '.' or '..' parts."""
    parts = _NAME_CONTROL_RE.sub("", filename).replace("\\", "/").split("/")
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = parts[1:]  # "C:" drive prefix
    kept = [p for p in parts if p not in ("", ".", "..")]
    return "/".join(kept) or "unnamed"


def _display_name(name: str) -> str:
    """Base name of an upload (uploads may arrive with client-side paths)."""
    base = _NAME_CONTROL_RE.sub("", str(name)).replace("\\", "/").rstrip("/").split("/")[-1]
    return base if base not in ("", ".", "..") else "document"
