"""Preference pairs: one normalised shape for seed pairs, people's pairs and rejection-sampled pairs.

A pair is a prompt (chat messages), a chosen and a rejected assistant answer. Pairs arrive as TRL's
conversational preference rows (`prompt`/`chosen`/`rejected` as message lists), as plain strings, from
JSONL or Parquet files. Each gets a stable `pair_id` (given, or derived from its content) so that a pair
seen twice is used once and a dropped pair can be named.

Where pairs come from (`collect_pairs`):
- the shipped seed pairs (`rlhf.default_data.default_seed_preferences()`), when the recipe says so;
- every `*.jsonl` / `*.parquet` file under `<store>/preferences/` (pairs appended by people);
- files named in the recipe (`round.preference_files`);
- `rejection_pairs.parquet` of earlier finished rounds (synthetic pairs from rejection sampling).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rlhf.inputs import InputError, read_records


@dataclass(frozen=True)
class Pair:
    pair_id: str
    prompt: tuple[Mapping[str, str], ...]  # chat messages ending with the user's turn
    chosen: str
    rejected: str
    source: str = ""
    prompt_id: str | None = None

    @property
    def prompt_json(self) -> str:
        return json.dumps([dict(m) for m in self.prompt], sort_keys=True, ensure_ascii=False)

    def row(self) -> dict[str, Any]:
        """Flat row for Parquet/JSONL: the prompt as a JSON string."""
        out = asdict(self)
        out["prompt"] = self.prompt_json
        return out

    def trl_row(self) -> dict[str, Any]:
        """TRL's conversational preference format (explicit prompt)."""
        return {
            "pair_id": self.pair_id,
            "prompt": [dict(m) for m in self.prompt],
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }


class PairError(InputError):
    """A preference record that cannot be read; the message names the file/row and field."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, None, message)


def _messages(value: Any, where: str) -> tuple[dict[str, str], ...]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            value = parsed
        else:
            return ({"role": "user", "content": value},)
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        raise PairError(f"{where}: prompt: a string or a non-empty list of {{role, content}} messages")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
            raise PairError(f"{where}: prompt[{i}]: each message needs 'role' and 'content'")
        out.append({"role": str(m["role"]), "content": str(m["content"])})
    return tuple(out)


def _answer(value: Any, where: str, name: str) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()
    if (
        isinstance(value, (list, tuple))
        and value
        and isinstance(value[-1], Mapping)
        and "content" in value[-1]
    ):
        return str(value[-1]["content"])
    raise PairError(f"{where}: {name}: a string or a list of messages ending with the assistant's answer")


def derive_pair_id(prompt: Sequence[Mapping[str, str]], chosen: str, rejected: str) -> str:
    blob = json.dumps([[dict(m) for m in prompt], chosen, rejected], sort_keys=True, ensure_ascii=False)
    return "pair-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def pair_from_record(record: Mapping[Any, Any], *, where: str, source: str) -> Pair:
    """Normalise one record (TRL conversational or plain strings) into a Pair."""
    for name in ("prompt", "chosen", "rejected"):
        if name not in record or record[name] is None:
            raise PairError(f"{where}: missing field {name!r} (need prompt, chosen, rejected)")
    prompt = _messages(record["prompt"], where)
    chosen = _answer(record["chosen"], where, "chosen")
    rejected = _answer(record["rejected"], where, "rejected")
    pair_id = record.get("pair_id") or record.get("id") or derive_pair_id(prompt, chosen, rejected)
    prompt_id = record.get("prompt_id")
    return Pair(
        pair_id=str(pair_id),
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        source=str(record.get("source") or source),
        prompt_id=None if prompt_id is None or prompt_id != prompt_id else str(prompt_id),
    )


def read_pairs_file(path: str | Path) -> list[Pair]:
    """Pairs from a JSONL or Parquet file; errors name the file and line/row."""
    path = Path(path)
    if path.suffix == ".parquet":
        file = read_records(path)  # the one reader (rlhf.inputs): a damaged file is an InputError naming it
        return [
            pair_from_record(rec, where=f"{path}: row {row}", source=str(path))
            for row, rec in zip(file.lines, file.frame.to_dict("records"), strict=True)
        ]
    # JSONL is held to the same rules as the shipped seed pairs (rlhf.default_data.load_preferences).
    from rlhf.default_data import load_preferences

    frame = load_preferences(path)
    return [
        pair_from_record(rec, where=f"{path}: record {i + 1}", source=str(path))
        for i, rec in enumerate(frame.to_dict("records"))
    ]


def write_pairs(pairs: Iterable[Pair], path: str | Path) -> Path:
    """Write pairs as Parquet atomically (temp file, fsync, rename)."""
    import os

    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [p.row() for p in pairs]
    columns = ["pair_id", "prompt", "chosen", "rejected", "source", "prompt_id"]
    frame = pd.DataFrame(rows, columns=columns)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def dedupe(pairs: Iterable[Pair]) -> list[Pair]:
    seen: dict[str, Pair] = {}
    for p in pairs:
        seen.setdefault(p.pair_id, p)
    return list(seen.values())


def seed_pairs() -> list[Pair]:
    from rlhf.default_data import default_seed_preferences

    return [
        pair_from_record(rec, where=f"seed pair {i + 1}", source="seed")
        for i, rec in enumerate(default_seed_preferences().to_dict("records"))
    ]


def people_pair_files(store_root: Path) -> list[Path]:
    folder = Path(store_root) / "preferences"
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.suffix in (".jsonl", ".parquet") and not p.name.startswith(".")
    )


def collect_pairs(
    *,
    use_seed_pairs: bool,
    store_root: Path,
    extra_files: Sequence[str | Path],
    round_pair_files: Sequence[Path],
) -> list[Pair]:
    """All preference pairs available to a round's reward model, deduplicated by pair_id."""
    pairs: list[Pair] = []
    if use_seed_pairs:
        pairs += seed_pairs()
    for f in [*people_pair_files(store_root), *map(Path, extra_files), *round_pair_files]:
        if Path(f).exists():
            pairs += read_pairs_file(f)
        elif Path(f) not in round_pair_files:
            raise PairError(f"{f}: preference file not found (round.preference_files)")
    return dedupe(pairs)


def split_heldout(pairs: Sequence[Pair], fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Deterministic split by a hash of (seed, pair_id): the same pair stays on the same side across rounds."""
    train: list[Pair] = []
    heldout: list[Pair] = []
    for p in pairs:
        h = int(hashlib.sha256(f"{seed}:{p.pair_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (heldout if h < fraction else train).append(p)
    if not heldout and len(train) > 1:
        heldout.append(train.pop())
    return train, heldout


__all__ = [
    "Pair",
    "PairError",
    "collect_pairs",
    "dedupe",
    "derive_pair_id",
    "pair_from_record",
    "people_pair_files",
    "read_pairs_file",
    "seed_pairs",
    "split_heldout",
    "write_pairs",
]
