"""Sampling where each row's randomness depends only on its own seed and step, never on its batch.

``generate(do_sample=True)`` draws from one global generator, so an answer changes with the batch it lands
in and the order of the batches. Here each row's noise is a counter-based hash of (row seed, step, token id)
and a token is chosen by the Gumbel-max trick over the temperature-scaled, top-p-filtered logits: an exact
sample from the same distribution ``do_sample`` uses, reproducible whatever the batching and on any device.
The processor returns scores with only the chosen token finite, so greedy ``generate`` picks it.
"""

from __future__ import annotations

import torch

_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= (1 << 63) else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)


def _shr(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's ``>>`` is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def splitmix64(x: torch.Tensor) -> torch.Tensor:
    """The splitmix64 finaliser on int64 tensors (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ _shr(z, 30)) * _MIX1
    z = (z ^ _shr(z, 27)) * _MIX2
    return z ^ _shr(z, 31)


def uniform_noise(seeds: torch.Tensor, step: int, vocab_size: int) -> torch.Tensor:
    """U(0,1) float32 noise of shape (rows, vocab), a pure function of (seed, step, token id)."""
    step_key = splitmix64(torch.tensor([step], dtype=torch.int64, device=seeds.device))
    row_key = splitmix64(seeds.to(torch.int64) ^ step_key)  # (rows,)
    tokens = torch.arange(vocab_size, dtype=torch.int64, device=seeds.device) * _GOLDEN
    bits = _shr(splitmix64(row_key[:, None] + tokens[None, :]), 40)  # top 24 bits
    return (bits.to(torch.float32) + 0.5) / float(1 << 24)


def top_p_mask(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """True for tokens outside the nucleus (the smallest set whose probability reaches ``top_p``)."""
    if top_p >= 1.0:
        return torch.zeros_like(logits, dtype=torch.bool)
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs
    remove_sorted = mass_before >= top_p  # the first token always stays
    return torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)


class SeededSampler:
    """A ``generate`` logits processor: per-row seeded temperature/top-p sampling (use with greedy mode)."""

    def __init__(self, seeds: list[int], *, prompt_length: int, temperature: float, top_p: float) -> None:
        if temperature <= 0:
            raise ValueError("SeededSampler needs temperature > 0; use plain greedy decoding for 0")
        self.seeds = torch.tensor(seeds, dtype=torch.int64)
        self.prompt_length = prompt_length
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        step = input_ids.shape[1] - self.prompt_length
        choice = seeded_choice(scores, self.seeds.to(scores.device), step, self.temperature, self.top_p)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(-1, choice[:, None], 0.0)


def seeded_choice(
    scores: torch.Tensor, seeds: torch.Tensor, step: int, temperature: float, top_p: float
) -> torch.Tensor:
    """One token id per row: a sample from softmax(scores / temperature) within the top-p nucleus."""
    logits = scores.float() / temperature
    logits = logits.masked_fill(top_p_mask(logits, top_p), float("-inf"))
    gumbel = -torch.log(-torch.log(uniform_noise(seeds, step, scores.shape[-1])))
    return torch.argmax(logits + gumbel, dim=-1)
