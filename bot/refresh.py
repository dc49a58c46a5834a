"""Entry points kept at their old import path: ``python -m bot.refresh KIND`` (the training
process every refresh starts) and ``bot.refresh:scheduled_refresh`` (the job reference stored in
existing databases' schedules). An entry point, like ``bot/cli``: it sits above every layer."""

from __future__ import annotations

import sys

from bot.services.refresh_child import main


def scheduled_refresh(kind: str) -> dict:
    """The schedules' job function: a refresh whose report goes to the admin channel."""
    from bot.config import get_settings
    from bot.services.refresh import spawn_refresh
    from bot.slack.refresh_report import admin_reporter  # not in the training process

    settings = get_settings()
    return spawn_refresh(kind, settings, reporter=admin_reporter(settings))


if __name__ == "__main__":
    sys.exit(main())
