"""A small client for OpenAI-compatible chat-completions servers (vLLM, SGLang, TGI, hosted APIs).

Shared by the sampler's OpenAI backend and the OpenAI judge, so both get the same behaviour:
bounded concurrency (a thread pool, so it works from any caller, event loop or not), a timeout per
request, retries with exponential backoff on 429, 5xx and connection errors only (a 400 is the
caller's bug and retrying it wastes money; a 429's Retry-After is waited for), results in input
order, and a token ledger. Optional per-server requests-per-minute and tokens-per-minute limits
(``rlhf.rate_limit``, shared by every client of the process on the same server) and an optional
budget (``rlhf.budget``: a request whose estimated cost would pass it is not sent).

A 200 answer without a choice, or with a finish reason other than stop/length, is a ``ChatError``
naming the cause: the caller records it as a failure, never as an answer.

A request that still fails after its retries becomes a ``ChatError`` in its slot of the result
list; one bad request never sinks the others.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from rlhf.budget import Budget, Prices, estimate_tokens
from rlhf.rate_limit import limiter_for

__all__ = ["ChatError", "ChatResult", "OpenAIClient", "OpenAIClientError", "TokenLedger"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_FINISH_REASONS = frozenset({"stop", "length"})


class OpenAIClientError(RuntimeError):
    """The server cannot be used at all (unreachable, not healthy); the message names the URL."""


@dataclass(frozen=True)
class ChatResult:
    """One completed request.

    ``logprobs`` is, per generated token, a dict ``{token: logprob}`` of the top alternatives the
    server returned (the chosen token always included); ``None`` when logprobs were not asked for
    or the server gave none. ``tokens`` lists the chosen tokens in order (same length).
    """

    text: str
    logprobs: list[dict[str, float]] | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    finish_reason: str | None
    tokens: list[str] | None = None
    attempts: int = 1

    @property
    def retries(self) -> int:
        return self.attempts - 1


@dataclass(frozen=True)
class ChatError:
    """One request that failed for good: ``status`` is the last HTTP status (None for a transport error).

    ``budget_stopped``: never sent, because its estimated cost would have passed the budget (attempts 0).
    """

    error: str
    status: int | None
    attempts: int
    latency_s: float
    budget_stopped: bool = False

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


@dataclass
class TokenLedger:
    """Running totals over a client's lifetime (thread-safe through ``add``)."""

    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, outcome: ChatResult | ChatError, cost_usd: float = 0.0) -> None:
        if outcome.attempts == 0:
            return  # never sent (refused by the budget)
        with self._lock:
            self.requests += 1
            self.retries += outcome.attempts - 1
            if isinstance(outcome, ChatResult):
                self.succeeded += 1
                self.prompt_tokens += outcome.prompt_tokens
                self.completion_tokens += outcome.completion_tokens
                self.cost_usd += cost_usd
            else:
                self.failed += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "retries": self.retries,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


