"""The composition root: settings, store, models, worker, bot, Bolt app, listeners, schedules.

Like ``app.py`` in Slack's Bolt starter template, this is the one place that knows every
piece; each listener module gets the bot handed in (``register(app, bot)``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App

import handlers
from bot.config import Settings
from bot.jobs import InProcessQueue, JobQueue, JobSpec
from bot.services.errors import ConfigError
from bot.services.model_service import ModelService
from bot.services.refresh import recover_refreshes
from bot.slack.app import HttpServer, create_app, make_client
from bot.slack.bot import HireBot
from bot.slack.jobs import SlackJobRunner
from bot.storage import Store
from bot.worker import ModelWorker

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    app: App
    bot: HireBot
    store: Store
    queue: JobQueue
    scheduler: object | None = None

    @property
    def worker(self) -> ModelWorker | None:
        """The in-process worker thread (None when ``hirebot worker`` processes run jobs)."""
        return getattr(self.queue, "worker", None)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.queue.stop():
            self.store.close()  # never under a job that is still running


def build_queue(settings: Settings) -> JobQueue:
    """Celery when ``HIREBOT_BROKER_URL`` is set, else the bot's own worker thread."""
    if settings.broker_url is not None:
        from bot.celery_queue import CeleryQueue

        if settings.database_url is None:
            raise ConfigError("HIREBOT_BROKER_URL needs HIREBOT_DATABASE_URL too: the bot and "
                              "its workers must share one database (docs/deploy.md).")
        return CeleryQueue(settings)
    return InProcessQueue(settings.queue_size)


def build_bot(settings: Settings, store: Store, models: ModelService,
              queue: JobQueue) -> tuple[HireBot, SlackJobRunner]:
    bot = HireBot(settings, store, queue, models)
    runner = SlackJobRunner(bot, make_client(settings))
    queue.bind(runner)
    return bot, runner


def build_app(settings: Settings, *, models: ModelService | None = None,
              warm_up: bool = True, schedules: bool = False) -> Runtime:
    """The real Bolt app with every listener registered and exactly-once delivery."""
    store = Store.open(settings)
    store.purge(settings.retention_days)
    recover_refreshes(settings)
    models = models or ModelService(settings)
    queue = build_queue(settings)
    bot, _ = build_bot(settings, store, models, queue)
    app = create_app(settings, store)
    handlers.register_all(app, bot)
    if warm_up and not queue.parallel:  # load the models now, so the first request is quick
        queue.submit(JobSpec("warm_up", "start-up"))
    scheduler = None
    if schedules:  # the long-running bot only; the shell and tests need none
        from bot.scheduler import LeaderScheduler

        scheduler = LeaderScheduler(settings, store).start()
    return Runtime(app, bot, store, queue, scheduler)


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
