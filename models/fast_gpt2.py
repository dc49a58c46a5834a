"""A lean GPT-2 decoder for serving, reading the weights of a Hugging Face ``GPT2LMHeadModel``.

Why: the bundled generator is small (a few million parameters), so on a CPU each new token costs
far more in framework overhead (module calls, cache objects, logits processors) than in
arithmetic. This path runs the same maths with a handful of tensor ops per layer and a
preallocated key/value cache, in fp32 on the very same tensors; only the output projection,
the one large matrix, is read as int8 by default (``head_precision``). With ``fp32`` its output
matches the Hugging Face model to float rounding (``tests/test_generator.py`` checks both);
with ``int8`` held-out bits/char moves by about 0.02 %. ``bench/generation.py`` measures it
against plain ``generate()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import GPT2LMHeadModel


@dataclass
class _Layer:
    ln1: tuple[torch.Tensor, torch.Tensor]
    qkv_w: torch.Tensor
    qkv_b: torch.Tensor
    proj_w: torch.Tensor
    proj_b: torch.Tensor
    ln2: tuple[torch.Tensor, torch.Tensor]
    fc_w: torch.Tensor
    fc_b: torch.Tensor
    out_w: torch.Tensor
    out_b: torch.Tensor


@dataclass
class KVCache:
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    length: int


class FastGPT2:
    """Prefill and one-token steps over a preallocated cache; shares the model's tensors."""

    def __init__(self, model: GPT2LMHeadModel, head_precision: str = "fp32"):
        config = model.config
        activation = getattr(config, "activation_function", "gelu_new")
        if activation not in {"gelu_new", "gelu_pytorch_tanh"}:
            raise ValueError("FastGPT2 supports GPT-2's tanh GELU only")
        self.n_head = config.n_head
        self.d_model = config.n_embd
        self.head_dim = config.n_embd // config.n_head
        self.max_positions = config.n_positions
        self.eps = config.layer_norm_epsilon
        t = model.transformer
        self.wte = t.wte.weight.detach()
        self.wpe = t.wpe.weight.detach()
        self.lm_head = model.lm_head.weight.detach()
        self.head_precision = head_precision
        self._head = self._make_head(head_precision)
        self.ln_f = (t.ln_f.weight.detach(), t.ln_f.bias.detach())
        self.layers = []
        for block in t.h:
            self.layers.append(_Layer(
                ln1=(block.ln_1.weight.detach(), block.ln_1.bias.detach()),
                qkv_w=block.attn.c_attn.weight.detach(), qkv_b=block.attn.c_attn.bias.detach(),
                proj_w=block.attn.c_proj.weight.detach(), proj_b=block.attn.c_proj.bias.detach(),
                ln2=(block.ln_2.weight.detach(), block.ln_2.bias.detach()),
                fc_w=block.mlp.c_fc.weight.detach(), fc_b=block.mlp.c_fc.bias.detach(),
                out_w=block.mlp.c_proj.weight.detach(), out_b=block.mlp.c_proj.bias.detach(),
            ))

    def _make_head(self, precision: str):
        """The output projection, the one big matrix of a small GPT-2 (vocab x width).

        Every step reads all of it: at fp32 that is most of a step's memory traffic (8 MB for
        8,192 tokens x 256), so ``int8`` keeps a per-row-quantised copy (2 MB) and multiplies
        with fbgemm's dynamic int8 kernel, 2-8x faster here. The rest of the network stays fp32,
        where int8 kernels are slower than fp32 for such small layers.
        """
        if precision == "fp32":
            return lambda hidden: F.linear(hidden, self.lm_head)
        if precision != "int8":
            raise ValueError(f"unknown head precision {precision!r} (fp32 or int8)")
        import warnings

        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        linear = torch.nn.Linear(self.d_model, self.lm_head.shape[0], bias=False)
        linear.weight.data = self.lm_head.clone()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*deprecated")
            quantized = quantize_dynamic(torch.nn.Sequential(linear),
                                         {torch.nn.Linear: per_channel_dynamic_qconfig},
                                         dtype=torch.qint8)
        return quantized[0]

    def new_cache(self, rows: int) -> KVCache:
        shape = (rows, self.n_head, self.max_positions, self.head_dim)
        return KVCache([torch.empty(shape) for _ in self.layers],
                       [torch.empty(shape) for _ in self.layers], 0)

    @torch.no_grad()
    def step(self, ids: torch.Tensor, mask: torch.Tensor, cache: KVCache | None,
             ) -> tuple[torch.Tensor, KVCache]:
        """Feed ``ids`` (rows x new) given the full padding ``mask``; last position's logits."""
        if cache is None:
            cache = self.new_cache(ids.shape[0])
        hidden = self._forward(ids, mask, cache)
        return self._head(hidden[:, -1]), cache

    @torch.no_grad()
    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        """All positions' logits for one unpadded batch (used to check bits/char)."""
        hidden = self._forward(ids, torch.ones_like(ids), self.new_cache(ids.shape[0]))
        return self._head(hidden)

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Final-norm hidden states of the new positions; appends their keys/values to cache."""
        rows, new = ids.shape
        start, end = cache.length, cache.length + new
        if end > self.max_positions:
            raise ValueError("sequence longer than the model's context")
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, start:end]
        x = self.wte[ids] + self.wpe[positions]
        keep = mask[:, None, None, :end].bool()
        if new > 1:
            causal = torch.ones(new, end, dtype=torch.bool).tril(diagonal=start)
            keep = keep & causal
        for layer, k_cache, v_cache in zip(self.layers, cache.keys, cache.values, strict=True):
            h = F.layer_norm(x, (self.d_model,), *layer.ln1, self.eps)
            qkv = torch.addmm(layer.qkv_b, h.view(-1, self.d_model), layer.qkv_w)
            q, k, v = qkv.view(rows, new, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4)
            k_cache[:, :, start:end] = k
            v_cache[:, :, start:end] = v
            attn = F.scaled_dot_product_attention(
                q, k_cache[:, :, :end], v_cache[:, :, :end], attn_mask=keep)
            attn = attn.transpose(1, 2).reshape(-1, self.d_model)
            x = x + torch.addmm(layer.proj_b, attn, layer.proj_w).view(rows, new, -1)
            h = F.layer_norm(x, (self.d_model,), *layer.ln2, self.eps)
            h = F.gelu(torch.addmm(layer.fc_b, h.view(-1, self.d_model), layer.fc_w),
                       approximate="tanh")
            x = x + torch.addmm(layer.out_b, h, layer.out_w).view(rows, new, -1)
        cache.length = end
        return F.layer_norm(x, (self.d_model,), *self.ln_f, self.eps)
