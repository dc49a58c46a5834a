"""The bot's side of Celery against a real Redis: a job is queued even when the broker
connection it had is broken, or when Redis is restarting, and refused with a clear "busy"
only when Redis stays away."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time

import pytest

from bot.celery_queue import CeleryQueue
from bot.config import Settings
from bot.jobs import BULK, INTERACTIVE, JobSpec


def queued_keys(queue: CeleryQueue) -> list[str]:
    with queue.app.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange(INTERACTIVE, 0, -1)
    bodies = [json.loads(base64.b64decode(json.loads(item)["body"])) for item in raw]
    return [args[0]["key"] for args, _kwargs, _embed in bodies]


@pytest.fixture()
def queue(redis_server, tmp_path):
    settings = Settings(broker_url=redis_server.url, database_url="postgresql://unused/x",
                        data_dir=str(tmp_path / "data"))
    made = CeleryQueue(settings)
    with made.app.connection_for_write() as conn:  # an empty broker for this test
        conn.default_channel.client.flushdb()
    yield made
    made.stop()


def test_jobs_land_on_their_queues(queue):
    assert queue.submit(JobSpec("jobpost", "a"))
    assert queue.submit(JobSpec("screen_chunk", "b:0", queue=BULK))
    assert queue.queue_lengths() == {INTERACTIVE: 1, BULK: 1, "refresh": 0}
    assert queue.status()["done"] == 2


def test_a_broken_channel_is_replaced_not_reported_busy(queue, caplog):
    assert queue.submit(JobSpec("screen", "first"))
    broken = queue._connection
    # what a Redis restart can leave behind: kombu's own retry then fails with an
    # AttributeError it does not count as recoverable (seen in CI as a "busy" reply)
    broken.default_channel.connection = None
    with caplog.at_level(logging.WARNING, logger="bot.celery_queue"):
        assert queue.submit(JobSpec("screen", "second"))
    assert queue._connection is not broken and "trying a new connection" in caplog.text
    assert sorted(queued_keys(queue)) == ["first", "second"] and queue.refused == 0


def test_a_burst_across_a_redis_restart_is_all_queued(queue, redis_server):
    """Three threads keep sending from before Redis stops until after it is back."""
    results: list[bool] = []
    back = threading.Event()

    def burst(name: str) -> None:
        i = after = 0
        while after < 10:  # ten more once Redis is back
            results.append(queue.submit(JobSpec("screen", f"{name}:{i}")))
            i += 1
            after += back.is_set()
            time.sleep(0.01)

    threads = [threading.Thread(target=burst, args=(n,)) for n in "abc"]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    redis_server.stop()
    time.sleep(1.0)  # every thread is now waiting on the broker
    redis_server.start()  # append-only: what was queued survives
    back.set()
    for thread in threads:
        thread.join()
    assert results == [True] * len(results) and queue.sent == len(results) > 30
    # at least once: a publish whose reply was lost in the restart may be sent again; the
    # job ledger runs such a copy once (tests/test_scale_out.py)
    assert len(set(queued_keys(queue))) == len(results)  # every job sent is queued


def test_redis_gone_is_refused_within_the_deadline(queue, redis_server):
    queue.submit_timeout_s = 2.0
    redis_server.stop()
    try:
        assert not queue.submit(JobSpec("screen", "lost"))
        assert queue.refused == 1 and queue.queue_lengths() == {}
    finally:
        redis_server.start()  # the session's Redis, for the tests after this one


def test_a_scheduled_refresh_is_queued_for_a_refresh_worker(queue, redis_server, monkeypatch,
                                                            tmp_path):
    import bot.refresh
    from bot.config import get_settings

    monkeypatch.setenv("HIREBOT_BROKER_URL", redis_server.url)
    monkeypatch.setenv("HIREBOT_DATABASE_URL", "postgresql://unused/x")
    monkeypatch.setenv("HIREBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        outcome = bot.refresh.scheduled_refresh("classifier")
    finally:
        get_settings.cache_clear()
    assert outcome == {"kind": "classifier", "decision": "queued", "reason": ""}
    with queue.app.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange("refresh", 0, -1)
    (body,) = [json.loads(base64.b64decode(json.loads(item)["body"])) for item in raw]
    assert body[0][0]["kind"] == "refresh"
    assert body[0][0]["args"]["kinds"] == ["classifier", "matcher"]  # the matcher follows


def test_a_job_is_marked_done_across_a_database_restart(postgres_server, postgres_url,
                                                        tmp_path):
    """The reply is out when PostgreSQL goes away: the row must still end "done" (CI saw one
    left "running", which reads as work in hand and lets a late copy repeat the reply)."""
    from bot.celery_queue import _mark_done
    from bot.database import make_engine, upgrade
    from bot.job_ledger import RUN, JobLedger
    from bot.storage import Store

    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    ledger = JobLedger(Store(postgres_url, data_dir=tmp_path), "worker-1")
    assert ledger.begin("screen:X", lease_s=60) == RUN
    postgres_server.stop()
    marking = threading.Thread(target=_mark_done, args=(ledger, "screen:X", "screen"))
    marking.start()
    time.sleep(1.5)  # the first tries fail on the closed server
    postgres_server.start()
    marking.join(timeout=60)
    assert not marking.is_alive() and ledger.state("screen:X")["state"] == "done"
