"""The scaled-out deployment under faults: real PostgreSQL, real Redis, real ``hirebot worker``
processes, the real Bolt app and the local Slack stand-in (``tests.servers``).

A worker killed with SIGKILL mid-batch, Redis restarted during a burst, PostgreSQL restarted
under the app: every upload still gets exactly one reply, no job is lost or run into a second
reply. The schedules run in one process of the deployment; refresh training holds a lease.
"""

from __future__ import annotations

import zipfile

import pytest

from bot.leases import Lease
from tests.conftest import CVS
from tests.test_slack_app import (
    CHANNEL,
    _flush_broker,
    env_maker,
    scaled_out,
    upload,
    verdicts,
    wait_for,
)
from tests.test_slack_app import models as models  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.slow

SOURCES = sorted(p for p in CVS.iterdir() if p.suffix in {".pdf", ".docx", ".txt"})


@pytest.fixture()
def deployment(request, tmp_path, models):  # noqa: F811 - the shared model fixture
    """``make(workers=2, **settings)``: the bot on PostgreSQL + Redis, with worker processes."""
    with env_maker(tmp_path / "data", models) as make:
        def start(workers: int = 2, **overrides):
            environment = make(**scaled_out(request, tmp_path / "data"), **overrides)
            _flush_broker(environment.settings)
            environment.start_workers(workers)
            return environment
        yield start


def zip_of(tmp_path, count: int):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(count):
            source = SOURCES[i % len(SOURCES)]
            zf.writestr(f"cv-{i:03d}{source.suffix}", source.read_bytes())
    return archive


def tables(env, thread):
    return [m for m in env.local.thread(CHANNEL, thread) if "Ranked CVs" in m["text"]]


def test_a_zip_is_split_into_chunks_that_both_workers_take(deployment, tmp_path):
    env = deployment(bulk_chunk_cvs=4)
    thread = env.screen_thread("Accountant")
    upload(env, [zip_of(tmp_path, 14)], thread)
    table = wait_for(lambda: tables(env, thread), timeout=240, what="ranked table")
    env.idle()
    assert len(tables(env, thread)) == 1 and "14 screened" in table[0]["text"]
    rows = env.local.uploaded()[0]["data"].decode().strip().splitlines()
    assert len(rows) == 15 and len({r.split(",")[1] for r in rows[1:]}) == 14
    runs = env.runtime.store.dump("job_runs")
    assert sorted(r["key"].rsplit(":", 1)[-1] for r in runs if r["key"].startswith(
        "screen_chunk:")) == ["0", "1", "2", "3"]
    holders = {r["holder"].rsplit(":", 1)[0] for r in runs if r["key"].startswith("screen_ch")}
    assert len(holders) == 2  # both worker processes took chunks
    kept = env.runtime.store.dump("batch_chunks")  # until the purge: late copies find them
    assert len(kept) == 4 and all("snippets" not in k["results"] for k in kept)  # no CV lines
    assert len(env.runtime.store.dump("screenings")) == 14
    logs = env.workers.logs()
    assert "ready." in logs and "succeeded" in logs  # INFO logging was on
    for line in ("Experienced software engineer with 8+ years", "john.smith@email.com"):
        assert line in (CVS / "sample_resume.txt").read_text() and line not in logs


def test_a_jobpost_goes_before_the_queued_chunks_of_a_bulk_zip(deployment, tmp_path):
    env = deployment(workers=1, bulk_chunk_cvs=2)
    thread = env.screen_thread("Accountant")
    upload(env, [zip_of(tmp_path, 20)], thread)  # 10 chunks on the bulk queue
    store = env.runtime.store
    wait_for(lambda: [r for r in store.dump("job_runs") if r["key"].startswith("screen_chunk:")],
             timeout=180, what="the first chunk running")
    parent_ts, jd = env.jobpost("Data Scientist")  # waits for the finished JD
    assert not tables(env, thread)  # the JD came first: chunks were still queued
    chunks_done = len([r for r in store.dump("job_runs") if r["key"].startswith(
        "screen_chunk:") and r["state"] == "done"])
    assert chunks_done < 10 and "Data Scientist" in jd["text"]
    wait_for(lambda: tables(env, thread), timeout=300, what="ranked table")


