"""Stage 3: DPO on the rejection-sampled pairs, from the previous round's policy, with TRL's DPOTrainer.

Full fine-tuning or LoRA (`round.finetune`); a LoRA adapter is merged into the saved checkpoint so every
checkpoint is an ordinary model directory the sampler, the judges and the next round load the same way.
With LoRA the reference model is the base with adapters disabled (no second copy in memory). Loss, reward
margins and accuracies are written to `training_metrics` at every logged step.

TRL drops pairs whose prompt alone fills `max_length` (nothing would be left to learn from); we count and
name them like the reward stage does.

Also a script, for `accelerate launch`:
    accelerate launch -m rlhf.rounds.dpo_stage --recipe R.yaml --pairs P.parquet --init M --output OUT \
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
from rlhf.rounds.pairs import Pair

if TYPE_CHECKING:
    from rlhf.store import Store


@dataclass(frozen=True)
class DPOResult:
    model_dir: str
    init_model: str
    finetune: str
    pairs_total: int
    pairs_used: int
    pairs_dropped: int
    dropped_ids: tuple[str, ...]
    steps: int
    train_loss: float | None
    final_margin: float | None  # rewards/margins at the last logged step
    final_accuracy: float | None  # rewards/accuracies at the last logged step
    seconds: float
    world_size: int = 1  # training processes (2+ under `accelerate launch`)
    resumed_from_step: int = 0  # the step checkpoint a killed attempt left and this one continued from

    def detail(self) -> dict[str, Any]:
        out = asdict(self)
        out["dropped_ids"] = list(self.dropped_ids[:50])
        return out


def _last(rows: list[dict[str, Any]], name: str) -> float | None:
    values = [r["value"] for r in rows if r["name"] == name]
    return values[-1] if values else None


def train_dpo(
    config: RoundConfig,
    *,
    pairs: Sequence[Pair],
    init_model: str | Path,
    output_dir: Path,
    round_id: str,
    store: Store | None = None,
    work_dir: Path | None = None,
) -> DPOResult:
    """Train the policy from `init_model` on `pairs` and save it (merged) atomically to `output_dir`. A killed
    attempt's latest step checkpoint is resumed from."""
    from datasets import Dataset

    from rlhf.rounds.training import stage_trainer

    started = time.perf_counter()
    if not pairs:
        raise StageError(
            "dpo stage: no preference pairs from rejection sampling (every prompt's answers scored "
            "alike, or round.min_reward_gap is too high); raise round.k or lower min_reward_gap"
        )
    run = stage_trainer(
        config,
        "dpo",
        init_model=init_model,
        train_dataset=Dataset.from_list([p.trl_row() for p in pairs]),
        output_dir=output_dir,
        work_dir=work_dir,
        round_id=round_id,
        store=store,
    )
    trainer, args, callback = run.trainer, run.trainer.args, run.metrics
    kept = set(trainer.train_dataset["pair_id"])
    dropped = tuple(p.pair_id for p in pairs if p.pair_id not in kept)
    if not kept:
        raise StageError(
            f"dpo stage: every pair's prompt is longer than dpo.max_length={args.max_length}; raise it"
        )
    output = run.train()
    run.save(Path(output_dir), merge_lora=config.finetune == "lora")
    return DPOResult(
        model_dir=str(output_dir),
        init_model=str(init_model),
        finetune=config.finetune,
        pairs_total=len(pairs),
        pairs_used=len(kept),
        pairs_dropped=len(dropped),
        dropped_ids=dropped,
        steps=int(trainer.state.global_step),
        train_loss=run.train_loss(output),
        final_margin=_last(callback.rows, "rewards/margins"),
        final_accuracy=_last(callback.rows, "rewards/accuracies"),
        seconds=round(time.perf_counter() - started, 3),
        world_size=int(trainer.args.world_size),
        resumed_from_step=run.resumed_from_step,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for `accelerate launch -m rlhf.rounds.dpo_stage`."""
    stage_main(train_dpo, argv, description=__doc__.split("\n")[0], output_help="policy directory to write")


if __name__ == "__main__":
    main()


__all__ = ["DPOResult", "train_dpo"]
