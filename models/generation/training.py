"""Train (or fine-tune) the job-description GPT-2 on a CPU within a wall-clock budget.

Why a hand-rolled loop rather than ``Trainer``: the budget is wall-clock minutes on two cores, so
the learning-rate schedule follows elapsed time (cosine over the budget, whatever the step speed
turns out to be) and the loop must stop cleanly at the deadline with the best weights saved.

Two recipes exist on purpose. ``baseline`` is the recipe the generator issue measured (one
posting per row, cut at 256 tokens and padded; 20 minutes); the model card keeps it beside the
bundled recipe so any later change is judged against the same yardstick. ``packed`` concatenates
postings (each ending in the end-of-text token) into full 512-token rows, so no step is spent on
padding and the model also learns the second half of long ads.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerBase

from models.generation.postings import EOS_TOKEN, Posting, PostingCorpus

logger = logging.getLogger(__name__)

MODEL_NAME = "hirebot-jd-gpt2"
EVAL_WINDOW = 256
EVAL_STRIDE = 128


@dataclass
class GeneratorRecipe:
    """Everything that decides the trained weights (with the data and the seed)."""

    tokenizer: str = "bpe"  # "bpe" (trained on the corpus) or "gpt2" (GPT-2's real BPE)
    vocab_size: int = 8192
    n_layer: int = 4
    n_embd: int = 256
    n_head: int = 4
    n_positions: int = 512
    packing: bool = True
    block_size: int = 512
    batch_size: int = 4
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_fraction: float = 0.02
    weight_decay: float = 0.1
    title_reminder: bool = True  # a packed row that starts mid-posting starts with its title
    max_steps: int = 3300  # the schedule's length; 0 = follow the wall-clock budget instead
    time_budget_min: float = 58.0  # with max_steps set, only a guard
    epochs: float = 10.0
    seed: int = 0

    @classmethod
    def baseline(cls) -> GeneratorRecipe:
        """The issue's measured recipe: rows are single postings cut at 256 tokens, 20 min."""
        return cls(packing=False, block_size=256, batch_size=16, lr=1e-3, min_lr_ratio=0.0,
                   warmup_fraction=0.0, weight_decay=0.0, time_budget_min=20.0,
                   title_reminder=False, max_steps=0)


@dataclass
class TrainResult:
    recipe: dict
    steps: int
    epochs_done: float
    train_tokens: int
    train_seconds: float
    tokens_per_second: float
    held_out_bits_per_char: float
    history: list[dict] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast_dtype() -> torch.dtype | None:
    """bf16 autocast only where the CPU does bf16 natively; emulated bf16 is slower than fp32."""
    from models.common.embeddings import cpu_has_native_bf16

    if os.environ.get("HIREBOT_TRAIN_FP32") == "1":
        return None
    return torch.bfloat16 if cpu_has_native_bf16() else None


def tokenize_documents(tokenizer: PreTrainedTokenizerBase, postings: Sequence[Posting],
                       ) -> list[np.ndarray]:
    eos = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    out = []
    batch = 256
    for start in range(0, len(postings), batch):
        texts = [p.document() for p in postings[start:start + batch]]
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        out.extend(np.asarray([*ids, eos], dtype=np.int32) for ids in encoded)
    return out


def tokenize_prompts(tokenizer: PreTrainedTokenizerBase, postings: Sequence[Posting],
                     ) -> list[np.ndarray]:
    """Each posting's title prompt, tokenized exactly as generation tokenizes it."""
    from models.generation.postings import format_prompt

    titles = [format_prompt(p.title) for p in postings]
    encoded = tokenizer(titles, add_special_tokens=False)["input_ids"]
    return [np.asarray(ids, dtype=np.int32) for ids in encoded]


def new_model(recipe: GeneratorRecipe, tokenizer: PreTrainedTokenizerBase) -> GPT2LMHeadModel:
    eos = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=recipe.n_positions, n_embd=recipe.n_embd,
        n_layer=recipe.n_layer, n_head=recipe.n_head, resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
        tie_word_embeddings=True,
    )
    return GPT2LMHeadModel(config)


