"""The directory backend: append-only tables as immutable Parquet batches, read through DuckDB views.

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
from pathlib import Path

import duckdb

from rlhf.durable import fsync_dir, fsync_file
from rlhf.schema import TABLES
from rlhf.store import rollups, views
from rlhf.store.duck import batch_name, memory_connection, utc_now
from rlhf.store.location import DirectoryLocation
from rlhf.store.migrations import MIGRATIONS
from rlhf.store.store import (
    NO_STORE_HINT,
    AppendResult,
    Store,
    StoreUnavailable,
    stored_columns,
    stored_types,
)

ANALYST_STORAGE_VERSION = "v1.5.0"  # readable by the duckdb-cli 1.5.x on PyPI
AUTO_MERGE_BATCHES = 128  # more batches than this in the live snapshot: merge the small ones
SMALL_BATCH_BYTES = 8 << 20
KEEP_OLD_S = 3600.0  # old snapshots stay this long after a compaction switched away from them
_SCHEMA_HASH = hashlib.sha256(json.dumps([TABLES, rollups.ROLLUPS], sort_keys=True).encode()).hexdigest()[:12]


class DirectoryStore(Store):
    """A store directory. Cheap to create; holds no open handles."""

    backend = "directory"
    location_type = DirectoryLocation

    def __init__(self, root: Path):
        super().__init__(root)
        self._reader: duckdb.DuckDBPyConnection | None = None  # in-memory, views built once; see connect()
        self._reader_stamp: tuple | None = None
        self._reader_lock = threading.Lock()

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def open_location(cls, place: DirectoryLocation, *, create: bool = True) -> DirectoryStore:
        return cls.open_directory(place.path, create=create)

    @classmethod
    def open_directory(cls, root: Path, *, create: bool = True) -> DirectoryStore:
        """Open (creating and upgrading as needed) the store directory `root`."""
        root = root.expanduser()
        if root.exists() and not root.is_dir():
            raise StoreUnavailable(f"store path {root} exists and is not a directory")
        if not create and not (root / "meta" / "migrations.jsonl").is_file():
            raise StoreUnavailable(f"no store at {root}; {NO_STORE_HINT}")
        store = cls(root.absolute())
        if not store._is_current():
            try:
                store._upgrade()
            except PermissionError as exc:
                raise StoreUnavailable(
                    f"store directory {root} is not writable ({exc.strerror}: {exc.filename})"
                ) from None
        return store

    @property
    def data_dir(self) -> Path:
        return self.root / "current"

    @property
    def analyst_db(self) -> Path:
        return self.root / "catalog.duckdb"

    def attach_instructions(self) -> list[str]:
        path = str(self.analyst_db)
        return [
            f"duckdb -readonly {_shell_quote(path)}",
            f'python -c "import duckdb; con = duckdb.connect({path!r}, read_only=True)"',
        ]

    def describe(self) -> list[tuple[str, str]]:
        batches = len(list((self.data_dir / "batches").iterdir()))
        return [
            ("backend", "directory (one machine)"),
            ("store", str(self.root)),
            ("analysts", str(self.analyst_db)),
            ("batches", f"{batches} in {self.data_dir.resolve().name}"),
        ]

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
                    fh.write(
                        json.dumps({"number": number, "name": name, "applied_at": utc_now().isoformat()})
                        + "\n"
                    )
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
        con = memory_connection()
        try:
            empty = {}
            for table in [*TABLES, *rollups.ROLLUPS]:
                types = stored_types(table)
                cols = ", ".join(f'NULL::{t} AS "{c}"' for c, t in types.items())
                empty[table] = f"(SELECT {cols} LIMIT 0)"
            self.publish(con, empty, name=name)
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
                f"'{_SCHEMA_HASH}' AS schema_hash, TIMESTAMP '{utc_now().isoformat(sep=' ')}' AS built_at"
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

    def _write(self, con, given: dict[str, int], on_conflict: str) -> dict[str, AppendResult]:
        with self._write_lock():
            results = {}
            for table in given:
                added = self._drop_stored(con, table, on_conflict, self.data_dir)
                results[table] = AppendResult(table, added, given[table] - added)
            to_write = {t: f"new_{t}" for t, r in results.items() if r.added}
            name = batch_name()
            if "judgments" in to_write:
                to_write.update(rollups.stage(con, self.data_dir, name))
            if to_write:
                self.publish(con, to_write, name=name)
                if sum(1 for _ in (self.data_dir / "batches").iterdir()) > AUTO_MERGE_BATCHES:
                    self._compact_locked(full=False, keep_old_s=KEEP_OLD_S)
            return results

    def publish(self, con, tables: Mapping[str, str], *, name: str | None = None) -> Path:
        """Write each relation as a part into a staging directory, fsync, and rename it into the snapshot.

        Call it holding the writer lock (``append_batch`` and migrations do).
        """
        staging = self.root / "staging"
        if staging.exists():  # leftovers of a crashed writer; we hold the lock, so nobody else uses them
            for leftover in staging.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
        batch = name or batch_name()
        tmp = staging / batch
        tmp.mkdir(parents=True)
        for table, relation in tables.items():
            target = tmp / f"{table}.parquet"
            columns = ", ".join(f'"{c}"' for c in stored_columns(table))
            quoted = str(target).replace("'", "''")
            con.execute(
                f"COPY (SELECT {columns} FROM {relation}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)"
            )
            fsync_file(target)
        fsync_dir(tmp)
        final = self.data_dir / "batches" / batch
        os.rename(tmp, final)
        fsync_dir(final.parent)
        return final

    def compact(self, *, full: bool = True, keep_old_s: float | None = None) -> int:
        """Merge batches into a new snapshot and switch `current` to it atomically.

        `full=True` merges everything into one part per table (and folds the rollups); `full=False`
        merges only small batches and hard-links the large ones, which costs only the small ones' size.
        Readers that already listed the old snapshot's files keep reading them; old snapshots are removed
        at a later compaction once older than `keep_old_s`. Returns the number of batches merged.
        """
        with self._write_lock():
            return self._compact_locked(
                full=full, keep_old_s=KEEP_OLD_S if keep_old_s is None else keep_old_s
            )

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
        merged = tmp / "batches" / f"{batch_name()}-merged"
        merged.mkdir(parents=True)
        for batch in keep:  # large batches move by hard link: no copy
            (tmp / "batches" / batch.name).mkdir()
            for part in batch.iterdir():
                os.link(part, tmp / "batches" / batch.name / part.name)
        con = memory_connection()
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
        snapshot = (
            self.data_dir.resolve()
        )  # views bind the snapshot, so a compaction never moves files under them
        stamp = (stamp_file.stat().st_mtime if stamp_file.exists() else None, snapshot)
        with self._reader_lock:
            if self._reader is None or stamp != self._reader_stamp:
                if self._reader is not None:
                    self._reader.close()
                con = memory_connection()
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


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
