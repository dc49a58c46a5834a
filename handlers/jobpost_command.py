"""``/jobpost TITLE[, context]``: a parent message in the channel and the JD in its thread."""

from __future__ import annotations

from bot.slack_bot import hirebot_of
from handlers._common import ack_now

COMMAND = "/jobpost"


def register(app) -> None:
    def write(client, command, respond):
        hirebot_of(app).jobpost(client, command["channel_id"], command["user_id"],
                                command.get("text", ""), respond=respond)

    app.command(COMMAND)(ack=ack_now, lazy=[write])
