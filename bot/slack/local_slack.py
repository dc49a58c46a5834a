"""A local stand-in for Slack: its Web API on a free port, and Slack's side of the Events API.

``hirebot shell`` and the end-to-end tests run the real Bolt app against it: the app's real
``WebClient`` points here (``SLACK_API_URL``), and :class:`SlackSender` delivers slash commands,
events and button clicks to the app as Slack does, over HTTP with signed headers. Only the Web
API methods the bot calls are spoken; every request is recorded, so a test can assert exactly
what would have been posted. File downloads demand the bot token, and without it get the HTML
sign-in page Slack itself returns.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.signature import SignatureVerifier

TEAM = "T0HIREBOT"
BOT_USER = "U0HIREBOT"
BOT_ID = "B0HIREBOT"
SIGN_IN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0, what: str = "a condition",
             interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout``
    passes (TimeoutError naming ``what``): how a test or benchmark waits for a reply that
    Slack would deliver asynchronously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class _State:
    token: str
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, dict] = field(default_factory=dict)  # ts -> message
    files: dict[str, dict] = field(default_factory=dict)  # id -> file object
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    file_content_type: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, dict] = field(default_factory=dict)  # upload id -> {name, data}
    responses: list[dict] = field(default_factory=list)  # response_url posts
    views: list[dict] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # file ids fetched with the token
    rate_limit_next: dict[str, int] = field(default_factory=dict)  # method -> 429s to send
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error to answer
    lock: threading.RLock = field(default_factory=threading.RLock)


class LocalSlack:
    """The Web API stand-in. ``on_post(message, is_update)`` sees every post and update."""

    def __init__(self, token: str = "xoxb-local-hirebot", host: str = "127.0.0.1"):
        self.state = _State(token=token)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self.on_post: Callable[[dict, bool], None] | None = None
        self.on_file: Callable[[dict, bytes], None] | None = None
        handler = type("Handler", (_Handler,), {"slack": self})
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_port}"
        self.api_url = self.base + "/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="local-slack")

    @property
    def token(self) -> str:
        return self.state.token

    def start(self) -> LocalSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --------------------------------------------------------------------------- helpers
    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_file(self, name: str, data: bytes, mimetype: str = "application/octet-stream",
                 content_type: str | None = None) -> dict:
        """Register an upload; returns the file object a ``file_share`` event carries."""
        file_id = self.next_id("F")
        obj = {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
               "size": len(data), "filetype": name.rsplit(".", 1)[-1].lower(),
               "url_private": f"{self.base}/files-pri/{file_id}/{urllib.parse.quote(name)}",
               "url_private_download":
                   f"{self.base}/files-pri/{file_id}/download/{urllib.parse.quote(name)}"}
        with self.state.lock:
            self.state.files[file_id] = obj
            self.state.file_bytes[file_id] = data
            if content_type:
                self.state.file_content_type[file_id] = content_type
        return obj

    def calls(self, method: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[dict]:
        """Messages in a thread (replies only), oldest first, as they read now."""
        with self.state.lock:
            return sorted((m for m in self.state.messages.values()
                           if m["channel"] == channel and m.get("thread_ts") == thread_ts
                           and m["ts"] != thread_ts), key=lambda m: m["ts"])

    def channel_messages(self, channel: str) -> list[dict]:
        with self.state.lock:
            return sorted((m for m in self.state.messages.values()
                           if m["channel"] == channel and not m.get("thread_ts")),
                          key=lambda m: m["ts"])

    def uploaded(self) -> list[dict]:
        with self.state.lock:
            return [u for u in self.state.uploads.values() if u.get("completed")]

    # --------------------------------------------------------------------------- methods
    def handle(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict]:
        with self.state.lock:
            self.state.calls.append(Call(method, params, token))
            remaining = self.state.rate_limit_next.get(method, 0)
            if remaining:
                self.state.rate_limit_next[method] = remaining - 1
                return 429, {"ok": False, "error": "ratelimited"}
        if token != self.state.token:
            return 200, {"ok": False, "error": "invalid_auth"}
        if method in self.state.errors:  # e.g. "missing_scope", as a misconfigured app gets
            return 200, {"ok": False, "error": self.state.errors[method]}
        fn = getattr(self, "api_" + method.replace(".", "_"), None)
        if fn is None:
            return 200, {"ok": False, "error": "unknown_method"}
        return 200, fn(params)

    def api_auth_test(self, params: dict) -> dict:
        return {"ok": True, "url": "https://hirebot-local.slack.com/", "team": "local",
                "user": "hirebot", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}

    def api_chat_postMessage(self, params: dict) -> dict:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        message = {"type": "message", "channel": channel, "ts": self.next_ts(),
                   "text": params.get("text", ""), "blocks": _blocks(params.get("blocks")),
                   "user": BOT_USER, "bot_id": BOT_ID, "updates": 0}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self.state.lock:
            self.state.messages[message["ts"]] = message
        if self.on_post:
            self.on_post(dict(message), False)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def api_chat_update(self, params: dict) -> dict:
        with self.state.lock:
            message = self.state.messages.get(params.get("ts", ""))
            if message is None or message["channel"] != params.get("channel"):
                return {"ok": False, "error": "message_not_found"}
            message["text"] = params.get("text", message["text"])
            message["blocks"] = _blocks(params.get("blocks"))
            message["updates"] += 1
            snapshot = dict(message)
        if self.on_post:
            self.on_post(snapshot, True)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"]}

    def api_chat_postEphemeral(self, params: dict) -> dict:
        return {"ok": True, "message_ts": self.next_ts()}

    def api_files_info(self, params: dict) -> dict:
        with self.state.lock:
            obj = self.state.files.get(params.get("file", ""))
        if obj is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": obj}

    def api_files_getUploadURLExternal(self, params: dict) -> dict:
        upload_id = self.next_id("F")
        with self.state.lock:
            self.state.uploads[upload_id] = {"id": upload_id, "name": params.get("filename"),
                                             "length": int(params.get("length", 0)),
                                             "data": b"", "completed": False}
        return {"ok": True, "upload_url": f"{self.base}/upload/{upload_id}",
                "file_id": upload_id}

    def api_files_completeUploadExternal(self, params: dict) -> dict:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        out = []
        with self.state.lock:
            for f in files or []:
                upload = self.state.uploads.get(f["id"])
                if upload is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.update(completed=True, title=f.get("title"),
                              channel=params.get("channel_id"),
                              thread_ts=params.get("thread_ts"),
                              initial_comment=params.get("initial_comment"))
                out.append({"id": f["id"], "title": f.get("title"), "name": upload["name"]})
        if self.on_file:
            for f in out:
                self.on_file(self.state.uploads[f["id"]], self.state.uploads[f["id"]]["data"])
        return {"ok": True, "files": out}

    def api_views_publish(self, params: dict) -> dict:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        with self.state.lock:
            self.state.views.append({"user_id": params.get("user_id"), "view": view})
        return {"ok": True, "view": {"id": self.next_id("V"), **(view or {})}}


def _blocks(value: Any) -> list:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return []
    return value or []


class _Handler(BaseHTTPRequestHandler):
    slack: LocalSlack

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = urllib.parse.urlparse(self.path).path
        if path.startswith("/upload/"):
            upload_id = path.rsplit("/", 1)[-1]
            with self.slack.state.lock:
                upload = self.slack.state.uploads.get(upload_id)
                if upload is not None:
                    upload["data"] = raw
            self._send(200 if upload is not None else 404, b"OK", "text/plain")
            return
        if path.startswith("/response/"):
            with self.slack.state.lock:
                self.slack.state.responses.append(json.loads(raw or b"{}"))
            self._send(200, b"ok", "text/plain")
            return
        if not path.startswith("/api/"):
            self._send(404, b"not found", "text/plain")
            return
        method = path[len("/api/"):]
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            params = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        token = self._token() or params.pop("token", None)
        status, body = self.slack.handle(method, params, token)
        headers = {"Retry-After": "1"} if status == 429 else None
        self._send(status, json.dumps(body).encode(), headers=headers)

    def do_GET(self) -> None:  # noqa: N802
        parsed = urllib.parse.urlparse(self.path)
        path = parsed.path
        if path.startswith("/api/"):
            params = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
            token = self._token() or params.pop("token", None)
            status, body = self.slack.handle(path[len("/api/"):], params, token)
            self._send(status, json.dumps(body).encode(),
                       headers={"Retry-After": "1"} if status == 429 else None)
            return
        parts = path.split("/")
        if len(parts) >= 3 and parts[1] == "files-pri":
            file_id = parts[2]
            if self._token() != self.slack.token:
                self._send(200, SIGN_IN_PAGE, "text/html; charset=utf-8")
                return
            with self.slack.state.lock:
                self.slack.state.downloads.append(file_id)
                data = self.slack.state.file_bytes.get(file_id)
                ctype = self.slack.state.file_content_type.get(file_id,
                                                               "application/octet-stream")
            if data is None:
                self._send(404, b"not found", "text/plain")
                return
            self._send(200, data, ctype)
            return
        self._send(404, b"not found", "text/plain")


# ------------------------------------------------------------------------------ Slack's side
class SlackSender:
    """Delivers commands, events and clicks to the app as Slack does: signed HTTP POSTs."""

    def __init__(self, app_url: str, signing_secret: str, local: LocalSlack | None = None):
        self.app_url = app_url
        self.verifier = SignatureVerifier(signing_secret)
        self.local = local
        self._ids = itertools.count(1)
        # Slack's event ids are unique for good; a counter alone restarts at 1 with each
        # shell, and the next run's uploads would be ignored as redeliveries of the last's.
        self._run = secrets.token_hex(4).upper()

    def _post(self, body: str, content_type: str, *, timestamp: int | None = None,
              signature: str | None = None, headers: dict | None = None) -> tuple[int, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        request = urllib.request.Request(
            self.app_url, data=body.encode(), method="POST",
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                     "X-Slack-Signature": sig, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def response_url(self) -> str:
        base = self.local.base if self.local else "http://127.0.0.1:9"
        return f"{base}/response/{next(self._ids)}"

    def command(self, command: str, text: str, *, channel: str = "C0HR", user: str = "U0HR",
                **kwargs) -> tuple[int, str]:
        form = {"token": "unused", "team_id": TEAM, "channel_id": channel,
                "channel_name": "hr", "user_id": user, "user_name": "hr-user",
                "command": command, "text": text, "response_url": self.response_url(),
                "trigger_id": f"trig.{next(self._ids)}", "api_app_id": "A0HIREBOT"}
        return self._post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded",
                          **kwargs)

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None,
              **kwargs) -> tuple[int, str]:
        body = {"token": "unused", "team_id": TEAM, "api_app_id": "A0HIREBOT",
                "type": "event_callback", "event": event,
                "event_id": event_id or f"Ev{self._run}{next(self._ids):06d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
        headers = dict(kwargs.pop("headers", {}) or {})
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num),
                            "X-Slack-Retry-Reason": "http_timeout"})
        return self._post(json.dumps(body), "application/json", headers=headers, **kwargs)

    def file_share(self, channel: str, files: list[dict], *, text: str = "",
                   thread_ts: str | None = None, user: str = "U0HR",
                   ts: str | None = None, **kwargs) -> tuple[int, str, dict]:
        event = {"type": "message", "subtype": "file_share", "channel": channel, "user": user,
                 "text": text, "ts": ts or (self.local.next_ts() if self.local else
                                              f"{time.time():.6f}"),
                 "files": files, "channel_type": "channel", "upload": True}
        if thread_ts:
            event["thread_ts"] = thread_ts
        status, body = self.event(event, **kwargs)
        return status, body, event

    def message(self, channel: str, text: str, *, thread_ts: str | None = None,
                user: str = "U0HR", channel_type: str = "channel", **kwargs) -> tuple[int, str]:
        event = {"type": "message", "channel": channel, "user": user, "text": text,
                 "ts": self.local.next_ts() if self.local else f"{time.time():.6f}",
                 "channel_type": channel_type}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, **kwargs)

    def click(self, action_id: str, value: str, *, channel: str, message_ts: str,
              user: str = "U0HR", **kwargs) -> tuple[int, str]:
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
                   "api_app_id": "A0HIREBOT", "channel": {"id": channel},
                   "container": {"type": "message", "message_ts": message_ts,
                                 "channel_id": channel},
                   "message": {"ts": message_ts},
                   "response_url": self.response_url(), "trigger_id": f"trig.{next(self._ids)}",
                   "actions": [{"action_id": action_id, "block_id": "b", "value": value,
                                "type": "button", "action_ts": f"{time.time():.6f}"}]}
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._post(body, "application/x-www-form-urlencoded", **kwargs)
