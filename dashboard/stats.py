"""Glue between the dashboard's query results and the statistics core (`judges.stats`).

No statistic is defined here: win rates, intervals, two-sided p-values, significance, minimum detectable
effects, Bradley-Terry (`judges.stats.bradley_terry.leaderboard`, the same function and anchor rule as
`rlhf leaderboard`), length control, judge health and the canary verdict all come from `judges.stats`. This
module reshapes query frames into their inputs and caches the results by data version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import judges.stats.health as health
import judges.stats.length_control as length_control
import judges.stats.preferences as preferences
import judges.stats.style_control as style_control
import judges.stats.winrate as winrate
from dashboard import queries
from dashboard.summaries import summarised
from judges.stats.bradley_terry import anchor_rule, max_failed_share, pair_cells, pair_matrix
from judges.stats.bradley_terry import leaderboard as fit_leaderboard
from judges.stats.canary import headline_judge
from judges.stats.prompt_health import PromptHealth
from judges.stats.prompt_health import prompt_health as fit_prompt_health

SEED = 0
N_BOOT = 1000  # resamples for win rates (as `rlhf winrate`'s default is larger; 1,000 keeps pages quick)
BT_BOOT = 1000  # Bradley-Terry resamples over prompts, as `rlhf leaderboard`'s default
BT_CONFIDENCE = 0.95  # as `rlhf leaderboard`'s default
BT_RULE = anchor_rule(BT_CONFIDENCE)

_cached = st.cache_data(ttl=queries.DATA_TTL_S, show_spinner=False, max_entries=100)


def prompt_prefs(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """One judge's judgments of (old, new) as the core's per-prompt frame: P(new better) per prompt."""
    return preferences.prompt_preferences(raw, model=new, baseline=old)


def headline(raw: pd.DataFrame, old: str, new: str) -> winrate.WinRate | None:
    """The core's win rate of `new` over `old` for one judge's judgments; None when nothing is scored."""
    if raw.empty or raw["preference"].notna().sum() == 0:
        return None
    return winrate.win_rate(prompt_prefs(raw, old, new)["preference"], n_boot=N_BOOT, seed=SEED)


def by_category(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame | None:
    """The core's win rate per category (Holm-adjusted flags across categories), one row per category."""
    if raw.empty or raw["preference"].notna().sum() == 0:
        return None
    cells = winrate.win_rate_by(prompt_prefs(raw, old, new), "category", n_boot=N_BOOT, seed=SEED)
    rows = [{"category": k, **v.to_dict()} for k, v in cells.items()]
    return pd.DataFrame(rows)[
        [
            "category",
            "win_rate",
            "ci_low",
            "ci_high",
            "p_value",
            "p_adjusted",
            "significant_adjusted",
            "n_total",
            "n_unscored",
            "n_wins",
            "n_losses",
            "n_ties",
        ]
    ]


@_cached
@summarised
def leaderboard(path: str | None, version: str, judge: str) -> pd.DataFrame | str:
    """`rlhf leaderboard --judge J` for the judge's latest version: the core's Bradley-Terry over (prompt,
    model pair) items, prompts resampled, rating 1000 = the geometric mean (`BT_RULE`). A message string
    when it cannot be fitted (also when too many resamples have no maximum-likelihood solution). The
    frame's attrs carry ``n_boot`` and ``n_failed_resamples`` (resamples without one, left out)."""
    rows = queries.judge_rows(path, version, judge)
    if rows["preference"].notna().sum() == 0:
        return "No scored judgments by this judge."
    try:
        fit = fit_leaderboard(rows, n_boot=BT_BOOT, seed=SEED, confidence=BT_CONFIDENCE)
    except ValueError as exc:
        return str(exc)
    frame = fit.to_frame()
    frame.attrs.update(n_boot=fit.n_boot, n_failed_resamples=fit.n_failed_resamples)
    return frame


