"""Numbered migrations, applied in order under the writer lock and recorded in `meta/migrations.jsonl`.

Columns added to `rlhf.schema` need no migration: `Store.open` writes a zero-row part carrying the current
schema, and the views read all parts by column name, so older parts show the new column as NULL. A
migration is for changes that must touch stored rows (a renamed column, a backfill).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import duckdb

from rlhf.store.duck import batch_name, memory_connection


class MigrationTarget(Protocol):
    """What a migration may use of the store: its directories and publishing parts under the writer lock."""

    root: Path

    @property
    def data_dir(self) -> Path: ...

    def publish(
        self, con: duckdb.DuckDBPyConnection, tables: Mapping[str, str], *, name: str | None = None
    ) -> Path: ...


# (number, name, function(store)); append only, never renumber. Each runs under the writer lock.
MIGRATIONS: list[tuple[int, str, Callable[[MigrationTarget], None]]] = []


def migration(number: int):
    def register(fn: Callable[[MigrationTarget], None]):
        MIGRATIONS.append((number, fn.__name__, fn))
        MIGRATIONS.sort(key=lambda m: m[0])
        return fn

    return register


@migration(1)
def m001_layout(store: MigrationTarget) -> None:
    """Snapshots under snapshots/, the live one behind the `current` link, batches inside it."""
    (store.data_dir / "batches").mkdir(parents=True, exist_ok=True)
    (store.root / "meta").mkdir(exist_ok=True)


@migration(2)
def m002_backfill_judgment_lengths(store: MigrationTarget) -> None:
    """Stores from before lengths were derived on append: fill length_a/length_b from answer texts.

    Rewrites each affected part as a new part (same rows, lengths filled) and swaps it in with one rename.
    """
    for part in sorted((store.data_dir / "batches").glob("*/judgments.parquet")):
        con = memory_connection()
        cols = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(part)]).fetchall()]
        if not {"answer_a", "answer_b"} <= set(cols):
            continue
        missing = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE (length_a IS NULL AND answer_a IS NOT NULL) "
            "OR (length_b IS NULL AND answer_b IS NOT NULL)"
            if {"length_a", "length_b"} <= set(cols)
            else "SELECT count(*) FROM read_parquet(?)",
            [str(part)],
        ).fetchall()[0][0]
        if not missing:
            continue
        select = ", ".join(
            f"coalesce(length_{s}, length(answer_{s}))::INTEGER AS length_{s}"
            if f"length_{s}" in cols
            else f"length(answer_{s})::INTEGER AS length_{s}"
            for s in ("a", "b")
        )
        keep = ", ".join(f'"{c}"' for c in cols if c not in ("length_a", "length_b"))
        tmp = part.with_name(".judgments.parquet.tmp")
        con.execute(
            f"COPY (SELECT {keep}, {select} FROM read_parquet(?)) TO '{tmp}' (FORMAT parquet)", [str(part)]
        )
        con.close()
        tmp.replace(part)


@migration(3)
def m003_winrate_rollups(store: MigrationTarget) -> None:
    """Build the win-rate rollups (rlhf/store/rollups.py) for judgments stored before they existed."""
    from rlhf.store import rollups, views

    con = memory_connection()
    try:
        con.execute(
            f"CREATE TEMP TABLE new_judgments AS {views.table_select_sql('judgments', store.data_dir)}"
        )
        if not con.execute("SELECT count(*) FROM new_judgments").fetchall()[0][0]:
            return
        name = batch_name()
        store.publish(con, rollups.stage(con, store.data_dir, name), name=name)
    finally:
        con.close()
