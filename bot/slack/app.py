"""The Bolt app and its HTTP transport: the real ``App`` with exactly-once delivery.

The Web API base URL is a setting (``SLACK_API_URL``), so the shell and the tests point the
real ``WebClient`` at the local stand-in of Slack's Web API, and a corporate proxy can sit in
front of Slack's. Listeners are registered by the composition root (``bot/cli/app.py``).
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings
from bot.storage import Store

logger = logging.getLogger(__name__)


def make_client(settings: Settings) -> WebClient:
    client = WebClient(token=settings.secret("slack_bot_token"),
                       base_url=settings.slack_api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def create_app(settings: Settings, store: Store) -> App:
    """The Bolt app, signed-request checks on when a signing secret is set, and no event
    handled twice."""
    app = App(client=make_client(settings),
              signing_secret=settings.secret("slack_signing_secret") or "",
              process_before_response=False, raise_error_for_unhandled_request=False,
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
