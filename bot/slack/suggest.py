"""A CV uploaded with "suggest" in its message: the roles it fits best and a JD for the best
one, posted in the upload's thread (``bot.services.suggest`` does the work)."""

from __future__ import annotations

import re

from slack_sdk import WebClient

from bot.jobs import JobSpec
from bot.services.screening import FetchError
from bot.services.suggest import suggest
from bot.slack import format as fmt

SUGGEST_WORD = re.compile(r"(?<![\w-])suggest(?![\w-])", re.IGNORECASE)
WORKING = "Reading the CV and writing a JD for the role it fits best…"
FAULT = "Something went wrong while suggesting roles for this CV; nothing was kept. Try again."


def wants_suggestion(text: str) -> bool:
    return bool(SUGGEST_WORD.search(text))


def suggestion_text(name: str, result: dict) -> str:
    roles = "\n".join(f"• {fmt.escape(r['role'])}: {r['score']:.2f}" for r in result["roles"])
    must = ", ".join(result["must"]) or "none found"
    jd = result["jd"]
    lines = [f":bulb: *{fmt.escape(name)}*: roles this CV fits best", roles, "",
             f"*A JD for {fmt.escape(jd['title'])}* asking for the CV's skills "
             f"({fmt.escape(must)}); the matcher rates it {jd['match']:.2f} for this CV, best "
             f"of {1 + len(result['other_drafts_match'])} drafts:", "", fmt.escape(jd["text"])]
    if jd["grounded_on"]:
        lines += ["", f"_{fmt.escape(jd['grounded_on'])}_"]
    return "\n".join(lines)


def queue_suggestion(bot, client: WebClient, channel: str, message_ts: str,
                     file_ids: list[str]) -> None:
    """One worker job: fetch the first file, suggest, post; the file is marked done."""
    bot._submit(client, channel, message_ts, JobSpec(
        "suggest", f"{channel}:{message_ts}",
        {"channel": channel, "message_ts": message_ts, "file_ids": file_ids}))


def run_suggestion(bot, client: WebClient, *, channel: str, message_ts: str,
                   file_ids: list[str]) -> None:
    """On a worker: the job ``queue_suggestion`` queued."""
    from models.screening.documents import ParsedDocument

    try:
        fetched = bot._fetch(client, file_ids[0])
    except FetchError as exc:
        bot._post(client, channel, f":warning: {fmt.escape(exc.message)}", thread_ts=message_ts)
        return
    documents = bot.models.read_upload(fetched.name, fetched.data)
    if len(documents) != 1 or not isinstance(documents[0], ParsedDocument):
        reason = (documents[0].message if len(documents) == 1 else
                  "this ZIP holds no CV." if not documents else
                  "suggest reads one CV and this ZIP holds several: upload one.")
        bot._post(client, channel, f":warning: *{fmt.escape(fetched.name)}*: "
                  f"{fmt.escape(reason)}", thread_ts=message_ts)
    else:
        extra = len(file_ids) - 1
        bot._post(client, channel, WORKING + (
            f" (suggest reads one CV: the other {extra} file{'s' * (extra > 1)} of this "
            "message were not read; upload them one by one)" if extra else ""),
            thread_ts=message_ts)
        result = suggest(bot.models, documents[0].text).as_dict()
        bot._post(client, channel, fmt.truncate(suggestion_text(fetched.name, result)),
                  thread_ts=message_ts)
    for file_id in file_ids:
        bot.store.finish_file(channel, message_ts, file_id, "done")


def suggestion_failed(bot, client: WebClient, exc: Exception, *, channel: str,
                      message_ts: str, **_: object) -> None:
    bot._post(client, channel, FAULT, thread_ts=message_ts)
