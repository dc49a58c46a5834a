"""JD latency as a recruiter feels it: time to the first text in Slack, and to the whole JD.

One run, same weights, same titles, batch 1, on this machine:

- **hirebot**: the grounded writer (``JobPostGenerator.write_drafts``, occupation resolver, copy
  distribution, known-word and sentence-end rules), streaming whole lines as Slack shows them;
  also best-of-n (``--drafts``, the ``jobpost_drafts`` setting) written in one batch.
- **naive**: the lineage's ``model.generate(top_k=40, top_p=0.9)`` in fp32 for the same number of
  new tokens, which can show nothing until it returns.

"First text" is when the first complete line would be posted (the bot posts whole lines only).
Model and index loading are outside the timings (the bot loads them once, at start-up).

    .venv/bin/python bench/jobpost_latency.py [--repeats 3] [--drafts 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "2")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TITLES = ["Data Scientist; must: Python, SQL; location: Berlin; remote", "Forklift Operator",
          "Registered Nurse", "Customer Success Manager", "Pastry Chef"]


def grounded(generator, title: str, seed: int, n: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    first: list[float] = []

    def on_text(text: str) -> None:
        if not first and text.strip():
            first.append(time.perf_counter() - start)

    drafts = generator.write_drafts(title, seed=seed, n=n, on_text=on_text)
    whole = time.perf_counter() - start
    return (first[0] if first else whole), whole, drafts[0].new_tokens


def naive(generator, title: str, seed: int, tokens: int) -> float:
    start = time.perf_counter()
    generator.naive_generate([(title.split(";")[0], "")], seed=seed, max_new_tokens=tokens)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--drafts", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from models.common.embeddings import FastEmbedder
    from models.common.occupations import OccupationResolver
    from models.generation.generator import JobPostGenerator

    generator = JobPostGenerator.load()
    generator.resolver = OccupationResolver.load(FastEmbedder())
    generator.write_drafts("Warm Up Cook", seed=99)  # vocabulary, planner, first-call costs
    rows = []
    for title in TITLES:
        firsts, wholes, best_firsts, bests, naives, tokens = [], [], [], [], [], []
        for r in range(args.repeats):
            first, whole, new_tokens = grounded(generator, title, r, 1)
            firsts.append(first)
            wholes.append(whole)
            tokens.append(new_tokens)
            best_first, best_whole, _ = grounded(generator, title, r, args.drafts)
            best_firsts.append(best_first)
            bests.append(best_whole)
            naives.append(naive(generator, title, r, max(new_tokens, 1)))
        rows.append({"title": title.split(";")[0], "first_text_s": statistics.median(firsts),
                     "whole_jd_s": statistics.median(wholes),
                     f"best_of_{args.drafts}_first_text_s": statistics.median(best_firsts),
                     f"best_of_{args.drafts}_s": statistics.median(bests),
                     "naive_generate_s": statistics.median(naives),
                     "sampled_tokens": int(statistics.median(tokens))})
    summary = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "rows": rows,
        "max_first_text_s": max(r["first_text_s"] for r in rows),
        "max_whole_jd_s": max(r["whole_jd_s"] for r in rows),
        "max_best_of_n_first_text_s": max(r[f"best_of_{args.drafts}_first_text_s"]
                                          for r in rows),
        "max_best_of_n_s": max(r[f"best_of_{args.drafts}_s"] for r in rows),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    n = args.drafts
    print(f"{'title':26s} {'first text':>10s} {'whole JD':>9s} {f'first, {n} drafts':>16s} "
          f"{f'{n} drafts':>9s} {'naive':>8s} {'tokens':>7s}")
    for r in rows:
        print(f"{r['title'][:26]:26s} {r['first_text_s']:9.2f}s {r['whole_jd_s']:8.2f}s "
              f"{r[f'best_of_{n}_first_text_s']:15.2f}s {r[f'best_of_{n}_s']:8.2f}s "
              f"{r['naive_generate_s']:7.2f}s {r['sampled_tokens']:7d}")
    print(f"worst first text {summary['max_first_text_s']:.2f} s (goal <= 1 s); worst whole JD "
          f"{summary['max_whole_jd_s']:.2f} s (goal <= 5 s); batch 1, median of "
          f"{args.repeats}; with {n} drafts (the bot's default): first text "
          f"{summary['max_best_of_n_first_text_s']:.2f} s, whole batch "
          f"{summary['max_best_of_n_s']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
