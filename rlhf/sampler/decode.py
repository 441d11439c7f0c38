"""A decode loop for the CPU (dynamic-shape) path: finished answers leave the batch, the KV cache is written
in place, and the prompt prefix every row shares (the chat template's system header) is computed once.

``generate`` keeps computing every row of a batch until the longest answer ends, so a batch whose answers
range from 10 to 256 tokens spends most of its compute on rows that are already done. This loop does the
same arithmetic per row as greedy ``generate`` (position ids from the attention mask, the KV cache) but
removes a row from the batch and its cache as soon as it emits an end token. Rows never interact, so each
answer is what ``generate`` would give up to floating-point rounding (the tests compare them prompt by
prompt).

Two things make it cheaper per token than ``generate`` with a ``DynamicCache`` on a CPU (see
docs/sampler.md for the profile and the figures):

* **Preallocated cache.** ``DynamicCache`` concatenates every layer's keys and values with the new token at
  every step, copying the whole cache each time; here each layer's cache is one buffer sized for prompt plus
  answer, and a step writes one column into it (``PreallocatedCache``).
* **Shared prefix.** Chat prompts start with the same tokens (SmolLM2's template puts a 24-token system
  header before every user message: about half of a typical eval prompt). The longest prefix common to the
  batch is run once at batch size 1 and its keys and values are broadcast into every row; only the rest of
  each prompt is prefilled per row. The layout is ``[shared prefix | padding | rest of the prompt]``: the
  attention mask hides the padding and the position ids continue the prefix, so every token sees the same
  positions and keys as in a left-padded ``generate``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicLayer

# (logits of the active rows, their original row indices, step) -> next token per active row
Chooser = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


def supports_compacting(model: Any) -> bool:
    """True when the model's forward takes a cache argument we can drive and prune (decoder-only LMs)."""
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    params = inspect.signature(model.forward).parameters
    return _cache_kwarg(params) is not None and "position_ids" in params and "logits_to_keep" in params


def greedy_chooser(logits: torch.Tensor, rows: torch.Tensor, step: int) -> torch.Tensor:
    # float32 first: the same ids (bfloat16 -> float32 is exact), and argmax over 64 x 49152 bfloat16 logits
    # took 5-6 ms on the CPU (not vectorised) against 2.3 ms with the conversion
    return torch.argmax(logits.float(), dim=-1)


