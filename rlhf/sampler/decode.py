"""A decode loop that drops finished answers from the batch, for the dynamic-cache (CPU) path.

``generate`` keeps computing every row of a batch until the longest answer ends, so a batch whose answers
range from 10 to 256 tokens spends most of its compute on rows that are already done. This loop does the
same arithmetic per row as greedy ``generate`` (left padding, position ids from the attention mask, the
KV cache) but removes a row from the batch and its cache as soon as it emits an end token. Rows never
interact, so each answer is what ``generate`` would give (the test compares them prompt by prompt).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

# (logits of the active rows, their original row indices, step) -> next token per active row
Chooser = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def supports_compacting(model: Any) -> bool:
    """True when the model's forward takes a cache argument we can drive and prune (decoder-only LMs)."""
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    params = inspect.signature(model.forward).parameters
    return _cache_kwarg(params) is not None and "position_ids" in params and "logits_to_keep" in params


def greedy_chooser(logits: torch.Tensor, rows: torch.Tensor, step: int) -> torch.Tensor:
    return torch.argmax(logits, dim=-1)


def decode_compacting(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_ids: list[int],
    choose: Chooser = greedy_chooser,
) -> list[list[int]]:
    """New tokens per row (each ends with its end token, or stops at ``max_new_tokens``)."""
    from transformers import DynamicCache

    device = input_ids.device
    cache = DynamicCache(config=model.config)
    cache_kwarg = _cache_kwarg(inspect.signature(model.forward).parameters)
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    eos = torch.tensor(eos_ids, device=device)
    rows = torch.arange(input_ids.shape[0], device=device)  # original index of each active row
    tokens: list[list[int]] = [[] for _ in range(input_ids.shape[0])]
    step_input, mask = input_ids, attention_mask
    for step in range(max_new_tokens):
        out = model(input_ids=step_input, attention_mask=mask, position_ids=position_ids,
                    use_cache=True, logits_to_keep=1, **{cache_kwarg: cache})
        next_tokens = choose(out.logits[:, -1, :], rows, step)
        for row, token in zip(rows.tolist(), next_tokens.tolist()):
            tokens[row].append(token)
        alive = ~torch.isin(next_tokens, eos)
        if step == max_new_tokens - 1 or not bool(alive.any()):
            break
        if not bool(alive.all()):
            keep = alive.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, mask, next_tokens = rows[keep], mask[keep], next_tokens[keep]
            position_ids = position_ids[keep]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        position_ids = position_ids[:, -1:] + 1
        step_input = next_tokens[:, None]
    return tokens


def _cache_kwarg(params: Any) -> str | None:
    for name in ("cache", "past_key_values"):  # transformers 5.x renamed past_key_values to cache
        if name in params:
            return name
    return None
