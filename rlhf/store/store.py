"""The Store: append-only tables as immutable Parquet batches, read through DuckDB views.

Layout of a store directory:
    current -> snapshots/s000001     the live snapshot (a symlink swapped atomically by compaction)
    snapshots/s000001/batches/<id>/<table>.parquet
                                     one directory per append; it appears by one rename, whole or not at all
    catalog.duckdb                   the analysts' file: views only, no data; rewritten by rename
    meta/migrations.jsonl            applied migrations
    meta/catalog.json                what the catalog was built from
    .lock                            serialises writers (flock); readers never take it
    staging/                         batches being written; anything left here after a crash is garbage

No process keeps a DuckDB database file open for writing, so a nightly append never waits for a reader
and a reader never waits for an append.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from rlhf.durable import fsync_dir, fsync_file
from rlhf.schema import TABLES
from rlhf.store import records, rollups, views
from rlhf.store.migrations import MIGRATIONS

ANALYST_STORAGE_VERSION = "v1.5.0"  # readable by the duckdb-cli 1.5.x on PyPI
AUTO_MERGE_BATCHES = 128  # more batches than this in the live snapshot: merge the small ones
SMALL_BATCH_BYTES = 8 << 20
_SCHEMA_HASH = hashlib.sha256(json.dumps([TABLES, rollups.ROLLUPS], sort_keys=True).encode()).hexdigest()[:12]


def _stored_columns(table: str) -> list[str]:
    """The columns a part of `table` holds on disk: the schema's plus the hidden key hash."""
    return list(rollups.ROLLUPS[table]) if table in rollups.ROLLUPS else [*TABLES[table], "_key"]


class StoreError(RuntimeError):
    """A write that cannot be done as asked; nothing was written."""


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


