"""Generator refresh: continue training the serving GPT-2 on the team's postings, never from zero.

Forgetting is guarded three ways. The team's postings are mixed with *anchor* postings (O*NET
occupation profiles, CC BY 4.0, shipped under ``models/bundled/refresh/``) so each batch still
shows the model general occupations; the learning rate is a tenth of the original schedule's; and
the gate compares bits/char on the anchor's fixed evaluation rows (never trained on, by the
original model either: they are its held-out split) as well as on the team's held-out postings.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.common.paths import BUNDLED_ROOT
from models.generation.postings import Posting, SourceSpec, deduplicate, is_held_out, read_source

logger = logging.getLogger(__name__)

REFRESH_DIR = BUNDLED_ROOT / "refresh"
ANCHOR_FILE = "onet_anchor.jsonl"
ONET = SourceSpec("onet_occupation_profiles.csv", "title", ("description",))
ONET_ATTRIBUTION = (
    "O*NET occupation profiles: this file includes information from the O*NET Database by the "
    "U.S. Department of Labor, Employment and Training Administration (USDOL/ETA), used under "
    "the CC BY 4.0 license (as compiled in the thienanh96/job-recommendation and "
    "reen967/onet_viewer repositories: Occupation Data and task statements). O*NET(R) is a "
    "trademark of USDOL/ETA. hirebot has modified "
    "all or some of this information (whitespace cleaned, split into evaluation and replay "
    "rows). USDOL/ETA has not approved, endorsed, or tested these modifications.")


# ------------------------------------------------------------------------------ anchor set
def build_anchor_set(shared_data: Path, out_dir: Path, *, replay: int = 400,
                     seed: int = 0) -> dict:
    """Write the anchor postings: the generator's held-out O*NET rows and a replay sample."""
    rows = deduplicate(read_source(shared_data / "job_postings", ONET))
    held = [p for p in rows if is_held_out(p)]
    train = [p for p in rows if not is_held_out(p)]
    random.Random(seed).shuffle(train)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / ANCHOR_FILE).open("w", encoding="utf-8") as fh:
        for split, items in (("eval", held), ("replay", train[:replay])):
            for p in items:
                fh.write(json.dumps({"title": p.title, "description": p.description,
                                     "split": split}, ensure_ascii=False) + "\n")
    (out_dir / "ATTRIBUTION.md").write_text(
        "# Anchor postings for generator refreshes\n\n" + ONET_ATTRIBUTION + "\n\n"
        "Made by `hirebot train refresh-data --only generator` from "
        "`../shared/data/job_postings/onet_occupation_profiles.csv`: the rows the bundled "
        "generator held out (`split: eval`, the refresh gate's fixed evaluation set) and "
        f"{min(replay, len(train))} of its training rows (`split: replay`, mixed into every "
        "refresh so the model keeps general occupations).\n")
    return {"eval": len(held), "replay": min(replay, len(train))}


def load_anchor(folder: Path = REFRESH_DIR) -> tuple[list[Posting], list[Posting]]:
    """(evaluation rows, replay rows) of the shipped anchor set."""
    evaluation, replay = [], []
    with (folder / ANCHOR_FILE).open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            posting = Posting(row["title"], row["description"], "onet_anchor")
            (evaluation if row["split"] == "eval" else replay).append(posting)
    return evaluation, replay


# ------------------------------------------------------------------------------ training
@dataclass
class GeneratorRefreshConfig:
    minutes: float = 30.0  # the time budget; the epochs usually end it sooner
    epochs: float = 3.0
    lr: float = 1e-4
    replay_per_team_posting: int = 4
    min_replay: int = 50
    seed: int = 0


def training_mix(team_train: Sequence[Posting], replay: Sequence[Posting],
                 cfg: GeneratorRefreshConfig) -> list[Posting]:
    """Team postings twice, plus anchor postings, so about a third of the rows are the team's."""
    want = max(cfg.min_replay, cfg.replay_per_team_posting * len(team_train))
    rng = random.Random(cfg.seed)
    chosen = list(replay)
    rng.shuffle(chosen)
    mix = [*team_train, *team_train, *chosen[:want]]
    rng.shuffle(mix)
    return mix


def continue_training(active_dir: Path, team_train: Sequence[Posting],
                      anchor_eval: Sequence[Posting], replay: Sequence[Posting],
                      cfg: GeneratorRefreshConfig, *, progress: bool = False):
    """Fine-tune a copy of the serving model; returns (model, tokenizer, TrainResult)."""
    from transformers import GPT2LMHeadModel

    from models.generation.postings import PostingCorpus
    from models.generation.tokenizer import load_tokenizer
    from models.generation.training import GeneratorRecipe, train_generator

    model = GPT2LMHeadModel.from_pretrained(str(active_dir))
    tokenizer = load_tokenizer(active_dir)
    block = min(512, int(model.config.n_positions))
    recipe = GeneratorRecipe(lr=cfg.lr, min_lr_ratio=0.1, warmup_fraction=0.05,
                             weight_decay=0.0, block_size=block, max_steps=0,
                             time_budget_min=cfg.minutes, epochs=cfg.epochs, seed=cfg.seed)
    corpus = PostingCorpus(train=training_mix(team_train, replay, cfg),
                           held_out=list(anchor_eval))
    result = train_generator(model, tokenizer, corpus, recipe, progress=progress, log_every=5)
    return model, tokenizer, result


def gate_figures(folder: Path, anchor_eval: Sequence[Posting], team_eval: Sequence[Posting],
                 prompts: Sequence[str], *, max_new_tokens: int = 200,
                 seed: int = 0, resolver: object | None = None) -> dict:
    """The figures the gate compares, for one model folder, measured the same way for both."""
    from models.generation.evaluation import is_degenerate
    from models.generation.generator import JobPostGenerator
    from models.generation.training import bits_per_char

    # The serving path, on the threads the refresh child was given (one, by default).
    generator = JobPostGenerator.load(folder, decode_threads=0)
    generator.resolver = resolver  # one for both folders (None: the generator loads its own)
    figures = {"anchor_bits_per_char": round(bits_per_char(
        generator.model, generator.tokenizer, anchor_eval), 4)}
    if team_eval:
        figures["team_bits_per_char"] = round(bits_per_char(
            generator.model, generator.tokenizer, team_eval), 4)
    drafts = []
    for start in range(0, len(prompts), 8):
        batch = [(t, "") for t in prompts[start:start + 8]]
        drafts.extend(generator.write_batch(batch, seeds=[seed + start + i for i in
                                                          range(len(batch))],
                                            max_new_tokens=max_new_tokens))
    figures["repetition_rate"] = round(
        sum(is_degenerate(d.text) for d in drafts) / max(len(drafts), 1), 4)
    figures["samples"] = len(drafts)
    return figures
