"""Buttons under a JD: Regenerate, Approve (team training data), 👍 / 👎."""

from __future__ import annotations

from bot.slack import format as fmt
from bot.slack.bot import HireBot
from handlers._common import ack_now, action_value, vote_listener

ACTIONS = (fmt.REGENERATE, fmt.APPROVE, fmt.JD_UP, fmt.JD_DOWN)


def register(app, bot: HireBot) -> None:
    def regenerate(client, body):
        jobpost_id = action_value(body)
        if jobpost_id is not None:
            bot.regenerate(client, jobpost_id, body["user"]["id"])

    def approve(client, body):
        jobpost_id = action_value(body)
        if jobpost_id is not None:
            bot.approve(client, jobpost_id, body["user"]["id"])

    app.action(fmt.REGENERATE)(ack=ack_now, lazy=[regenerate])
    app.action(fmt.APPROVE)(ack=ack_now, lazy=[approve])
    app.action(fmt.JD_UP)(ack=ack_now, lazy=[vote_listener(bot, "jobpost", "up")])
    app.action(fmt.JD_DOWN)(ack=ack_now, lazy=[vote_listener(bot, "jobpost", "down")])
