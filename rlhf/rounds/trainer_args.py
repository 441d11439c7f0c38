"""Build TRL's own config objects (trl.RewardConfig / trl.DPOConfig) from a recipe section.

The recipe's keys pass through unchanged; under them sit defaults that suit a round run by a program rather
than a person at a notebook: no hub, no wandb, no checkpoints unless asked (the training stages ask for step
checkpoints through round.checkpoint_steps, see training.py), a log line every step, and on a
machine without CUDA `use_cpu` with bf16 off (TRL turns bf16 on by default, which CPU runs do not want).
Gradient checkpointing is off by default: it saves memory that small models do not need and costs time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _defaults(seed: int) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 1,
        "seed": seed,
        "data_seed": seed,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "push_to_hub": False,
    }
    if not torch.cuda.is_available():
        out.update({"use_cpu": True, "bf16": False, "fp16": False})
    return out


def build_trl_config(cls_name: str, keys: Mapping[str, Any], *, output_dir: Path, seed: int, **fixed: Any):
    """`trl.<cls_name>(**defaults | keys | fixed, output_dir=...)`."""
    import trl

    cls = getattr(trl, cls_name)
    defaults = _defaults(seed)
    if not {"gradient_checkpointing", "activation_checkpointing"} & set(keys):
        defaults["activation_checkpointing"] = (
            False  # TRL defaults it on; the old name warns in transformers 5
        )
    kwargs = {**defaults, **dict(keys), **fixed, "output_dir": str(output_dir)}
    return cls(**kwargs)


def without_init_kwargs(keys: Mapping[str, Any]) -> dict[str, Any]:
    """Recipe keys minus `model_init_kwargs`: those are applied when the model is loaded, and TRL warns
    that they are ignored for a model passed in already instantiated."""
    return {k: v for k, v in keys.items() if k != "model_init_kwargs"}


__all__ = ["build_trl_config", "without_init_kwargs"]
