"""Sampling from an OpenAI-compatible server (vLLM, SGLang, TGI, a fleet behind a load balancer).

This is how sampling scales past one machine. Requests go through the shared ``OpenAIClient``: bounded
concurrency, timeouts, retries with backoff on 429/5xx. Each request carries its own derived seed (servers
such as vLLM honour it per request). A request that still fails is returned with ``error`` set and is not
stored, so a rerun retries it; a prompt the server rejects as longer than its context is recorded as skipped
with the server's reason (the server holds the tokenizer, so it cannot be truncated here). Rate limits,
prices and a budget come from the config (``rlhf.rate_limit``, ``rlhf.budget``); once the budget refused a
request, ``generate`` raises ``BudgetExhausted`` so the run stops after committing what it has.
"""

from __future__ import annotations

from collections.abc import Sequence

from rlhf.budget import BudgetExhausted
from rlhf.openai_client import ChatError, OpenAIClient
from rlhf.sampler.backend import BatchCallback, FinishReason, GenerationOutput, GenerationRequest
from rlhf.sampler.config import SamplerConfig

_CONTEXT_MARKERS = ("context length", "context_length", "maximum context", "too long", "max_model_len")


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, config: SamplerConfig, *, client: OpenAIClient | None = None) -> None:
        if not config.base_url:
            raise ValueError("the openai backend needs config.base_url")
        self.config = config
        self.client = client or OpenAIClient(
            config.base_url,
            model,
            api_key_env=config.api_key_env or "OPENAI_API_KEY",
            max_concurrency=config.max_concurrency,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            prompt_price_per_mtok=config.prompt_price_per_mtok,
            completion_price_per_mtok=config.completion_price_per_mtok,
            requests_per_min=config.requests_per_min,
            tokens_per_min=config.tokens_per_min,
            budget_usd=config.budget_usd,
        )
        self.model_calls = 0

    def order(self, requests: Sequence[GenerationRequest]) -> list[GenerationRequest]:
        return list(requests)  # the server batches continuously; order does not matter

    def generate(
        self, requests: Sequence[GenerationRequest], on_batch: BatchCallback | None = None
    ) -> list[GenerationOutput]:
        outputs: list[GenerationOutput] = []
        step = max(1, self.config.max_concurrency * 4)  # progress granularity
        for start in range(0, len(requests), step):
            if self.client.budget_exhausted and self.client.budget is not None:
                if not outputs:
                    raise BudgetExhausted(self.client.budget.message())
                outputs.extend(_not_sent(self.client.budget.message()) for _ in requests[start:])
                break
            part = requests[start : start + step]
            self.model_calls += len(part)
            results = self.client.chat_many([self._body(r) for r in part])
            converted = [self._output(result) for result in results]
            outputs.extend(converted)
            if on_batch:
                on_batch(len(part), sum(o.completion_tokens or 0 for o in converted))
        return outputs

    def _body(self, request: GenerationRequest) -> dict:
        body = {
            "messages": request.chat(),
            "max_tokens": self.config.max_new_tokens,
            "temperature": float(self.config.temperature),
            "seed": request.seed,
        }
        if not self.config.greedy:
            body["top_p"] = float(self.config.top_p)
        return body

    def _output(self, result) -> GenerationOutput:
        if isinstance(result, ChatError):
            if result.budget_stopped:
                return _not_sent(result.error)
            if result.status == 400 and any(m in result.error.lower() for m in _CONTEXT_MARKERS):
                reason = f"server rejected the prompt as too long: {result.error[:300]}"
                return GenerationOutput(None, None, 0, result.latency_s, "skipped", reason)
            return GenerationOutput(
                None, None, None, result.latency_s, None, error=result.error, retries=result.retries
            )
        finish: FinishReason = "length" if result.finish_reason == "length" else "stop"
        return GenerationOutput(
            text=result.text,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            latency_s=result.latency_s,
            finish_reason=finish,
            retries=result.retries,
        )

    def close(self) -> None:
        self.client.close()


def _not_sent(reason: str) -> GenerationOutput:
    return GenerationOutput(None, None, None, 0.0, None, error=reason, not_sent=True)
