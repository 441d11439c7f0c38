"""The DuckLake backend: the same tables, views and rollups in a DuckLake with a Postgres catalog.

Layout:
    Postgres database          the DuckLake catalog (snapshots, file lists, small inlined inserts)
    <root>/lake/               DuckLake's DATA_PATH: Parquet files, written by DuckDB, never rewritten
    <root>/store.json          which catalog holds this store (no password), so `--store <root>` opens it
    lake schema `stored`       one table per store table plus `_key`, the rollups, `_writer`, `_migrations`,
                               `_catalog`; schema `main` holds the documented views over them

Exactly once under concurrent writers on many machines. DuckLake has no key constraints, and two
transactions that only insert into the same table both commit, so a key check (anti-join) alone lets two
writers add the same batch twice. Every append therefore also updates the one row of `stored._writer` in
the same transaction: DuckLake refuses to commit a transaction whose table was changed by another
transaction committed after it began ("Transaction conflict"), so of two overlapping appends the second
to commit fails and is retried from the start, when its key check sees the first one's rows. Appends are
thus serialised at commit time with no lock to leak when a writer dies.

A writer killed at any point leaves its transaction either committed (everything visible) or not (nothing);
a rerun skips what is stored. Parquet files it wrote without committing are orphans:
`compact` deletes files not in the catalog once they are older than ORPHAN_AGE_S, and an append that has
run for MAX_APPEND_S (half that) refuses to commit, so no live writer's files are ever deleted.

Readers (dashboard, analysts) take no lock: each query reads the latest committed snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from rlhf.schema import TABLES
from rlhf.store import extensions, rollups, views
from rlhf.store.duck import batch_name, memory_connection, utc_now
from rlhf.store.location import POINTER, LakeLocation, pointer_content
from rlhf.store.migrations import MIGRATIONS
from rlhf.store.parts import LakeTables
from rlhf.store.store import (
    NO_STORE_HINT,
    AppendResult,
    Store,
    StoreError,
    StoreUnavailable,
    stored_columns,
    stored_types,
)

ALIAS = "lake"
SOURCE = LakeTables("stored")
ORPHAN_AGE_S = 24 * 3600.0  # files not in the catalog and older than this are removed by compact
MAX_APPEND_S = ORPHAN_AGE_S / 2  # an append older than this refuses to commit (its files may be orphaned)
KEEP_SNAPSHOTS_S = 7 * 24 * 3600.0  # time travel reaches this far back; older snapshots expire on compact
RETRY_FOR_S = 600.0  # how long an append keeps retrying commit conflicts with other writers
AUTO_MERGE_FILES = 256  # more live data files than this after an append: merge adjacent small files
_META = f"__ducklake_metadata_{ALIAS}"
_HELPER_TABLES = {
    "_writer": {"seq": "BIGINT"},
    "_migrations": {"number": "INTEGER", "name": "VARCHAR", "applied_at": "TIMESTAMP"},
    "_catalog": {"stamp": "VARCHAR", "built_at": "TIMESTAMP"},
}


def _stamp() -> str:
    """Changes when the tables or the views change: the catalog is then brought up to date on open."""
    text = json.dumps([TABLES, rollups.ROLLUPS, views.all_view_statements(SOURCE)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _is_conflict(exc: Exception) -> bool:
    return "conflict" in str(exc).lower()


class LakeStore(Store):
    """A DuckLake store. Holds one in-memory DuckDB with the lake attached; cursors for reads and appends."""

    backend = "ducklake"
    location_type = LakeLocation

    def __init__(self, place: LakeLocation, root: Path, db: duckdb.DuckDBPyConnection):
        super().__init__(root)
        self.place = place
        self._db: duckdb.DuckDBPyConnection | None = db
        self._db_lock = threading.Lock()

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def open_location(cls, place: LakeLocation, *, create: bool = True) -> LakeStore:
        """Attach the catalog (creating it when `data_path` is given and the catalog is new), then bring the
        tables and views up to date. Every check that can fail runs before anything is written."""
        try:
            db = _attach(place, data_path=None)  # an existing catalog knows its data path
        except _NewCatalog:
            if not create:
                raise StoreUnavailable(
                    f"no store in the Postgres database at {place.describe()}; {NO_STORE_HINT}"
                ) from None
            if place.data_path is None:
                raise StoreUnavailable(
                    f"no DuckLake store in the Postgres database at {place.describe()} yet: "
                    "add data_path=DIR (a directory every machine mounts at the same path) to create it"
                ) from None
            _check_writable(place.data_path / "lake")  # before the catalog is created
            db = _attach(place, data_path=place.data_path)
        stored = db.execute(f"SELECT value FROM {_META}.ducklake_metadata WHERE key = 'data_path'").fetchall()
        lake_dir = Path(stored[0][0]) if stored else None
        if lake_dir is None:
            db.close()
            raise StoreUnavailable(f"the DuckLake catalog at {place.describe()} records no data_path")
        root = lake_dir.parent if lake_dir.name == "lake" else lake_dir
        if place.data_path is not None and place.data_path.absolute() != root.absolute():
            db.close()
            raise StoreUnavailable(
                f"store location gives data_path={place.data_path} but the catalog at {place.describe()} "
                f"keeps its files in {lake_dir}; give data_path={root} or none"
            )
        store = cls(place, root, db)
        store._ensure_catalog(create=create)
        _forward_views(db)
        if create:
            with contextlib.suppress(OSError):
                lake_dir.mkdir(parents=True, exist_ok=True)
        pointer = root / POINTER
        if not pointer.exists() and os.access(root, os.W_OK):
            tmp = root / f".{POINTER}.{uuid.uuid4().hex}"
            tmp.write_text(pointer_content(place))
            os.replace(tmp, pointer)
        return store

    @property
    def location(self) -> str:
        return self.place.text(self.root)

    @property
    def data_path(self) -> Path:
        return self.root / "lake"

    def _database(self) -> duckdb.DuckDBPyConnection:
        with self._db_lock:
            if self._db is None:
                self._db = _attach(self.place, data_path=None)
                _forward_views(self._db)
            return self._db

    def _reset(self) -> None:
        """Forget the attached database (after a lost connection); the next use attaches again."""
        with self._db_lock:
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.close()
            self._db = None

    def _cursor(self, *, use_lake: bool = True) -> duckdb.DuckDBPyConnection:
        cursor = self._database().cursor()
        if use_lake:  # unqualified names resolve in the lake; every statement then starts a lake transaction
            cursor.execute(f"USE {ALIAS}")
        return cursor

    def _ensure_catalog(self, *, create: bool) -> None:
        stamp = _stamp()
        with contextlib.closing(self._cursor()) as con:
            has = con.execute(
                f"SELECT count(*) FROM duckdb_tables() WHERE database_name = '{ALIAS}' "
                f"AND schema_name = '{SOURCE.schema}' AND table_name = '_catalog'"
            ).fetchall()[0][0]
            if (
                has
                and con.execute(f"SELECT max(stamp) FROM {SOURCE.schema}._catalog").fetchall()[0][0] == stamp
            ):
                return
            if not has and not create:
                raise StoreUnavailable(f"no store in the DuckLake catalog at {self.place.describe()}")
            self._retrying(con, lambda: self._build_catalog(con, stamp, new=not has))

    def _build_catalog(self, con: duckdb.DuckDBPyConnection, stamp: str, *, new: bool) -> None:
        schema = SOURCE.schema
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        existing: dict[str, set[str]] = {}
        for table, column in con.execute(
            f"SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = '{ALIAS}' AND schema_name = '{schema}'"
        ).fetchall():
            existing.setdefault(table, set()).add(column)
        wanted = {**{t: stored_types(t) for t in [*TABLES, *rollups.ROLLUPS]}, **_HELPER_TABLES}
        for table, types in wanted.items():
            if table not in existing:
                cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
                con.execute(f'CREATE TABLE {schema}."{table}" ({cols})')
            else:
                for column, sql_type in types.items():
                    if column not in existing[table]:
                        con.execute(f'ALTER TABLE {schema}."{table}" ADD COLUMN "{column}" {sql_type}')
        if not con.execute(f"SELECT count(*) FROM {schema}._writer").fetchall()[0][0]:
            con.execute(f"INSERT INTO {schema}._writer VALUES (0)")
        con.execute(f"UPDATE {schema}._writer SET seq = seq + 1")  # conflicts with concurrent appends/builds
        done = {r[0] for r in con.execute(f"SELECT number FROM {schema}._migrations").fetchall()}
        missing = [(n, name) for n, name, _ in MIGRATIONS if n not in done]
        if missing and not new:
            raise StoreError(
                f"migrations {', '.join(str(n) for n, _ in missing)} have no DuckLake version; "
                f"the store at {self.place.describe()} was left as it was"
            )
        for number, name in missing:  # a new lake starts with the current layout: nothing to migrate
            con.execute(f"INSERT INTO {schema}._migrations VALUES (?, ?, ?)", [number, name, utc_now()])
        for statement in views.all_view_statements(SOURCE):
            con.execute(statement)
        con.execute(f"DELETE FROM {schema}._catalog")
        con.execute(f"INSERT INTO {schema}._catalog VALUES (?, ?)", [stamp, utc_now()])

    def applied_migrations(self) -> list[dict]:
        rows = self.query(
            f"SELECT number, name, CAST(applied_at AS VARCHAR) AS applied_at FROM {SOURCE.schema}._migrations ORDER BY number"
        )
        return rows.to_dict("records")

    # ---- writing -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _append_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with (
            self.connect() as con
        ):  # a reader's cursor: its own temp tables; the lake is attached once per Store
            yield con

    def _write(self, con, given: dict[str, int], on_conflict: str) -> dict[str, AppendResult]:
        if not os.access(self.data_path, os.W_OK):
            raise StoreUnavailable(
                f"the store's data path {self.data_path} is not writable from this machine"
            )
        for table in given:
            con.execute(f"CREATE OR REPLACE TEMP TABLE given_{table} AS SELECT * FROM new_{table}")
        started = time.monotonic()

        def attempt() -> dict[str, AppendResult]:
            con.execute(f"UPDATE {SOURCE.schema}._writer SET seq = seq + 1")  # serialises appends (see above)
            results = {}
            for table in given:
                con.execute(f"CREATE OR REPLACE TEMP TABLE new_{table} AS SELECT * FROM given_{table}")
                added = self._drop_stored(con, table, on_conflict, SOURCE)
                results[table] = AppendResult(table, added, given[table] - added)
            to_write = {t: f"new_{t}" for t, r in results.items() if r.added}
            if not to_write:
                raise _NothingToDo(results)
            if "judgments" in to_write:
                to_write.update(rollups.stage(con, SOURCE, batch_name()))
            for table, relation in to_write.items():
                columns = ", ".join(f'"{c}"' for c in stored_columns(table))
                con.execute(
                    f'INSERT INTO {SOURCE.schema}."{table}" ({columns}) SELECT {columns} FROM {relation}'
                )
            if time.monotonic() - started > MAX_APPEND_S:
                raise StoreError(
                    f"append ran longer than {MAX_APPEND_S:.0f} s; not committed (its files may be cleaned)"
                )
            return results

        try:
            results = self._retrying(con, attempt)
        except _NothingToDo as done:
            return done.results
        self._maybe_merge(con)
        return results

    def _retrying(self, con: duckdb.DuckDBPyConnection, body):
        """Run `body` in a transaction; retry it from the start when the commit conflicts with another writer."""
        deadline = time.monotonic() + RETRY_FOR_S
        wait = 0.05
        while True:
            try:
                con.execute("BEGIN TRANSACTION")
                result = body()
                con.execute("COMMIT")
                return result
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                if isinstance(exc, duckdb.Error) and _is_conflict(exc) and time.monotonic() < deadline:
                    time.sleep(wait * (0.5 + random.random()))
                    wait = min(wait * 2, 2.0)
                    continue
                if isinstance(exc, duckdb.Error):
                    self._reset()
                    raise StoreError(
                        f"writing to the store at {self.place.describe()} (files in {self.data_path}) failed: "
                        f"{_first_line(exc)}. Nothing was written unless the commit had reached the catalog; "
                        "rerun: appends are idempotent"
                    ) from None
                raise

    def _maybe_merge(self, con: duckdb.DuckDBPyConnection) -> None:
        """Many small appends make many small files: merge adjacent ones now and then (best effort)."""
        try:
            files = con.execute(
                f"SELECT count(*) FROM {_META}.ducklake_data_file WHERE end_snapshot IS NULL"
            ).fetchall()[0][0]
            if files > AUTO_MERGE_FILES:
                con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')")
        except duckdb.Error:
            pass  # another writer merging or a conflict: the next append or `rlhf store compact` does it

    def compact(self, *, full: bool = True, keep_old_s: float | None = None) -> int:
        """Flush inlined rows to Parquet, merge adjacent files, fold the rollups (full), expire snapshots
        older than `keep_old_s` (default 7 days: time travel reaches that far), delete the files they alone
        used and orphaned files of dead writers older than ORPHAN_AGE_S. Returns data files merged away."""
        keep = KEEP_SNAPSHOTS_S if keep_old_s is None else keep_old_s
        live = f"SELECT count(*) FROM {_META}.ducklake_data_file WHERE end_snapshot IS NULL"
        with contextlib.closing(self._cursor()) as con:
            try:
                before = con.execute(live).fetchall()[0][0]
                con.execute(f"CALL ducklake_flush_inlined_data('{ALIAS}')")
                if full:
                    self._retrying(con, lambda: self._fold_rollups(con))
                con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')")
                after = con.execute(live).fetchall()[0][0]
                cutoff = f"now() - INTERVAL '{int(keep)} seconds'"
                con.execute(f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => {cutoff})")
                con.execute(f"CALL ducklake_cleanup_old_files('{ALIAS}', older_than => {cutoff})")
                con.execute(
                    f"CALL ducklake_delete_orphaned_files('{ALIAS}', older_than => now() - INTERVAL '{int(ORPHAN_AGE_S)} seconds')"
                )
            except duckdb.Error as exc:
                self._reset()
                raise StoreError(
                    f"compacting the store at {self.place.describe()} failed: {_first_line(exc)}"
                ) from None
        return max(before - after, 0)

    def _fold_rollups(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"UPDATE {SOURCE.schema}._writer SET seq = seq + 1")
        for table in rollups.ROLLUPS:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE folded_{table} AS {rollups.compacted_sql(table, SOURCE)}"
            )
        for table in rollups.ROLLUPS:
            columns = ", ".join(f'"{c}"' for c in stored_columns(table))
            con.execute(f'DELETE FROM {SOURCE.schema}."{table}"')
            con.execute(
                f'INSERT INTO {SOURCE.schema}."{table}" ({columns}) SELECT {columns} FROM folded_{table}'
            )

    # ---- reading -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor with the lake in use: every query reads the latest committed snapshot, taking no lock."""
        try:
            cursor = self._cursor()
        except duckdb.Error as exc:
            self._reset()
            raise StoreError(
                f"cannot reach the store's catalog at {self.place.describe()}: {_first_line(exc)}"
            ) from None
        try:
            yield cursor
        finally:
            cursor.close()

    def snapshot_version(self) -> int:
        """The latest snapshot id (for `AT (VERSION => n)` and `SNAPSHOT_VERSION n`)."""
        return int(
            self.query(f"SELECT max(snapshot_id) AS v FROM ducklake_snapshots('{ALIAS}')")["v"].iloc[0]
        )

    def attach_instructions(self) -> list[str]:
        catalog = self.place.catalog(with_password=False).replace("'", "''")
        return [
            *extensions.install_commands(),
            f"ATTACH 'ducklake:{catalog}' AS {ALIAS} (READ_ONLY); USE {ALIAS};",
        ]

    def describe(self) -> list[tuple[str, str]]:
        return [
            ("backend", "ducklake (Postgres catalog, shared data path)"),
            ("catalog", self.place.describe()),
            ("data path", str(self.data_path)),
            ("snapshot", str(self.snapshot_version())),
            ("location", self.location),
        ]