class RowSampler:
    """Yields (input_ids, labels) batches for one recipe; an epoch reshuffles documents.

    With packing, a posting that does not fit in the rest of a row continues in the next one.
    Without ``title_reminder`` that continuation would be trained with no title in its context
    (about half the tokens of a corpus whose ads average one row), which teaches a small model to
    write ads that ignore the title. With it, the continuation row starts with the posting's
    title prompt as context only (label -100: never a target, so bits/char stays comparable).
    """

    def __init__(self, docs: list[np.ndarray], recipe: GeneratorRecipe, pad_id: int, seed: int,
                 prefixes: list[np.ndarray] | None = None):
        self.docs = docs
        self.prefixes = prefixes if recipe.title_reminder else None
        self.recipe = recipe
        self.pad_id = pad_id
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self.rows_per_epoch = len(self._rows())

    def _rows(self) -> list[tuple[np.ndarray, np.ndarray]]:
        order = self.rng.permutation(len(self.docs))
        size = self.recipe.block_size
        if not self.recipe.packing:
            return [(self.docs[i][:size], self.docs[i][:size]) for i in order]
        if self.prefixes is None:
            stream = np.concatenate([self.docs[i] for i in order])
            usable = len(stream) // size * size
            return [(row, row) for row in stream[:usable].reshape(-1, size)]
        return self._rows_with_reminders(order, size)

    def _rows_with_reminders(self, order: np.ndarray, size: int,
                             ) -> list[tuple[np.ndarray, np.ndarray]]:
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        ids: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        filled = 0
        for i in order:
            doc, prefix = self.docs[i], self.prefixes[i]
            pos = 0
            while pos < len(doc):
                if filled == 0 and pos > 0 and len(prefix) < size // 4:
                    ids.append(prefix)
                    labels.append(np.full(len(prefix), -100, dtype=np.int32))
                    filled = len(prefix)
                piece = doc[pos:pos + size - filled]
                ids.append(piece)
                labels.append(piece)
                filled += len(piece)
                pos += len(piece)
                if filled == size:
                    rows.append((np.concatenate(ids), np.concatenate(labels)))
                    ids, labels, filled = [], [], 0
        return rows

    def batches(self):
        bsz = self.recipe.batch_size
        while True:
            rows = self._rows()
            for start in range(0, len(rows) - bsz + 1, bsz):
                chunk = rows[start:start + bsz]
                width = max(len(r) for r, _ in chunk)
                ids = np.full((bsz, width), self.pad_id, dtype=np.int64)
                labels = np.full((bsz, width), -100, dtype=np.int64)
                for j, (row, target) in enumerate(chunk):
                    ids[j, : len(row)] = row
                    labels[j, : len(target)] = target
                position = self.epoch + start / len(rows)
                yield position, torch.from_numpy(ids), torch.from_numpy(labels)
            self.epoch += 1


def lr_at(progress: float, recipe: GeneratorRecipe) -> float:
    """Linear warm-up then cosine decay over *time* progress in [0, 1]."""
    if recipe.warmup_fraction and progress < recipe.warmup_fraction:
        return recipe.lr * progress / recipe.warmup_fraction
    span = max(1e-9, 1.0 - recipe.warmup_fraction)
    t = min(1.0, (progress - recipe.warmup_fraction) / span)
    floor = recipe.lr * recipe.min_lr_ratio
    return floor + (recipe.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))


def make_optimizer(model: torch.nn.Module, recipe: GeneratorRecipe) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.dim() >= 2 else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": recipe.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=recipe.lr, betas=(0.9, 0.95), eps=1e-8)


