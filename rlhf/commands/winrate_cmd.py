"""`rlhf winrate` and `rlhf leaderboard`: the judged numbers, read from the store.

Both read judgments through `rlhf.store.queries.judgments` (the `judgment_pairs` view, so judgments
appended from outside count the same as the ones our judges wrote) for one (judge, judge_version): a
judge version is a different judge, versions are never pooled, and without --judge-version the latest
version is used with a line on stderr saying so. The statistics live in `judges.stats`; this module only
selects rows, calls them and prints.
"""

from __future__ import annotations

import math

import click
import pandas as pd

from judges.stats.bootstrap import min_resamples
from judges.stats.bradley_terry import anchor_rule
from judges.stats.bradley_terry import leaderboard as fit_leaderboard
from judges.stats.canary import against_chance, chance_sentence, kinds_against_chance, stopped_sentence
from judges.stats.health import judge_health
from judges.stats.length_control import LengthControlled, lc_win_rate_from_judgments
from judges.stats.preferences import prompt_preferences
from judges.stats.style_control import StyleControlled, style_leaderboard
from judges.stats.winrate import NO_CATEGORY, WinRate, win_rate, win_rate_by
from rlhf.commands import BadInput
from rlhf.commands import store_from as _store
from rlhf.commands.judge_choice import JudgeChoice, choose_judge_version
from rlhf.commands.strict_json import echo_json
from rlhf.store import Store
from rlhf.store.queries.canaries import canary_results
from rlhf.store.queries.judgments import judge_versions, judged_answers, judged_models, judgment_rows

# the fields of each `rlhf leaderboard --json` entry, in order (tests/test_cli_newcomer.py checks them)
LEADERBOARD_JSON_FIELDS = (
    "model",
    "strength",
    "rating",
    "ci_low",
    "ci_high",
    "n",
    "judge",
    "judge_version",
    "anchor",
    "judge_informative",
    "confidence",
    "n_boot",
    "n_failed_resamples",
)


def _check_n_boot(n_boot: int, confidence: float) -> None:
    """Refuse fewer resamples than an interval at this confidence needs (judges.stats.bootstrap.min_resamples)."""
    least = min_resamples(confidence)
    if n_boot < least:
        raise BadInput(
            f"--n-boot {n_boot}: a {confidence:.4g} interval needs at least {least} resamples (20 / (1 - confidence): "
            f"10 beyond each end, so the p-value resolves to {2 / least:.2g}, a tenth of alpha); give --n-boot {least} or more"
        )


def _fmt(x: float | None, width: int = 7) -> str:
    """Three decimals, or a dash for a missing value."""
    return f"{'-':>{width}}" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:>{width}.3f}"