class _NewCatalog(Exception):
    """The Postgres database holds no DuckLake catalog yet."""


class _NothingToDo(Exception):
    def __init__(self, results: dict[str, AppendResult]):
        super().__init__("nothing new")
        self.results = results


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    # DuckDB's Postgres errors repeat the connection string (which may hold a password): keep libpq's reason
    marker = "Unable to connect to Postgres at "
    if marker in text:
        rest = text[text.index(marker) + len(marker) :]
        text = rest[rest.index('": ') + 3 :] if '": ' in rest else "connection failed"
    return " ".join(text.split()) if text else type(exc).__name__


def _forward_views(db: duckdb.DuckDBPyConnection) -> None:
    """Views in the in-memory database that read the lake's views and stored tables, so any cursor of this
    database (not only one that said `USE lake`) finds `judgments`, `pair_winrates`, `stored.judgments`..."""
    names = db.execute(
        f"SELECT schema_name, view_name AS name FROM duckdb_views() WHERE database_name = '{ALIAS}' "
        f"AND schema_name = 'main' AND NOT internal UNION ALL "
        f"SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '{ALIAS}' "
        f"AND schema_name = '{SOURCE.schema}'"
    ).fetchall()
    db.execute(f"CREATE SCHEMA IF NOT EXISTS memory.{SOURCE.schema}")
    for schema, name in names:
        db.execute(
            f'CREATE OR REPLACE VIEW memory.{schema}."{name}" AS SELECT * FROM {ALIAS}.{schema}."{name}"'
        )