class PreallocatedLayer(DynamicLayer):
    """One layer's keys and values in a buffer of ``capacity`` positions for ``batch`` rows.

    ``update`` writes the new positions in place (a batch-1 update, the shared prefix, is broadcast to every
    row) and returns views of the filled part, instead of concatenating a new copy of the whole cache.
    While ``group`` is set to ``(rows, start)``, an update comes from those rows only: it is written at
    ``start`` and attends to the filled part (the shared prefix) plus itself; ``length`` stays put.
    """

    def __init__(self, batch: int, capacity: int) -> None:
        super().__init__()
        self.batch, self.capacity, self.length = batch, capacity, 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None
        self.group: tuple[torch.Tensor, int] | None = None

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.device = key_states.device
        heads = key_states.shape[1]
        # zeros, not empty: masked positions (the padding gap) must hold finite numbers
        self._keys = key_states.new_zeros((self.batch, heads, self.capacity, key_states.shape[-1]))
        self._values = value_states.new_zeros((self.batch, heads, self.capacity, value_states.shape[-1]))
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        assert self._keys is not None and self._values is not None
        if self.group is not None:
            rows, start = self.group
            stop = start + key_states.shape[-2]
            if stop > self.capacity:
                raise RuntimeError(f"KV cache full: {stop} positions for a capacity of {self.capacity}")
            self._keys[rows, :, start:stop] = key_states
            self._values[rows, :, start:stop] = value_states
            return (
                torch.cat([self._keys[rows, :, : self.length], key_states], dim=2),
                torch.cat([self._values[rows, :, : self.length], value_states], dim=2),
            )
        end = self.length + key_states.shape[-2]
        if end > self.capacity:
            raise RuntimeError(f"KV cache full: {end} positions for a capacity of {self.capacity}")
        self._keys[:, :, self.length : end] = key_states
        self._values[:, :, self.length : end] = value_states
        self.length = end
        self.keys, self.values = self._keys[:, :, :end], self._values[:, :, :end]
        n = key_states.shape[0]  # 1 for the shared prefix: attend with one row, as the query has
        return self.keys[:n], self.values[:n]

    def get_seq_length(self) -> int:
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.batch = len(indices)
        if self._keys is not None and self._values is not None:
            self._keys, self._values = self._select(self._keys, indices), self._select(self._values, indices)
            self.keys, self.values = self._keys[:, :, : self.length], self._values[:, :, : self.length]

    def _select(self, buffer: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """The kept rows in a new buffer of the same capacity, copying only the filled positions."""
        kept = buffer.new_empty((len(indices), *buffer.shape[1:]))
        kept[:, :, : self.length] = buffer[:, :, : self.length].index_select(0, indices)
        return kept

    def reset(self) -> None:
        self._keys = self._values = None
        self.length = 0
        super().reset()


class PreallocatedCache(Cache):
    """A KV cache for ``batch`` rows and at most ``capacity`` positions, written in place."""

    def __init__(self, num_layers: int, batch: int, capacity: int) -> None:
        super().__init__(layers=[PreallocatedLayer(batch, capacity) for _ in range(num_layers)])

    def set_group(self, group: tuple[torch.Tensor, int] | None, length: int | None = None) -> None:
        """Route the next updates to ``(rows, start)`` (None: back to all rows; ``length``: positions now filled)."""
        for layer in self.layers:
            assert isinstance(layer, PreallocatedLayer)
            layer.group = group
            if length is not None:
                layer.length = length


def prefill_groups(lengths: list[int], waste: float = 0.1, min_tokens: int = 128) -> list[list[int]]:
    """Rows grouped by length (longest first) so that padding each group to its longest row adds at most
    ``waste`` of its tokens; a group holds at least ``min_tokens`` real tokens before a new one starts
    (a few large matrix products beat many small ones)."""
    groups: list[list[int]] = []
    current: list[int] = []
    real = 0
    for row in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if (
            current
            and real >= min_tokens
            and (len(current) + 1) * lengths[current[0]] > (1 + waste) * (real + lengths[row])
        ):
            groups.append(current)
            current, real = [], 0
        current.append(row)
        real += lengths[row]
    if current:
        groups.append(current)
    return groups


def shared_prefix_length(prompts: list[list[int]]) -> int:
    """Tokens every prompt starts with, leaving at least one token of each prompt to prefill per row."""
    if not prompts:
        return 0
    first, limit = prompts[0], min(len(p) for p in prompts) - 1
    common = 0
    while common < limit and all(p[common] == first[common] for p in prompts):
        common += 1
    return common


def decode_compacting(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_ids: list[int],
    choose: Chooser = greedy_chooser,
    share_prefix: bool = True,
) -> list[list[int]]:
    """New tokens per row (each ends with its end token, or stops at ``max_new_tokens``).

    ``input_ids``/``attention_mask``: the prompts, left-padded (as the backend builds them).
    """
    device = input_ids.device
    prompts = [row[mask.bool()].tolist() for row, mask in zip(input_ids.cpu(), attention_mask.cpu())]
    batch = len(prompts)
    prefix = shared_prefix_length(prompts) if share_prefix else 0
    width = max(len(p) for p in prompts) - prefix  # the per-row part, left-padded to this width
    full_mask = torch.ones((batch, prefix + width + max_new_tokens), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        full_mask[row, prefix : prefix + width - (len(prompt) - prefix)] = 0
    full_mask = full_mask.to(device)
    cache = PreallocatedCache(
        model.config.get_text_config(decoder=True).num_hidden_layers, batch, prefix + width + max_new_tokens
    )
    forward = _Forward(model, cache)
    if prefix:
        forward(
            torch.tensor([prompts[0][:prefix]], device=device),
            None,
            torch.arange(prefix, device=device)[None],
        )
    logits = _prefill_rest(forward, cache, prompts, prefix, width, device)
    length = prefix + width
    position_ids = torch.tensor([[len(p) - 1] for p in prompts], device=device)
    eos = torch.tensor(eos_ids, device=device)
    rows = torch.arange(batch, device=device)  # original index of each active row
    tokens: list[list[int]] = [[] for _ in range(batch)]
    for step in range(max_new_tokens):
        next_tokens = choose(logits, rows, step)
        for row, token in zip(rows.tolist(), next_tokens.tolist()):
            tokens[row].append(token)
        alive = ~torch.isin(next_tokens, eos)
        if step == max_new_tokens - 1 or not bool(alive.any()):
            break
        if not bool(alive.all()):
            keep = alive.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, full_mask, next_tokens, position_ids = (
                rows[keep],
                full_mask[keep],
                next_tokens[keep],
                position_ids[keep],
            )
        length += 1
        position_ids = position_ids + 1
        logits = forward(next_tokens[:, None], full_mask[:, :length], position_ids)
    return tokens


class _Forward:
    """One model call with the cache: logits of the last position, (rows, vocab)."""

    def __init__(self, model: Any, cache: Cache) -> None:
        self.model = model
        self.cache_kwarg = {
            _cache_kwarg(inspect.signature(model.forward).parameters) or "past_key_values": cache
        }

    def __call__(
        self, input_ids: torch.Tensor, mask: torch.Tensor | None, position_ids: torch.Tensor
    ) -> torch.Tensor:
        out = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=position_ids,
            use_cache=True,
            logits_to_keep=1,
            **self.cache_kwarg,
        )
        return out.logits[:, -1, :]


def _prefill_rest(
    forward: _Forward,
    cache: PreallocatedCache,
    prompts: list[list[int]],
    prefix: int,
    width: int,
    device: Any,
) -> torch.Tensor:
    """Prefill each prompt after the shared prefix, in groups of similar length (little padding); each group's
    keys land right-aligned in positions [prefix, prefix + width) of its rows. Logits of every row's last token."""
    rests = [p[prefix:] for p in prompts]
    logits: torch.Tensor | None = None
    for group in prefill_groups([len(r) for r in rests]):
        group_width = max(len(rests[row]) for row in group)
        ids = torch.zeros((len(group), group_width), dtype=torch.long)
        mask = torch.zeros((len(group), prefix + group_width), dtype=torch.long)
        mask[:, :prefix] = 1
        for j, row in enumerate(group):
            ids[j, group_width - len(rests[row]) :] = torch.tensor(rests[row], dtype=torch.long)
            mask[j, prefix + group_width - len(rests[row]) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        position_ids = prefix + (mask[:, prefix:].cumsum(-1) - 1).clamp(min=0)
        cache.set_group((torch.tensor(group, device=device), prefix + width - group_width))
        group_logits = forward(ids, mask, position_ids)
        if logits is None:
            logits = group_logits.new_empty((len(prompts), group_logits.shape[-1]))
        logits[group] = group_logits
    cache.set_group(None, length=prefix + width)
    assert logits is not None
    return logits


def _cache_kwarg(params: Any) -> str | None:
    for name in ("cache", "past_key_values"):  # transformers 5.x renamed past_key_values to cache
        if name in params:
            return name
    return None
