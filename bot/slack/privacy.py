"""The admin commands on people's data: ``/hirebot forget <file link | @user>`` and
``/hirebot flagged [confirm KEY | confirm all]`` (team labels that contradict the classifier).

They live beside ``bot.py`` rather than in it so that file stays small; each takes the bot for
its settings, store and gate, and returns the ephemeral reply.
"""

from __future__ import annotations

import logging

from bot.services.errors import UserError
from bot.services.forget import forget, forget_text, parse_target
from bot.slack import format as fmt
from bot.slack.access import Gate

logger = logging.getLogger(__name__)


def forget_reply(bot, user: str, text: str) -> str:
    """Erase a candidate's records; admins only. Says what went, per table."""
    gate = Gate(bot.settings)
    if refusal := gate.admin_refusal(user, "make hirebot forget a candidate"):
        return refusal
    try:
        target = parse_target(text)
    except UserError as exc:
        return str(exc)
    counts = forget(bot.store, target)
    logger.info("forget by %s: %s", user, counts)  # counts only: no names, no file ids
    return forget_text(target, counts)


def flagged_reply(bot, user: str, words: list[str]) -> str:
    """List the labels waiting for an admin, or confirm one (``confirm KEY``) or all."""
    from models.screening.taxonomy import category_name

    gate = Gate(bot.settings)
    if refusal := gate.admin_refusal(user, "review flagged team labels"):
        return refusal
    if words[:1] == ["confirm"]:
        key = None if words[1:2] in (["all"], []) else words[1]
        if key is None and words[1:2] != ["all"]:
            return "Which one? `/hirebot flagged confirm KEY` or `/hirebot flagged confirm all`."
        confirmed = bot.store.confirm_label(key)
        if not confirmed:
            return f"No flagged label with key `{fmt.escape(key or '')}`."
        return f"Confirmed {confirmed} label(s): they train the next classifier refresh."
    rows = bot.store.flagged_labels()
    if not rows:
        return "No flagged labels: every team label agrees with the classifier or is confirmed."
    lines = [f"*{len(rows)} flagged label(s)* (kept out of training until confirmed):"]
    for r in rows[:20]:
        lines.append(f"• `{r['key'][-8:]}` {fmt.escape(category_name(r['label']))} "
                     f"({r['source']}): {fmt.escape(r['flag_reason'] or '')}")
    lines.append("Confirm with `/hirebot flagged confirm KEY` (or `all`); `hirebot data "
                 "clear --cvs` drops team labels.")
    return "\n".join(lines)
