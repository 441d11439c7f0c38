"""Every page's default view computed once per data version and stored, so a first visit reads it.

What a page shows when first opened (the default judge on the latest comparison, every round's trend: the
list in `dashboard.warm.warm`) costs seconds at 50 rounds: a bootstrap per judge, a length-control fit per
comparison, Bradley-Terry with 1,000 resamples. `refresh(path)` computes each of them for the store's current
data and appends the results to the `page_summaries` table in one batch (`dashboard/warm.py: refresh`). It
runs after the writing commands (`rlhf synthetic`; `rlhf append` and `rlhf round run` once a store has
summaries) in its own process, `python -m dashboard.warm STORE`, holding no lock while it computes (writers
never wait; its own append is one short batch), and when `rlhf dashboard` warms its caches.

Exactly once: a summary's natural key is (function, arguments, data version, code version), so a second
refresh of the same data adds nothing (it finds every result stored and computes none). The data version is
`queries.data_version` (row counts of every table the pages read), the code version a hash of the source of
the statistics (`CODE_FILES`), so an edited statistic is never served from an old summary.

The cached functions that `warm` calls are `@summarised`: on a cache miss they return the stored result of
the same call at the current data and code version, and compute only when there is none. Results are
stored as data, never as pickles (a store may be shared): frames as Parquet, the rest as JSON.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from pyarrow import ArrowException

from judges.stats.prompt_health import PromptHealth
from judges.stats.winrate import WinRate
from rlhf.store import Store
from rlhf.store.queries import page_summaries

_ROOT = Path(__file__).resolve().parent.parent
# the source every summarised result is computed by: a change to any of them is a new code version
CODE_FILES = (
    "dashboard/queries.py",
    "dashboard/stats.py",
    "dashboard/lineage.py",
    "dashboard/summaries.py",
    "dashboard/warm.py",
    *sorted(str(p.relative_to(_ROOT)) for p in (_ROOT / "judges" / "stats").glob("*.py")),
)
STORED_TTL_S = 30  # how long a page process trusts its list of stored summaries for one data version

F = TypeVar("F", bound=Callable[..., Any])
# while `refresh` runs: the (name, arguments, result) of every summarised call it had to compute
_recording: contextvars.ContextVar[list[tuple[str, str, Any]] | None] = contextvars.ContextVar(
    "summaries_recording", default=None
)


@functools.cache
def code_version() -> str:
    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0" + (_ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# the result dataclasses a summary may hold, by name (decoded only into these: never an arbitrary class)
DATACLASSES: dict[str, type] = {cls.__name__: cls for cls in (WinRate, PromptHealth)}


def encode(value: Any) -> str:
    """A summarised function's result as JSON text: frames as Parquet (exact), the result dataclasses field by
    field, the rest as JSON."""
    return json.dumps(_payload(value))


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, pd.DataFrame):
        buffer = io.BytesIO()
        value.to_parquet(buffer)
        return {
            "type": "frame",
            "data": base64.b64encode(buffer.getvalue()).decode(),
            "attrs": value.attrs,  # e.g. the leaderboard's resample counts
        }
    if type(value).__name__ in DATACLASSES and dataclasses.is_dataclass(value):
        fields = {f.name: _payload(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": "dataclass", "class": type(value).__name__, "data": fields}
    if isinstance(value, tuple):
        return {"type": "tuple", "data": list(value)}
    return {"type": "json", "data": value}


def decode(text: str) -> Any:
    return _value(json.loads(text))


def _value(payload: dict[str, Any]) -> Any:
    kind, data = payload["type"], payload.get("data")  # data is None only for a JSON null
    if data is None:
        return None
    if kind == "frame":
        frame = pd.read_parquet(io.BytesIO(base64.b64decode(data)))
        frame.attrs = payload.get("attrs", {})
        return frame
    if kind == "dataclass":
        return DATACLASSES[payload["class"]](**{k: _value(v) for k, v in data.items()})
    if kind == "tuple":
        return tuple(data)
    return data


def arguments(args: tuple[Any, ...]) -> str:
    """The arguments after (path, version) as canonical JSON (tuples as lists)."""
    return json.dumps(list(args), sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars (a value taken from a frame) as the Python values they hold; anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def summarised(fn: F) -> F:
    """Serve `fn(path, version, *args)` from a stored summary of the same call when there is one."""
    name = f"{fn.__module__.removeprefix('dashboard.')}.{fn.__name__}"

    @functools.wraps(fn)
    def wrapper(path: str | None, version: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # only positional calls (as `warm` makes them) are summarised
            return fn(path, version, *args, **kwargs)
        key = arguments(args)
        text = stored(path, version).get((name, key))
        if text is not None:
            return decode(text)
        result = fn(path, version, *args)
        recording = _recording.get()
        if recording is not None:
            recording.append((name, key, result))
        return result

    return wrapper  # type: ignore[return-value]


@st.cache_resource(show_spinner=False, ttl=600)
def _store(path: str | None) -> Store:
    return Store.open(path)


@st.cache_resource(show_spinner=False, ttl=STORED_TTL_S, max_entries=4)
def stored(path: str | None, version: str) -> dict[tuple[str, str], str]:
    """Stored summaries for this data version and the running code: {(name, arguments): payload}."""
    try:
        frame = page_summaries.stored(_store(path), version, code_version())
    except Exception:  # summaries are an optimisation: a store that cannot give them is computed from
        return {}
    return dict(zip(zip(frame["name"], frame["args"], strict=True), frame["payload"], strict=True))


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, str, Any]]]:
    """Within: every summarised call that computes (finds nothing stored) is listed as (name, args, result)."""
    calls: list[tuple[str, str, Any]] = []
    token = _recording.set(calls)
    try:
        yield calls
    finally:
        _recording.reset(token)


def write(path: str | None, version: str, calls: list[tuple[str, str, Any]]) -> int:
    """Append the recorded results as summaries of `version` (one batch; a stored key is kept). Returns
    how many rows were given."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for name, key, result in calls:
        try:
            payload = encode(result)
        except (TypeError, ValueError, ArrowException):  # a result Parquet or JSON cannot hold: computed live
            continue
        rows[(name, key)] = {
            "name": name,
            "args": key,
            "data_version": version,
            "code_version": code_version(),
            "payload": payload,
        }
    if rows:
        _store(path).append("page_summaries", list(rows.values()), on_conflict="keep")
        stored.clear()
    return len(rows)
