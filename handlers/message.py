"""Plain messages: help in DMs, a role named in reply to "which role?"; other subtypes
(edits, deletions, bot posts) are acknowledged and ignored."""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

EVENT = {"type": "message", "subtype": None}


def register(app, bot: HireBot) -> None:
    def reply(client, event, say):
        if event.get("channel_type") == "im" and not event.get("thread_ts"):
            say(text=bot.help_text())
            return
        bot.thread_reply(client, event)

    def ignore(ack):
        ack()

    app.event(EVENT)(ack=ack_now, lazy=[reply])
    app.event("message")(ignore)