def failed_resamples_text(board: pd.DataFrame) -> str:
    """What the leaderboard's caption says about resamples without a maximum-likelihood solution.

    >>> board = pd.DataFrame(); board.attrs.update(n_boot=1000, n_failed_resamples=3)
    >>> failed_resamples_text(board)
    '3 of 1000 resamples had no maximum-likelihood solution and were left out (above 2.5% the fit refuses)'
    """
    n_boot, failed = board.attrs.get("n_boot", 0), board.attrs.get("n_failed_resamples", 0)
    return (
        f"{failed} of {n_boot} resamples had no maximum-likelihood solution and were left out (above "
        f"{max_failed_share(BT_CONFIDENCE):.1%} the fit refuses)"
    )


@_cached
def style_leaderboard(
    path: str | None, version: str, judge: str
) -> tuple[pd.DataFrame, pd.DataFrame, str] | str:
    """`rlhf leaderboard --style-control --judge J` at the judge's latest version: (ratings with and without style
    control per model, style coefficients, a note on items left out), or a message when it cannot be fitted."""
    board = leaderboard(path, version, judge)
    if isinstance(board, str):
        return board
    rows = queries.judge_rows(path, version, judge)
    try:
        fit = style_control.style_leaderboard(
            rows, queries.judge_answers(path, version, judge), n_boot=BT_BOOT, seed=SEED
        )
    except ValueError as exc:
        return f"style control not fitted: {exc}"
    both = board[["model", "rating", "ci_low", "ci_high", "n"]].merge(fit.to_frame(), on="model", how="left")
    note = f"{fit.n_items} items fitted"
    if fit.n_left_out_no_text:
        note += f"; {fit.n_left_out_no_text} items left out because an answer's text is unknown"
    if fit.dropped_features:
        note += f"; no variation, dropped: {', '.join(fit.dropped_features)}"
    return both, fit.coefficients(), note


@_cached
@summarised
def prompt_health(path: str | None, version: str, judge: str) -> PromptHealth | None:
    """`rlhf prompts health --judge J` for the judge's latest version: per prompt over the rounds, separation,
    saturation and verdict moves; per category n and MDE. None when no judgment of the judge names a round."""
    rows = queries.judge_round_rows(path, version, judge)
    if rows["round_id"].notna().sum() == 0:
        return None
    order = [str(r) for r in queries.rounds(path, version)["round_id"]]
    return fit_prompt_health(rows, order)


@_cached
@summarised
def observed_matrix(path: str | None, version: str, judge: str) -> pd.DataFrame:
    """Row model's win rate against the column model over the judge's (prompt, pair) items, NaN where the
    two were never judged against each other."""
    rows = queries.judge_rows(path, version, judge)
    rows = rows[rows["model_a"] != rows["model_b"]]
    if rows["preference"].notna().sum() == 0:
        return pd.DataFrame()
    items = preferences.pair_preferences(rows)
    cells = pair_cells(items["model_x"], items["model_y"], items["preference"])
    wins = pair_matrix(cells)
    total = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, wins / np.where(total > 0, total, 1), np.nan)
    return pd.DataFrame(rate, index=list(cells.models), columns=list(cells.models))


def predicted_matrix(board: pd.DataFrame) -> pd.DataFrame:
    """Bradley-Terry's P(row beats column) = s_row / (s_row + s_col) for every pair."""
    s = board.set_index("model")["strength"]
    values = s.to_numpy()[:, None] / (s.to_numpy()[:, None] + s.to_numpy()[None, :])
    np.fill_diagonal(values, np.nan)
    return pd.DataFrame(values, index=s.index, columns=s.index)


