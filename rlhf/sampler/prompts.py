"""Which prompts to answer: the store's annotated prompts by split/category/id, or a prompt file.

A prompt file is JSONL, CSV or Parquet with a ``prompt_id`` (or ``id``) column and either ``messages`` (a
list of ``{"role", "content"}``, or its JSON text) or ``text``/``prompt``; optional ``category``, ``split``
(train | eval) and ``reference``. Every problem is reported with the
file and line (JSONL, CSV) or row (Parquet) and nothing is loaded; the sampler writes nothing either.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rlhf.inputs import InputError, iter_jsonl

if TYPE_CHECKING:
    from rlhf.store import Store

SPLITS = ("eval", "train", "all")
_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
COLUMNS = ["prompt_id", "messages", "text", "category", "split", "reference"]


class PromptError(InputError):
    """A prompt set that cannot be sampled; the message names the file, line or prompt id."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, None, message)


@dataclass(frozen=True)
class PromptSet:
    """Validated prompts. ``frame`` columns: prompt_id, messages (JSON text), text, category.

    ``from_store`` is False for prompts from a file or a DataFrame: the sampler adds the ones the store lacks
    to its ``prompts`` table (``source`` names the file) so their answers can be shown and judged.
    """

    frame: pd.DataFrame
    description: str
    from_store: bool = True
    from_file: Path | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def messages(self, prompt_id: str) -> list[dict[str, str]]:
        row = self.frame.loc[self.frame["prompt_id"] == prompt_id].iloc[0]
        return json.loads(row["messages"])


def select_prompts(
    store: Store,
    prompts: str | Path | pd.DataFrame | None = None,
    *,
    category: str | None = None,
    ids: list[str] | None = None,
) -> PromptSet:
    """Resolve ``prompts`` (None = the eval split; 'eval' | 'train' | 'all'; a file path; a DataFrame)."""
    if isinstance(prompts, pd.DataFrame):
        frame = _validate_records(prompts.to_dict("records"), where=lambda i: f"DataFrame row {i}")
        pset = PromptSet(frame, "DataFrame", from_store=False)
    elif prompts is None or (isinstance(prompts, str) and prompts in SPLITS):
        split = "eval" if prompts is None else str(prompts)
        pset = PromptSet(_store_prompts(store, split), f"store split {split!r}")
    else:
        path = Path(prompts)
        if not path.exists():
            raise PromptError(
                f"prompts {str(prompts)!r}: no such file, and not a split name (valid splits: {', '.join(SPLITS)})"
            )
        pset = PromptSet(read_prompt_file(path), str(path), from_store=False, from_file=path)
    frame = pset.frame
    if category is not None:
        frame = frame[frame["category"] == category]
    if ids is not None:
        missing = sorted(set(ids) - set(frame["prompt_id"]))
        if missing:
            raise PromptError(f"prompt id(s) not in {pset.description}: {', '.join(missing[:10])}")
        frame = frame[frame["prompt_id"].isin(ids)]
    frame = frame.reset_index(drop=True)
    description = (
        pset.description
        + (f", category {category!r}" if category else "")
        + (f", {len(ids)} ids" if ids is not None else "")
    )
    return PromptSet(frame, description, from_store=pset.from_store, from_file=pset.from_file)


def read_prompt_file(path: str | Path) -> pd.DataFrame:
    """Read and validate a JSONL/CSV/Parquet prompt file; errors name the file and line or row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        try:
            numbered = list(iter_jsonl(path))  # blank lines are skipped; errors name the line
        except InputError as exc:
            raise PromptError(str(exc)) from None
        records, lines = [r for _, r in numbered], [n for n, _ in numbered]
        where = lambda i: f"{path}:{lines[i]}"  # noqa: E731
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            records = list(csv.DictReader(handle))
        # header is line 1; a record spanning lines (quoted newlines) is named by its first row number
        where = lambda i: f"{path}:{i + 2}"  # noqa: E731
    elif suffix == ".parquet":
        records, where = pd.read_parquet(path).to_dict("records"), (lambda i: f"{path} row {i}")
    else:
        raise PromptError(f"{path}: unknown prompt file type {suffix!r}; valid: {', '.join(_FILE_SUFFIXES)}")
    if not records:
        raise PromptError(f"{path}: no prompts")
    return _validate_records(records, where=where)


def _validate_records(records: Sequence[Mapping[Any, Any]], *, where: Any) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    first_seen: dict[str, str] = {}
    for i, record in enumerate(records):
        place = where(i)
        prompt_id = _prompt_id(record, place)
        if prompt_id in first_seen:
            raise PromptError(
                f"{place}: duplicate prompt_id {prompt_id!r} (first at {first_seen[prompt_id]})"
            )
        first_seen[prompt_id] = place
        messages = _messages(record, place, prompt_id)
        split = _optional(record.get("split"))
        if split is not None and split not in ("train", "eval"):
            raise PromptError(f"{place}: prompt {prompt_id!r}: split {split!r}; valid: train, eval")
        rows.append(
            {
                "prompt_id": prompt_id,
                "messages": json.dumps(messages, ensure_ascii=False),
                "text": _last_user_text(messages),
                "category": _optional(record.get("category")),
                "split": split,
                "reference": _optional(record.get("reference")),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _prompt_id(record: Mapping[Any, Any], place: str) -> str:
    value = record.get("prompt_id", record.get("id"))
    if _missing(value) or not str(value).strip():
        raise PromptError(f"{place}: missing prompt_id (or id)")
    return str(value)


def _messages(record: Mapping[Any, Any], place: str, prompt_id: str) -> list[dict[str, str]]:
    raw = record.get("messages")
    if not _missing(raw):
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise PromptError(
                    f"{place}: prompt {prompt_id!r}: field 'messages' is not JSON ({exc.msg})"
                ) from None
        if hasattr(raw, "tolist"):  # numpy array from Parquet
            raw = raw.tolist()  # type: ignore[union-attr]  # hasattr narrows nothing for mypy
        if not isinstance(raw, list) or not raw:
            raise PromptError(f"{place}: prompt {prompt_id!r}: field 'messages' must be a non-empty list")
        messages = []
        for j, message in enumerate(raw):
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise PromptError(f"{place}: prompt {prompt_id!r}: messages[{j}] needs 'role' and 'content'")
            messages.append({"role": str(message["role"]), "content": str(message["content"] or "")})
        if not any(m["content"].strip() for m in messages):
            raise PromptError(f"{place}: prompt {prompt_id!r} has no text (all messages are empty)")
        if messages[-1]["role"] != "user":
            raise PromptError(
                f"{place}: prompt {prompt_id!r}: the last message must be the user's, got {messages[-1]['role']!r}"
            )
        return messages
    text = record.get("text", record.get("prompt"))
    if _missing(text) or not str(text).strip():
        raise PromptError(f"{place}: prompt {prompt_id!r} has no text (give 'text', 'prompt' or 'messages')")
    return [{"role": "user", "content": str(text)}]


def _last_user_text(messages: list[dict[str, str]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def _optional(value: Any) -> str | None:
    return None if _missing(value) or not str(value).strip() else str(value)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _store_prompts(store: Store, split: str) -> pd.DataFrame:
    from rlhf.store.queries.prompts import prompts_for_sampling

    frame = prompts_for_sampling(store, split)
    records = []
    for record in frame.to_dict("records"):
        if _missing(record.get("messages")):
            record["messages"] = None
        records.append(record)
    return _validate_records(records, where=lambda i: f"store prompt row {i}")
