"""What the admins are told: a refresh's decision, its figures and its plot, posted to the
admin channel, and a team label held back for their confirmation."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.format import refresh_report_text

logger = logging.getLogger(__name__)


def post_report(outcome, settings: Settings) -> bool:
    """Post one outcome (if an admin channel and a bot token are set).

    A skipped refresh (nothing new to learn) is not posted; the App Home and ``/hirebot
    status`` still show it. Never raises: the decision is already made and recorded.
    """
    o = outcome if isinstance(outcome, dict) else outcome.to_json()
    token = settings.secret("slack_bot_token")
    if not (settings.admin_channel and token) or o.get("decision") == "skipped":
        return False
    try:
        client = WebClient(token=token, base_url=settings.slack_api_url)
        text = refresh_report_text(o)
        png = o.get("png")
        if png and Path(png).is_file():
            client.files_upload_v2(channel=settings.admin_channel, file=png,
                                   filename=Path(png).name, initial_comment=text,
                                   title=f"{o.get('kind')} refresh {o.get('run_id', '')}")
        else:
            client.chat_postMessage(channel=settings.admin_channel, text=text)
    except Exception as exc:  # noqa: BLE001 - Slack errors, network errors, a vanished PNG
        error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
        logger.error("could not post the refresh report: %s", error or type(exc).__name__)
        return False
    return True


def tell_admins(settings: Settings, text: str) -> bool:
    """A note for the admins (a flagged team label): the admin channel, else a DM to each
    admin. Never raises: the label is already held back whether or not the note arrives."""
    token = settings.secret("slack_bot_token")
    targets = [settings.admin_channel] if settings.admin_channel else settings.admin_users
    if not (token and targets):
        logger.info("a note for the admins was not sent: no admin channel or admin users")
        return False
    client = WebClient(token=token, base_url=settings.slack_api_url)
    sent = False
    for target in targets:
        try:
            client.chat_postMessage(channel=target, text=text)
            sent = True
        except Exception as exc:  # noqa: BLE001 - Slack errors, network errors
            error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
            logger.error("could not tell an admin: %s", error or type(exc).__name__)
    return sent


def admin_reporter(settings: Settings):
    """The reporter a refresh started from Slack, the CLI or a schedule is given."""
    return partial(post_report, settings=settings)
