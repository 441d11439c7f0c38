"""`rlhf store ...`: where the store is, how to open it read-only, what it holds, compaction."""

from __future__ import annotations

import click

from rlhf.commands import store_from
from rlhf.schema import TABLES
from rlhf.store import Store


def open_store(ctx: click.Context) -> Store:
    return store_from(ctx)


@click.group()
def store() -> None:
    """The store: location, contents, compaction."""


@store.command("path")
@click.option(
    "--location", "location_only", is_flag=True, help="Print only the location (what --store takes)."
)
@click.pass_context
def path_(ctx: click.Context, location_only: bool) -> None:
    """Print how to open the store read-only.

    A directory store: the analysts' DuckDB file (duckdb -readonly PATH). A DuckLake store: the statements to
    type in the duckdb CLI 1.5.5 (install the extensions from the wheels once, then attach read-only).
    """
    s = open_store(ctx)
    if location_only:
        click.echo(s.location)
        return
    if s.backend == "directory":
        click.echo(s.analyst_db)  # type: ignore[attr-defined]
        return
    for line in s.attach_instructions():
        click.echo(line)


@store.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Backend, row counts per table, migrations applied."""
    s = open_store(ctx)
    for name, value in s.describe():
        click.echo(f"{name:<10} {value}")
    click.echo(f"migrations {', '.join(str(m['number']) for m in s.applied_migrations())}")
    for table in TABLES:
        click.echo(f"  {table:<18} {s.count(table):>12,}")


@store.command()
@click.option(
    "--keep-hours",
    type=click.FloatRange(min=0),
    default=None,
    help="Keep superseded files (directory) or snapshots for time travel (DuckLake) this long "
    "[default: 1 h directory, 168 h DuckLake].",
)
@click.pass_context
def compact(ctx: click.Context, keep_hours: float | None) -> None:
    """Merge small files and fold the rollups; readers keep working; old files go after --keep-hours."""
    s = open_store(ctx)
    merged = s.compact(keep_old_s=None if keep_hours is None else keep_hours * 3600)
    click.echo(f"merged {merged} {'batches' if s.backend == 'directory' else 'data files'}")
