"""`rlhf append`: turn outside files of prompts, generations or judgments into one atomic store batch.

Outside files are forgiving about names (a judgment may carry its prompt's text as `prompt`) and strict
about content: every problem names the file, the line and the field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from rlhf.inputs import InputError, RecordFile, read_records
from rlhf.schema import TABLES
from rlhf.store.records import RecordError
from rlhf.store.store import AppendResult, Store

Kind = Literal["prompts", "generations", "judgments"]
_PROMPT_TEXT = ("prompt", "prompt_text")
_ALIASES = {"generations": {"checkpoint": "checkpoint_id", "model": "checkpoint_id"}}
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


def _check_columns(kind: Kind, file: RecordFile, frame: pd.DataFrame) -> None:
    if not len(frame):
        return
    for column in _REQUIRED_IN_FILE[kind]:
        if column not in frame.columns:
            raise file.error(0, column, f"missing (required for {kind})")
    unknown = [
        c for c in frame.columns if c not in TABLES[kind] and not (kind != "prompts" and c in _PROMPT_TEXT)
    ]
    if unknown:
        valid = list(TABLES[kind]) + ([] if kind == "prompts" else ["prompt"])
        raise file.error(0, unknown[0], f"unknown field for {kind}; valid fields: {', '.join(valid)}")
    required_values = [c for c in _REQUIRED_IN_FILE[kind] if not (kind == "judgments" and c == "preference")]
    for column in required_values:
        missing = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        if missing.any():
            raise file.error(int(missing.to_numpy().nonzero()[0][0]), column, "empty")


def _check_prompts_known(
    store: Store, kind: Kind, file: RecordFile, frame: pd.DataFrame, known: set[str]
) -> None:
    if kind == "prompts" or not len(frame):
        return
    unknown = ~frame["prompt_id"].astype(str).isin(known)
    if unknown.any():
        at = int(unknown.to_numpy().nonzero()[0][0])
        raise file.error(
            at,
            "prompt_id",
            f"unknown prompt {frame['prompt_id'].iloc[at]!r} (not in the store, and "
            "the file gives no prompt text: add a 'prompt' field or append prompts first)",
        )


def append_files(store: Store, kind: Kind, paths: Sequence[str | Path]) -> dict[str, AppendResult]:
    """Append every file as ONE batch: all rows land, or (on any error) none."""
    files = [read_records(p) for p in paths]
    known = set(store.query("SELECT prompt_id FROM prompts")["prompt_id"])
    batch: dict[str, list[pd.DataFrame]] = {kind: [], "prompts": []}
    origin: list[tuple[str, RecordFile, int]] = []  # (table, file, offset) to map rows back to lines
    for file in files:
        frame = file.frame.rename(columns=_ALIASES.get(kind, {}))
        _check_columns(kind, file, frame)
        frame, prompts = _split_prompt_text(kind, frame)
        if prompts is not None and len(prompts):
            known |= set(prompts["prompt_id"].astype(str))
            batch["prompts"].append(prompts.assign(source=str(file.path)))
        if kind == "prompts":
            known |= set(frame.get("prompt_id", pd.Series(dtype=str)).astype(str))
        _check_prompts_known(store, kind, file, frame, known)
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
        for _table, file, offset in reversed(origin):
            if exc.row >= offset:
                raise file.error(exc.row - offset, exc.field, exc.message) from None
        raise
