"""A 1,000-CV ZIP and a stream of ``/jobpost`` commands, on three deployments in one run:
the default (SQLite and the bot's own worker thread), and PostgreSQL + Redis with one and
with two ``hirebot worker`` processes.

Per deployment: one real Bolt app (HTTP mode, signed requests from the local Slack stand-in),
a fresh data folder, and on the Celery ones a private PostgreSQL cluster and Redis server on
loopback (``tests.servers``). The models are warmed first everywhere (one JD and one CV, not
timed). Then the ZIP is uploaded into a ``/screen Accountant`` thread and, while it runs,
``/jobpost Data Scientist`` is sent every ``--spacing`` seconds. Printed per deployment:

* CVs/s: CVs in the ZIP / seconds from the upload to the ranked table;
* ``/jobpost`` wait p50 / p95: seconds from the command to the first streamed text of its JD
  (the job has reached a model), and the p50 to the finished JD;
* ack p99: the HTTP answer time of every command and event sent during the run.

On a 2-core machine two worker processes share the cores the single one had, so the ratio of
their throughputs is reported as it is. Usage::

    TOKENIZERS_PARALLELISM=false .venv/bin/python bench/scale.py [--cvs 1000] [--json]

This is a benchmark that prints a comparison, not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _common import ROOT, percentile, wait_for

CVS = sorted(p for p in (ROOT / "tests" / "fixtures" / "cvs").iterdir()
             if p.suffix in {".pdf", ".docx", ".txt"})
CHANNEL, SECRET = "C0HR", "bench-signing-secret"


def make_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(count):
            source = CVS[i % len(CVS)]
            zf.writestr(f"candidate-{i:04d}{source.suffix}", source.read_bytes())
    return buffer.getvalue()


class Timed:
    """A SlackSender whose every request is timed (the ack)."""

    def __init__(self, sender) -> None:
        self.sender, self.acks = sender, []

    def __getattr__(self, name):
        method = getattr(self.sender, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = method(*args, **kwargs)
            self.acks.append(time.perf_counter() - start)
            return out
        return timed


def jd_done(local, thread_ts: str) -> dict | None:
    for m in local.thread(CHANNEL, thread_ts):
        if any(b["type"] == "actions" for b in m.get("blocks") or []):
            return m
    return None


def first_text_time(local, thread_ts: str, since: float, streaming: dict) -> float | None:
    """Seconds until the JD placeholder first got streamed text (the job reached a model)."""
    placeholder = next(iter(local.thread(CHANNEL, thread_ts)), None)
    if placeholder is None or placeholder["ts"] not in streaming:
        return None
    return streaming[placeholder["ts"]] - since


def run(name: str, workers: int | None, archive: bytes, count: int, jobposts: int,
        spacing: float, folder: Path) -> dict:
    from pydantic import SecretStr

    from bot.cli.app import build_app
    from bot.config import Settings
    from bot.slack.app import HttpServer
    from bot.slack.local_slack import LocalSlack, SlackSender

    local = LocalSlack().start()
    streaming: dict[str, float] = {}  # message ts -> when its first streamed text arrived
    finished: dict[str, float] = {}  # message ts -> when the JD was final (its buttons)

    def on_post(message: dict, is_update: bool) -> None:
        if is_update and "…writing" in (message.get("text") or ""):
            streaming.setdefault(message["ts"], time.monotonic())
        if is_update and any(b.get("type") == "actions" for b in message.get("blocks") or []):
            finished.setdefault(message["ts"], time.monotonic())
    local.on_post = on_post
    extra: dict = {}
    servers: list = []
    if workers is not None:
        from bot.database import make_engine, upgrade
        from tests.servers import PostgresServer, RedisServer

        pg_dir = Path(tempfile.mkdtemp(prefix="hirebot-bench-pg-"))
        pg = PostgresServer(pg_dir).start()
        redis = RedisServer(folder / "redis").start()
        servers = [pg, redis]
        url = pg.create_database("bench")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        extra = {"database_url": SecretStr(url), "broker_url": SecretStr(redis.url)}
    settings = Settings(
        data_dir=folder / "data", slack_api_url=local.api_url,
        slack_bot_token=SecretStr(local.token), slack_signing_secret=SecretStr(SECRET),
        max_zip_members=count + 10, max_zip_total_mb=500, max_upload_chars=50_000_000,
        jobpost_max_new_tokens=300, jobpost_drafts=1, stream_interval_s=0.2, queue_size=50,
        **extra)
    pool = None
    if workers:
        from tests.servers import Workers

        pool = Workers(settings, folder / "workers", workers).start()
    runtime = build_app(settings, warm_up=True)
    server = HttpServer(runtime.app, port=0).start()
    sender = Timed(SlackSender(server.url, SECRET, local))
    try:
        # warm every process: a JD and a CV each (the Celery workers take one of each; with
        # two workers, two rounds so both have loaded their models)
        for _ in range(max(1, workers or 1)):
            sender.command("/jobpost", "Accountant", channel=CHANNEL)
            f = local.add_file(CVS[0].name, CVS[0].read_bytes())
            sender.file_share(CHANNEL, [f], text="for Accountant")
        wait_for(lambda: len([m for m in local.channel_messages(CHANNEL)
                              if m["text"].startswith("Job:") and jd_done(local, m["ts"])])
                 >= max(1, workers or 1), timeout=900, what="warm-up JDs")
        time.sleep(2)
        sender.acks.clear()
        sender.command("/screen", "Accountant", channel=CHANNEL)
        thread = wait_for(lambda: [m for m in local.channel_messages(CHANNEL)
                                   if m["text"].startswith("Screening: Accountant")],
                          what="screen thread")[-1]["ts"]
        zip_file = local.add_file("batch.zip", archive, mimetype="application/zip")
        started = time.monotonic()
        sender.file_share(CHANNEL, [zip_file], thread_ts=thread)
        sent: list[tuple[float, str]] = []
        for _ in range(jobposts):
            time.sleep(spacing)
            before = {m["ts"] for m in local.channel_messages(CHANNEL)}
            at = time.monotonic()
            sender.command("/jobpost", "Data Scientist", channel=CHANNEL)
            parent = wait_for(lambda b=before: [m for m in local.channel_messages(CHANNEL)
                                                if m["ts"] not in b], what="parent")[0]["ts"]
            sent.append((at, parent))
        table = wait_for(lambda: [m for m in local.thread(CHANNEL, thread)
                                  if "Ranked CVs" in m["text"]], timeout=3600,
                         what="ranked table")[0]
        zip_s = time.monotonic() - started
        for _, parent in sent:
            wait_for(lambda p=parent: jd_done(local, p), timeout=1800, what="JD")
        waits = [first_text_time(local, p, at, streaming) for at, p in sent]
        waits = [w for w in waits if w is not None]
        jd_seconds = [finished[jd_done(local, p)["ts"]] - at for at, p in sent]
        found = re.search(r"([\d,]+) screened", table["text"])
        screened = int(found.group(1).replace(",", "")) if found else 0
        return {"deployment": name, "cvs": count, "screened": screened,
                "zip_seconds": round(zip_s, 1), "cvs_per_s": round(count / zip_s, 2),
                "jobpost_wait_p50": round(percentile(waits, 0.5), 2) if waits else None,
                "jobpost_wait_p95": round(percentile(waits, 0.95), 2) if waits else None,
                "jobpost_done_p50": round(percentile(jd_seconds, 0.5), 2),
                "ack_p99_ms": round(percentile(sender.acks, 0.99) * 1000, 1),
                "requests": len(sender.acks)}
    finally:
        server.stop()
        runtime.close()
        if pool is not None:
            pool.stop()
        for s in servers:
            s.stop()
        local.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cvs", type=int, default=1000)
    parser.add_argument("--jobposts", type=int, default=6)
    parser.add_argument("--spacing", type=float, default=4.0)
    parser.add_argument("--only", choices=["in-process", "1 worker", "2 workers"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    archive = make_zip(args.cvs)
    results = []
    for name, workers in (("in-process", None), ("1 worker", 1), ("2 workers", 2)):
        if args.only and args.only != name:
            continue
        folder = Path(tempfile.mkdtemp(prefix="hirebot-scale-"))
        try:
            results.append(run(name, workers, archive, args.cvs, args.jobposts, args.spacing,
                               folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"\n{args.cvs}-CV ZIP + /jobpost every {args.spacing:g} s ({args.jobposts} of them)")
    print(f"{'deployment':12s} {'CVs/s':>7s} {'ZIP s':>7s} {'jobpost wait p50/p95 s':>24s} "
          f"{'JD done p50 s':>14s} {'ack p99 ms':>11s}")
    for r in results:
        wait50, wait95 = (r[k] if r[k] is not None else float("nan")
                          for k in ("jobpost_wait_p50", "jobpost_wait_p95"))
        print(f"{r['deployment']:12s} {r['cvs_per_s']:7.2f} {r['zip_seconds']:7.1f} "
              f"{wait50:11.2f} / {wait95:<10.2f} "
              f"{r['jobpost_done_p50']:14.2f} {r['ack_p99_ms']:11.1f}")
    by = {r["deployment"]: r for r in results}
    if "1 worker" in by and "2 workers" in by:
        print(f"2 workers / 1 worker throughput: "
              f"{by['2 workers']['cvs_per_s'] / by['1 worker']['cvs_per_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
