"""A real, private PostgreSQL server for the DuckLake store tests.

Debian's `postgresql` package (installed by `make test`) provides the binaries; the server refuses to run
as root, so as root it runs as the `postgres` user. It listens only on a unix socket in its own temporary
directory (no TCP port, so parallel runs never collide) and is stopped and removed at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: run `make postgres`"
        )
    return Path(found[-1]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.as_postgres = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="rlhf-pg-"))
        self.data = self.dir / "data"
        self.socket_dir = self.dir  # the socket file is <dir>/.s.PGSQL.5432
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.dir.chmod(0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120, cwd=self.dir)

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
            )
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def createdb(self, name: str | None = None) -> str:
        name = name or f"t{uuid.uuid4().hex[:12]}"
        self._run("createdb", "-h", str(self.socket_dir), "-U", "postgres", name)
        return name

    def libpq(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.socket_dir} user=postgres"

    def lake_location(self, data_path: Path, dbname: str | None = None) -> str:
        """A fresh database as a DuckLake store location with its files under `data_path`."""
        return f"ducklake:postgres:{self.libpq(dbname or self.createdb())} data_path={data_path}"
