"""Privacy: retention empties every table that can hold personal data, `forget` erases one
candidate, and no log line, database byte or data file carries CV text, contact details or
secrets. Real Bolt app over signed HTTP, real SQLite file, real models; only Slack is local."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.event_ledger import ledger_path
from bot.logging_setup import configure_logging
from bot.services import model_service
from bot.storage import NO_PERSONAL_DATA, PERSONAL_TABLES
from tests.conftest import CVS
from tests.test_slack_app import CHANNEL, SECRET, Env, env_maker, upload, verdicts, wait_for
from tests.test_slack_app import models as models  # noqa: F401 - the shared fixture

ADMIN = "UADMIN01"
EMAIL = "ana.kowalska@mailbox-example.org"
PHONE = "+44 7700 900123"
#: Accounting words, so the verdict quotes this line as evidence: it then crosses the Slack
#: path (the reply) and must still reach no log.
SENTENCE = ("Reconciled accounts payable, general ledger and payroll accounting for seventeen "
            "alpaca farms.")


@pytest.fixture()
def make_env(tmp_path, models):  # noqa: F811
    with env_maker(tmp_path / "data", models, admin_users=[ADMIN]) as make:
        yield make


def button(message: dict, action_id: str) -> str:
    return next(e["value"] for b in message["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == action_id)


def screen_and_vote(env: Env, path: Path, role: str, user: str = "U0HR",
                    vote: str = "verdict_thumbs_down") -> tuple[dict, dict]:
    """A verdict for one upload by ``user`` and a thumb on it; (the file, the verdict)."""
    thread = env.screen_thread(role)
    file = env.local.add_file(path.name, path.read_bytes())
    env.send.file_share(CHANNEL, [file], thread_ts=thread, user=user)
    verdict = wait_for(lambda: verdicts(env, thread), what="verdict")[0]
    env.send.click(vote, button(verdict, vote), channel=CHANNEL, message_ts=verdict["ts"])
    env.idle()
    return file, verdict


def tables(db_path: Path) -> dict[str, int]:
    """Every table of the store's SQLite file and of the event ledger's beside it (from
    sqlite_master, so a new one is never missed)."""
    counts: dict[str, int] = {}
    for path in (db_path, ledger_path(db_path)):
        conn = sqlite3.connect(str(path))
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")]
            assert not set(names) & set(counts), "a table in both files"  # e.g. an old events
            counts |= {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]
                       for n in names}
        finally:
            conn.close()
    return counts


# ------------------------------------------------------------------------------ retention
def test_retention_purge_empties_every_table_that_can_hold_personal_data(make_env,
                                                                         monkeypatch):
    env = make_env()
    screen_and_vote(env, CVS / "01-Accountant.pdf", "Accountant")  # fit/no fit + vote labels
    upload(env, [CVS / "sample_resume.txt"], None)  # no role named: waits in pending_files
    env.idle()
    from bot.scheduler import build_scheduler, install_schedules

    scheduler = build_scheduler(env.settings)  # its job table lives in the same file
    scheduler.start(paused=True)
    install_schedules(scheduler, env.settings)
    scheduler.shutdown(wait=False)
    temp = env.settings.data_dir / "tmp" / "download-1.pdf"
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"%PDF a downloaded CV")
    store = env.runtime.store
    before = tables(env.settings.db_path)
    personal = set(before) - set(NO_PERSONAL_DATA)
    # every table is either purged or allowlisted with a reason: a new table fails here
    assert personal <= set(PERSONAL_TABLES), personal - set(PERSONAL_TABLES)
    assert all(NO_PERSONAL_DATA[t] for t in set(before) & set(NO_PERSONAL_DATA))
    for table in ("screenings", "pending_files", "file_claims", "events", "feedback", "audit"):
        assert before[table] > 0, table
    assert before["labelled_cvs"] + before["match_pairs"] > 0

    days = env.settings.retention_days
    kept = store.purge(days, now=time.time() + (days - 1) * 86400)  # inside the retention
    assert not any(kept.values()) and tables(env.settings.db_path) == before and temp.exists()
    removed = store.purge(days, now=time.time() + (days + 1) * 86400)
    after = tables(env.settings.db_path)
    assert {t: n for t, n in after.items() if t not in NO_PERSONAL_DATA and n} == {}
    assert removed["screenings"] == before["screenings"] and removed["temp_files"] == 1
    assert not temp.exists()
    assert after["scheduled_jobs"] > 0  # the allowlisted tables are left alone

    # the scheduled job applies the setting: 0 days keeps nothing
    screen_and_vote(env, CVS / "01-Accountant.pdf", "Accountant")
    monkeypatch.setenv("HIREBOT_RETENTION_DAYS", "0")
    from bot.config import get_settings
    from bot.scheduler import purge_expired

    get_settings.cache_clear()
    assert get_settings().db_path == env.settings.db_path
    purge_expired()
    assert {t: n for t, n in tables(env.settings.db_path).items()
            if t not in NO_PERSONAL_DATA and n} == {}


def test_retention_zero_keeps_nothing_beyond_the_reply(make_env):
    env = make_env(retention_days=0)
    thread = env.screen_thread("Accountant")
    upload(env, [CVS / "01-Accountant.pdf"], thread)
    assert wait_for(lambda: verdicts(env, thread), what="verdict")
    env.idle()
    counts = tables(env.settings.db_path)
    assert counts["screenings"] == 0 and counts["audit"] == 0


# ------------------------------------------------------------------------------ forget
def test_forget_by_file_link_and_by_user_erases_records_and_derived_labels(make_env, capsys):
    env = make_env()
    store = env.runtime.store
    mine, _ = screen_and_vote(env, CVS / "01-Accountant.pdf", "Accountant")
    other, _ = screen_and_vote(env, CVS / "sample_resume.txt", "Accountant", user="UOTHER1")
    assert {r["file_id"] for r in store.dump("screenings")} == {mine["id"], other["id"]}
    link = f"<https://hr.slack.com/files/U0HR/{mine['id']}/01-Accountant.pdf>"

    env.send.command("/hirebot", f"forget {link}", channel=CHANNEL, user="U0HR")
    env.idle()
    assert "only hirebot admins" in env.local.state.responses[-1]["text"]
    assert len(store.dump("screenings")) == 2  # a non-admin erased nothing

    labels_before = len(store.dump("labelled_cvs")) + len(store.dump("match_pairs"))
    env.send.command("/hirebot", f"forget {link}", channel=CHANNEL, user=ADMIN)
    env.idle()
    reply = env.local.state.responses[-1]["text"]
    assert reply.startswith(f"Forgot file {mine['id']}: 1 screening records")
    assert "1 votes" in reply and "audit rows anonymised" in reply
    rows = store.dump("screenings")
    assert [r["file_id"] for r in rows] == [other["id"]]
    assert not any(f["target_id"] != rows[0]["id"] for f in store.feedback("screening"))
    assert not [c for c in store.dump("file_claims") if c["file_id"] == mine["id"]]
    assert len(store.dump("labelled_cvs")) + len(store.dump("match_pairs")) < labels_before
    audit = [a for a in store.dump("audit") if a["kind"] == "verdict"]
    assert len(audit) == 2 and sum(a["file_name"] == "" for a in audit) == 1

    # the CLI: every CV one Slack user uploaded (same data folder, through main())
    assert main(["forget", "<@UOTHER1|sam>"]) == 0
    assert "Forgot <@UOTHER1>'s uploads: 1 screening records" in capsys.readouterr().out
    assert store.dump("screenings") == [] and store.feedback("screening") == []
    assert main(["forget", "not-a-target"]) == 2
    assert "Say whose records to forget" in capsys.readouterr().err


# ------------------------------------------------------------------------------ no leaks
def _contact_cv(folder: Path) -> Path:
    text = ((CVS / "sample_resume.txt").read_text()
            + f"\nContact: {EMAIL}, phone {PHONE}.\n{SENTENCE}\n")
    path = folder / "candidate_cv.txt"
    path.write_text(text)
    return path


def test_no_log_line_db_byte_or_data_file_carries_cv_text_contacts_or_secrets(
        make_env, tmp_path, caplog, monkeypatch, screening_model, capsys):
    configure_logging("DEBUG")  # what HIREBOT_LOG_LEVEL=DEBUG gives the running bot
    caplog.set_level(logging.DEBUG)
    env = make_env()
    cv = _contact_cv(tmp_path)
    thread = env.screen_thread("Accountant")
    upload(env, [cv], thread)
    verdict = wait_for(lambda: verdicts(env, thread), what="verdict")[0]
    env.send.click("verdict_thumbs_up", button(verdict, "verdict_thumbs_up"), channel=CHANNEL,
                   message_ts=verdict["ts"])
    env.idle()
    assert "alpaca farms" in verdict["text"]  # the CV's own words went through the app
    upload(env, [cv], None, text="suggest")  # the suggestion path reads the CV as well
    env.idle()
    # the CLI screen, at DEBUG, on the same data folder
    monkeypatch.setattr(model_service, "load_screening_model",
                        lambda settings, folder=None, **_: screening_model)
    monkeypatch.setenv("HIREBOT_LOG_LEVEL", "DEBUG")
    assert main(["screen", str(cv), "--role", "Accountant"]) == 0
    capsys.readouterr()

    secrets = [EMAIL, PHONE, SENTENCE, "alpacas", env.local.token, SECRET]
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert caplog.records  # DEBUG was on: there is something to search
    for secret in secrets:
        assert secret not in logged, secret
    env.runtime.store._checkpoint()
    files = [p for p in env.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "hirebot.db" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (path.name, secret)
    assert os.path.getsize(env.settings.db_path) > 0
    assert SENTENCE in cv.read_text() and EMAIL in cv.read_text()  # the CV held them
