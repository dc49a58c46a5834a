"""``@hirebot`` in a channel: help in the thread of the mention."""

from __future__ import annotations

from bot.slack_bot import hirebot_of
from handlers._common import ack_now

EVENT = "app_mention"


def register(app) -> None:
    def answer(event, say):
        bot = hirebot_of(app)
        text = (event.get("text") or "").lower()
        body = bot.status_text() if "status" in text.split() else bot.help_text()
        say(text=body, thread_ts=event.get("thread_ts") or event["ts"])

    app.event(EVENT)(ack=ack_now, lazy=[answer])
