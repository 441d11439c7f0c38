"""The Store: append-only tables with natural keys, read through DuckDB views. Two backends, one API.

- `rlhf/store/directory.py` (a directory): immutable Parquet batches renamed into place, `flock` between
  writers, for one machine.
- `rlhf/store/lake.py` (`ducklake:postgres:...`): DuckLake with a Postgres catalog and Parquet files on a
  shared filesystem, for many machines.

`Store.open(location)` picks the backend from the location (rlhf/store/location.py). Everything callers use
is here and behaves the same on both: `append`, `append_batch` (atomic, idempotent), `query`, `count`,
`connect`, `compact`, `root`, `location`. What differs is how a batch is made visible under concurrent
writers (`_write`), how readers see the views (`connect`) and maintenance (`compact`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import duckdb
import pandas as pd

from rlhf.schema import KEYS, TABLES
from rlhf.store import records, rollups, views
from rlhf.store.duck import memory_connection
from rlhf.store.parts import Source


class StoreError(RuntimeError):
    """A write that cannot be done as asked, or a store that cannot be opened; nothing was written."""


class StoreUnavailable(StoreError):
    """The store location is malformed or unreachable (bad input or configuration: CLI exit code 2)."""


# what a read-only command says where no store is (rlhf/commands: only commands that write create a store)
NO_STORE_HINT = "`rlhf demo`, `rlhf round run` or `rlhf append` create one"


@dataclass(frozen=True)
class AppendResult:
    table: str
    added: int
    skipped: int


def default_store_dir() -> Path:
    """$RLHF_STORE, else $XDG_DATA_HOME/rlhf-rounds/store, else ~/.local/share/rlhf-rounds/store."""
    if os.environ.get("RLHF_STORE"):
        return Path(os.environ["RLHF_STORE"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "rlhf-rounds" / "store"


def stored_columns(table: str) -> list[str]:
    """The columns a stored table holds: the schema's plus the hidden key hash (rollups: their own)."""
    return list(rollups.ROLLUPS[table]) if table in rollups.ROLLUPS else [*TABLES[table], "_key"]


def stored_types(table: str) -> dict[str, str]:
    if table in rollups.ROLLUPS:
        return dict(rollups.ROLLUPS[table])
    return {**TABLES[table], "_key": "UBIGINT"}


