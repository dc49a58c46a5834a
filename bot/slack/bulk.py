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

from bot.job_ledger import RUN, JobLedger
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
    kept = None
    if not ledger.chunk_done(batch_id, chunk):
        batch = bot.screening.screen_part(
            args["channel"], args["thread_ts"], [tuple(i) for i in args["items"]],
            args["role"], args["jd_text"], fetch=lambda file_id: bot._fetch(client, file_id),
            record=False)
        with bot.store.unit():  # the verdicts and the chunk's results: both kept, or neither
            if ledger.chunk_done(batch_id, chunk):  # another copy finished meanwhile
                kept = None
            else:
                ids = bot.screening.record(args["channel"], args["thread_ts"], batch.results)
                kept = ledger.keep_chunk(batch_id, chunk, {
                    "results": [_public(r) for r in batch.results], "ids": ids,
                    "sources": [list(s) for s in batch.sources], "had_zip": batch.had_zip})
    if kept is None:
        kept = len(ledger.chunks(batch_id))
    if kept < args["chunks"]:
        if args.get("progress_ts"):
            bot._update(client, args["channel"], args["progress_ts"],
                        f"Screening {args['expected']} CVs for {fmt.escape(args['role'])}: "
                        f"{kept} of {args['chunks']} parts done…")
        return
    gather_args = {k: args[k] for k in ("channel", "thread_ts", "role", "files", "batch_id",
                                        "chunks", "progress_ts")}
    if not bot.queue.submit(JobSpec("screen_gather", batch_id, gather_args, queue=BULK)):
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
    bot.screening.finish(args["channel"], files)
    ledger.drop_batch(args["batch_id"])


def first_failure(bot, spec: JobSpec) -> bool:  # noqa: ANN001
    """True for the first failed chunk of a batch (only it tells the thread)."""
    return _ledger(bot).begin(f"fault:{spec.args['batch_id']}", 86400) == RUN


def _public(result: dict) -> dict:
    """A result as the table and CSV show it: the model-side fields (``_features`` and the
    like, already recorded as the verdict's derived row) stay out of the database."""
    return {k: v for k, v in result.items() if not k.startswith("_")}
