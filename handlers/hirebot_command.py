"""``/hirebot help | status``: answered privately (ephemeral) to the person who asked."""

from __future__ import annotations

from bot.slack_bot import hirebot_of

COMMAND = "/hirebot"


def register(app) -> None:
    def answer(ack, command):
        bot = hirebot_of(app)
        words = (command.get("text") or "").strip().lower().split()
        if words[:1] == ["status"]:
            ack(response_type="ephemeral", text=bot.status_text())
        else:
            ack(response_type="ephemeral", text=bot.help_text())

    app.command(COMMAND)(answer)
