"""A paired change in accuracy: the same prompts answered right or wrong by two checkpoints.

Two checkpoints answer the same reference prompts, so their accuracies are not independent samples: a test of
two independent proportions ignores that most prompts are right (or wrong) for both and is far too cautious
or, with few prompts, simply wrong. McNemar's exact test looks only at the discordant prompts: ``b`` right
before and wrong after, ``c`` wrong before and right after. Under "no change" each discordant prompt is a fair
coin, so the two-sided p-value is the exact binomial one on ``min(b, c)`` of ``b + c`` at 1/2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal


@dataclass(frozen=True)
class PairedChange:
    n: int  # prompts both checkpoints answered
    correct_before: int
    correct_after: int
    lost: int  # b: right before, wrong after
    gained: int  # c: wrong before, right after
    p_value: float  # McNemar's exact two-sided p-value; 1.0 with no discordant prompt
    direction: Literal["up", "down", "same"]  # the sign of gained - lost

    @property
    def accuracy_before(self) -> float | None:
        return self.correct_before / self.n if self.n else None

    @property
    def accuracy_after(self) -> float | None:
        return self.correct_after / self.n if self.n else None

    def significant(self, alpha: float = 0.05) -> bool:
        """True when the change is significant at ``alpha`` (two-sided): p <= alpha, stated once here."""
        return self.p_value <= alpha

    def to_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "accuracy_before": self.accuracy_before,
            "accuracy_after": self.accuracy_after,
        }


def mcnemar_exact(lost: int, gained: int) -> float:
    """Two-sided exact McNemar p-value for ``lost`` (b) and ``gained`` (c) discordant pairs.

    p = min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2). By hand for b = 1, c = 6:
    P(X <= 1) = (1 + 7) / 128 = 0.0625, so p = 0.125; for b = 0, c = 6: 2 / 64 = 0.03125.

    >>> mcnemar_exact(1, 6), mcnemar_exact(0, 6), mcnemar_exact(0, 0), mcnemar_exact(3, 3)
    (0.125, 0.03125, 1.0, 1.0)
    """
    if lost < 0 or gained < 0:
        raise ValueError(f"discordant counts must be >= 0, got lost={lost}, gained={gained}")
    n = lost + gained
    if n == 0:
        return 1.0
    k = min(lost, gained)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def paired_change(before: Sequence[bool], after: Sequence[bool]) -> PairedChange:
    """Compare two checkpoints' right/wrong answers on the same prompts (same order in both sequences).

    Two independent proportions and the paired test can disagree: 60 prompts, 30 right before; after, the same
    30 stay right and 8 more become right (38/60). A two-proportion z test gives p = 0.14; McNemar sees 8
    gained, 0 lost: p = 2 / 256 = 0.0078.

    >>> c = paired_change([True] * 30 + [False] * 30, [True] * 38 + [False] * 22)
    >>> (c.lost, c.gained, c.p_value, c.direction)
    (0, 8, 0.0078125, 'up')
    """
    if len(before) != len(after):
        raise ValueError(f"paired answers need the same prompts: {len(before)} before, {len(after)} after")
    lost = sum(1 for b, a in zip(before, after, strict=True) if b and not a)
    gained = sum(1 for b, a in zip(before, after, strict=True) if a and not b)
    direction: Literal["up", "down", "same"] = "up" if gained > lost else "down" if lost > gained else "same"
    return PairedChange(
        n=len(before),
        correct_before=sum(1 for b in before if b),
        correct_after=sum(1 for a in after if a),
        lost=lost,
        gained=gained,
        p_value=mcnemar_exact(lost, gained),
        direction=direction,
    )


__all__ = ["PairedChange", "mcnemar_exact", "paired_change"]
