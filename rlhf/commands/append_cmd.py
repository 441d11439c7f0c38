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
@click.pass_context
def append(ctx: click.Context, kind: str, files: tuple[str, ...]) -> None:
    """Append JSONL, CSV or Parquet FILES to the store as one atomic batch.

    Rows already stored with the same content are skipped, so rerunning a job adds nothing twice.
    Exit 0 when done; 2 with a message naming file, line and field when any row is bad (nothing written).
    """
    store = store_from(ctx)
    results = append_files(store, cast(Kind, kind), files)  # an InputError exits 2 through the exit spine
    for table, result in results.items():
        click.echo(f"{table}: {result.added} added, {result.skipped} already stored")
    if any(result.added for result in results.values()):
        store_summaries(store, only_if_used=True)
