"""End to end: the real Bolt app over HTTP, signed requests, and a local Slack Web API stand-in.

Only Slack's servers are replaced (``bot.slack.local_slack``: a real HTTP server on a free port that
records every request). The app, its database, the workers and the models are the real ones.
Every test of the ``env`` fixture runs twice: on the default deployment (a SQLite file and the
in-process worker) and on the scaled-out one (a real PostgreSQL, a real Redis and two
``hirebot worker`` processes; ``tests.servers``).
"""

from __future__ import annotations

import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli.app import build_app
from bot.config import Settings
from bot.services.model_service import ModelService
from bot.slack.app import HttpServer
from bot.slack.local_slack import LocalSlack, SlackSender
from bot.slack.local_slack import wait_for as local_wait_for
from bot.storage import Store
from tests.conftest import CVS

CHANNEL = "C0HR"
SECRET = "test-signing-secret"


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    return local_wait_for(predicate, timeout, what, interval=0.05)


class Env:
    """One running app (HTTP mode) wired to one local Slack; restartable on the same data."""

    def __init__(self, data_dir: Path, models: ModelService | None, local: LocalSlack,
                 **overrides):
        self.local = local
        self.settings = Settings(
            data_dir=data_dir, slack_api_url=local.api_url,
            slack_bot_token=SecretStr(local.token), slack_signing_secret=SecretStr(SECRET),
            jobpost_max_new_tokens=600, stream_interval_s=0.05, **overrides)
        self.models = models or ModelService(self.settings)
        self.start()

    def start(self) -> None:
        self.runtime = build_app(self.settings, models=self.models, warm_up=False)
        self.server = HttpServer(self.runtime.app, port=0).start()
        self.send = SlackSender(self.server.url, SECRET, self.local)

    def stop(self) -> None:
        self.server.stop()
        self.runtime.close()
        if self.workers is not None:
            self.workers.stop()
            self.workers = None

    workers = None  # tests.servers.Workers, on the scaled-out deployment

    def start_workers(self, count: int = 2, **kwargs):
        from tests.servers import Workers

        self.workers = Workers(self.settings, self.settings.data_dir.parent / "workers", count,
                               **kwargs).start()
        return self.workers

    def busy(self) -> bool:
        """Work queued or running (the bot's own worker, or the Celery queues and job rows)."""
        if self.runtime.worker is not None:
            return bool(self.runtime.worker.depth)
        if self.runtime.queue.depth:
            return True
        return any(r["state"] == "running" for r in self.runtime.store.dump("job_runs"))

    def in_process_only(self, why: str) -> None:
        if self.runtime.worker is None:
            pytest.skip(f"in-process deployment only: {why}")

    def restart(self) -> None:
        """The bot process restarts; worker processes, if any, keep running (as deployed)."""
        self.server.stop()
        self.runtime.close()
        self.start()

    def idle(self, quiet_s: float = 0.6, timeout: float = 120) -> None:
        """The app has finished answering: the worker is idle and no Web API call or
        response_url post has arrived for ``quiet_s`` (lazy listeners run on their own
        threads, so an empty queue alone does not mean they are done)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            seen = len(self.local.calls()) + len(self.local.state.responses)
            if seen != last or self.busy():
                last, since = seen, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.05)
        raise AssertionError("the app never went quiet")

    def jobpost(self, title: str) -> tuple[str, dict]:
        """Run /jobpost; returns the parent ts and the finished JD message."""
        before = {m["ts"] for m in self.local.channel_messages(CHANNEL)}
        status, _ = self.send.command("/jobpost", title, channel=CHANNEL)
        assert status == 200
        parent = wait_for(lambda: [m for m in self.local.channel_messages(CHANNEL)
                                   if m["ts"] not in before], what="parent message")[0]
        jd = wait_for(lambda: [m for m in self.local.thread(CHANNEL, parent["ts"])
                               if any(b["type"] == "actions" for b in m["blocks"])],
                      what="finished JD")[0]
        return parent["ts"], jd

    def screen_thread(self, role: str) -> str:
        before = {m["ts"] for m in self.local.channel_messages(CHANNEL)}
        status, _ = self.send.command("/screen", role, channel=CHANNEL)
        assert status == 200
        return wait_for(lambda: [m for m in self.local.channel_messages(CHANNEL)
                                 if m["ts"] not in before], what="screen thread")[0]["ts"]


@pytest.fixture(scope="module")
def models(screening_model, tmp_path_factory) -> ModelService:
    service = ModelService(Settings(data_dir=tmp_path_factory.mktemp("unused"),
                                    jobpost_max_new_tokens=600))
    service.install("classifier", screening_model)  # one MiniLM load for the whole session
    _ = service.generator
    return service


@contextmanager
def env_maker(data_dir: Path, models, local: LocalSlack | None = None, **defaults):
    """``make(**overrides) -> Env``: apps on one data folder (each on ``local``, or on a
    local Slack of its own), all stopped on exit; for tests that restart or reconfigure."""
    made: list[tuple[Env, bool]] = []

    def make(**overrides) -> Env:
        own = local is None
        environment = Env(data_dir, models, LocalSlack().start() if own else local,
                          **{**defaults, **overrides})
        made.append((environment, own))
        return environment

    try:
        yield make
    finally:
        for environment, own in made:
            environment.stop()
            if own:
                environment.local.stop()


def scaled_out(request, data_dir: Path) -> dict:
    """Settings of the scaled-out deployment: PostgreSQL, Redis, a shared models folder."""
    redis = request.getfixturevalue("redis_server")
    url = request.getfixturevalue("postgres_url")
    from bot.database import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)  # what `hirebot db upgrade` does before a deployment starts
    engine.dispose()
    db = int(request.node.nodeid.__hash__() % 15) + 1  # a Redis database per test
    return {"database_url": SecretStr(url),
            "broker_url": SecretStr(redis.url.rsplit("/", 1)[0] + f"/{db}"),
            "models_url": f"file://{data_dir.parent / 'shared-models'}",
            "job_visibility_s": 20}


DEPLOYMENTS = ["in-process", pytest.param("servers", marks=pytest.mark.slow)]


@pytest.fixture(params=DEPLOYMENTS)
def env(request, tmp_path, models):
    extra = scaled_out(request, tmp_path / "data") if request.param == "servers" else {}
    with env_maker(tmp_path / "data", models, **extra) as make:
        environment = make()
        if request.param == "servers":
            _flush_broker(environment.settings)
            environment.start_workers(2)
        yield environment


def _flush_broker(settings: Settings) -> None:
    import redis

    redis.Redis.from_url(settings.secret("broker_url")).flushdb()


def upload(env: Env, paths: list[Path], thread_ts: str | None, text: str = "", **kwargs):
    files = [env.local.add_file(p.name, p.read_bytes()) for p in paths]
    status, _, event = env.send.file_share(CHANNEL, files, thread_ts=thread_ts, text=text,
                                           **kwargs)
    assert status == 200
    return event


def verdicts(env: Env, thread_ts: str) -> list[dict]:
    return [m for m in env.local.thread(CHANNEL, thread_ts)
            if any(word in m["text"] for word in ("*Fit*", "*Maybe*", "*No fit*"))]


# ------------------------------------------------------------------------------ /jobpost
def test_jobpost_posts_a_parent_and_streams_the_jd_into_its_thread(env):
    parent_ts, jd = env.jobpost("Data Scientist")
    parent = env.local.state.messages[parent_ts]
    assert parent["text"] == "Job: Data Scientist"
    assert jd["updates"] >= 2  # placeholder, streamed snapshot(s), then the final JD
    updates = [c for c in env.local.calls("chat.update") if c.params.get("ts") == jd["ts"]]
    assert any("…writing" in c.params["text"] for c in updates)  # streamed while generating
    assert "Data Scientist" in jd["text"] and len(jd["text"]) > 100
    buttons = [e["text"]["text"] for b in jd["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["Regenerate", "Approve", "👍", "👎"]
    sections = [b for b in jd["blocks"] if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections) and len(jd["blocks"]) <= 50
    assert "@" not in jd["text"] and "http" not in jd["text"]


@pytest.mark.parametrize("typed", ["R&amp;D &lt;Lead&gt; Engineer &amp; Co",  # as Slack sends it
                                   "R&D <Lead> Engineer & Co"])  # raw, e.g. from the shell
def test_user_text_is_escaped_once_where_it_is_echoed(env, typed):
    parent_ts, jd = env.jobpost(typed)
    parent = env.local.state.messages[parent_ts]
    assert parent["text"] == "Job: R&amp;D &lt;Lead&gt; Engineer &amp; Co"  # escaped exactly once
    assert "<Lead>" not in jd["text"] and "&amp;amp;" not in jd["text"]


@pytest.mark.parametrize("typed", ["&lt;!channel&gt; Engineer", "<!channel> Engineer",
                                   "<@U0BOSS> Engineer"])
def test_a_title_with_a_mention_is_refused_privately_and_pings_nobody(env, typed):
    status, _ = env.send.command("/jobpost", typed, channel=CHANNEL)
    assert status == 200
    env.idle()
    assert env.local.channel_messages(CHANNEL) == []
    assert any("mention" in r.get("text", "") for r in env.local.state.responses)


def test_bad_title_gets_a_private_explanation_not_a_thread(env):
    status, _ = env.send.command("/jobpost", "   ", channel=CHANNEL)
    assert status == 200
    env.idle()
    assert env.local.channel_messages(CHANNEL) == []
    assert any("job title" in r.get("text", "").lower() for r in env.local.state.responses)


# ------------------------------------------------------------------------------ uploads
def test_cv_uploaded_in_a_jobpost_thread_is_screened_for_that_role(env):
    parent_ts, _ = env.jobpost("Accountant")
    upload(env, [CVS / "01-Accountant.pdf"], parent_ts)
    reply = wait_for(lambda: verdicts(env, parent_ts), what="verdict")
    assert len(reply) == 1
    text = reply[0]["text"]
    assert "01-Accountant.pdf" in text and "for Accountant" in text and "score" in text
    assert "Top categories" in text
    context = [b for b in reply[0]["blocks"] if b["type"] == "context"]
    assert "Model" in context[0]["elements"][0]["text"]  # names the version that answered
    assert env.runtime.store.dump("screenings")[0]["role"] == "Accountant"


def test_zip_of_six_cvs_gives_a_ranked_table_and_a_csv(env, tmp_path):
    thread = env.screen_thread("Accountant")
    members = [CVS / "01-Accountant.pdf", CVS / "01-Accountant.docx",
               CVS / "01-Desktop_Support.docx", CVS / "02-Office_Coordinator.pdf",
               CVS / "sample_resume.txt"]
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in members:
            zf.writestr(path.name, path.read_bytes())
        zf.writestr("copy_of_sample.txt", (CVS / "sample_resume.txt").read_bytes())
    upload(env, [archive], thread)
    table = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                              if "Ranked CVs" in m["text"]], what="ranked table")[0]
    assert "6 screened" in table["text"]
    csv_upload = wait_for(env.local.uploaded, what="CSV upload")[0]
    assert csv_upload["name"].endswith(".csv") and csv_upload["thread_ts"] == thread
    rows = csv_upload["data"].decode().strip().splitlines()
    assert rows[0].startswith("rank,file,role,verdict,score")
    assert len(rows) == 7
    scores = [float(r.split(",")[4]) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    assert env.local.calls("files.getUploadURLExternal")
    assert env.local.calls("files.completeUploadExternal")
    # The progress message turns final after the CSV upload, so wait for it rather than race.
    progress = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                                 if m["text"].startswith("Screened 6 of 6")],
                        what="final progress message")
    assert len(progress) == 1


def test_upload_with_the_role_in_the_message_and_without_one(env):
    event = upload(env, [CVS / "sample_resume.txt"], None, text="for Java Developer please")
    reply = wait_for(lambda: verdicts(env, event["ts"]), what="verdict")
    assert "for Java Developer" in reply[0]["text"]

    event = upload(env, [CVS / "01-Accountant.pdf"], None, text="here you go")
    question = wait_for(lambda: env.local.thread(CHANNEL, event["ts"]), what="question")
    assert "Which role" in question[0]["text"]
    assert verdicts(env, event["ts"]) == []
    env.send.message(CHANNEL, "Accountant", thread_ts=event["ts"])  # the answer, in thread
    reply = wait_for(lambda: verdicts(env, event["ts"]), what="verdict after the role")
    assert "for Accountant" in reply[0]["text"]


def test_same_event_delivered_three_times_gets_one_reply(env):
    thread = env.screen_thread("Accountant")
    files = [env.local.add_file("cv.pdf", (CVS / "01-Accountant.pdf").read_bytes())]
    event = {"type": "message", "subtype": "file_share", "channel": CHANNEL, "user": "U0HR",
             "text": "", "ts": env.local.next_ts(), "thread_ts": thread, "files": files}
    for retry in (None, 1, 2):
        status, _ = env.send.event(event, event_id="EvSAME0001", retry_num=retry)
        assert status == 200
    env.idle()
    # and the same file in a second event for the same message (another route): still once
    env.send.event(event, event_id="EvOTHER001")
    env.idle()
    assert len(verdicts(env, thread)) == 1


def test_restart_between_retries_still_one_reply(env):
    thread = env.screen_thread("Accountant")
    files = [env.local.add_file("cv.pdf", (CVS / "01-Accountant.pdf").read_bytes())]
    event = {"type": "message", "subtype": "file_share", "channel": CHANNEL, "user": "U0HR",
             "text": "", "ts": env.local.next_ts(), "thread_ts": thread, "files": files}
    env.send.event(event, event_id="EvRESTART1")
    wait_for(lambda: verdicts(env, thread), what="first verdict")
    env.restart()  # a new bot process sees the same database
    status, _ = env.send.event(event, event_id="EvRESTART1", retry_num=1)
    assert status == 200
    env.idle()
    assert env.runtime.store.thread(CHANNEL, thread)["role"] == "Accountant"
    assert len(verdicts(env, thread)) == 1


def test_forged_and_stale_signatures_are_refused(env):
    status, _ = env.send.command("/hirebot", "help", signature="v0=" + "0" * 64)
    assert status == 401
    status, _ = env.send.command("/hirebot", "help", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    status, _ = env.send.event({"type": "app_mention", "channel": CHANNEL, "user": "U0HR",
                                "text": "<@U0HIREBOT> help", "ts": env.local.next_ts()},
                               signature="v0=deadbeef")
    assert status == 401
    env.idle()
    assert env.local.calls("chat.postMessage") == []


def test_corrupt_pdf_gets_a_clear_reply_and_the_next_upload_is_screened(env, tmp_path):
    thread = env.screen_thread("Accountant")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 50)
    upload(env, [broken], thread)
    warning = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                                if "broken.pdf" in m["text"]], what="error reply")[0]
    assert ":warning:" in warning["text"] and "PDF" in warning["text"]
    assert "Traceback" not in warning["text"]
    upload(env, [CVS / "01-Accountant.pdf"], thread)
    wait_for(lambda: verdicts(env, thread), what="next verdict")


def test_html_answer_to_a_download_is_refused_with_the_scope_named(env):
    thread = env.screen_thread("Accountant")
    files = [env.local.add_file("cv.pdf", b"<html>Sign in to Slack</html>",
                                content_type="text/html")]
    env.send.file_share(CHANNEL, files, thread_ts=thread)
    reply = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                              if "cv.pdf" in m["text"]], what="scope reply")[0]
    assert "files:read" in reply["text"]


def test_oversized_upload_is_refused_before_download(env):
    thread = env.screen_thread("Accountant")
    files = [env.local.add_file("huge.pdf", b"%PDF-1.4 small")]
    files[0]["size"] = 50 * 1024 * 1024
    env.local.state.files[files[0]["id"]]["size"] = 50 * 1024 * 1024
    env.send.file_share(CHANNEL, files, thread_ts=thread)
    reply = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                              if "huge.pdf" in m["text"]], what="size reply")[0]
    assert "limit" in reply["text"]
    assert env.local.state.downloads == []


def test_a_zip_refused_before_download_still_gets_the_ranked_table(env):
    """What the upload claims to be decides the reply's form even when it cannot be read:
    a refused ZIP is a row of the table (and the CSV), not a lone error message."""
    thread = env.screen_thread("Accountant")
    files = [env.local.add_file("batch.zip", b"PK\x03\x04 small", mimetype="application/zip")]
    too_big = 500 * 1024 * 1024
    files[0]["size"] = too_big
    env.local.state.files[files[0]["id"]]["size"] = too_big
    env.send.file_share(CHANNEL, files, thread_ts=thread)
    table = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                              if "Ranked CVs" in m["text"]], what="ranked table")[0]
    assert "batch.zip" in table["text"] and "limit" in table["text"]
    assert env.local.state.downloads == []
    assert not verdicts(env, thread)

# ------------------------------------------------------------------------------ buttons
def test_buttons_store_feedback_and_approval(env):
    parent_ts, jd = env.jobpost("Registered Nurse")
    jobpost_id = jd["blocks"][-1]["elements"][0]["value"]
    assert env.send.click("jd_approve", jobpost_id, channel=CHANNEL,
                          message_ts=jd["ts"])[0] == 200
    assert env.send.click("jd_thumbs_up", jobpost_id, channel=CHANNEL,
                          message_ts=jd["ts"])[0] == 200
    upload(env, [CVS / "sample_resume.txt"], parent_ts)
    verdict = wait_for(lambda: verdicts(env, parent_ts), what="verdict")[0]
    screening_id = verdict["blocks"][-1]["elements"][1]["value"]
    env.send.click("verdict_thumbs_down", screening_id, channel=CHANNEL,
                   message_ts=verdict["ts"])
    env.idle()
    store = env.runtime.store
    assert store.approved_jobposts()[0]["title"] == "Registered Nurse"
    votes = {(f["target"], f["value"]) for f in store.feedback()}
    assert votes == {("jobpost", "approve"), ("jobpost", "up"), ("screening", "down")}
    # a verdict against the thread's JD keeps the pair's derived row; the 👎 makes it a
    # matcher label unless the verdict was "maybe" (which a thumb neither confirms nor denies)
    row = store.screening(int(screening_id))
    assert row["match_pair"] and row["match_layout"]
    pairs = store.match_pairs("Registered Nurse")
    if row["verdict"] == "maybe":
        assert pairs == []
    else:
        assert [p["label"] for p in pairs] == [int(row["verdict"] == "no_fit")]
    approved = env.local.state.messages[jd["ts"]]
    assert "approved by" in str(approved["blocks"])
    assert any("saved" in r.get("text", "") for r in env.local.state.responses)


def _notes(message: dict) -> str:
    return " ".join(e["text"] for b in message["blocks"] if b["type"] == "context"
                    for e in b["elements"])


def test_regenerate_shows_the_next_ranked_draft_of_the_batch(env):
    parent_ts, jd = env.jobpost("Pastry Chef")
    assert "Draft 1 of 3" in _notes(jd)
    jobpost_id = jd["blocks"][-1]["elements"][0]["value"]
    env.send.click("jd_regenerate", jobpost_id, channel=CHANNEL, message_ts=jd["ts"])

    def finished_drafts():
        return [m for m in env.local.thread(CHANNEL, parent_ts)
                if any(b["type"] == "actions" for b in m["blocks"])]
    drafts = wait_for(lambda: len(finished_drafts()) == 2 and finished_drafts(),
                      what="second draft")
    second = drafts[-1]
    assert "Draft 2 of 3" in _notes(second)
    assert second["text"] != jd["text"]
    store = Store.open(env.settings)
    rows = [store.jobpost(int(b["elements"][0]["value"])) for m in drafts
            for b in m["blocks"] if b["type"] == "actions"]
    assert [r["draft_number"] for r in rows] == [1, 2]
    assert rows[1]["raw_request"] == "Pastry Chef"


def test_jobpost_options_steer_the_draft_and_the_reply_says_what_it_is_based_on(env):
    _, jd = env.jobpost("Accountant; must: Excel, SAP; location: Leeds; hybrid")
    text = jd["text"]
    requirements = text.split("Requirements:", 1)[1].split("Benefits:", 1)[0]
    assert "Excel" in requirements and "SAP" in requirements
    opening = text.split("Responsibilities:", 1)[0]
    assert "Leeds" in opening and "hybrid" in opening
    notes = _notes(jd)
    assert "O*NET 13-2011.00" in notes and "CC BY 4.0" in notes
    assert "Inclusive language:" in notes and "Reading grade" in notes
    assert "[To fill in:" in text  # no company profile: benefits are a marked placeholder


def test_a_malformed_jobpost_line_gets_the_syntax_privately(env):
    status, _ = env.send.command("/jobpost", "Data Scientist; salary: 90k", channel=CHANNEL)
    assert status == 200
    reply = wait_for(lambda: [r for r in env.local.state.responses
                              if "salary" in r.get("text", "")], what="the refusal")[0]
    assert reply["response_type"] == "ephemeral"
    assert "must:" in reply["text"] and "location:" in reply["text"]
    assert env.local.channel_messages(CHANNEL) == []


# ------------------------------------------------------------------------------ help etc.
def test_hirebot_help_and_status_are_ephemeral_and_app_home_publishes(env):
    assert env.send.command("/hirebot", "status")[0] == 200
    status = wait_for(lambda: [r for r in env.local.state.responses
                               if "work queue" in r.get("text", "")], what="status")[0]
    assert status["response_type"] == "ephemeral"
    assert env.send.command("/hirebot", "help")[0] == 200
    wait_for(lambda: [r for r in env.local.state.responses if "/jobpost" in r.get("text", "")
                      and r["response_type"] == "ephemeral"], what="help")
    env.send.event({"type": "app_home_opened", "user": "U0HR", "channel": "D0HR",
                    "tab": "home"})
    view = wait_for(lambda: env.local.state.views, what="views.publish")[0]
    text = str(view["view"])
    assert view["user_id"] == "U0HR" and "generator" in text and "screening" in text
    assert "CVs screened" in text
    env.send.event({"type": "app_mention", "channel": CHANNEL, "user": "U0HR",
                    "text": "<@U0HIREBOT> hello", "ts": env.local.next_ts()})
    wait_for(lambda: [m for m in env.local.state.messages.values() if "/jobpost" in m["text"]],
             what="help in the mention's thread")
    # a mention that shares files is handled as an upload only: no help text beside it
    before = len(env.local.calls("chat.postMessage"))
    env.send.event({"type": "app_mention", "channel": CHANNEL, "user": "U0HR",
                    "text": "<@U0HIREBOT> for Accountant", "ts": env.local.next_ts(),
                    "files": [{"id": "F1"}]})
    env.idle()
    assert len(env.local.calls("chat.postMessage")) == before


def test_pleasantries_in_a_waiting_thread_are_not_taken_for_a_role(env):
    event = upload(env, [CVS / "sample_resume.txt"], None, text="")
    wait_for(lambda: env.local.thread(CHANNEL, event["ts"]), what="question")
    env.send.message(CHANNEL, "thanks!", thread_ts=event["ts"])
    env.send.message(CHANNEL, "which one do you need?", thread_ts=event["ts"])
    env.idle()
    assert verdicts(env, event["ts"]) == []
    env.send.message(CHANNEL, "for Python Developer", thread_ts=event["ts"])
    wait_for(lambda: verdicts(env, event["ts"]), what="verdict")


def test_missing_files_read_scope_is_explained(env):
    thread = env.screen_thread("Accountant")
    env.send.file_share(CHANNEL, [{"id": "F_GONE", "name": "cv.pdf"}], thread_ts=thread)
    gone = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                             if ":warning:" in m["text"]], what="reply")[0]
    assert "deleted" in gone["text"]
    env.local.state.errors["files.info"] = "missing_scope"
    files = [env.local.add_file("cv.pdf", (CVS / "01-Accountant.pdf").read_bytes())]
    env.send.file_share(CHANNEL, files, thread_ts=thread)
    scope = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                              if "files:read" in m["text"]], what="scope reply")[0]
    assert ":warning:" in scope["text"]


def test_bot_ignores_its_own_messages(env):
    env.send.event({"type": "message", "channel": "D0HR", "user": "U0HIREBOT",
                    "bot_id": "B0HIREBOT", "text": "hello", "ts": env.local.next_ts(),
                    "channel_type": "im"})
    env.idle()
    assert env.local.calls("chat.postMessage") == []
    env.send.message("D0HR", "help", channel_type="im")
    wait_for(lambda: env.local.calls("chat.postMessage"), what="DM help")


def test_rate_limited_post_is_retried(env):
    env.local.state.rate_limit_next["chat.postMessage"] = 1
    thread = env.screen_thread("Accountant")
    assert env.local.state.messages[thread]["text"].startswith("Screening: Accountant")
    assert len(env.local.calls("chat.postMessage")) == 2  # 429, then the retry


def test_full_queue_says_busy_instead_of_losing_the_request(env):
    env.in_process_only("the bounded in-process queue")
    env.runtime.worker._queue.maxsize = 1
    gate = __import__("threading").Event()
    env.runtime.worker.submit("block", gate.wait)
    wait_for(lambda: env.runtime.worker.running == "block", what="worker busy")
    env.runtime.worker.submit("block2", lambda: None)  # fills the queue
    try:
        thread = env.screen_thread("Accountant")
        upload(env, [CVS / "sample_resume.txt"], thread)
        busy = wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                                 if "busy" in m["text"]], what="busy reply")
        assert "kept the files" in busy[0]["text"]
    finally:
        gate.set()
    env.idle()
    env.runtime.worker._queue.maxsize = 20
    env.send.message(CHANNEL, "again please", thread_ts=thread)  # the kept files are screened
    wait_for(lambda: verdicts(env, thread), what="verdict after busy")


# ------------------------------------------------------------------------------ versions
def test_promoted_generator_version_is_swapped_in_between_jobs(tmp_path, screening_model):
    """`hirebot models promote` moves the registry pointer; the worker loads the new version
    before its next job, and the reply names the version that wrote it."""
    import json
    import shutil

    from bot.cli import main
    from bot.services.versions import registry_for
    from models.generation.generator import BUNDLED_GENERATOR_DIR

    local = LocalSlack().start()
    env = Env(tmp_path / "data", None, local)
    env.models.install("classifier", screening_model)
    try:
        _, first = env.jobpost("Data Scientist")
        bundled_version = json.loads(
            (BUNDLED_GENERATOR_DIR / "hirebot_generator.json").read_text())["version"]
        assert bundled_version in str(first["blocks"])
        registry = registry_for(env.settings, "generator")
        record, tmp = registry.start_run()
        shutil.copytree(BUNDLED_GENERATOR_DIR, tmp, dirs_exist_ok=True)
        info = json.loads((tmp / "hirebot_generator.json").read_text())
        (tmp / "hirebot_generator.json").write_text(json.dumps({**info, "version": "cand01"}))
        registry.commit(record, tmp, "cand01")
        registry.finish_run(record, "promoted", version="cand01")
        assert main(["models", "promote", "cand01"]) == 0
        _, second = env.jobpost("Data Scientist")
        assert "cand01" in str(second["blocks"])
        assert main(["models", "rollback", "--kind", "generator"]) == 0
        _, third = env.jobpost("Data Scientist")
        assert bundled_version in str(third["blocks"])
    finally:
        env.stop()
        local.stop()


# ------------------------------------------------------------------------------ refreshes
@pytest.mark.slow
def test_hirebot_refresh_is_for_admins_and_its_report_and_plot_reach_the_admin_channel(
        tmp_path, models):
    import numpy as np

    from bot.services.team_data import features_blob
    from bot.storage import Store
    from models.common.paths import BUNDLED_ROOT
    from models.refresh.classifier import load_refresh_rows

    rows = load_refresh_rows(BUNDLED_ROOT / "classifier")
    base = __import__("json").loads((BUNDLED_ROOT / "classifier" / "config.json").read_text())
    local = LocalSlack().start()
    env = Env(tmp_path / "data", models, local, admin_users=["UADMIN"], admin_channel="C0ADMIN")
    try:
        store = Store.open(env.settings)
        for i in np.where(~rows.is_eval)[0][:40]:
            store.set_labelled_cv(f"t{i}", rows.classes[int(rows.y[i])],
                                  features_blob(rows.x[i]), base["metadata"]["version"], "cli")
        store.close()

        assert env.send.command("/hirebot", "refresh classifier", user="U0HR")[0] == 200
        wait_for(lambda: [r for r in local.state.responses
                          if "only hirebot admins" in r.get("text", "")], what="refusal")
        assert env.send.command("/hirebot", "refresh classifier", user="UADMIN")[0] == 200
        wait_for(lambda: [r for r in local.state.responses
                          if "Starting the classifier and matcher refresh" in r.get("text", "")],
                 what="the refresh is acknowledged")
        report = wait_for(lambda: [u for u in local.uploaded() if u.get("channel") == "C0ADMIN"],
                          timeout=240, what="the report in the admin channel")[0]
        assert report["data"][:4] == b"\x89PNG" and report["name"].endswith(".png")
        assert "Classifier refresh" in report["initial_comment"]
        assert "fixed macro f1" in report["initial_comment"]
        answer = wait_for(lambda: [r for r in local.state.responses
                                   if "Classifier refresh" in r.get("text", "")],
                          what="the decision for the admin who asked")[0]
        assert answer["response_type"] == "ephemeral"
        assert len([u for u in local.uploaded() if u.get("channel") == "C0ADMIN"]) == 1

        env.send.event({"type": "app_home_opened", "user": "UADMIN", "channel": "D0",
                        "tab": "home"})
        view = wait_for(lambda: local.state.views, what="views.publish")[-1]
        assert "Model refreshes" in str(view["view"]) and "classifier" in str(view["view"])
    finally:
        env.stop()
        local.stop()


@pytest.mark.slow
def test_classifier_hot_swap_while_a_batch_runs_never_mixes_versions(tmp_path, screening_model):
    """A version promoted while a 12-CV batch is being screened: the batch finishes on the
    version it started with (every CSV row names it, none fails), the next upload gets the new
    version, without a restart."""
    import numpy as np

    from bot.services.versions import registry_for
    from models.common.paths import BUNDLED_ROOT
    from models.refresh.classifier import load_refresh_rows
    from models.refresh.pipeline import GateTolerance, TeamCV, refresh_classifier

    local = LocalSlack().start()
    env = Env(tmp_path / "data", None, local)
    env.models.install("classifier", screening_model, BUNDLED_ROOT / "classifier")
    try:
        registry = registry_for(env.settings, "classifier")
        rows = load_refresh_rows(BUNDLED_ROOT / "classifier")
        base = screening_model.base_version
        # labels the bundled head disagrees with: a candidate that learns something (the
        # gate promotes nothing that is better on no figure)
        n = len(rows.classes)
        team = [TeamCV(f"k{i}", rows.classes[(int(rows.y[i]) + 1) % n], rows.x[i], base)
                for i in np.where(~rows.is_eval)[0][:200]]
        candidate = refresh_classifier(registry, team, tolerance=GateTolerance(macro_f1=1.0))
        assert candidate.decision == "promoted"
        registry.rollback()  # stored, not in service: promoted below, mid-batch
        old = screening_model.version

        thread = env.screen_thread("Accountant")
        archive = tmp_path / "batch.zip"
        members = [p for p in sorted(CVS.iterdir()) if p.suffix in {".pdf", ".docx", ".txt"}
                   and not p.name.startswith("LICENSE")]
        with zipfile.ZipFile(archive, "w") as zf:
            for copy in range(3):
                for path in members[:4]:
                    zf.writestr(f"{copy}-{path.name}", path.read_bytes())
        upload(env, [archive], thread)
        wait_for(lambda: [m for m in env.local.thread(CHANNEL, thread)
                          if m["text"].startswith(("Screening 4 of 12", "Screening 8 of 12"))],
                 what="mid-batch")
        registry.promote(candidate.candidate_version)
        csv_upload = wait_for(env.local.uploaded, what="CSV upload")[0]
        rows_out = csv_upload["data"].decode().strip().splitlines()[1:]
        assert len(rows_out) == 12
        assert {r.split(",")[-2] for r in rows_out} == {old}  # one version for the whole batch

        upload(env, [CVS / "sample_resume.txt"], thread)
        reply = wait_for(lambda: [m for m in verdicts(env, thread)], what="verdict")[-1]
        assert candidate.candidate_version in str(reply["blocks"])
    finally:
        env.stop()
        local.stop()


def test_a_cv_uploaded_with_suggest_gets_roles_and_a_jd(env):
    event = upload(env, [CVS / "01-Accountant.pdf"], None, text="suggest please")
    reply = wait_for(lambda: [m for m in env.local.thread(CHANNEL, event["ts"])
                              if "roles this CV fits best" in m["text"]], what="suggestion")
    text = reply[0]["text"]
    assert "Accountant" in text and "Requirements" in text and "best of 3 drafts" in text
    assert verdicts(env, event["ts"]) == []  # suggested, not screened
