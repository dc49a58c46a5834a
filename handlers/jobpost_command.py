"""``/jobpost TITLE[, context]``: a parent message in the channel and the JD in its thread."""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

COMMAND = "/jobpost"


def register(app, bot: HireBot) -> None:
    def write(client, command, respond):
        bot.jobpost(client, command["channel_id"], command["user_id"],
                    command.get("text", ""), respond=respond)

    app.command(COMMAND)(ack=ack_now, lazy=[write])