class Store:
    """A store directory. Cheap to create; holds no open handles."""

    def __init__(self, root: Path):
        self.root = root
        self._reader: duckdb.DuckDBPyConnection | None = None  # in-memory, views built once; see connect()
        self._reader_stamp: tuple | None = None
        self._reader_lock = threading.Lock()

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True) -> "Store":
        """Open (creating and upgrading as needed) the store at `path`, else `default_store_dir()`."""
        root = Path(path).expanduser() if path else default_store_dir()
        if root.exists() and not root.is_dir():
            raise StoreError(f"store path {root} exists and is not a directory")
        if not root.exists() and not create:
            raise StoreError(f"no store at {root}")
        store = cls(root.absolute())
        if not store._is_current():
            store._upgrade()
        return store

    @property
    def data_dir(self) -> Path:
        return self.root / "current"

    @property
    def analyst_db(self) -> Path:
        return self.root / "catalog.duckdb"

    def applied_migrations(self) -> list[dict]:
        path = self.root / "meta" / "migrations.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def _catalog_stamp(self) -> dict:
        statements = views.all_view_statements(self.data_dir)
        return {
            "root": str(self.root),
            "views_sha": hashlib.sha256("\n".join(statements).encode()).hexdigest(),
            "schema": _SCHEMA_HASH,
        }

    def _is_current(self) -> bool:
        stamp = self.root / "meta" / "catalog.json"
        if not stamp.exists() or not self.analyst_db.exists():
            return False
        if {m["number"] for m in self.applied_migrations()} != {n for n, _, _ in MIGRATIONS}:
            return False
        try:
            return json.loads(stamp.read_text()) == self._catalog_stamp()
        except (OSError, ValueError):
            return False

    def _upgrade(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._write_lock():
            if not self.data_dir.exists():
                (self.root / "snapshots" / "s000001").mkdir(parents=True, exist_ok=True)
                self._point_current("snapshots/s000001")
            (self.data_dir / "batches").mkdir(parents=True, exist_ok=True)
            (self.root / "meta").mkdir(exist_ok=True)
            self._ensure_schema_part()
            done = {m["number"] for m in self.applied_migrations()}
            for number, name, fn in MIGRATIONS:
                if number in done:
                    continue
                fn(self)
                with open(self.root / "meta" / "migrations.jsonl", "a") as fh:
                    fh.write(json.dumps({"number": number, "name": name, "applied_at": _now().isoformat()}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            self._write_catalog()

    def _point_current(self, target: str) -> None:
        tmp = self.root / f".current-{uuid.uuid4().hex}"
        os.symlink(target, tmp)
        os.replace(tmp, self.root / "current")
        fsync_dir(self.root)

    def _ensure_schema_part(self) -> None:
        """A zero-row part with every current column, so every view binds even before the first append."""
        name = f"000000-schema-{_SCHEMA_HASH}"
        if (self.data_dir / "batches" / name).exists():
            return
        con = _memory()
        try:
            empty = {}
            for table, columns in [*TABLES.items(), *rollups.ROLLUPS.items()]:
                types = {**columns, **({} if table in rollups.ROLLUPS else {"_key": "UBIGINT"})}
                cols = ", ".join(f'NULL::{t} AS "{c}"' for c, t in types.items())
                empty[table] = f"(SELECT {cols} LIMIT 0)"
            self._publish(con, empty, name=name)
        finally:
            con.close()

    def _write_catalog(self) -> None:
        tmp = self.root / f".catalog-{uuid.uuid4().hex}.duckdb"
        con = duckdb.connect(str(tmp), config={"storage_compatibility_version": ANALYST_STORAGE_VERSION})
        try:
            for statement in views.all_view_statements(self.data_dir):
                con.execute(statement)
            root = str(self.root).replace("'", "''")
            con.execute(
                f"CREATE OR REPLACE VIEW store_info AS SELECT '{root}' AS store_root, "
                f"'{_SCHEMA_HASH}' AS schema_hash, TIMESTAMP '{_now().isoformat(sep=' ')}' AS built_at"
            )
        finally:
            con.close()
        os.replace(tmp, self.analyst_db)
        stamp = self.root / "meta" / "catalog.json"
        stamp_tmp = stamp.with_suffix(".tmp")
        stamp_tmp.write_text(json.dumps(self._catalog_stamp()))
        os.replace(stamp_tmp, stamp)
        fsync_dir(self.root)

    # ---- writing -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

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
        con = _memory()
        try:
            given: dict[str, int] = {}
            for table, rows in batch.items():
                if source is not None and "source" in TABLES.get(table, {}):
                    rows = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
                    rows["source"] = rows["source"].fillna(source) if "source" in rows.columns else source
                given[table] = records.load(con, table, rows, f"new_{table}")
                self._dedupe_within(con, table)
            with self._write_lock():
                results = {}
                for table in given:
                    added = self._drop_stored(con, table, on_conflict)
                    results[table] = AppendResult(table, added, given[table] - added)
                to_write = {t: f"new_{t}" for t, r in results.items() if r.added}
                batch_name = _batch_name()
                if "judgments" in to_write:
                    to_write.update(rollups.stage(con, self.data_dir, batch_name))
                if to_write:
                    self._publish(con, to_write, name=batch_name)
                    if sum(1 for _ in (self.data_dir / "batches").iterdir()) > AUTO_MERGE_BATCHES:
                        self._compact_locked(full=False, keep_old_s=3600.0)
            return results
        finally:
            con.close()

    @staticmethod
    def _dedupe_within(con, table: str) -> None:
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
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT DISTINCT ON (_key) * FROM {name} ORDER BY _key, _row")

    def _drop_stored(self, con, table: str, on_conflict: str) -> int:
        """Remove from new_<table> the rows whose key is stored; return how many remain."""
        name = f"new_{table}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stored_{table} AS SELECT n._row, {records.same_content(table, 'n', 'e')} AS same "
            f"FROM {name} n JOIN ({views.raw_table_sql(table, self.data_dir)}) e ON e._key = n._key"
        )
        if on_conflict == "error":
            row = con.execute(f"SELECT min(_row) FROM stored_{table} WHERE NOT same").fetchall()[0][0]
            if row is not None:
                raise records.RecordError(table, int(row), "key", "a stored record has the same key and different content")
        con.execute(f"DELETE FROM {name} WHERE _row IN (SELECT _row FROM stored_{table})")
        return con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]

    def _publish(self, con, tables: Mapping[str, str], *, name: str | None = None) -> Path:
        """Write each relation as a part into a staging directory, fsync, and rename it into the snapshot."""
        staging = self.root / "staging"
        if staging.exists():  # leftovers of a crashed writer; we hold the lock, so nobody else uses them
            for leftover in staging.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
        batch_name = name or _batch_name()
        tmp = staging / batch_name
        tmp.mkdir(parents=True)
        for table, relation in tables.items():
            target = tmp / f"{table}.parquet"
            columns = ", ".join(f'"{c}"' for c in _stored_columns(table))
            quoted = str(target).replace("'", "''")
            con.execute(f"COPY (SELECT {columns} FROM {relation}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)")
            fsync_file(target)
        fsync_dir(tmp)
        final = self.data_dir / "batches" / batch_name
        os.rename(tmp, final)
        fsync_dir(final.parent)
        return final

    def compact(self, *, full: bool = True, keep_old_s: float = 3600.0) -> int:
        """Merge batches into a new snapshot and switch `current` to it atomically.

        `full=True` merges everything into one part per table (and folds the rollups); `full=False`
        merges only small batches and hard-links the large ones, which costs only the small ones' size.
        Readers that already listed the old snapshot's files keep reading them; old snapshots are removed
        at a later compaction once older than `keep_old_s`. Returns the number of batches merged.
        """
        with self._write_lock():
            return self._compact_locked(full=full, keep_old_s=keep_old_s)

    def _compact_locked(self, *, full: bool, keep_old_s: float) -> int:
        old = self.data_dir.resolve()
        batches = sorted((old / "batches").iterdir())
        if full:
            merge, keep = batches, []
        else:
            size = {b: sum(f.stat().st_size for f in b.iterdir()) for b in batches}
            merge = [b for b in batches if size[b] < SMALL_BATCH_BYTES]
            keep = [b for b in batches if size[b] >= SMALL_BATCH_BYTES]
            if len(merge) < 2:
                return 0
        new = self.root / "snapshots" / f"s{int(old.name[1:]) + 1:06d}"
        tmp = self.root / "staging" / f"snapshot-{uuid.uuid4().hex}"
        merged = tmp / "batches" / f"{_batch_name()}-merged"
        merged.mkdir(parents=True)
        for batch in keep:  # large batches move by hard link: no copy
            (tmp / "batches" / batch.name).mkdir()
            for part in batch.iterdir():
                os.link(part, tmp / "batches" / batch.name / part.name)
        con = _memory()
        try:
            for table in [*TABLES, *rollups.ROLLUPS]:
                parts = [str(b / f"{table}.parquet") for b in merge if (b / f"{table}.parquet").exists()]
                if not parts:
                    continue
                if full and table in rollups.ROLLUPS:
                    src = rollups.compacted_sql(table, old)
                else:
                    src = f"SELECT * FROM read_parquet({parts!r}, union_by_name = true)"
                target = str(merged / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY ({src}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
                fsync_file(merged / f"{table}.parquet")
        finally:
            con.close()
        fsync_dir(merged)
        os.rename(tmp, new)
        fsync_dir(new.parent)
        self._point_current(f"snapshots/{new.name}")
        cutoff = time.time() - keep_old_s
        for snap in (self.root / "snapshots").iterdir():
            if snap.name not in (new.name, old.name) and snap.stat().st_mtime < cutoff:
                shutil.rmtree(snap, ignore_errors=True)
        return len(merge)

    # ---- reading -------------------------------------------------------------------------------------
    def _reader_connection(self) -> duckdb.DuckDBPyConnection:
        """The in-memory database holding the views, built once per Store (rebuilt if the catalog changes).

        Creating the views binds them, which reads every part's footer; doing that once instead of per
        query is what makes small queries cheap. It holds no file: views re-list the parts at each query.
        """
        stamp_file = self.root / "meta" / "catalog.json"
        snapshot = self.data_dir.resolve()  # views bind the snapshot, so a compaction never moves files under them
        stamp = (stamp_file.stat().st_mtime if stamp_file.exists() else None, snapshot)
        with self._reader_lock:
            if self._reader is None or stamp != self._reader_stamp:
                if self._reader is not None:
                    self._reader.close()
                con = _memory()
                con.execute("SET parquet_metadata_cache = true")  # parts are immutable: footers never change
                for statement in views.all_view_statements(snapshot):
                    con.execute(statement)
                self._reader, self._reader_stamp = con, stamp
            return self._reader

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on a private in-memory DuckDB with every view; it holds no lock on any file.

        Safe to use from several threads at once (one cursor each).
        """
        cursor = self._reader_connection().cursor()
        try:
            yield cursor
        finally:
            cursor.close()

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


def _memory() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB, quiet (no progress bars in nightly logs)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _batch_name() -> str:
    return f"{_now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
