"""Drafts for a blind grading (docs/jd_grading): 20 held-out titles the evaluation does not use,
this release's best-of-3 draft for each and the previous release's free-writing draft for every
other one, shuffled; the key (which system wrote which) goes to a separate file.

    .venv/bin/python bench/grading_drafts.py --out docs/jd_grading --key /tmp/key.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for drafts.md")
    parser.add_argument("--key", type=Path, required=True, help="where the key JSON goes")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    from models.common.embeddings import FastEmbedder
    from models.common.occupations import OccupationResolver
    from models.generation.evaluation import choose_titles
    from models.generation.generator import JobPostGenerator
    from models.generation.postings import load_public_corpus
    from models.generation.sampling import Decoding

    corpus = load_public_corpus(args.shared)
    titles = choose_titles(corpus.held_out, 60, seed=0)[40:60]  # not the evaluation's 40
    generator = JobPostGenerator.load()
    generator.resolver = OccupationResolver.load(FastEmbedder())
    items = []
    for i, title in enumerate(titles):
        new = generator.write_drafts(title.replace(";", ","), seed=i, n=3)[0]
        items.append({"kind": "new", "title": title, "text": new.text})
        if i % 2 == 0:
            old = generator.write_batch([(title, "")], seeds=[i], max_new_tokens=400,
                                        decoding=Decoding.free())[0]
            items.append({"kind": "old", "title": title, "text": old.text})
    random.Random(7).shuffle(items)
    key, out = {}, ["# Job descriptions to grade", ""]
    for n, item in enumerate(items, 1):
        key[f"D{n:02d}"] = item["kind"]
        out += [f"## D{n:02d} — requested title: {item['title']}", "", "```", item["text"],
                "```", ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "drafts.md").write_text("\n".join(out))
    args.key.write_text(json.dumps(key, indent=1))
    print(f"{len(items)} drafts for {len(titles)} titles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
