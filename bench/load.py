"""A burst of signed Slack traffic with retries while the model worker is busy: this project's
transport (waitress behind the request guard) vs the naive one (wsgiref's threading server
straight into Bolt, as on main before), measured in the same run.

Per transport, one real Bolt app (HTTP mode, a fresh SQLite file, the local Slack stand-in, the
bundled screening model shared and warmed once) gets, from 16 client threads in their own
process (Slack's side) on loopback:

* 40 ``/screen Registered Nurse`` commands, one per channel (the reply: a thread parent);
* 160 ``file_share`` events, one CV each, into 10 ``/screen`` threads opened beforehand; one in
  five is re-delivered 1-3 more times with ``X-Slack-Retry-Num`` (re-signed, as Slack does);
* 30 connections that send half a request and stall for the whole burst (slow clients).

While the burst runs the worker is held by one job, so the queue (20) fills and the rest get
the "busy" answer with their files kept. After the burst the worker is freed and one reply per
thread asks again until every kept file is screened (bounded rounds). Printed per transport:
ack latency p50/p99/max over every request, peak threads, replies lost and duplicated
(commands: parent messages per channel; CVs: screening rows per file), busy answers, files
screened. Bounded (about 2 minutes), loopback only, stops by itself.

Usage::

    TOKENIZERS_PARALLELISM=false .venv/bin/python bench/load.py [--json]

This is a benchmark that prints a comparison, not a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import ROOT, percentile, wait_for

CVS = sorted(p for p in (ROOT / "tests" / "fixtures" / "cvs").iterdir()
             if p.suffix in {".pdf", ".docx", ".txt"})
ROLE = "Registered Nurse"
COMMANDS, FILES, THREADS, STALLED, CLIENTS = 40, 160, 10, 30, 16





class NaiveServer:
    """main's transport before: wsgiref's threading server, Bolt's adapter, nothing in front."""

    def __init__(self, app):
        from socketserver import ThreadingMixIn
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

        from slack_bolt.adapter.wsgi import SlackRequestHandler

        class Threading(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, SlackRequestHandler(app),
                                  server_class=Threading, handler_class=Quiet)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_one(kind: str, models, data_dir: Path) -> dict:
    from pydantic import SecretStr

    from bot.cli.app import build_app
    from bot.config import Settings
    from bot.slack.app import HttpServer
    from bot.slack.local_slack import LocalSlack, SlackSender

    local = LocalSlack().start()
    settings = Settings(data_dir=data_dir, slack_api_url=local.api_url,
                        slack_bot_token=SecretStr(local.token),
                        slack_signing_secret=SecretStr("bench"))
    runtime = build_app(settings, models=models, warm_up=False)
    server = HttpServer(runtime.app, port=0).start() if kind == "hirebot" \
        else NaiveServer(runtime.app)
    send = SlackSender(server.url, "bench", local)
    try:
        return _burst(kind, runtime, local, send, server.port, settings.db_path)
    finally:
        server.stop()
        runtime.close()
        local.stop()


