"""One reader for record files (JSONL, CSV, Parquet) and one error for bad input, `InputError`.

Prompts (`rlhf append prompts`, the sampler's prompt files, the shipped data), generations, judgments and
preference pairs are all read here, with the same rules: the format comes from the suffix; blank lines in
JSONL are skipped; a UTF-8 byte-order mark and CRLF line ends are accepted alike in JSONL and CSV; `NaN` and
`Infinity` are not JSON and are refused; every row keeps the line (JSONL, CSV) or row number (Parquet) it came
from, so a check further on can name it. Every problem is an ``InputError(path, line, field, message)``; a
file with several is reported at once, up to ``MAX_ERRORS``, as ``InputErrors``. The CLI turns both into exit
code 2 (rlhf/commands/__init__.py). It lives on the base floor: it imports nothing of this project.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = [
    "MAX_ERRORS",
    "SUFFIXES",
    "InputError",
    "InputErrors",
    "RecordFile",
    "iter_jsonl",
    "raise_all",
    "read_records",
]

SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".parquet", ".pq")
MAX_ERRORS = 20  # problems reported at once per file
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


class InputErrors(InputError):
    """Several problems in one input, reported together (the first ``MAX_ERRORS`` of ``total``)."""

    def __init__(self, errors: list[InputError], total: int | None = None) -> None:
        self.errors = errors[:MAX_ERRORS]
        self.total = len(errors) if total is None else total
        first = self.errors[0]
        super().__init__(first.path, first.line, first.field, first.message, unit=first.unit)

    def _text(self) -> str:
        if len(self.errors) == 1:
            return super()._text()
        shown = "" if self.total <= len(self.errors) else f" (the first {len(self.errors)} shown)"
        lines = [f"{self.total} problems{shown}; nothing was written:"]
        lines += [f"  {InputError._text(e)}" for e in self.errors]
        return "\n".join(lines)


def raise_all(errors: list[InputError]) -> None:
    """Raise the errors of one input together (nothing when there are none)."""
    if errors:
        raise InputErrors(errors, len(errors)) if len(errors) > 1 else errors[0]


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
    skipped; anything else must be one JSON object). Raises the first problem."""
    for number, value in _jsonl_lines(path):
        if isinstance(value, InputError):
            raise value
        yield number, value


def _jsonl_lines(path: str | Path) -> Iterator[tuple[int, dict | InputError]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, None, "no such file")
    # utf-8-sig: a byte-order mark is dropped as in CSV; text mode reads CRLF line ends as LF
    with open(path, encoding="utf-8-sig") as fh:
        try:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, _parse_line(path, number, line)
        except UnicodeDecodeError as exc:
            raise InputError(path, None, None, f"not UTF-8 text ({exc})") from None


def _parse_line(path: Path, number: int, line: str) -> dict | InputError:
    def not_json(constant: str) -> None:
        raise ValueError(constant)

    try:
        value = json.loads(line, parse_constant=not_json)
    except json.JSONDecodeError as exc:
        return InputError(path, number, None, f"malformed JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:
        column = line.find(str(exc)) + 1
        return InputError(path, number, None, f"{exc} at column {column} is not JSON; write null or a number")
    if not isinstance(value, dict):
        return InputError(path, number, None, f"expected a JSON object, got {type(value).__name__}")
    return value


def _read_jsonl(path: Path) -> RecordFile:
    numbered = list(_jsonl_lines(path))
    raise_all([v for _, v in numbered if isinstance(v, InputError)])
    rows = [(n, v) for n, v in numbered if isinstance(v, dict)]
    return RecordFile(path, pd.DataFrame([r for _, r in rows]), [n for n, _ in rows], "line")


def _read_csv(path: Path) -> RecordFile:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
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
