"""PDFs are read in a child process with a memory ceiling and a deadline.

The raw-byte pre-scan (``pdfscan``) refuses the bombs it can measure, but a PDF can hide a
stream from it: a filter chain (``[/ASCIIHexDecode /FlateDecode]``), a filter given by
reference, a dictionary the scan cannot find.  pdfium then inflates and parses whatever is
there, in the bot's own process, where a 4 GiB allocation takes the whole bot down.  So the
parse runs in one long-lived child process whose address space is capped
(``RLIMIT_AS``) and whose answer has a deadline.  A child that runs out of memory dies or
raises ``MemoryError``; one that overruns is killed.  Either way that one file is refused
with a message, a fresh child is started for the next, and the bot keeps serving.

One child is enough: pdfium is not thread-safe, so PDFs were already read one at a time.
The child is a fresh interpreter (never a ``fork``: the parent holds torch's threads) that
imports the document reader (numpy, pdfium, pypdf; no models), so it starts in about half a
second, once.  It is started with ``subprocess`` rather than ``multiprocessing`` so that it
never re-imports the caller's ``__main__`` (a script without a main guard would start
children forever), with an environment that holds no secrets (``_CHILD_ENV``).  Requests go
down a socket pair pickled (the parent is trusted); answers come back as JSON with the
request's number, so a child that a pdfium exploit took over cannot run code in the bot, and
an answer can never be taken for another file's.  Linux only (``RLIMIT_AS`` is not enforced
on macOS); elsewhere, or when the child cannot start, PDFs are read in process.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, fields
from multiprocessing.connection import Connection

from models.screening.documents.results import (
    _PDF_BOMB_MSG,
    _PDF_TOO_SLOW_MSG,
    PDF_BOMB,
    DocumentLimits,
    DocumentWarning,
    ParsedDocument,
    _Fail,
)

logger = logging.getLogger(__name__)

_START_SECONDS = 60.0  # importing numpy and pdfium on a loaded 2-core machine
_RETRY_START_SECONDS = 300.0  # after a failed start, read in process this long before retrying
_MAX_ANSWER_BYTES = 32 * 2**20  # a real answer is at most ~1.2 MB (100k characters as JSON)
_DOCUMENT_FIELDS = {f.name for f in fields(ParsedDocument)}
#: What the child's environment keeps: where things are, the locale, single-threaded BLAS.
_CHILD_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "VIRTUAL_ENV")


def isolation_available() -> bool:
    return sys.platform.startswith("linux")


def read_pdf_isolated(display: str, data: bytes, limits: DocumentLimits) -> ParsedDocument:
    """``_read_pdf`` in the capped child; raises ``_Fail`` exactly as it would, plus
    ``pdf_bomb`` when the child runs out of memory or time."""
    with _LOCK:
        try:
            child = _child(limits.pdf_memory_bytes or 0)
        except _Unavailable:  # logged once by _child; the upload is still read
            from models.screening.documents.pdf import _read_pdf

            return _read_pdf(display, data, limits)
        try:
            return _decoded(child.ask(display, data, limits))
        except _Overran:
            logger.warning("PDF parse passed %.0f s; child stopped", limits.pdf_parse_seconds)
            _stop_child()
            raise _Fail(PDF_BOMB, _PDF_TOO_SLOW_MSG) from None
        except (EOFError, OSError):  # died (out of memory) or sent an impossible frame
            logger.warning("PDF child gave no answer (cap %d MB, exit %s): likely out of "
                           "memory; restarted", (limits.pdf_memory_bytes or 0) // 2**20,
                           child.process.poll())
            _stop_child()
            raise _Fail(PDF_BOMB, _PDF_BOMB_MSG) from None
        except _Fail:
            raise
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("PDF child sent an answer that is not one; child stopped")
            _stop_child()
            raise _Fail(PDF_BOMB, _PDF_BOMB_MSG) from None
        except BaseException:  # interrupted mid-exchange: its answer must not reach the next
            _stop_child()
            raise


def _decoded(answer: object) -> ParsedDocument:
    """The child's JSON as a result, its shape checked (a subverted child gets nothing
    past this but a refusal): raises ``_Fail`` for a refusal, ValueError for garbage."""
    if not isinstance(answer, dict) or set(answer) not in ({"id", "ok"}, {"id", "fail"}):
        raise ValueError("not an answer")
    if "fail" in answer:
        code, message = answer["fail"]
        if not isinstance(code, str) or not isinstance(message, str):
            raise ValueError("not a refusal")
        raise _Fail(code, message)
    parsed = dict(answer["ok"])
    if set(parsed) != _DOCUMENT_FIELDS:
        raise ValueError("not a document")
    parsed["warnings"] = tuple(DocumentWarning(str(w["code"]), str(w["message"]))
                               for w in parsed["warnings"])
    if not all(isinstance(parsed[k], str) for k in ("name", "text", "kind", "sha256")):
        raise ValueError("not a document")
    return ParsedDocument(**{**parsed, "hidden_text_chars": int(parsed["hidden_text_chars"])})


# --------------------------------------------------------------------------- the child


def _serve(fd: int, memory_bytes: int) -> None:
    """The child's loop: one (number, display, data, limits) in, one JSON answer out."""
    _cap_memory(memory_bytes)
    from models.screening.documents.pdf import _read_pdf

    conn = Connection(fd)
    conn.send_bytes(b'{"ready": true}')
    while True:
        try:
            number, display, data, limits = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: dict = {"ok": asdict(_read_pdf(display, data, limits))}
        except _Fail as exc:
            answer = {"fail": [exc.code, exc.message]}
        except MemoryError:
            answer = {"fail": [PDF_BOMB, _PDF_BOMB_MSG]}
        except Exception as exc:  # a reader bug must not look like the bot crashing
            logger.warning("PDF reader failed unexpectedly (%s)", type(exc).__name__)
            answer = {"fail": [PDF_BOMB, _PDF_BOMB_MSG]}
        answer["id"] = number
        conn.send_bytes(json.dumps(answer).encode())


