"""Build the Bolt app and serve it: Socket Mode, HTTP (``/slack/events``), or the local shell.

The same :func:`build_app` serves every mode; only the transport differs. The Web API base URL
is a setting (``SLACK_API_URL``), so the shell and the tests point the real ``WebClient`` at
the local stand-in of Slack's Web API, and a corporate proxy can sit in front of Slack's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings
from bot.services import ModelService
from bot.slack_bot import HireBot, attach
from bot.storage import Store
from bot.worker import ModelWorker

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    app: App
    bot: HireBot
    store: Store
    worker: ModelWorker
    scheduler: object | None = None

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.worker.stop():
            self.store.close()  # never under a job that is still running


def make_client(settings: Settings) -> WebClient:
    client = WebClient(token=settings.secret("slack_bot_token"),
                       base_url=settings.slack_api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def build_app(settings: Settings, *, models: ModelService | None = None,
              warm_up: bool = True, schedules: bool = False) -> Runtime:
    """The real Bolt app with every listener registered and exactly-once delivery."""
    from handlers import register_all

    store = Store(settings.db_path)
    store.purge(settings.retention_days)
    _recover_refreshes(settings)
    models = models or ModelService(settings)
    worker = ModelWorker(settings.queue_size, between_jobs=models.sync_active)
    bot = HireBot(settings, store, worker, models)
    app = App(client=make_client(settings),
              signing_secret=settings.secret("slack_signing_secret") or "",
              process_before_response=False, raise_error_for_unhandled_request=False,
              request_verification_enabled=settings.slack_signing_secret is not None)
    attach(app, bot)

    @app.middleware
    def once_per_event(body, next, logger=logger):  # noqa: A002 - Bolt's argument name
        """Slack redelivers an event (X-Slack-Retry-Num) when an answer was slow or lost;
        the event_id's unique key in SQLite makes the second delivery a no-op, even after a
        restart."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not store.claim_event(event_id):
            logger.info("duplicate delivery of %s ignored", event_id)
            return BoltResponse(status=200, body="")
        return next()

    register_all(app)
    if warm_up:  # load the models now, on the worker, so the first request is quick
        worker.submit("warm-up", bot.models.warm_up)
    scheduler = None
    if schedules:  # the long-running bot only; the shell and tests need none
        from bot.scheduler import start_scheduler

        scheduler = start_scheduler(settings)
    return Runtime(app, bot, store, worker, scheduler)


def _recover_refreshes(settings: Settings) -> None:
    """A refresh killed with the bot (or before it) is marked failed and its temporary folder
    removed now, so the App Home shows what happened; a refresh still running is left alone."""
    from bot.models_commands import registry_for

    for kind in ("classifier", "generator"):
        try:
            if marked := registry_for(settings, kind).recover():
                logger.warning("%s refresh runs that never finished: %s", kind,
                               ", ".join(marked))
        except OSError as exc:
            logger.error("could not check the %s refreshes: %s", kind, exc)


# ------------------------------------------------------------------------------ HTTP mode
class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002
        logger.debug("http: " + format, *args)


class HttpServer:
    """Bolt's WSGI adapter on a threading server: ``POST /slack/events``."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000):
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        self.server = make_server(host, port, SlackRequestHandler(app),
                                  server_class=_ThreadingWSGIServer,
                                  handler_class=_QuietHandler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}/slack/events"
        self._thread: threading.Thread | None = None

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="hirebot-http")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_http(settings: Settings, port: int | None = None, host: str = "0.0.0.0") -> int:
    if settings.slack_signing_secret is None:
        raise SystemExit("hirebot: HTTP mode needs SLACK_SIGNING_SECRET (Basic Information "
                         "page of your Slack app).")
    runtime = build_app(settings, schedules=True)
    server = HttpServer(runtime.app, host=host, port=port or settings.http_port)
    logger.info("serving Slack events on %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        runtime.close()
    return 0


def run_socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    runtime = build_app(settings, schedules=True)
    logger.info("connecting to Slack in Socket Mode")
    try:
        SocketModeHandler(runtime.app, settings.secret("slack_app_token")).start()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0
