"""Slack listeners only: one module per command, event or action group, each with
``register(app, bot)``. They ack at once and hand the work to the ``bot.slack.bot.HireBot``
they are given (no global lookup)."""

from __future__ import annotations

from handlers import (
    app_home,
    app_mention,
    file_share,
    hirebot_command,
    jd_actions,
    jobpost_command,
    message,
    screen_command,
    verdict_actions,
)

#: Registration order matters for Bolt (first match wins): specific message subtypes first,
#: then plain messages, then the catch-all that acks every other message subtype.
MODULES = (jobpost_command, screen_command, hirebot_command, file_share, message, app_mention,
           app_home, jd_actions, verdict_actions)


def register_all(app, bot) -> None:
    for module in MODULES:
        module.register(app, bot)
