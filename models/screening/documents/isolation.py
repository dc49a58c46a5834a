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
imports only the PDF reader, so it starts in about half a second, once.  It is started with
``subprocess`` rather than ``multiprocessing`` so that it never re-imports the caller's
``__main__`` (a script without a main guard would start children forever).  It talks over a
socket pair with ``multiprocessing.connection``'s framing.  POSIX only; elsewhere PDFs are
read in process (``isolation_available``).
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from models.screening.documents.results import (
    _PDF_BOMB_MSG,
    _PDF_TOO_SLOW_MSG,
    PDF_BOMB,
    DocumentLimits,
    ParsedDocument,
    _Fail,
)

logger = logging.getLogger(__name__)

def read_pdf_isolated(display: str, data: bytes, limits: DocumentLimits) -> ParsedDocument:
    """``_read_pdf`` in the capped child; raises ``_Fail`` exactly as it would, plus
    ``pdf_bomb`` when the child runs out of memory or time."""
    with _LOCK:
        child = _child(limits.pdf_memory_bytes)
        try:
            child.send((display, data, limits))
        except (OSError, ValueError):  # the child died while idle: start again, once
            _stop_child()
            child = _child(limits.pdf_memory_bytes)
            child.send((display, data, limits))
        if not child.poll(limits.pdf_parse_seconds):
            logger.warning("PDF parse passed %.0f s; child stopped", limits.pdf_parse_seconds)
            _stop_child()
            raise _Fail(PDF_BOMB, _PDF_TOO_SLOW_MSG)
        try:
            answer = child.recv()
        except (EOFError, OSError):
            logger.warning("PDF parse ran out of memory (cap %d MB); child restarted",
                           limits.pdf_memory_bytes // 2**20)
            _stop_child()
            raise _Fail(PDF_BOMB, _PDF_BOMB_MSG) from None
    if answer[0] == "ok":
        return answer[1]
    raise _Fail(answer[1], answer[2])


# --------------------------------------------------------------------------- the child


def isolation_available() -> bool:
    return os.name == "posix"


def _serve(fd: int, memory_bytes: int) -> None:
    """The child's loop: one (display, data, limits) in, one answer out, until EOF."""
    _cap_memory(memory_bytes)
    from models.screening.documents.pdf import _read_pdf

    conn = Connection(fd)

    while True:
        try:
            display, data, limits = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple = ("ok", _read_pdf(display, data, limits))
        except _Fail as exc:
            answer = ("fail", exc.code, exc.message)
        except MemoryError:
            answer = ("fail", PDF_BOMB, _PDF_BOMB_MSG)
        except Exception as exc:  # a reader bug must not look like the bot crashing
            logger.warning("PDF reader failed unexpectedly (%s)", type(exc).__name__)
            answer = ("fail", PDF_BOMB, _PDF_BOMB_MSG)
        conn.send(answer)


def _cap_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the deadline still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


# --------------------------------------------------------------------------- the parent

_LOCK = threading.Lock()
_STATE: dict[str, _Child] = {}


_CHILD_CODE = (
    "import sys; from models.screening.documents.isolation import _serve; "
    "_serve(int(sys.argv[1]), int(sys.argv[2]))"
)


class _Child:
    """The running child and the parent's end of its socket pair."""

    def __init__(self, memory_bytes: int) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.memory_bytes = memory_bytes
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHILD_CODE, str(theirs.fileno()), str(memory_bytes)],
            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        self.conn = Connection(ours.detach())

    def send(self, message: tuple) -> None:
        self.conn.send(message)

    def poll(self, seconds: float) -> bool:
        return self.conn.poll(seconds)

    def recv(self) -> tuple:
        return self.conn.recv()

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
    """The running child with this memory cap, started (again) when needed."""
    child = _STATE.get("child")
    if isinstance(child, _Child):
        if child.alive() and child.memory_bytes == memory_bytes:
            return child
        _stop_child()
    child = _Child(memory_bytes)
    _STATE["child"] = child
    return child


def _stop_child() -> None:
    child = _STATE.pop("child", None)
    if isinstance(child, _Child):
        child.stop()


atexit.register(_stop_child)
