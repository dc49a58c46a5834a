"""👍 / 👎 under a verdict: a label for the next classifier refresh."""

from __future__ import annotations

from bot import slack_format as fmt
from bot.slack_bot import hirebot_of
from handlers._common import ack_now, action_value

ACTIONS = (fmt.VERDICT_UP, fmt.VERDICT_DOWN)


def register(app) -> None:
    def vote(value):
        def record(body, respond):
            screening_id = action_value(body)
            if screening_id is not None:
                hirebot_of(app).feedback("screening", screening_id, body["user"]["id"], value)
                thumb = "👍" if value == "up" else "👎"
                respond(text=f"Thanks, your {thumb} is saved for the next model refresh.",
                        response_type="ephemeral", replace_original=False)
        return record

    app.action(fmt.VERDICT_UP)(ack=ack_now, lazy=[vote("up")])
    app.action(fmt.VERDICT_DOWN)(ack=ack_now, lazy=[vote("down")])
