"""`rlhf store ...`: where the store is and what it holds."""

from __future__ import annotations

import click

from rlhf.schema import TABLES
from rlhf.store import Store


def open_store(ctx: click.Context) -> Store:
    return Store.open((ctx.obj or {}).get("store_dir"))


@click.group()
def store() -> None:
    """The store: location, contents, compaction."""


@store.command("path")
@click.pass_context
def path_(ctx: click.Context) -> None:
    """Print the analysts' DuckDB file (open it read-only: duckdb -readonly PATH)."""
    click.echo(open_store(ctx).analyst_db)


@store.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Row counts per table, migrations applied, batches on disk."""
    s = open_store(ctx)
    click.echo(f"store     {s.root}")
    click.echo(f"analysts  {s.analyst_db}")
    batches = len(list((s.data_dir / "batches").iterdir()))
    click.echo(f"batches   {batches} in {s.data_dir.resolve().name}")
    click.echo(f"migrations {', '.join(str(m['number']) for m in s.applied_migrations())}")
    for table in TABLES:
        click.echo(f"  {table:<18} {s.count(table):>12,}")


@store.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Merge all batches into one snapshot (readers keep working; old files go after an hour)."""
    merged = open_store(ctx).compact()
    click.echo(f"merged {merged} batches")
