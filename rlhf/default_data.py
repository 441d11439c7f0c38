"""The embedded default data: eval prompts, training prompts and seed preference pairs, read and checked.

Every round, the sampler and the store read prompts through ``load_prompts`` and preference pairs through
``load_preferences``, so a user's own files are held to the same rules as the shipped ones in ``data/``.
Formats follow TRL's conversational conventions (see data/README.md). A bad record stops the load with a
``DataError`` naming the file, the line, the field and what would be valid.

``prompt_content_hash`` (defined in ``rlhf.prompt_identity``, re-exported here) is the one definition of a
prompt's identity by content: the store's ``prompts.content_hash`` and the train/eval overlap check use it.

The data files live in the repository's ``data/`` folder, found relative to this package (``DATA_DIR``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rlhf.inputs import InputError, iter_jsonl
from rlhf.prompt_identity import prompt_content_hash
from rlhf.schema import TABLES

__all__ = [
    "DATA_DIR",
    "DEFAULT_SOURCE",
    "DataError",
    "default_eval_prompts",
    "default_seed_preferences",
    "default_train_prompts",
    "load_preferences",
    "load_prompts",
    "prompt_content_hash",
]

DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"
DEFAULT_SOURCE = "rlhf-rounds-default-v1"

Split = Literal["train", "eval"]
_SPLITS: tuple[str, ...] = ("train", "eval")
_ROLES: tuple[str, ...] = ("system", "user", "assistant")

_PROMPT_FIELDS = {
    "prompt_id": True,
    "messages": True,
    "category": False,
    "reference": False,
    "source": False,
    "tags": False,
    "split": False,
}  # name -> required
_PREFERENCE_FIELDS = {"id": True, "prompt": True, "chosen": True, "rejected": True, "category": False}

_PREFERENCE_COLUMNS = ["id", "prompt", "chosen", "rejected", "category"]


class DataError(InputError):
    """A data file that cannot be used: ``file:line: field 'x': what is wrong`` (an ``InputError``)."""


def load_prompts(path: Path | str, *, split: Split) -> pd.DataFrame:
    """Read a prompts JSONL file into a frame with the columns of ``schema.TABLES['prompts']``.

    Each line: ``{"prompt_id", "messages", "category", "reference", "source", "tags"}``; ``prompt_id`` and
    ``messages`` are required, the rest may be missing or null. ``messages`` ends with a user turn.
    The split comes from the ``split`` argument; a line may also carry ``"split"`` (as files for
    ``rlhf append prompts`` do), which must then agree. ``created_at`` is left null for the store to fill.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    path = Path(path)
    rows = []
    for line_no, record in _read_jsonl(path, _PROMPT_FIELDS, id_field="prompt_id"):
        messages = _check_messages(record["messages"], path, line_no, "messages", last_role="user")
        if record.get("split", split) != split:
            raise DataError(
                path, line_no, "split", f"is {record['split']!r} but this file is loaded as {split!r}"
            )
        tags = record.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise DataError(path, line_no, "tags", "must be a list of non-empty strings or null")
        reference = record.get("reference")
        if reference is not None and (not isinstance(reference, str) or not reference.strip()):
            raise DataError(
                path, line_no, "reference", f"must be a non-empty string or null, got {reference!r}"
            )
        source = record.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise DataError(path, line_no, "source", f"must be a non-empty string or null, got {source!r}")
        rows.append(
            {
                "prompt_id": record["prompt_id"],
                "messages": json.dumps(
                    messages, sort_keys=True, ensure_ascii=False
                ),  # the store's canonical form
                "text": next(m["content"] for m in reversed(messages) if m["role"] == "user"),
                "content_hash": prompt_content_hash(messages),
                "category": record.get("category"),
                "tags": json.dumps(tags, ensure_ascii=False),
                "split": split,
                "source": source or DEFAULT_SOURCE,
                "reference": reference,
                "created_at": None,
            }
        )
    frame = pd.DataFrame(rows, columns=list(TABLES["prompts"]))
    frame["created_at"] = pd.Series([pd.NaT] * len(frame), dtype="datetime64[us]")
    return frame


