"""A round's and its stages' status, as append-only `round_events` (folded by the `rounds` and
`round_stages` views).

`run_stage` is the whole resume rule: a stage whose latest event is 'done' is not run again (its recorded
detail is returned); any other stage records 'running', runs, and records 'done' with its detail and
timings, or 'failed' with the error, and re-raises.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from typing import Any, Callable

from rlhf.revision import code_revision

# Tests set this to a crash point ('<stage>:done' right after a stage is recorded done, or a point inside a
# stage such as 'rejection:sampled'): the process SIGKILLs itself there, as a crash or an OOM kill would.
CRASH_ENV = "RLHF_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def record(
    store: Any,
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


def stage_status(store: Any, round_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """stage -> (latest status, its detail)."""
    frame = store.query("SELECT stage, status, detail FROM round_stages WHERE round_id = ?", [round_id])
    return {
        str(s): (str(st), json.loads(d) if isinstance(d, str) and d else {})
        for s, st, d in zip(frame["stage"], frame["status"], frame["detail"])
    }


def run_stage(
    store: Any,
    round_id: str,
    stage: str,
    fn: Callable[[], dict[str, Any]],
    *,
    echo: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    status, detail = stage_status(store, round_id).get(stage, ("", {}))
    if status in ("done", "skipped"):
        echo(f"  [{stage}] already {status} ({detail.get('seconds', '?')} s), not run again")
        return detail
    echo(f"  [{stage}] running" + (" (resuming after an interrupted attempt)" if status else ""))
    record(store, round_id, stage=stage, status="running", detail={"previous_status": status or None})
    started = time.perf_counter()
    try:
        detail = dict(fn())
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


def skip_stage(store: Any, round_id: str, stage: str, reason: str) -> None:
    if stage_status(store, round_id).get(stage, ("",))[0] != "skipped":
        record(store, round_id, stage=stage, status="skipped", detail={"reason": reason})


__all__ = ["CRASH_ENV", "crash_point", "record", "run_stage", "skip_stage", "stage_status"]
