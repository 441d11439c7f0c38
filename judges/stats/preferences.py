"""Win rate of one model over a baseline, with the uncertainty a lead needs to act on it.

The unit is the prompt. Every judgment is oriented to P(model better than baseline); a prompt judged in
both display orders contributes the mean of its two verdicts, a prompt judged once contributes that one.
Unscored verdicts (NULL preference) are left out and counted; a prompt with no scored verdict is an
unscored prompt, never a tie. The definitions follow AlpacaEval so the numbers compare with its
leaderboard: win rate = mean preference (soft verdicts count as their value, ties as 0.5), wins p > 0.5,
losses p < 0.5, ties p = 0.5, standard error = sample standard deviation (ddof 1) / sqrt(n). On top of
AlpacaEval we add a seeded paired bootstrap interval and a one-sided sign test.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from judges.stats.bootstrap import bootstrap_means, percentile_interval

__all__ = ["WinRate", "pair_preferences", "prompt_preferences", "sign_test", "win_rate", "win_rate_by"]

NO_CATEGORY = "(none)"


@dataclass(frozen=True)
class WinRate:
    """Win rate of a model over a baseline on n_total scored prompts.

    win_rate: mean per-prompt P(model better), in [0, 1]. standard_error: ddof-1 std / sqrt(n_total).
    ci_low/ci_high: percentile interval of a seeded paired bootstrap over prompts (``confidence``,
    ``n_boot`` resamples, ``seed``). p_value: one-sided sign test of "model better than baseline" over
    wins and losses (ties dropped); 1.0 when there are none. n_total = n_wins + n_losses + n_ties
    (scored prompts); n_unscored: prompts with no scored verdict, left out of everything else.
    """

    win_rate: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n_wins: int
    n_losses: int
    n_ties: int
    n_total: int
    n_unscored: int
    confidence: float
    n_boot: int
    seed: int

    def to_dict(self) -> dict[str, float | int | None]:
        """The fields as JSON-ready values (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def sign_test(n_wins: int, n_losses: int) -> float:
    """One-sided exact sign test p-value for "wins are more likely than losses" (ties already dropped).

    >>> round(sign_test(8, 2), 6)  # P(X >= 8), X ~ Binomial(10, 1/2) = 56/1024
    0.054688
    """
    from scipy.stats import binomtest  # scipy.stats takes about a second to import; only pay when used

    n = n_wins + n_losses
    if n == 0:
        return 1.0
    return float(binomtest(n_wins, n, 0.5, alternative="greater").pvalue)


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
    """
    p = np.asarray(preferences, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("preferences must lie in [0, 1] (or be NaN for unscored prompts)")
    scored = p[~np.isnan(p)]
    n = len(scored)
    n_wins, n_losses = int((scored > 0.5).sum()), int((scored < 0.5).sum())
    mean = float(scored.mean()) if n else float("nan")
    se = float(scored.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    low, high = percentile_interval(bootstrap_means(scored, n_boot=n_boot, seed=seed), confidence)
    return WinRate(
        win_rate=mean,
        standard_error=se,
        ci_low=low,
        ci_high=high,
        p_value=sign_test(n_wins, n_losses),
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
    prompts: pd.DataFrame, by: str = "category", *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> dict[str, WinRate]:
    """One WinRate per value of column ``by`` of a ``prompt_preferences`` frame (missing values: "(none)").

    Each cell's n is its WinRate's n_total (and n_unscored); the same seed is used in every cell.
    """
    if by not in prompts.columns:
        raise ValueError(f"cannot break down by {by!r}: no such column (have {list(prompts.columns)})")
    keys = prompts[by].astype(object).where(prompts[by].notna(), NO_CATEGORY).astype(str)
    return {
        key: win_rate(group["preference"], confidence=confidence, n_boot=n_boot, seed=seed)
        for key, group in prompts.groupby(keys, sort=True)
    }


def _side(x: pd.Series) -> pd.Series:
    """+1 when x favours the model, -1 the baseline, 0 a tie."""
    return np.sign(x - 0.5)


def prompt_preferences(
    judgments: pd.DataFrame, model: str, baseline: str, judge: str | None = None
) -> pd.DataFrame:
    """One row per prompt: P(model better than baseline) from the judgments of that pair.

    ``judgments`` has the columns of ``schema.TABLES['judgments']`` (``order``, ``category``, lengths and
    answers may be missing). Rows with model_a = baseline, model_b = model count their preference; rows
    with model_a = model, model_b = baseline count 1 - preference. Returns columns prompt_id, preference
    (NaN when every verdict was unscored), n_verdicts, n_unscored_verdicts, consistent (True/False when
    both display orders were scored: did they pick the same side; NA otherwise), category,
    length_model, length_baseline (characters; NaN when unknown). Raises ValueError when several judges
    match and ``judge`` is None, since pooling judges would count a prompt twice.
    """
    forward = (judgments["model_a"] == baseline) & (judgments["model_b"] == model)
    mirrored = (judgments["model_a"] == model) & (judgments["model_b"] == baseline)
    keep = forward | mirrored
    if judge is not None:
        keep &= judgments["judge"] == judge
    rows = judgments[keep]
    judges = sorted(rows["judge"].dropna().unique().tolist()) if "judge" in rows else []
    if judge is None and len(judges) > 1:
        raise ValueError(f"judgments of {model!r} vs {baseline!r} come from several judges {judges}; pick one")
    fwd = forward[keep].to_numpy()
    pref = rows["preference"].astype(float).to_numpy()
    oriented = np.where(fwd, pref, 1.0 - pref)
    order = rows["order"].fillna("ab").to_numpy() if "order" in rows else np.full(len(rows), "ab")
    first_shown = np.where(order == "ba", rows["model_b"].to_numpy(), rows["model_a"].to_numpy())
    frame = pd.DataFrame(
        {
            "prompt_id": rows["prompt_id"].to_numpy(),
            "p": oriented,
            "p_model_first": np.where(first_shown == model, oriented, np.nan),
            "p_baseline_first": np.where(first_shown == model, np.nan, oriented),
            "category": rows["category"].to_numpy() if "category" in rows else None,
            "length_model": np.where(fwd, _lengths(rows, "b"), _lengths(rows, "a")),
            "length_baseline": np.where(fwd, _lengths(rows, "a"), _lengths(rows, "b")),
        }
    )
    grouped = frame.groupby("prompt_id", sort=True)
    out = grouped.agg(
        preference=("p", "mean"),
        n_verdicts=("p", "size"),
        n_scored=("p", "count"),
        model_first=("p_model_first", "mean"),
        baseline_first=("p_baseline_first", "mean"),
        category=("category", "first"),
        length_model=("length_model", "mean"),
        length_baseline=("length_baseline", "mean"),
    ).reset_index()
    both = out["model_first"].notna() & out["baseline_first"].notna()
    same = _side(out["model_first"]) == _side(out["baseline_first"])
    out["consistent"] = pd.array(np.where(both, same, False), dtype="boolean")
    out.loc[~both, "consistent"] = pd.NA
    out["n_unscored_verdicts"] = out["n_verdicts"] - out["n_scored"]
    columns = ["prompt_id", "preference", "n_verdicts", "n_unscored_verdicts", "consistent", "category"]
    return out[columns + ["length_model", "length_baseline"]]


def _lengths(rows: pd.DataFrame, side: str) -> np.ndarray:
    """Answer lengths in characters: the stored length, else the length of the stored answer text."""
    length = rows[f"length_{side}"].astype(float) if f"length_{side}" in rows else pd.Series(np.nan, rows.index)
    if f"answer_{side}" in rows:
        length = length.fillna(rows[f"answer_{side}"].str.len().astype(float))
    return length.to_numpy(dtype=float)


def pair_preferences(judgments: pd.DataFrame) -> pd.DataFrame:
    """One row per (judge, prompt, unordered model pair): the pair's verdicts combined, for every pair at once.

    Models are sorted so that model_x < model_y; preference = P(model_y better), the mean of every
    scored verdict of that judge on that prompt and pair (both orders, both a/b assignments), NaN when
    all were unscored. Columns: judge, prompt_id, model_x, model_y, preference, n_verdicts, category.
    This is what Bradley-Terry and judge agreement consume.

    >>> j = pd.DataFrame({"judge": ["J", "J"], "prompt_id": ["p", "p"], "model_a": ["b", "a"],
    ...                   "model_b": ["a", "b"], "preference": [0.2, 0.6]})
    >>> pair_preferences(j)[["model_x", "model_y", "preference"]].values.tolist()
    [['a', 'b', 0.7]]
    """
    a = judgments["model_a"].astype(str).to_numpy()
    b = judgments["model_b"].astype(str).to_numpy()
    swap = a > b
    pref = judgments["preference"].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "judge": judgments["judge"].to_numpy(),
            "prompt_id": judgments["prompt_id"].to_numpy(),
            "model_x": np.where(swap, b, a),
            "model_y": np.where(swap, a, b),
            "p": np.where(swap, 1.0 - pref, pref),
            "category": judgments["category"].to_numpy() if "category" in judgments else None,
        }
    )
    out = frame.groupby(["judge", "prompt_id", "model_x", "model_y"], sort=True, dropna=False).agg(
        preference=("p", "mean"), n_verdicts=("p", "size"), category=("category", "first")
    )
    return out.reset_index()
