"""`rlhf demo`: the first command a new user runs (`make demo`).

Loads the embedded default data into the store, runs rounds of the default recipe (recipes/default.yaml)
on CPU with SmolLM2-135M-Instruct, printing each stage and its time, ends with a verdict (a table per round
and judge and one plain sentence, `rlhf.rounds.verdict`) and where to look in the dashboard, then serves the
dashboard on 127.0.0.1. `--rounds N` is the number of finished rounds the store should hold: a rerun after a crash
resumes, and a rerun after success only serves. `--no-serve` is for scripts and CI.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

import click

from rlhf.commands import BadInput, store_from
from rlhf.commands.round_cmd import _load, _run, default_recipe

if TYPE_CHECKING:
    from rlhf.store import Store


def load_default_data(store: Store) -> dict[str, int]:
    """The shipped eval and training prompts into the store (idempotent). Seed pairs are read from data/
    by each round's reward stage."""
    from rlhf.default_data import default_eval_prompts, default_train_prompts

    added = {}
    for name, frame in (("eval", default_eval_prompts()), ("train", default_train_prompts())):
        added[name] = store.append("prompts", frame.drop(columns=["created_at"]), source="rlhf demo").added
    return added


def _decisions(store: Store) -> str:
    """Every decision, oldest first (the demo exits 0 whatever they are), and the champion."""
    from rlhf.rounds.decision_report import decision_line, printable
    from rlhf.rounds.decisions import champion
    from rlhf.store.queries.decisions import decision_rows

    rows = decision_rows(store)
    lines = ["Decisions (the gate, docs/rounds.md):"]
    records = [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
    lines += ["  " + decision_line(r) for r in records] or ["  none recorded"]
    current = champion(store)
    if current is not None:
        lines.append(f"Champion: {printable(current.checkpoint_id)} ({printable(current.source)})")
    return "\n".join(lines)


def _done_rounds(store: Store) -> int:
    from rlhf.store.queries.rounds import done_round_count

    return done_round_count(store)


@click.command()
@click.option(
    "--rounds",
    default=2,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Finished rounds the store should hold when the demo ends.",
)
@click.option("--no-serve", is_flag=True, help="Do not serve the dashboard afterwards (scripts, CI).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Recipe to run instead of recipes/default.yaml.",
)
@click.option("--port", default=8501, show_default=True, type=int, help="Dashboard port on 127.0.0.1.")
@click.pass_context
def demo(ctx: click.Context, rounds: int, no_serve: bool, config_path: str | None, port: int) -> None:
    """Run two rounds of the embedded default on CPU, then serve the dashboard on 127.0.0.1."""
    import datasets
    import transformers

    from rlhf.models import default_model_dir
    from rlhf.rounds.orchestrator import run_round

    warnings.filterwarnings("ignore", category=FutureWarning)  # deprecation notices from transformers/TRL
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    started = time.perf_counter()
    store = store_from(
        ctx, create=True
    )  # `rlhf demo --store DIR` works too: the group takes --store anywhere
    config = _load(config_path or default_recipe())
    click.echo(f"store: {store.root}")

    t0 = time.perf_counter()
    if config.policy == "default":
        click.echo(f"default model: {default_model_dir()} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    added = load_default_data(store)
    click.echo(
        f"default data: {added['eval']} eval and {added['train']} training prompts added "
        f"({time.perf_counter() - t0:.1f} s)"
    )

    done = _done_rounds(store)
    timings = []
    for _ in range(max(0, rounds - done)):
        result = _run(run_round, config, store, echo=click.echo)
        timings.append(result)
    if not timings:
        click.echo(f"the store already holds {done} finished round(s); nothing to run")
    for r in timings:
        stages = ", ".join(f"{s} {d.get('seconds', 0):.0f}s" for s, d in r.stages.items())
        click.echo(f"  {r.round_id}: {r.seconds:.0f} s ({stages})")
    total = time.perf_counter() - started
    click.echo(
        f"demo: {len(timings)} round(s) in {total:.0f} s ({total / 60:.1f} min) on "
        f"{config.num_threads or 'default'} thread(s)"
    )
    from rlhf.rounds.verdict import format_verdict, verdict_rows

    click.echo("")
    click.echo(format_verdict(verdict_rows(store, seed=config.seed)))
    click.echo("")
    click.echo(_decisions(store))
    click.echo("")
    click.echo(
        f"where to look: rlhf --store {store.root} dashboard (http://127.0.0.1:{port}): Progress (win rate "
        "per round and judge with intervals, reference accuracy per checkpoint), Judge health (canaries: "
        "which judges can tell), Decision log (every promote / hold / reject with its reasons), Regressions and "
        "samples (the answers themselves); "
        f"rlhf --store {store.root} round status (stages, times, decisions); rlhf --store {store.root} champion"
    )
    if no_serve:
        return
    try:
        from rlhf.commands.dashboard_cmd import dashboard
    except ImportError as exc:
        raise BadInput(f"cannot serve the dashboard ({exc}); rerun with --no-serve") from None
    ctx.obj = {**(ctx.obj or {}), "store_dir": str(store.root)}
    params = {p.name for p in dashboard.params}
    kwargs = {k: v for k, v in {"host": "127.0.0.1", "port": port}.items() if k in params}
    ctx.invoke(dashboard, **kwargs)


__all__ = ["demo", "load_default_data"]
