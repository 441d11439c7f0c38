"""Where a table's Parquet parts are, as SQL."""

from __future__ import annotations

from pathlib import Path


def parts_sql(table: str, data_dir: Path) -> str:
    """All columns of every part of `table` in the snapshot at `data_dir` (hidden ones included)."""
    glob = str(data_dir / "batches" / "*" / f"{table}.parquet").replace("'", "''")
    return f"SELECT * FROM read_parquet('{glob}', union_by_name = true)"
