"""``/hirebot help | status | refresh [classifier|generator|matcher] |
profile [set LINES | clear] | forget <file link | @user> | flagged [confirm KEY|all]``, answered
ephemerally (refresh, forget, flagged and profile changes are for admins)."""

from __future__ import annotations

from bot.slack.bot import KINDS, HireBot
from bot.slack.privacy import flagged_reply, forget_reply
from handlers._common import ack_now

COMMAND = "/hirebot"


def register(app, bot: HireBot) -> None:
    def answer(command, respond):
        raw = (command.get("text") or "").strip()
        words = raw.lower().split()
        if words[:1] == ["profile"]:  # the rest keeps its case and line breaks
            bot.company_profile(command.get("user_id", ""), raw[len("profile"):], respond)
            return
        if words[:1] == ["refresh"]:
            if words[1:2] and words[1] not in KINDS:  # a typo must not start every refresh
                respond(text=f"Which model? `/hirebot refresh {'|'.join(KINDS)}`, or "
                             "`/hirebot refresh` for all of them.", response_type="ephemeral")
                return
            kinds = [w for w in words[1:2] if w in KINDS] or list(KINDS)
            bot.refresh(command.get("user_id", ""), kinds, respond)
            return
        if words[:1] in (["forget"], ["flagged"]):
            user = command.get("user_id", "")
            text = (forget_reply(bot, user, raw[len("forget"):]) if words[0] == "forget"
                    else flagged_reply(bot, user, words[1:]))
            respond(text=text, response_type="ephemeral")
            return
        if words[:1] == ["status"]:
            text = bot.status_text() + "\n" + bot.refresh_status_text()
        else:
            text = bot.help_text()
        respond(text=text, response_type="ephemeral")

    app.command(COMMAND)(ack=ack_now, lazy=[answer])
