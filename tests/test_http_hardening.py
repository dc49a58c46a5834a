"""The HTTP transport under hostile or odd input: the real app on waitress, raw sockets and
signed requests, Slack's Web API replaced by the local stand-in."""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from pydantic import SecretStr
from slack_bolt import BoltRequest
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk.signature import SignatureVerifier

from bot.cli.app import build_app
from bot.config import Settings
from bot.services.model_service import ModelService
from bot.slack.app import HttpServer
from bot.slack.http_guard import ReplayCache, body_problem, quiet_bolt_verification
from bot.slack.local_slack import LocalSlack, SlackSender

SECRET = "test-signing-secret"
MARKER = "CV-TEXT-MARKER-jane.doe@example.com"


@pytest.fixture()
def served(tmp_path):
    local = LocalSlack().start()
    settings = Settings(data_dir=tmp_path / "data", slack_api_url=local.api_url,
                        slack_bot_token=SecretStr(local.token),
                        slack_signing_secret=SecretStr(SECRET))
    runtime = build_app(settings, models=ModelService(settings), warm_up=False)
    server = HttpServer(runtime.app, port=0, channel_timeout=2).start()
    yield server, SlackSender(server.url, SECRET, local), local
    server.stop()
    runtime.close()
    local.stop()


def post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def signed(body: bytes, timestamp: int | None = None) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.decode("latin-1"))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def no_traceback_or_marker(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text and MARKER not in caplog.text


# ------------------------------------------------------------------------------ size
def test_an_oversized_unsigned_body_is_refused_unread_and_unlogged(served, caplog):
    server, _, _ = served
    caplog.set_level(logging.DEBUG)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: 200000000\r\n\r\n" + MARKER.encode() + b"\n")
        answer = sock.recv(200)  # answered with the 200 MB still unsent
    assert answer.startswith(b"HTTP/1.1 413")
    body = (MARKER + "\n") * (1_100_000 // len(MARKER))  # just over the 1 MB cap, all sent
    try:
        status, _ = post(server.url, body.encode(), {"Content-Type": "application/json"})
    except urllib.error.URLError:  # the server may close before the client finishes sending
        status = 413
    assert status == 413
    no_traceback_or_marker(caplog)


def test_a_forged_signature_with_a_newline_in_the_body_logs_no_body(served, caplog):
    server, _, _ = served
    caplog.set_level(logging.DEBUG)
    body = f"token=x&text={MARKER}\nINFO forged line".encode()
    status, _ = post(server.url, body, {"X-Slack-Request-Timestamp": str(int(time.time())),
                                        "X-Slack-Signature": "v0=" + "0" * 64,
                                        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    no_traceback_or_marker(caplog)
    assert "forged line" not in caplog.text


def test_bolts_own_verification_failure_logs_no_body(caplog):
    """Behind the guard Bolt's check still runs; its log record keeps no body."""
    quiet_bolt_verification()
    caplog.set_level(logging.DEBUG)
    check = RequestVerification(SECRET)
    request = BoltRequest(body=f"text={MARKER}", headers={
        "x-slack-request-timestamp": [str(int(time.time()))], "x-slack-signature": ["v0=bad"]})
    response = check.process(req=request, resp=None, next=lambda: None)
    assert response.status == 401
    assert "Invalid request signature" in caplog.text and MARKER not in caplog.text


# ------------------------------------------------------------------------------ shape
@pytest.mark.parametrize("body, ctype", [
    (b'{"type": "event_callback", ', "application/json"),  # malformed JSON
    (b'{"type": "\xff\xfe"}', "application/json"),  # not UTF-8
    (b'[{"type": "event_callback"}]', "application/json"),  # an array, not an object
    (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),  # payload=[1,2]
    (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
])
def test_a_body_bolt_cannot_parse_is_a_400_without_traceback(served, caplog, body, ctype):
    server, _, _ = served
    caplog.set_level(logging.DEBUG)
    for headers in ({"Content-Type": ctype}, {"Content-Type": ctype, **signed(body)}):
        status, _ = post(server.url, body, headers)
        assert status == 400
    no_traceback_or_marker(caplog)


def test_body_problem_accepts_what_slack_sends():
    assert body_problem(b'{"type": "event_callback"}', "application/json") is None
    assert body_problem(b"command=%2Fscreen&text=Nurse", "application/x-www-form-urlencoded") \
        is None
    assert body_problem(b"payload=%7B%22type%22%3A%22block_actions%22%7D",
                        "application/x-www-form-urlencoded") is None
    assert body_problem(b"", "application/json") is None


# ------------------------------------------------------------------------------ signatures
def test_forged_and_stale_signatures_are_401(served):
    server, send, _ = served
    assert send.command("/hirebot", "help", signature="v0=" + "a" * 64)[0] == 401
    assert send.command("/hirebot", "help", timestamp=int(time.time()) - 301)[0] == 401
    assert send.command("/hirebot", "help", timestamp=int(time.time()) + 301)[0] == 401
    assert send.command("/hirebot", "help")[0] == 200  # the same request, signed now


def test_a_replayed_slash_command_runs_once(served):
    server, send, local = served
    form = {"team_id": "T0HIREBOT", "channel_id": "C0HR", "user_id": "U0HR",
            "command": "/hirebot", "text": "help", "response_url": send.response_url(),
            "trigger_id": "trig.1", "api_app_id": "A0HIREBOT"}
    body = urllib.parse.urlencode(form).encode()
    now = int(time.time())
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body, now)}
    assert post(server.url, body, headers)[0] == 200
    assert post(server.url, body, headers)[0] == 200  # replayed: acknowledged, not run
    deadline = time.monotonic() + 10
    while not local.state.responses and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a second run would answer within this
    assert len(local.state.responses) == 1
    # a fresh signature for the same command is a new request and runs
    assert post(server.url, body, {**headers, **signed(body, now - 5)})[0] == 200
    deadline = time.monotonic() + 10
    while len(local.state.responses) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(local.state.responses) == 2


def test_a_redelivered_event_is_acknowledged_and_answered_once(served):
    server, send, local = served
    event = {"type": "app_mention", "user": "U0HR", "channel": "C0HR", "text": "<@U0HIREBOT> hi",
             "ts": local.next_ts()}
    now = int(time.time())
    for retry in (0, 1, 2, 3):  # Slack signs each retry anew, so the guard lets it through
        assert send.event(event, event_id="Ev0REDELIVER", retry_num=retry or None,
                          timestamp=now - retry)[0] == 200
    deadline = time.monotonic() + 10
    while not local.calls("chat.postMessage") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a second answer would arrive within this
    assert len(local.calls("chat.postMessage")) == 1


def test_replay_cache_forgets_after_the_window():
    cache = ReplayCache(window_s=300, max_entries=3)
    assert cache.first_time("a", now=0) and not cache.first_time("a", now=299)
    assert cache.first_time("a", now=601)  # stale by then: the timestamp check refuses it
    for key in "bcd":
        assert cache.first_time(key, now=602)
    assert len(cache._seen) <= 3  # bounded


def test_an_unknown_event_type_is_a_quiet_200(served, caplog):
    server, send, _ = served
    caplog.set_level(logging.DEBUG)
    status, _ = send.event({"type": "hirebot_never_heard_of_this", "user": "U0HR"})
    assert status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ------------------------------------------------------------------------------ slow clients
def test_stalled_connections_hold_no_threads_and_are_closed(served):
    server, send, _ = served
    host, port = "127.0.0.1", server.port
    before = threading.active_count()
    stalled = []
    for _ in range(60):
        sock = socket.create_connection((host, port), timeout=10)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        stalled.append(sock)
    time.sleep(0.3)
    assert threading.active_count() - before < 5  # no thread per stalled client
    started = time.monotonic()
    assert send.command("/hirebot", "help")[0] == 200  # Slack still gets its ack
    assert time.monotonic() - started < 1.0
    for sock in stalled:  # channel_timeout=2: each is closed by the server
        assert sock.recv(100) == b""
    assert time.monotonic() - started < 8
    for sock in stalled:
        sock.close()


def test_stop_ends_the_server_and_frees_the_port(served):
    server, _, _ = served
    port = server.port
    server.stop()
    assert not server._thread.is_alive()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
