"""Small helpers every store module shares: a quiet in-memory DuckDB and batch names (base of the store).

They live apart from ``rlhf.store.store`` so that migrations, rollups and the backends can use them without
importing the ``Store`` class (which imports them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import duckdb

__all__ = ["batch_name", "memory_connection", "utc_now"]


def memory_connection() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB, quiet (no progress bars in nightly logs)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def utc_now() -> datetime:
    """Now in UTC as a naive timestamp (how the store records times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def batch_name() -> str:
    """A new batch directory name: sortable by time, unique across writers."""
    return f"{utc_now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
