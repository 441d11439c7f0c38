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

import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from rlhf.rounds.config import RoundConfig
from rlhf.rounds.launch import stage_main
from rlhf.rounds.pairs import Pair, split_heldout


class StageError(RuntimeError):
    """A stage that cannot run with its inputs; the message says which input and what would work."""


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
    store: Any = None,
    work_dir: Path | None = None,
) -> RewardResult:
    """Train from `init_model` (a causal LM gets a fresh scalar head; a reward model continues) and save the
    reward model atomically to `output_dir`."""
    import torch
    from transformers import PrinterCallback
    from trl import RewardTrainer

    from rlhf.rounds.checkpoint import save_trainer_model
    from rlhf.rounds.loading import load_for_training
    from rlhf.rounds.metrics import StoreMetricsCallback
    from rlhf.rounds.trainer_args import build_trl_config, without_init_kwargs

    started = time.perf_counter()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    if len(pairs) < 2:
        raise StageError(f"reward stage: {len(pairs)} preference pair(s); need at least 2 (seed pairs, "
                         "<store>/preferences/*.jsonl, round.preference_files or earlier rounds)")
    train_pairs, heldout_pairs = split_heldout(pairs, config.heldout_fraction, config.seed)
    work_dir = Path(work_dir or output_dir.parent / f".{output_dir.name}.work")
    args = build_trl_config("RewardConfig", without_init_kwargs(config.reward), output_dir=work_dir, seed=config.seed)
    callback = StoreMetricsCallback(store, round_id=round_id, stage="reward")
    model, tokenizer = load_for_training(init_model, "reward", config.reward.get("model_init_kwargs"))
    trainer = RewardTrainer(
        model=model,
        processing_class=tokenizer,
        args=args,
        train_dataset=_dataset(train_pairs),
        eval_dataset=_dataset(heldout_pairs),
        callbacks=[callback],
        peft_config=_peft_config(config),
    )
    trainer.remove_callback(PrinterCallback)
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
    output = trainer.train()
    after = trainer.evaluate()["eval_accuracy"] if n_heldout else None
    if after is not None and store is not None and trainer.is_world_process_zero():
        store.append(
            "training_metrics",
            [{"round_id": round_id, "stage": "reward", "step": 0, "name": "heldout_accuracy_before",
              "value": float(before)},
             {"round_id": round_id, "stage": "reward", "step": int(trainer.state.global_step),
              "name": "heldout_accuracy", "value": float(after)}],
            on_conflict="keep",
        )
    save_trainer_model(trainer, Path(output_dir), merge_lora=config.reward_finetune == "lora")
    if trainer.is_world_process_zero():
        shutil.rmtree(work_dir, ignore_errors=True)
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
        train_loss=float(output.training_loss) if output.training_loss is not None else None,
        seconds=round(time.perf_counter() - started, 3),
        world_size=int(trainer.args.world_size),
    )


def _peft_config(config: RoundConfig):
    if config.reward_finetune != "lora":
        return None
    # SEQ_CLS keeps the fresh scalar head ("score") trainable in full next to the adapters.
    return config.lora.peft_config("SEQ_CLS")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for `accelerate launch -m rlhf.rounds.reward_stage`."""
    stage_main(train_reward_model, argv, description=__doc__.split("\n")[0], output_help="reward model directory to write")


if __name__ == "__main__":
    main()


__all__ = ["RewardResult", "StageError", "train_reward_model"]
