"""Decisions: the append-only `decisions` rows the gate (one per evaluated round) and people (`rlhf promote`,
`rlhf reject`) write; `rlhf.rounds.decisions` folds them into the champion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["decision_rows", "gate_decision", "policy_checkpoints"]

_JSON = ("rule", "criteria", "statistics")


def decision_rows(store: Store) -> pd.DataFrame:
    """Every decision, oldest first, JSON columns parsed (rule: dict or None; criteria: list; statistics:
    dict). Empty with the table's columns when none was recorded."""
    frame = store.query("SELECT * FROM decisions ORDER BY created_at, decision_id")
    for column in _JSON:
        frame[column] = [json.loads(v) if isinstance(v, str) and v else None for v in frame[column]]
    frame["manual"] = frame["manual"].fillna(False).astype(bool)
    return frame


def gate_decision(store: Store, round_id: str) -> dict[str, Any] | None:
    """The gate's recorded decision on a round (parsed), or None when the round was not decided yet."""
    frame = store.query("SELECT * FROM decisions WHERE decision_id = ?", [f"gate:{round_id}"])
    if frame.empty:
        return None
    row = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    for column in _JSON:
        row[column] = json.loads(row[column]) if isinstance(row[column], str) and row[column] else None
    row["created_at"] = str(row["created_at"])
    row["manual"] = bool(row["manual"])
    return row


def policy_checkpoints(store: Store) -> pd.DataFrame:
    """Every policy checkpoint with its round's status (NULL for the starting policy, which has no round):
    checkpoint_id, round_id, path (on this machine), parent_checkpoint_id, created_at, round_status; oldest
    first."""
    frame = store.query(
        "SELECT c.checkpoint_id, c.round_id, c.path, c.parent_checkpoint_id, c.created_at, r.status AS round_status "
        "FROM checkpoints c LEFT JOIN rounds r USING (round_id) WHERE coalesce(c.kind, 'policy') = 'policy' "
        "ORDER BY c.created_at, c.checkpoint_id"
    )
    frame["path"] = [store.local_path(p) if isinstance(p, str) else p for p in frame["path"]]
    return frame
