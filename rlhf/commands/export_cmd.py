"""`rlhf export mlflow --tracking-uri URI [--experiment NAME]`: replay a store's rounds into an MLflow experiment.

Each evaluated round becomes one run with the same parameters, metrics (step = round number), tags and child
runs for its training stages as a round with `trackers: {mlflow: ...}` logs live (rlhf/rounds/tracking.py).
Rounds already in the experiment are left alone, so exporting twice logs nothing twice. Needs the `mlflow`
extra (`pip install -e '.[mlflow]'`). Exit 0 when every round is in the experiment, 1 when some could not be
logged (each named in a warning), 2 on bad input.
"""

from __future__ import annotations

import click

from rlhf.commands import BadInput, store_from
from rlhf.commands.strict_json import echo_json


@click.group()
def export() -> None:
    """Export a store's history to other tools."""


@export.command("mlflow")
@click.option("--tracking-uri", required=True, help="e.g. sqlite:///mlflow.db or http://host:5000")
@click.option("--experiment", default="rlhf-rounds", show_default=True, help="MLflow experiment name.")
@click.option("--json", "as_json", is_flag=True, help="Print what was exported as JSON.")
@click.pass_context
def mlflow(ctx: click.Context, tracking_uri: str, experiment: str, as_json: bool) -> None:
    """Log every evaluated round of the store to an MLflow experiment (skipping rounds already there)."""
    import importlib.util

    from rlhf.rounds.tracking import MLflowSettings, MLflowTracker
    from rlhf.store.queries.rounds import evaluated_rounds

    if importlib.util.find_spec("mlflow") is None:
        raise BadInput("rlhf export mlflow needs MLflow: pip install -e '.[mlflow]'")
    try:
        settings = MLflowSettings(tracking_uri=tracking_uri, experiment=experiment)
    except ValueError as exc:
        raise BadInput(f"--tracking-uri/--experiment: {exc}") from None
    store = store_from(ctx)
    warnings: list[str] = []
    tracker = MLflowTracker(settings, warn=warnings.append)
    rounds = [round_id for round_id, _ in evaluated_rounds(store)]
    logged = [round_id for round_id in rounds if tracker.log_round(store, round_id)]
    failed = len(warnings)
    summary = {
        "tracking_uri": tracking_uri,
        "experiment": experiment,
        "rounds": len(rounds),
        "logged": logged,
        "already_there": len(rounds) - len(logged) - failed,
        "failed": failed,
    }
    if as_json:
        echo_json(summary)
    else:
        for warning in warnings:
            click.echo(warning, err=True)
        click.echo(
            f"exported {len(logged)} of {len(rounds)} evaluated rounds to MLflow experiment {experiment!r} at "
            f"{tracking_uri} ({summary['already_there']} already there, {failed} failed)"
        )
    if failed:
        raise click.ClickException(f"{failed} rounds could not be logged to MLflow; rerun to retry them")
