"""Reward-model judge: a trained reward model (sequence classifier, one label) scores each answer
to the prompt on its own; the verdict is ``sigmoid(r_second - r_first)``, the Bradley-Terry
probability that the second shown answer is preferred, which is what the reward model was trained
to model.

Scoring follows ``judges.reward_model`` (the rule the rejection stage ranks training answers by): the
prompt's chat messages plus the answer as an assistant turn; inputs longer than ``max_length`` are
unscored, never truncated. Within one call every distinct (prompt, answer) is scored once, so judging both
orders costs no extra forward passes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence

from judges.config import RewardJudgeConfig
from judges.protocol import JudgeDefaults, PairItem
from judges.reward_model import SCORING_RULE, load_reward_model, score
from judges.verdict import Verdict
from rlhf.models import dtype_name


class RewardJudge(JudgeDefaults):
    def __init__(
        self, config: RewardJudgeConfig, *, model=None, tokenizer=None, model_hash: str | None = None
    ):
        self.config = config
        if model is None:
            model, tokenizer, model_hash = load_reward_model(config.model, config.dtype, config.device)
        elif tokenizer is None or model_hash is None:
            raise ValueError("RewardJudge(model=...) also needs tokenizer= and model_hash=")
        self.model, self.tokenizer = model, tokenizer
        self.judge_id = config.name
        self.template_hash = ""
        model_max = getattr(model.config, "max_position_embeddings", None)
        self.max_length = (
            min(config.max_length, model_max) if isinstance(model_max, int) else config.max_length
        )
        # every setting that can change a verdict; a different version is a different judge (and cache)
        self.judge_version = (
            f"reward:model@{model_hash[:12]}:max_length={self.max_length}:dtype={dtype_name(model)}"
            f":scoring={SCORING_RULE}"
        )
        self.model_calls = 0  # (prompt, answer) sequences scored

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        start = time.perf_counter()
        shown = {
            _key(it, answer): (it.prompt_messages(), answer)
            for it in items
            for answer in (it.first, it.second)
        }
        rewards = score(
            self.model,
            self.tokenizer,
            list(shown.values()),
            max_length=self.max_length,
            batch_size=self.config.batch_size,
        )
        self.model_calls += sum(r is not None for r in rewards)
        by_key = dict(zip(shown, rewards))
        per_item = (time.perf_counter() - start) / max(1, len(items))
        return [
            self._verdict(by_key[_key(it, it.first)], by_key[_key(it, it.second)], per_item) for it in items
        ]

    def _verdict(self, r1: float | None, r2: float | None, latency_s: float) -> Verdict:
        raw = json.dumps({"reward_first": r1, "reward_second": r2})
        if r1 is None or r2 is None:
            return Verdict.unscored(
                f"prompt plus answer is longer than max_length={self.max_length} tokens; not truncated",
                raw_output=raw,
                latency_s=latency_s,
            )
        return Verdict(
            preference=1.0 / (1.0 + math.exp(r1 - r2)),
            raw_output=raw,
            completion_tokens=0,
            latency_s=latency_s,
            cost_usd=0.0,
        )


def _key(item: PairItem, answer: str) -> str:
    return json.dumps([item.prompt_messages(), answer], ensure_ascii=False)
