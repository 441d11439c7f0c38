"""A round's and its stages' status, as append-only `round_events` (folded by the `rounds` and
`round_stages` views).

`run_stage` is the whole resume rule: a stage whose latest event is 'done' is not run again (its recorded
detail is returned); any other stage records 'running', runs, and records 'done' with its detail and
timings, or 'failed' with the error, and re-raises. A training stage names its output directory (`saved`):
its result is saved as `<output>.result.json` once the model finished saving (models are saved atomically),
so a rerun after an interruption between saving and recording 'done' reads that instead of training again.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.revision import code_revision
from rlhf.store.queries.rounds import stage_rows

if TYPE_CHECKING:
    from rlhf.store import Store

Detail = dict[str, Any]

# Tests set this to a crash point ('<stage>:done' right after a stage is recorded done, or a point inside a
# stage such as 'rejection:sampled'): the process SIGKILLs itself there, as a crash or an OOM kill would.
CRASH_ENV = "RLHF_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def record(
    store: Store,
    round_id: str,
    *,
    stage: str,
    status: str,
    detail: dict[str, Any] | None = None,
    parent_round_id: str | None = None,
    config_json: str | None = None,
    seed: int | None = None,
) -> None:
    store.append(
        "round_events",
        [
            {
                "round_id": round_id,
                "parent_round_id": parent_round_id,
                "stage": stage,
                "status": status,
                "config": config_json,
                "code_revision": code_revision(),
                "seed": seed,
                "detail": json.dumps(detail or {}, sort_keys=True, default=str),
            }
        ],
    )


def stage_status(store: Store, round_id: str) -> dict[str, tuple[str, Detail]]:
    """stage -> (latest status, its detail)."""
    return {stage: (status, detail) for stage, status, detail in stage_rows(store, round_id)}


def run_stage(
    store: Store,
    round_id: str,
    stage: str,
    fn: Callable[[], Detail],
    *,
    echo: Callable[[str], None] = lambda _msg: None,
    saved: Path | None = None,
    then: Callable[[Detail], Detail] | None = None,
) -> Detail:
    """Run `fn` as the round's `stage` unless it is recorded done; see the module docstring.

    ``saved``: the stage's output directory; `fn`'s detail is kept in ``<saved>.result.json`` and reused
    when the directory and that file exist. ``then``: runs on the (fresh or reused) detail every time,
    e.g. to register the saved model as a checkpoint.
    """
    status, detail = stage_status(store, round_id).get(stage, ("", {}))
    if status in ("done", "skipped"):
        echo(f"  [{stage}] already {status} ({detail.get('seconds', '?')} s), not run again")
        return detail
    echo(f"  [{stage}] running" + (" (resuming after an interrupted attempt)" if status else ""))
    record(store, round_id, stage=stage, status="running", detail={"previous_status": status or None})
    started = time.perf_counter()
    try:
        detail = _reuse_or_run(fn, saved, stage=stage, echo=echo)
        if then is not None:
            detail = dict(then(detail))
    except BaseException as exc:
        record(
            store,
            round_id,
            stage=stage,
            status="failed",
            detail={
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        echo(f"  [{stage}] failed after {time.perf_counter() - started:.1f} s: {type(exc).__name__}: {exc}")
        raise
    detail["seconds"] = round(time.perf_counter() - started, 3)
    record(store, round_id, stage=stage, status="done", detail=detail)
    echo(f"  [{stage}] done in {detail['seconds']:.1f} s")
    crash_point(f"{stage}:done")
    return detail


def _reuse_or_run(
    fn: Callable[[], Detail], saved: Path | None, *, stage: str, echo: Callable[[str], None]
) -> Detail:
    if saved is None:
        return dict(fn())
    result_file = saved.with_suffix(".result.json")
    if saved.is_dir() and result_file.exists():  # trained and saved before an interruption
        echo(f"  [{stage}] {saved.name} finished saving before an interruption: not trained again")
        return dict(json.loads(result_file.read_text()))
    detail = dict(fn())
    tmp = result_file.with_name(f".{result_file.name}.tmp")
    tmp.write_text(json.dumps(detail, sort_keys=True, default=str))
    os.replace(tmp, result_file)
    return detail


def skip_stage(store: Store, round_id: str, stage: str, reason: str) -> None:
    if stage_status(store, round_id).get(stage, ("",))[0] != "skipped":
        record(store, round_id, stage=stage, status="skipped", detail={"reason": reason})


__all__ = ["CRASH_ENV", "crash_point", "record", "run_stage", "skip_stage", "stage_status"]