def test_a_worker_killed_mid_batch_still_gives_one_table(deployment, tmp_path):
    env = deployment(bulk_chunk_cvs=3)
    thread = env.screen_thread("Accountant")
    upload(env, [zip_of(tmp_path, 12)], thread)
    store = env.runtime.store
    running = wait_for(lambda: [r for r in store.dump("job_runs") if r["state"] == "running"
                                and r["key"].startswith("screen_chunk:")],
                       timeout=180, what="a chunk running")
    victim_pid = int(running[0]["holder"].split(":")[1])
    index = next(i for i, p in enumerate(env.workers.procs) if p.pid == victim_pid)
    env.workers.kill(index)  # SIGKILL: no clean-up, the chunk stays unacknowledged
    env.workers.add()  # the deployment replaces it (as a supervisor would)
    table = wait_for(lambda: tables(env, thread), timeout=300, what="ranked table")
    env.idle(quiet_s=3)
    assert len(tables(env, thread)) == 1 and "12 screened" in table[0]["text"]
    assert len(env.local.uploaded()) == 1
    killed = next(r for r in store.dump("job_runs") if r["key"] == running[0]["key"])
    assert killed["state"] == "done" and killed["attempts"] >= 2  # it ran again elsewhere
    assert len(store.dump("screenings")) == 12  # the dead copy kept nothing


def test_redis_restarted_during_a_burst_loses_and_duplicates_nothing(deployment, redis_server):
    env = deployment()
    sent = []
    for i, source in enumerate(SOURCES[:6]):
        if i == 3:
            redis_server.restart(down_s=1.0)
        sent.append(upload(env, [source], None, text="for Accountant")["ts"])
    try:
        wait_for(lambda: all(verdicts(env, ts) for ts in sent), timeout=120,
                 what="every verdict")
    except TimeoutError:
        raise AssertionError([[m["text"][:80] for m in env.local.thread(CHANNEL, ts)]
                              for ts in sent]) from None
    env.idle(quiet_s=3)
    assert [len(verdicts(env, ts)) for ts in sent] == [1] * 6
    assert len(env.runtime.store.dump("screenings")) == 6


def test_postgres_restarted_under_the_app_reconnects(deployment, postgres_server):
    env = deployment(workers=1)
    first = upload(env, [SOURCES[0]], None, text="for Accountant")["ts"]
    wait_for(lambda: verdicts(env, first), timeout=180, what="first verdict")
    postgres_server.restart(down_s=1.0)
    second = upload(env, [SOURCES[1]], None, text="for Accountant")["ts"]
    wait_for(lambda: verdicts(env, second), timeout=180, what="verdict after the restart")
    env.idle(quiet_s=2)
    assert len(verdicts(env, first)) == 1 and len(verdicts(env, second)) == 1


def test_a_refresh_goes_to_the_refresh_queue_not_the_bot(deployment):
    import base64
    import json

    import redis

    env = deployment(workers=0, admin_users=["UADMIN"])
    status, _ = env.send.command("/hirebot", "refresh classifier", channel=CHANNEL,
                                 user="UADMIN")
    assert status == 200
    client = redis.Redis.from_url(env.settings.secret("broker_url"))
    queued = wait_for(lambda: client.lrange("refresh", 0, -1), what="the queued refresh")
    assert len(queued) == 1 and client.llen("interactive") == 0
    message = json.loads(base64.b64decode(json.loads(queued[0])["body"]))[0][0]  # Celery's
    assert message["kind"] == "refresh" and "classifier" in message["args"]["kinds"]
    wait_for(lambda: any("Starting the classifier" in r.get("text", "")
                         for r in env.local.state.responses), what="the admin's answer")


def test_the_schedules_run_in_one_process_and_refreshes_hold_a_lease(deployment):
    from bot.scheduler import LeaderScheduler
    from bot.services.refresh import refresh_lease

    env = deployment(workers=0)
    one = LeaderScheduler(env.settings, env.runtime.store, ttl_s=2, renew_s=0.5).start()
    two = LeaderScheduler(env.settings, env.runtime.store, ttl_s=2, renew_s=0.5).start()
    try:
        assert one.leading and not two.leading  # two bot processes, one scheduler
        one.shutdown()  # the leader's process stops: the other takes over
        wait_for(lambda: two.leading, timeout=10, what="a new leader")
    finally:
        one.shutdown()
        two.shutdown()
    with refresh_lease(env.settings, "classifier") as held:
        assert held
        with refresh_lease(env.settings, "classifier") as again:
            assert not again  # a second refresh anywhere in the deployment waits its turn
    assert Lease(env.runtime.store, "refresh:classifier").acquire()  # released afterwards
