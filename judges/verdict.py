"""The typed result of one pairwise judgment, as the judge saw it.

``preference`` is the probability that the answer shown SECOND is better than the answer shown
FIRST, in [0, 1] (0.5 = a genuine tie). It is deliberately positional: a judge only knows what it
was shown. The driver (``judges.run``) un-mirrors it into the store's convention, P(model_b better):
for order 'ab' (model_a's answer shown first) that is ``preference``; for 'ba' it is ``1 - preference``.

A judge that cannot decide (server down, unparseable output, prompt too long, no reference) returns
an unscored verdict: ``preference is None`` and ``error`` says why. Never a tie for a failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Verdict:
    preference: float | None  # P(second-shown answer is better); None = unscored
    error: str | None = None  # why it is unscored; None when scored
    rationale: str | None = None  # the judge's explanation, when one was generated
    raw_output: str | None = None  # what the model said (text, or the verdict log-probs as JSON)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    cost_usd: float | None = None
    retries: int | None = None  # requests repeated after a 429/5xx/timeout to reach this verdict (API judges)
    # An unscored verdict caused by the infrastructure (server unreachable, 429/5xx after retries,
    # timeout): the driver neither caches nor stores it, so a rerun tries the pair again.
    retryable: bool = False

    def __post_init__(self) -> None:
        if self.preference is None:
            if not self.error:
                raise ValueError("an unscored verdict (preference=None) needs an error saying why")
        else:
            if self.error is not None:
                raise ValueError(f"a scored verdict cannot carry an error (got {self.error!r})")
            p = float(self.preference)
            if not math.isfinite(p) or not 0.0 <= p <= 1.0:
                raise ValueError(f"preference must be a probability in [0, 1], got {self.preference!r}")
            object.__setattr__(self, "preference", p)
            if self.retryable:
                raise ValueError("only an unscored verdict can be retryable")

    @property
    def scored(self) -> bool:
        return self.preference is not None

    @classmethod
    def unscored(cls, error: str, **fields) -> Verdict:
        return cls(preference=None, error=error, **fields)

    def with_(self, **changes) -> Verdict:
        return replace(self, **changes)


def unmirror(preference: float | None, order: str) -> float | None:
    """P(second-shown better) -> P(model_b better) for the order it was shown in ('ab' or 'ba').

    >>> unmirror(0.8, "ab"), unmirror(0.8, "ba"), unmirror(None, "ba")
    (0.8, 0.19999999999999996, None)
    """
    if order not in ("ab", "ba"):
        raise ValueError(f"order must be 'ab' or 'ba', got {order!r}")
    if preference is None:
        return None
    return preference if order == "ab" else 1.0 - preference
