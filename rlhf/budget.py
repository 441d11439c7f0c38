"""What API requests cost, estimated before they are sent, and a budget that stops a run in time.

The server holds the tokenizer, so a request's tokens are estimated from its text: ``estimate_tokens``
counts one token per three characters plus a few per message for the chat template, which is above what
English text takes in the usual BPE vocabularies (about four characters a token), and the completion at
its ``max_tokens`` (the most it may cost). ``Budget.reserve`` admits a request only when what was spent,
plus the estimates of the requests in flight, plus this one's estimate stays within the budget, so a run
stops before the first request that could pass it; ``settle`` replaces the estimate with what the server
reported.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Budget", "BudgetExhausted", "Prices", "check_limits", "estimate_tokens"]

_CHARS_PER_TOKEN = 3
_TOKENS_PER_MESSAGE = 8


class BudgetExhausted(RuntimeError):
    """The run's budget does not admit the next request; what was done so far is stored."""


def estimate_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """Prompt tokens of a chat request, estimated from its text (see the module docstring).

    >>> estimate_tokens([{"role": "user", "content": "x" * 30}])
    18
    """
    chars = sum(len(str(m.get("content") or "")) for m in messages)
    return math.ceil(chars / _CHARS_PER_TOKEN) + _TOKENS_PER_MESSAGE * len(messages)


@dataclass(frozen=True)
class Prices:
    """USD per million prompt and completion tokens."""

    prompt_per_mtok: float = 0.0
    completion_per_mtok: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for these tokens.

        >>> Prices(2.0, 8.0).cost(1_000, 500)
        0.006
        """
        return (prompt_tokens * self.prompt_per_mtok + completion_tokens * self.completion_per_mtok) / 1e6

    @property
    def free(self) -> bool:
        return self.prompt_per_mtok == 0 and self.completion_per_mtok == 0


class Budget:
    """``limit_usd`` for one run; thread-safe. ``exhausted`` once a request was refused."""

    def __init__(self, limit_usd: float) -> None:
        if not limit_usd > 0:
            raise ValueError(f"budget_usd must be > 0, got {limit_usd!r}")
        self.limit_usd = limit_usd
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self.refused = 0
        self._lock = threading.Lock()

    @property
    def exhausted(self) -> bool:
        return self.refused > 0

    def reserve(self, estimate_usd: float) -> bool:
        with self._lock:
            if self.refused or self.spent_usd + self.reserved_usd + estimate_usd > self.limit_usd:
                self.refused += 1
                return False
            self.reserved_usd += estimate_usd
            return True

    def settle(self, estimate_usd: float, actual_usd: float) -> None:
        with self._lock:
            self.reserved_usd -= estimate_usd
            self.spent_usd += actual_usd

    def message(self) -> str:
        return (
            f"budget ${self.limit_usd:.4f} reached: ${self.spent_usd:.4f} spent, the next request's "
            f"estimated cost would pass it; stopped before sending it"
        )


def check_limits(config: Any) -> None:
    """The rate limits, budget and prices an API-calling config carries (the judge's and the sampler's):
    raise ValueError naming the key."""
    for key in ("requests_per_min", "tokens_per_min", "budget_usd"):
        value = getattr(config, key)
        if value is not None and not value > 0:
            raise ValueError(f"{key} must be > 0 (or left out for no limit), got {value!r}")
    for key in ("prompt_price_per_mtok", "completion_price_per_mtok"):
        if not getattr(config, key) >= 0:
            raise ValueError(f"{key} must be >= 0 (USD per million tokens), got {getattr(config, key)!r}")
    if (
        config.budget_usd is not None
        and Prices(config.prompt_price_per_mtok, config.completion_price_per_mtok).free
    ):
        raise ValueError(
            "budget_usd needs prices: set prompt_price_per_mtok and/or completion_price_per_mtok "
            "(USD per million tokens)"
        )
