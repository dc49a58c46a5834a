"""``/screen ROLE``: opens a thread where uploaded CVs are screened for that role."""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

COMMAND = "/screen"


def register(app, bot: HireBot) -> None:
    def open_thread(client, command, respond):
        bot.screen_thread(client, command["channel_id"], command["user_id"],
                          command.get("text", ""), respond=respond)

    app.command(COMMAND)(ack=ack_now, lazy=[open_thread])
