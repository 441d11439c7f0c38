"""Every `--json` is strict JSON: null, never NaN or Infinity (which `jq` and most parsers other than Python's
refuse), whatever a command's numbers hold. One function every command prints its JSON through."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import click

__all__ = ["echo_json", "strict"]


def strict(value: Any) -> Any:
    """``value`` with every non-finite float (and numpy float, and pandas NA) as None, containers walked.

    >>> strict({"a": float("nan"), "b": [1.0, float("inf")], "c": (None, "x")})
    {'a': None, 'b': [1.0, None], 'c': [None, 'x']}
    """
    if isinstance(value, Mapping):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [strict(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return strict(value.item())
        except (TypeError, ValueError):
            return str(value)
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)  # datetimes, paths: as text


def echo_json(value: Any) -> None:
    """Print ``value`` as indented strict JSON (raises ValueError if anything non-finite slipped through)."""
    click.echo(json.dumps(strict(value), indent=2, allow_nan=False))
