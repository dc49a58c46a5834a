"""Tokenizers for the job-description generator.

Two choices, measured in the generator's model card: GPT-2's own BPE (50,257 tokens; keeps hub
checkpoints usable) or a byte-level BPE trained on the posting corpus. On this corpus and CPU the
small corpus BPE wins: a 50k vocabulary makes the embedding and softmax dominate a small model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from models.generation.postings import EOS_TOKEN


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 8192) -> PreTrainedTokenizerBase:
    """A GPT-2-style byte-level BPE learnt from ``texts``, with GPT-2's end-of-text token."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(
        texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS_TOKEN],
        show_progress=False,
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,  # the wrapped Rust tokenizer; no public accessor
        bos_token=EOS_TOKEN, eos_token=EOS_TOKEN, unk_token=EOS_TOKEN, pad_token=EOS_TOKEN,
        model_max_length=1024,
    )


def load_gpt2_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """GPT-2's real BPE files (vocab.json + merges.txt), e.g. ``../shared/data/gpt2_tokenizer``."""
    from transformers import GPT2TokenizerFast

    tokenizer = GPT2TokenizerFast.from_pretrained(str(folder))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
