"""What the Slack app does, behind its thin listeners: post, queue model work, reply.

Listeners (``handlers/``, each given this object by ``register(app, bot)``) ack at once and
call one method here from a lazy-listener thread. These methods make only quick Web API calls
and put model work on the single worker queue; the services (``bot/services``) do the work and
the bookkeeping, and this module posts what they hand back. Every failure a
user can cause or meet (bad title, bad file, missing scope, busy queue) becomes a short message
in the thread; unexpected faults are logged without CV text and reported in one line.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.jobs import REFRESH, JobQueue, JobSpec
from bot.services.audit_trail import AuditTrail
from bot.services.errors import UserError
from bot.services.inputs import validate_role
from bot.services.jobposts import JobPostDesk
from bot.services.model_service import ModelService
from bot.services.refresh import refresh_kinds, spawn_refresh
from bot.services.screening import Fetched, FetchError, ScreeningBatch, ScreeningDesk
from bot.services.team_data import record_feedback
from bot.slack import format as fmt
from bot.slack import home
from bot.slack.access import Gate
from bot.slack.files import DownloadError, download_file
from bot.slack.help import HELP_TEXT
from bot.slack.profile import profile_reply
from bot.slack.refresh_report import admin_reporter, tell_admins
from bot.slack.suggest import queue_suggestion, wants_suggestion
from bot.storage import Store
from models.common.registry import KINDS  # noqa: F401 - the handlers name the kinds from here

logger = logging.getLogger(__name__)

BUSY = ("I'm busy with other requests right now ({depth} queued). Please try again in a "
        "minute.")
BUSY_KEPT = (" I've kept the files: reply in this thread with the role (or the same role "
             "again) when you want them screened.")
NOT_IN_CHANNEL = ("I can't post in this channel. Invite me with `/invite @hirebot` (private "
                  "channels and file uploads need me to be a member), then try again.")
FAULT = "Sorry, something went wrong on my side while {what}. The team has the details in the log."
ROLE_QUESTION = ("Which role should I screen {what} for? Reply in this thread with the job "
                 "title (for example “Java Developer”), or start a thread with `/screen TITLE`.")
ZIP_MIME = {"application/zip", "application/x-zip-compressed"}
_FOR_ROLE = re.compile(r"\bfor (?:the |a |an )?(?:role of |position of )?(?P<role>[^.!?\n]{2,80})",
                       re.IGNORECASE)
_ROLE_TAIL = re.compile(r"\s+(?:role|position|job|vacancy|opening)s?\s*$", re.IGNORECASE)
_MENTION = re.compile(r"<[@#!][^>]*>")


def role_from_text(text: str | None) -> str | None:
    """"screen these for Java Developer please" -> "Java Developer"; None when absent."""
    if not text:
        return None
    match = _FOR_ROLE.search(_MENTION.sub(" ", text))
    if not match:
        return None
    role = re.sub(r"\s+(?:please|thanks|thank you)\b.*$", "", match.group("role"),
                  flags=re.IGNORECASE)
    role = _ROLE_TAIL.sub("", role).strip(" ,:;\"'“”")
    return role or None


_NOT_A_TITLE = {"thanks", "thank you", "help", "status", "ok", "okay", "hi", "hello", "yes",
                "no", "cancel", "stop", "cheers", "great", "done"}


def unescape(text: str) -> str:
    """Slack sends message and command text with &, <, > as entities; back to characters
    (the output is escaped again where it is shown)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def looks_like_a_title(text: str) -> bool:
    """A reply that can be a job title: short, no question, not a pleasantry."""
    words = text.split()
    return (0 < len(words) <= 8 and len(text) <= 80 and "?" not in text
            and text.lower().strip(" .!") not in _NOT_A_TITLE)


@dataclass
class Upload:
    """One file of a message, as Slack describes it."""

    id: str
    name: str
    mimetype: str
    size: int
    url: str | None


def _is_zip(upload: Upload) -> bool:
    return upload.mimetype in ZIP_MIME or upload.name.lower().endswith(".zip")


