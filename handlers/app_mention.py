"""``@hirebot`` in a channel: help (or status) in the thread of the mention.

A mention that shares files, or that answers in a thread, is also delivered as a message event
and handled there (screening, naming a role); answering it here as well would reply twice.
"""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

EVENT = "app_mention"


def register(app, bot: HireBot) -> None:
    def answer(event, say):
        if event.get("files") or event.get("thread_ts"):
            return
        text = (event.get("text") or "").lower()
        body = bot.status_text() if "status" in text.split() else bot.help_text()
        say(text=body, thread_ts=event["ts"])

    app.event(EVENT)(ack=ack_now, lazy=[answer])