def _burst(kind, runtime, local, send, port: int, db_path: Path) -> dict:
    threads_ts = []
    for i in range(THREADS):  # the /screen threads the uploads go to (setup, not measured)
        send.command("/screen", ROLE, channel="C0LOAD")
        threads_ts = wait_for(lambda n=i + 1: (m := local.channel_messages("C0LOAD"))
                              and len(m) >= n and [x["ts"] for x in m])
    release = threading.Event()
    runtime.worker.submit("busy", lambda: release.wait(120))  # e.g. a long JD being written
    wait_for(lambda: runtime.worker.running == "busy")

    files = [local.add_file(f"load-{i:03d}-{CVS[i % len(CVS)].name}",
                            CVS[i % len(CVS)].read_bytes()) for i in range(FILES)]
    recorder = _Recorder(send)

    def command(i: int) -> list[tuple[bytes, dict]]:
        recorder.command("/screen", ROLE, channel=f"C0CMD{i:03d}")
        return recorder.take()

    def upload(i: int) -> list[tuple[bytes, dict]]:
        thread_ts = threads_ts[i % THREADS]
        event = {"type": "message", "subtype": "file_share", "channel": "C0LOAD",
                 "user": "U0HR", "text": "", "ts": local.next_ts(), "files": [files[i]],
                 "thread_ts": thread_ts, "channel_type": "channel", "upload": True}
        now = int(time.time())
        retries = 1 + (i // 5) % 3 if i % 5 == 0 else 0
        for retry in range(retries + 1):
            recorder.event(event, event_id=f"EvLOAD{i:05d}", retry_num=retry or None,
                           timestamp=now - retry)
        return recorder.take()

    stalled = []
    for _ in range(STALLED):  # slow clients: half a request, then silence
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{")
        stalled.append(sock)
    peak = [threading.active_count()]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.05):
            peak[0] = max(peak[0], threading.active_count())

    threading.Thread(target=sample, daemon=True).start()
    jobs = [command(i) for i in range(COMMANDS)] + [upload(i) for i in range(FILES)]
    jobs = [jobs[k] for k in sorted(range(len(jobs)), key=lambda k: (k * 37) % len(jobs))]
    started = time.perf_counter()
    # Slack's side runs in its own process, as Slack's servers do: the app's process (and its
    # GIL) holds only the app and the Web API stand-in.
    with multiprocessing.get_context("spawn").Pool(1) as clients:
        acks, statuses = clients.apply(_send_all, (send.app_url, jobs))
    burst_s = time.perf_counter() - started
    sampling.set()
    for sock in stalled:
        sock.close()

    time.sleep(1.0)  # lazy listeners finish posting busy answers
    busy = sum("I'm busy" in m["text"] for ts in threads_ts
               for m in local.thread("C0LOAD", ts))
    release.set()
    runtime.worker.wait_idle(180)
    for _ in range(8):  # ask again in each thread until every kept file is screened
        if _screened(db_path) >= FILES:
            break
        for ts in threads_ts:
            send.message("C0LOAD", "again please", thread_ts=ts)
        time.sleep(0.5)
        runtime.worker.wait_idle(180)
        time.sleep(0.5)
    counts = _per_file(db_path)
    parents = [len(local.channel_messages(f"C0CMD{i:03d}")) for i in range(COMMANDS)]
    return {
        "transport": kind, "requests": len(acks), "statuses": statuses,
        "burst_s": round(burst_s, 2),
        "ack_p50_ms": round(percentile(acks, 0.50), 1),
        "ack_p99_ms": round(percentile(acks, 0.99), 1), "ack_max_ms": round(max(acks), 1),
        "peak_threads": peak[0],
        "lost": sum(n == 0 for n in parents) + sum(counts.get(f["name"], 0) == 0 for f in files),
        "duplicated": sum(max(0, n - 1) for n in parents)
        + sum(max(0, counts.get(f["name"], 0) - 1) for f in files),
        "busy_answers": busy, "files_screened": sum(1 for f in files if counts.get(f["name"])),
    }


class _Recorder:
    """Builds signed requests exactly as ``SlackSender`` does, without sending them, so the
    burst can be sent from another process."""

    def __init__(self, sender):
        from bot.slack.local_slack import SlackSender

        class Recording(SlackSender):
            def _post(inner, body: str, content_type: str, *, timestamp: int | None = None,
                      signature: str | None = None, headers: dict | None = None):
                ts = str(timestamp if timestamp is not None else int(time.time()))
                sig = signature or inner.verifier.generate_signature(timestamp=ts, body=body)
                self._taken.append((body.encode(), {
                    "Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": sig, **(headers or {})}))
                return 200, ""

        self._taken: list[tuple[bytes, dict]] = []
        self._sender = Recording(sender.app_url, "bench", sender.local)

    def command(self, *args, **kwargs) -> None:
        self._sender.command(*args, **kwargs)

    def event(self, *args, **kwargs) -> None:
        self._sender.event(*args, **kwargs)

    def take(self) -> list[tuple[bytes, dict]]:
        taken, self._taken = self._taken, []
        return taken


def _send_all(url: str, jobs: list[list[tuple[bytes, dict]]]) -> tuple[list[float], dict]:
    """In the client process: ``CLIENTS`` threads send the jobs (a job's requests in order:
    an event and its re-deliveries) and time each answer."""
    import urllib.error
    import urllib.request

    acks: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(job: list[tuple[bytes, dict]]) -> None:
        for body, headers in job:
            request = urllib.request.Request(url, data=body, method="POST", headers=headers)
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:  # refused or reset: the server's backlog overflowed
                status = 0
            with lock:
                acks.append((time.perf_counter() - start) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, jobs))
    return acks, statuses


def _per_file(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT file_name, COUNT(*) FROM screenings GROUP BY file_name"))


def _screened(db_path: Path) -> int:
    return len(_per_file(db_path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--transports", nargs="+", default=["hirebot", "naive"],
                        choices=["hirebot", "naive"])
    args = parser.parse_args()
    from bot.config import Settings
    from bot.services.model_service import ModelService

    with tempfile.TemporaryDirectory() as tmp:
        models = ModelService(Settings(data_dir=Path(tmp) / "models"))
        models.warm_up()  # load the models once, outside the measurement
        models.jd_for_title(ROLE)  # screening for a bare title uses its JD, kept per title
        results = [run_one(kind, models, Path(tmp) / kind) for kind in args.transports]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    keys = [k for k in results[0] if k != "transport"]
    print(f"{'':16}" + "".join(f"{r['transport']:>22}" for r in results))
    for key in keys:
        print(f"{key:16}" + "".join(f"{str(r[key]):>22}" for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
