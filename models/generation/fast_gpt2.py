"""A lean GPT-2 decoder for serving, reading the weights of a Hugging Face ``GPT2LMHeadModel``.

Why: the bundled generator is small (a few million parameters), so on a CPU each new token costs
far more in framework overhead (module calls, cache objects, logits processors) than in
arithmetic. This path runs the same maths with a handful of tensor ops per layer and a
preallocated key/value cache, in fp32 on the very same tensors. With ``int8`` (the serving
default) the output projection, the one large matrix, is always read as int8, and the layer
matmuls too when a step multiplies several rows at once, i.e. a batch of drafts or a prompt's
positions (for a one-row step fbgemm's int8 kernel is slower than fp32 here; at four rows it is
~30 % faster). fbgemm scales a step's activations as a whole, so a draft's numbers can differ
in the last bits with the batch it is written in; the same batch and seed give the same text.
With ``fp32`` the output matches the Hugging Face model to float rounding
(``tests/test_generator.py`` checks both); with ``int8`` held-out bits/char moves by under
0.1 %. ``bench/generation.py`` measures it against plain ``generate()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from transformers import GPT2LMHeadModel

#: From this many rows per matmul, the int8 layer kernels beat fp32 here (bench/generation.py).
INT8_MIN_ROWS = 2


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
    #: (qkv, proj, fc, out) as callables: fp32 for one-row steps, int8 copies for several
    #: rows at once (None at ``fp32``). Built once, so a step only calls them.
    fp32: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = ()
    int8: tuple[Callable[[torch.Tensor], torch.Tensor], ...] | None = None


@dataclass
class KVCache:
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    length: int
    #: Filled by the prefill from the padding mask, so one-token steps need no mask work:
    #: each row's position ids for every cache slot, and which slots attention may see
    #: (False on left padding; None when no row is padded).
    positions: torch.Tensor | None = None
    visible: torch.Tensor | None = None


def _int8_linear(weight: torch.Tensor, bias: torch.Tensor | None,
                 ) -> Callable[[torch.Tensor], torch.Tensor]:
    """A per-row int8 copy of ``weight`` (out x in) behind fbgemm's dynamic int8 kernel.

    Returns the kernel call itself, as ``DynamicQuantizedLinear.forward`` makes it, without the
    module-call machinery around it (~10 us a call, at hundreds of calls per draft)."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    linear.weight.data = weight.detach().clone().contiguous()
    if bias is not None:
        linear.bias.data = bias.detach().clone()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*deprecated")
        quantized = quantize_dynamic(torch.nn.Sequential(linear),
                                     {torch.nn.Linear: per_channel_dynamic_qconfig},
                                     dtype=torch.qint8)[0]
    packed = quantized._packed_params._packed_params
    kernel = torch.ops.quantized.linear_dynamic
    return lambda x: kernel(x, packed, reduce_range=True)


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
        self._norm_shape = [config.n_embd]
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
        for layer in self.layers:
            layer.fp32 = tuple(partial(torch.addmm, b, mat2=w) for w, b in (
                (layer.qkv_w, layer.qkv_b), (layer.proj_w, layer.proj_b),
                (layer.fc_w, layer.fc_b), (layer.out_w, layer.out_b)))
        if head_precision == "int8":
            for layer in self.layers:
                layer.int8 = tuple(_int8_linear(w.t(), b) for w, b in (
                    (layer.qkv_w, layer.qkv_b), (layer.proj_w, layer.proj_b),
                    (layer.fc_w, layer.fc_b), (layer.out_w, layer.out_b)))

    def _make_head(self, precision: str):
        """The output projection, the one big matrix of a small GPT-2 (vocab x width).

        Every step reads all of it: at fp32 that is most of a step's memory traffic (8 MB for
        8,192 tokens x 256), so ``int8`` keeps a per-row-quantised copy (2 MB) and multiplies
        with fbgemm's dynamic int8 kernel, 2-8x faster here.
        """
        if precision == "fp32":
            return lambda hidden: F.linear(hidden, self.lm_head)
        if precision != "int8":
            raise ValueError(f"unknown head precision {precision!r} (fp32 or int8)")
        return _int8_linear(self.lm_head, None)

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

    def _index_padding(self, mask: torch.Tensor, cache: KVCache) -> None:
        """Position ids and visible slots for the whole cache, once per prefill: new tokens
        are never padding, so later steps only slice these."""
        rows, width = mask.shape
        pads = (mask == 0).sum(-1, keepdim=True)
        slots = torch.arange(self.max_positions).expand(rows, -1)
        cache.positions = (slots - pads).clamp(min=0)
        cache.visible = None
        if bool(pads.any()):
            visible = torch.ones(rows, 1, 1, self.max_positions, dtype=torch.bool)
            visible[:, 0, 0, :width] = mask != 0
            cache.visible = visible

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Final-norm hidden states of the new positions; appends their keys/values to cache."""
        rows, new = ids.shape
        start, end = cache.length, cache.length + new
        if end > self.max_positions:
            raise ValueError("sequence longer than the model's context")
        if start == 0:
            self._index_padding(mask, cache)
        if cache.visible is None:  # no padding: every row is at the same positions
            x = self.wte[ids] + self.wpe[start:end]
        else:
            x = self.wte[ids] + self.wpe[cache.positions[:, start:end]]
        keep = None if cache.visible is None else cache.visible[..., :end]
        if new > 1:
            keep = mask[:, None, None, :end].bool() & torch.ones(
                new, end, dtype=torch.bool).tril(diagonal=start)
        batched = rows * new >= INT8_MIN_ROWS
        for layer, k_cache, v_cache in zip(self.layers, cache.keys, cache.values, strict=True):
            qkv_mm, proj_mm, fc_mm, out_mm = (
                layer.int8 if batched and layer.int8 is not None else layer.fp32)
            h = torch.layer_norm(x, self._norm_shape, *layer.ln1, self.eps)
            qkv = qkv_mm(h.view(-1, self.d_model))
            q, k, v = qkv.view(rows, new, 3, self.n_head, self.head_dim).permute(
                2, 0, 3, 1, 4).unbind(0)
            k_cache[:, :, start:end] = k
            v_cache[:, :, start:end] = v
            attn = F.scaled_dot_product_attention(
                q, k_cache[:, :, :end], v_cache[:, :, :end], attn_mask=keep)
            attn = attn.transpose(1, 2).reshape(-1, self.d_model)
            x = x + proj_mm(attn).view(rows, new, -1)
            h = torch.layer_norm(x, self._norm_shape, *layer.ln2, self.eps)
            h = F.gelu(fc_mm(h.view(-1, self.d_model)), approximate="tanh")
            x = x + out_mm(h).view(rows, new, -1)
        cache.length = end
        return torch.layer_norm(x, self._norm_shape, *self.ln_f, self.eps)
