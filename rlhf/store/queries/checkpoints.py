"""Checkpoints: the `checkpoints` rows that policies and reward models are registered with.

`rlhf.rounds.checkpoint` registers and looks them up; the orchestrator asks which policy and reward model
come last; the sampler finds a directory's id by its content hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = [
    "checkpoint_row",
    "first_policy_with_hash",
    "latest_done_policy_id",
    "latest_reward_model_id",
    "policy_rounds",
    "recent_checkpoint_ids",
    "round_policy",
]


def checkpoint_row(store: Store, checkpoint_id: str) -> dict[str, Any] | None:
    """The checkpoint's row as a dict (missing values as None; ``path`` on this machine), or None when it is
    not registered."""
    rows = store.query("SELECT * FROM checkpoints WHERE checkpoint_id = ?", [checkpoint_id])
    if len(rows) == 0:
        return None
    row = rows.iloc[0].to_dict()
    out = {str(k): (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in row.items()}
    path = out.get("path")
    if isinstance(path, str):
        out["path"] = store.local_path(path)  # "./..." is relative to the store's root
    return out


def first_policy_with_hash(store: Store, content_hash: str) -> str | None:
    """The id of the earliest policy checkpoint with these exact files, if any."""
    frame = store.query(
        "SELECT checkpoint_id FROM checkpoints WHERE content_hash = ? AND coalesce(kind, 'policy') = 'policy' "
        "ORDER BY created_at LIMIT 1",
        [content_hash],
    )
    return str(frame["checkpoint_id"].iloc[0]) if len(frame) else None


def latest_done_policy_id(store: Store) -> str | None:
    """The policy of the round that finished last (None before the first round finishes)."""
    frame = store.query(
        "SELECT c.checkpoint_id FROM checkpoints c JOIN rounds r USING (round_id) "
        "WHERE r.status = 'done' AND c.kind = 'policy' ORDER BY r.finished_at DESC, c.created_at DESC LIMIT 1"
    )
    return str(frame["checkpoint_id"].iloc[0]) if len(frame) else None


def latest_reward_model_id(store: Store, *, exclude_round: str | None = None) -> str | None:
    """The reward model registered last (optionally leaving one round's out)."""
    frame = store.query(
        "SELECT checkpoint_id FROM checkpoints WHERE kind = 'reward_model' AND (CAST(? AS VARCHAR) IS NULL OR round_id <> ?) "
        "ORDER BY created_at DESC LIMIT 1",
        [exclude_round, exclude_round],
    )
    return str(frame["checkpoint_id"].iloc[0]) if len(frame) else None


def round_policy(store: Store, round_id: str) -> tuple[str, str | None] | None:
    """(policy checkpoint id, its parent checkpoint id) of a round's latest policy; None when it has none."""
    rows = store.query(
        "SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints WHERE round_id = ? AND kind = 'policy' "
        "ORDER BY created_at DESC LIMIT 1",
        [round_id],
    )
    if rows.empty:
        return None
    parent = rows.iloc[0]["parent_checkpoint_id"]
    parent = None if parent is None or isinstance(parent, float) or not str(parent) else str(parent)
    return str(rows.iloc[0]["checkpoint_id"]), parent


def policy_rounds(store: Store) -> list[str]:
    """Every round that has a policy checkpoint, sorted."""
    frame = store.query("SELECT DISTINCT round_id FROM checkpoints WHERE kind = 'policy' ORDER BY 1")
    return [str(r) for r in frame["round_id"]]


def recent_checkpoint_ids(store: Store, limit: int = 9) -> list[str]:
    """The ids of the checkpoints registered last, newest first (for error messages)."""
    frame = store.query("SELECT checkpoint_id FROM checkpoints ORDER BY created_at DESC LIMIT ?", [limit])
    return [str(x) for x in frame["checkpoint_id"]]
