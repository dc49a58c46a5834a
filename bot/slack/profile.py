"""``/hirebot profile``: the wording of the company profile replies (the service keeps it)."""

from __future__ import annotations

import re

from bot.config import Settings
from bot.services import company
from bot.services.errors import UserError
from bot.slack.format import escape
from bot.storage import Store

USAGE = ("Admins set it with `/hirebot profile set` and then one `field: value` per line "
         "(Shift+Enter starts a new line): `name`, `about`, `benefits` (split by `;`), "
         "`equal_opportunity`, `location`; this replaces the whole profile set in Slack. "
         "`/hirebot profile clear` forgets it (the file in `HIREBOT_COMPANY_PROFILE_FILE`, if "
         "any, applies again).")
NOT_ADMIN = "Sorry, only hirebot admins can change the company profile."


def profile_reply(settings: Settings, store: Store, user: str, text: str, *,
                  admin: bool) -> str:
    """The answer to ``/hirebot profile TEXT`` (``TEXT``: what follows ``profile``,
    unescaped): ``set`` + ``field: value`` lines, ``clear``, or anything else to show it."""
    words = text.strip().split(maxsplit=1)
    action = words[0].lower() if words else ""
    if action in {"set", "clear"} and not admin:
        return NOT_ADMIN
    if action == "set":
        try:
            company.set_profile_from_text(store, words[1] if len(words) > 1 else "", user)
        except UserError as exc:
            return f"{escape(str(exc))} Nothing was changed.\n{USAGE}"
        return "Saved: new JDs state these facts.\n" + profile_summary(settings, store)
    if action == "clear":
        done = ("Cleared the profile set in Slack." if company.clear_profile(store)
                else "No profile was set in Slack.")
        return done + "\n" + profile_summary(settings, store)
    return profile_summary(settings, store) + "\n" + USAGE


def profile_summary(settings: Settings, store: Store) -> str:
    """Where the profile comes from, each field, what is missing, and a broken file's error."""
    status = company.profile_status(settings, store)
    if status["source"] == "stored":
        who = status["set_by"] or ""
        who = f"<@{who}>" if re.fullmatch(r"[UW][A-Z0-9]+", who) else escape(who) or "an admin"
        where = f" (set by {who})"
    elif status["source"] == "file":
        where = f" (from `{escape(status['file'] or '')}`)"
    else:
        where = ""
    lines = [f"*Company profile*{where}",
             "```\n" + escape(company.profile_text(status["profile"])) + "\n```"]
    if status["problem"]:
        lines.append(":warning: " + escape(status["problem"]))
    return "\n".join(lines)