def _clean(x: object) -> object:
    """NaN to None for JSON."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _lc_dict(lc: LengthControlled | None) -> dict[str, object]:
    if lc is None:
        return {
            "lc_win_rate": None,
            "lc_ci_low": None,
            "lc_ci_high": None,
            "lc_extrapolated": None,
            "lc_converged": None,
            "lc_weakly_identified": None,
            "lc_extreme_change": None,
            "lc_warnings": [],
        }
    return {
        "lc_win_rate": _clean(lc.lc_win_rate),
        "lc_ci_low": _clean(lc.ci_low),
        "lc_ci_high": _clean(lc.ci_high),
        "lc_extrapolated": lc.extrapolated,
        "lc_converged": lc.converged,
        "lc_weakly_identified": lc.weakly_identified,
        "lc_extreme_change": lc.extreme_change,
        "lc_n_models_for_difficulty": lc.n_models_for_difficulty,
        "lc_n_gamed_rows": lc.n_gamed_rows,
        "lc_warnings": list(lc.warnings),
    }


@click.command()
@click.option(
    "--model", "--model-b", "model", required=True, help="The checkpoint whose win rate is reported (B)."
)
@click.option(
    "--baseline", "--model-a", "baseline", required=True, help="The checkpoint it is compared with (A)."
)
@click.option(
    "--judge",
    default=None,
    help="Judge: its name, or the recipe's kind (llm, reward, reference) where that names one judge "
    "[default: the store's headline judge, said on stderr].",
)
@click.option(
    "--judge-version", default=None, help="Judge version (default: the judge's latest, with a note)."
)
@click.option("--round", "round_id", default=None, help="Only judgments recorded for this round.")
@click.option("--category", default=None, help="Only prompts of this category.")
@click.option("--by", type=click.Choice(["category"]), default=None, help="Break down by prompt category.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (fractions in [0, 1]).")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option(
    "--n-boot",
    default=2000,
    show_default=True,
    type=click.IntRange(0),
    help="Bootstrap resamples over prompts; at least 20 / (1 - confidence): 400 at 95% (docs/statistics.md).",
)
@click.option(
    "--confidence",
    default=0.95,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Confidence level of the intervals (0.95: 95% intervals; alpha = 1 - confidence for p-values).",
)
@click.pass_context
def winrate(
    ctx: click.Context,
    model: str,
    baseline: str,
    judge: str | None,
    judge_version: str | None,
    round_id: str | None,
    category: str | None,
    by: str | None,
    as_json: bool,
    seed: int,
    n_boot: int,
    confidence: float,
) -> None:
    """Win rate of --model over --baseline: per prompt, both orders averaged, with a bootstrap interval."""
    _check_n_boot(n_boot, confidence)
    if model == baseline:
        raise BadInput(
            f"--model and --baseline are both {model!r}; a model's win rate over itself is 0.5 by definition"
        )
    store = _store(ctx)
    models = judged_models(store)
    for flag, name in (("--model", model), ("--baseline", baseline)):
        if name not in models:
            raise BadInput(
                f"{flag} {name!r} has no judgments in {store.root}. Checkpoints with judgments: "
                f"{models or 'none'}."
            )
    what = f"judgments of --model {model!r} against --baseline {baseline!r}"
    choice = choose_judge_version(
        judge_versions(store, (model, baseline)), judge, judge_version, what=what, store=store
    )
    for note in choice.notes():
        click.echo(note, err=True)
    rows = judgment_rows(store, judge=choice.judge, judge_version=choice.judge_version, models=(model, baseline),
                         round_id=round_id)  # fmt: skip
    if rows.empty:
        raise BadInput(
            f"no {what} by judge {choice.judge!r} version {choice.judge_version!r} in --round {round_id!r}"
        )
    prompts = prompt_preferences(rows, model, baseline, choice.judge)
    if category is not None:
        present = sorted(
            set(prompts["category"].astype(object).where(prompts["category"].notna(), NO_CATEGORY))
        )
        if category not in present:
            raise BadInput(
                f"--category {category!r} has no prompts in this comparison. Categories: {present}."
            )
        keep = prompts["category"].astype(object).where(prompts["category"].notna(), NO_CATEGORY) == category
        prompts = prompts[keep.to_numpy()]
        rows = rows[rows["prompt_id"].isin(set(prompts["prompt_id"]))]
    if prompts["preference"].notna().sum() == 0:
        errors = sorted(set(map(str, rows["error"].dropna())))[:3] if "error" in rows else []
        raise BadInput(
            f"no scored verdict: all {len(rows)} verdicts of judge {choice.judge!r} version "
            f"{choice.judge_version!r} on {model!r} vs {baseline!r} are unscored"
            + (f" (errors such as {errors})" if errors else "")
            + "; there is no win rate to report"
        )
    result = win_rate(prompts["preference"], confidence=confidence, n_boot=n_boot, seed=seed)
    lc = _length_controlled(store, choice, model, baseline, round_id, set(prompts["prompt_id"]),
                            n_boot=n_boot, seed=seed, confidence=confidence)  # fmt: skip
    health = judge_health(rows, choice.judge)
    out = {
        **result.to_dict(),
        **_lc_dict(lc),
        "model": model,
        "baseline": baseline,
        "judge": choice.judge,
        "judge_version": choice.judge_version,
        "judge_version_defaulted": choice.defaulted,
        "judge_informative": _informative(store, choice),
        "round": round_id,
        "category": category,
        "judge_health": {
            "position_consistency": _clean(health.position_consistency),
            "n_both_orders": health.n_consistency_prompts,
            "n_unknown_order": health.n_unknown_order,
            "first_position_win_rate": _clean(health.first_position_win_rate),
            "tie_rate": _clean(health.tie_rate),
            "unscored_rate": _clean(health.unscored_rate),
            "n_verdicts": health.n_verdicts,
        },
    }
    cells = win_rate_by(prompts, by, confidence=confidence, n_boot=n_boot, seed=seed) if by else {}
    if by:
        out[f"by_{by}"] = {key: cell.to_dict() for key, cell in cells.items()}
    if as_json:
        echo_json(out)
        return
    lc_missing = lc_missing_reason(rows, model, baseline) if lc is None else ""
    _print_winrate(out, result, cells, by, lc_missing)
    _print_canary_mark(store, choice)


def _length_controlled(
    store: Store,
    choice: JudgeChoice,
    model: str,
    baseline: str,
    round_id: str | None,
    prompt_ids: set[str],
    *,
    n_boot: int,
    seed: int,
    confidence: float,
) -> LengthControlled | None:
    """AlpacaEval's length-controlled win rate: instruction difficulty from every checkpoint this judge version
    compared with the same baseline (on the same prompts), then the model's own fit."""
    everyone = judgment_rows(store, judge=choice.judge, judge_version=choice.judge_version, round_id=round_id)
    everyone = everyone[everyone["prompt_id"].isin(prompt_ids)]
    return lc_win_rate_from_judgments(
        everyone, model, baseline, judge=choice.judge, n_boot=n_boot, seed=seed, confidence=confidence
    )


