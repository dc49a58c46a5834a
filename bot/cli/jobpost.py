"""``hirebot jobpost TITLE [--n N] [--seed S] [--stream] [--json] [--model DIR]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.services.audit_trail import record_cli_jd
from bot.services.company import current_profile
from bot.services.errors import UserError
from bot.services.jobposts import JobPostDesk
from bot.services.versions import load_generator
from bot.storage import Store


def cmd_jobpost(args: argparse.Namespace, settings: Settings) -> int:
    from models.generation.request import SYNTAX, TitleError, parse_request

    try:
        parse_request(args.title)
    except TitleError as exc:
        message = str(exc) if "/jobpost" in str(exc) else f"{exc} Usage: {SYNTAX}"
        raise UserError(message.replace("`/jobpost ", "`hirebot jobpost ")) from None
    if not 1 <= args.n <= 8:
        raise UserError("--n must be between 1 and 8.")
    if not 16 <= args.max_new_tokens <= 1000:
        raise UserError("--max-new-tokens must be between 16 and 1000.")
    generator = load_generator(settings, args.model)
    store = Store.open(settings)
    try:
        profile = current_profile(settings, store)
        team = JobPostDesk.team_jds_of(store)
    finally:
        store.close()
    printer = _StreamPrinter() if args.stream and not args.json else None
    drafts = generator.write_drafts(args.title, seed=args.seed, n=args.n,
                                    max_new_tokens=args.max_new_tokens, on_text=printer,
                                    profile=profile, team=team)
    if printer is not None:
        printer.close()
    record_cli_jd(settings, parse_request(args.title).title, generator.model_info)
    for i, draft in enumerate(drafts):
        if args.json:
            print(json.dumps(draft.as_json(), ensure_ascii=False))
            continue
        if len(drafts) > 1:
            print(f"--- draft {i + 1} of {len(drafts)} (score {draft.score:.3f}) ---")
        if printer is None or i > 0:  # the streamed draft is on screen already
            print(draft.text)
            print()
        for note in (draft.grounded_on, draft.inclusive):
            if note:
                print(f"· {note}")
        print()
    return 0


class _StreamPrinter:
    """Prints each snapshot's new suffix, so the terminal shows the draft as it grows."""

    def __init__(self) -> None:
        self.shown = ""

    def __call__(self, snapshot: str) -> None:
        if snapshot.startswith(self.shown):
            sys.stdout.write(snapshot[len(self.shown):])
        else:  # the scrubber rewrote an earlier line: start the draft again
            sys.stdout.write("\n" + snapshot)
        sys.stdout.flush()
        self.shown = snapshot

    def close(self) -> None:
        sys.stdout.write("\n\n")
        sys.stdout.flush()


def add_parsers(sub) -> None:
    jobpost = sub.add_parser("jobpost", help="write a job description from a title")
    jobpost.add_argument("title",
                         help='job title, with options: "Data Scientist; must: Python, SQL; '
                              'nice: Spark; location: Berlin; remote"')
    jobpost.add_argument("--n", type=int, default=1,
                         help="drafts written in one batch, printed best-ranked first")
    jobpost.add_argument("--seed", type=int, default=0)
    jobpost.add_argument("--max-new-tokens", type=int, default=600)
    jobpost.add_argument("--stream", action="store_true", help="print text as it is generated")
    jobpost.add_argument("--json", action="store_true", help="one JSON object per draft")
    jobpost.add_argument("--model", type=Path, help="generator folder (default: the setting)")
    jobpost.set_defaults(func=cmd_jobpost)
