"""Forward passes that compute the prompt prefix a batch shares only once: a KV cache written in place and the
``[shared prefix | padding | rest of the prompt]`` layout. The sampler's decode loop (rlhf/sampler/decode.py)
and the local-LM judges (judges/_lm.py) both prefill through here, so there is one definition of the layout.

Chat prompts start with the same tokens (SmolLM2's template puts a 24-token system header before every user
message; a judge's verdict prompt adds its system line and instruction paragraph, about 70 tokens). The
longest prefix common to the batch is run once at batch size 1 and its keys and values are broadcast into
every row; only the rest of each prompt is computed per row, in groups of similar length. The attention mask
hides the padding and the position ids continue the prefix, so every token sees the same positions and keys
as in a left-padded forward of the whole prompt (the logits agree up to float rounding).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicLayer


def supports_prefix_cache(model: Any) -> bool:
    """True when the model's forward takes a cache argument we can drive and prune (decoder-only LMs)."""
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    params = inspect.signature(model.forward).parameters
    return cache_kwarg(params) is not None and "position_ids" in params and "logits_to_keep" in params


class PreallocatedLayer(DynamicLayer):
    """One layer's keys and values in a buffer of ``capacity`` positions for ``batch`` rows.

    ``update`` writes the new positions in place (a batch-1 update, the shared prefix, is broadcast to every
    row) and returns views of the filled part, instead of concatenating a new copy of the whole cache.
    While ``group`` is set to ``(rows, start)``, an update comes from those rows only: it is written at
    ``start`` (not at all when ``start`` is None: nothing will attend to it later) and attends to the filled
    part (the shared prefix) plus itself; ``length`` stays put.
    """

    def __init__(self, batch: int, capacity: int) -> None:
        super().__init__()
        self.batch, self.capacity, self.length = batch, capacity, 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None
        self.group: tuple[torch.Tensor, int | None] | None = None

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
            if start is not None:
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

    def set_group(self, group: tuple[torch.Tensor, int | None] | None, length: int | None = None) -> None:
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


class CachedForward:
    """One model call with the cache: logits of the last position, (rows, vocab)."""

    def __init__(self, model: Any, cache: Cache) -> None:
        self.model = model
        self.cache_kwarg = {
            cache_kwarg(inspect.signature(model.forward).parameters) or "past_key_values": cache
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


@dataclass
class Prefilled:
    """What ``prefill`` leaves: the cache (positions ``[0, prefix + width)`` filled unless the rest was not
    kept), the forward that writes it, the logits of every prompt's last token, and the layout's sizes."""

    cache: PreallocatedCache
    forward: CachedForward
    logits: torch.Tensor  # (rows, vocab)
    prefix: int
    width: int

    def attention_mask(self, lengths: list[int], extra: int) -> torch.Tensor:
        """The layout's mask for rows of prompt ``lengths`` (in the order prefilled) and ``extra`` positions
        after them: (rows, prefix + width + extra), 0 on each row's padding gap, 1 elsewhere."""
        mask = torch.ones((len(lengths), self.prefix + self.width + extra), dtype=torch.long)
        for row, length in enumerate(lengths):
            mask[row, self.prefix : self.prefix + self.width - (length - self.prefix)] = 0
        return mask


def prefill(
    model: Any,
    prompts: list[list[int]],
    *,
    extra: int = 0,
    share_prefix: bool = True,
    keep_rest: bool = True,
    device: Any = None,
) -> Prefilled:
    """Run ``prompts`` (token ids, no padding) through ``model`` with the shared prefix computed once.

    ``extra``: positions to leave free in the cache for tokens that follow (the decode loop's answers).
    ``keep_rest=False`` keeps only the shared prefix in the cache (one forward, no decoding after it): the
    cache then holds ``prefix`` positions per row instead of ``prefix + width + extra``. ``device``: where
    the ids go (the model's device by default).
    """
    device = model.device if device is None else device
    prefix = shared_prefix_length(prompts) if share_prefix else 0
    width = max(len(p) for p in prompts) - prefix  # the per-row part, left-padded to this width
    capacity = prefix + width + extra if keep_rest else max(prefix, 1)
    cache = PreallocatedCache(
        model.config.get_text_config(decoder=True).num_hidden_layers, len(prompts), capacity
    )
    forward = CachedForward(model, cache)
    if prefix:
        forward(
            torch.tensor([prompts[0][:prefix]], device=device),
            None,
            torch.arange(prefix, device=device)[None],
        )
    logits = _prefill_rest(forward, cache, prompts, prefix, width, device, keep_rest)
    return Prefilled(cache, forward, logits, prefix, width)


def _prefill_rest(
    forward: CachedForward,
    cache: PreallocatedCache,
    prompts: list[list[int]],
    prefix: int,
    width: int,
    device: Any,
    keep_rest: bool,
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
        start = prefix + width - group_width if keep_rest else None
        cache.set_group((torch.tensor(group, device=device), start))
        group_logits = forward(ids, mask, position_ids)
        if logits is None:
            logits = group_logits.new_empty((len(prompts), group_logits.shape[-1]))
        logits[group] = group_logits
    cache.set_group(None, length=prefix + width if keep_rest else prefix)
    assert logits is not None
    return logits


def cache_kwarg(params: Any) -> str | None:
    for name in ("cache", "past_key_values"):  # transformers 5.x renamed past_key_values to cache
        if name in params:
            return name
    return None
