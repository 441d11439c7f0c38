"""Local LLM judge on any Hugging Face causal LM directory.

Logprob mode (default): the judge prompt ends where the model must name the better response, and
ONE forward pass gives the log-probabilities of the verdict tokens ('A'/' A' for the first shown,
'B'/' B' for the second). The soft preference is their normalised ratio:

    preference = P(B) / (P(A) + P(B)) = sigmoid(logsumexp(logp[B ids]) - logsumexp(logp[A ids]))

``verdict_mass`` = P(A) + P(B) is stored in ``raw_output``: when it is small the model was not
answering the question, and ``min_verdict_mass`` turns such verdicts into unscored ones.
Pairs are sorted by length and batched (left padding with explicit position ids).

Reasoning mode: the model writes its comparison first (up to ``max_new_tokens``) and ends with
[[A]], [[B]] or [[C]] (a tie), as the MT-bench and Arena-Hard judge prompts ask; no verdict in the
text means unscored. It is far slower; the benchmark measures by how much.

Rationales (``explain``) are generated with the reasoning template only for the pairs the driver
asks about (losses, disagreements), so nobody pays for text nobody reads.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from typing import Any

from judges._lm import (
    encode_chat,
    generate_greedy,
    last_logprobs,
    length_batches,
    lm_for,
    shares_prefix,
    single_token_ids,
)
from judges.config import LLMJudgeConfig
from judges.protocol import JudgeDefaults, PairItem, Rationale
from judges.template import JudgeTemplate, load_template
from judges.verdict import Verdict
from rlhf.models import dtype_name

_VERDICT_TAG = re.compile(r"\[\[\s*([ABC])\s*\]\]")


def parse_bracket_verdict(text: str) -> float | None:
    """The last [[A]] / [[B]] / [[C]] in ``text`` as P(second better): 0, 1, 0.5; None if absent.

    >>> parse_bracket_verdict("A is vague. B is right. [[B]]"), parse_bracket_verdict("[[C]]"), parse_bracket_verdict("B")
    (1.0, 0.5, None)
    """
    found = _VERDICT_TAG.findall(text)
    if not found:
        return None
    return {"A": 0.0, "B": 1.0, "C": 0.5}[found[-1]]


class LLMJudge(JudgeDefaults):
    def __init__(
        self,
        config: LLMJudgeConfig | None = None,
        *,
        model=None,
        tokenizer=None,
        model_hash: str | None = None,
    ):
        self.config = config = config or LLMJudgeConfig()
        model, tokenizer, model_hash, self.pad_id = lm_for("LLMJudge", config, model, tokenizer, model_hash)
        self.model, self.tokenizer = model, tokenizer
        self.template: JudgeTemplate = load_template(config.template)
        self.rationale_template: JudgeTemplate = load_template(config.rationale_template)
        self.judge_id = config.name
        # reasoning mode: the verdict carries its reasoning already
        self.rationale: Rationale = "never" if config.mode == "reasoning" else config.rationale
        self.template_hash = self.template.hash
        self.label_ids = {label: single_token_ids(tokenizer, label) for label in ("A", "B")}
        for label, ids in self.label_ids.items():
            if not ids:
                raise ValueError(
                    f"judge model {config.model}: no single-token spelling of verdict label {label!r}"
                )
        if set(self.label_ids["A"]) & set(self.label_ids["B"]):
            raise ValueError(f"judge model {config.model}: verdict labels A and B share a token id")
        model_max = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self.max_length = (
            min(config.max_length, model_max) if isinstance(model_max, int) else config.max_length
        )
        self.judge_version = self._version(model_hash)
        self.model_calls = 0  # pairs sent through the model (cache hits never reach here)
        self.forward_passes = 0

    # -- public -------------------------------------------------------------------------------
    def judge(self, items: Sequence[PairItem]) -> list[Verdict]:
        if self.config.mode == "reasoning":
            return self._judge_by_reasoning(items)
        return self._judge_by_logprobs(items)

    def explain(self, items: Sequence[PairItem]) -> list[str | None]:
        encoded = [self._encode(self.rationale_template, item) for item in items]
        out: list[str | None] = [None] * len(items)
        for batch, texts, _ in self._generate(encoded):
            for i, (text, _) in zip(batch, texts):
                out[i] = text
        return out

    # -- private ------------------------------------------------------------------------------
    def _version(self, model_hash: str) -> str:
        """Every setting that can change a verdict: a different version is a different judge (and cache)."""
        config = self.config
        version = f"{config.mode}:{self.template.name}@{self.template.hash[:12]}:model@{model_hash[:12]}"
        version += f":max_length={self.max_length}:dtype={dtype_name(self.model)}"
        if config.mode == "logprob":
            version += f":min_verdict_mass={config.min_verdict_mass:g}"
            if shares_prefix(self.model):  # verdicts differ from the whole-prompt forward by float rounding
                version += ":prefix=shared"
        if config.rationale != "never" or config.mode == "reasoning":
            version += f":max_new_tokens={config.max_new_tokens}"
        if config.rationale != "never":
            version += f":rationale={config.rationale}@{self.rationale_template.hash[:12]}"
        return version

    def _encode(self, template: JudgeTemplate, item: PairItem) -> list[int]:
        messages, prefix = template.render(question=item.question, answer_1=item.first, answer_2=item.second)
        return encode_chat(self.tokenizer, messages, prefix)

    def _too_long(self, n: int) -> Verdict:
        return Verdict.unscored(
            f"judge prompt has {n} tokens, more than max_length={self.max_length}; not truncated",
            prompt_tokens=n,
        )

    def _judge_by_logprobs(self, items: Sequence[PairItem]) -> list[Verdict]:
        encoded = [self._encode(self.template, item) for item in items]
        verdicts: list[Verdict | None] = [None] * len(items)
        fits = [i for i, seq in enumerate(encoded) if len(seq) <= self.max_length]
        for i in set(range(len(items))) - set(fits):
            verdicts[i] = self._too_long(len(encoded[i]))
        lengths = [len(encoded[i]) for i in fits]
        for group in length_batches(lengths, self.config.batch_size, self.config.max_batch_tokens):
            batch = [fits[g] for g in group]
            start = time.perf_counter()
            logprobs = last_logprobs(self.model, [encoded[i] for i in batch], self.pad_id)[:, -1, :]
            self.forward_passes += 1
            self.model_calls += len(batch)
            per_item = (time.perf_counter() - start) / len(batch)
            for row, i in enumerate(batch):
                verdicts[i] = self._soft_verdict(logprobs[row], len(encoded[i]), per_item)
        return verdicts  # type: ignore[return-value]

    def _soft_verdict(self, logprobs, n_prompt: int, latency_s: float) -> Verdict:
        import torch

        lp_a = float(torch.logsumexp(logprobs[self.label_ids["A"]], dim=0))
        lp_b = float(torch.logsumexp(logprobs[self.label_ids["B"]], dim=0))
        mass = math.exp(lp_a) + math.exp(lp_b)
        raw = json.dumps({"logp_A": lp_a, "logp_B": lp_b, "verdict_mass": mass})
        common: dict[str, Any] = dict(
            raw_output=raw, prompt_tokens=n_prompt, completion_tokens=0, latency_s=latency_s, cost_usd=0.0
        )
        if not (math.isfinite(lp_a) and math.isfinite(lp_b)):
            return Verdict.unscored("verdict log-probabilities are not finite", **common)
        if mass < self.config.min_verdict_mass:
            return Verdict.unscored(
                f"verdict tokens got probability {mass:.3g} < min_verdict_mass={self.config.min_verdict_mass}",
                **common,
            )
        preference = 1.0 / (1.0 + math.exp(lp_a - lp_b))  # sigmoid(lp_b - lp_a)
        return Verdict(preference=preference, **common)

    def _generate(self, encoded: list[list[int]]):
        fits = [i for i, seq in enumerate(encoded) if len(seq) <= self.max_length]
        lengths = [len(encoded[i]) + self.config.max_new_tokens for i in fits]
        for group in length_batches(lengths, self.config.batch_size, self.config.max_batch_tokens):
            batch = [fits[g] for g in group]
            self.model_calls += len(batch)
            start = time.perf_counter()
            outputs = generate_greedy(
                self.model, self.tokenizer, [encoded[i] for i in batch], self.config.max_new_tokens
            )
            yield batch, outputs, (time.perf_counter() - start) / len(batch)

    def _judge_by_reasoning(self, items: Sequence[PairItem]) -> list[Verdict]:
        import torch

        torch.manual_seed(self.config.seed)
        encoded = [self._encode(self.template, item) for item in items]
        verdicts: list[Verdict | None] = [None] * len(items)
        for i, seq in enumerate(encoded):
            if len(seq) > self.max_length:
                verdicts[i] = self._too_long(len(seq))
        for batch, outputs, per_item in self._generate(encoded):
            for i, (text, n_new) in zip(batch, outputs):
                common: dict[str, Any] = dict(
                    raw_output=text,
                    rationale=text,
                    prompt_tokens=len(encoded[i]),
                    completion_tokens=n_new,
                    latency_s=per_item,
                    cost_usd=0.0,
                )
                preference = parse_bracket_verdict(text)
                if preference is None:
                    verdicts[i] = Verdict.unscored(
                        "no [[A]], [[B]] or [[C]] verdict in the judge's output", **common
                    )
                else:
                    verdicts[i] = Verdict(preference=preference, **common)
        return verdicts  # type: ignore[return-value]
