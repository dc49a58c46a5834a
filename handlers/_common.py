"""Small helpers the listeners share."""

from __future__ import annotations

from bot.slack.bot import HireBot


def ack_now(ack) -> None:
    """The ack half of a lazy listener: Slack needs an answer within 3 seconds."""
    ack()


def action_value(body: dict) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def vote_listener(bot: HireBot, target: str, value: str):
    """A 👍 / 👎 button: store the vote, thank the voter privately."""
    def record(body, respond):
        target_id = action_value(body)
        if target_id is None:
            return
        bot.feedback(target, target_id, body["user"]["id"], value)
        thumb = "👍" if value == "up" else "👎"
        respond(text=f"Thanks, your {thumb} is saved for the next model refresh.",
                response_type="ephemeral", replace_original=False)
    return record
