"""Schedules with the real APScheduler and the bot's real SQLite file."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.scheduler import build_scheduler, install_schedules, purge_expired


def record_run(path: str) -> None:
    """A scheduled job (by import path, as the job store requires): one line per run."""
    with Path(path).open("a") as fh:
        fh.write(f"{time.time()}\n")


def runs(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_job_a_second_ahead_runs_once_even_across_a_restart(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    marker = tmp_path / "runs.txt"
    scheduler = build_scheduler(settings)
    scheduler.start()
    scheduler.add_job("tests.test_scheduler:record_run", "date", args=[str(marker)],
                      run_date=datetime.now().astimezone() + timedelta(seconds=1), id="once")
    assert wait_until(lambda: runs(marker) == 1)
    time.sleep(1.0)
    assert runs(marker) == 1
    scheduler.shutdown()

    # scheduled, then the bot stops before it fires: the next start runs it, once
    later = tmp_path / "later.txt"
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    scheduler.add_job("tests.test_scheduler:record_run", "date", args=[str(later)],
                      run_date=datetime.now().astimezone() + timedelta(seconds=1), id="later")
    scheduler.shutdown()
    time.sleep(1.5)
    restarted = build_scheduler(settings)
    restarted.start()
    assert wait_until(lambda: runs(later) == 1)
    time.sleep(1.0)
    restarted.shutdown()
    assert runs(later) == 1
    assert runs(marker) == 1


def test_missed_runs_are_coalesced_into_one(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    marker = tmp_path / "runs.txt"
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    scheduler.add_job("tests.test_scheduler:record_run", "interval", seconds=1,
                      args=[str(marker)], id="tick",
                      next_run_time=datetime.now().astimezone() + timedelta(seconds=0.5))
    scheduler.shutdown()
    time.sleep(3.6)  # three or four runs missed while "down"
    restarted = build_scheduler(settings)
    restarted.start()
    assert wait_until(lambda: runs(marker) >= 1)
    time.sleep(0.4)
    restarted.shutdown()
    assert runs(marker) == 1


def test_standing_schedules_install_once_and_the_retention_job_runs(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    install_schedules(scheduler, settings)
    install_schedules(scheduler, settings)  # a restart re-installs: still one job each
    jobs = scheduler.get_jobs()
    assert sorted(j.id for j in jobs) == ["refresh-classifier", "refresh-generator",
                                          "retention"]
    assert all(j.coalesce is True and j.max_instances == 1 for j in jobs)
    scheduler.shutdown()
    removed = purge_expired()  # uses the settings from HIREBOT_DATA_DIR (conftest)
    from bot.storage import PERSONAL_TABLES

    assert set(removed) == set(PERSONAL_TABLES) | {"temp_files"}
    assert {"screenings", "pending_files", "file_claims", "events", "audit"} <= set(removed)


def test_reinstalling_the_schedules_keeps_a_run_missed_while_the_bot_was_down(tmp_path):
    """Each start re-installs the standing jobs; an unchanged schedule keeps its stored next
    run time (so a missed run is caught up once), a changed one is rescheduled."""
    import datetime as dt

    settings = Settings(data_dir=tmp_path / "data")
    first = build_scheduler(settings)
    first.start(paused=True)
    install_schedules(first, settings)
    first.shutdown()

    second = build_scheduler(settings)  # the next start, on the same SQLite file
    second.start(paused=True)
    missed = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    second.modify_job("refresh-classifier", next_run_time=missed)  # as if it had been down
    install_schedules(second, settings)
    assert second.get_job("refresh-classifier").next_run_time == missed
    changed = Settings(data_dir=tmp_path / "data", classifier_refresh_cron="30 4 * * *")
    install_schedules(second, changed)
    job = second.get_job("refresh-classifier")
    assert job.next_run_time > dt.datetime.now(dt.UTC) and job.next_run_time.minute == 30
    second.remove_all_jobs()
    second.shutdown()


def test_stored_schedules_still_name_importable_job_functions(tmp_path):
    """A database written before a refactor keeps its job references (module:function);
    each must still import, or APScheduler drops the job on the next start."""
    from apscheduler.util import ref_to_obj

    import bot.refresh
    import bot.scheduler

    settings = Settings(data_dir=tmp_path / "data")
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    install_schedules(scheduler, settings)
    scheduler.shutdown()
    reopened = build_scheduler(settings)
    reopened.start(paused=True)
    refs = {job.id: job.func_ref for job in reopened.get_jobs()}
    reopened.shutdown()
    assert refs == {"retention": "bot.scheduler:purge_expired",
                    "refresh-classifier": "bot.refresh:scheduled_refresh",
                    "refresh-generator": "bot.refresh:scheduled_refresh"}
    assert ref_to_obj(refs["retention"]) is bot.scheduler.purge_expired
    assert ref_to_obj(refs["refresh-generator"]) is bot.refresh.scheduled_refresh
