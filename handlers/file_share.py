"""Uploads: ``message`` events with subtype ``file_share`` (never ``file_shared`` as well,
or every upload would arrive twice)."""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

EVENT = {"type": "message", "subtype": "file_share"}


def register(app, bot: HireBot) -> None:
    def screen(client, event):
        bot.file_share(client, event)

    app.event(EVENT)(ack=ack_now, lazy=[screen])
