"""Judges and the statistics over their verdicts.

Judges (typed callables from shown pairs to ``Verdict``s) and the driver that judges two checkpoints in
both orders are imported from their modules below; models load only when a judge is built. The
statistics (win rate, Bradley-Terry, length control, judge health, bootstrap) are small pure functions
whose public names are re-exported here from each module's own ``__all__``.
"""

from __future__ import annotations

import importlib as _importlib

from judges.cache import cache_key
from judges.config import (
    BUILTIN,
    JudgeConfig,
    LLMJudgeConfig,
    OpenAIJudgeConfig,
    ReferenceJudgeConfig,
    RewardJudgeConfig,
    TaggerConfig,
    build_judge,
    config_from_dict,
    load_config,
    resolve_config,
)
from judges.llm_judge import LLMJudge, parse_bracket_verdict
from judges.openai_judge import OpenAIJudge
from judges.protocol import ExplainingJudge, PairItem, PairwiseJudge
from judges.reference_judge import ReferenceJudge
from judges.reward_judge import RewardJudge
from judges.run import JudgeRunError, JudgeRunResult, judge_pairs, load_answer_pairs
from judges.tagger import PromptTagger, TagResult, tag_prompts
from judges.template import JudgeTemplate, load_template
from judges.verdict import Verdict, unmirror

__all__ = [
    "BUILTIN",
    "ExplainingJudge",
    "JudgeConfig",
    "JudgeRunError",
    "JudgeRunResult",
    "JudgeTemplate",
    "LLMJudge",
    "LLMJudgeConfig",
    "OpenAIJudge",
    "OpenAIJudgeConfig",
    "PairItem",
    "PairwiseJudge",
    "PromptTagger",
    "ReferenceJudge",
    "ReferenceJudgeConfig",
    "RewardJudge",
    "RewardJudgeConfig",
    "TagResult",
    "TaggerConfig",
    "Verdict",
    "build_judge",
    "cache_key",
    "config_from_dict",
    "judge_pairs",
    "load_answer_pairs",
    "load_config",
    "load_template",
    "parse_bracket_verdict",
    "resolve_config",
    "tag_prompts",
    "unmirror",
]

# The statistics modules are owned separately; re-export exactly what each declares public.
for _name in ("winrate", "bootstrap", "bradley_terry", "length_control", "health"):
    _module = _importlib.import_module(f"judges.{_name}")
    for _public in _module.__all__:
        globals()[_public] = getattr(_module, _public)
        if _public not in __all__:
            __all__.append(_public)
del _name, _module, _public
