"""RLHF rounds: reward model, rejection-sampled DPO, checkpoints and evaluation, recorded in the store.

`run_round(config, store)` runs (or resumes) one round; `load_config(path)` reads a YAML recipe.
See docs/rounds.md.
"""

from rlhf.rounds.config import ConfigError, LoraSettings, RoundConfig, config_from_dict, load_config
from rlhf.rounds.errors import StageError
from rlhf.rounds.orchestrator import (
    STAGES,
    RoundPlan,
    RoundResult,
    add_round,
    plan_round,
    round_status,
    run_round,
)
from rlhf.rounds.overlap import OverlapError, check_no_overlap

__all__ = [
    "STAGES",
    "ConfigError",
    "LoraSettings",
    "OverlapError",
    "RoundConfig",
    "RoundPlan",
    "RoundResult",
    "StageError",
    "add_round",
    "check_no_overlap",
    "config_from_dict",
    "load_config",
    "plan_round",
    "round_status",
    "run_round",
]
