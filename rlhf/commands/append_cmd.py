"""`rlhf append prompts|generations|judgments FILE...`: the nightly job's way in."""

from __future__ import annotations

from typing import cast

import click

from rlhf.commands import store_from
from rlhf.commands.dashboard_cmd import store_summaries
from rlhf.store.ingest import Kind, append_files


@click.command()
@click.argument("kind", type=click.Choice(["prompts", "generations", "judgments"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--allow-new-rounds",
    is_flag=True,
    help="Accept judgments whose round_id names a round the store does not know (else refused).",
)
@click.pass_context
def append(ctx: click.Context, kind: str, files: tuple[str, ...], allow_new_rounds: bool) -> None:
    """Append JSONL, CSV or Parquet FILES to the store as one atomic batch.

    Rows already stored with the same content are skipped, so rerunning a job adds nothing twice.
    Exit 0 when done; 2 with every problem of the first bad file (up to 20, each naming file, line and field)
    when any row is bad (nothing written).

    \b
    Judgments, one record each (docs/store.md lists every field):
      required  judge, prompt_id, model_a, model_b (text);
                preference: a number in [0, 1], P(model_b's answer is better),
                0.5 a tie; empty only with an error saying why it is unscored
                (true/false, NaN and "" are refused)
      optional  judge_version (default 'external'; a new version is a new judge),
                order (ab: model_a's answer shown first, ba, empty: unknown),
                error, round_id (a round the store knows; see --allow-new-rounds),
                prompt (the prompt's text when the store lacks it), category,
                answer_a, answer_b, rationale, source
    A stored judgment is never changed: correct one under a new judge_version.
    """
    store = store_from(ctx, create=True)
    results = append_files(store, cast(Kind, kind), files, allow_new_rounds=allow_new_rounds)
    for table, result in results.items():
        click.echo(f"{table}: {result.added} added, {result.skipped} already stored")
    if any(result.added for result in results.values()):
        store_summaries(store, only_if_used=True)
