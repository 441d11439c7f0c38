"""Planning a round: which round (a new one, or the unfinished one to resume), its parent policy, its
directory and the reward model it may start from, all read from what the store recorded.

A new round starts from the champion (`rlhf.rounds.decisions.champion`: the latest promoted policy, the
recipe's starting policy before any promotion) and is evaluated against it, so a rejected or held round's
policy is never built on.

Planning writes nothing except, before the very first round, the starting policy's `checkpoints` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.rounds import checkpoint as ckpt
from rlhf.rounds.config import RoundConfig
from rlhf.rounds.decisions import champion
from rlhf.rounds.errors import StageError
from rlhf.store.queries import checkpoints as checkpoint_queries
from rlhf.store.queries import rounds as round_queries

if TYPE_CHECKING:
    from rlhf.store import Store

__all__ = ["RoundPlan", "earlier_rejection_pairs", "plan_round", "resumable_add"]


@dataclass(frozen=True)
class RoundPlan:
    round_id: str
    parent_round_id: str | None
    round_dir: Path
    parent_policy_id: str  # the champion: the policy this round starts from (and is evaluated against)
    parent_policy_path: str
    base_policy: str  # the first round's policy (recipe's round.policy), resolved to a path
    previous_reward_model: ckpt.Checkpoint | None
    resumed: bool

    @property
    def reward_dir(self) -> Path:
        return self.round_dir / "reward_model"

    @property
    def policy_dir(self) -> Path:
        return self.round_dir / "policy"

    @property
    def rejection_pairs(self) -> Path:
        return self.round_dir / "rejection_pairs.parquet"

    def detail(self, store: Store) -> dict[str, Any]:
        return {
            "round_dir": store.stored_path(self.round_dir),  # "./rounds/..." inside the store: it can move
            "parent_checkpoint_id": self.parent_policy_id,
            "base_policy": self.base_policy,
        }


def plan_round(config: RoundConfig, store: Store, *, new: bool = False) -> RoundPlan:
    """Decide the round id (resume the latest unfinished round unless `new`), its parent and directory."""
    from rlhf.models import resolve_model_path

    rounds = round_queries.round_rows(store)
    round_id, resumed = None, False
    if config.round_id is not None:
        round_id = config.round_id
        resumed = bool((rounds["round_id"] == round_id).any())
        if resumed and rounds.loc[rounds["round_id"] == round_id, "status"].iloc[-1] == "done":
            raise StageError(
                f"round {round_id} is already done; remove round.round_id to start the next round"
            )
    elif not new and not rounds.empty and rounds["status"].iloc[-1] != "done":
        round_id, resumed = str(rounds["round_id"].iloc[-1]), True
    if round_id is None:
        round_id = _next_round_id(set(rounds["round_id"]))
    base_policy = str(resolve_model_path(config.policy))
    if resumed:
        recorded = round_queries.round_start_detail(store, round_id)
        parent = ckpt.lookup(store, recorded.get("parent_checkpoint_id", ""))
        if parent is None:
            raise StageError(
                f"round {round_id}: its parent checkpoint {recorded.get('parent_checkpoint_id')!r} "
                "is not in the store; start a new round (rlhf round run --new)"
            )
        recorded_dir = recorded.get("round_dir")
        round_dir = (
            Path(store.local_path(recorded_dir)) if recorded_dir else _round_dir(config, store, round_id)
        )
        base_policy = recorded.get("base_policy", base_policy)
    else:
        current = champion(store)
        parent = ckpt.lookup(store, current.checkpoint_id) if current else None
        if parent is None:
            parent = ckpt.register_base(store, config.policy)
        round_dir = _round_dir(config, store, round_id)
    reward_model_id = checkpoint_queries.latest_reward_model_id(store, exclude_round=round_id)
    return RoundPlan(
        round_id=round_id,
        parent_round_id=parent.round_id,
        round_dir=round_dir,
        parent_policy_id=parent.checkpoint_id,
        parent_policy_path=str(parent.path),
        base_policy=base_policy,
        previous_reward_model=ckpt.lookup(store, reward_model_id) if reward_model_id else None,
        resumed=resumed,
    )


def resumable_add(store: Store, path: Path) -> bool:
    """Whether the latest round is an unfinished `rlhf round add` of this same checkpoint directory."""
    rounds = round_queries.round_rows(store)
    if rounds.empty or rounds["status"].iloc[-1] == "done":
        return False
    return round_queries.round_start_detail(store, rounds["round_id"].iloc[-1]).get(
        "added_checkpoint"
    ) == str(path)


def earlier_rejection_pairs(store: Store, *, exclude_round: str) -> list[Path]:
    """The pairs files of every earlier round's finished rejection stage, oldest first."""
    details = round_queries.done_stage_details(store, "rejection", exclude_round=exclude_round)
    return [Path(store.local_path(d["pairs_path"])) for d in details if "pairs_path" in d]


def _next_round_id(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"round-{n:03d}" in taken:
        n += 1
    return f"round-{n:03d}"


def _round_dir(config: RoundConfig, store: Store, round_id: str) -> Path:
    root = Path(config.output_dir) if config.output_dir else Path(store.root) / "rounds"
    return (root / round_id).resolve()
