"""A bulk upload on several workers: split into chunks, screened in parallel, gathered once.

With Celery (``HIREBOT_BROKER_URL``) a ZIP of hundreds of CVs, or a message of many files, is
not one long job: the job that takes it (``plan``) lists the ZIP's members and queues one
``screen_chunk`` job per ``HIREBOT_BULK_CHUNK_CVS`` members on the ``bulk`` queue. Each chunk
downloads the upload again and reads only its members (CV text never goes through the
broker), screens them, and keeps its verdicts and results in one transaction
(``bot.job_ledger``). The chunk that completes the set queues the ``screen_gather`` job,
which posts the one ranked table and CSV. Every step is idempotent: a chunk or gather
delivered twice finds its work done.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.job_ledger import JobLedger
from bot.jobs import BULK, JobSpec
from bot.leases import holder_id
from bot.services.screening import FetchError, ScreeningBatch
from bot.slack import format as fmt

logger = logging.getLogger(__name__)


def _ledger(bot) -> JobLedger:  # noqa: ANN001 - HireBot (no import cycle)
    return JobLedger(bot.store, holder_id())


def plan(bot, client: WebClient, spec: JobSpec) -> bool:  # noqa: ANN001
    """Queue the chunks of a bulk upload; False when it is small enough for one job."""
    from bot.slack.bot import _is_zip
    from models.screening.documents import zip_member_count

    args, size = spec.args, bot.settings.bulk_chunk_cvs
    files = [tuple(f) for f in args["files"]]
    uploads = {file_id: bot._file_info(client, file_id) for _, file_id in files}
    zips = [f for f in files if not isinstance(uploads[f[1]], str) and _is_zip(uploads[f[1]])]
    if not zips and len(files) <= size:
        return False
    chunks: list[list[list]] = []
    loose: list[list] = []
    expected = 0
    for message_ts, file_id in files:
        if (message_ts, file_id) not in zips:
            loose.append([message_ts, file_id, None])
            expected += 1
            continue
        try:
            count = zip_member_count(bot._fetch(client, file_id).data)
        except FetchError:
            count = 0
        if count == 0:  # unreadable: one chunk reads it whole and reports why
            chunks.append([[message_ts, file_id, None]])
            continue
        expected += count
        chunks += [[[message_ts, file_id, [start, min(start + size, count)]]]
                   for start in range(0, count, size)]
    chunks += [loose[i:i + size] for i in range(0, len(loose), size)]
    progress = bot._post(client, args["channel"], f"Screening {expected} CVs for "
                         f"{fmt.escape(args['role'])} in {len(chunks)} parts…",
                         thread_ts=args["thread_ts"])
    common = {**args, "batch_id": spec.key, "chunks": len(chunks), "progress_ts": progress,
              "expected": expected}
    for index, items in enumerate(chunks):
        if not bot.queue.submit(JobSpec("screen_chunk", f"{spec.key}:{index}",
                                        {**common, "chunk": index, "items": items},
                                        queue=BULK)):
            raise RuntimeError("the job queue refused a chunk")  # -> the fault line
    return True


def run_chunk(bot, client: WebClient, spec: JobSpec) -> None:  # noqa: ANN001
    """Screen one chunk and keep its results; the last one queues the gather job."""
    args, ledger = spec.args, _ledger(bot)
    batch_id, chunk = args["batch_id"], args["chunk"]
    if not ledger.chunk_done(batch_id, chunk):
        batch = bot.screening.screen_part(
            args["channel"], args["thread_ts"], [tuple(i) for i in args["items"]],
            args["role"], args["jd_text"], fetch=lambda file_id: bot._fetch(client, file_id),
            record=False)
        keep(bot, batch_id, chunk, args, batch.results, batch.sources, batch.had_zip)
    kept = ledger.kept(batch_id)  # counted after the commit: the last chunk sees them all
    _after_chunk(bot, client, args, kept)


def keep(bot, batch_id: str, chunk: int, args: dict, results: list, sources: list,  # noqa: ANN001
         had_zip: bool) -> None:
    """Record a chunk's verdicts and keep its results, in one transaction, by one copy."""
    ledger = _ledger(bot)
    with bot.store.unit():  # the verdicts and the chunk's results: both kept, or neither
        if ledger.claim_chunk(batch_id, chunk):  # else another copy recorded it already
            ids = bot.screening.record(args["channel"], args["thread_ts"], results)
            ledger.fill_chunk(batch_id, chunk, {
                "results": [_public(r) for r in results], "ids": ids,
                "sources": [list(s) for s in sources], "had_zip": had_zip})


def chunk_failed(bot, client: WebClient, spec: JobSpec) -> None:  # noqa: ANN001
    """A chunk that could not be screened becomes error lines in the table (the batch is
    still gathered and the other chunks' verdicts shown)."""
    args = spec.args
    items = args["items"]
    errors = [{"file": f"part {args['chunk'] + 1} of {args['chunks']}"
                       + (f" (ZIP members {m[0] + 1}-{m[1]})" if (m := items[0][2]) else ""),
               "role": args["role"],
               "error": {"code": "screening_failed",
                         "message": "These CVs could not be screened; upload them again."}}]
    keep(bot, args["batch_id"], args["chunk"], args, errors, [items[0][:2]], True)
    _after_chunk(bot, client, args, _ledger(bot).kept(args["batch_id"]))


def _after_chunk(bot, client: WebClient, args: dict, kept: int) -> None:  # noqa: ANN001
    if kept < args["chunks"]:
        if args.get("progress_ts"):
            bot._update(client, args["channel"], args["progress_ts"],
                        f"Screening {args['expected']} CVs for {fmt.escape(args['role'])}: "
                        f"{kept} of {args['chunks']} parts done…")
        return
    gather_args = {k: args[k] for k in ("channel", "thread_ts", "role", "files", "batch_id",
                                        "chunks", "progress_ts")}
    if not bot.queue.submit(JobSpec("screen_gather", args["batch_id"], gather_args,
                                    queue=BULK)):
        raise RuntimeError("the job queue refused the gather job")


def gather(bot, client: WebClient, spec: JobSpec) -> None:  # noqa: ANN001
    """Post the whole batch once: one ranked table and CSV (or one reply per CV)."""
    args, ledger = spec.args, _ledger(bot)
    parts = ledger.chunks(args["batch_id"])
    if len(parts) < args["chunks"]:  # a chunk copy queued this early; the last one will again
        logger.warning("gather before every chunk was kept (%d of %d)", len(parts),
                       args["chunks"])
        return
    batch = ScreeningBatch(had_zip=any(p["had_zip"] for p in parts))
    for part in parts:
        batch.results += part["results"]
        batch.ids += part["ids"]
        batch.sources += [tuple(s) for s in part["sources"]]
    files = [tuple(f) for f in args["files"]]
    shown = {"ts": args.get("progress_ts"), "total": len(batch.results)}
    bot.deliver(client, args["channel"], args["thread_ts"], args["role"], files, batch, shown)
    bot.screening.finish(args["channel"], files)  # the results stay until the purge




def _public(result: dict) -> dict:
    """A result as the table and CSV show it, with no CV text: the model-side fields
    (``_features`` and the like, already recorded as the verdict's derived row) and the
    evidence's snippets (lines quoted from the CV; the table shows skills only) stay out."""
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    if isinstance(public.get("evidence"), dict):
        public["evidence"] = {k: v for k, v in public["evidence"].items() if k != "snippets"}
    return public
