"""Turning caller rows into typed records of one table: derived columns, type checks, value checks.

Everything here is vectorised over a DataFrame through DuckDB, so a 100k-row append validates in
milliseconds, and every problem names the row (0-based position in the input) and the field.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from rlhf.prompt_identity import messages_hash
from rlhf.schema import KEYS, REQUIRED, TABLES

_SEP = "chr(31)"
_NULL = "chr(0)"
# Columns that never count as "content" when deciding whether a re-append is the same record.
_VOLATILE = {"created_at", "judgment_id", "generation_id", "source"}

_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("prompts", "split"): ("train", "eval"),
    ("checkpoints", "kind"): ("policy", "reward_model"),
    ("judgments", "order"): ("ab", "ba"),
    ("decisions", "decision"): ("promote", "hold", "reject"),
}


class RecordError(ValueError):
    """A problem with one input row: `row` is its 0-based position in what the caller passed."""

    def __init__(self, table: str, row: int, field: str, message: str):
        super().__init__(table, row, field, message)
        self.table, self.row, self.field, self.message = table, row, field, message

    def __str__(self) -> str:
        return f"{self.table}: row {self.row}, field {self.field!r}: {self.message}"


def _canonical_json(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _prepare_frame(table: str, rows) -> pd.DataFrame:
    """Python-side fills that SQL cannot do well: JSON columns, prompt messages and hashes."""
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    frame = frame.reset_index(drop=True)
    unknown = [c for c in frame.columns if c not in TABLES[table] and not str(c).startswith("_")]
    if unknown:
        raise RecordError(table, 0, unknown[0], f"unknown column; valid columns: {', '.join(TABLES[table])}")
    for column in ("config", "detail", "params", "messages", "tags", "rule", "criteria", "statistics"):
        if column in frame.columns:
            frame[column] = [_canonical_json(v) for v in frame[column]]
    if table == "prompts":
        _prepare_prompts(frame)
    return frame


def _prepare_prompts(frame: pd.DataFrame) -> None:
    if "messages" not in frame.columns:
        frame["messages"] = None
    if "text" not in frame.columns:
        frame["text"] = None
    messages, texts, hashes = [], [], []
    for i, (m, t) in enumerate(zip(frame["messages"], frame["text"], strict=True)):
        m = None if m is None or (isinstance(m, float) and pd.isna(m)) else m
        t = None if t is None or (isinstance(t, float) and pd.isna(t)) else t
        if m is None and t is None:
            raise RecordError("prompts", i, "text", "a prompt needs text or messages")
        if m is None:
            m = json.dumps([{"role": "user", "content": str(t)}], ensure_ascii=False)
        try:
            parsed = json.loads(m)
        except json.JSONDecodeError as exc:
            raise RecordError("prompts", i, "messages", f"not JSON: {exc}") from None
        if not isinstance(parsed, list) or not all(
            isinstance(x, dict) and "content" in x and "role" in x for x in parsed
        ):
            raise RecordError("prompts", i, "messages", "must be a list of {role, content} objects")
        users = [x["content"] for x in parsed if x["role"] == "user"]
        if t is None:
            t = users[-1] if users else parsed[-1]["content"]
        if not str(t).strip():
            raise RecordError("prompts", i, "text", "empty prompt")
        messages.append(m)
        texts.append(str(t))
        hashes.append(messages_hash(m))
    frame["messages"], frame["text"] = messages, texts
    if "content_hash" not in frame.columns or frame["content_hash"].isna().any():
        frame["content_hash"] = hashes


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _derived(table: str) -> list[dict[str, str]]:
    """SQL for columns the store fills when NULL, in layers: a layer may use the columns of the ones before."""
    now = "current_timestamp::TIMESTAMP"
    first: dict[str, str] = {ts: now for ts in ("created_at", "event_at") if ts in TABLES[table]}
    second: dict[str, str] = {}
    if table == "generations":
        first["params_hash"] = "substr(md5(coalesce(params, '{}')), 1, 16)"
        first["sample_index"] = "0"
        second["generation_id"] = (
            f"substr(md5(concat_ws({_SEP}, checkpoint_id, prompt_id, params_hash, sample_index::VARCHAR)), 1, 20)"
        )
    if table == "judgments":
        first["judge_version"] = "'external'"  # a missing `order` stays NULL: the display order is unknown
        first.update({"length_a": "length(answer_a)", "length_b": "length(answer_b)"})
        second["judgment_id"] = (
            f'substr(md5(concat_ws({_SEP}, judge, judge_version, prompt_id, model_a, model_b, "order")), 1, 20)'
        )
    if table == "prompts":
        first.update({"split": "'eval'", "tags": "'[]'"})
    if table == "round_events":
        first["stage"] = "''"
    return [first, second]


def _quote(column: str) -> str:
    return '"' + column + '"'


def _first_bad_row(
    con: duckdb.DuckDBPyConnection, relation: str, checks: list[tuple[str, str, str]], table: str
) -> None:
    """One pass over `relation` for every check; raise for the earliest failing row."""
    if not checks:
        return
    parts = ", ".join(f"min(_row) FILTER (WHERE {cond})" for _, cond, _ in checks)
    firsts = con.execute(f"SELECT {parts} FROM {relation}").fetchall()[0]
    failing = [(row, i) for i, row in enumerate(firsts) if row is not None]
    if not failing:
        return
    row, i = min(failing)
    column, _, message = checks[i]
    fetched = con.execute(
        f"SELECT CAST({_quote(column)} AS VARCHAR) FROM {relation} WHERE _row = ?", [row]
    ).fetchall()
    shown = fetched[0] if fetched else None
    got = "" if not shown or shown[0] is None else f" (got {shown[0]!r})"
    raise RecordError(table, int(row), column, message + got)


def content_columns(table: str) -> list[str]:
    """The columns that decide whether a re-appended record is the same as the stored one."""
    return [
        c for c in TABLES[table] if c not in _VOLATILE and not (table == "round_events" and c == "event_at")
    ]


def same_content(table: str, left: str, right: str) -> str:
    """SQL that is true when rows `left` and `right` of `table` hold the same content (NULLs equal)."""
    return " AND ".join(
        f"{left}.{_quote(c)} IS NOT DISTINCT FROM {right}.{_quote(c)}" for c in content_columns(table)
    )


def load(con: duckdb.DuckDBPyConnection, table: str, rows, name: str) -> int:
    """Create temp table `name` in `con` holding typed, checked, filled records of `table` plus `_row`
    (position in the input) and `_key` (a 64-bit hash of the natural key). Returns the row count; raises RecordError."""
    if table not in TABLES:
        raise RecordError(table, 0, "table", f"unknown table; valid: {', '.join(TABLES)}")
    frame = _prepare_frame(table, rows)
    columns = TABLES[table]
    for req in REQUIRED[table]:
        if req not in frame.columns:
            raise RecordError(table, 0, req, "required column is missing")
    frame["_row"] = range(len(frame))
    raw = f"_raw_{name}"
    con.register(raw, frame)
    given = set(frame.columns)
    # 1. cast what was given; a value that does not cast is an error, not a NULL
    casts, cast_checks = [], []
    for column, sql_type in columns.items():
        if column in given:
            casts.append(f"TRY_CAST({_quote(column)} AS {sql_type}) AS {_quote(column)}")
            if sql_type != "VARCHAR":
                text = f"CAST({_quote(column)} AS VARCHAR)"
                cast_checks.append(
                    (
                        column,
                        f"{_quote(column)} IS NOT NULL AND TRY_CAST({_quote(column)} AS {sql_type}) IS NULL "
                        f"AND {text} NOT IN ('', 'nan', 'NaN', 'None')",
                        f"is not a valid {sql_type}",
                    )
                )
        else:
            casts.append(f"NULL::{sql_type} AS {_quote(column)}")
    _first_bad_row(con, raw, cast_checks, table)
    relation = f"(SELECT _row, {', '.join(casts)} FROM {raw})"
    # 2. fill derived columns where NULL, layer by layer
    for layer in _derived(table):
        if layer:
            select = ", ".join(
                f"coalesce({_quote(c)}, {layer[c]}) AS {_quote(c)}" if c in layer else _quote(c)
                for c in columns
            )
            relation = f"(SELECT _row, {select} FROM {relation})"
    # 3. key and content hashes, then every value check in one pass
    key = ", ".join(f"coalesce(CAST({_quote(c)} AS VARCHAR), {_NULL})" for c in KEYS[table])
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT *, md5_number_upper(concat_ws({_SEP}, {key})) AS _key FROM {relation}"
    )
    con.unregister(raw)
    checks = [
        (req, f"{_quote(req)} IS NULL OR CAST({_quote(req)} AS VARCHAR) = ''", "is required")
        for req in REQUIRED[table]
    ]
    for (tbl, column), allowed in _ENUMS.items():
        if tbl == table:
            checks.append(
                (
                    column,
                    f"{_quote(column)} NOT IN ({_sql_list(allowed)})",
                    f"must be one of {', '.join(allowed)}",
                )
            )
    if table == "judgments":
        checks += [
            (
                "preference",
                "preference < 0 OR preference > 1 OR isnan(preference)",
                "must be in [0, 1] (blank = unscored)",
            ),
            ("model_b", "model_a = model_b", "model_a and model_b must differ"),
        ]
    if table == "generations":
        checks.append(("sample_index", "sample_index < 0", "must be >= 0"))
    _first_bad_row(con, name, checks, table)
    return con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
