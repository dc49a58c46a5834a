"""👍 / 👎 under a verdict: a label for the next classifier refresh."""

from __future__ import annotations

from bot.slack import format as fmt
from bot.slack.bot import HireBot
from handlers._common import ack_now, vote_listener

ACTIONS = (fmt.VERDICT_UP, fmt.VERDICT_DOWN)


def register(app, bot: HireBot) -> None:
    app.action(fmt.VERDICT_UP)(ack=ack_now, lazy=[vote_listener(bot, "screening", "up")])
    app.action(fmt.VERDICT_DOWN)(ack=ack_now, lazy=[vote_listener(bot, "screening", "down")])
