"""Glue between the dashboard's query results and the project's statistics functions in `judges/`.

No statistic is defined here: win rates, intervals, p-values, Bradley-Terry, length control and judge health
all come from `judges.stats.winrate`, `judges.stats.bradley_terry`, `judges.stats.length_control` and `judges.stats.health`. This
module only reshapes query frames into their inputs and caches the heavier results by data version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import queries
import judges.stats.health as health
import judges.stats.length_control as length_control
import judges.stats.preferences as preferences
import judges.stats.winrate as winrate
from judges.stats.bradley_terry import PairCells, bradley_terry, pair_matrix

SEED = 0
N_BOOT = 1000
BT_BOOT = 200


def prompt_prefs(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """One judge's judgments of (old, new) as the helper's per-prompt frame: P(new better) per prompt."""
    return preferences.prompt_preferences(raw, model=new, baseline=old)


def headline(raw: pd.DataFrame, old: str, new: str) -> winrate.WinRate | None:
    """The helper's win rate of `new` over `old` for one judge's judgments; None when nothing is scored."""
    if raw.empty or raw["preference"].notna().sum() == 0:
        return None
    return winrate.win_rate(prompt_prefs(raw, old, new)["preference"], n_boot=N_BOOT, seed=SEED)


def by_category(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame | None:
    """The helper's win rate per category, one row per category with its n."""
    if raw.empty or raw["preference"].notna().sum() == 0:
        return None
    cells = winrate.win_rate_by(prompt_prefs(raw, old, new), "category", n_boot=N_BOOT, seed=SEED)
    rows = [{"category": k, **v.to_dict()} for k, v in cells.items()]
    return pd.DataFrame(rows)[["category", "win_rate", "ci_low", "ci_high", "p_value", "n_total", "n_unscored",
                               "n_wins", "n_losses", "n_ties"]]


def length_controlled(raw: pd.DataFrame, old: str, new: str) -> length_control.LengthControlled | None:
    prefs = prompt_prefs(raw, old, new)
    return length_control.lc_win_rate(prefs["preference"].to_numpy(), prefs["length_model"].to_numpy(),
                                      prefs["length_baseline"].to_numpy())


@st.cache_data(ttl=queries.DATA_TTL_S, show_spinner=False, max_entries=50)
def leaderboard(path: str | None, version: str, judge: str | None) -> pd.DataFrame | str:
    """Bradley-Terry over every checkpoint from bucketed preference cells; a message string if it cannot fit.

    Anchored on the first checkpoint of the store's first round when it is among the models.
    """
    cells_frame = queries.preference_cells(path, version, judge)
    if cells_frame.empty:
        return "No scored judgments for this selection."
    models = sorted(set(cells_frame["model_a"]) | set(cells_frame["model_b"]))
    cells = _cells(cells_frame, models)
    rounds = queries.rounds(path, version)
    first = rounds["checkpoint_id"].dropna()
    anchor = first.iloc[0] if len(first) and first.iloc[0] in models else None
    try:
        fit = bradley_terry(cells, n_boot=BT_BOOT, seed=SEED, anchor=anchor)
    except ValueError as exc:
        return str(exc)
    frame = fit.to_frame()
    frame["anchor"] = anchor
    return frame


def _cells(cells_frame: pd.DataFrame, models: list[str]) -> PairCells:
    index = {m: i for i, m in enumerate(models)}
    return PairCells(
        models=tuple(models),
        left=cells_frame["model_a"].map(index).to_numpy(dtype=np.int64),
        right=cells_frame["model_b"].map(index).to_numpy(dtype=np.int64),
        preference=cells_frame["preference"].to_numpy(dtype=float),
        count=cells_frame["n"].to_numpy(dtype=np.int64),
    )


def anchor_of(board: pd.DataFrame) -> str:
    anchor = board["anchor"].dropna()
    return str(anchor.iloc[0]) if len(anchor) else "the geometric mean"


@st.cache_data(ttl=queries.DATA_TTL_S, show_spinner=False, max_entries=50)
def observed_matrix(path: str | None, version: str, judge: str | None) -> pd.DataFrame:
    """Row model's verdict-level win rate against the column model (ties half), NaN where never judged."""
    cells_frame = queries.preference_cells(path, version, judge)
    models = sorted(set(cells_frame["model_a"]) | set(cells_frame["model_b"]))
    if not models:
        return pd.DataFrame()
    wins = pair_matrix(_cells(cells_frame, models))
    total = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, wins / np.where(total > 0, total, 1), np.nan)
    return pd.DataFrame(rate, index=models, columns=models)


def predicted_matrix(board: pd.DataFrame) -> pd.DataFrame:
    """Bradley-Terry's P(row beats column) = s_row / (s_row + s_col) for every pair."""
    s = board.set_index("model")["strength"]
    values = s.to_numpy()[:, None] / (s.to_numpy()[:, None] + s.to_numpy()[None, :])
    np.fill_diagonal(values, np.nan)
    return pd.DataFrame(values, index=s.index, columns=s.index)


