"""Step checkpoints of a training stage that are whole or ignored, so a killed stage resumes mid-way.

transformers writes `checkpoint-N` in place, file by file (weights, optimizer, scheduler, RNG states, trainer
state), so a crash mid-save leaves a directory that looks like a checkpoint but is not one. We never resume
from that name: once the trainer has written it (every process, then `on_save`), the main process fsyncs it
and renames it to `step-N` in one `rename`. Only `step-N` directories are candidates, newest first, and each
must still hold a `trainer_state.json` for step N. Older ones beyond `keep` are deleted; leftover
`checkpoint-N` directories (torn saves) are deleted before training starts.

A checkpoint is only reused by the same run: the work directory holds `run.json` with a fingerprint of
everything that decides the result (stage, TRL keys, init model, seed, fine-tuning, pairs). If the recipe or
the data changed since the crash, the old checkpoints are dropped and training starts from step 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from rlhf.durable import fsync_dir, fsync_tree
from rlhf.rounds.events import crash_point

_FINAL = re.compile(r"^step-(\d+)$")
_TORN = re.compile(r"^checkpoint-(\d+)$")  # transformers' own name: written in place, never trusted
FINGERPRINT_FILE = "run.json"


def fingerprint(parts: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `parts` (what decides a training run's result)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _step_of(path: Path) -> int | None:
    """N for a whole `step-N` checkpoint, else None (wrong name, or no readable trainer state for step N)."""
    match = _FINAL.match(path.name)
    if not match or not path.is_dir():
        return None
    try:
        state = json.loads((path / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return None
    step = int(match.group(1))
    return step if state.get("global_step") == step else None


def complete_checkpoints(work_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of the whole checkpoints in `work_dir`, oldest first."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return []
    found = [(step, p) for p in work_dir.iterdir() if (step := _step_of(p)) is not None]
    return sorted(found)


def latest_checkpoint(work_dir: Path) -> Path | None:
    """The newest whole checkpoint to resume from, or None."""
    found = complete_checkpoints(work_dir)
    return found[-1][1] if found else None


def prune(work_dir: Path, keep: int) -> list[Path]:
    """Delete whole checkpoints beyond the newest `keep`; returns what was deleted."""
    old = [p for _, p in complete_checkpoints(work_dir)[:-keep]] if keep > 0 else []
    for p in old:
        _remove(p)
    return old


def prepare_work_dir(work_dir: Path, run_fingerprint: str) -> list[Path]:
    """Make `work_dir` hold only whole checkpoints of this same run; returns what was removed.

    Torn `checkpoint-N` saves go; so does everything when `run.json` names another run (or is missing
    while checkpoints are present).
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    removed = []
    marker = work_dir / FINGERPRINT_FILE
    try:
        recorded = json.loads(marker.read_text()).get("fingerprint")
    except (OSError, ValueError):
        recorded = None
    for p in work_dir.iterdir():
        if p.name == FINGERPRINT_FILE:
            continue
        if _TORN.match(p.name) or recorded != run_fingerprint or _step_of(p) is None:
            _remove(p)
            removed.append(p)
    if recorded != run_fingerprint:
        tmp = marker.with_name(f".{marker.name}.tmp")
        tmp.write_text(json.dumps({"fingerprint": run_fingerprint}))
        os.replace(tmp, marker)
        fsync_dir(work_dir)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class AtomicCheckpoints(TrainerCallback):
    """Turns each `checkpoint-N` transformers has finished into a whole `step-N`, and prunes old ones.

    Every process runs `on_save` (each writes its own RNG state file), so the rename waits for all of them.
    The last step saves no checkpoint: the stage saves the trained model itself right after.
    """

    def __init__(self, work_dir: Path, *, keep: int, stage: str) -> None:
        self._work_dir = Path(work_dir)
        self._keep = keep
        self._stage = stage

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_save = False
        crash_point(f"{self._stage}:step-{state.global_step}")  # tests: a kill right after an optimizer step
        return control

    def on_save(self, args, state, control, **kwargs):
        from accelerate import PartialState

        process = PartialState()
        process.wait_for_everyone()
        step = int(state.global_step)
        crash_point(f"{self._stage}:checkpoint-{step}-written")  # tests: killed before the rename
        if process.is_main_process:
            written = self._work_dir / f"checkpoint-{step}"
            final = self._work_dir / f"step-{step}"
            fsync_tree(written)
            _remove(final)  # only after a resume from an older step: the new save of this step replaces it
            os.rename(written, final)
            fsync_dir(self._work_dir)
            prune(self._work_dir, self._keep)
        process.wait_for_everyone()
        return control


__all__ = [
    "FINGERPRINT_FILE",
    "AtomicCheckpoints",
    "complete_checkpoints",
    "fingerprint",
    "latest_checkpoint",
    "prepare_work_dir",
    "prune",
]
