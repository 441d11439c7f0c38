"""`rlhf winrate` and `rlhf leaderboard`: the judged numbers, read from the store.

Both read the `judgment_pairs` view, so judgments appended from outside (`rlhf append judgments`) count
the same as the ones our judges wrote. The statistics live in judges/; this module only selects rows,
calls them and prints.
"""

from __future__ import annotations

import json
import math

import click
import pandas as pd

from judges.stats.bradley_terry import bradley_terry, pair_cells
from judges.stats.health import judge_health
from judges.stats.length_control import lc_win_rate
from judges.stats.preferences import pair_preferences, prompt_preferences
from judges.stats.winrate import WinRate, win_rate, win_rate_by
from rlhf.store import Store

_COLUMNS = 'judge, prompt_id, category, model_a, model_b, "order", preference, length_a, length_b, round_id'


class BadInput(click.ClickException):
    """A request the data cannot answer (no such model, judge or round): exit code 2."""

    exit_code = 2


def _store(ctx: click.Context) -> Store:
    """The store named by the group's --store option (else $RLHF_STORE, else the default)."""
    return Store.open((ctx.obj or {}).get("store_dir"))


def _known(store: Store) -> tuple[list[str], list[str]]:
    """Models and judges that have judgments, for error messages."""
    models = store.query(
        "SELECT DISTINCT m FROM (SELECT model_a AS m FROM judgments UNION SELECT model_b FROM judgments)"
    )
    judges = store.query("SELECT DISTINCT judge FROM judgments")
    return sorted(models["m"].dropna().tolist()), sorted(judges["judge"].dropna().tolist())


def _fmt(x: float | None, width: int = 7) -> str:
    """Three decimals, or a dash for a missing value."""
    return f"{'-':>{width}}" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:>{width}.3f}"


def _clean(x):
    """NaN to None for JSON."""
    return None if isinstance(x, float) and math.isnan(x) else x


