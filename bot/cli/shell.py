"""``hirebot shell``: use the Slack app from a terminal, with no Slack workspace.

It runs the real Bolt app (HTTP mode, signed requests) against the local stand-in of Slack's
Web API, so what it prints is exactly what the bot would post in Slack, streamed the same way.
Type ``/jobpost TITLE``, ``/screen TITLE`` or ``upload PATH ... [for ROLE]``; ``help`` lists
the rest. Reads commands from a pipe too (``echo '/jobpost Nurse' | hirebot shell``).
"""

from __future__ import annotations

import mimetypes
import secrets
import shlex
import sys
import threading
import time
from pathlib import Path

from bot.config import Settings
from bot.slack.local_slack import LocalSlack, SlackSender

CHANNEL = "C0HR"
USER = "U0HR"
WRITING_MARK = "\n\n_…writing_"
SHELL_HELP = """commands (as in Slack; this terminal is the #hr channel):
  /jobpost TITLE[; must: A, B; nice: C; location: X; remote]  a JD in a new thread
  /screen ROLE                 open a screening thread for ROLE
  /hirebot help|status         the bot's help or status (only you see it)
  /hirebot profile [clear]     the company profile JDs use (clear: admins only)
  /hirebot profile set name: Acme\\nbenefits: 30 days leave; pension
                               set it (admins only); \\n starts a new `field: value` line
  upload PATH... [for ROLE]    share CV files (PDF, DOCX, TXT, ZIP) in the current thread
  say TEXT                     post TEXT in the current thread (e.g. to name a role)
  approve | regenerate         the buttons under the latest JD
  up | down                    👍 / 👎 on the latest JD or verdict
  thread [new]                 show the current thread, or leave it (post at channel level)
  help | quit"""


def _plain(text: str) -> str:
    """Slack mrkdwn escapes back to characters, for the terminal."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _Printer:
    """Prints posts as they arrive and, for a message being updated, only what is new."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.shown: dict[str, str] = {}
        self.lock = threading.Lock()
        self.latest_jd: dict | None = None
        self.latest_verdict: dict | None = None
        self.threads: list[str] = []

    def __call__(self, message: dict, is_update: bool) -> None:
        with self.lock:
            ts = message["ts"]
            text = _plain(message.get("text", ""))
            writing = text.endswith(_plain(WRITING_MARK))
            if writing:
                text = text[: -len(WRITING_MARK)]
            prefix = "  │ " if message.get("thread_ts") else ""
            old = self.shown.get(ts)
            if old is None:
                if not message.get("thread_ts"):
                    self.threads.append(ts)
                self._write(("\n" if not prefix else "") + prefix + "hirebot: "
                            + self._indent(text, prefix))
            elif old.startswith("_") and old.endswith("…_"):  # the placeholder
                self._write("\r" + prefix + "hirebot: " + self._indent(text, prefix))
            elif text.startswith(old):
                self._write(self._indent(text[len(old):], prefix))
            else:
                self._write("\n" + prefix + "hirebot (edited): " + self._indent(text, prefix))
            self.shown[ts] = text
            if not writing:
                self.out.write("\n")
                self._remember(message)
            self.out.flush()

    def _remember(self, message: dict) -> None:
        """Buttons (remembered for ``up`` / ``down`` / ``approve``) and context lines (the
        model version, the automated-aid notice) under the message, as Slack shows them."""
        prefix = "  │ " if message.get("thread_ts") else ""
        for block in message.get("blocks") or []:
            if block.get("type") == "context":
                words = _plain(" ".join(e.get("text", "") for e in block.get("elements", [])))
                self.out.write(f"{prefix}{words}\n")
            if block.get("type") != "actions":
                continue
            ids = [e.get("action_id", "") for e in block.get("elements", [])]
            names = [e.get("text", {}).get("text", "") for e in block.get("elements", [])]
            self.out.write(f"  │ [{' | '.join(names)}]\n")
            target = {"ts": message["ts"], "value": block["elements"][0].get("value"),
                      "ids": ids}
            if any(i.startswith("jd_") for i in ids):
                self.latest_jd = target
            else:
                self.latest_verdict = target

    @staticmethod
    def _indent(text: str, prefix: str) -> str:
        return text.replace("\n", "\n" + prefix) if prefix else text

    def _write(self, text: str) -> None:
        self.out.write(text)

    def file(self, upload: dict, data: bytes) -> None:
        with self.lock:
            self.out.write(f"  │ hirebot uploaded {upload.get('name')} ({len(data)} bytes)\n")
            self.out.flush()


