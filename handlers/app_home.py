"""The App Home tab: model versions and metrics, the queue, counts of JDs and screenings."""

from __future__ import annotations

from bot.slack.bot import HireBot
from handlers._common import ack_now

EVENT = "app_home_opened"


def register(app, bot: HireBot) -> None:
    def publish(client, event):
        if event.get("tab", "home") == "home":
            bot.publish_home(client, event["user"])

    app.event(EVENT)(ack=ack_now, lazy=[publish])
