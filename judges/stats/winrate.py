"""Win rate of one model over a baseline, with the uncertainty a lead needs to act on it.

Input: per-prompt preferences P(model better) (``judges.stats.preferences``), NaN for unscored prompts.
The definitions follow AlpacaEval so the numbers compare with its leaderboard: win rate = mean preference
(soft verdicts count as their value, ties as 0.5), wins p > 0.5, losses p < 0.5, ties p = 0.5, standard
error = sample standard deviation (ddof 1) / sqrt(n). On top: a seeded paired bootstrap interval over
prompts, a two-sided p-value that agrees with it by construction, the minimum detectable effect at 80%
power (``judges.stats.significance``), and Holm-adjusted flags across categories.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from judges.stats.bootstrap import bootstrap_means
from judges.stats.significance import holm, interval_test, minimum_detectable_effect, rejects

__all__ = ["NO_CATEGORY", "WinRate", "win_rate", "win_rate_by"]

NO_CATEGORY = "(none)"
NULL = 0.5


@dataclass(frozen=True)
class WinRate:
    """Win rate of a model over a baseline on n_total scored prompts.

    win_rate: mean per-prompt P(model better), in [0, 1]. standard_error: ddof-1 std / sqrt(n_total).
    ci_low/ci_high: percentile interval of a seeded paired bootstrap over prompts (``confidence``,
    ``n_boot`` resamples, ``seed``). p_value: two-sided bootstrap p of "win rate = 0.5" from the same
    resamples; significant: the interval excludes 0.5, which is exactly p_value < alpha (``significance``)
    (NaN/False without resamples). mde: minimum detectable |win rate - 0.5| at 80% power for this n.
    n_total = n_wins + n_losses + n_ties (scored prompts); n_unscored: prompts with no scored verdict,
    left out of everything else. p_adjusted/significant_adjusted: Holm-adjusted across the cells of a
    breakdown (None outside one).
    """

    win_rate: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    mde: float
    n_wins: int
    n_losses: int
    n_ties: int
    n_total: int
    n_unscored: int
    confidence: float
    n_boot: int
    seed: int
    p_adjusted: float | None = None
    significant_adjusted: bool | None = None

    def to_dict(self) -> dict[str, float | int | bool | None]:
        """The fields as JSON-ready values (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def win_rate(
    preferences: np.ndarray | pd.Series | list[float],
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> WinRate:
    """Summarise per-prompt preferences P(model better); NaN entries are unscored prompts.

    >>> r = win_rate([1.0, 1.0, 0.5, 0.0, float("nan")], n_boot=0)
    >>> r.win_rate, r.n_wins, r.n_losses, r.n_ties, r.n_total, r.n_unscored
    (0.625, 2, 1, 1, 4, 1)
    >>> round(r.standard_error, 6)  # std([1, 1, .5, 0], ddof=1) / 2 = 0.478714 / 2
    0.239357
    >>> round(r.mde, 4)  # (1.959964 + 0.841621) * 0.239357
    0.6706
    >>> win_rate([0.0] * 30 + [1.0] * 10, n_boot=2000).significant  # a regression is significant too
    True
    """
    p = np.asarray(preferences, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("preferences must lie in [0, 1] (or be NaN for unscored prompts)")
    scored = np.sort(p[~np.isnan(p)])  # sorted: the interval depends on the values, not on the rows' order
    n = len(scored)
    n_wins, n_losses = int((scored > NULL).sum()), int((scored < NULL).sum())
    mean = float(scored.mean()) if n else float("nan")
    se = float(scored.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    means = bootstrap_means(scored, n_boot=n_boot, seed=seed) if n else np.empty(0)
    low, high, p_value, significant = interval_test(means, confidence, NULL)
    return WinRate(
        win_rate=mean,
        standard_error=se,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        significant=significant,
        mde=minimum_detectable_effect(se, confidence),
        n_wins=n_wins,
        n_losses=n_losses,
        n_ties=n - n_wins - n_losses,
        n_total=n,
        n_unscored=len(p) - n,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )


def win_rate_by(
    prompts: pd.DataFrame,
    by: str = "category",
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, WinRate]:
    """One WinRate per value of column ``by`` of a ``prompt_preferences`` frame (missing values: "(none)").

    Each cell's n is its WinRate's n_total (and n_unscored); the same seed is used in every cell. Every
    cell carries its Holm-adjusted p (over the cells with a p-value) and the flag p_adjusted < alpha.
    """
    if by not in prompts.columns:
        raise ValueError(f"cannot break down by {by!r}: no such column (have {list(prompts.columns)})")
    keys = prompts[by].astype(object).where(prompts[by].notna(), NO_CATEGORY).astype(str)
    cells = {
        key: win_rate(group["preference"], confidence=confidence, n_boot=n_boot, seed=seed)
        for key, group in prompts.groupby(keys, sort=True)
    }
    adjusted = holm([c.p_value for c in cells.values()])
    return {
        key: replace(
            cell,
            p_adjusted=None if math.isnan(a) else float(a),
            significant_adjusted=rejects(a, confidence),
        )
        for (key, cell), a in zip(cells.items(), adjusted)
    }