class Shell:
    def __init__(self, settings: Settings, out=None):
        from bot.cli.app import build_app
        from bot.slack.app import HttpServer

        self.out = out or sys.stdout
        self.local = LocalSlack().start()
        secret = secrets.token_hex(16)
        self.settings = settings.model_copy(update={
            "slack_api_url": self.local.api_url,
            "slack_bot_token": _secret(self.local.token),
            "slack_signing_secret": _secret(secret),
            "broker_url": None,  # the shell's Slack is in this process: so are its jobs
        })
        self.printer = _Printer(self.out)
        self.local.on_post = self.printer
        self.local.on_file = self.printer.file
        self.runtime = build_app(self.settings)
        self.server = HttpServer(self.runtime.app, port=0).start()
        self.sender = SlackSender(self.server.url, secret, self.local)
        self.thread_ts: str | None = None

    def close(self) -> None:
        self.server.stop()
        self.runtime.close()
        self.local.stop()

    # --------------------------------------------------------------------------- loop
    def run(self, lines=None) -> int:
        interactive = lines is None and sys.stdin.isatty()
        self.out.write("hirebot shell — the Slack app on this machine, no workspace needed. "
                       "Type help.\n")
        source = lines if lines is not None else sys.stdin
        while True:
            if interactive:
                try:
                    line = input("hirebot> ")
                except EOFError:
                    break
            else:
                line = next(source, None) if not isinstance(source, list) else (
                    source.pop(0) if source else None)
                if line is None:
                    break
                line = line.rstrip("\n")
                self.out.write(f"hirebot> {line}\n")
            if not self.execute(line.strip()):
                break
        return 0

    def execute(self, line: str) -> bool:
        """Run one command; False to stop."""
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in {"quit", "exit"}:
            return False
        if word == "help":
            self.out.write(SHELL_HELP + "\n")
        elif word in {"/jobpost", "/screen", "/hirebot"}:
            # one typed line; Slack's multi-line /hirebot profile set is written with \n
            self._command(word, rest.replace("\\n", "\n") if word == "/hirebot" else rest)
        elif word == "upload":
            self._upload(rest)
        elif word == "say":
            self.sender.message(CHANNEL, rest, thread_ts=self.thread_ts, user=USER)
        elif word in {"approve", "regenerate"}:
            self._click_jd(word)
        elif word in {"up", "down"}:
            self._vote(word)
        elif word == "thread":
            if rest.strip() == "new":
                self.thread_ts = None
            self.out.write(f"current thread: {self.thread_ts or '(channel level)'}\n")
        else:
            self.out.write("unknown command; type help\n")
            return True
        self._settle()
        return True

    def _command(self, command: str, text: str) -> None:
        before = len(self.printer.threads)
        status, body = self.sender.command(command, text, channel=CHANNEL, user=USER)
        if status != 200:
            self.out.write(f"(the app answered HTTP {status})\n")
        elif body.strip():
            self._ephemeral(body)
        if command in {"/jobpost", "/screen"}:  # the parent message opens the thread
            deadline = time.monotonic() + 120
            while (len(self.printer.threads) == before and not self._pending_responses()
                   and time.monotonic() < deadline):
                time.sleep(0.05)
        self._settle()
        if len(self.printer.threads) > before:
            self.thread_ts = self.printer.threads[-1]

    def _ephemeral(self, body: str) -> None:
        import json

        try:
            text = json.loads(body).get("text", "")
        except ValueError:
            text = body
        if text:
            self.out.write("(only you) " + _plain(text) + "\n")

    def _upload(self, rest: str) -> None:
        parts = shlex.split(rest)
        text = ""
        if "for" in parts:
            i = parts.index("for")
            text = "for " + " ".join(parts[i + 1:])
            parts = parts[:i]
        files = []
        for raw in parts:
            path = Path(raw).expanduser()
            if not path.is_file():
                self.out.write(f"no such file: {raw}\n")
                continue
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files.append(self.local.add_file(path.name, path.read_bytes(), mime))
        if files:
            self.sender.file_share(CHANNEL, files, text=text, thread_ts=self.thread_ts,
                                   user=USER)

    def _click_jd(self, word: str) -> None:
        target = self.printer.latest_jd
        if not target:
            self.out.write("no JD yet: try /jobpost TITLE\n")
            return
        action = {"approve": "jd_approve", "regenerate": "jd_regenerate"}[word]
        self.sender.click(action, target["value"], channel=CHANNEL, message_ts=target["ts"],
                          user=USER)

    def _vote(self, word: str) -> None:
        target = self.printer.latest_verdict or self.printer.latest_jd
        if not target:
            self.out.write("nothing to vote on yet\n")
            return
        kind = "verdict" if target is self.printer.latest_verdict else "jd"
        action = f"{kind}_thumbs_{word}"
        self.sender.click(action, target["value"], channel=CHANNEL, message_ts=target["ts"],
                          user=USER)

    def _settle(self, quiet_s: float = 0.4, timeout: float = 600) -> None:
        """Wait until the app has finished answering: queue idle and no Web API call lately."""
        deadline = time.monotonic() + timeout
        last = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            calls = len(self.local.calls()) + len(self.local.state.responses)
            busy = self.runtime.worker.depth > 0
            if calls != last or busy:
                last = calls
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                break
            time.sleep(0.05)
        for response in self._new_responses():
            self.out.write("(only you) " + _plain(response.get("text", "")) + "\n")
        self.out.flush()

    _responses_seen = 0

    def _pending_responses(self) -> bool:
        with self.local.state.lock:
            return len(self.local.state.responses) > self._responses_seen

    def _new_responses(self) -> list[dict]:
        with self.local.state.lock:
            fresh = self.local.state.responses[self._responses_seen:]
            self._responses_seen = len(self.local.state.responses)
        return fresh


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def run_shell(settings: Settings, lines: list[str] | None = None) -> int:
    shell = Shell(settings)
    try:
        return shell.run(lines)
    finally:
        shell.close()

