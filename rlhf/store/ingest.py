"""`rlhf append`: turn outside files of prompts, generations or judgments into one atomic store batch.

Outside files are forgiving about names (a judgment may carry its prompt's text as `prompt`) and strict
about content: every problem names the file, the line and the field, and nothing is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from rlhf.inputs import InputError, RecordFile, raise_all, read_records
from rlhf.schema import TABLES
from rlhf.store.records import RecordError
from rlhf.store.store import AppendResult, Store

Kind = Literal["prompts", "generations", "judgments"]
_PROMPT_TEXT = ("prompt", "prompt_text")
_ALIASES = {"generations": {"checkpoint": "checkpoint_id", "model": "checkpoint_id"}}
# What a file may hold, as docs/store.md and `rlhf append --help` list it (the store's own columns, e.g.
# judgment_id or created_at, are accepted too so that exported rows can be re-appended).
FILE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "prompts": (("prompt_id", "text or messages"), ("category", "tags", "split", "reference", "source")),
    "generations": (
        ("checkpoint_id", "prompt_id", "text"),
        ("prompt", "params", "seed", "sample_index", "finish_reason", "backend"),
    ),
    "judgments": (
        ("judge", "prompt_id", "model_a", "model_b", "preference"),
        ("judge_version", "order", "error", "round_id", "prompt", "category", "answer_a", "answer_b",
         "rationale", "source"),
    ),
}  # fmt: skip
_REQUIRED_IN_FILE = {
    "prompts": ("prompt_id",),
    "generations": ("checkpoint_id", "prompt_id", "text"),
    "judgments": ("prompt_id", "model_a", "model_b", "preference", "judge"),
}


def _split_prompt_text(kind: Kind, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    text_col = next((c for c in _PROMPT_TEXT if c in frame.columns and kind != "prompts"), None)
    prompts = None
    if text_col:
        has_text = frame[text_col].notna()
        prompts = frame.loc[has_text, ["prompt_id", text_col]].rename(columns={text_col: "text"})
        if "category" in frame.columns:
            prompts["category"] = frame.loc[has_text, "category"]
        prompts = prompts.drop_duplicates("prompt_id")
        frame = frame.drop(columns=[text_col])
    return frame, prompts


def _check_columns(kind: Kind, file: RecordFile, frame: pd.DataFrame) -> list[InputError]:
    """Missing and unknown fields (named once each), then empty required values (every row)."""
    if not len(frame):
        return []
    problems = [
        file.error(0, column, f"missing (required for {kind})")
        for column in _REQUIRED_IN_FILE[kind]
        if column not in frame.columns
    ]
    unknown = [
        c for c in frame.columns if c not in TABLES[kind] and not (kind != "prompts" and c in _PROMPT_TEXT)
    ]
    if unknown:
        required, optional = FILE_FIELDS[kind]
        problems += [
            file.error(
                0,
                str(c),
                f"unknown field for {kind}; required: {', '.join(required)}; optional: {', '.join(optional)} "
                "(docs/store.md)",
            )
            for c in unknown
        ]
    required_values = [c for c in _REQUIRED_IN_FILE[kind] if c in frame.columns and c != "preference"]
    for column in required_values:
        missing = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        problems += [file.error(int(i), column, "empty") for i in missing.to_numpy().nonzero()[0]]
    return problems


def _check_prompts_known(
    kind: Kind, file: RecordFile, frame: pd.DataFrame, known: set[str]
) -> list[InputError]:
    if kind == "prompts" or not len(frame) or "prompt_id" not in frame.columns:
        return []
    given = frame["prompt_id"].notna() & (frame["prompt_id"].astype(str).str.strip() != "")
    unknown = given & ~frame["prompt_id"].astype(str).isin(known)
    return [
        file.error(
            int(at),
            "prompt_id",
            f"unknown prompt {frame['prompt_id'].iloc[at]!r} (not in the store, and "
            "the file gives no prompt text: add a 'prompt' field or append prompts first)",
        )
        for at in unknown.to_numpy().nonzero()[0]
    ]


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def preference_problem(value: object, *, text: bool) -> str | None:
    """What is wrong with one file value as a preference, or None when it is a number in [0, 1] or blank.
    ``text``: the file's values are all text (CSV), so a number arrives as a string.

    >>> [preference_problem(v, text=False) for v in (0.25, 1, None, float("nan"))]
    [None, None, None, None]
    >>> preference_problem(True, text=False)
    'True is a boolean, not a preference: give a number in [0, 1] (1: model_b better, 0.5: a tie)'
    >>> preference_problem("", text=False), preference_problem("NaN", text=True)
    ("'' is a string, not a preference: give a number in [0, 1] (1: model_b better, 0.5: a tie)", "'NaN' is not a number in [0, 1]: leave it empty (with an error) for an unscored judgment")
    >>> preference_problem(1.5, text=False)
    'must be in [0, 1] (got 1.5)'
    """
    hint = "give a number in [0, 1] (1: model_b better, 0.5: a tie)"
    if _is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} is a boolean, not a preference: {hint}"
    if isinstance(value, str):
        if not text:
            return f"{value!r} is a string, not a preference: {hint}"
        try:
            number = float(value.strip())
        except ValueError:
            return f"{value!r} is not a number: {hint}"
        if not math.isfinite(number):
            return f"{value!r} is not a number in [0, 1]: leave it empty (with an error) for an unscored judgment"
        value = number
    if not isinstance(value, (int, float, np.number)):
        return f"{value!r} is not a number: {hint}"
    number = float(value)
    if not 0.0 <= number <= 1.0:
        return f"must be in [0, 1] (got {value!r})"
    return None


def _check_judgments(
    file: RecordFile, frame: pd.DataFrame, rounds: set[str], allow_new_rounds: bool
) -> list[InputError]:
    """Preferences, orders, the two sides and round ids, row by row."""
    problems: list[tuple[int, InputError]] = []
    text = file.path.suffix.lower() == ".csv"
    errors = frame["error"] if "error" in frame.columns else pd.Series([None] * len(frame))
    for i, value in enumerate(frame["preference"] if "preference" in frame.columns else []):
        blank = _is_blank(value) or (text and isinstance(value, str) and not value.strip())
        if blank and (_is_blank(errors.iloc[i]) or not str(errors.iloc[i]).strip()):
            problems.append((i, file.error(i, "preference", "empty: a judgment without a preference is unscored "
                                           "and needs an 'error' saying why; else give a number in [0, 1]")))  # fmt: skip
        elif not blank and (problem := preference_problem(value, text=text)):
            problems.append((i, file.error(i, "preference", problem)))
    if "order" in frame.columns:
        for i, value in enumerate(frame["order"]):
            if not _is_blank(value) and str(value) not in ("ab", "ba"):
                problems.append((i, file.error(i, "order", f"must be one of ab, ba (ab: model_a's answer shown first) or "
                                                           f"empty (unknown) (got {value!r})")))  # fmt: skip
    if {"model_a", "model_b"} <= set(frame.columns):
        same = frame["model_a"].notna() & (frame["model_a"].astype(str) == frame["model_b"].astype(str))
        problems += [(int(i), file.error(int(i), "model_b", "model_a and model_b must differ"))
                     for i in same.to_numpy().nonzero()[0]]  # fmt: skip
    if "round_id" in frame.columns and not allow_new_rounds:
        for i, value in enumerate(frame["round_id"]):
            if not _is_blank(value) and str(value).strip() and str(value) not in rounds:
                known = ", ".join(sorted(rounds)[-8:]) or "none"
                problems.append((i, file.error(i, "round_id", f"unknown round {value!r} (rounds in the store: "
                                 f"{known}); leave round_id empty, or pass --allow-new-rounds to record it")))  # fmt: skip
    return [e for _, e in sorted(problems, key=lambda p: p[0])]


def append_files(
    store: Store, kind: Kind, paths: Sequence[str | Path], *, allow_new_rounds: bool = False
) -> dict[str, AppendResult]:
    """Append every file as ONE batch: all rows land, or (on any error) none. Each file's problems are
    reported together (up to ``rlhf.inputs.MAX_ERRORS``); a judgment's ``round_id`` must name a round the
    store knows unless ``allow_new_rounds``."""
    files = [read_records(p) for p in paths]
    known = set(store.query("SELECT prompt_id FROM prompts")["prompt_id"])
    rounds = _known_rounds(store) if kind == "judgments" else set()
    batch: dict[str, list[pd.DataFrame]] = {kind: [], "prompts": []}
    origin: list[tuple[str, RecordFile, int]] = []  # (table, file, offset) to map rows back to lines
    for file in files:
        frame = file.frame.rename(columns=_ALIASES.get(kind, {}))
        problems = _check_columns(kind, file, frame)
        if any(c not in frame.columns for c in _REQUIRED_IN_FILE[kind]) and len(frame):
            raise_all(problems)  # a missing column: the row checks below have nothing to read
        frame, prompts = _split_prompt_text(kind, frame)
        if prompts is not None and len(prompts):
            known |= set(prompts["prompt_id"].astype(str))
            batch["prompts"].append(prompts.assign(source=str(file.path)))
        if kind == "prompts":
            known |= set(frame.get("prompt_id", pd.Series(dtype=str)).astype(str))
        problems += _check_prompts_known(kind, file, frame, known)
        if kind == "judgments" and len(frame):
            problems += _check_judgments(file, frame, rounds, allow_new_rounds)
        raise_all(sorted(problems, key=lambda e: e.line or 0))
        if kind == "judgments":
            frame = _typed_preferences(frame)
        origin.append((kind, file, sum(len(f) for f in batch[kind])))
        batch[kind].append(frame)
    merged = {t: pd.concat(fs, ignore_index=True) for t, fs in batch.items() if fs and sum(map(len, fs))}
    if "prompts" in merged and kind != "prompts":
        merged["prompts"] = merged["prompts"].drop_duplicates("prompt_id")
    if kind not in merged:
        return {kind: AppendResult(kind, 0, 0)}  # files with no records: nothing to do, and that is fine
    try:
        return store.append_batch(merged, source=str(files[0].path) if len(files) == 1 else "append")
    except RecordError as exc:
        if exc.table != kind:
            raise InputError(None, None, None, str(exc)) from None
        message = exc.message
        if kind == "judgments" and "same key and different content" in message:
            message += (
                ". A stored judgment is never changed: record a correction under a new judge_version (e.g. "
                "'human@2'; win rates read one judge version at a time, --judge-version picks it)"
            )
        for _table, file, offset in reversed(origin):
            if exc.row >= offset:
                raise file.error(exc.row - offset, exc.field, message) from None
        raise


def _typed_preferences(frame: pd.DataFrame) -> pd.DataFrame:
    """Checked preferences as floats (CSV gives text; blanks become NULL)."""
    if "preference" not in frame.columns:
        return frame
    values = [
        None if _is_blank(v) or (isinstance(v, str) and not v.strip()) else float(v)
        for v in frame["preference"]
    ]
    return frame.assign(preference=pd.Series(values, index=frame.index, dtype="float64"))


def _known_rounds(store: Store) -> set[str]:
    """Rounds a judgment may name: those the store ran or added, and those earlier appends recorded."""
    frame = store.query(
        "SELECT DISTINCT round_id FROM round_events WHERE round_id IS NOT NULL "
        "UNION SELECT DISTINCT round_id FROM judgments WHERE round_id IS NOT NULL"
    )
    return set(map(str, frame["round_id"]))
