"""The store: append-only tables read through DuckDB views, on one of two backends (docs/store.md).

A directory is the embedded store (immutable Parquet batches renamed into place, rlhf/store/directory.py);
`ducklake:postgres:...` is the multi-machine store (DuckLake with a Postgres catalog, rlhf/store/lake.py).
"""

from rlhf.store.records import RecordError
from rlhf.store.store import AppendResult, Store, StoreError, StoreUnavailable, default_store_dir

# The backends, so that Store.open finds them (each subclasses Store and says which location it opens).
from rlhf.store import directory, lake  # noqa: F401  isort: skip

__all__ = ["AppendResult", "RecordError", "Store", "StoreError", "StoreUnavailable", "default_store_dir"]
