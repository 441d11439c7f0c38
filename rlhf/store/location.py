"""Store locations: a directory (the embedded store) or `ducklake:postgres:<libpq settings> data_path=DIR`.

    /data/rlhf-store
    ducklake:postgres:dbname=rlhf host=pg.internal user=rlhf data_path=/mnt/shared/rlhf

A DuckLake store keeps its catalog in Postgres and its Parquet files under `DIR/lake/` on a filesystem every
machine mounts at the same path; `DIR` also holds `store.json`, which names the catalog, so `--store DIR`
opens the same DuckLake store (and so does every path the project derives from the store's root).
Passwords are never written anywhere: give them through `PGPASSWORD` or `~/.pgpass` (libpq's own ways).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

POINTER = "store.json"  # in a DuckLake store's root: which catalog holds it
LAKE_PREFIX = "ducklake:"
# libpq connection settings a location may carry (https://www.postgresql.org/docs/15/libpq-connect.html)
_LIBPQ_KEYS = (
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "options",
    "application_name",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "service",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)
DEFAULT_CONNECT_TIMEOUT_S = 10


class LocationError(ValueError):
    """A store location that cannot be used; the message names what is wrong and where."""


@dataclass(frozen=True)
class DirectoryLocation:
    path: Path


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake store with a Postgres catalog. `settings` are libpq key/values (data_path excluded)."""

    settings: tuple[tuple[str, str], ...]
    data_path: Path | None  # the store's root directory; None: take it from the catalog

    def libpq(self, *, with_password: bool = True) -> str:
        pairs = [(k, v) for k, v in self.settings if with_password or k != "password"]
        if not any(k == "connect_timeout" for k, _ in pairs):
            pairs.append(("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT_S)))
        return " ".join(f"{k}={_quote(v)}" for k, v in pairs)

    def catalog(self, *, with_password: bool = True) -> str:
        """What follows `ducklake:` in an ATTACH: `postgres:<libpq string>`."""
        return "postgres:" + self.libpq(with_password=with_password)

    def describe(self) -> str:
        """Where the catalog is, for messages (never the password)."""
        shown = {
            k: v for k, v in self.settings if k in ("host", "hostaddr", "port", "dbname", "user", "service")
        }
        return ", ".join(f"{k}={v}" for k, v in shown.items())

    def text(self, data_path: Path | None = None) -> str:
        """The location string (no password) that opens this store from any machine."""
        root = data_path or self.data_path
        tail = f" data_path={_quote(str(root))}" if root else ""
        return f"{LAKE_PREFIX}postgres:{' '.join(f'{k}={_quote(v)}' for k, v in self.settings if k != 'password')}{tail}"


def _quote(value: str) -> str:
    if value and not any(c in value for c in " '\\\t\n"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse(location: str | Path) -> DirectoryLocation | LakeLocation:
    """Parse a store location; raise LocationError naming the problem."""
    text = str(location)
    if not text.startswith(LAKE_PREFIX):
        path = Path(text).expanduser()
        pointer = path / POINTER
        if pointer.is_file():
            return _from_pointer(pointer)
        return DirectoryLocation(path)
    rest = text[len(LAKE_PREFIX) :]
    kind, sep, settings = rest.partition(":")
    if not sep or kind != "postgres":
        raise LocationError(
            f"store location {text!r}: only Postgres catalogs are supported: "
            f"ducklake:postgres:dbname=NAME host=HOST user=USER data_path=DIR"
        )
    return _parse_settings(text, settings)


def _parse_settings(text: str, settings: str) -> LakeLocation:
    try:
        words = shlex.split(settings)
    except ValueError as exc:
        raise LocationError(f"store location {text!r}: cannot parse the settings ({exc})") from None
    pairs: list[tuple[str, str]] = []
    data_path: Path | None = None
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise LocationError(f"store location {text!r}: {word!r} is not key=value")
        if key == "data_path":
            if not value:
                raise LocationError(f"store location {text!r}: data_path is empty")
            if "://" in value:
                raise LocationError(
                    f"store location {text!r}: data_path {value!r}: only a directory on a shared filesystem is "
                    "supported (object storage needs httpfs, which this project does not install)"
                )
            data_path = Path(value).expanduser().absolute()
        elif key in _LIBPQ_KEYS:
            if any(k == key for k, _ in pairs):
                raise LocationError(f"store location {text!r}: {key} is given twice")
            pairs.append((key, value))
        else:
            raise LocationError(
                f"store location {text!r}: unknown setting {key!r}; valid: data_path, {', '.join(_LIBPQ_KEYS)}"
            )
    if not any(k in ("dbname", "service") for k, _ in pairs):
        raise LocationError(
            f"store location {text!r}: dbname is missing (the Postgres database holding the catalog)"
        )
    return LakeLocation(tuple(pairs), data_path)


def _from_pointer(pointer: Path) -> LakeLocation:
    try:
        content = json.loads(pointer.read_text())
        catalog = content["catalog"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LocationError(f"{pointer}: not a readable DuckLake store pointer ({exc})") from None
    if not isinstance(catalog, str) or not catalog.startswith("postgres:"):
        raise LocationError(f"{pointer}: field 'catalog' must be 'postgres:<libpq settings>'")
    parsed = _parse_settings(str(pointer), catalog[len("postgres:") :])
    return LakeLocation(parsed.settings, pointer.parent.absolute())


def pointer_content(location: LakeLocation) -> str:
    settings = " ".join(f"{k}={_quote(v)}" for k, v in location.settings if k != "password")
    return json.dumps({"backend": "ducklake", "catalog": f"postgres:{settings}"}, indent=1) + "\n"