def _check_writable(directory: Path) -> None:
    """Raise StoreUnavailable unless `directory` can be created and written; creates nothing."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is not a directory"
    else:
        try:  # a probe file, removed at once (os.access says yes to root even on a read-only mount)
            fd, probe = tempfile.mkstemp(prefix=".rlhf-probe-", dir=existing)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problem = f"{existing} is not writable ({exc.strerror or exc})"
    if problem:
        raise StoreUnavailable(f"data path {directory}: {problem}; nothing was created")


def _attach(place: LakeLocation, *, data_path: Path | None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake`; StoreUnavailable naming what and where."""
    db = memory_connection()
    try:
        extensions.load(db)
    except extensions.ExtensionError as exc:
        db.close()
        raise StoreUnavailable(str(exc)) from None
    catalog = place.catalog().replace("'", "''")
    options = ""
    if data_path is not None:
        options = f" (DATA_PATH '{(str(data_path / 'lake') + '/').replace(chr(39), chr(39) * 2)}')"
    try:
        db.execute(f"ATTACH 'ducklake:{catalog}' AS {ALIAS}{options}")
    except duckdb.Error as exc:
        db.close()
        text = str(exc)
        if "data_path is not set" in text:
            raise _NewCatalog() from None
        raise StoreUnavailable(
            f"cannot open the DuckLake catalog in Postgres at {place.describe()}: {_first_line(exc)}"
        ) from None
    return db