@torch.no_grad()
def bits_per_char(model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase,
                  postings: Sequence[Posting], *, window: int = EVAL_WINDOW,
                  stride: int = EVAL_STRIDE, max_docs: int | None = None,
                  dtype: torch.dtype | None = None) -> float:
    """Total negative log-likelihood in bits over total characters of the held-out documents.

    Per character, not per token, so models with different tokenizers compare. Each document is
    scored alone (its end-of-text included) in windows of ``window`` tokens that advance by
    ``stride``; every token is scored once, with at least ``window - stride`` tokens of context
    when the document has them. The same windows apply to every model, so a model trained on
    256-token rows is not charged for positions it never saw.
    """
    model.eval()
    docs = list(postings)[:max_docs] if max_docs else list(postings)
    token_docs = tokenize_documents(tokenizer, docs)
    total_nats = 0.0
    total_chars = 0
    for posting, ids in zip(docs, token_docs, strict=True):
        total_chars += len(posting.document())
        ids_t = torch.from_numpy(ids.astype(np.int64))
        scored_to = 0
        start = 0
        while scored_to < len(ids_t) - 1 or start == 0:
            end = min(start + window, len(ids_t))
            chunk = ids_t[start:end].unsqueeze(0)
            with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
                logits = model(input_ids=chunk).logits[0].float()
            logp = torch.log_softmax(logits[:-1], dim=-1)
            targets = chunk[0, 1:]
            nll = -logp.gather(1, targets.unsqueeze(1)).squeeze(1)
            first_new = max(scored_to - start, 0)  # target index i predicts token start+i+1
            total_nats += float(nll[first_new:].sum())
            scored_to = end - 1
            if end >= len(ids_t):
                break
            start += stride
    return total_nats / math.log(2) / max(total_chars, 1)


def train_generator(model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase,
                    corpus: PostingCorpus, recipe: GeneratorRecipe, *,
                    eval_docs: int | None = None, progress: bool = True,
                    log_every: int = 50) -> TrainResult:
    """Train in place until the epochs or the time budget run out; evaluate each epoch."""
    from models.common.embeddings import configure_threads

    configure_threads()
    seed_everything(recipe.seed)
    docs = tokenize_documents(tokenizer, corpus.train)
    prefixes = tokenize_prompts(tokenizer, corpus.train) if recipe.title_reminder else None
    pad_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    sampler = RowSampler(docs, recipe, pad_id, recipe.seed, prefixes=prefixes)
    optimizer = make_optimizer(model, recipe)
    dtype = autocast_dtype()
    budget = recipe.time_budget_min * 60.0
    steps_per_epoch = max(1, sampler.rows_per_epoch // recipe.batch_size)
    max_steps = int(recipe.epochs * steps_per_epoch)
    if recipe.max_steps:
        max_steps = min(max_steps, recipe.max_steps)
    history: list[dict] = []
    tokens = 0
    step = 0
    last_epoch = 0
    epoch_pos = 0.0
    bar = tqdm(total=max_steps, disable=not progress, unit="step", mininterval=5)
    start = time.monotonic()
    model.train()
    for epoch_pos, ids, labels in sampler.batches():
        elapsed = time.monotonic() - start
        if recipe.max_steps:  # step-bound: the same weights on any machine, however fast
            progress_frac = step / max_steps
            if elapsed >= budget:
                logger.warning("time guard of %.0f min reached at step %d of %d",
                               recipe.time_budget_min, step, max_steps)
                break
        else:
            progress_frac = max(elapsed / budget, step / max_steps)
        if progress_frac >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr_at(progress_frac, recipe)
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            loss = model(input_ids=ids, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss_value = loss.item()
        step += 1
        tokens += int((labels != -100).sum())
        if step % log_every == 0:
            history.append({"step": step, "seconds": round(elapsed, 1),
                            "epoch": round(epoch_pos, 3), "loss": round(loss_value, 4),
                            "lr": optimizer.param_groups[0]["lr"]})
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{tokens / max(elapsed, 1e-6):.0f}",
                        refresh=False)
        if int(epoch_pos) > last_epoch:
            last_epoch = int(epoch_pos)
            bpc = bits_per_char(model, tokenizer, corpus.held_out, max_docs=eval_docs, dtype=dtype)
            history.append({"step": step, "epoch": last_epoch, "held_out_bits_per_char": bpc})
            logger.info("epoch %d: held-out %.4f bits/char", last_epoch, bpc)
            model.train()
    bar.close()
    seconds = time.monotonic() - start
    model.eval()
    bpc = bits_per_char(model, tokenizer, corpus.held_out, max_docs=eval_docs, dtype=None)
    return TrainResult(
        recipe=asdict(recipe), steps=step, epochs_done=round(epoch_pos, 3), train_tokens=tokens,
        train_seconds=round(seconds, 1), tokens_per_second=round(tokens / max(seconds, 1e-6), 1),
        held_out_bits_per_char=round(bpc, 4), history=history,
    )


def save_generator(model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase, out: Path,
                   info: dict) -> None:
    """``save_pretrained`` folder (safetensors) plus tokenizer and ``hirebot_generator.json``."""
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = model.config.eos_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "hirebot_generator.json").write_text(json.dumps(info, indent=2))


