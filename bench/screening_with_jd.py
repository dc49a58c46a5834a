"""Screening throughput with a JD (role-aware: category + matcher) vs without (category only).

The issue asks that screening against a JD keep at least 0.8x the CVs/s of screening without
one. Both paths run in this process on the same PDFs through ``ModelService.screen`` (the
service both front ends call): file bytes -> reader -> screening model, and with a JD also
the matcher (the screening model's CV vector reused plus a digest line of the skills past it,
ESCO skills, the pairwise scorer) and the pooling. Models are loaded and warmed up first;
each path then runs ``--rounds`` times, alternating, and the best round counts.

Usage::

    .venv/bin/python bench/screening_with_jd.py [--limit 48] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_SHARED = Path(os.environ.get("HIREBOT_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))
JD = """Senior Accountant
We are looking for a senior accountant to run month-end close, prepare financial statements
and reconcile accounts. Requirements: 5+ years of accounting; Microsoft Excel; bookkeeping;
financial reporting; tax; audit; SAP experience is a plus."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdf-dir", type=Path,
                        default=DEFAULT_SHARED / "resume_docs" / "kaggle_livecareer_pdf")
    parser.add_argument("--limit", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from bot.config import Settings
    from bot.services.model_service import ModelService

    files = sorted(args.pdf_dir.glob("*/*.pdf"))[: args.limit]
    if not files:
        raise SystemExit(f"no PDFs under {args.pdf_dir}/*/")
    blobs = [(f.name, f.read_bytes()) for f in files]
    with tempfile.TemporaryDirectory() as tmp:
        service = ModelService(Settings(data_dir=Path(tmp), match_generated_jd=False))
        started = time.perf_counter()
        warm = service.read_upload(*blobs[0])
        service.screen("Accountant", warm)
        service.screen("Accountant", warm, JD, "thread")
        load_s = time.perf_counter() - started

        def run(with_jd: bool) -> float:
            t0 = time.perf_counter()
            for name, data in blobs:
                docs = service.read_upload(name, data)
                if with_jd:
                    service.screen("Senior Accountant", docs, JD, "thread")
                else:
                    service.screen("Senior Accountant", docs)
            return len(blobs) / (time.perf_counter() - t0)

        without, with_jd = [], []
        for _ in range(args.rounds):
            without.append(run(False))
            with_jd.append(run(True))
    report = {"cvs": len(blobs), "rounds": args.rounds, "load_and_warm_up_s": round(load_s, 1),
              "cvs_per_s_without_jd": round(max(without), 3),
              "cvs_per_s_with_jd": round(max(with_jd), 3),
              "ratio": round(max(with_jd) / max(without), 3), "goal_ratio": 0.8}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{len(blobs)} CVs, one at a time, best of {args.rounds} rounds")
        print(f"  without a JD (category only): {report['cvs_per_s_without_jd']:.2f} CVs/s")
        print(f"  with a JD (category + matcher): {report['cvs_per_s_with_jd']:.2f} CVs/s")
        print(f"  ratio {report['ratio']:.2f} (goal >= 0.8)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
