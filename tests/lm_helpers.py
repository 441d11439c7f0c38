"""The tiny local causal LM with large random weights, for the sampler's tests: the stock tiny model repeats
one token for every prompt, which would hide batching and caching bugs; these weights make greedy answers
(and logits) differ from prompt to prompt and row to row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def varied_lm(tiny_lm_dir: Path, dtype: torch.dtype | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) of the tiny LM in ``dtype`` (the loader's default when None), every weight but the
    norms drawn at random (seed 0, scale 0.5)."""
    from rlhf.models import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir, dtype=dtype)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" not in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    return model, tokenizer
