"""`rlhf round run|status|add`: run or resume a round from a recipe, see where rounds stand, and join a
checkpoint trained elsewhere to the chain (evaluation only).

Exit codes of `round run` and `round add`: the round's gate decision, 0 promoted, 3 held, 4 rejected; 1 a stage
failed (the round is recorded as failed; rerun to resume); 2 bad input (a recipe error naming file and key, eval
prompts in the training data, a path that is not a model).
"""

from __future__ import annotations

from pathlib import Path

import click

from rlhf.commands import BadInput, exit_for_decision
from rlhf.commands import store_from as _store
from rlhf.commands.dashboard_cmd import store_summaries
from rlhf.commands.strict_json import echo_json

RECIPES_DIR = Path(__file__).resolve().parent.parent.parent / "recipes"


def default_recipe() -> Path:
    return RECIPES_DIR / "default.yaml"


def _load(path: str | Path):
    """The recipe at ``path`` (a ConfigError exits 2 through the CLI's exit spine)."""
    from rlhf.rounds.config import load_config

    return load_config(path)


def _run(fn, *args, **kwargs):
    """Run a round function (kept for callers; the exit spine in rlhf/commands maps its failures)."""
    return fn(*args, **kwargs)


@click.group("round")
def round_() -> None:
    """RLHF rounds: reward model, rejection-sampled DPO, checkpoint, evaluation."""


def _decision_output(fn):
    """`--json` (the decision record on stdout) and `--format text|markdown` for commands that gate a round;
    with either machine-readable form the stage log goes to stderr, so stdout holds only the decision."""
    fn = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "markdown"]),
        default="text",
        show_default=True,
        help="markdown: a short summary of the decision for a CI comment or a chat message.",
    )(fn)
    return click.option("--json", "as_json", is_flag=True, help="Print the decision record as JSON.")(fn)


def _echo(as_json: bool, fmt: str):
    return (lambda m: click.echo(m, err=True)) if as_json or fmt == "markdown" else click.echo


@round_.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Round recipe (YAML). Default: recipes/default.yaml.",
)
@click.option("--new", is_flag=True, help="Start a new round even if the latest one is unfinished.")
@_decision_output
@click.pass_context
def run(ctx: click.Context, config_path: str | None, new: bool, as_json: bool, fmt: str) -> None:
    """Run the next round from the champion (or resume the latest unfinished one) and decide it: exit 0
    promoted, 3 held, 4 rejected."""
    from rlhf.rounds.orchestrator import run_round

    config = _load(config_path or default_recipe())
    store = _store(ctx, create=True)
    echo = _echo(as_json, fmt)
    result = _run(run_round, config, store, echo=echo, new=new)
    echo(f"policy {result.policy_checkpoint_id} (round {result.round_id}, {result.seconds:.1f} s)")
    store_summaries(store, only_if_used=True)
    _decided(result.decision, as_json, fmt)


def _decided(decision: dict, as_json: bool, fmt: str) -> None:
    """Print the round's decision and exit with its code (0 promoted, 3 held, 4 rejected)."""
    from rlhf.rounds.decision_report import decision_line, format_markdown

    if as_json:
        echo_json(decision)
    elif fmt == "markdown":
        click.echo(format_markdown(decision))
    else:
        click.echo("decision " + decision_line(decision))
    exit_for_decision(str(decision["decision"]))


@round_.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Where each round stands: its status, every stage's status and time, its decision, and the champion."""
    from rlhf.rounds.decisions import champion
    from rlhf.rounds.orchestrator import STAGES, round_status

    store = _store(ctx)
    rows = round_status(store)
    if as_json:  # one object per round, with its decision (the champion: `rlhf champion --json`)
        echo_json(rows)
        return
    current = champion(store)
    if not rows:
        click.echo("no rounds yet: rlhf round run --config recipes/default.yaml (or rlhf demo)")
        return
    click.echo(
        f"{'round':<12} {'parent':<12} {'status':<8} " + " ".join(f"{s:<16}" for s in STAGES) + " decision"
    )
    for r in rows:
        cells = []
        for s in STAGES:
            st = r["stages"].get(s, "-")
            secs = r["seconds"].get(s)
            cells.append(f"{st + (f' {secs:.0f}s' if isinstance(secs, (int, float)) else ''):<16}")
        parent = r["parent_round_id"] if isinstance(r["parent_round_id"], str) else "-"
        decided = f" {r['decision']}: {r['decision_reason']}" if r["decision"] else " -"
        click.echo(f"{r['round_id']:<12} {parent:<12} {r['status']:<8} " + " ".join(cells) + decided)
    if current is not None:
        click.echo(f"champion: {current.checkpoint_id} ({current.source})")


@round_.command("add")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    required=True,
    type=click.Path(file_okay=False),
    help="A policy model directory trained elsewhere.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Recipe whose eval_sampler and judges evaluate it. Default: recipes/default.yaml.",
)
@click.option(
    "--again",
    is_flag=True,
    help="Evaluate again as a new round even when these files are already a finished round's policy.",
)
@_decision_output
@click.pass_context
def add(
    ctx: click.Context, checkpoint_path: str, config_path: str | None, again: bool, as_json: bool, fmt: str
) -> None:
    """Register an uploaded policy as the next round, evaluate it against the champion and decide (exit 0
    promoted, 3 held, 4 rejected).

    Idempotent: a directory whose files are a registered checkpoint's reuses that checkpoint (its id and its
    stored answers); when they are already a finished round's policy, the command prints that round and adds
    nothing (--again for a deliberate second evaluation). A crashed add resumes.
    """
    from rlhf.rounds.orchestrator import add_round

    if not Path(checkpoint_path).is_dir():
        raise BadInput(f"--checkpoint {checkpoint_path}: no such directory")
    config = _load(config_path or default_recipe())
    store = _store(ctx, create=True)
    echo = _echo(as_json, fmt)
    result = _run(add_round, config, store, checkpoint_path, echo=echo, again=again)
    if result.status == "exists":
        echo(
            f"{checkpoint_path}: same files as checkpoint {result.policy_checkpoint_id}, already evaluated as "
            f"round {result.round_id}: nothing added (--again evaluates it once more as a new round)"
        )
        for line in _round_outcome(store, result.round_id):
            echo(f"  {line}")
        if result.decision:  # the same decision and exit code as when it was decided
            _decided(result.decision, as_json, fmt)
        return
    echo(
        f"round {result.round_id}: {result.policy_checkpoint_id} evaluated against "
        f"{result.parent_checkpoint_id} in {result.seconds:.1f} s"
    )
    _decided(result.decision, as_json, fmt)


def _round_outcome(store, round_id: str) -> list[str]:
    """What a finished round found: each judge's win rate from its evaluate stage (the headline marked)."""
    from rlhf.store.queries.rounds import stage_rows

    lines = []
    for stage, status, detail in stage_rows(store, round_id):
        if stage != "evaluate" or status != "done":
            continue
        headline = detail.get("primary_judge")
        for name, summary in (detail.get("judges") or {}).items():
            wr = summary.get("win_rate_detail") if isinstance(summary, dict) else None
            if wr and wr.get("win_rate") is not None:
                low, high = (
                    f"{x:.3f}" if isinstance(x, (int, float)) else "-" for x in (wr["ci_low"], wr["ci_high"])
                )
                lines.append(
                    f"judge {name}{' (headline)' if name == headline else ''}: win rate {wr['win_rate']:.3f} "
                    f"[{low}, {high}] over {wr['n_total']} prompts"
                )
    return lines or [f"round {round_id} recorded no win rate (rlhf round status)"]


__all__ = ["round_"]
