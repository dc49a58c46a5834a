"""Forty-plus kinds of hostile and broken input, one table, through the real app over HTTP.

Each row is delivered as Slack would deliver it (a file shared into a screening thread, a slash
command, or a raw signed/unsigned request) to the real Bolt app, its SQLite file, its worker
and the bundled models; only Slack's servers are the local stand-in. For every row: the reply
is a clear message (a thread reply naming the file, or an ephemeral answer), no reply or log
line carries a traceback, time and memory stay bounded, and a good CV uploaded right after is
still screened.
"""

from __future__ import annotations

import json
import logging
import resource
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bot.slack.format import file_label
from tests import hostile_files as h
from tests.test_slack_app import CHANNEL, Env, wait_for
from tests.test_slack_app import models as models  # noqa: F401 - the shared model fixture

ROLE = "Software Engineer"
GOOD_CV = h.SOFTWARE_CV.encode()


@dataclass(frozen=True)
class Kind:
    name: str
    via: str  # "upload" | "screen" | "jobpost" | "request"
    make: Callable[[], object]
    expect: tuple[str, ...] = ()  # words the reply must hold (any case)
    file_name: str = "cv.txt"
    #: True: the file is screened (a verdict); False: refused with a message; None: either
    #: (a bounded read may keep what is readable), as long as the reply names the file.
    verdict: bool | None = False
    status: int | None = None  # for raw requests: the HTTP status
    zip_batch: bool = False
    extra: dict = field(default_factory=dict)


def _big_line() -> bytes:
    return b"x" * (9 * 1024 * 1024)


