"""The Bolt app and its HTTP transport: the real ``App`` with exactly-once delivery.

The Web API base URL is a setting (``SLACK_API_URL``), so the shell and the tests point the
real ``WebClient`` at the local stand-in of Slack's Web API, and a corporate proxy can sit in
front of Slack's. Listeners are registered by the composition root (``bot/cli/app.py``).
"""

from __future__ import annotations

import logging
import threading

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings
from bot.logging_setup import quiet_payload_loggers
from bot.slack.http_guard import MAX_BODY_BYTES, SlackRequestGuard
from bot.storage import Store

logger = logging.getLogger(__name__)


def make_client(settings: Settings) -> WebClient:
    client = WebClient(token=settings.secret("slack_bot_token"),
                       base_url=settings.slack_api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def create_app(settings: Settings, store: Store) -> App:
    """The Bolt app, signed-request checks on when a signing secret is set, and no event
    handled twice.

    ``process_before_response=True`` because every listener is an ``ack`` plus lazy work:
    the ack then runs in the request's own thread and the answer goes out at once.  With
    False, Bolt hands a command's ack to the thread pool that also runs the lazy work and
    polls for it every 10 ms, so under a burst a ``/screen`` waited 300 ms behind other
    requests' lazy work just to be acknowledged (docs/benchmarks.md, "Load and retries")."""
    quiet_payload_loggers()  # slack_sdk at DEBUG would log verdicts, with CV snippets
    app = App(client=make_client(settings),
              signing_secret=settings.secret("slack_signing_secret") or "",
              process_before_response=True, raise_error_for_unhandled_request=False,
              request_verification_enabled=settings.slack_signing_secret is not None)

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

    return app


# ------------------------------------------------------------------------------ HTTP mode
class _BoltAdapter(SlackRequestHandler):
    """Bolt answers an event no listener wants with 404, which Slack retries three times and
    counts against the app: an event type the app does not know is acknowledged and ignored."""

    def dispatch(self, request) -> BoltResponse:
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        response = self.app.dispatch(bolt_request)
        if response.status == 404 and bolt_request.body.get("type") == "event_callback":
            return BoltResponse(status=200, body="")
        return response


class HttpServer:
    """``POST /slack/events`` on waitress, behind :class:`SlackRequestGuard`.

    waitress reads requests on one event loop and hands only complete ones to its threads, so a
    client that stops sending holds a socket (closed after ``channel_timeout``), never a thread;
    ``connection_limit`` caps the sockets and ``max_request_body_size`` the body (413).
    """

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000, *,
                 threads: int = 8, channel_timeout: int = 10, connection_limit: int = 200,
                 max_body: int = MAX_BODY_BYTES):
        from waitress.server import create_server

        # create_app gives Bolt "" (verification off) exactly when no signing secret is set
        secret = getattr(app, "_signing_secret", "") or None
        self.guard = SlackRequestGuard(_BoltAdapter(app), secret, max_body=max_body)
        self.server = create_server(
            self.guard, host=host, port=port, threads=threads,
            channel_timeout=channel_timeout, cleanup_interval=max(1, channel_timeout // 2),
            connection_limit=connection_limit, max_request_body_size=max_body,
            ident="hirebot", expose_tracebacks=False, clear_untrusted_proxy_headers=True)
        self.port = int(self.server.effective_port)
        self.url = f"http://{host}:{self.port}/slack/events"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name="hirebot-http")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """waitress's loop, one poll at a time, so :meth:`stop` can end it from any thread."""
        server = self.server
        while not self._stopping.is_set():
            server.asyncore.loop(timeout=server.adj.asyncore_loop_timeout, map=server._map,
                                 use_poll=server.adj.asyncore_use_poll, count=1)

    def stop(self) -> None:
        self._stopping.set()
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            self.server.pull_trigger()  # wake the poll
            self._thread.join(timeout=5)
        self.server.task_dispatcher.shutdown()
        for channel in list(self.server._map.values()):
            channel.close()