# ------------------------------------------------------------------------------ model folders
HUB_BASES = {"distilgpt2", "gpt2", "gpt2-medium", "openai-community/gpt2",
             "distilbert/distilgpt2"}


class BaseModelError(ValueError):
    """The base model asked for cannot be had (no such folder, no hub, no tokenizer files)."""


def load_base_model(base: str, recipe: GeneratorRecipe, corpus: PostingCorpus,
                    gpt2_tokenizer_dir: Path | None = None):
    """``(model, tokenizer)`` to train from: ``scratch``, ``bundled``, a folder or a hub name.

    The hub path is kept for users with internet; offline it fails with a clear message.
    """
    from models.generation.generator import BUNDLED_GENERATOR_DIR
    from models.generation.tokenizer import (
        load_gpt2_tokenizer,
        load_tokenizer,
        train_bpe_tokenizer,
    )

    seed_everything(recipe.seed)
    if base == "scratch":
        if recipe.tokenizer == "gpt2":
            if gpt2_tokenizer_dir is None:
                raise BaseModelError("GPT-2's tokenizer files are not available.")
            tokenizer = load_gpt2_tokenizer(gpt2_tokenizer_dir)
        else:
            tokenizer = train_bpe_tokenizer((p.document() for p in corpus.train),
                                            recipe.vocab_size)
        return new_model(recipe, tokenizer), tokenizer
    folder = BUNDLED_GENERATOR_DIR if base == "bundled" else Path(base)
    if folder.is_dir():
        return GPT2LMHeadModel.from_pretrained(str(folder)), load_tokenizer(folder)
    if base in HUB_BASES or "/" in base:
        try:
            from transformers import AutoTokenizer

            model = GPT2LMHeadModel.from_pretrained(base)
            tokenizer = AutoTokenizer.from_pretrained(base)
            tokenizer.pad_token = tokenizer.eos_token
            return model, tokenizer
        except OSError as exc:
            raise BaseModelError(
                f"cannot load {base!r} from the Hugging Face hub (no internet here?): {exc}"
            ) from None
    raise BaseModelError(f"--base {base!r} is not bundled, scratch, a hub name or a folder.")


def weights_version(folder: Path) -> str:
    """A version is the weights' digest: the same weights always get the same name."""
    import hashlib

    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return digest[:12]


def write_generator_folder(model: GPT2LMHeadModel, tokenizer: PreTrainedTokenizerBase,
                           out: Path, info: dict, corpus: PostingCorpus) -> dict:
    """A servable generator folder: weights, tokenizer, title lexicon, info and model card."""
    from models.generation.card import write_generator_card
    from models.generation.title_lexicon import build_lexicon, save_lexicon

    save_generator(model, tokenizer, out, info)
    save_lexicon(build_lexicon(corpus.train), out)
    info["version"] = weights_version(out)
    (out / "hirebot_generator.json").write_text(json.dumps(info, indent=2))
    write_generator_card(out)
    return info