def judge_table(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """Per judge on one comparison: the helper's health numbers beside raw and length-controlled win rates."""
    rows = []
    for judge_name, part in raw.groupby("judge", sort=True):
        h = health.judge_health(part, judge_name)
        head = headline(part, old, new)
        lc = length_controlled(part, old, new) if head is not None else None
        rows.append({
            "judge": judge_name,
            "n_scored_prompts": head.n_total if head else 0,
            "win_rate": head.win_rate if head else np.nan,
            "lc_win_rate": lc.lc_win_rate if lc else np.nan,
            "length_coef": lc.coef_length if lc else np.nan,
            "position_consistency": h.position_consistency,
            "first_position_win_rate": h.first_position_win_rate,
            "tie_rate": h.tie_rate,
            "unscored_rate": h.unscored_rate,
            "n_verdicts": h.n_verdicts,
            "n_consistency_prompts": h.n_consistency_prompts,
        })
    return pd.DataFrame(rows)


def length_bins(raw: pd.DataFrame, n_bins: int = 8) -> pd.DataFrame:
    """Mean oriented verdict per judge within quantile bins of the length difference (new - old)."""
    scored = raw.dropna(subset=["pref_new", "length_new", "length_old"])
    if scored.empty:
        return pd.DataFrame(columns=["judge", "bin_mid", "win_rate", "n"])
    diff = (scored["length_new"] - scored["length_old"]).astype(float)
    edges = np.unique(np.quantile(diff, np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:
        edges = np.array([diff.min() - 0.5, diff.max() + 0.5])
    bins = pd.cut(diff, edges, include_lowest=True)
    frame = scored.assign(bin=bins, diff=diff)
    out = frame.groupby(["judge", "bin"], observed=True).agg(
        bin_mid=("diff", "median"), win_rate=("pref_new", "mean"), n=("pref_new", "size")).reset_index()
    return out.drop(columns=["bin"])


def agreement(raw: pd.DataFrame) -> pd.DataFrame | None:
    """Every pair of judges with scored verdicts: the helper's percent agreement and Cohen's kappa."""
    judges = sorted(raw.loc[raw["preference"].notna(), "judge"].unique())
    if len(judges) < 2:
        return None
    rows = []
    for i, x in enumerate(judges):
        for y in judges[i + 1 :]:
            a = health.judge_agreement(raw, x, y)
            rows.append({"judge_x": x, "judge_y": y, "n": a.n, "percent_agreement": a.percent_agreement,
                         "cohens_kappa": a.cohens_kappa})
    return pd.DataFrame(rows)


def agreement_matrix(pairs: pd.DataFrame, value: str = "percent_agreement") -> pd.DataFrame:
    """Square judge x judge matrix of `value` from `agreement`'s rows (1 on the diagonal)."""
    judges = sorted(set(pairs["judge_x"]) | set(pairs["judge_y"]))
    matrix = pd.DataFrame(np.eye(len(judges)), index=judges, columns=judges)
    for _, row in pairs.iterrows():
        matrix.loc[row["judge_x"], row["judge_y"]] = matrix.loc[row["judge_y"], row["judge_x"]] = row[value]
    return matrix


@st.cache_data(ttl=queries.DATA_TTL_S, show_spinner=False, max_entries=50)
def lc_by_comparison(path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...],
                     judge: str) -> pd.DataFrame:
    """Raw and length-controlled win rate of one judge for each (old, new) comparison.

    Per-prompt preferences and lengths come aggregated from DuckDB (one query for every round); the
    length-controlled fit is `judges.stats.length_control.lc_win_rate`.
    """
    per_prompt = queries.prompt_lengths(path, version, olds, news, judge)
    rows = []
    for (old, new), prefs in per_prompt.groupby(["old", "new"], sort=False):
        if prefs["preference"].notna().any():
            lc = length_control.lc_win_rate(prefs["preference"].to_numpy(dtype=float),
                                            prefs["length_model"].to_numpy(dtype=float),
                                            prefs["length_baseline"].to_numpy(dtype=float))
            rows.append({"old": old, "new": new, "win_rate": float(prefs["preference"].mean()),
                         "lc_win_rate": lc.lc_win_rate if lc else np.nan})
    return pd.DataFrame(rows, columns=["old", "new", "win_rate", "lc_win_rate"])


# --- cached entry points for pages: (store, data version, comparison) -> result -----------------------------
_cached = st.cache_data(ttl=queries.DATA_TTL_S, show_spinner=False, max_entries=100)


@_cached
def headline_for(path: str | None, version: str, old: str, new: str, judge: str) -> winrate.WinRate | None:
    return headline(queries.pair_judgments(path, version, old, new, judge), old, new)


@_cached
def by_category_for(path: str | None, version: str, old: str, new: str, judge: str) -> pd.DataFrame | None:
    return by_category(queries.pair_judgments(path, version, old, new, judge), old, new)


@_cached
def judge_table_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    return judge_table(queries.pair_judgments(path, version, old, new), old, new)


@_cached
def agreement_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame | None:
    return agreement(queries.pair_judgments(path, version, old, new))


@_cached
def length_bins_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    return length_bins(queries.pair_judgments(path, version, old, new))
