"""pass@k and maj@k on prompts with a reference answer, from n sampled answers per prompt.

One greedy answer per prompt says little about what a policy can do; k sampled answers say more and
separate checkpoints with fewer prompts. With n answers sampled per prompt, c of them correct:

- pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1): the probability that
  at least one of k answers drawn without replacement from the n is correct, 1 - C(n - c, k) / C(n, k).
  It is the unbiased estimator of pass@k for a policy that is right with per-prompt probability c / n;
  drawing the first k of n and checking them would be unbiased too, but far noisier. pass@1 = c / n.
- maj@k (majority vote, "self-consistency"): the most frequent extracted answer among the first k sampled
  answers (a tie goes to the answer sampled first) is correct. Its answers are compared by the reference
  judge's extracted form, so "4" and "4.0" vote together on numeric prompts.

Each is averaged over prompts; the interval is the seeded percentile bootstrap over prompts
(``bootstrap.bootstrap_means``), the same resampling as every win rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from judges.stats.bootstrap import bootstrap_means, percentile_interval

__all__ = ["PromptMean", "majority_correct", "pass_at_k", "prompt_mean"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al.'s unbiased pass@k from n samples with c correct: 1 - C(n - c, k) / C(n, k).

    By hand, n = 4, c = 1, k = 2: 1 - C(3, 2) / C(4, 2) = 1 - 3 / 6 = 0.5; with c = 3 every pair of two holds
    a correct one (C(1, 2) = 0), so 1.0.

    >>> pass_at_k(4, 1, 2), pass_at_k(4, 3, 2), pass_at_k(4, 0, 4), pass_at_k(5, 2, 1)
    (0.5, 1.0, 0.0, 0.4)
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if k > n:
        raise ValueError(f"k = {k} is larger than the {n} sampled answers")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def majority_correct(answers: Sequence[str], correct: Sequence[bool], k: int) -> bool:
    """maj@k of one prompt: is the most frequent of the first k extracted answers correct?

    Ties between equally frequent answers go to the one sampled first.

    >>> majority_correct(["4", "5", "5", "4"], [True, False, False, True], 3)  # "5" twice of 3
    False
    >>> majority_correct(["4", "5", "5", "4"], [True, False, False, True], 4)  # 2-2: "4" came first
    True
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > len(answers):
        raise ValueError(f"k = {k} is larger than the {len(answers)} sampled answers")
    if len(answers) != len(correct):
        raise ValueError(f"{len(answers)} answers but {len(correct)} correctness flags")
    first = list(answers[:k])
    counts: dict[str, int] = {}
    for a in first:
        counts[a] = counts.get(a, 0) + 1
    top = max(counts.values())
    winner = next(a for a in first if counts[a] == top)
    return bool(correct[first.index(winner)])


@dataclass(frozen=True)
class PromptMean:
    """The mean of a per-prompt value (pass@k, maj@k) over n prompts, with a bootstrap interval over prompts."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    confidence: float
    n_boot: int
    seed: int

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def prompt_mean(
    values: Sequence[float] | np.ndarray, *, n_boot: int = 2000, seed: int = 0, confidence: float = 0.95
) -> PromptMean:
    """Mean over prompts and its seeded percentile bootstrap interval (None when there is no prompt).

    >>> m = prompt_mean([1.0, 0.0, 0.5, 0.5], n_boot=0)
    >>> m.value, m.n, m.ci_low
    (0.5, 4, None)
    """
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return PromptMean(None, None, None, 0, confidence, n_boot, seed)
    low, high = percentile_interval(bootstrap_means(v, n_boot=n_boot, seed=seed), confidence)
    clean = [None if math.isnan(x) else x for x in (low, high)]
    return PromptMean(float(v.mean()), clean[0], clean[1], len(v), confidence, n_boot, seed)
