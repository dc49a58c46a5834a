"""The store on SQLite and on PostgreSQL: exactly-once keys that survive a reopen, feedback
votes, retention, never-reused ids; migrations, leases and the job ledger."""

from __future__ import annotations

import time

import pytest

from bot.database import SchemaBehind, make_engine, upgrade
from bot.storage import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """Where a store lives: a SQLite file, or a migrated database on a real PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "hirebot.db"
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def open_store(target, tmp_path) -> Store:
    return Store(target, data_dir=tmp_path)


def test_claims_are_unique_and_survive_reopening(target, tmp_path):
    store = open_store(target, tmp_path)
    assert store.claim_event("Ev1") is True
    assert store.claim_event("Ev1") is False
    assert store.claim_file("C1", "1.000001", "F1") is True
    assert store.claim_file("C1", "1.000001", "F1") is False
    assert store.claim_file("C1", "1.000002", "F1") is True  # another message, another upload
    store.close()
    reopened = open_store(target, tmp_path)
    assert reopened.claim_event("Ev1") is False
    assert reopened.claim_file("C1", "1.000001", "F1") is False


def test_a_user_has_one_thumb_per_target_and_approval_is_separate(target, tmp_path):
    store = open_store(target, tmp_path)
    assert store.add_feedback("jobpost", 1, "U1", "up")
    assert store.add_feedback("jobpost", 1, "U1", "down")  # replaces the 👍
    assert store.add_feedback("jobpost", 1, "U1", "approve")
    assert not store.add_feedback("jobpost", 1, "U1", "approve")
    assert store.add_feedback("jobpost", 1, "U2", "up")
    votes = sorted((f["user"], f["value"]) for f in store.feedback("jobpost"))
    assert votes == [("U1", "approve"), ("U1", "down"), ("U2", "up")]


def test_retention_removes_screenings_but_keeps_jds(target, tmp_path):
    store = open_store(target, tmp_path)
    store.add_screening(channel="C", thread_ts="1", file_name="jane-doe.pdf", role="Nurse",
                        verdict="fit", score=0.9, category="Nursing", model_version="v")
    store.add_jobpost(channel="C", thread_ts="1", title="Nurse", text="A JD", model_version="v")
    assert store.purge(30)["screenings"] == 0
    removed = store.purge(30, now=time.time() + 31 * 86400)
    assert removed["screenings"] == 1
    assert store.counts()["screenings"] == 0 and store.counts()["jobposts"] == 1


def test_pending_uploads_are_handed_out_once(target, tmp_path):
    store = open_store(target, tmp_path)
    store.add_pending("C", "9.1", "9.1", "F1")
    store.add_pending("C", "9.1", "9.1", "F2")
    assert [r["file_id"] for r in store.take_pending("C", "9.1")] == ["F1", "F2"]
    assert store.take_pending("C", "9.1") == []


def test_row_ids_are_never_reused_so_a_vote_names_one_verdict(target, tmp_path):
    """With SQLite's plain INTEGER PRIMARY KEY a deleted last row's id comes back: a 👍 on an
    old verdict (its button carries the id) would label the next candidate's CV."""
    store = open_store(target, tmp_path)
    first = store.add_screening(channel="C", thread_ts="1", file_name="a.pdf", role="Nurse",
                                verdict="fit", score=0.9, category="Healthcare",
                                model_version="v")
    store.delete_in("screenings", "id", [first])
    second = store.add_screening(channel="C", thread_ts="1", file_name="b.pdf", role="Nurse",
                                 verdict="fit", score=0.9, category="Healthcare",
                                 model_version="v")
    assert second != first
    assert len({row["ref_id"] for row in store.dump("audit")}) == 2
    assert store.confirm_label("%") == 0 and store.confirm_label("_") == 0  # no wildcards
    store.close()