def judge_table(raw: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """Per judge on one comparison: the core's health numbers beside the raw win rate (``judge_table_for`` adds the
    length-controlled win rate, fitted as `rlhf winrate` fits it)."""
    rows = []
    for judge_name, part in raw.groupby("judge", sort=True):
        h = health.judge_health(part, str(judge_name))
        head = headline(part, old, new)
        rows.append(
            {
                "judge": judge_name,
                "n_scored_prompts": head.n_total if head else 0,
                "win_rate": head.win_rate if head else np.nan,
                "position_consistency": h.position_consistency,
                "first_position_win_rate": h.first_position_win_rate,
                "tie_rate": h.tie_rate,
                "unscored_rate": h.unscored_rate,
                "n_verdicts": h.n_verdicts,
                "n_consistency_prompts": h.n_consistency_prompts,
            }
        )
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
    bins = pd.cut(diff, list(edges), include_lowest=True)
    frame = scored.assign(bin=bins, diff=diff)
    out = (
        frame.groupby(["judge", "bin"], observed=True)
        .agg(bin_mid=("diff", "median"), win_rate=("pref_new", "mean"), n=("pref_new", "size"))
        .reset_index()
    )
    return out.drop(columns=["bin"])


def agreement(raw: pd.DataFrame) -> pd.DataFrame | None:
    """Every pair of judges with scored verdicts: the core's percent agreement and Cohen's kappa."""
    judges = sorted(raw.loc[raw["preference"].notna(), "judge"].unique())
    if len(judges) < 2:
        return None
    rows = []
    for i, x in enumerate(judges):
        for y in judges[i + 1 :]:
            a = health.judge_agreement(raw, x, y)
            rows.append(
                {
                    "judge_x": x,
                    "judge_y": y,
                    "n": a.n,
                    "percent_agreement": a.percent_agreement,
                    "cohens_kappa": a.cohens_kappa,
                }
            )
    return pd.DataFrame(rows)


def agreement_matrix(pairs: pd.DataFrame, value: str = "percent_agreement") -> pd.DataFrame:
    """Square judge x judge matrix of `value` from `agreement`'s rows (1 on the diagonal)."""
    judges = sorted(set(pairs["judge_x"]) | set(pairs["judge_y"]))
    matrix = pd.DataFrame(np.eye(len(judges)), index=judges, columns=judges)
    for _, row in pairs.iterrows():
        matrix.loc[row["judge_x"], row["judge_y"]] = matrix.loc[row["judge_y"], row["judge_x"]] = row[value]
    return matrix


@_cached
@summarised
def lc_by_comparison(
    path: str | None, version: str, olds: tuple[str, ...], news: tuple[str, ...], judge: str
) -> pd.DataFrame:
    """Raw and length-controlled win rate of one judge for each (old, new) comparison, as `rlhf winrate`.

    Per-prompt preferences and lengths of every checkpoint judged against each `old` come aggregated from
    DuckDB (one query); the fit is the core's `lc_win_rate_against_baseline` (instruction difficulty from all
    of them, on the prompts of the comparison).
    """
    per_prompt = queries.baseline_prompt_lengths(path, version, tuple(sorted(set(olds))), judge)
    rows = []
    for old, new in zip(olds, news, strict=True):
        own = per_prompt[(per_prompt["old"] == old) & (per_prompt["new"] == new)]
        if not own["preference"].notna().any():
            continue
        lc = _lc_against_baseline(per_prompt, old, new)
        rows.append(
            {
                "old": old,
                "new": new,
                "win_rate": float(own["preference"].mean()),
                "lc_win_rate": lc.lc_win_rate if lc else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["old", "new", "win_rate", "lc_win_rate"])


def _lc_against_baseline(
    per_prompt: pd.DataFrame, old: str, new: str
) -> length_control.LengthControlled | None:
    """The core's length control of `new` over `old` from `queries.baseline_prompt_lengths` rows: every
    checkpoint judged against `old`, on the prompts of this comparison."""
    against = per_prompt[per_prompt["old"] == old]
    own = against[against["new"] == new]
    if own.empty:
        return None
    covered = against[against["prompt_id"].isin(set(own["prompt_id"]))]
    frames = {str(m): f.drop(columns=["old", "new"]) for m, f in covered.groupby("new", sort=True)}
    return length_control.lc_win_rate_against_baseline(frames, new, baseline=old)


# --- judge trust: canaries and the headline judge -----------------------------------------------------------
@_cached
def _cards(path: str | None, version: str) -> list[dict]:
    """The core's report card of every judge version (`judges.stats.report_card.report_cards`, as
    `rlhf judge report`), as JSON-ready dicts."""
    from judges.stats.report_card import report_cards as cards_of
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.judgments import report_rows

    store = queries.store(path)
    return [card.to_dict() for card in cards_of(report_rows(store), canary_results(store))]


@_cached
@summarised
def report_cards(path: str | None, version: str) -> pd.DataFrame:
    """The report cards (`_cards`), one row per judge version; nested numbers flattened into columns. Empty
    when no judge has verdicts or canaries."""
    rows = []
    for c in _cards(path, version):
        row = {
            "judge": c["judge"],
            "judge_version": c["judge_version"],
            "verdicts": c["n_verdicts"],
            "canary_accuracy": c["canary_accuracy"],
            "canaries": {True: "informative", False: "UNINFORMATIVE", None: "none stored"}[
                c["canary_informative"]
            ],
            "canary_stopped": c.get("canary_stopped"),  # where the canaries stopped early; None: complete
        }
        for kind in ("correct", "truncated", "length"):
            row[f"canary_{kind}"] = (c["canary_by_kind"].get(kind) or {}).get("accuracy")
        row.update(
            {
                "position_consistency": c["position_consistency"],
                "first_position_rate": c["first_position_rate"],
                "p_prefers_longer": c["p_prefers_longer"],
                "p_prefers_markdown": c["p_prefers_markdown"],
                "tie_rate": c["tie_rate"],
                "unscored_rate": c["unscored_rate"],
                **{f"unscored_{cause}": n for cause, n in c["unscored_by_cause"].items()},
                "human_items": c["human_n"],
                "human_kappa": c["human_kappa"],
                "kappa_low": c["human_kappa_ci"][0],
                "kappa_high": c["human_kappa_ci"][1],
                "seconds_per_1000": c["seconds_per_1000"],
                "prompt_tokens_per_1000": c["prompt_tokens_per_1000"],
                "completion_tokens_per_1000": c["completion_tokens_per_1000"],
                "cost_usd_per_1000": c["cost_usd_per_1000"],
                "retries_per_1000": c["retries_per_1000"],
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


@_cached
@summarised
def panel_members(path: str | None, version: str) -> pd.DataFrame:
    """Each judge panel's members against the panel (`ReportCard.member_agreement`): judge, judge_version,
    member, n, agreement, kappa. Empty when no panel has judged."""
    rows = [
        {"judge": c["judge"], "judge_version": c["judge_version"], **a}
        for c in _cards(path, version)
        for a in c["member_agreement"]
    ]
    return pd.DataFrame(rows, columns=["judge", "judge_version", "member", "n", "agreement", "kappa"])


@_cached
def canaries(path: str | None, version: str) -> pd.DataFrame:
    """Each judge's canary result at the version the dashboard reads it (its latest), from
    `rlhf.store.queries.canaries.canary_results`: judge, judge_version, n, accuracy, ci_low, ci_high,
    informative, ... Empty when no canaries ran."""
    from rlhf.store.queries.canaries import canary_results

    results = canary_results(queries.store(path))
    read_at = queries.judge_versions(path, version)
    if results.empty or read_at.empty:
        return results.iloc[0:0]
    merged = results.merge(read_at[["judge", "judge_version"]], on=["judge", "judge_version"], how="inner")
    return merged.reset_index(drop=True)


@_cached
def judged_less(path: str | None, version: str) -> pd.DataFrame:
    """Per round and judge that failed its canaries and so judged less than every prompt (the recipe's
    `round.uninformative_judges`, recorded in the evaluate stage's detail): round_id, judge, policy
    ("sample" or "skip"), n_judged, n_eligible and ``judged``, the words the Progress page shows."""
    from rlhf.store.queries.rounds import evaluated_rounds

    rows = []
    for round_id, detail in evaluated_rounds(queries.store(path)):
        for name, summary in (detail.get("judges") or {}).items():
            left_out = summary.get("uninformative") or {}
            if not left_out:
                continue
            n_judged = int(left_out.get("n_judged", 0))
            n_eligible = n_judged + int(left_out.get("n_not_judged", 0))
            rows.append(
                {
                    "round_id": round_id,
                    "judge": str(summary.get("judge", name)),
                    "policy": left_out.get("policy"),
                    "n_judged": n_judged,
                    "n_eligible": n_eligible,
                    "judged": judged_words(left_out.get("policy"), n_judged, n_eligible),
                }
            )
    return pd.DataFrame(rows, columns=["round_id", "judge", "policy", "n_judged", "n_eligible", "judged"])


def judged_words(policy: object, n_judged: int, n_eligible: int) -> str:
    """What a comparison's ``judged`` cell says: every prompt, or the sample / nothing of a judge that failed
    its canaries.

    >>> judged_words("sample", 32, 224), judged_words("skip", 0, 224), judged_words(None, 0, 0)
    ('sample of 32 of 224 prompts (failed its canaries)', 'none of 224 prompts (failed its canaries)', 'every prompt')
    """
    if policy == "sample":
        return f"sample of {n_judged} of {n_eligible} prompts (failed its canaries)"
    if policy == "skip":
        return f"none of {n_eligible} prompts (failed its canaries)"
    return "every prompt"


@_cached
def primary(path: str | None, version: str) -> str | None:
    """The recipe's primary judge as recorded by the latest round's evaluate stage, if any."""
    from rlhf.store.queries.rounds import primary_judge

    value = primary_judge(queries.store(path))
    return value if isinstance(value, str) and value else None


def trust(
    path: str | None, version: str, judges: list[str], consistency: dict[str, float] | None = None
) -> tuple[str | None, dict[str, str]]:
    """(the default judge of every page, a verdict word per judge) for the judges with scored verdicts.

    The default is the core's `headline_judge` (the recipe's primary unless its canaries fail, else the
    informative judge with the best canary accuracy). When that names nobody (no canary result and no
    primary judge) it is the judge not known to be uninformative with the best position consistency in
    `consistency` (then name order). Never an uninformative judge.
    """
    results = canaries(path, version)
    by_judge = {str(r["judge"]): r for _, r in results.iterrows()}
    verdicts = {
        j: ("informative" if bool(by_judge[j]["informative"]) else "UNINFORMATIVE")
        if j in by_judge
        else "no canaries"
        for j in judges
    }
    main = primary(path, version)
    if main is not None and main in verdicts and verdicts[main] != "UNINFORMATIVE":
        verdicts[main] = "primary, " + verdicts[main]
    candidates = {j: by_judge.get(j) for j in judges}
    chosen = headline_judge(candidates, main if main in judges else None)
    if chosen is None:
        usable = [j for j in sorted(judges) if verdicts[j] != "UNINFORMATIVE"]
        score = {j: float((consistency or {}).get(j, float("nan"))) for j in usable}
        usable.sort(key=lambda j: -score[j] if score[j] == score[j] else float("inf"))
        chosen = usable[0] if usable else None
    return chosen, verdicts


# --- cached entry points for pages: (store, data version, comparison) -> result -----------------------------
@_cached
@summarised
def headline_for(path: str | None, version: str, old: str, new: str, judge: str) -> winrate.WinRate | None:
    return headline(queries.pair_judgments(path, version, old, new, judge), old, new)


@_cached
@summarised
def latest_table(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    """Every judge on one comparison: the core's win rate, interval, two-sided p, significance, MDE, n and
    unscored prompts, beside the judge's health on that comparison."""
    raw = queries.pair_judgments(path, version, old, new)
    rows = []
    for judge_name, part in raw.groupby("judge", sort=True):
        head = headline(part, old, new)
        h = health.judge_health(part, str(judge_name))
        n_unscored = head.n_unscored if head else int(part["prompt_id"].nunique())
        rows.append(
            {
                "judge": judge_name,
                "win_rate": head.win_rate if head else np.nan,
                "ci_low": head.ci_low if head else np.nan,
                "ci_high": head.ci_high if head else np.nan,
                "p_value": head.p_value if head else np.nan,
                "significant": bool(head.significant) if head else False,
                "mde": head.mde if head else np.nan,
                "n": head.n_total if head else 0,
                "unscored": n_unscored,
                "consistency": h.position_consistency,
                "ties": h.tie_rate,
            }
        )
    return pd.DataFrame(rows)


@_cached
@summarised
def by_category_for(path: str | None, version: str, old: str, new: str, judge: str) -> pd.DataFrame | None:
    return by_category(queries.pair_judgments(path, version, old, new, judge), old, new)


@_cached
@summarised
def judge_table_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    table = judge_table(queries.pair_judgments(path, version, old, new), old, new)
    if table.empty:
        return table
    fits = [  # length control as `rlhf winrate` fits it
        _lc_against_baseline(queries.baseline_prompt_lengths(path, version, (old,), str(judge)), old, new)
        for judge in table["judge"]
    ]
    table.insert(3, "lc_win_rate", [lc.lc_win_rate if lc else np.nan for lc in fits])
    table.insert(4, "length_coef", [lc.coef_length if lc else np.nan for lc in fits])
    return table


@_cached
@summarised
def agreement_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame | None:
    return agreement(queries.pair_judgments(path, version, old, new))


@_cached
@summarised
def length_bins_for(path: str | None, version: str, old: str, new: str) -> pd.DataFrame:
    return length_bins(queries.pair_judgments(path, version, old, new))


@_cached
@summarised
def judge_trust(path: str | None, version: str) -> tuple[str | None, dict[str, str]]:
    """The default judge of every page and each judge's trust word, for this data version (one rule, so
    every page opens on the same judge). Position consistency for the fallback is read on the latest judged
    comparison with the previous round."""
    from dashboard import lineage

    counts = queries.judge_counts(path, version)
    judges = [str(j) for j in counts.loc[counts["scored"] > 0, "judge"]]
    if not judges:
        return None, {}
    comps = lineage.comparisons(queries.rounds(path, version)).frame
    consistency: dict[str, float] = {}
    if not comps.empty:
        prev = comps[comps["kind"] == lineage.VS_PREVIOUS]
        for _, row in (prev if not prev.empty else comps).iloc[::-1].iterrows():
            trends = queries.judge_trends(path, version, (row["old"],), (row["new"],))
            if not trends.empty and trends["position_consistency"].notna().any():
                consistency = dict(zip(trends["judge"], trends["position_consistency"], strict=True))
                break
    return trust(path, version, judges, consistency)


Z95 = 1.959963984540054


def normal_band(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ci_low/ci_high = win rate -+ 1.96 standard errors (clipped to [0, 1]) to per-round summaries:
    the quick 95% interval of the over-rounds views, where a bootstrap per round and judge would cost seconds.
    The latest comparison's numbers use the core's bootstrap interval.

    A comparison without a standard error (fewer than 2 scored prompts) gets no interval (NaN, not a zero-width
    one) and ``interval`` says why.

    >>> f = normal_band(pd.DataFrame({"win_rate": [0.6, 1.0], "standard_error": [0.05, np.nan], "n": [40, 1]}))
    >>> f["ci_low"].round(3).tolist(), f["ci_high"].isna().tolist(), f["interval"].tolist()
    ([0.502, nan], [False, True], ['', 'none: 1 scored prompt (a standard error needs at least 2)'])
    """
    se = frame["standard_error"]
    n = frame["n"] if "n" in frame else pd.Series(np.nan, index=frame.index)
    why = [
        ""
        if pd.notna(e)
        else f"none: {int(k) if pd.notna(k) else 'too few'} scored prompt"
        f"{'' if k == 1 else 's'} (a standard error needs at least 2)"
        for e, k in zip(se, n, strict=True)
    ]
    return frame.assign(
        ci_low=(frame["win_rate"] - Z95 * se).clip(0, 1),
        ci_high=(frame["win_rate"] + Z95 * se).clip(0, 1),
        interval=why,
    )


@_cached
def pass_at_k(path: str | None, version: str) -> pd.DataFrame:
    """pass@1, pass@k and maj@k per round and checkpoint (`rlhf.store.queries.reference.pass_at_k_rows`)."""
    from rlhf.store.queries.reference import pass_at_k_rows

    return pass_at_k_rows(queries.store(path))  # a round that recorded none gives no row


@_cached
def reference(path: str | None, version: str) -> pd.DataFrame:
    """The reference judge's accuracy per round and checkpoint (`rlhf.store.queries.reference`)."""
    from rlhf.store.queries.reference import reference_accuracy

    return reference_accuracy(queries.store(path))  # a round that recorded none gives no row
