"""The store: immutable Parquet batches renamed into place, read through DuckDB views.

See docs/store.md for why: DuckDB's file lock lets one writer block every reader and one idle reader block
every writer, so no process here ever holds a database file open for writing while others read.
"""

from rlhf.store.records import RecordError
from rlhf.store.store import AppendResult, Store, StoreError, default_store_dir

__all__ = ["AppendResult", "RecordError", "Store", "StoreError", "default_store_dir"]
