"""The unit of every win rate: one preference per prompt.

Every judgment is oriented to P(model better than baseline); a prompt judged in both display orders
contributes the mean of its scored verdicts, a prompt judged once contributes that one. A verdict whose
display order is unknown (``order`` NULL, e.g. imported from elsewhere) is averaged like any other but
takes no part in position metrics. Unscored verdicts (NULL preference) are left out and counted; a prompt
with no scored verdict is an unscored prompt (NaN), never a tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "VERSION_COLUMNS",
    "PairItems",
    "pair_items",
    "pair_preferences",
    "prompt_preferences",
    "same_side",
    "side",
]

VERSION_COLUMNS = ("judge", "judge_version")


def side(p: Any) -> Any:
    """The side a preference P(model better) favours: +1 the model, -1 the baseline, 0 a tie (exactly 0.5);
    NaN stays NaN. Scalars, arrays and Series alike: the one definition of "the side of a verdict".

    >>> side(0.7), side(0.5), side(0.2), side(pd.Series([0.4, 0.6])).tolist()
    (1.0, 0.0, -1.0, [-1.0, 1.0])
    """
    return float(np.sign(float(p) - 0.5)) if np.ndim(p) == 0 else np.sign(p - 0.5)


def same_side(p: Any, q: Any) -> Any:
    """Do two preferences favour the same side of 0.5 (both above, both below, or both exactly 0.5)? The position
    consistency of a pair's two display orders. Elementwise for arrays and Series; NaN is on no side.

    >>> bool(same_side(0.9, 0.6)), bool(same_side(0.9, 0.4)), bool(same_side(0.5, 0.5)), bool(same_side(0.5, 0.6))
    (True, False, True, False)
    """
    result = side(p) == side(q)
    return bool(result) if np.ndim(result) == 0 else result


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
    match and ``judge`` is None, or when several judge versions match (filter to one version first:
    a changed template or setting is a different judge), since pooling would count a prompt twice.
    Verdicts with unknown order count in ``preference`` but not in ``consistent``.
    """
    forward = (judgments["model_a"] == baseline) & (judgments["model_b"] == model)
    mirrored = (judgments["model_a"] == model) & (judgments["model_b"] == baseline)
    keep = forward | mirrored
    if judge is not None:
        keep &= judgments["judge"] == judge
    rows = judgments[keep]
    judges = sorted(rows["judge"].dropna().unique().tolist()) if "judge" in rows else []
    if judge is None and len(judges) > 1:
        raise ValueError(
            f"judgments of {model!r} vs {baseline!r} come from several judges {judges}; pick one"
        )
    _one_version(rows)
    fwd = forward[keep].to_numpy()
    pref = rows["preference"].astype(float).to_numpy()
    oriented = np.where(fwd, pref, 1.0 - pref)
    order = (
        rows["order"].to_numpy(dtype=object) if "order" in rows else np.full(len(rows), None, dtype=object)
    )
    known = pd.Series(order).isin(["ab", "ba"]).to_numpy()
    first_shown = np.where(order == "ba", rows["model_b"].to_numpy(), rows["model_a"].to_numpy())
    frame = pd.DataFrame(
        {
            "prompt_id": rows["prompt_id"].to_numpy(),
            "p": oriented,
            "p_model_first": np.where(known & (first_shown == model), oriented, np.nan),
            "p_baseline_first": np.where(known & (first_shown != model), oriented, np.nan),
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
    same = same_side(out["model_first"], out["baseline_first"])
    out["consistent"] = pd.array(np.where(both, same, False), dtype="boolean")
    out.loc[~both, "consistent"] = pd.NA
    out["n_unscored_verdicts"] = out["n_verdicts"] - out["n_scored"]
    columns = ["prompt_id", "preference", "n_verdicts", "n_unscored_verdicts", "consistent", "category"]
    return out[[*columns, "length_model", "length_baseline"]]


def _lengths(rows: pd.DataFrame, side: str) -> np.ndarray:
    """Answer lengths in characters: the stored length, else the length of the stored answer text."""
    length = (
        rows[f"length_{side}"].astype(float) if f"length_{side}" in rows else pd.Series(np.nan, rows.index)
    )
    if f"answer_{side}" in rows:
        length = length.fillna(rows[f"answer_{side}"].str.len().astype(float))
    return length.to_numpy(dtype=float)


@dataclass(frozen=True)
class PairItems:
    """``pair_preferences``' items as integer codes, for callers that compute with numbers, not names.

    Item i is (judges[judge[i]], prompts[prompt[i]], models[x[i]], models[y[i]]) with x < y (models sorted
    as text); items are sorted by (judge, prompt, x, y). ``preference`` = P(models[y] better), NaN when
    every verdict of the item was unscored; ``n_verdicts`` counts its verdicts; ``row_item`` is the item of
    every judgment row. ``judges`` and ``prompts`` are sorted, a missing value last.
    """

    judges: pd.Index
    prompts: pd.Index
    models: pd.Index
    judge: np.ndarray
    prompt: np.ndarray
    x: np.ndarray
    y: np.ndarray
    preference: np.ndarray
    n_verdicts: np.ndarray
    row_item: np.ndarray


def pair_items(judgments: pd.DataFrame) -> PairItems:
    """One item per (judge, prompt, unordered model pair): the mean of its scored verdicts, as codes.

    The definition ``pair_preferences`` states, without turning the codes back into names. Raises
    ValueError when one judge appears with several judge versions (filter to one version first).

    >>> j = pd.DataFrame({"judge": ["J", "J", "J"], "prompt_id": ["q", "p", "p"], "model_a": ["a", "b", "a"],
    ...                   "model_b": ["b", "a", "b"], "preference": [1.0, 0.2, 0.6]})
    >>> items = pair_items(j)
    >>> items.prompts.tolist(), items.prompt.tolist(), items.preference.tolist(), items.row_item.tolist()
    (['p', 'q'], [0, 1], [0.7, 1.0], [1, 0, 0])
    """
    judge_code, judges = _factorize(judgments["judge"])
    _one_version(judgments, judge_code, judges)
    prompt_code, prompts = pd.factorize(judgments["prompt_id"], sort=True, use_na_sentinel=False)
    a_code, a_names = pd.factorize(judgments["model_a"], use_na_sentinel=False)
    b_code, b_names = pd.factorize(judgments["model_b"], use_na_sentinel=False)
    # model names compared as text (str), as the canonical order model_x < model_y is defined
    a_text, b_text = a_names.astype(str).to_numpy(), b_names.astype(str).to_numpy()
    names = pd.Index(sorted(set(a_text.tolist()) | set(b_text.tolist())))
    a_rank, b_rank = names.get_indexer(a_text)[a_code], names.get_indexer(b_text)[b_code]
    swap = a_rank > b_rank
    x_rank, y_rank = np.where(swap, b_rank, a_rank), np.where(swap, a_rank, b_rank)
    pref = judgments["preference"].astype(float).to_numpy()
    p = np.where(swap, 1.0 - pref, pref)
    # one sortable integer per (judge, prompt, x, y): its order is the lexicographic order of the four keys
    m = max(len(names), 1)
    key = ((judge_code.astype(np.int64) * len(prompts) + prompt_code) * m + x_rank) * m + y_rank
    group, keys = _factorize_sorted(key)
    n_groups = len(keys)
    scored = ~np.isnan(p)
    n_scored = np.bincount(group, weights=scored, minlength=n_groups)
    total = np.bincount(group, weights=np.where(scored, p, 0.0), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        preference = np.where(n_scored > 0, total / np.where(n_scored > 0, n_scored, 1.0), np.nan)
    rest, y_key = np.divmod(keys, m)
    rest, x_key = np.divmod(rest, m)
    judge_key, prompt_key = np.divmod(rest, len(prompts)) if len(prompts) else (rest, rest)
    return PairItems(
        judges=judges,
        prompts=prompts,
        models=names,
        judge=judge_key,
        prompt=prompt_key,
        x=x_key,
        y=y_key,
        preference=preference,
        n_verdicts=np.bincount(group, minlength=n_groups).astype(np.int64),
        row_item=group,
    )


def pair_preferences(judgments: pd.DataFrame) -> pd.DataFrame:
    """One row per (judge, prompt, unordered model pair): the pair's verdicts combined, for every pair at once.

    Models are sorted so that model_x < model_y; preference = P(model_y better), the mean of every
    scored verdict of that judge on that prompt and pair (both orders, both a/b assignments), NaN when
    all were unscored. Columns: judge, prompt_id, model_x, model_y, preference, n_verdicts, category.
    This is what Bradley-Terry and judge agreement consume. Raises ValueError when one judge appears with
    several judge versions (filter to one version first).

    >>> j = pd.DataFrame({"judge": ["J", "J"], "prompt_id": ["p", "p"], "model_a": ["b", "a"],
    ...                   "model_b": ["a", "b"], "preference": [0.2, 0.6]})
    >>> pair_preferences(j)[["model_x", "model_y", "preference"]].values.tolist()
    [['a', 'b', 0.7]]
    """
    items = pair_items(judgments)
    return pd.DataFrame(
        {
            "judge": _key_column(items.judges, items.judge),
            "prompt_id": _key_column(items.prompts, items.prompt),
            "model_x": _key_column(items.models, items.x),
            "model_y": _key_column(items.models, items.y),
            "preference": items.preference,
            "n_verdicts": items.n_verdicts,
            "category": _first_present(judgments, items.row_item, len(items.preference)),
        }
    )


def _factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(column, sort=True, use_na_sentinel=False)``, at a tenth of the time when the column holds
    one value (one judge, one judge version: the usual frame), which one vectorised comparison finds.

    >>> codes, uniques = _factorize(pd.Series(["J", "J"], dtype="str"))
    >>> codes.tolist(), uniques.tolist()
    ([0, 0], ['J'])
    """
    same = (
        len(column)
        and column.dtype != object
        and column.eq(column.iloc[0]).to_numpy(bool, na_value=False).all()
    )
    # a missing value compares unequal (or missing: counted unequal too), so it takes the general path
    if same:
        return np.zeros(len(column), dtype=np.intp), pd.factorize(column.iloc[:1], sort=True)[1]
    return pd.factorize(column, sort=True, use_na_sentinel=False)


def _factorize_sorted(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(key, sort=True)`` for non-negative int64 keys: (code of every key, sorted distinct keys).

    A stable radix sort on 16-bit digits, least significant first (numpy sorts 16-bit integers by radix):
    about twice as fast as a comparison sort on a million keys.

    >>> codes, uniques = _factorize_sorted(np.array([70000, 3, 70000, 5]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 0, 2, 1], [3, 5, 70000])
    """
    if len(key) == 0:
        return np.zeros(0, dtype=np.intp), np.asarray(key, dtype=np.int64)
    order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    shift, top = 16, int(key.max())
    while top >> shift:
        digit = ((key >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit[order], kind="stable")]
        shift += 16
    ordered = key[order]
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    codes = np.empty(len(key), dtype=np.intp)
    codes[order] = np.cumsum(first) - 1
    return codes, ordered[first]


def _key_column(uniques: pd.Index, codes: np.ndarray) -> pd.Series:
    """A group key column, typed as pandas' groupby would type it (text in object columns becomes str)."""
    if len(codes) == 0:
        return pd.Series([], dtype=object)
    taken = pd.Series(uniques.take(codes))
    return pd.Series(taken.to_numpy(dtype=object)) if taken.dtype == object else taken


def _first_present(judgments: pd.DataFrame, group: np.ndarray, n_groups: int) -> pd.Series:
    """Per group, the first non-missing category in row order (missing when the group has none)."""
    out = np.full(n_groups, None, dtype=object)
    if "category" in judgments:
        category = judgments["category"].to_numpy(dtype=object)
        present = np.flatnonzero(judgments["category"].notna().to_numpy())
        groups_with, first = np.unique(group[present], return_index=True)
        out[groups_with] = category[present[first]]
    return pd.Series(out)


def _one_version(
    rows: pd.DataFrame, judge_code: np.ndarray | None = None, judges: pd.Index | None = None
) -> None:
    """Refuse to pool judge versions: each judge may appear with one judge_version only.

    ``judge_code``/``judges``: ``pd.factorize(rows["judge"], sort=True, use_na_sentinel=False)`` when the
    caller has it already.
    """
    if "judge_version" not in rows or rows.empty:
        return
    version_code, versions = _factorize(rows["judge_version"])
    if len(versions) == 1:
        return
    if judge_code is None or judges is None:
        judge_code, judges = _factorize(rows["judge"])
    seen = np.unique(judge_code.astype(np.int64) * len(versions) + version_code)
    pooled = np.flatnonzero(np.bincount(seen // len(versions), minlength=len(judges)) > 1)
    if len(pooled):
        name = judges[pooled[0]]
        found = sorted(map(str, rows.loc[rows["judge"] == name, "judge_version"].unique()))
        raise ValueError(
            f"judge {name!r} appears with several judge versions {found}; pick one (never pooled)"
        )