class _Throttle:
    """Calls ``fn`` at most once per ``interval`` seconds (the final text is sent apart)."""

    def __init__(self, fn: Callable[[str], None], interval: float):
        self.fn = fn
        self.interval = interval
        self.last = 0.0

    def __call__(self, value: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.fn(value)


class HireBot:
    def __init__(self, settings: Settings, store: Store, queue: JobQueue,
                 models: ModelService):
        self.settings = settings
        self.store = store
        self.queue = queue
        self.models = models
        self.jobposts = JobPostDesk(store, models)
        self.screening = ScreeningDesk(settings, store, models)
        self.gate, self.trail = Gate(settings), AuditTrail(settings, store)

    # ============================================================ /jobpost
    def jobpost(self, client: WebClient, channel: str, user: str, raw_title: str,
                respond: Callable | None = None) -> None:
        from models.generation.request import SYNTAX, TitleError, parse_request

        try:
            request = parse_request(unescape(raw_title))
        except TitleError as exc:
            message = str(exc)
            self._tell(respond, message if "/jobpost" in message else f"{message} Usage: {SYNTAX}")
            return
        title, context = request.title, request.context
        parent = self._post(client, channel, fmt.jobpost_parent_text(title), respond=respond)
        if parent is None:
            return
        self.jobposts.open_thread(channel, parent, title)
        self._start_jd(client, channel, parent, unescape(raw_title), title, context, user,
                       seed=0)

    def _start_jd(self, client: WebClient, channel: str, thread_ts: str, raw_title: str,
                  title: str, context: str, user: str, seed: int,
                  alternate: dict | None = None) -> None:
        placeholder = self._post(client, channel, fmt.jd_progress_text(""), thread_ts=thread_ts)
        if placeholder is None:
            return

        spec = JobSpec("jobpost", f"{channel}:{placeholder}", {
            "channel": channel, "thread_ts": thread_ts, "placeholder": placeholder,
            "raw_title": raw_title, "title": title, "context": context, "user": user,
            "seed": seed, "alternate": alternate})
        self._submit(client, channel, thread_ts, spec, placeholder=placeholder)

    def write_jd(self, client: WebClient, *, channel: str, thread_ts: str, placeholder: str,
                 raw_title: str, title: str, context: str, user: str, seed: int,
                 alternate: dict | None) -> None:
        """On a worker: write the draft, streaming it into the placeholder."""
        def show(text: str) -> None:
            self._update(client, channel, placeholder, fmt.jd_progress_text(text))

        draft, jobpost_id = self.jobposts.write(
            channel=channel, thread_ts=thread_ts, message_ts=placeholder,
            raw_title=raw_title, title=title, context=context, user=user, seed=seed,
            on_text=_Throttle(show, self.settings.stream_interval_s), alternate=alternate)
        self._update(client, channel, placeholder, fmt.truncate(fmt.escape(draft.text)),
                     blocks=fmt.jd_blocks(draft.text, jobpost_id, draft.model,
                                          notes=draft.notes))

    def jd_failed(self, client: WebClient, exc: Exception, *, channel: str, placeholder: str,
                  **_: object) -> None:
        from models.generation.request import TitleError

        if isinstance(exc, TitleError):  # e.g. Regenerate on a JD stored before options
            self._update(client, channel, placeholder, f":warning: {exc}")
            return
        self._update(client, channel, placeholder, FAULT.format(what="writing the JD"))

    def regenerate(self, client: WebClient, jobpost_id: int, user: str) -> None:
        again = self.jobposts.regeneration(jobpost_id)
        if again is not None:
            self._start_jd(client, again["channel"], again["thread_ts"], again["raw_title"],
                           again["title"], again["context"], user, seed=again["seed"],
                           alternate=again["alternate"])

    def approve(self, client: WebClient, jobpost_id: int, user: str) -> None:
        row = self.jobposts.approve(jobpost_id, user)
        if row is None:
            return
        model = {"name": row.get("model_name") or "hirebot-jd-gpt2",
                 "version": row["model_version"]}
        self._update(client, row["channel"], row["message_ts"],
                     fmt.truncate(fmt.escape(row["text"])),
                     blocks=fmt.jd_blocks(row["text"], jobpost_id, model, approved_by=user,
                                          notes=[n for n in (row.get("grounded_on"),
                                                             row.get("inclusive")) if n]))

    def feedback(self, target: str, target_id: int, user: str, value: str) -> bool:
        return record_feedback(self.store, target, target_id, user, value,
                               self.settings.label_flag_confidence,
                               on_flag=lambda note: tell_admins(self.settings, note))

    # ============================================================ /screen and uploads
    def screen_thread(self, client: WebClient, channel: str, user: str, raw_role: str,
                      respond: Callable | None = None) -> None:
        try:
            role = validate_role(unescape(raw_role))
        except UserError as exc:
            self._tell(respond, f"{exc} Usage: `/screen Registered Nurse`")
            return
        if refusal := self.gate.screening_refusal(channel):
            return self._tell(respond, refusal)
        parent = self._post(client, channel, fmt.screen_parent_text(role), respond=respond)
        if parent is not None:
            self.screening.open_thread(channel, parent, role)

    def file_share(self, client: WebClient, event: dict) -> None:
        channel = event["channel"]
        message_ts = event["ts"]
        thread_ts = event.get("thread_ts") or message_ts
        fresh = self.screening.claim(channel, message_ts,
                                     [f["id"] for f in event.get("files", []) if f.get("id")])
        if not fresh or self.gate.refused_upload(client, event):
            return
        self.trail.uploaded(channel, message_ts, fresh, event.get("user"))
        files = [(message_ts, file_id) for file_id in fresh]
        role, jd_text = self.screening.thread_role(channel, event.get("thread_ts"))
        if role is None and wants_suggestion(event.get("text") or ""):  # not in a role's thread
            return queue_suggestion(self, client, channel, message_ts, fresh)
        if role is None:
            role = role_from_text(unescape(event.get("text") or ""))
        if role is None:
            self.screening.hold(channel, thread_ts, files)
            what = "this CV" if len(fresh) == 1 else "these CVs"
            self._post(client, channel, ROLE_QUESTION.format(what=what), thread_ts=thread_ts)
            return
        if not self._queue_screening(client, channel, thread_ts, files, role, jd_text):
            self.screening.hold(channel, thread_ts, files)  # naming the role screens them later

    def thread_reply(self, client: WebClient, event: dict) -> None:
        """A reply in a thread where uploads wait: for a role (the reply names it), or for a
        free worker (the thread's role is known; any reply tries again)."""
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return
        channel = event["channel"]
        known, jd_text = self.screening.thread_role(channel, thread_ts)
        if known is not None:
            role = known
        else:
            text = unescape(_MENTION.sub(" ", event.get("text") or "")).strip()
            role = role_from_text(text) or (text if looks_like_a_title(text) else None)
        if role is None:
            return
        files = self.screening.take_held(channel, thread_ts)
        if not files:
            return
        try:
            role = validate_role(role)
        except UserError as exc:
            self.screening.hold(channel, thread_ts, files)
            self._post(client, channel, str(exc), thread_ts=thread_ts)
            return
        if self._queue_screening(client, channel, thread_ts, files, role, jd_text):
            if known is None:
                self.screening.open_thread(channel, thread_ts, role)
        else:
            self.screening.hold(channel, thread_ts, files)

    def _queue_screening(self, client: WebClient, channel: str, thread_ts: str,
                         files: list[tuple[str, str]], role: str, jd_text: str | None) -> bool:
        """Queue one screening job for (message ts, file id) pairs; False when busy."""
        spec = JobSpec("screen", f"{channel}:{files[0][0]}:{files[0][1]}", {
            "channel": channel, "thread_ts": thread_ts, "files": [list(f) for f in files],
            "role": role, "jd_text": jd_text})
        return self._submit(client, channel, thread_ts, spec, busy_hint=BUSY_KEPT)

    def screening_failed(self, client: WebClient, exc: Exception, *, channel: str,
                         thread_ts: str, **_: object) -> None:
        self._post(client, channel, FAULT.format(what="screening these CVs"),
                   thread_ts=thread_ts)

    def screen(self, client: WebClient, channel: str, thread_ts: str,
               files: list[tuple[str, str]], role: str, jd_text: str | None) -> None:
        """On the worker: the service screens and records; this posts progress and verdicts."""
        shown: dict = {"started": False, "ts": None, "total": 0}

        def progress(done: int, total: int) -> None:
            text = f"Screening {done} of {total} CVs for {fmt.escape(role)}…"
            if not shown["started"]:  # one progress message, updated in place
                shown.update(started=True, total=total,
                             ts=self._post(client, channel, text, thread_ts=thread_ts))
            elif shown["ts"]:
                self._update(client, channel, shown["ts"], text)

        def deliver(batch: ScreeningBatch) -> None:
            self.deliver(client, channel, thread_ts, role, files, batch, shown)

        self.screening.screen_files(channel, thread_ts, files, role, jd_text,
                                    fetch=lambda file_id: self._fetch(client, file_id),
                                    deliver=deliver, progress=progress)

    def deliver(self, client: WebClient, channel: str, thread_ts: str, role: str,
                files: list[tuple[str, str]], batch: ScreeningBatch, shown: dict) -> None:
        """Post a batch's verdicts: a ranked table and a CSV, or one reply per CV."""
        if self.screening.wants_table(batch):
            self._post(client, channel, fmt.ranked_table_text(role, batch.results),
                       thread_ts=thread_ts)
            self._upload_csv(client, channel, thread_ts, role, batch.results)
        else:
            for result, screening_id in zip(batch.results, batch.ids, strict=True):
                self._post(client, channel, fmt.truncate(fmt.verdict_text(result)),
                           thread_ts=thread_ts, blocks=fmt.verdict_blocks(result, screening_id))
        if shown.get("ts"):
            done = sum("error" not in r for r in batch.results)
            self._update(client, channel, shown["ts"],
                         f"Screened {done} of {shown['total']} CVs for {fmt.escape(role)}.")
        self.trail.delivered(channel, files, batch)

    def _fetch(self, client: WebClient, file_id: str) -> Fetched:
        upload = self._file_info(client, file_id)
        if isinstance(upload, str):
            raise FetchError(file_id, "unreadable", upload)
        try:
            data = download_file(upload.url, self.settings.secret("slack_bot_token") or "",
                                 max_bytes=self._max_upload_bytes(upload), size=upload.size,
                                 base_url=self.settings.slack_api_url)
        except DownloadError as exc:
            raise FetchError(upload.name, exc.code, str(exc), is_zip=_is_zip(upload)) from None
        return Fetched(upload.name, data, _is_zip(upload))

    def _max_upload_bytes(self, upload: Upload) -> int:
        if _is_zip(upload):
            return int(self.settings.max_zip_total_mb * 1024 * 1024)
        return int(self.settings.max_file_mb * 1024 * 1024)

    def _file_info(self, client: WebClient, file_id: str) -> Upload | str:
        """The file's metadata, or a message saying why Slack would not give it."""
        try:
            info = client.files_info(file=file_id)["file"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            logger.warning("files.info failed: %s", error)
            if error in {"missing_scope", "not_allowed_token_type", "no_permission"}:
                return ("I may not read uploaded files: the app needs the files:read scope "
                        "(ask your Slack admin).")
            if error == "file_not_found":
                return "The file was deleted before I could read it."
            return "Slack would not tell me about this file; please upload it again."
        return Upload(id=file_id, name=info.get("name") or info.get("title") or file_id,
                      mimetype=info.get("mimetype", ""), size=int(info.get("size") or 0),
                      url=info.get("url_private_download") or info.get("url_private"))

    def _upload_csv(self, client: WebClient, channel: str, thread_ts: str, role: str,
                    results: list[dict]) -> None:
        safe = re.sub(r"[^A-Za-z0-9]+", "-", role).strip("-").lower() or "role"
        try:
            client.files_upload_v2(channel=channel, thread_ts=thread_ts,
                                   content=fmt.results_csv(results),
                                   filename=f"screening-{safe}.csv",
                                   title=f"Screening results: {role}")
        except SlackApiError as exc:
            logger.warning("CSV upload failed: %s", exc.response.get("error"))
            self._post(client, channel, "I couldn't attach the CSV (the app needs the "
                       "files:write scope).", thread_ts=thread_ts)

    # ============================================================ help, status, home
    def help_text(self) -> str:
        return HELP_TEXT

    def status_text(self) -> str:
        return home.status_text(self)

    def refresh_status_text(self) -> str:
        """The last refresh of each model, with its decision (failed runs included)."""
        return home.refresh_status_text(self)

    def is_admin(self, user: str) -> bool:
        """May ``user`` refresh models and change the company profile (``HIREBOT_ADMIN_USERS``)?"""
        return self.gate.is_admin(user)

    def refresh(self, user: str, kinds: list[str], respond: Callable) -> None:
        """``/hirebot refresh``: admins only; the training runs in a low-priority process."""
        if not self.is_admin(user):
            respond(text="Sorry, only hirebot admins can start a model refresh. The models also "
                         "refresh on their own schedule; `/hirebot status` shows the last one.",
                    response_type="ephemeral")
            return
        where = (f" The report goes to <#{self.settings.admin_channel}>."
                 if self.settings.admin_channel else "")
        kinds = refresh_kinds(kinds)
        respond(text=f"Starting the {' and '.join(kinds)} refresh in the background; I keep "
                     f"answering meanwhile.{where}", response_type="ephemeral")
        if self.queue.parallel:  # on a worker of the refresh queue; the report: admin channel
            if not self.queue.submit(JobSpec("refresh", f"{user}:{time.time()}",
                                             {"kinds": kinds}, queue=REFRESH)):
                respond(text="I could not queue the refresh (the job queue is unreachable); "
                             "try again shortly.", response_type="ephemeral")
            return

        def run() -> None:
            for kind in kinds:
                outcome = spawn_refresh(kind, self.settings, reporter=admin_reporter(self.settings))
                try:
                    respond(text=fmt.refresh_report_text(outcome), response_type="ephemeral")
                except Exception as exc:  # noqa: BLE001 - a response_url lasts 30 minutes
                    logger.info("could not answer /hirebot refresh: %s", type(exc).__name__)

        threading.Thread(target=run, name="refresh", daemon=True).start()

    def company_profile(self, user: str, text: str, respond: Callable) -> None:
        """``/hirebot profile [set LINES | clear]``: anyone sees it, admins change it."""
        respond(text=profile_reply(self.settings, self.store, user, unescape(text),
                                   admin=self.is_admin(user)), response_type="ephemeral")

    def home_view(self) -> dict:
        return home.home_view(self)

    def publish_home(self, client: WebClient, user: str) -> None:
        try:
            client.views_publish(user_id=user, view=self.home_view())
        except SlackApiError as exc:
            logger.warning("views.publish failed: %s", exc.response.get("error"))

    # ============================================================ plumbing
    def run_refreshes(self, kinds: list[str]) -> None:
        """On a worker of the refresh queue (the database lease keeps it one at a time)."""
        for kind in kinds:
            spawn_refresh(kind, self.settings, reporter=admin_reporter(self.settings))

    def _submit(self, client: WebClient, channel: str, thread_ts: str, spec: JobSpec,
                placeholder: str | None = None, busy_hint: str = "") -> bool:
        if self.queue.submit(spec):
            return True
        busy = BUSY.format(depth=self.queue.depth) + busy_hint
        if placeholder:
            self._update(client, channel, placeholder, busy)
        else:
            self._post(client, channel, busy, thread_ts=thread_ts)
        return False

    def _post(self, client: WebClient, channel: str, text: str, *, thread_ts: str | None = None,
              blocks: list[dict] | None = None, respond: Callable | None = None) -> str | None:
        try:
            response = client.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts,
                                               blocks=blocks, unfurl_links=False)
        except SlackApiError as exc:
            error = exc.response.get("error")
            logger.warning("chat.postMessage failed: %s", error)
            if error in {"not_in_channel", "channel_not_found", "is_archived"}:
                self._tell(respond, NOT_IN_CHANNEL)
            return None
        return response["ts"]

    def _update(self, client: WebClient, channel: str, ts: str, text: str,
                blocks: list[dict] | None = None) -> None:
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])
        except SlackApiError as exc:
            logger.warning("chat.update failed: %s", exc.response.get("error"))

    @staticmethod
    def _tell(respond: Callable | None, text: str) -> None:
        """An ephemeral answer to the person who ran the command (their response_url)."""
        if respond is None:
            return
        try:
            respond(text=text, response_type="ephemeral")
        except Exception:  # noqa: BLE001 - a lost hint must not break the listener
            logger.warning("could not answer through response_url")
