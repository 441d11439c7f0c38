"""Which checkpoints each round is compared against: its parent round's and round 0's.

Pure functions over the `rounds` frame from `queries.rounds`, so the comparison logic is tested without
Streamlit. Round 0 is the first round (in start order) without a parent: the base model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

VS_PREVIOUS = "vs previous round"
VS_ROUND0 = "vs round 0"


@dataclass(frozen=True)
class Comparisons:
    """One row per (round, kind): the old and new checkpoint the round is judged on."""

    frame: pd.DataFrame  # round_id, kind, old, new, position (round's index in start order), status

    @property
    def olds(self) -> tuple[str, ...]:
        return tuple(self.frame["old"])

    @property
    def news(self) -> tuple[str, ...]:
        return tuple(self.frame["new"])

    def of_kind(self, kind: str) -> pd.DataFrame:
        return self.frame[self.frame["kind"] == kind].reset_index(drop=True)


def comparisons(rounds: pd.DataFrame) -> Comparisons:
    """Pairs (parent's checkpoint -> round's checkpoint) and (round 0's -> round's) for every round."""
    rows = []
    has_ckpt = rounds.dropna(subset=["checkpoint_id"]).reset_index(drop=True)
    if has_ckpt.empty:
        return Comparisons(pd.DataFrame(columns=["round_id", "kind", "old", "new", "position", "status"]))
    by_round = dict(zip(has_ckpt["round_id"], has_ckpt["checkpoint_id"], strict=True))
    roots = has_ckpt[has_ckpt["parent_round_id"].isna()]
    root_ckpt = roots["checkpoint_id"].iloc[0] if len(roots) else has_ckpt["checkpoint_id"].iloc[0]
    for position, row in has_ckpt.iterrows():
        parent = row["parent_round_id"]
        new = row["checkpoint_id"]
        if isinstance(parent, str) and parent in by_round and by_round[parent] != new:
            rows.append((row["round_id"], VS_PREVIOUS, by_round[parent], new, position, row["status"]))
        if new != root_ckpt:
            rows.append((row["round_id"], VS_ROUND0, root_ckpt, new, position, row["status"]))
    return Comparisons(pd.DataFrame(rows, columns=["round_id", "kind", "old", "new", "position", "status"]))