def _points(fraction: float) -> str:
    """A fraction in percentage points, with the precision its size needs (never "+-0" for a nonzero effect).

    >>> _points(0.123), _points(0.004), _points(0.0)
    ('12', '0.4', '0')
    """
    value = 100 * fraction
    return f"{value:.0f}" if value >= 9.5 or value == 0 else f"{value:.2g}"


def lc_missing_reason(rows: pd.DataFrame, model: str, baseline: str) -> str:
    """Why there is no length-controlled win rate for these judgments (of ``model`` vs ``baseline``)."""
    lengths = rows[["length_a", "length_b"]].notna().all(axis=1) if len(rows) else pd.Series(dtype=bool)
    if not lengths.any():
        return "no length-controlled win rate: no verdict records both answers' lengths (length_a, length_b)"
    if not (lengths & rows["preference"].notna()).any():
        return "no length-controlled win rate: no scored verdict records both answers' lengths"
    return f"no length-controlled win rate: {model!r} was not judged against {baseline!r} with lengths"


def _print_winrate(
    out: dict, result: WinRate, cells: dict[str, WinRate], by: str | None, lc_missing: str = ""
) -> None:
    pct = round(result.confidence * 100)
    health = out["judge_health"]
    lc_notes = "; ".join(out["lc_warnings"])
    title = f"{out['model']} vs {out['baseline']}   judge {out['judge']} version {out['judge_version']}"
    click.echo(
        title
        + (f"   round {out['round']}" if out["round"] else "")
        + (f"   category {out['category']}" if out["category"] else "")
    )
    verdict = "significant" if result.significant else "not significant"
    lines = [
        ("win rate", f"{_fmt(result.win_rate)}   {pct}% CI [{_fmt(result.ci_low, 0)}, {_fmt(result.ci_high, 0)}]"
                     f"   (paired bootstrap over prompts, {result.n_boot} resamples, seed {result.seed})"),
        ("std error", _fmt(result.standard_error)),
        ("p-value", f"{_p_text(result)}   (two-sided, from the same resamples: {verdict} at {1 - result.confidence:g})"),
        ("detectable", f"{_fmt(result.mde)}   (n = {result.n_total} can only detect +-{_points(result.mde)} points"
                       " at 80% power)" if not math.isnan(result.mde) else _fmt(None)),
        ("lc win rate", f"{_fmt(out['lc_win_rate'])}   {pct}% CI [{_fmt(out['lc_ci_low'], 0)},"
                        f" {_fmt(out['lc_ci_high'], 0)}]   (length-controlled, AlpacaEval)"
                        + (f"   WARNING: {lc_notes}" if lc_notes else "")
                        if out["lc_win_rate"] is not None else f"{_fmt(None)}   ({lc_missing})"),
        ("judge health", f"{_fmt(health['position_consistency'])}   position consistency"
                         f" ({health['n_both_orders']} prompts in both orders;"
                         f" {health['n_unknown_order']} verdicts of unknown order left out);"
                         f" first shown wins {_fmt(health['first_position_win_rate'], 0)};"
                         f" ties {_fmt(health['tie_rate'], 0)};"
                         f" unscored {_fmt(health['unscored_rate'], 0)} of {health['n_verdicts']} verdicts"),
        ("prompts", f"{result.n_total:>7}   wins {result.n_wins}, losses {result.n_losses},"
                    f" ties {result.n_ties}; unscored {result.n_unscored}"),
    ]  # fmt: skip
    for label, text in lines:
        click.echo(f"  {label:<12}{text}")
    if not by:
        return
    width = max([len(by), *(len(k) for k in cells)])
    heads = ("n", "win", "ci_low", "ci_high", "p_holm", "signif", "wins", "losses", "ties", "unscored")
    widths = (5, 7, 7, 7, 7, 6, 5, 6, 5, 8)
    click.echo(f"\n  {by:<{width}}" + "".join(f"  {h:>{w}}" for h, w in zip(heads, widths)))
    for key, c in cells.items():
        values = (c.n_total, _fmt(c.win_rate), _fmt(c.ci_low), _fmt(c.ci_high), _fmt(c.p_adjusted),
                  "yes" if c.significant_adjusted else "no", c.n_wins, c.n_losses, c.n_ties, c.n_unscored)  # fmt: skip
        click.echo(f"  {key:<{width}}" + "".join(f"  {v!s:>{w}}" for v, w in zip(values, widths)))
    click.echo(
        f"  (p_holm: Holm-adjusted over the {len(cells)} categories; signif: p_holm < {1 - result.confidence:g})"
    )