class OpenAIClient:
    """Chat completions against ``base_url`` (e.g. ``http://host:8000/v1``).

    The API key is read from the environment variable ``api_key_env`` (absent is fine for local
    servers) and kept only in the request headers: it is in no message, repr or log line. Prices, when
    given, are USD per million tokens and feed ``ledger.cost_usd`` and the budget.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        timeout_s: float = 60,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        prompt_price_per_mtok: float = 0.0,
        completion_price_per_mtok: float = 0.0,
        requests_per_min: float | None = None,
        tokens_per_min: float | None = None,
        budget_usd: float | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.prompt_price_per_mtok = prompt_price_per_mtok
        self.completion_price_per_mtok = completion_price_per_mtok
        self.prices = Prices(prompt_price_per_mtok, completion_price_per_mtok)
        if budget_usd is not None and self.prices.free:
            raise ValueError("budget_usd needs prompt_price_per_mtok or completion_price_per_mtok")
        self.budget = Budget(budget_usd) if budget_usd is not None else None
        self.limiter = limiter_for(self.base_url, requests_per_min, tokens_per_min)
        self.ledger = TokenLedger()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )

    # -- public -------------------------------------------------------------------------------
    def chat_many(self, requests: Sequence[dict[str, Any]]) -> list[ChatResult | ChatError]:
        """Send every request (a chat-completions body; ``model`` is filled in) and return the
        outcomes in input order."""
        if not requests:
            return []
        workers = min(self.max_concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai") as pool:
            return list(pool.map(self._chat_one, requests))

    def chat(self, request: dict[str, Any]) -> ChatResult | ChatError:
        return self._chat_one(request)

    def cost_of(self, result: ChatResult) -> float:
        return self.prices.cost(result.prompt_tokens, result.completion_tokens)

    def estimate(self, request: dict[str, Any]) -> tuple[int, int]:
        """(prompt, completion) tokens a request may use, before it is sent (``rlhf.budget``)."""
        completion = int(request.get("max_tokens") or request.get("max_completion_tokens") or 0)
        return estimate_tokens(request.get("messages") or []), completion

    @property
    def budget_exhausted(self) -> bool:
        return self.budget is not None and self.budget.exhausted

    def health(self) -> dict[str, Any]:
        """Ask ``GET {base_url}/models``; return ``{"ok": True, "models": [...], "latency_s": ...}``.

        Raises ``OpenAIClientError`` naming the URL when the server cannot be reached or answers
        with an error, so a misconfigured run stops before it queues thousands of requests.
        """
        url = f"{self.base_url}/models"
        start = time.perf_counter()
        try:
            response = self._http.get(url)
        except httpx.TransportError as exc:
            raise OpenAIClientError(_unreachable_message(url, exc)) from exc
        if response.status_code != 200:
            raise OpenAIClientError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            models = [m.get("id") for m in response.json().get("data", [])]
        except ValueError as exc:
            raise OpenAIClientError(f"{url} did not answer JSON: {response.text[:200]!r}") from exc
        return {"ok": True, "models": models, "latency_s": time.perf_counter() - start, "url": url}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- private ------------------------------------------------------------------------------
    def _chat_one(self, request: dict[str, Any]) -> ChatResult | ChatError:
        start = time.perf_counter()
        prompt_est, completion_est = self.estimate(request)
        reserved = self.prices.cost(prompt_est, completion_est)
        if self.budget is not None and not self.budget.reserve(reserved):
            return ChatError(self.budget.message(), None, 0, 0.0, budget_stopped=True)
        outcome = self._send(request, prompt_est + completion_est, start)
        if self.budget is not None:
            self.budget.settle(reserved, self.cost_of(outcome) if isinstance(outcome, ChatResult) else 0.0)
        return outcome

    def _send(self, request: dict[str, Any], estimated_tokens: int, start: float) -> ChatResult | ChatError:
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.model, **request}
        # Jitter from a per-request generator: concurrent retries do not stampede together.
        rng = random.Random(hash((id(request), start)))
        attempt = 0
        while True:
            attempt += 1
            error: str
            status: int | None = None
            retry_after: float | None = None
            if self.limiter is not None:
                self.limiter.acquire(estimated_tokens)
            try:
                response = self._http.post(url, json=body)
            except httpx.TransportError as exc:
                error = _unreachable_message(url, exc)
            else:
                status = response.status_code
                if status == 200:
                    outcome = _parse_completion(response, url, time.perf_counter() - start, attempt)
                    if self.limiter is not None and isinstance(outcome, ChatResult):
                        used = outcome.prompt_tokens + outcome.completion_tokens
                        self.limiter.settle(estimated_tokens, used or estimated_tokens)
                    self.ledger.add(
                        outcome, self.cost_of(outcome) if isinstance(outcome, ChatResult) else 0.0
                    )
                    return outcome
                error = f"{url} answered HTTP {status}: {response.text[:300]}"
                retry_after = _retry_after(response)
                if status not in _RETRY_STATUSES:
                    break
                if retry_after is not None and self.limiter is not None:
                    self.limiter.pause(min(self.max_backoff_s, retry_after))
            if attempt > self.max_retries:
                break
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)) * (0.5 + rng.random() / 2)
            if retry_after is not None:
                delay = min(self.max_backoff_s, max(delay, retry_after))
            time.sleep(delay)
        outcome = ChatError(
            error=error, status=status, attempts=attempt, latency_s=time.perf_counter() - start
        )
        self.ledger.add(outcome)
        return outcome


def _unreachable_message(url: str, exc: Exception) -> str:
    return f"cannot reach OpenAI-compatible server at {url}: {type(exc).__name__}: {exc}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _parse_completion(
    response: httpx.Response, url: str, latency_s: float, attempts: int
) -> ChatResult | ChatError:
    try:
        payload = response.json()
        if isinstance(payload, dict) and payload.get("choices") == []:
            return ChatError(f"{url} answered 200 with no choices", 200, attempts, latency_s)
        choice = payload["choices"][0]
        text = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return ChatError(
            error=f"{url} answered 200 with an unexpected body ({type(exc).__name__}: {exc}): {response.text[:200]!r}",
            status=200,
            attempts=attempts,
            latency_s=latency_s,
        )
    finish_reason = choice.get("finish_reason")
    if finish_reason not in _FINISH_REASONS:
        return ChatError(
            error=f"{url} answered with finish_reason {finish_reason!r} (expected one of "
            f"{', '.join(sorted(_FINISH_REASONS))}): {str(text)[:200]!r}",
            status=200,
            attempts=attempts,
            latency_s=latency_s,
        )
    usage = payload.get("usage") or {}
    tokens, logprobs = _parse_logprobs(choice.get("logprobs"))
    return ChatResult(
        text=text,
        logprobs=logprobs,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        latency_s=latency_s,
        finish_reason=finish_reason,
        tokens=tokens,
        attempts=attempts,
    )


def _parse_logprobs(block: Any) -> tuple[list[str] | None, list[dict[str, float]] | None]:
    """OpenAI's ``choices[0].logprobs.content``: [{token, logprob, top_logprobs: [{token, logprob}]}]."""
    if not isinstance(block, dict) or not isinstance(block.get("content"), list):
        return None, None
    tokens: list[str] = []
    per_token: list[dict[str, float]] = []
    for entry in block["content"]:
        if not isinstance(entry, dict) or "token" not in entry:
            return None, None
        top = {str(t["token"]): float(t["logprob"]) for t in entry.get("top_logprobs") or [] if "token" in t}
        if entry.get("logprob") is not None:
            top.setdefault(str(entry["token"]), float(entry["logprob"]))
        tokens.append(str(entry["token"]))
        per_token.append(top)
    return tokens, per_token
