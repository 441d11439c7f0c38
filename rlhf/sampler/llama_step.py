"""One decode step of a Llama model (SmolLM2, Llama 2 and 3) as a flat sequence of tensor operations.

transformers' forward wraps the ~40 tensor operations of a layer in module calls, keyword plumbing,
deprecation and output-capturing decorators, a mask built per call and converted from bool to float in
every layer. At decode shapes (one new token for a few dozen rows) that Python costs as much as the
arithmetic: on this project's 2-core machine a 32-row float32 step of SmolLM2 took 160 ms through
``model(...)`` and 139 ms here (docs/sampler.md), of which the matrix products are about 90 ms.

``LlamaDecodeStep`` runs the same operations in the same order on the same modules (the norms, rotary
embedding, projections and MLP are the model's own; the attention is the same ``scaled_dot_product_attention``
call transformers' SDPA path makes for one query, with the query heads packed per key/value head), so the
logits are the same bits as the model's forward (tested against it, rows with padding gaps included).
It reads and writes the decode loop's ``PreallocatedCache`` directly. Only the prefill and other models
(another architecture, eager attention, a multi-token step) go through ``model(...)``: ``llama_decode_step``
returns None for them. transformers is pinned (pyproject.toml); the test fails if an upgrade changes
Llama's arithmetic.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from rlhf.prefix_cache import PreallocatedCache, PreallocatedLayer


def llama_decode_step(model: Any, cache: Any) -> LlamaDecodeStep | None:
    """The flat decode step for ``model`` writing to ``cache``, or None when it does not apply (the caller
    then steps through ``model(...)``): a ``LlamaForCausalLM`` with SDPA attention and a ``PreallocatedCache``."""
    from transformers import LlamaForCausalLM
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer

    if type(model) is not LlamaForCausalLM or not isinstance(cache, PreallocatedCache):
        return None
    if model.config._attn_implementation != "sdpa" or model.training:
        return None
    if not all(type(layer) is LlamaDecoderLayer for layer in model.model.layers):
        return None
    return LlamaDecodeStep(model, cache)


class LlamaDecodeStep:
    """``step(input_ids (rows, 1), mask (rows, positions), position_ids (rows, 1))`` -> last logits (rows, vocab),
    as ``CachedForward`` gives them; the new token's keys and values are written at the cache's length."""

    def __init__(self, model: Any, cache: PreallocatedCache) -> None:
        self.model = model
        config = model.config
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        layers = model.model.layers[: config.num_hidden_layers]
        kv_layers = [kv for kv in cache.layers if isinstance(kv, PreallocatedLayer)]
        assert len(kv_layers) == len(cache.layers)  # a PreallocatedCache holds nothing else
        self.layers = list(zip(layers, kv_layers))  # (decoder layer, its keys and values)

    def __call__(
        self, input_ids: torch.Tensor, mask: torch.Tensor, position_ids: torch.Tensor
    ) -> torch.Tensor:
        rows, dim, half = input_ids.shape[0], self.head_dim, self.head_dim // 2
        base = self.model.model
        x = base.embed_tokens(input_ids)  # (rows, 1, hidden)
        cos, sin = base.rotary_emb(x, position_ids=position_ids)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        # the additive mask SDPA makes from a bool mask in every layer, made once per step
        allowed = mask.bool()[:, None, None, :]
        additive = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device).masked_fill_(
            ~allowed, float("-inf")
        )
        for layer, kv in self.layers:
            attention = layer.self_attn
            residual = x
            h = layer.input_layernorm(x)
            q = attention.q_proj(h).view(rows, 1, -1, dim).transpose(1, 2)
            k = attention.k_proj(h).view(rows, 1, -1, dim).transpose(1, 2)
            v = attention.v_proj(h).view(rows, 1, -1, dim).transpose(1, 2)
            # apply_rotary_pos_emb: x * cos + rotate_half(x) * sin
            q = (q * cos) + (torch.cat((-q[..., half:], q[..., :half]), dim=-1) * sin)
            k = (k * cos) + (torch.cat((-k[..., half:], k[..., :half]), dim=-1) * sin)
            keys, values = kv.update(k, v)
            # transformers' SDPA path for one query: query heads packed per key/value head (pack_gqa)
            out = F.scaled_dot_product_attention(
                q.reshape(rows, self.kv_heads, self.heads // self.kv_heads, dim),
                keys,
                values,
                attn_mask=additive,
                scale=attention.scaling,
            )
            out = out.reshape(rows, -1, 1, dim).transpose(1, 2).contiguous()
            x = residual + attention.o_proj(out.reshape(rows, 1, -1).contiguous())
            residual = x
            h = layer.post_attention_layernorm(x)
            mlp = layer.mlp
            x = residual + mlp.down_proj(mlp.act_fn(mlp.gate_proj(h)) * mlp.up_proj(h))
        x = base.norm(x)
        return self.model.lm_head(x[:, -1:, :])[:, -1, :]