def _cap_memory(memory_bytes: int) -> None:
    if memory_bytes <= 0:
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)  # a soft limit above the hard one is refused
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))


# --------------------------------------------------------------------------- the parent

_LOCK = threading.Lock()
_STATE: dict[str, _Child] = {}
_NUMBERS = itertools.count(1)
_last_failed_start = -_RETRY_START_SECONDS  # monotonic time of the last failed start
_CHILD_CODE = (
    "import sys; from models.screening.documents.isolation import _serve; "
    "_serve(int(sys.argv[1]), int(sys.argv[2]))"
)


class _Unavailable(RuntimeError):
    """The child did not start (a broken interpreter path, an import error)."""


class _Overran(Exception):
    """The child did not answer within the deadline."""


class _Child:
    """The running child and the parent's end of its socket pair."""

    def __init__(self, memory_bytes: int) -> None:
        try:
            ours, theirs = socket.socketpair()
        except OSError as exc:  # out of file descriptors
            raise _Unavailable(type(exc).__name__) from None
        env = {k: os.environ[k] for k in _CHILD_ENV if k in os.environ}
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.memory_bytes = memory_bytes
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
                [sys.executable, "-c", _CHILD_CODE, str(theirs.fileno()), str(memory_bytes)],
                pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                close_fds=True, start_new_session=True,  # Ctrl-C in a shell is the parent's
            )
        except OSError as exc:
            ours.close()
            raise _Unavailable(type(exc).__name__) from None
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        try:
            ready = self._receive(time.monotonic() + _START_SECONDS)
        except (EOFError, OSError, _Overran):
            ready = b""
        if ready != b'{"ready": true}':
            self.stop()
            raise _Unavailable(f"exit code {self.process.poll()}")

    def ask(self, display: str, data: bytes, limits: DocumentLimits) -> dict:
        number = next(_NUMBERS)
        deadline = time.monotonic() + limits.pdf_parse_seconds
        self.conn.send((number, display, data, limits))
        answer = json.loads(self._receive(deadline))
        if not isinstance(answer, dict) or answer.get("id") != number:
            raise ValueError("the PDF child answered another request")
        return answer

    def _receive(self, deadline: float) -> bytes:
        """One framed message (``Connection.send_bytes``: a 4-byte length, then the bytes),
        all of it by ``deadline`` and at most ``_MAX_ANSWER_BYTES``: a child that stalls
        half-way or announces gigabytes cannot hold the lock or the parent's memory."""
        size = int.from_bytes(self._read(4, deadline), "big", signed=True)
        if not 0 <= size <= _MAX_ANSWER_BYTES:
            raise OSError(f"the PDF child announced {size} bytes")
        return self._read(size, deadline)

    def _read(self, n: int, deadline: float) -> bytes:
        chunks, fd = [], self.conn.fileno()
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise _Overran
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.conn.close()
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            logger.warning("PDF child did not exit after kill")


def _child(memory_bytes: int) -> _Child:
    """The running child with this memory cap, started (again) when needed; after a failed
    start, ``_Unavailable`` for ``_RETRY_START_SECONDS`` rather than a new try per file."""
    global _last_failed_start
    child = _STATE.get("child")
    if child is not None:
        if child.alive() and child.memory_bytes == memory_bytes:
            return child
        _stop_child()
    if time.monotonic() - _last_failed_start < _RETRY_START_SECONDS:
        raise _Unavailable("a start failed a moment ago")
    try:
        child = _Child(memory_bytes)
    except _Unavailable as exc:
        _last_failed_start = time.monotonic()
        logger.error("PDF child process could not start (%s); reading PDFs in process for "
                     "the next %.0f s", exc, _RETRY_START_SECONDS)
        raise
    _STATE["child"] = child
    return child


def _stop_child() -> None:
    child = _STATE.pop("child", None)
    if child is not None:
        child.stop()


atexit.register(_stop_child)
