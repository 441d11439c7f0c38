"""Stage 1: train the reward model with TRL's RewardTrainer on every preference pair available so far.

TRL drops pairs longer than `max_length` without a word; we compare the pairs handed in with the pairs the
trainer kept (by `pair_id`) before training starts, report the count and the ids, and refuse to train when
nothing is left. Accuracy on held-out pairs (a deterministic split by pair id) is measured before and after
training, so a reward model that learned nothing shows it.

Also a script, for `accelerate launch`:
    accelerate launch -m rlhf.rounds.reward_stage --recipe R.yaml --pairs P.parquet --init M --output OUT \
        --round-id r1 [--store DIR]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.rounds.config import RoundConfig
from rlhf.rounds.errors import StageError
from rlhf.rounds.launch import stage_main
from rlhf.rounds.pairs import Pair, split_heldout

if TYPE_CHECKING:
    from rlhf.store import Store


@dataclass(frozen=True)
class RewardResult:
    model_dir: str
    init_model: str
    pairs_total: int
    pairs_train: int  # used for training (after drops)
    pairs_heldout: int  # used for held-out accuracy (after drops)
    pairs_dropped: int  # longer than max_length, train and held-out together
    dropped_ids: tuple[str, ...]
    max_length: int | None
    heldout_accuracy_before: float | None
    heldout_accuracy: float | None
    steps: int
    train_loss: float | None
    seconds: float
    world_size: int = 1  # training processes (2+ under `accelerate launch`)
    resumed_from_step: int = 0  # the step checkpoint a killed attempt left and this one continued from

    def detail(self) -> dict[str, Any]:
        out = asdict(self)
        out["dropped_ids"] = list(self.dropped_ids[:50])  # the store keeps the first 50; the count is exact
        return out


def _dataset(pairs: Sequence[Pair]):
    from datasets import Dataset

    return Dataset.from_list([p.trl_row() for p in pairs])


def _kept_ids(dataset) -> set[str]:
    return set(dataset["pair_id"]) if dataset is not None and len(dataset) else set()


def train_reward_model(
    config: RoundConfig,
    *,
    pairs: Sequence[Pair],
    init_model: str | Path,
    output_dir: Path,
    round_id: str,
    store: Store | None = None,
    work_dir: Path | None = None,
) -> RewardResult:
    """Train from `init_model` (a causal LM gets a fresh scalar head; a reward model continues) and save the
    reward model atomically to `output_dir`. A killed attempt's latest step checkpoint is resumed from."""
    from rlhf.rounds.training import stage_trainer

    started = time.perf_counter()
    if len(pairs) < 2:
        raise StageError(
            f"reward stage: {len(pairs)} preference pair(s); need at least 2 (seed pairs, "
            "<store>/preferences/*.jsonl, round.preference_files or earlier rounds)"
        )
    train_pairs, heldout_pairs = split_heldout(pairs, config.heldout_fraction, config.seed)
    run = stage_trainer(
        config,
        "reward",
        init_model=init_model,
        train_dataset=_dataset(train_pairs),
        eval_dataset=_dataset(heldout_pairs),
        output_dir=output_dir,
        work_dir=work_dir,
        round_id=round_id,
        store=store,
    )
    trainer, args = run.trainer, run.trainer.args
    # TRL filtered over-long pairs inside __init__; count them before any training.
    kept = _kept_ids(trainer.train_dataset) | _kept_ids(trainer.eval_dataset)
    dropped = tuple(p.pair_id for p in pairs if p.pair_id not in kept)
    n_train, n_heldout = len(trainer.train_dataset), len(trainer.eval_dataset)
    if n_train == 0:
        raise StageError(
            f"reward stage: all {len(train_pairs)} training pairs are longer than reward.max_length="
            f"{args.max_length} tokens and TRL would drop them; raise reward.max_length"
        )
    before = trainer.evaluate()["eval_accuracy"] if n_heldout else None
    output = run.train()
    after = trainer.evaluate()["eval_accuracy"] if n_heldout else None
    if before is not None and after is not None and store is not None and trainer.is_world_process_zero():
        store.append(
            "training_metrics",
            [
                {
                    "round_id": round_id,
                    "stage": "reward",
                    "step": 0,
                    "name": "heldout_accuracy_before",
                    "value": float(before),
                },
                {
                    "round_id": round_id,
                    "stage": "reward",
                    "step": int(trainer.state.global_step),
                    "name": "heldout_accuracy",
                    "value": float(after),
                },
            ],
            on_conflict="keep",
        )
    run.save(Path(output_dir), merge_lora=config.reward_finetune == "lora")
    return RewardResult(
        model_dir=str(output_dir),
        init_model=str(init_model),
        pairs_total=len(pairs),
        pairs_train=n_train,
        pairs_heldout=n_heldout,
        pairs_dropped=len(dropped),
        dropped_ids=dropped,
        max_length=args.max_length,
        heldout_accuracy_before=before,
        heldout_accuracy=after,
        steps=int(trainer.state.global_step),
        train_loss=run.train_loss(output),
        seconds=round(time.perf_counter() - started, 3),
        world_size=int(trainer.args.world_size),
        resumed_from_step=run.resumed_from_step,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for `accelerate launch -m rlhf.rounds.reward_stage`."""
    stage_main(
        train_reward_model,
        argv,
        description=__doc__.split("\n")[0],
        output_help="reward model directory to write",
    )


if __name__ == "__main__":
    main()


__all__ = ["RewardResult", "train_reward_model"]