def test_event_ids_live_in_their_own_file_and_an_older_store_is_moved(tmp_path):
    """An older store kept its event ids in its own table: they move to the ledger once,
    so a redelivery of an event answered before the upgrade is still ignored."""
    import sqlite3

    from bot.event_ledger import ledger_path

    db = tmp_path / "hirebot.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY, received_at FLOAT)")
        conn.execute("INSERT INTO events VALUES ('EvOld', ?)", (time.time(),))
    store = Store(db)
    assert store.claim_event("EvOld") is False and store.claim_event("EvNew") is True
    with sqlite3.connect(db) as conn:
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
    with sqlite3.connect(ledger_path(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2
    assert store.purge(1, now=time.time() + 2 * 86400)["events"] == 2
    assert store.claim_event("EvOld") is True  # past the retention an id is forgotten
    store.close()


def test_an_older_sqlite_store_gets_the_columns_added_since(tmp_path):
    """A store made before migrations (tables by hand, some columns missing) is adopted."""
    import sqlite3

    db = tmp_path / "hirebot.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE screenings (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "channel TEXT, file_name TEXT, verdict TEXT, created_at FLOAT)")
        conn.execute("INSERT INTO screenings (channel, file_name, verdict, created_at) "
                     "VALUES ('C', 'old.pdf', 'fit', ?)", (time.time(),))
    store = Store(db)
    assert store.dump("screenings")[0]["file_name"] == "old.pdf"
    new = store.add_screening(channel="C", file_name="new.pdf", role="Nurse", verdict="fit",
                              score=0.8, features=b"\x01", user="U1")
    assert store.screening(new)["user"] == "U1" and new == 2
    store.close()


def test_a_postgres_database_behind_the_code_is_refused_until_upgraded(postgres_url, tmp_path,
                                                                       capsys):
    from bot.cli import main

    with pytest.raises(SchemaBehind, match="hirebot db upgrade"):
        Store(postgres_url, data_dir=tmp_path)
    import os

    os.environ["HIREBOT_DATABASE_URL"] = postgres_url
    try:
        from bot.config import get_settings

        get_settings.cache_clear()
        assert main(["db", "upgrade"]) == 0
        assert "upgraded from an empty database to revision 0002" in capsys.readouterr().out
        assert main(["db", "upgrade"]) == 0
        assert "already at revision 0002" in capsys.readouterr().out
        assert main(["db", "current"]) == 0
        out = capsys.readouterr().out
        assert "up to date" in out and "hirebot@127.0.0.1" in out
    finally:
        del os.environ["HIREBOT_DATABASE_URL"]
        get_settings.cache_clear()
    store = Store(postgres_url, data_dir=tmp_path)
    assert store.claim_event("Ev1") and not store.claim_event("Ev1")  # the shared ledger
    store.close()


def test_a_lease_has_one_holder_until_it_lapses(target, tmp_path):
    from bot.leases import Lease

    store = open_store(target, tmp_path)
    first, second = Lease(store, "scheduler", ttl_s=0.5), Lease(store, "scheduler", ttl_s=0.5)
    assert first.acquire() and not second.acquire()
    assert first.renew() and first.current_holder() == first.holder
    time.sleep(0.6)  # the first holder died: it stopped renewing
    assert second.acquire() and not first.acquire()
    second.release()
    assert first.acquire()
    store.close()


def test_the_job_ledger_runs_a_job_once_and_takes_over_a_dead_holder(target, tmp_path):
    from bot.job_ledger import BUSY, DONE, RUN, JobLedger

    store = open_store(target, tmp_path)
    one, two = JobLedger(store, "worker-1"), JobLedger(store, "worker-2")
    assert one.begin("screen:X", lease_s=0.5) == RUN
    assert two.begin("screen:X", lease_s=0.5) == BUSY  # a second copy while the first runs
    time.sleep(0.6)  # worker-1 was killed: its lease lapsed
    assert two.begin("screen:X", lease_s=5) == RUN and two.state("screen:X")["attempts"] == 2
    two.finish("screen:X")
    assert one.begin("screen:X", lease_s=5) == DONE
    assert one.keep_chunk("B", 0, {"n": 1}) == 1 and one.keep_chunk("B", 0, {"n": 9}) == 1
    assert two.keep_chunk("B", 1, {"n": 2}) == 2
    assert [c["n"] for c in one.chunks("B")] == [1, 2]
    assert not two.claim_chunk("B", 1)  # a second copy of a kept chunk records nothing
    with store.unit():  # one transaction: a failure inside keeps nothing
        store.add_audit("verdict", role="Nurse")
        one.keep_chunk("C", 0, {"n": 3})
    assert len(one.chunks("C")) == 1
    with pytest.raises(RuntimeError), store.unit():
        one.keep_chunk("D", 0, {"n": 4})
        raise RuntimeError("killed mid-chunk")
    assert one.chunks("D") == []
    store.close()