@click.command()
@click.option(
    "--judge",
    default=None,
    help="Judge: its name, or the recipe's kind (llm, reward, reference) where that names one judge "
    "[default: the store's headline judge, said on stderr].",
)
@click.option(
    "--judge-version", default=None, help="Judge version (default: the judge's latest, with a note)."
)
@click.option(
    "--anchor", default=None, help="Checkpoint rated 1000 (default: geometric mean of strengths at 1000)."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: a list, strongest first, of {"
    + ", ".join(LEADERBOARD_JSON_FIELDS)
    + "}; with --style-control an object {leaderboard: that list with sc_rating, sc_ci_low, sc_ci_high, "
    "style_control: {...}} (docs/statistics.md).",
)
@click.option(
    "--style-control",
    is_flag=True,
    help="Also fit Arena-Hard v2's style-controlled Bradley-Terry (answer length and markdown as covariates): "
    "ratings with and without style control, and the style coefficients (docs/statistics.md).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option(
    "--n-boot",
    default=1000,
    show_default=True,
    type=click.IntRange(0),
    help="Bootstrap resamples over prompts; 0 for ratings without intervals, else at least 20 / (1 - confidence): "
    "400 at 95% (docs/statistics.md).",
)
@click.option(
    "--confidence",
    default=0.95,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Confidence level of the intervals (0.95: 95% intervals; alpha = 1 - confidence for p-values).",
)
@click.pass_context
def leaderboard(
    ctx: click.Context,
    judge: str | None,
    judge_version: str | None,
    anchor: str | None,
    as_json: bool,
    style_control: bool,
    seed: int,
    n_boot: int,
    confidence: float,
) -> None:
    """Bradley-Terry strengths and Elo-style ratings over every checkpoint, with bootstrap intervals over prompts."""
    if n_boot:  # 0: ratings without intervals
        _check_n_boot(n_boot, confidence)
    store = _store(ctx)
    choice = choose_judge_version(
        judge_versions(store), judge, judge_version, what=f"judgments in {store.root}", store=store
    )
    for note in choice.notes():
        click.echo(note, err=True)
    rows = judgment_rows(store, judge=choice.judge, judge_version=choice.judge_version)
    models = sorted(set(rows["model_a"]) | set(rows["model_b"]))
    if anchor is not None and anchor not in models:
        raise BadInput(
            f"--anchor {anchor!r} has no judgments by judge {choice.judge!r} version "
            f"{choice.judge_version!r}; checkpoints: {models}"
        )
    if rows["preference"].notna().sum() == 0:
        raise BadInput(
            f"no scored verdict by judge {choice.judge!r} version {choice.judge_version!r}: "
            f"all {len(rows)} verdicts are unscored"
        )
    try:
        result = fit_leaderboard(rows, anchor=anchor, n_boot=n_boot, seed=seed, confidence=confidence)
    except ValueError as err:
        raise BadInput(str(err)) from err
    frame = result.to_frame()
    styled: StyleControlled | str | None = None
    if style_control:
        answers = judged_answers(store, judge=choice.judge, judge_version=choice.judge_version)
        try:
            styled = style_leaderboard(
                rows, answers, anchor=anchor, n_boot=n_boot, seed=seed, confidence=confidence
            )
        except ValueError as err:  # e.g. no item with both answers' text: said, the plain leaderboard stands
            styled = f"style control not fitted: {err}"
        if isinstance(styled, StyleControlled):
            frame = frame.merge(styled.to_frame(), on="model", how="left")
    if as_json:
        records = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        informative = _informative(store, choice)
        for record in records:
            record.update(
                judge=choice.judge,
                judge_version=choice.judge_version,
                anchor=anchor,
                judge_informative=informative,
                confidence=result.confidence,
                n_boot=result.n_boot,
                n_failed_resamples=result.n_failed_resamples,
            )
        if not style_control:
            echo_json(records)
            return
        echo_json({"leaderboard": records, "style_control": _style_dict(styled)})
        return
    _print_leaderboard(frame, result.confidence, seed, n_boot, anchor, result.n_failed_resamples, choice)
    if style_control:
        _print_style(styled)
    _print_canary_mark(store, choice)


def _style_dict(styled: StyleControlled | str | None) -> dict[str, object]:
    if not isinstance(styled, StyleControlled):
        return {"error": styled, "coefficients": [], "n_items": 0, "n_left_out_no_text": None}
    coefs = [
        {k: _clean(v) for k, v in row.items()} for row in styled.coefficients().to_dict(orient="records")
    ]
    return {
        "error": None,
        "coefficients": coefs,
        "dropped_features": list(styled.dropped_features),
        "n_items": styled.n_items,
        "n_left_out_no_text": styled.n_left_out_no_text,
        "n_failed_resamples": styled.n_failed_resamples,
    }


def _print_style(styled: StyleControlled | str | None) -> None:
    if not isinstance(styled, StyleControlled):
        click.echo(f"  {styled}")
        return
    pct = round(styled.confidence * 100)
    click.echo(
        f"  sc_*: style-controlled (Arena-Hard v2: length and markdown as covariates) over {styled.n_items} items"
        + (
            f"; {styled.n_left_out_no_text} items left out: an answer's text is unknown"
            if styled.n_left_out_no_text
            else ""
        )
    )
    click.echo(
        f"  style coefficients (logit per standard deviation of the difference; {pct}% CI over prompts):"
    )
    for feature, coef, lo, hi in zip(
        styled.features,
        styled.coef.tolist(),
        styled.coef_ci_low.tolist(),
        styled.coef_ci_high.tolist(),
        strict=True,
    ):
        if math.isnan(coef):
            click.echo(f"    {feature:<8} -   (no variation: dropped)")
            continue
        side = (
            "prefers more"
            if not math.isnan(lo) and lo > 0
            else "prefers less"
            if not math.isnan(hi) and hi < 0
            else "no clear preference"
        )
        click.echo(f"    {feature:<8} {coef:>+7.3f}  [{lo:+.3f}, {hi:+.3f}]  {side}")


def _canary_row(store: Store, choice: JudgeChoice) -> pd.Series | None:
    results = canary_results(store)
    mine = results[(results["judge"] == choice.judge) & (results["judge_version"] == choice.judge_version)]
    return None if mine.empty else mine.iloc[0]


def _informative(store: Store, choice: JudgeChoice) -> bool | None:
    """Whether this judge version passed its canaries (judges/stats/canary.py); None when they never ran."""
    row = _canary_row(store, choice)
    return None if row is None else bool(row["informative"])


def _print_canary_mark(store: Store, choice: JudgeChoice) -> None:
    row = _canary_row(store, choice)
    if row is None:
        click.echo(
            f"canaries: not run for judge {choice.judge} at this version: whether it can tell answers apart is "
            "unknown (rlhf judge canaries --judge ...)"
        )
    elif not row["informative"] and row.get("stopped_early"):
        click.echo(
            f"UNINFORMATIVE JUDGE: {_uninformative_why(row)}; its win rates are not evidence of a better answer, "
            "whatever the numbers above say"
        )
    elif not row["informative"]:
        click.echo(
            f"UNINFORMATIVE JUDGE: canary accuracy {_fmt(row['accuracy'], 0)} [{_fmt(row['ci_low'], 0)}, "
            f"{_fmt(row['ci_high'], 0)}] over {int(row['n'])} pairs: {_uninformative_why(row)}; its win rates "
            "are not evidence of a better answer, whatever the numbers above say"
        )
    else:
        click.echo(
            f"canaries: informative, accuracy {_fmt(row['accuracy'], 0)} [{_fmt(row['ci_low'], 0)}, "
            f"{_fmt(row['ci_high'], 0)}] over {int(row['n'])} pairs"
        )


def _uninformative_why(row: pd.Series) -> str:
    """Why a judge failed its canaries, from its numbers: its pooled interval (at or below chance), else the
    kinds of canary pair it failed on their own; where they stopped, when they stopped once it could no longer
    pass (the pooled numbers of such a run are not measured)."""
    detail = row["detail"] if isinstance(row.get("detail"), dict) else {}  # parsed by canary_results
    failed = tuple(detail.get("failed_kinds") or ())
    ci_by_kind = {k: tuple(v) for k, v in (detail.get("ci_by_kind") or {}).items() if v and None not in v}
    if isinstance(detail.get("stopped_early"), dict):
        where = kinds_against_chance(ci_by_kind, failed) if failed else "the pooled interval"
        return f"{where}; {stopped_sentence(detail['stopped_early'])}"
    if against_chance(row["ci_low"], row["ci_high"]) != "above chance":
        return chance_sentence(row["ci_low"], row["ci_high"])
    if failed:
        return f"above 50% pooled, but {kinds_against_chance(ci_by_kind, failed)} (each kind must beat 50%)"
    return "it did not pass its canaries"


def _print_leaderboard(
    frame: pd.DataFrame,
    confidence: float,
    seed: int,
    n_boot: int,
    anchor: str | None,
    failed: int,
    choice: JudgeChoice,
) -> None:
    width = max(5, *(len(m) for m in frame["model"]))
    pct = f"{confidence * 100:.10g}"
    click.echo(
        f"Bradley-Terry, judge {choice.judge} version {choice.judge_version}; rating 1000 = "
        f"{anchor or 'geometric mean'}; {pct}% bootstrap CI over prompts ({n_boot} resamples, seed {seed}"
        + (f"; {failed} of them without a maximum-likelihood solution, left out" if n_boot else "")
        + ")"
    )
    click.echo(f"  ({anchor_rule(confidence)})")
    styled = "sc_rating" in frame
    click.echo(
        f"  {'model':<{width}}  {'strength':>8}  {'rating':>7}  {'ci_low':>7}  {'ci_high':>7}  {'n':>6}"
        + (f"  {'sc_rating':>9}  {'sc_ci_low':>9}  {'sc_ci_high':>10}" if styled else "")
    )
    for row in frame.to_dict(orient="records"):
        click.echo(
            f"  {row['model']:<{width}}  {row['strength']:>8.4f}  {row['rating']:>7.1f}  {_fmt1(row['ci_low'])}"
            f"  {_fmt1(row['ci_high'])}  {row['n']:>6}"
            + (
                f"  {_fmt1(row['sc_rating']):>9}  {_fmt1(row['sc_ci_low']):>9}  {_fmt1(row['sc_ci_high']):>10}"
                if styled
                else ""
            )
        )


def _p_text(result: WinRate) -> str:
    """The p-value, or its resolution when no resample reached 0.5 (p = 0 means below 2 / n_boot)."""
    if result.p_value == 0 and result.n_boot:
        return f"{'< ' + format(2 / result.n_boot, '.2g'):>7}"
    return _fmt(result.p_value)


def _fmt1(x: object) -> str:
    """One decimal (ratings), or a dash for NaN."""
    value = float(x)  # type: ignore[arg-type]
    return f"{'-':>7}" if math.isnan(value) else f"{value:>7.1f}"
