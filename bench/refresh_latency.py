"""Does the bot keep answering while a generator refresh trains? hirebot's way vs the naive way.

One real Bolt app (HTTP mode, the local Slack stand-in, the bundled models, warmed up) is
measured in three phases, in one run on the same machine:

* idle     -- no refresh;
* hirebot  -- a generator refresh trains in the child process the bot starts (``bot.refresh``):
              nice 19, one torch/OMP thread (the defaults);
* naive    -- the same child at normal priority with torch's default threads (one per core),
              as a refresh run from a cron job or in-process would.

In each phase the bench sends signed ``/hirebot status`` commands (ack latency: the HTTP round
trip Slack waits on, limit 3 s) and uploads a CV into a ``/screen`` thread (screening latency:
upload event to verdict message, through the worker and both models). Measurement starts once
the child is past loading and into its training steps, and the child is stopped when the
window closes (its run is then marked failed, which is irrelevant here).

Usage::

    .venv/bin/python bench/refresh_latency.py [--window 60] [--json]

This is a benchmark that prints a comparison, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, percentile, wait_for

CV = ROOT / "models" / "bundled" / "demo" / "sample_resume.txt"





class Bot:
    def __init__(self, data_dir: Path, **overrides):
        from pydantic import SecretStr

        from bot.cli.app import build_app
        from bot.config import Settings
        from bot.slack.app import HttpServer
        from bot.slack.local_slack import LocalSlack, SlackSender

        self.local = LocalSlack().start()
        self.settings = Settings(data_dir=data_dir, slack_api_url=self.local.api_url,
                                 slack_bot_token=SecretStr(self.local.token),
                                 slack_signing_secret=SecretStr("bench"), **overrides)
        self.runtime = build_app(self.settings, warm_up=True)
        self.server = HttpServer(self.runtime.app, port=0).start()
        self.send = SlackSender(self.server.url, "bench", self.local)
        status, _ = self.send.command("/screen", "Software Engineer", channel="C0")
        self.thread_ts = wait_for(lambda: self.local.channel_messages("C0"))[0]["ts"]
        wait_for(lambda: self.runtime.worker.status()["running"] is None
                 and not self.runtime.worker.depth)

    def ack_ms(self) -> float:
        start = time.perf_counter()
        status, _ = self.send.command("/hirebot", "status", channel="C0")
        assert status == 200
        return (time.perf_counter() - start) * 1000

    def screening_s(self) -> float:
        before = len(self.local.thread("C0", self.thread_ts))
        file = self.local.add_file(CV.name, CV.read_bytes())
        start = time.perf_counter()
        self.send.file_share("C0", [file], thread_ts=self.thread_ts)
        wait_for(lambda: len(self.local.thread("C0", self.thread_ts)) > before)  # the verdict
        return time.perf_counter() - start

    def close(self) -> None:
        self.server.stop()
        self.runtime.close()
        self.local.stop()


def measure(bot: Bot, window_s: float) -> dict:
    acks, screens = [], []
    stop = time.monotonic() + window_s
    while time.monotonic() < stop:
        for _ in range(5):
            acks.append(bot.ack_ms())
            time.sleep(0.2)
        screens.append(bot.screening_s())
    return {"acks": len(acks), "ack_p50_ms": round(statistics.median(acks), 1),
            "ack_p95_ms": round(percentile(acks, 0.95), 1),
            "ack_max_ms": round(max(acks), 1),
            "screens": len(screens), "screen_p50_s": round(statistics.median(screens), 2),
            "screen_max_s": round(max(screens), 2)}


def start_refresh(bot: Bot, *, nice: int, threads: int) -> tuple[subprocess.Popen, float]:
    from bot.services.refresh import child_environment

    settings = bot.settings.model_copy(update={"refresh_nice": nice,
                                               "refresh_threads": threads,
                                               "generator_refresh_minutes": 20.0})
    env = child_environment(settings)
    if threads == 0:  # naive: torch's own default (one thread per core)
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "HIREBOT_TORCH_THREADS"):
            env.pop(key, None)
    log = open(bot.settings.data_dir / f"refresh-{nice}-{threads}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "bot.refresh", "generator", "--force"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    started = time.monotonic()
    # training has begun once the progress log shows steps (model loaded, data tokenized)
    runs = bot.settings.data_dir / "models" / "generator"
    wait_for(lambda: list(runs.glob("tmp-*")) or proc.poll() is not None, timeout=300)
    time.sleep(20)  # past tokenizing, into the optimizer steps
    if proc.poll() is not None:
        raise RuntimeError(f"the refresh ended early: see {log.name}")
    return proc, time.monotonic() - started


def add_team_postings(bot: Bot, count: int = 40) -> None:
    from bot.storage import Store
    from models.refresh.generator import load_anchor

    _, replay = load_anchor()
    store = Store.open(bot.settings)
    store.add_team_postings([{"key": p.key, "title": p.title, "description": p.description,
                              "source": "bench"} for p in replay[:count]])
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured per phase")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory() as tmp:
        bot = Bot(Path(tmp) / "data")
        add_team_postings(bot)
        report: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                        "window_s": args.window}
        try:
            report["idle"] = measure(bot, args.window)
            for name, nice, threads in (("hirebot", 19, 1), ("naive", 0, 0)):
                proc, warmup = start_refresh(bot, nice=nice, threads=threads)
                try:
                    report[name] = measure(bot, args.window)
                    report[name]["child_alive_throughout"] = proc.poll() is None
                finally:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                report[name]["child_startup_s"] = round(warmup, 1)
        finally:
            bot.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'phase':10s} {'acks':>5s} {'ack p50 ms':>11s} {'ack p95 ms':>11s} "
          f"{'ack max ms':>11s} {'CVs':>4s} {'screen p50 s':>13s} {'screen max s':>13s}")
    for name in ("idle", "hirebot", "naive"):
        r = report[name]
        print(f"{name:10s} {r['acks']:5d} {r['ack_p50_ms']:11.1f} {r['ack_p95_ms']:11.1f} "
              f"{r['ack_max_ms']:11.1f} {r['screens']:4d} {r['screen_p50_s']:13.2f} "
              f"{r['screen_max_s']:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
