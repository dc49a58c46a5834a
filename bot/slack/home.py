"""``/hirebot status``, the refresh summary and the App Home: what the bot reports of itself."""

from __future__ import annotations

from bot.services.refresh import format_run_time, last_refresh
from bot.services.status import metrics_text, status_report
from bot.slack import format as fmt
from models.common.registry import KINDS


def _queue_line(work: dict) -> str:
    if work.get("broker") == "celery":  # the workers' queues, read from Redis
        lengths = work.get("queues") or {}
        waiting = ", ".join(f"{n} {q}" for q, n in lengths.items()) or "queue unreachable"
        return f"• work queues (hirebot worker processes): {waiting} waiting"
    return (f"• work queue: {work['queued']} waiting, "
            f"{'running ' + work['running'] if work['running'] else 'idle'} "
            f"(capacity {work['capacity']}; {work['done']} done, {work['failed']} failed)")


def status_text(bot) -> str:  # noqa: ANN001 - the HireBot
    report = status_report(bot.settings, bot.models, bot.store, bot.queue)
    lines = ["*hirebot status*"]
    for card in report["models"]:
        metrics = metrics_text(card)
        lines.append(f"• {card['model']}: version `{card['version']}`"
                     + (f" — {metrics}" if metrics else ""))
    lines.append(_queue_line(report["queue"]))
    counts = report["counts"]
    lines.append(f"• {counts['jobposts']} JDs written ({counts['approved_jobposts']} "
                 f"approved), {counts['screenings']} CVs screened, {counts['feedback']} "
                 f"feedback votes; team data for refreshes: {counts['team_postings']} added "
                 f"postings, {counts['labelled_cvs']} labelled CVs, {counts['match_votes']} "
                 "votes on matches")
    return "\n".join(lines)


def refresh_status_text(bot) -> str:  # noqa: ANN001
    lines = ["*Model refreshes*"]
    for kind in KINDS:
        active, run = last_refresh(bot.settings, kind)
        if run is None:
            lines.append(f"• {kind}: no refresh yet (active `{active}`)")
            continue
        decision = fmt.DECISION_WORDS.get(run["status"], run["status"])
        lines.append(f"• {kind}: {format_run_time(run['started'])} — {decision}; active "
                     f"`{active}`")
        if run.get("reason"):
            lines.append(f"   {fmt.escape(run['reason'])[:300]}")
    return "\n".join(lines)


def home_view(bot) -> dict:  # noqa: ANN001
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "hirebot"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": status_text(bot)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": refresh_status_text(bot)}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": bot.help_text()}},
    ]
    return {"type": "home", "blocks": blocks}
