"""The audit trail: every verdict and JD from the real Slack app is recorded with who asked,
when, which model, the score and the verdict, never CV text; `hirebot audit export` writes it
as CSV with formula-looking cells defused (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot import schema
from bot.cli import main
from tests.conftest import CVS
from tests.test_privacy import make_env as make_env  # noqa: F401 - the shared fixture
from tests.test_slack_app import CHANNEL, verdicts, wait_for
from tests.test_slack_app import models as models  # noqa: F401 - the shared fixture

NAMES = ("=HYPERLINK(evil).txt", "+SUM(A1).txt", "-2+3.txt", "@cmd.txt", "@cmd.txt")


def test_every_verdict_and_jd_is_recorded_and_exported_as_safe_csv(make_env, tmp_path, capsys):
    env = make_env()
    _, jd = env.jobpost("Accountant")
    parent = [m for m in env.local.channel_messages(CHANNEL)][0]["ts"]
    body = (CVS / "sample_resume.txt").read_bytes()
    files = [env.local.add_file(name, body) for name in NAMES]
    env.send.file_share(CHANNEL, files, thread_ts=parent, user="URECRUIT1")
    wait_for(lambda: len(verdicts(env, parent)) == len(NAMES), what="verdicts")
    env.idle()
    store = env.runtime.store
    screenings = {r["id"]: r for r in store.dump("screenings")}
    trail = store.dump("audit")
    assert [a["kind"] for a in trail].count("jd") == 1
    jd_row = next(a for a in trail if a["kind"] == "jd")
    assert jd_row["user"] == "U0HR" and jd_row["role"] == "Accountant"
    assert jd_row["model_version"] and jd_row["model_name"]
    verdict_rows = [a for a in trail if a["kind"] == "verdict"]
    assert len(verdict_rows) == len(NAMES)
    for row in verdict_rows:
        screening = screenings[row["ref_id"]]
        assert row["user"] == "URECRUIT1" and row["channel"] == CHANNEL
        assert (row["verdict"], row["score"], row["model_version"], row["file_name"]) == (
            screening["verdict"], screening["score"], screening["model_version"],
            screening["file_name"])
    # each verdict names its own Slack file, even when two files have the same name
    assert sorted(r["file_id"] for r in verdict_rows) == sorted(f["id"] for f in files)
    assert sorted(r["file_id"] for r in screenings.values()) == sorted(f["id"] for f in files)
    assert "text" not in schema.audit.c  # no column could hold CV text

    today = datetime.now(UTC).date()
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", "--since", today.isoformat(), "--out", str(out)]) == 0
    assert f"wrote {len(NAMES) + 1} audit rows" in capsys.readouterr().out
    exported = out.read_text()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == len(NAMES) + 1
    names = sorted(r["file_name"] for r in rows if r["kind"] == "verdict")
    assert names == sorted("'" + n for n in NAMES)  # a spreadsheet shows them as text
    assert all(r["user"] and r["model_version"] and r["when_utc"].startswith(str(today))
               for r in rows)
    assert {r["verdict"] for r in rows if r["kind"] == "verdict"} <= {"fit", "maybe", "no_fit"}
    cv_line = next(line for line in body.decode().splitlines() if len(line.split()) > 6)
    assert cv_line not in exported and "Accountant" in exported

    assert main(["audit", "export", "--since", (today + timedelta(days=1)).isoformat()]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [",".join(
        ("when_utc", "kind", "user", "source", "channel", "role", "file_name", "verdict",
         "score", "model_name", "model_version"))]
    with pytest.raises(SystemExit) as stopped:  # argparse's usage error, not a traceback
        main(["audit", "export", "--since", "last week"])
    assert stopped.value.code == 2 and "not a date" in capsys.readouterr().err


def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    from bot.services.spreadsheet import csv_text, safe_cell

    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(cell) == "'" + cell
    for cell in ("Accountant", "0.42", "", None, "a=b", -0.5):
        assert safe_cell(cell) == cell
    assert csv_text(["a", "b"], [["=cmd|' /C calc'!A0", -1]]).splitlines()[1] == \
        "'=cmd|' /C calc'!A0,-1"
