"""👍 / 👎 under a verdict: a label for the next classifier refresh."""

from __future__ import annotations

from bot import slack_format as fmt
from handlers._common import ack_now, vote_listener

ACTIONS = (fmt.VERDICT_UP, fmt.VERDICT_DOWN)


def register(app) -> None:
    app.action(fmt.VERDICT_UP)(ack=ack_now, lazy=[vote_listener(app, "screening", "up")])
    app.action(fmt.VERDICT_DOWN)(ack=ack_now, lazy=[vote_listener(app, "screening", "down")])
