"""`rlhf gate|champion|promote|reject`: decide a round, see the champion, and record people's decisions.

`rlhf gate --round R` decides an evaluated round by the gate recorded with its recipe (or `--config`'s) and
records the decision once; a round decided already reports its recorded decision. `--dry-run` evaluates the
rule on the recorded judgments and records nothing (`--dry-run --config OTHER.yaml`: another rule).
`rlhf promote|reject --checkpoint X --reason TEXT` append a manual decision with the OS user; nothing is ever
rewritten.

Exit codes (rlhf/commands/__init__.py): `rlhf gate` 0 promoted, 3 held, 4 rejected; every command 1 when the
job failed and 2 for bad input (an unknown round or checkpoint, a bad gate section), nothing recorded.
"""

from __future__ import annotations

import click

from rlhf.commands import BadInput, exit_for_decision
from rlhf.commands import store_from as _store
from rlhf.commands.strict_json import echo_json

_FORMATS = click.Choice(["text", "markdown"])


def _print(record: dict, as_json: bool, fmt: str) -> None:
    from rlhf.rounds.decision_report import format_markdown, format_text

    if as_json:
        echo_json(record)
    else:
        click.echo(format_markdown(record) if fmt == "markdown" else format_text(record))


@click.command()
@click.option("--round", "round_id", required=True, help="The evaluated round to decide.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Take the gate section from this recipe (default: the one recorded with the round).",
)
@click.option("--dry-run", is_flag=True, help="Evaluate the rule on the recorded judgments; record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision record as JSON.")
@click.option("--format", "fmt", type=_FORMATS, default="text", show_default=True, help="text or markdown.")
@click.pass_context
def gate(
    ctx: click.Context, round_id: str, config_path: str | None, dry_run: bool, as_json: bool, fmt: str
) -> None:
    """Decide an evaluated round: exit 0 promoted, 3 held, 4 rejected."""
    from rlhf.rounds.config import load_config
    from rlhf.rounds.decisions import DecisionError, gate_round

    rule = load_config(config_path).gate if config_path else None
    store = _store(ctx)
    try:
        record = gate_round(store, round_id, rule, record=not dry_run)
    except DecisionError as exc:
        raise BadInput(str(exc)) from None
    _print(record, as_json, fmt)
    exit_for_decision(str(record["decision"]))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def champion(ctx: click.Context, as_json: bool) -> None:
    """The current champion (the checkpoint the next round starts from) and its lineage."""
    from rlhf.rounds.decision_report import printable
    from rlhf.rounds.decisions import champion as current

    found = current(_store(ctx))
    if as_json:
        echo_json(found.to_dict() if found else None)
        return
    if found is None:
        click.echo("no champion yet: no round is done; the first round starts from the recipe's policy")
        return
    click.echo(f"champion: {printable(found.checkpoint_id)} ({printable(found.source)})")
    for entry in found.lineage:
        click.echo(
            f"  since {entry['since']}: {printable(entry['checkpoint_id'])} by {printable(entry['by'])}"
            f" ({printable(entry['reason'])})"
        )


def _manual(decision: str):
    @click.command(decision)
    @click.option(
        "--checkpoint", "checkpoint", required=True, help="A policy checkpoint id (or its round id)."
    )
    @click.option("--reason", required=True, help="Why; recorded with the decision.")
    @click.option("--json", "as_json", is_flag=True, help="Print the decision record as JSON.")
    @click.pass_context
    def command(ctx: click.Context, checkpoint: str, reason: str, as_json: bool) -> None:
        from rlhf.rounds.decisions import DecisionError, record_manual

        try:
            record = record_manual(_store(ctx), checkpoint, decision, reason)
        except DecisionError as exc:
            raise BadInput(str(exc)) from None
        _print(record, as_json, "text")

    command.__doc__ = (
        f"Record a manual {decision} of a policy checkpoint, with the OS user and --reason (never rewritten)."
    )
    command.help = command.__doc__
    return command


promote = _manual("promote")
reject = _manual("reject")


__all__ = ["champion", "gate", "promote", "reject"]
