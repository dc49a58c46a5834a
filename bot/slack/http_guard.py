"""A WSGI guard in front of Bolt's adapter: body cap, body shape, signature, replays.

Bolt reads the whole body before it looks at it, answers a body it cannot parse with a 500 and a
traceback, and logs the whole body of a request whose signature fails (at INFO: a 200 MB
unsigned POST becomes a 200 MB log line, a newline in it a forged one). This guard runs first:
it refuses a body over the cap before reading it (413), a body Bolt could not parse (400), a
bad or stale signature (401) without logging the body, and a signed request seen before in the
5-minute signature window (Slack never re-sends the same signature; a replay of a slash
command would run it twice). Bolt's own verification stays on behind it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # Slack's payloads are a few KB; a 1 MB body is not Slack's
SIGNATURE_WINDOW_S = 300  # Slack's (and Bolt's) tolerance for X-Slack-Request-Timestamp


class ReplayCache:
    """Signatures seen in the last ``window_s`` seconds, in memory and bounded.

    A signature older than the window is refused as stale anyway, so forgetting it is safe; the
    bound keeps memory flat even if Slack (the only one who can sign) sends a flood.
    """

    def __init__(self, window_s: float = SIGNATURE_WINDOW_S, max_entries: int = 100_000):
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()  # key -> time first seen
        self._lock = threading.Lock()

    def first_time(self, key: str, now: float | None = None) -> bool:
        """True the first time ``key`` is seen within the window; False for a replay."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at <= self.window_s and len(self._seen) < self.max_entries:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


class _NoBodies(logging.Filter):
    """Bolt's verification logs the request body; keep the record, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg, record.args = "Invalid request signature detected (body not logged)", ()
        return True


def quiet_bolt_verification() -> None:
    """Install the filter once on Bolt's RequestVerification logger."""
    bolt = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, _NoBodies) for f in bolt.filters):
        bolt.addFilter(_NoBodies())


def body_problem(raw: bytes, content_type: str) -> str | None:
    """Why Bolt could not parse this body (it would answer 500), or None. Mirrors
    ``slack_bolt.request.internals.parse_body``: JSON must be an object, so must a form's
    ``payload``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if not text:
        return None
    try:
        if content_type.startswith("application/json") or text.lstrip()[:1] in ("{", "["):
            parsed = json.loads(text)
        elif "payload" in text:
            payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
            parsed = {} if payload is None else json.loads(payload)
        else:
            return None
    except ValueError:
        return "body is not valid JSON"
    return None if isinstance(parsed, dict) else "body is not a JSON object"


def signature_ok(secret: str, raw: bytes, timestamp: str, signature: str,
                 now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, within the timestamp window."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > SIGNATURE_WINDOW_S:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


Wsgi = Callable[[dict, Callable], Iterable[bytes]]


class SlackRequestGuard:
    """WSGI middleware: checks every POST before ``inner`` (Bolt's adapter) sees it."""

    def __init__(self, inner: Wsgi, signing_secret: str | None,
                 max_body: int = MAX_BODY_BYTES, replays: ReplayCache | None = None):
        self.inner = inner
        self.secret = signing_secret or None  # None: verification off (as Bolt's)
        self.max_body = max_body
        self.replays = replays or ReplayCache()
        quiet_bolt_verification()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return _answer(start_response, 400, "bad Content-Length")
        if length > self.max_body:
            logger.warning("refused a %d-byte request body (cap %d)", length, self.max_body)
            return _answer(start_response, 413, "request body too large")
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) < length:
            return _answer(start_response, 400, "incomplete body")
        problem = body_problem(raw, environ.get("CONTENT_TYPE") or "")
        if problem:
            logger.info("refused a request: %s", problem)
            return _answer(start_response, 400, problem)
        if self.secret is not None:
            signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
            if not signature_ok(self.secret, raw,
                                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "", signature):
                logger.info("refused a request: bad or stale signature")
                return _answer(start_response, 401, "invalid request")
            if not self.replays.first_time(signature):
                logger.info("replayed request ignored")
                return _answer(start_response, 200, "")
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        return self.inner(environ, start_response)


def _answer(start_response: Callable, status: int, text: str) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large"}
    body = text.encode()
    start_response(f"{status} {reasons[status]}",
                   [("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body)))])
    return [body]
