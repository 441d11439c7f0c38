"""Checkpoints: the `checkpoints` rows that policies and reward models are registered with.

`rlhf.rounds.checkpoint` registers and looks them up; the orchestrator asks which policy and reward model
come last; the sampler finds a directory's id by its content hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["checkpoint_row", "first_policy_with_hash", "latest_done_policy_id", "latest_reward_model_id"]


def checkpoint_row(store: Store, checkpoint_id: str) -> dict[str, Any] | None:
    """The checkpoint's row as a dict (missing values as None), or None when it is not registered."""
    rows = store.query("SELECT * FROM checkpoints WHERE checkpoint_id = ?", [checkpoint_id])
    if len(rows) == 0:
        return None
    return {k: (None if v is None or v != v else v) for k, v in rows.iloc[0].to_dict().items()}  # NaN -> None


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
