"""``hirebot jobpost TITLE [--n N] [--seed S] [--stream] [--json] [--model DIR]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.services.errors import UserError
from bot.services.versions import load_generator


def cmd_jobpost(args: argparse.Namespace, settings: Settings) -> int:
    from models.generation.generator import TitleError, parse_title

    try:
        parse_title(args.title)
    except TitleError as exc:
        raise UserError(str(exc)) from None
    if not 1 <= args.n <= 20:
        raise UserError("--n must be between 1 and 20.")
    if not 16 <= args.max_new_tokens <= 1000:
        raise UserError("--max-new-tokens must be between 16 and 1000.")
    generator = load_generator(settings, args.model)
    for i in range(args.n):
        seed = args.seed + i
        if args.stream and not args.json:
            printer = _StreamPrinter()
            draft = generator.write(args.title, seed=seed, max_new_tokens=args.max_new_tokens,
                                    on_text=printer)
            printer.close()
        else:
            draft = generator.write(args.title, seed=seed, max_new_tokens=args.max_new_tokens)
        if args.json:
            print(json.dumps(draft.as_json(), ensure_ascii=False))
        elif not args.stream:
            if args.n > 1:
                print(f"--- draft {i + 1} of {args.n} (seed {seed}) ---")
            print(draft.text)
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
                         help='job title, optionally with context: "Data Scientist, remote"')
    jobpost.add_argument("--n", type=int, default=1, help="number of drafts")
    jobpost.add_argument("--seed", type=int, default=0)
    jobpost.add_argument("--max-new-tokens", type=int, default=400)
    jobpost.add_argument("--stream", action="store_true", help="print text as it is generated")
    jobpost.add_argument("--json", action="store_true", help="one JSON object per draft")
    jobpost.add_argument("--model", type=Path, help="generator folder (default: the setting)")
    jobpost.set_defaults(func=cmd_jobpost)
