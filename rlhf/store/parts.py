"""Where a table's stored rows are, as SQL: Parquet parts of a directory snapshot, or a DuckLake table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LakeTables:
    """The stored tables of a DuckLake store: one table per store table in `schema` of the attached lake.

    Unqualified, so the same SQL works in the lake's own views and in a session that did `USE <lake>`.
    """

    schema: str = "stored"


Source = Path | LakeTables  # a directory snapshot (its `batches/*/<table>.parquet`) or a DuckLake schema


def parts_sql(table: str, source: Source) -> str:
    """All stored columns of `table` (hidden ones included) in `source`."""
    if isinstance(source, LakeTables):
        return f'SELECT * FROM {source.schema}."{table}"'
    glob = str(source / "batches" / "*" / f"{table}.parquet").replace("'", "''")
    return f"SELECT * FROM read_parquet('{glob}', union_by_name = true)"