KINDS: list[Kind] = [
    # --- hidden text: scored on what a reader sees, and said
    *[Kind(f"pdf_hidden_{how}", "upload", lambda how=how: h.hidden_text_pdf(how),
           ("hidden",), file_name=f"hidden_{how}.pdf", verdict=True)
      for how in ("white", "render_mode_3", "off_page", "one_point", "behind_shape",
                  "behind_image", "squashed_tz", "nearly_transparent", "clipped",
                  "behind_form_shape")],
    # --- PDFs
    Kind("pdf_2000_pages", "upload", h.many_pages_pdf, file_name="long.pdf", verdict=None),
    Kind("pdf_inflates_hugely", "upload", lambda: h.pdf_bomb(400), file_name="bomb.pdf",
         verdict=None),
    Kind("pdf_bomb_behind_a_filter_chain", "upload", lambda: h.pdf_bomb(1500, hide="chain"),
         ("large amount of data",), file_name="chained.pdf"),
    Kind("pdf_corrupt", "upload", h.corrupt_pdf, ("damaged",), file_name="corrupt.pdf"),
    Kind("pdf_blank", "upload", h.blank_pdf, ("scan",), file_name="blank.pdf"),
    Kind("pdf_named_docx", "upload", h.text_pdf, file_name="really_a_pdf.docx", verdict=None),
    # --- Word documents
    Kind("docx_zip_bomb", "upload", lambda: h.docx_bomb(600), file_name="bomb.docx"),
    Kind("docx_external_entity", "upload", h.xxe_docx, file_name="xxe.docx", verdict=None),
    Kind("ole_macro_doc_renamed", "upload", h.ole_macro_document, file_name="macro.docx"),
    Kind("docm_renamed_docx", "upload", h.docm_renamed, file_name="macros.docx", verdict=None),
    Kind("docx_not_a_zip", "upload", lambda: b"PK\x03\x04 this is not really a zip" * 20,
         file_name="broken.docx"),
    # --- archives
    Kind("zip_path_traversal", "upload", h.traversal_zip, file_name="traversal.zip",
         zip_batch=True),
    Kind("zip_symlink", "upload", h.symlink_zip, file_name="symlink.zip", zip_batch=True),
    Kind("zip_duplicate_names", "upload", h.duplicate_names_zip, file_name="dupes.zip",
         zip_batch=True),
    Kind("zip_10000_members", "upload", h.many_members_zip, file_name="many.zip"),
    Kind("zip_nested_past_depth", "upload", h.nested_zip, file_name="nested.zip"),
    Kind("zip_password", "upload", h.password_zip, ("password",), file_name="locked.zip",
         zip_batch=True),
    Kind("zip_150_big_members", "upload", h.many_big_members_zip, file_name="big.zip",
         zip_batch=True),
    Kind("zip_empty", "upload", lambda: h.zip_of({}), file_name="empty.zip"),
    # --- text encodings and shapes
    Kind("text_10mb_line_no_spaces", "upload", _big_line, file_name="line.txt"),
    Kind("text_nul_bytes", "upload", lambda: GOOD_CV.replace(b" ", b" \x00"),
         file_name="nul.txt", verdict=None),
    Kind("text_utf16_no_bom", "upload", lambda: h.SOFTWARE_CV.encode("utf-16-le"),
         file_name="utf16.txt", verdict=True),
    Kind("text_utf16_bom", "upload", lambda: h.SOFTWARE_CV.encode("utf-16"),
         file_name="utf16bom.txt", verdict=True),
    Kind("text_windows_1252", "upload",
         lambda: (h.SOFTWARE_CV + " Café résumé naïve – “quoted”").encode("cp1252"),
         file_name="cp1252.txt", verdict=True),
    Kind("text_rtl_mixed_scripts", "upload", lambda: h.ARABIC_MIXED_CV.encode(),
         file_name="mixed.txt", verdict=True),
    Kind("text_french_cv", "upload", lambda: h.FRENCH_CV.encode(), ("english",),
         file_name="cv_fr.txt", verdict=True),
    Kind("text_chinese_cv", "upload", lambda: h.CHINESE_CV.encode(), ("english",),
         file_name="cv_zh.txt", verdict=True),
    Kind("text_too_short", "upload", lambda: b"Nurse.", file_name="short.txt"),
    Kind("binary_executable", "upload", lambda: b"MZ\x90\x00" + bytes(range(256)) * 40,
         file_name="setup.exe"),
    Kind("image_png", "upload", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,
         file_name="photo.png"),
    Kind("empty_file", "upload", lambda: b"", file_name="empty.txt"),
    # --- file names
    Kind("name_mrkdwn", "upload", lambda: GOOD_CV, file_name="*bold* _it_ ~x~ `code` ```.txt",
         verdict=True),
    Kind("name_channel_mention", "upload", lambda: GOOD_CV, file_name="<!channel> cv.txt",
         verdict=True),
    Kind("name_newline", "upload", lambda: GOOD_CV, file_name="cv\nFAKE LOG LINE.txt",
         verdict=True),
    Kind("name_rtl_override", "upload", lambda: GOOD_CV, file_name="cv\u202etxt.exe.txt",
         verdict=True),
    # --- roles and titles
    Kind("role_control_characters", "screen", lambda: "Nurse\x07\x1b[31m", ("control",)),
    Kind("role_10000_characters", "screen", lambda: "Nurse " * 2000, ("longer",)),
    Kind("role_only_emoji", "screen", lambda: "👩‍⚕️🩺", ("no letters",)),
    Kind("role_no_letters", "screen", lambda: "!!! ???", ("no letters",)),
    Kind("role_mention_syntax", "screen", lambda: "<!channel> Nurse", ("mention",)),
    Kind("role_rtl_override", "screen", lambda: "Nurse \u202eesruN", ("right-to-left",)),
    Kind("title_control_characters", "jobpost", lambda: "Nurse\x00", ("control",)),
    Kind("title_10000_characters", "jobpost", lambda: "Nurse " * 2000, ("longer",)),
    Kind("title_mention_syntax", "jobpost", lambda: "<@U0ADMIN> Engineer", ("mention",)),
    Kind("title_with_email", "jobpost", lambda: "Nurse, contact jane@example.org",
         ("contact",)),
    # --- requests
    Kind("request_forged_signature", "request", lambda: {"signature": "v0=" + "0" * 64},
         status=401),
    Kind("request_stale_signature", "request",
         lambda: {"timestamp": int(time.time()) - 600}, status=401),
    Kind("request_malformed_json", "request", lambda: {"raw": b"{not json",
                                                       "type": "application/json"},
         status=400),
    Kind("request_not_utf8", "request", lambda: {"raw": b"\xff\xfe\xfa{}",
                                                 "type": "application/json"}, status=400),
    Kind("request_json_array", "request", lambda: {"raw": b"[1, 2, 3]",
                                                   "type": "application/json"}, status=400),
    Kind("request_oversized_body", "request",
         lambda: {"raw": b"{\"a\": \"" + b"x" * (3 * 1024 * 1024) + b"\"}",
                  "type": "application/json"}, status=413),
    Kind("request_unknown_event_type", "request",
         lambda: {"event": {"type": "reaction_flux", "channel": CHANNEL}}, status=200),
]


def test_the_table_has_at_least_forty_kinds():
    assert len(KINDS) >= 40 and len({k.name for k in KINDS}) == len(KINDS)


@pytest.fixture(scope="module")
def app(models, tmp_path_factory):  # noqa: F811 - the module fixture of test_slack_app
    from bot.slack.local_slack import LocalSlack

    local = LocalSlack().start()
    env = Env(tmp_path_factory.mktemp("hostile") / "data", models, local)
    env.thread_ts = env.screen_thread(ROLE)
    yield env
    env.stop()
    local.stop()


def _thread_texts(env: Env) -> list[str]:
    return [m["text"] for m in env.local.thread(CHANNEL, env.thread_ts)]