def load_preferences(path: Path | str) -> pd.DataFrame:
    """Read a preference-pairs JSONL file (TRL conversational preference format) into a frame.

    Each line: ``{"id", "prompt", "chosen", "rejected", "category"}``; ``prompt`` is a list of messages
    ending with a user turn, ``chosen`` and ``rejected`` are lists of assistant messages. Columns hold the
    lists of message dicts as parsed, ready for ``datasets.Dataset.from_pandas`` and TRL's trainers.
    """
    path = Path(path)
    rows = []
    for line_no, record in _read_jsonl(path, _PREFERENCE_FIELDS, id_field="id"):
        prompt = _check_messages(record["prompt"], path, line_no, "prompt", last_role="user")
        chosen = _check_messages(record["chosen"], path, line_no, "chosen", only_role="assistant")
        rejected = _check_messages(record["rejected"], path, line_no, "rejected", only_role="assistant")
        if prompt_content_hash(chosen) == prompt_content_hash(rejected):
            raise DataError(
                path, line_no, "rejected", "is the same text as 'chosen'; a pair needs two different answers"
            )
        rows.append(
            {
                "id": record["id"],
                "prompt": prompt,
                "chosen": chosen,
                "rejected": rejected,
                "category": record.get("category"),
            }
        )
    return pd.DataFrame(rows, columns=_PREFERENCE_COLUMNS)


def default_eval_prompts() -> pd.DataFrame:
    """The shipped evaluation prompts (``data/eval_prompts.jsonl``), split 'eval'."""
    return load_prompts(DATA_DIR / "eval_prompts.jsonl", split="eval")


def default_train_prompts() -> pd.DataFrame:
    """The shipped training prompts (``data/train_prompts.jsonl``), split 'train'."""
    return load_prompts(DATA_DIR / "train_prompts.jsonl", split="train")


def default_seed_preferences() -> pd.DataFrame:
    """The shipped seed preference pairs (``data/seed_preferences.jsonl``)."""
    return load_preferences(DATA_DIR / "seed_preferences.jsonl")


def _read_jsonl(path: Path, fields: dict[str, bool], *, id_field: str):
    """Yield (line number, record) for each non-blank line, after the checks every record shares."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file")
    seen: dict[str, int] = {}
    count = 0
    for line_no, record in _as_data_errors(iter_jsonl(path)):
        unknown = sorted(set(record) - set(fields))
        if unknown:
            raise DataError(path, line_no, unknown[0], f"unknown field; valid fields are {sorted(fields)}")
        for name, required in fields.items():
            if required and name not in record:
                raise DataError(path, line_no, name, "missing required field")
        record_id = record[id_field]
        if not isinstance(record_id, str) or not record_id.strip():
            raise DataError(path, line_no, id_field, f"must be a non-empty string, got {record_id!r}")
        if record_id in seen:
            raise DataError(
                path, line_no, id_field, f"duplicate id {record_id!r}, first used on line {seen[record_id]}"
            )
        seen[record_id] = line_no
        category = record.get("category")
        if category is not None and (not isinstance(category, str) or not category.strip()):
            raise DataError(
                path, line_no, "category", f"must be a non-empty string or null, got {category!r}"
            )
        count += 1
        yield line_no, record
    if count == 0:
        raise DataError(path, 1, None, "no records; expected one JSON object per line")


def _as_data_errors(records: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    try:
        yield from records
    except (
        InputError
    ) as exc:  # the reader's own checks (malformed JSON, not an object) as this module's error
        raise DataError(exc.path, exc.line, exc.field, exc.message) from None


def _check_messages(
    value: Any,
    path: Path,
    line_no: int,
    field: str,
    *,
    last_role: str | None = None,
    only_role: str | None = None,
) -> list[dict[str, str]]:
    """Check a list of {"role", "content"} messages and return a clean copy."""
    if not isinstance(value, list) or not value:
        raise DataError(
            path, line_no, field, 'must be a non-empty list of {"role": ..., "content": ...} messages'
        )
    messages: list[dict[str, str]] = []
    for i, message in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(message, dict):
            raise DataError(path, line_no, where, "must be an object with 'role' and 'content'")
        extra = sorted(set(message) - {"role", "content"})
        if extra:
            raise DataError(
                path, line_no, f"{where}.{extra[0]}", "unknown key; a message has only 'role' and 'content'"
            )
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            raise DataError(
                path, line_no, f"{where}.role", f"unknown role {role!r}; valid roles are {list(_ROLES)}"
            )
        if only_role is not None and role != only_role:
            raise DataError(path, line_no, f"{where}.role", f"must be {only_role!r}, got {role!r}")
        if not isinstance(content, str) or not content.strip():
            raise DataError(
                path, line_no, f"{where}.content", "empty or missing content; expected non-empty text"
            )
        if role == "system" and i != 0:
            raise DataError(path, line_no, f"{where}.role", "a system message may only come first")
        if messages and role == messages[-1]["role"]:
            raise DataError(
                path, line_no, f"{where}.role", f"two {role!r} turns in a row; roles must alternate"
            )
        messages.append({"role": role, "content": content})
    if last_role is not None and messages[-1]["role"] != last_role:
        raise DataError(
            path,
            line_no,
            f"{field}[{len(messages) - 1}].role",
            f"the last message must be from the {last_role!r}, got {messages[-1]['role']!r}",
        )
    return messages
