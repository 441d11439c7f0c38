"""Load a model directory for training.

We load models ourselves instead of handing TRL a path, for two reasons: a directory converted from GGUF
can carry a stale `quantization_config` in its config.json (the weights are plain float32), which makes
the trainers refuse to fine-tune it ("purely quantized models"); and a reward model started from a causal
LM needs `num_labels=1` set before its fresh scalar head is built. The recipe's `model_init_kwargs`
(e.g. `dtype: bfloat16` on GPU) are applied here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal


def _config(path: str | Path):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path)
    if getattr(config, "quantization_config", None) is not None:
        quant = config.quantization_config
        method = (
            quant.get("quant_method") if isinstance(quant, dict) else getattr(quant, "quant_method", None)
        )
        if str(method).lower().endswith("gguf"):  # dequantized GGUF: plain weights, stale marker
            del config.quantization_config
    return config


def load_for_training(
    path: str | Path, kind: Literal["policy", "reward"], init_kwargs: Mapping[str, Any] | None = None
):
    """(model, tokenizer) ready for TRL: a causal LM, or a sequence classifier with one label."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    from rlhf.models import resolve_model_path

    path = resolve_model_path(path)
    config = _config(path)
    kwargs = dict(init_kwargs or {})
    dtype = kwargs.pop("dtype", kwargs.pop("torch_dtype", None))
    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    if kind == "reward":
        config.num_labels = 1
        model = AutoModelForSequenceClassification.from_pretrained(
            path, config=config, dtype=dtype or torch.float32, **kwargs
        )
    else:
        model = AutoModelForCausalLM.from_pretrained(
            path, config=config, dtype=dtype or torch.float32, **kwargs
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


__all__ = ["load_for_training"]
