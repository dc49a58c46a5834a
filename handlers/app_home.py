"""The App Home tab: model versions and metrics, the queue, counts of JDs and screenings."""

from __future__ import annotations

from bot.slack_bot import hirebot_of
from handlers._common import ack_now

EVENT = "app_home_opened"


def register(app) -> None:
    def publish(client, event):
        if event.get("tab", "home") == "home":
            hirebot_of(app).publish_home(client, event["user"])

    app.event(EVENT)(ack=ack_now, lazy=[publish])