def _upload(env: Env, name: str, data: bytes) -> None:
    files = [env.local.add_file(name, data)]
    status, _, _ = env.send.file_share(CHANNEL, files, thread_ts=env.thread_ts)
    assert status == 200


def _reply_naming(env: Env, name: str, before: int, *, batch: bool = False) -> str:
    def letters(text: str) -> str:  # the name as shown may differ in spaces and punctuation
        return "".join(ch for ch in text if ch.isalnum())

    mark = "Ranked CVs" if batch else letters(file_label(name))

    def found():
        texts = _thread_texts(env)[before:]
        return next((t for t in texts if (mark in t if batch else mark in letters(t))
                     and "Screening " not in t[:12]), None)

    return wait_for(found, timeout=120, what=f"the reply about {name!r}")


def _raw_request(env: Env, spec: dict) -> int:
    if "event" in spec:
        status, _ = env.send.event(spec["event"])
        return status
    if "raw" in spec:
        body = spec["raw"]
        ts = str(int(time.time()))
        sig = env.send.verifier.generate_signature(timestamp=ts, body=body.decode("latin-1"))
        request = urllib.request.Request(
            env.server.url, data=body, method="POST",
            headers={"Content-Type": spec["type"], "X-Slack-Request-Timestamp": ts,
                     "X-Slack-Signature": sig})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionResetError):
                raise
            # the server refused the body unread and closed while urllib was still sending
            # it; ask again sending only the headers, and read the answer
            return _status_of_headers_only(env, request)
    status, _ = env.send.command("/screen", ROLE, channel=CHANNEL, **spec)
    return status


def _status_of_headers_only(env: Env, request: urllib.request.Request) -> int:
    import socket
    import urllib.parse

    url = urllib.parse.urlsplit(env.server.url)
    head = [f"POST {url.path or '/'} HTTP/1.1", f"Host: {url.netloc}",
            f"Content-Length: {len(request.data)}"]
    # the failed send left urllib's own Host and Content-length on the request: a second copy
    # of either is a 400, not the answer this test asks for
    head += [f"{k}: {v}" for k, v in request.header_items()
             if k.lower() not in {"host", "content-length"}]
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        status_line = sock.makefile("rb").readline().decode("latin-1")
    return int(status_line.split()[1])


def _still_serves(env: Env) -> None:
    before = len(_thread_texts(env))
    name = f"good_{time.monotonic_ns()}.txt"
    _upload(env, name, GOOD_CV)
    reply = _reply_naming(env, name, before)
    assert "(score " in reply, reply


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow  # about 3 minutes for the whole table: CI runs it (`make test CI=1`)
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_hostile_input_gets_a_clear_answer_and_the_bot_keeps_serving(app, kind, caplog):
    caplog.set_level(logging.DEBUG)
    peak_before, started = _rss_mb(), time.monotonic()
    value = kind.make()
    if kind.via == "upload":
        before = len(_thread_texts(app))
        _upload(app, kind.file_name, value)
        reply = _reply_naming(app, kind.file_name, before, batch=kind.zip_batch)
        if kind.zip_batch:  # the ranked table is the reply; what it must say is in expect
            assert "Ranked CVs" in reply, reply
        elif kind.verdict is True:
            assert "(score " in reply, reply
        elif kind.verdict is False:
            assert ":warning:" in reply, reply
        else:
            assert "(score " in reply or ":warning:" in reply, reply
        assert "\n" not in file_label(kind.file_name)
        assert "<!channel>" not in reply and "\u202e" not in reply
    elif kind.via in {"screen", "jobpost"}:
        answers = len(app.local.state.responses)
        status, _ = app.send.command(f"/{kind.via}", value, channel=CHANNEL)
        assert status == 200
        reply = wait_for(lambda: app.local.state.responses[answers:], what="the answer")[0]
        reply = reply.get("text", json.dumps(reply))
    else:
        status = _raw_request(app, value)
        assert status == kind.status, status
        reply = ""
    for word in kind.expect:
        assert word.lower() in reply.lower(), (kind.name, reply)
    assert "Traceback" not in reply
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"{kind.name} took {elapsed:.0f} s"
    assert _rss_mb() - peak_before < 700, f"{kind.name} raised the peak memory"
    _still_serves(app)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "Traceback" not in logged and not any(r.exc_info for r in caplog.records)
    assert "Summary: backend software engineer" not in logged  # no CV text in the logs


def test_the_headers_only_retry_reads_the_servers_answer(app):
    """The fallback after a reset (a refused body still being sent) must ask the question
    once: urllib leaves its own Host and Content-length on a request it tried to send."""
    request = urllib.request.Request(app.server.url, data=b"x" * (3 * 1024 * 1024),
                                     method="POST", headers={"Content-Type": "application/json"})
    request.add_unredirected_header("Content-length", str(len(request.data)))
    request.add_unredirected_header("Host", "localhost")
    assert _status_of_headers_only(app, request) == 413
