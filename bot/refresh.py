"""Entry points kept at their old import path: ``python -m bot.refresh KIND [--force]`` (the
training process every refresh starts) and ``bot.refresh:scheduled_refresh`` (the job reference
stored in existing databases' schedules). They sit just above ``bot/slack`` (below the listeners
and the CLI); the training process's path imports only ``bot.services.refresh_child``, so it
loads no Slack code.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from bot.services.refresh_child import run_child

    parser = argparse.ArgumentParser(prog="python -m bot.refresh")
    parser.add_argument("kind", choices=("classifier", "generator", "matcher"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    return run_child(args.kind, force=args.force)


def scheduled_refresh(kind: str) -> dict:
    """The schedules' job function: a refresh whose report goes to the admin channel (the
    classifier's schedule refreshes the matcher after it, see ``refresh_kinds``)."""
    from bot.config import get_settings
    from bot.services.refresh import refresh_kinds, spawn_refresh
    from bot.slack.refresh_report import admin_reporter

    settings = get_settings()
    if settings.broker_url is not None:  # training runs on a worker of the refresh queue
        import time

        from bot.celery_queue import CeleryQueue
        from bot.jobs import REFRESH, JobSpec

        queue = CeleryQueue(settings)
        try:
            queued = queue.submit(JobSpec(
                "refresh", f"scheduled:{kind}:{int(time.time())}",
                {"kinds": refresh_kinds([kind])}, queue=REFRESH))
        finally:
            queue.stop()  # its broker connection is not kept between schedules
        return {"kind": kind, "decision": "queued" if queued else "failed",
                "reason": "" if queued else "the job queue is unreachable"}
    outcomes = [spawn_refresh(k, settings, reporter=admin_reporter(settings))
                for k in refresh_kinds([kind])]
    return outcomes[0]


if __name__ == "__main__":
    sys.exit(main())
