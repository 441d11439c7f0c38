"""What the reward and DPO stages share: one TRL trainer set up the same way, trained from the latest whole
step checkpoint if a killed attempt left one, and its model saved atomically.

A stage says which trainer (`reward` or `dpo`), its model and its data; the rest is common: torch threads,
TRL's config from the recipe section (our defaults under it, `trainer_args.py`), step checkpoints every
`round.checkpoint_steps` (`round.reward_checkpoint_steps`) into the stage's work directory inside the round directory
(`<round>/.<output>.work/step-N`, see `step_checkpoints.py`), the model loaded for training
(`loading.py`), training metrics into the store, no console printer. The stage keeps what is its own:
counting the pairs TRL dropped, held-out accuracy, its result.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rlhf.rounds.config import RoundConfig

if TYPE_CHECKING:
    from rlhf.store import Store

Stage = Literal["reward", "dpo"]


@dataclass(frozen=True)
class _Kind:
    trainer: str  # trl.<trainer>
    args: str  # trl.<args>, built from the recipe section named like the stage
    model: Literal["policy", "reward"]  # how loading.load_for_training builds it
    peft_task: (
        str  # SEQ_CLS keeps the reward model's fresh scalar head trainable in full next to the adapters
    )


_KINDS: dict[str, _Kind] = {
    "reward": _Kind("RewardTrainer", "RewardConfig", "reward", "SEQ_CLS"),
    "dpo": _Kind("DPOTrainer", "DPOConfig", "policy", "CAUSAL_LM"),
}


def finetune_of(config: RoundConfig, stage: Stage) -> str:
    """'lora' or 'full' for the stage's model."""
    return config.reward_finetune if stage == "reward" else config.finetune


def checkpoint_steps_of(config: RoundConfig, stage: Stage) -> int | None:
    """Steps between the stage's step checkpoints, None = none."""
    return config.reward_checkpoint_steps if stage == "reward" else config.checkpoint_steps


@dataclass
class StageTrainer:
    """A TRL trainer ready to train, with where it checkpoints and where it resumes from."""

    stage: Stage
    trainer: Any
    metrics: Any  # rlhf.rounds.metrics.StoreMetricsCallback: every logged number, also kept in .rows
    work_dir: Path
    resume_from: Path | None  # the whole step checkpoint training continues from, None = step 0

    @property
    def resumed_from_step(self) -> int:
        return int(self.resume_from.name.split("-")[1]) if self.resume_from is not None else 0

    def train(self) -> Any:
        """`trainer.train()`, from `resume_from` when set (model, optimizer, scheduler, RNG and data order)."""
        return self.trainer.train(resume_from_checkpoint=str(self.resume_from) if self.resume_from else None)

    def train_loss(self, output: Any) -> float | None:
        """Mean training loss over every step, also after a resume (TRL's `training_loss` covers only the
        steps this attempt ran): the losses logged up to the checkpoint, kept in the restored log history,
        weighted by their steps, with this attempt's mean. Logged losses are rounded, so a resumed value can
        differ from an uninterrupted one in the 4th decimal."""
        if output.training_loss is None:
            return None
        done, steps = self.resumed_from_step, int(self.trainer.state.global_step)
        if not done:
            return float(output.training_loss)
        total, counted = 0.0, 0
        for entry in self.trainer.state.log_history:
            if "loss" in entry and counted < entry["step"] <= done:
                total += float(entry["loss"]) * (entry["step"] - counted)
                counted = int(entry["step"])
        run_steps = steps - done
        return (total + float(output.training_loss) * run_steps) / max(counted + run_steps, 1)

    def save(self, output_dir: Path, *, merge_lora: bool) -> Path:
        """Save the trained model atomically to `output_dir` (every process calls it), then drop the work
        directory with its step checkpoints."""
        from rlhf.rounds.checkpoint import save_trainer_model

        saved = save_trainer_model(self.trainer, Path(output_dir), merge_lora=merge_lora)
        if self.trainer.is_world_process_zero():
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return saved


def stage_trainer(
    config: RoundConfig,
    stage: Stage,
    *,
    init_model: str | Path,
    train_dataset: Any,
    eval_dataset: Any = None,
    output_dir: Path,
    work_dir: Path | None,
    round_id: str,
    store: Store | None,
) -> StageTrainer:
    """Build the stage's trainer on `train_dataset` (and `eval_dataset`) from `init_model`.

    The datasets, the recipe section, the init model and the seed make the run's fingerprint, so step
    checkpoints of another run (a changed recipe or new pairs) are never resumed from.
    """
    import torch
    import trl
    from accelerate import PartialState
    from transformers import PrinterCallback, set_seed

    from rlhf.rounds.loading import load_for_training
    from rlhf.rounds.metrics import StoreMetricsCallback
    from rlhf.rounds.step_checkpoints import (
        AtomicCheckpoints,
        fingerprint,
        latest_checkpoint,
        prepare_work_dir,
    )
    from rlhf.rounds.trainer_args import build_trl_config, without_init_kwargs

    kind = _KINDS[stage]
    keys = getattr(config, stage)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    work_dir = Path(work_dir or Path(output_dir).parent / f".{Path(output_dir).name}.work")
    every = checkpoint_steps_of(config, stage)
    saving = {"save_strategy": "steps", "save_steps": every} if every else {"save_strategy": "no"}
    args = build_trl_config(
        kind.args,
        without_init_kwargs(keys),
        output_dir=work_dir,
        seed=config.seed,
        save_total_limit=None,
        **saving,
    )
    run = fingerprint(
        {
            "stage": stage,
            "keys": dict(keys),
            "init_model": str(init_model),
            "seed": config.seed,
            "world_size": args.world_size,  # another process count would split the batches differently
            "finetune": finetune_of(config, stage),
            "lora": asdict(config.lora),
            "train": train_dataset.to_list(),
            "eval": eval_dataset.to_list() if eval_dataset is not None else None,
        }
    )
    process = PartialState()
    if process.is_main_process:
        prepare_work_dir(work_dir, run)
    process.wait_for_everyone()
    metrics = StoreMetricsCallback(store, round_id=round_id, stage=stage)
    callbacks: list[Any] = [metrics]
    if every:
        callbacks.append(AtomicCheckpoints(work_dir, keep=config.checkpoints_kept, stage=stage))
    # Seeded here, not only by the Trainer (which seeds in its own __init__, after the model exists): a reward
    # model's new score head is drawn from the global generator when it is loaded, and torch seeds that at
    # random in every process, so two runs of one recipe trained different reward models (and policies).
    set_seed(config.seed)
    model, tokenizer = load_for_training(init_model, kind.model, keys.get("model_init_kwargs"))
    peft = config.lora.peft_config(kind.peft_task) if finetune_of(config, stage) == "lora" else None
    extra = {"eval_dataset": eval_dataset} if eval_dataset is not None else {}
    trainer = getattr(trl, kind.trainer)(
        model=model,
        processing_class=tokenizer,
        args=args,
        train_dataset=train_dataset,
        callbacks=callbacks,
        peft_config=peft,
        **extra,
    )
    trainer.remove_callback(PrinterCallback)
    return StageTrainer(
        stage=stage,
        trainer=trainer,
        metrics=metrics,
        work_dir=work_dir,
        resume_from=latest_checkpoint(work_dir),
    )


__all__ = ["Stage", "StageTrainer", "checkpoint_steps_of", "finetune_of", "stage_trainer"]
