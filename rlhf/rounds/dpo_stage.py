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

import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from rlhf.rounds.config import RoundConfig
from rlhf.rounds.launch import stage_main
from rlhf.rounds.pairs import Pair
from rlhf.rounds.reward_stage import StageError


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

    def detail(self) -> dict[str, Any]:
        out = asdict(self)
        out["dropped_ids"] = list(self.dropped_ids[:50])
        return out


def _peft_config(config: RoundConfig):
    if config.finetune != "lora":
        return None
    return config.lora.peft_config("CAUSAL_LM")


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
    store: Any = None,
    work_dir: Path | None = None,
) -> DPOResult:
    """Train the policy from `init_model` on `pairs` and save it (merged) atomically to `output_dir`."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import DPOTrainer

    from rlhf.rounds.checkpoint import save_trainer_model
    from rlhf.rounds.loading import load_for_training
    from rlhf.rounds.metrics import StoreMetricsCallback
    from rlhf.rounds.trainer_args import build_trl_config, without_init_kwargs

    started = time.perf_counter()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    if not pairs:
        raise StageError("dpo stage: no preference pairs from rejection sampling (every prompt's answers scored "
                         "alike, or round.min_reward_gap is too high); raise round.k or lower min_reward_gap")
    work_dir = Path(work_dir or output_dir.parent / f".{output_dir.name}.work")
    args = build_trl_config("DPOConfig", without_init_kwargs(config.dpo), output_dir=work_dir, seed=config.seed)
    callback = StoreMetricsCallback(store, round_id=round_id, stage="dpo")
    model, tokenizer = load_for_training(init_model, "policy", config.dpo.get("model_init_kwargs"))
    trainer = DPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=args,
        train_dataset=Dataset.from_list([p.trl_row() for p in pairs]),
        callbacks=[callback],
        peft_config=_peft_config(config),
    )
    trainer.remove_callback(PrinterCallback)
    kept = set(trainer.train_dataset["pair_id"])
    dropped = tuple(p.pair_id for p in pairs if p.pair_id not in kept)
    if not kept:
        raise StageError(f"dpo stage: every pair's prompt is longer than dpo.max_length={args.max_length}; raise it")
    output = trainer.train()
    save_trainer_model(trainer, Path(output_dir), merge_lora=config.finetune == "lora")
    if trainer.is_world_process_zero():
        shutil.rmtree(work_dir, ignore_errors=True)
    return DPOResult(
        model_dir=str(output_dir),
        init_model=str(init_model),
        finetune=config.finetune,
        pairs_total=len(pairs),
        pairs_used=len(kept),
        pairs_dropped=len(dropped),
        dropped_ids=dropped,
        steps=int(trainer.state.global_step),
        train_loss=float(output.training_loss) if output.training_loss is not None else None,
        final_margin=_last(callback.rows, "rewards/margins"),
        final_accuracy=_last(callback.rows, "rewards/accuracies"),
        seconds=round(time.perf_counter() - started, 3),
        world_size=int(trainer.args.world_size),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for `accelerate launch -m rlhf.rounds.dpo_stage`."""
    stage_main(train_dpo, argv, description=__doc__.split("\n")[0], output_help="policy directory to write")


if __name__ == "__main__":
    main()


__all__ = ["DPOResult", "train_dpo"]
