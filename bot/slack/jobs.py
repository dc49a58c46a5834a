"""The worker side of the Slack app: a queued job (``bot.jobs.JobSpec``) back into a call.

The in-process worker thread and every ``hirebot worker`` process run jobs through this one
runner, so a JD or a verdict is written by the same code whichever queue carried the job.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.jobs import JobSpec
from bot.slack import bulk
from bot.slack.bot import HireBot
from bot.slack.suggest import run_suggestion, suggestion_failed


class SlackJobRunner:
    def __init__(self, bot: HireBot, client: WebClient) -> None:
        self.bot, self.client = bot, client

    def run(self, spec: JobSpec) -> None:
        bot, client, args = self.bot, self.client, spec.args
        if spec.kind == "jobpost":
            bot.write_jd(client, **args)
        elif spec.kind == "screen":
            files = [f for f in (tuple(f) for f in args["files"])  # a redelivered copy
                     if bot.store.file_status(args["channel"], *f) != "done"]
            if not files:
                return  # answered before the first copy's worker died
            if bot.queue.parallel and bulk.plan(bot, client, spec):
                return  # split into chunks for the workers; a gather job posts the table
            bot.screen(client, args["channel"], args["thread_ts"], files, args["role"],
                       args["jd_text"])
        elif spec.kind == "screen_chunk":
            bulk.run_chunk(bot, client, spec)
        elif spec.kind == "screen_gather":
            bulk.gather(bot, client, spec)
        elif spec.kind == "suggest":
            run_suggestion(bot, client, **args)
        elif spec.kind == "warm_up":
            bot.models.warm_up()
        elif spec.kind == "refresh":
            bot.run_refreshes(args["kinds"])
        else:
            raise ValueError(f"unknown job kind {spec.kind!r}")

    def failed(self, spec: JobSpec, exc: Exception) -> None:
        bot, client, args = self.bot, self.client, spec.args
        if spec.kind == "jobpost":
            bot.jd_failed(client, exc, **args)
        elif spec.kind == "screen_chunk":  # error lines in the table, which still comes
            bulk.chunk_failed(bot, client, spec)
        elif spec.kind in {"screen", "screen_gather"}:
            bot.screening_failed(client, exc, **args)
        elif spec.kind == "suggest":
            suggestion_failed(bot, client, exc, **args)

    def between_jobs(self) -> None:
        self.bot.models.sync_active()