@click.command()
@click.option("--model", required=True, help="The checkpoint whose win rate is reported (B).")
@click.option("--baseline", required=True, help="The checkpoint it is compared with (A).")
@click.option("--judge", default=None, help="Judge id; required when several judges scored the pair.")
@click.option("--round", "round_id", default=None, help="Only judgments recorded for this round.")
@click.option("--by", type=click.Choice(["category"]), default=None, help="Break down by prompt category.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (fractions in [0, 1]).")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option("--n-boot", default=2000, show_default=True, type=click.IntRange(0), help="Bootstrap resamples.")
@click.option("--confidence", default=0.95, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.pass_context
def winrate(
    ctx: click.Context,
    model: str,
    baseline: str,
    judge: str | None,
    round_id: str | None,
    by: str | None,
    as_json: bool,
    seed: int,
    n_boot: int,
    confidence: float,
) -> None:
    """Win rate of --model over --baseline: per prompt, both orders averaged, with a bootstrap interval."""
    if model == baseline:
        raise BadInput(f"--model and --baseline are both {model!r}; a model's win rate over itself is 0.5 by definition")
    store = _store(ctx)
    sql = f"SELECT {_COLUMNS} FROM judgment_pairs WHERE ((model_a = ? AND model_b = ?) OR (model_a = ? AND model_b = ?))"
    params: list = [baseline, model, model, baseline]
    if judge is not None:
        sql, params = sql + " AND judge = ?", params + [judge]
    if round_id is not None:
        sql, params = sql + " AND round_id = ?", params + [round_id]
    rows = store.query(sql, params)
    if rows.empty:
        models, judges = _known(store)
        raise BadInput(
            f"no judgments of --model {model!r} against --baseline {baseline!r}"
            + (f" by --judge {judge!r}" if judge else "")
            + (f" in --round {round_id!r}" if round_id else "")
            + f" in {store.root}. Models with judgments: {models or 'none'}; judges: {judges or 'none'}."
        )
    try:
        prompts = prompt_preferences(rows, model, baseline, judge)
    except ValueError as err:
        raise BadInput(f"{err} with --judge") from err
    result = win_rate(prompts["preference"], confidence=confidence, n_boot=n_boot, seed=seed)
    lc = lc_win_rate(
        prompts["preference"], prompts["length_model"], prompts["length_baseline"],
        n_boot=n_boot, seed=seed, confidence=confidence,
    )  # fmt: skip
    judge_name = judge if judge is not None else str(rows["judge"].dropna().iloc[0])
    health = judge_health(rows, judge_name)
    out = {
        **result.to_dict(),
        "lc_win_rate": lc.lc_win_rate if lc else None,
        "lc_ci_low": _clean(lc.ci_low) if lc else None,
        "lc_ci_high": _clean(lc.ci_high) if lc else None,
        "lc_extrapolated": lc.extrapolated if lc else None,
        "model": model,
        "baseline": baseline,
        "judge": judge_name,
        "round": round_id,
        "judge_health": {
            "position_consistency": _clean(health.position_consistency),
            "n_both_orders": health.n_consistency_prompts,
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
        click.echo(json.dumps(out, indent=2))
        return
    _print_winrate(out, result, cells, by)


def _print_winrate(out: dict, result: WinRate, cells: dict[str, WinRate], by: str | None) -> None:
    pct = round(result.confidence * 100)
    health = out["judge_health"]
    lc_note = "; every answer on one side of equal length: an extrapolation" if out["lc_extrapolated"] else ""
    title = f"{out['model']} vs {out['baseline']}   judge {out['judge']}"
    click.echo(title + (f"   round {out['round']}" if out["round"] else ""))
    lines = [
        ("win rate", f"{_fmt(result.win_rate)}   {pct}% CI [{_fmt(result.ci_low, 0)}, {_fmt(result.ci_high, 0)}]"
                     f"   (paired bootstrap, {result.n_boot} resamples, seed {result.seed})"),
        ("std error", _fmt(result.standard_error)),
        ("p-value", f"{_fmt(result.p_value)}   (one-sided sign test: {out['model']} better)"),
        ("lc win rate", f"{_fmt(out['lc_win_rate'])}   {pct}% CI [{_fmt(out['lc_ci_low'], 0)},"
                        f" {_fmt(out['lc_ci_high'], 0)}]   (length-controlled{lc_note})"),
        ("judge health", f"{_fmt(health['position_consistency'])}   position consistency"
                         f" ({health['n_both_orders']} prompts in both orders);"
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
    heads = ("n", "win", "ci_low", "ci_high", "wins", "losses", "ties", "unscored")
    widths = (5, 7, 7, 7, 5, 6, 5, 8)
    click.echo(f"\n  {by:<{width}}" + "".join(f"  {h:>{w}}" for h, w in zip(heads, widths)))
    for key, c in cells.items():
        values = (c.n_total, _fmt(c.win_rate), _fmt(c.ci_low), _fmt(c.ci_high), c.n_wins, c.n_losses, c.n_ties,
                  c.n_unscored)  # fmt: skip
        click.echo(f"  {key:<{width}}" + "".join(f"  {v!s:>{w}}" for v, w in zip(values, widths)))


@click.command()
@click.option("--judge", default=None, help="Judge id; required when several judges are in the store.")
@click.option("--anchor", default=None, help="Checkpoint rated 1000 (default: geometric mean of strengths at 1000).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: per model model, strength, rating, ci_low, ci_high, n.")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option("--n-boot", default=1000, show_default=True, type=click.IntRange(0), help="Bootstrap resamples.")
@click.option("--confidence", default=0.95, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.pass_context
def leaderboard(
    ctx: click.Context, judge: str | None, anchor: str | None, as_json: bool, seed: int, n_boot: int, confidence: float
) -> None:
    """Bradley-Terry strengths and Elo-style ratings over every checkpoint, with bootstrap intervals."""
    store = _store(ctx)
    sql = f"SELECT {_COLUMNS} FROM judgment_pairs" + (" WHERE judge = ?" if judge is not None else "")
    rows = store.query(sql, [judge] if judge is not None else [])
    models, judges = _known(store)
    if rows.empty:
        raise BadInput(
            f"no judgments" + (f" by --judge {judge!r}" if judge else "") + f" in {store.root}. "
            f"Judges: {judges or 'none'}; models: {models or 'none'}."
        )
    present = sorted(rows["judge"].dropna().unique().tolist())
    if judge is None and len(present) > 1:
        raise BadInput(f"several judges scored these models {present}; pick one with --judge (pooling counts pairs twice)")
    if anchor is not None and anchor not in set(rows["model_a"]) | set(rows["model_b"]):
        raise BadInput(f"--anchor {anchor!r} has no judgments; models: {models}")
    pairs = pair_preferences(rows)
    try:
        cells = pair_cells(pairs["model_x"], pairs["model_y"], pairs["preference"])
        result = bradley_terry(cells, n_boot=n_boot, seed=seed, confidence=confidence, anchor=anchor)
    except ValueError as err:
        raise BadInput(str(err)) from err
    frame = result.to_frame()
    if as_json:
        records = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        click.echo(json.dumps(records, indent=2))
        return
    _print_leaderboard(frame, result.confidence, seed, n_boot, anchor, result.n_failed_resamples, present)


def _print_leaderboard(
    frame: pd.DataFrame, confidence: float, seed: int, n_boot: int, anchor: str | None, failed: int, judges: list[str]
) -> None:
    width = max(5, *(len(m) for m in frame["model"]))
    pct = round(confidence * 100)
    click.echo(
        f"Bradley-Terry, judge {', '.join(judges)}; rating 1000 = {anchor or 'geometric mean'};"
        f" {pct}% bootstrap CI ({n_boot} resamples, seed {seed}"
        + (f", {failed} without an MLE left out" if failed else "")
        + ")"
    )
    click.echo(f"  {'model':<{width}}  {'strength':>8}  {'rating':>7}  {'ci_low':>7}  {'ci_high':>7}  {'n':>6}")
    for row in frame.itertuples(index=False):
        click.echo(
            f"  {row.model:<{width}}  {row.strength:>8.4f}  {row.rating:>7.1f}  {_fmt1(row.ci_low)}  {_fmt1(row.ci_high)}"
            f"  {row.n:>6}"
        )


def _fmt1(x: float) -> str:
    """One decimal (ratings), or a dash for NaN."""
    return f"{'-':>7}" if math.isnan(x) else f"{x:>7.1f}"
