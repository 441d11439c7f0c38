"""The TRL trainers' logged numbers per round and stage (`training_metrics`), for trackers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["training_metric_rows"]


def training_metric_rows(store: Store, round_id: str) -> list[tuple[str, int, str, float]]:
    """(stage, step, name, value) of one round's training stages, by stage, step and name; NULL values left out."""
    frame = store.query(
        "SELECT stage, step, name, value FROM training_metrics WHERE round_id = ? AND value IS NOT NULL "
        "ORDER BY stage, step, name",
        [round_id],
    )
    return [
        (str(s), int(step), str(n), float(v))
        for s, step, n, v in zip(frame["stage"], frame["step"], frame["name"], frame["value"])
    ]
