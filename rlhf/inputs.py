"""One reader for record files (JSONL, CSV, Parquet) and one error for bad input, `InputError`.

Prompts (`rlhf append prompts`, the sampler's prompt files, the shipped data), generations, judgments and
preference pairs are all read here, with the same rules: the format comes from the suffix; blank lines in
JSONL are skipped; every row keeps the line (JSONL, CSV) or row number (Parquet) it came from, so a check
further on can name it. Every problem is an ``InputError(path, line, field, message)``, which the CLI turns
into exit code 2 (rlhf/commands/__init__.py). It lives on the base floor: it imports nothing of this project.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = ["SUFFIXES", "InputError", "RecordFile", "iter_jsonl", "read_records"]

SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".parquet", ".pq")
Unit = Literal["line", "row"]


class InputError(ValueError):
    """Bad input: ``path:line: field 'x': what is wrong`` (each part only when known).

    ``unit`` says whether ``line`` is a line of a text file or a row of a Parquet file.
    """

    def __init__(
        self,
        path: str | Path | None,
        line: int | None = None,
        field: str | None = None,
        message: str = "",
        *,
        unit: Unit = "line",
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line, self.field, self.message, self.unit = line, field, message, unit
        super().__init__(self._text())

    def _text(self) -> str:
        where = "" if self.path is None else str(self.path)
        if self.line is not None:
            where += f":{self.line}" if self.unit == "line" else f" row {self.line}"
        parts = [where, f"field {self.field!r}" if self.field else "", self.message]
        return ": ".join(p for p in parts if p)


@dataclass(frozen=True)
class RecordFile:
    path: Path
    frame: pd.DataFrame
    lines: list[int]  # lines[i] = 1-based line (JSONL, CSV) or row (Parquet) of frame row i
    unit: Unit

    def where(self, position: int) -> str:
        """``path:line`` (or ``path row n``) of frame row ``position``."""
        return str(self.error(position))

    def error(self, position: int, field: str | None = None, message: str = "") -> InputError:
        """An InputError naming frame row ``position`` of this file (and ``field``)."""
        return InputError(
            self.path, self.lines[position] if self.lines else 1, field, message, unit=self.unit
        )


def read_records(path: str | Path) -> RecordFile:
    """Read one file of records; the format comes from its suffix (.jsonl/.json/.ndjson, .csv, .parquet)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, "no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    raise InputError(path, None, None, f"unknown format {suffix!r}; use .jsonl, .csv or .parquet")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL file: the one JSONL rule (blank lines are
    skipped; anything else must be one JSON object)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, "no such file")
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    path, number, None, f"malformed JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(value, dict):
                raise InputError(path, number, None, f"expected a JSON object, got {type(value).__name__}")
            yield number, value


def _read_jsonl(path: Path) -> RecordFile:
    numbered = list(iter_jsonl(path))
    return RecordFile(path, pd.DataFrame([r for _, r in numbered]), [n for n, _ in numbered], "line")


def _read_csv(path: Path) -> RecordFile:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"malformed CSV ({exc})") from None
    frame = frame.replace({"": None})
    # the header is line 1; a record spanning lines (quoted newlines) is named by its row number + 1
    return RecordFile(path, frame, [i + 2 for i in range(len(frame))], "line")


def _read_parquet(path: Path) -> RecordFile:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(path, None, None, f"not a readable Parquet file ({exc})") from None
    return RecordFile(path, frame, [i + 1 for i in range(len(frame))], "row")
