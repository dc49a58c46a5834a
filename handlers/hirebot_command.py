"""``/hirebot help | status``: answered privately (ephemeral) to the person who asked."""

from __future__ import annotations

from bot.slack_bot import hirebot_of
from handlers._common import ack_now

COMMAND = "/hirebot"


def register(app) -> None:
    def answer(command, respond):
        bot = hirebot_of(app)
        words = (command.get("text") or "").strip().lower().split()
        text = bot.status_text() if words[:1] == ["status"] else bot.help_text()
        respond(text=text, response_type="ephemeral")

    app.command(COMMAND)(ack=ack_now, lazy=[answer])
