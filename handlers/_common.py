"""Small helpers the listeners share."""

from __future__ import annotations


def ack_now(ack) -> None:
    """The ack half of a lazy listener: Slack needs an answer within 3 seconds."""
    ack()


def action_value(body: dict) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
