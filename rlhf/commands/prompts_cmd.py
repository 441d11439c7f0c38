"""`rlhf prompts health`: which eval prompts still separate checkpoints, read-only from the stored judgments.

The statistics are `judges.stats.prompt_health`; this module picks the judge version (the same rule as
`rlhf winrate`: one judge version, the latest unless --judge-version names one), reads its judgments and the
rounds' order, and prints.
"""

from __future__ import annotations

import math

import click
import pandas as pd

from judges.stats.prompt_health import PromptHealth, prompt_health
from rlhf.commands import BadInput
from rlhf.commands import store_from as _store
from rlhf.commands.judge_choice import choose_judge_version
from rlhf.commands.strict_json import echo_json
from rlhf.store.queries.judgments import judge_versions, judgment_rows
from rlhf.store.queries.rounds import round_rows


@click.group()
def prompts() -> None:
    """The eval prompt set: how well it still tells checkpoints apart."""


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as strict-JSON dicts (NaN and NA become null, numpy scalars plain Python)."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, object] = {}
        for key, value in ((str(k), v) for k, v in row.items()):
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                clean[key] = None
            elif hasattr(value, "item"):
                clean[key] = value.item()
            else:
                clean[key] = value
        out.append(clean)
    return out


def health_dict(health: PromptHealth, judge: str, judge_version: str | None) -> dict[str, object]:
    prompts = health.prompts
    return {
        "judge": judge,
        "judge_version": judge_version,
        "comparisons": _records(health.comparisons),
        "n_prompts": len(prompts),
        "n_saturated": int(prompts["saturated"].sum()) if len(prompts) else 0,
        "n_flipped_win_to_loss": int(prompts["flipped_win_to_loss"].sum()) if len(prompts) else 0,
        "n_judgments_without_round": health.n_without_round,
        "categories": _records(health.categories),
        "prompts": _records(prompts),
    }


@prompts.command("health")
@click.option(
    "--judge",
    default=None,
    help="Judge: its name, or the recipe's kind where that names one judge [default: the store's headline "
    "judge, said on stderr].",
)
@click.option(
    "--judge-version", default=None, help="Judge version (default: the judge's latest, with a note)."
)
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(0), help="Prompts printed (text only)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: comparisons, categories, every prompt.")
@click.pass_context
def health(
    ctx: click.Context, judge: str | None, judge_version: str | None, limit: int, as_json: bool
) -> None:
    """Per prompt over the stored rounds: how often it separated the compared checkpoints, whether it is
    saturated, how its verdict moved; per category n and the minimum detectable effect. Prompts that flipped
    from win to loss in the latest round come first."""
    store = _store(ctx)
    versions = judge_versions(store)
    choice = choose_judge_version(
        versions, judge, judge_version, what=f"judgments in {store.root}", store=store
    )
    for note in choice.notes():  # the headline judge by default, as winrate and leaderboard
        click.echo(note, err=True)
    rows = judgment_rows(store, judge=choice.judge, judge_version=choice.judge_version)
    if rows["round_id"].notna().sum() == 0:
        raise BadInput(
            f"judge {choice.judge!r} version {choice.judge_version!r} has {len(rows)} judgments and none names a "
            "round: prompt health follows prompts from round to round"
        )
    order = [str(r) for r in round_rows(store)["round_id"]]
    result = prompt_health(rows, order)
    out = health_dict(result, choice.judge, choice.judge_version)
    if as_json:
        echo_json(out)
        return
    _print(out, result, limit)


def _print(out: dict, result: PromptHealth, limit: int) -> None:
    comps = result.comparisons
    click.echo(
        f"Prompt-set health, judge {out['judge']} version {out['judge_version']}: {out['n_prompts']} prompts over "
        f"{len(comps)} round comparisons (oldest {comps['round_id'].iloc[0]}, latest {comps['round_id'].iloc[-1]})"
    )
    click.echo(
        f"  saturated (never separated in >= 2 rounds): {out['n_saturated']}; "
        f"flipped win -> loss in the latest round: {out['n_flipped_win_to_loss']}"
        + (
            f"; {out['n_judgments_without_round']} judgments without a round left out"
            if out["n_judgments_without_round"]
            else ""
        )
    )
    latest = comps.iloc[-1]
    click.echo(f"\n  per category, latest comparison {latest['model']} vs {latest['baseline']}:")
    cats = result.categories
    width = max([8, *(len(str(c)) for c in cats["category"])])
    click.echo(f"  {'category':<{width}}  {'n':>5}  {'win':>6}  {'mde':>6}")
    for row in cats.itertuples(index=False):
        click.echo(f"  {row.category!s:<{width}}  {row.n:>5}  {_f(row.win_rate)}  {_f(row.mde)}")
    click.echo("  (mde: the smallest win-rate change from 0.5 this n detects with 80% power)")
    shown = result.prompts.head(limit)
    click.echo(
        f"\n  prompts ({len(shown)} of {len(result.prompts)}; verdicts oldest first, W/L/T/- unscored):"
    )
    pw = max([9, *(len(str(p)) for p in shown["prompt_id"])])
    click.echo(f"  {'prompt_id':<{pw}}  {'separated':>9}  {'saturated':>9}  {'flips':>5}  verdicts")
    for row in shown.itertuples(index=False):
        mark = "   <- win to loss" if row.flipped_win_to_loss else ""
        sep = f"{row.n_separated}/{row.n_rounds}"
        click.echo(
            f"  {row.prompt_id!s:<{pw}}  {sep:>9}  {'yes' if row.saturated else 'no':>9}  {row.n_flips:>5}  "
            f"{row.verdicts}{mark}"
        )


def _f(x: object) -> str:
    return f"{'-':>6}" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):>6.3f}"  # type: ignore[arg-type]
