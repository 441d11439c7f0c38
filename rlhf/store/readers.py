"""Reading record files (JSONL, CSV, Parquet) with the line of every row, so errors can name it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


class InputError(ValueError):
    """Bad input: the message names the file, the line (or row) and the field."""


@dataclass(frozen=True)
class RecordFile:
    path: Path
    frame: pd.DataFrame
    lines: list[int]  # lines[i] = 1-based line (JSONL, CSV) or row (Parquet) of frame row i
    unit: str  # "line" or "row"

    def where(self, position: int) -> str:
        return f"{self.path}:{self.lines[position]}" if self.unit == "line" else f"{self.path} row {self.lines[position]}"


def read_records(path: str | Path) -> RecordFile:
    """Read one file of records; the format comes from its suffix (.jsonl/.json, .csv, .parquet)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    raise InputError(f"{path}: unknown format {suffix!r}; use .jsonl, .csv or .parquet")


def _read_jsonl(path: Path) -> RecordFile:
    rows, lines = [], []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: malformed JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(value, dict):
                raise InputError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
            rows.append(value)
            lines.append(number)
    return RecordFile(path, pd.DataFrame(rows), lines, "line")


def _read_csv(path: Path) -> RecordFile:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    frame = frame.replace({"": None})
    return RecordFile(path, frame, [i + 2 for i in range(len(frame))], "line")


def _read_parquet(path: Path) -> RecordFile:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    return RecordFile(path, frame, [i + 1 for i in range(len(frame))], "row")