class Store:
    """A store. `root` is a local directory (a DuckLake store's root is on the shared filesystem); artefacts
    of rounds live under it. `location` is the string that opens this store again (`--store`)."""

    backend = "abstract"

    def __init__(self, root: Path):
        self.root = root

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True) -> Store:
        """Open (creating and upgrading as needed) the store at `path`, else `default_store_dir()`.

        With ``create=False`` a location holding no store raises StoreUnavailable ("no store at PATH") and
        nothing is created; an existing store is still upgraded (migrations, the analysts' file).

        `path` is a directory or `ducklake:postgres:<libpq settings> data_path=DIR` (docs/store.md).
        Raises StoreUnavailable, naming what and where, for a location that cannot be used.
        """
        from rlhf.store import location

        try:
            parsed = location.parse(path if path else default_store_dir())
        except location.LocationError as exc:
            raise StoreUnavailable(str(exc)) from None
        # The backends subclass Store (rlhf/store/__init__.py imports them); each opens one kind of location,
        # so this module never imports them (no import cycle between the base class and its backends).
        for backend in Store.__subclasses__():
            if isinstance(parsed, backend.location_type):
                return backend.open_location(parsed, create=create)
        raise StoreUnavailable(f"{path}: no store backend opens a {type(parsed).__name__}")

    location_type: type = type(None)  # the parsed location (rlhf.store.location) a backend opens

    @classmethod
    def open_location(cls, place: Any, *, create: bool = True) -> Store:
        """Open a parsed location of this backend's `location_type`."""
        raise NotImplementedError

    @property
    def location(self) -> str:
        return str(self.root)

    # ---- paths recorded in the store -----------------------------------------------------------------
    # A path inside the store is recorded relative to its root, as "./rounds/round-001/policy", so a store
    # copied or moved (`cp -r`, `mv`) finds its own files at the new place; a path outside stays absolute.
    def stored_path(self, path: str | Path) -> str:
        """How ``path`` is recorded: "./<relative>" inside the store's root, else absolute."""
        absolute = Path(path).expanduser().resolve()
        try:
            return "./" + absolute.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(absolute)

    def local_path(self, recorded: str) -> str:
        """A recorded path on this machine: "./<relative>" under the store's root, anything else unchanged."""
        return str(self.root / recorded[2:]) if recorded.startswith("./") else recorded

    def applied_migrations(self) -> list[dict]:
        raise NotImplementedError

    def attach_instructions(self) -> list[str]:
        """What an analyst types to open this store read-only (printed by `rlhf store path`)."""
        raise NotImplementedError

    def describe(self) -> list[tuple[str, str]]:
        """Backend facts for `rlhf store info`."""
        raise NotImplementedError

    # ---- writing -------------------------------------------------------------------------------------
    def append(
        self,
        table: str,
        rows,
        *,
        source: str | None = None,
        on_conflict: Literal["error", "keep"] = "error",
    ) -> AppendResult:
        """Append rows to one table, atomically and idempotently. See `append_batch`."""
        return self.append_batch({table: rows}, source=source, on_conflict=on_conflict)[table]

    def append_batch(
        self,
        batch: Mapping[str, object],
        *,
        source: str | None = None,
        on_conflict: Literal["error", "keep"] = "error",
    ) -> dict[str, AppendResult]:
        """Append rows to several tables as one batch: all of it becomes visible at once, or none of it.

        A row whose natural key is stored already is skipped when its content is the same; when the
        content differs it is an error (`on_conflict="error"`, nothing written) or the stored row is kept
        (`on_conflict="keep"`, for caches and resumable jobs). Raises `records.RecordError` for bad rows.
        """
        with self._append_connection() as con:
            given: dict[str, int] = {}
            for table, rows in batch.items():
                if source is not None and "source" in TABLES.get(table, {}):
                    rows = (
                        pd.DataFrame(cast(Any, rows)) if not isinstance(rows, pd.DataFrame) else rows.copy()
                    )
                    rows["source"] = rows["source"].fillna(source) if "source" in rows.columns else source
                given[table] = records.load(con, table, rows, f"new_{table}")
                self._dedupe_within(con, table)
            return self._write(con, given, on_conflict)

    @contextlib.contextmanager
    def _append_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one append; its temp tables are private to it."""
        con = memory_connection()
        try:
            yield con
        finally:
            con.close()

    def _write(
        self, con: duckdb.DuckDBPyConnection, given: dict[str, int], on_conflict: str
    ) -> dict[str, AppendResult]:
        """Publish temp tables new_<table> (checked, deduplicated within) as one batch, exactly once."""
        raise NotImplementedError

    @staticmethod
    def _dedupe_within(con: duckdb.DuckDBPyConnection, table: str) -> None:
        name = f"new_{table}"
        if not con.execute(f"SELECT count(*) > count(DISTINCT _key) FROM {name}").fetchall()[0][0]:
            return
        clash = con.execute(
            f"SELECT a._row, b._row FROM {name} a JOIN {name} b ON a._key = b._key AND a._row < b._row "
            f"WHERE NOT ({records.same_content(table, 'a', 'b')}) ORDER BY b._row LIMIT 1"
        ).fetchall()
        if clash:
            first, second = clash[0]
            raise records.RecordError(
                table, int(second), "key", f"duplicate key with different content (also at row {first})"
            )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT DISTINCT ON (_key) * FROM {name} ORDER BY _key, _row"
        )

    @staticmethod
    def _drop_stored(con: duckdb.DuckDBPyConnection, table: str, on_conflict: str, stored: Source) -> int:
        """Remove from new_<table> the rows whose key is stored in `stored`; return how many remain."""
        name = f"new_{table}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stored_{table} AS SELECT n._row, {records.same_content(table, 'n', 'e')} AS same "
            f"FROM {name} n JOIN ({views.raw_table_sql(table, stored)}) e ON e._key = n._key"
        )
        if on_conflict == "error":
            row = con.execute(f"SELECT min(_row) FROM stored_{table} WHERE NOT same").fetchall()[0][0]
            if row is not None:
                raise records.RecordError(
                    table,
                    int(row),
                    "key",
                    "a stored record has the same key and different content: "
                    + Store._differences(con, table, int(row), stored),
                )
        con.execute(f"DELETE FROM {name} WHERE _row IN (SELECT _row FROM stored_{table})")
        return con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]

    @staticmethod
    def _differences(con: duckdb.DuckDBPyConnection, table: str, row: int, stored: Source) -> str:
        """Which content fields of new_<table> row ``row`` differ from the stored record with its key."""
        columns = records.content_columns(table)
        pairs = ", ".join(f'CAST(n."{c}" AS VARCHAR), CAST(e."{c}" AS VARCHAR)' for c in columns)
        found = con.execute(
            f"SELECT {pairs} FROM new_{table} n JOIN ({views.raw_table_sql(table, stored)}) e ON e._key = n._key "
            "WHERE n._row = ? LIMIT 1",
            [row],
        ).fetchall()
        if not found:
            return "(the stored record could not be read back)"
        values = found[0]
        diffs = [
            f"{c} stored {values[2 * i + 1]!r}, given {values[2 * i]!r}"
            for i, c in enumerate(columns)
            if values[2 * i] != values[2 * i + 1]
        ]
        key = ", ".join(KEYS[table])
        return f"{'; '.join(diffs)} (the key: {key})"

    def compact(self, *, full: bool = True, keep_old_s: float | None = None) -> int:
        """Merge small files, fold the rollups and remove files no reader needs any more (older than
        `keep_old_s`; None: the backend's default). Readers keep working. Returns how many batches or
        files were merged."""
        raise NotImplementedError

    # ---- reading -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on a private in-memory DuckDB with every view; it holds no lock on any file.

        Safe to use from several threads at once (one cursor each).
        """
        raise NotImplementedError
        yield  # pragma: no cover

    def query(self, sql: str, params=None) -> pd.DataFrame:
        """Run one query over the views; parameters are bound, never formatted into the SQL."""
        with self.connect() as con:
            return con.execute(sql, params or []).df()

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) AS n FROM {_checked(table)}")["n"].iloc[0])


def _checked(table: str) -> str:
    if table not in TABLES and table not in views.DERIVED_VIEWS:
        raise StoreError(f"unknown table or view {table!r}")
    return table
