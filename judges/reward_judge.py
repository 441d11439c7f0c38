"""Reward-model judge: a trained reward model (sequence classifier, one label) scores each answer
to the prompt on its own; the verdict is ``sigmoid(r_second - r_first)``, the Bradley-Terry
probability that the second shown answer is preferred, which is what the reward model was trained
to model.

Each (prompt, answer) is formatted with the tokenizer's chat template as a user turn and an
assistant turn (as TRL's RewardTrainer formats conversational data). Within one call every distinct
(prompt, answer) is scored once, so judging both orders costs no extra forward passes. Inputs longer
than ``max_length`` are unscored, never truncated (truncation would score a different answer).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence

from judges._lm import length_batches
from judges.config import RewardJudgeConfig
from judges.protocol import PairItem
from judges.verdict import Verdict
from rlhf.models import dtype_name


def load_reward_model(path: str, dtype: str = "float32", device: str | None = None):
    """(model, tokenizer, content hash) of a reward model directory."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rlhf.models import content_hash, resolve_model_path, torch_dtype

    resolved = resolve_model_path(path)
    model = AutoModelForSequenceClassification.from_pretrained(resolved, dtype=torch_dtype(dtype, device))
    if model.config.num_labels != 1:
        raise ValueError(f"{path}: a reward model needs num_labels=1, this one has {model.config.num_labels}")
    tokenizer = AutoTokenizer.from_pretrained(resolved)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if device is not None:
        model = model.to(device)
    return model.eval(), tokenizer, content_hash(path)


def encode_answer(tokenizer, question: str, answer: str) -> list[int]:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


class RewardJudge:
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
        )
        self.model_calls = 0  # (prompt, answer) sequences scored

    def rewards(self, pairs: Sequence[tuple[str, str]]) -> list[float | None]:
        """Reward of each (question, answer); None when it is longer than max_length."""
        import torch

        encoded = [encode_answer(self.tokenizer, q, a) for q, a in pairs]
        out: list[float | None] = [None] * len(pairs)
        fits = [i for i, seq in enumerate(encoded) if len(seq) <= self.max_length]
        pad = self.tokenizer.pad_token_id
        for group in length_batches([len(encoded[i]) for i in fits], self.config.batch_size, 1 << 30):
            batch = [fits[g] for g in group]
            width = max(len(encoded[i]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # right padding: positions stay those of the unpadded input
                ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                mask[row, : len(encoded[i])] = 1
            with torch.inference_mode():
                logits = self.model(
                    input_ids=ids.to(self.model.device), attention_mask=mask.to(self.model.device)
                ).logits
            self.model_calls += len(batch)
            for row, i in enumerate(batch):
                out[i] = float(logits[row, 0])
        return out

    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        start = time.perf_counter()
        unique = list(dict.fromkeys((it.question, ans) for it in items for ans in (it.first, it.second)))
        scores = dict(zip(unique, self.rewards(unique)))
        per_item = (time.perf_counter() - start) / max(1, len(items))
        verdicts = []
        for it in items:
            r1, r2 = scores[(it.question, it.first)], scores[(it.question, it.second)]
            raw = json.dumps({"reward_first": r1, "reward_second": r2})
            if r1 is None or r2 is None:
                verdicts.append(
                    Verdict.unscored(
                        f"prompt plus answer is longer than max_length={self.max_length} tokens; not truncated",
                        raw_output=raw,
                        latency_s=per_item,
                    )
                )
            else:
                verdicts.append(
                    Verdict(
                        preference=1.0 / (1.0 + math.exp(r1 - r2)),
                        raw_output=raw,
                        completion_tokens=0,
                        latency_s=per_item,
                        cost_usd=0.0,
                    )
                )
        return verdicts
