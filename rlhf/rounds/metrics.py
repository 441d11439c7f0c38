"""A TrainerCallback that writes every logged training number into the store's `training_metrics`.

Each `on_log` becomes rows (round_id, stage, step, name, value), so the dashboard can chart loss, reward
margins and accuracies while a stage is still training. Only the main process writes (under
`accelerate launch` every process logs the same, already gathered, numbers).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

if TYPE_CHECKING:
    from rlhf.store import Store

_SKIP = {"epoch", "total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second"}


class StoreMetricsCallback(TrainerCallback):
    def __init__(self, store: Store | None, *, round_id: str, stage: str) -> None:
        self._store = store
        self._round_id = round_id
        self._stage = stage
        self.rows: list[dict[str, Any]] = []  # everything logged, also kept for the stage's result

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        rows = [
            {
                "round_id": self._round_id,
                "stage": self._stage,
                "step": int(state.global_step),
                "name": name,
                "value": float(value),
            }
            for name, value in logs.items()
            if name not in _SKIP and isinstance(value, (int, float)) and math.isfinite(float(value))
        ]
        # The same step can log twice (train and eval); keys are (round, stage, step, name), so keep names apart.
        known = {(r["step"], r["name"]) for r in self.rows}
        rows = [r for r in rows if (r["step"], r["name"]) not in known]
        if not rows:
            return
        self.rows.extend(rows)
        if self._store is not None:
            # A stage rerun after a crash logs the same steps again: the first record of a step is kept.
            self._store.append("training_metrics", rows, on_conflict="keep")


__all__ = ["StoreMetricsCallback"]
