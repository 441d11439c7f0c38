"""DuckDB's DuckLake and Postgres extensions, from the wheels pinned in pyproject.toml (no download).

The wheels `duckdb-extension-ducklake` and `duckdb-extension-postgres` carry DuckDB-signed builds that load
only into the same DuckDB version. `INSTALL '<file>'` copies one into DuckDB's extension directory
(~/.duckdb/extensions by default) under its real name (the postgres file installs as `postgres_scanner`);
after that `LOAD` and autoloading find it. Loading the file directly fails for postgres (entrypoint name).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres": "duckdb_extension_postgres"}
INSTALLED_NAME = {"ducklake": "ducklake", "postgres": "postgres_scanner"}


class ExtensionError(RuntimeError):
    """An extension file is missing or does not fit this DuckDB."""


def extension_file(name: str) -> Path:
    """The extension file inside its wheel; ExtensionError naming the package and path when missing."""
    package = EXTENSIONS[name]
    version = duckdb.__version__
    spec = importlib.util.find_spec(package)
    wheel = f"{package.replace('_', '-')}=={version}"
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"DuckDB extension {name!r} is not installed: pip install {wheel}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{version}"
    path = folder / f"{name}.duckdb_extension"
    if not path.is_file():
        found = sorted(p.name for p in (folder.parent.iterdir() if folder.parent.is_dir() else []))
        raise ExtensionError(
            f"DuckDB extension file {path} is missing (found versions: {', '.join(found) or 'none'}; "
            f"this DuckDB is v{version}): pip install {wheel}"
        )
    return path


def load(con: duckdb.DuckDBPyConnection) -> None:
    """Make `ducklake` and `postgres` loadable in `con`: install each from its wheel once, then LOAD it."""
    installed = {
        row[0]: row[1]
        for row in con.execute("SELECT extension_name, installed FROM duckdb_extensions()").fetchall()
    }
    for name in EXTENSIONS:
        if not installed.get(INSTALLED_NAME[name]):
            path = extension_file(name)
            try:
                con.execute(f"INSTALL '{str(path).replace(chr(39), chr(39) * 2)}'")
            except duckdb.Error as exc:
                raise ExtensionError(f"cannot install DuckDB extension {name!r} from {path}: {exc}") from None
        try:
            con.execute(f"LOAD {INSTALLED_NAME[name]}")
        except duckdb.Error as exc:
            raise ExtensionError(
                f"cannot load DuckDB extension {name!r} (installed in DuckDB's extension directory; "
                f"reinstall it from {extension_file(name)}): {exc}"
            ) from None


def install_commands() -> list[str]:
    """What an analyst types once in the duckdb CLI (same version) to get both extensions from the wheels."""
    return [f"INSTALL '{extension_file(name)}';" for name in EXTENSIONS]
