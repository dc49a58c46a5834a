"""``hirebot shell`` in a real terminal (a pty): the same Bolt app, driven by typed commands."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CVS

REPO = Path(__file__).resolve().parent.parent


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=REPO, close_fds=True)
        os.close(slave)
        self.buffer = ""

    def expect(self, text: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None and not self._ready(0.1):
                raise AssertionError(f"never saw {text!r}; got:\n{self.buffer[-3000:]}")
            if self._ready(min(remaining, 0.5)):
                try:
                    self.buffer += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    pass
        start = self.buffer.index(text)
        seen, self.buffer = self.buffer[: start + len(text)], self.buffer[start + len(text):]
        return seen

    def _ready(self, timeout: float) -> bool:
        return bool(select.select([self.master], [], [], timeout)[0])

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.master)


def test_shell_in_a_terminal_writes_a_jd_and_screens_an_upload(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(HIREBOT_DATA_DIR=str(tmp_path / "data"), HIREBOT_JOBPOST_MAX_NEW_TOKENS="120",
               TERM="dumb")
    term = Terminal([sys.executable, "-m", "bot.cli", "shell"], env)
    try:
        term.expect("hirebot>")
        term.send("/jobpost Data Scientist")
        term.expect("Job: Data Scientist")
        jd = term.expect("[Regenerate | Approve | 👍 | 👎]")
        assert "Data Scientist" in jd
        term.expect("hirebot>")
        term.send(f"upload {CVS / 'sample_resume.txt'}")
        verdict = term.expect("[👍 | 👎]")
        assert "sample_resume.txt" in verdict and "for Data Scientist" in verdict
        term.expect("hirebot>")
        term.send("/hirebot status")
        status = term.expect("feedback votes")
        assert "(only you)" in status and "1 JDs written" in status
        term.send("quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_a_second_shell_on_the_same_data_folder_still_screens(tmp_path):
    """``hirebot run < script`` twice on one data folder: event ids are unique across runs,
    as Slack's are, so the second run's upload is not taken for a redelivery of the first's
    (it once was: "duplicate delivery ... ignored", and no verdict)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(HIREBOT_DATA_DIR=str(tmp_path / "data"))
    script = f"/screen Registered Nurse\nupload {CVS / 'sample_resume.txt'}\n"
    for run in range(2):
        out = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=script, text=True,
                             capture_output=True, env=env, cwd=REPO, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "for Registered Nurse (score" in out.stdout, (run, out.stdout[-2000:])
        assert "duplicate delivery" not in out.stderr
        assert "Automated screening aid" in out.stdout  # the verdict's context line is shown
