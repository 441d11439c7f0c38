"""Checkpoints that are either whole or absent, and their records in the store.

A model is written into a temporary directory beside its final place, every file and the directory are
fsync'ed, and one `rename` puts it in place. A crash leaves at most a `.name.tmp-*` directory, never a
half-written checkpoint that a later round would load. Each checkpoint gets a row in `checkpoints` with its
content hash (`rlhf.models.content_hash`), parent, config and code revision.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.durable import fsync_dir, fsync_tree
from rlhf.revision import code_revision
from rlhf.store.queries.checkpoints import checkpoint_row, first_policy_with_hash

if TYPE_CHECKING:
    from rlhf.store import Store


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: str
    kind: str  # 'policy' | 'reward_model'
    path: Path
    content_hash: str
    round_id: str | None
    parent_checkpoint_id: str | None
    base_model: str | None


def save_atomically(write: Callable[[Path], None], final_dir: Path) -> Path:
    """Run `write(tmp_dir)` and rename the result to `final_dir`; an existing `final_dir` is replaced whole."""
    final_dir = Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = final_dir.parent / f".{final_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write(tmp)
        fsync_tree(tmp)
        if final_dir.exists():  # a finished earlier attempt: move it aside, then drop it after the swap
            old = final_dir.parent / f".{final_dir.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(final_dir, old)
            os.rename(tmp, final_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final_dir)
        fsync_dir(final_dir.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final_dir


def save_model(model: Any, tokenizer: Any, final_dir: Path) -> Path:
    """`save_pretrained` of model and tokenizer, atomically."""

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)

    return save_atomically(write, final_dir)


def save_trainer_model(trainer: Any, final_dir: Path, *, merge_lora: bool) -> Path:
    """Save a trainer's model atomically; works in-process and under `accelerate launch`.

    Every process must call it (`trainer.save_model` gathers sharded weights collectively); only the main
    process writes files and renames. With `merge_lora`, the LoRA adapter is merged into the base weights so
    the checkpoint is an ordinary model directory.
    """
    final_dir = Path(final_dir)
    accelerator = trainer.accelerator
    staging = final_dir.parent / f".{final_dir.name}.tmp-staging"
    if accelerator.is_main_process:
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    if merge_lora:
        if accelerator.is_main_process:
            merged = accelerator.unwrap_model(trainer.model).merge_and_unload()
            merged.save_pretrained(staging, safe_serialization=True)
    else:
        trainer.save_model(str(staging))
    if accelerator.is_main_process:
        trainer.processing_class.save_pretrained(staging)
        for junk in ("training_args.bin", "README.md"):
            (staging / junk).unlink(missing_ok=True)
        save_atomically(lambda tmp: _move_contents(staging, tmp), final_dir)
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final_dir


def _move_contents(src: Path, dst: Path) -> None:
    for item in src.iterdir():
        os.rename(item, dst / item.name)


def clean_partial(parent: Path) -> list[Path]:
    """Remove temporary directories a crashed save left under `parent`; returns what was removed."""
    removed = []
    if Path(parent).is_dir():
        for p in Path(parent).iterdir():
            if p.name.startswith(".") and (".tmp-" in p.name or ".old-" in p.name) and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def base_checkpoint_id(name_or_path: str, resolved: Path | str, content_hash: str) -> str:
    """The id the sampler would give the same directory: 'default', else '<dir name>-<hash12>'."""
    if str(name_or_path) == "default":
        return "default"
    return f"{Path(str(resolved)).name}-{content_hash[:12]}"


def register(
    store: Store,
    *,
    checkpoint_id: str,
    kind: str,
    path: str | Path,
    round_id: str | None,
    parent_checkpoint_id: str | None,
    base_model: str | None,
    config: dict[str, Any] | str | None,
) -> Checkpoint:
    """Hash the directory and append its `checkpoints` row (idempotent: same id and content add nothing)."""
    from rlhf.models import content_hash, resolve_model_path

    resolved = resolve_model_path(path)
    digest = content_hash(resolved)
    config_json = config if isinstance(config, str) or config is None else json.dumps(config, sort_keys=True)
    existing = checkpoint_row(store, checkpoint_id)
    if existing is None:
        store.append(
            "checkpoints",
            [
                {
                    "checkpoint_id": checkpoint_id,
                    "round_id": round_id,
                    "kind": kind,
                    "path": store.stored_path(resolved) if isinstance(resolved, Path) else str(resolved),
                    "content_hash": digest,
                    "parent_checkpoint_id": parent_checkpoint_id,
                    "base_model": base_model,
                    "config": config_json,
                    "code_revision": code_revision(),
                }
            ],
            source="rlhf round",
        )
    elif existing["content_hash"] != digest:
        raise ValueError(
            f"checkpoint {checkpoint_id} is already registered with content hash "
            f"{str(existing['content_hash'])[:12]} but {resolved} hashes to {digest[:12]}; "
            "a checkpoint's files changed after it was recorded"
        )
    return Checkpoint(
        checkpoint_id=checkpoint_id,
        kind=kind,
        path=Path(resolved) if isinstance(resolved, Path) else Path(str(resolved)),
        content_hash=digest,
        round_id=round_id,
        parent_checkpoint_id=parent_checkpoint_id,
        base_model=base_model,
    )


def register_base(store: Store, name_or_path: str) -> Checkpoint:
    """The starting policy of the first round, recorded like any checkpoint (kind 'policy', no round).

    A directory already registered (by content hash, e.g. by `rlhf sample`) keeps its id, so answers the
    sampler stored for it are reused.
    """
    from rlhf.models import content_hash, resolve_model_path

    resolved = resolve_model_path(name_or_path)
    digest = content_hash(resolved)
    same = first_policy_with_hash(store, digest)
    if same is not None:
        found = lookup(store, same)
        assert found is not None
        return found
    return register(
        store,
        checkpoint_id=base_checkpoint_id(str(name_or_path), resolved, digest),
        kind="policy",
        path=resolved,
        round_id=None,
        parent_checkpoint_id=None,
        base_model=str(name_or_path),
        config=None,
    )


def lookup(store: Store, checkpoint_id: str) -> Checkpoint | None:
    r = checkpoint_row(store, checkpoint_id)
    if r is None:
        return None
    return Checkpoint(
        checkpoint_id=r["checkpoint_id"],
        kind=r["kind"],
        path=Path(r["path"]) if r["path"] else Path(),
        content_hash=r["content_hash"],
        round_id=r["round_id"],
        parent_checkpoint_id=r["parent_checkpoint_id"],
        base_model=r["base_model"],
    )


__all__ = [
    "Checkpoint",
    "base_checkpoint_id",
    "clean_partial",
    "lookup",
    "register",
    "register_base",
    "save_atomically",
    "save_model",
    "save_trainer_model",
]
