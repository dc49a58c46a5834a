"""Real Redis and PostgreSQL servers for the tests, started privately on free loopback ports.

Each server runs from the distribution's binaries (``redis-server``; PostgreSQL's ``initdb``
and ``pg_ctl``) in a temporary folder, so a test can stop, kill and restart it without
touching anything else on the machine. PostgreSQL refuses to run as root: as root, the
cluster belongs to the ``postgres`` account the package creates, and runs as it.

Where the binaries are missing the tests that need them are skipped, so ``make test`` works on
a machine with neither server; with ``HIREBOT_REQUIRE_SERVERS=1`` (``.ci/run`` sets it) a
server that cannot start fails the test with the reason instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REQUIRED = os.environ.get("HIREBOT_REQUIRE_SERVERS") == "1"


def unavailable(reason: str) -> None:
    """Skip the test here; fail it in CI, where the servers are part of the contract."""
    if REQUIRED:
        pytest.fail(f"server unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class RedisServer:
    """``redis-server`` with an append-only file, so a restart keeps what was queued."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _wait_port(self.port):
            self.stop()
            unavailable(f"redis-server did not listen on port {self.port}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class PostgresServer:
    """A private PostgreSQL cluster (trust auth on loopback; a database named ``hirebot``)."""

    def __init__(self, folder: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        pg_ctl = bins[-1] if bins else shutil.which("pg_ctl")
        if pg_ctl is None:
            unavailable("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(pg_ctl).parent
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.as_user: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # initdb and postgres refuse root: run as the package's user
            if shutil.which("runuser") is None:
                unavailable("running as root without runuser to become postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "hirebot",
                   "--auth=trust", "-E", "UTF8", "--no-sync"])

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run([*self.as_user, *cmd], capture_output=True, text=True,
                              check=False, timeout=120)
        if done.returncode != 0:
            unavailable(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-400:]}")

    @property
    def url(self) -> str:
        return f"postgresql://hirebot@127.0.0.1:{self.port}/hirebot"

    def start(self) -> PostgresServer:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                   str(self.folder / "server.log"), "-o",
                   f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c fsync=off -c max_connections=200", "start"])
        return self

    def create_database(self, name: str = "hirebot") -> str:
        self._run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                   "-U", "hirebot", name])
        return f"postgresql://hirebot@127.0.0.1:{self.port}/{name}"

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                        mode, "-w", "stop"], capture_output=True, check=False, timeout=120)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class Workers:
    """``hirebot worker`` processes with exactly a test's settings (as the environment)."""

    def __init__(self, settings, folder: Path, count: int = 2, *, concurrency: int = 1,
                 queues: str | None = None) -> None:
        from bot.services.refresh import settings_env

        self.env = {**os.environ, **settings_env(settings), "OMP_NUM_THREADS": "1",
                    "HIREBOT_TORCH_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
                    "PYTHONUNBUFFERED": "1"}
        self.folder, self.count = folder, count
        self.args = ["--concurrency", str(concurrency)] + (["--queues", queues] if queues else [])
        self.procs: list[subprocess.Popen] = []
        folder.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 120.0) -> Workers:
        import sys

        for _ in range(self.count):
            self.add(sys.executable, timeout)
        return self

    def add(self, python: str | None = None, timeout: float = 120.0) -> subprocess.Popen:
        import sys

        log = self.folder / f"worker-{len(self.procs)}.log"
        proc = subprocess.Popen([python or sys.executable, "-m", "bot.cli", "worker", *self.args],
                                env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        deadline = time.monotonic() + timeout
        while "ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        return proc

    def kill(self, index: int) -> None:
        """SIGKILL a worker's whole process group, as an OOM kill or a power cut would."""
        import signal

        os.killpg(self.procs[index].pid, signal.SIGKILL)
        self.procs[index].wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(p.log.read_text(errors="replace") for p in self.procs)  # type: ignore

    def stop(self) -> None:
        import signal

        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
