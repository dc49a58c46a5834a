"""The SQLite store: exactly-once keys that survive a reopen, feedback votes, retention."""

from __future__ import annotations

import time

from bot.storage import Store


def test_claims_are_unique_and_survive_reopening(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    assert store.claim_event("Ev1") is True
    assert store.claim_event("Ev1") is False
    assert store.claim_file("C1", "1.000001", "F1") is True
    assert store.claim_file("C1", "1.000001", "F1") is False
    assert store.claim_file("C1", "1.000002", "F1") is True  # another message, another upload
    store.close()
    reopened = Store(tmp_path / "hirebot.db")
    assert reopened.claim_event("Ev1") is False
    assert reopened.claim_file("C1", "1.000001", "F1") is False


def test_a_user_has_one_thumb_per_target_and_approval_is_separate(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    assert store.add_feedback("jobpost", 1, "U1", "up")
    assert store.add_feedback("jobpost", 1, "U1", "down")  # replaces the 👍
    assert store.add_feedback("jobpost", 1, "U1", "approve")
    assert not store.add_feedback("jobpost", 1, "U1", "approve")
    assert store.add_feedback("jobpost", 1, "U2", "up")
    votes = sorted((f["user"], f["value"]) for f in store.feedback("jobpost"))
    assert votes == [("U1", "approve"), ("U1", "down"), ("U2", "up")]


def test_retention_removes_screenings_but_keeps_jds(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    store.add_screening(channel="C", thread_ts="1", file_name="jane-doe.pdf", role="Nurse",
                        verdict="fit", score=0.9, category="Nursing", model_version="v")
    store.add_jobpost(channel="C", thread_ts="1", title="Nurse", text="A JD", model_version="v")
    assert store.purge(30)["screenings"] == 0
    removed = store.purge(30, now=time.time() + 31 * 86400)
    assert removed["screenings"] == 1
    assert store.counts()["screenings"] == 0 and store.counts()["jobposts"] == 1


def test_pending_uploads_are_handed_out_once(tmp_path):
    store = Store(tmp_path / "hirebot.db")
    store.add_pending("C", "9.1", "9.1", "F1")
    store.add_pending("C", "9.1", "9.1", "F2")
    assert [r["file_id"] for r in store.take_pending("C", "9.1")] == ["F1", "F2"]
    assert store.take_pending("C", "9.1") == []


def test_row_ids_are_never_reused_so_a_vote_names_one_verdict(tmp_path):
    """With SQLite's plain INTEGER PRIMARY KEY a deleted last row's id comes back: a 👍 on an
    old verdict (its button carries the id) would label the next candidate's CV."""
    store = Store(tmp_path / "hirebot.db")
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
