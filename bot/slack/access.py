"""Who may do what, where: screening only in allowed channels (and DMs when allowed), admin
commands only for admins. Every refusal names who can change it and the setting to change, so
a refused user knows whom to ask instead of guessing.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings

logger = logging.getLogger(__name__)


class Gate:
    def __init__(self, settings: Settings):
        self.settings = settings

    def admins(self) -> str:
        """The admins as Slack mentions, or who to ask when there are none."""
        users = self.settings.admin_users
        if not users:
            return "whoever runs hirebot (no admins are set: `HIREBOT_ADMIN_USERS`)"
        return ", ".join(f"<@{u}>" for u in users)

    def is_admin(self, user: str) -> bool:
        return user in self.settings.admin_users

    def screening_refusal(self, channel: str, channel_type: str | None = None) -> str | None:
        """Why CVs may not be screened here, or None when they may."""
        if channel_type in {"im", "mpim"} or (channel_type is None and channel.startswith("D")):
            if self.settings.dm_screening:
                return None
            return ("CVs can't be screened in direct messages here. "
                    f"{self.admins()} can allow it with `HIREBOT_DM_SCREENING=true`, or "
                    "use a channel where screening is on.")
        allowed = self.settings.allowed_channels
        if not allowed or channel in allowed:
            return None
        return (f"CVs can't be screened in this channel. {self.admins()} can enable it by "
                f"adding `{channel}` to `HIREBOT_ALLOWED_CHANNELS`; screening is on in "
                + ", ".join(f"<#{c}>" for c in allowed) + ".")

    def admin_refusal(self, user: str, what: str) -> str | None:
        """Why ``user`` may not ``what`` (an admin command), or None for an admin."""
        if self.is_admin(user):
            return None
        return f"Sorry, only hirebot admins ({self.admins()}) can {what}."

    def refused_upload(self, client: WebClient, event: dict) -> bool:
        """An upload where screening is off: tell the uploader privately; True if refused."""
        channel = event["channel"]
        refusal = self.screening_refusal(channel, event.get("channel_type"))
        if refusal is None:
            return False
        try:
            client.chat_postEphemeral(channel=channel, user=event.get("user") or "",
                                      text=refusal, thread_ts=event.get("thread_ts"))
        except SlackApiError as exc:
            logger.warning("chat.postEphemeral failed: %s", exc.response.get("error"))
        return True
