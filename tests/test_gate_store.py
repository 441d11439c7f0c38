"""Decisions in the store, on both backends: two `rlhf gate` processes deciding the same round at once record
one decision and both report it; a store without decisions names its latest done policy as the champion."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from rlhf.rounds import config_from_dict
from rlhf.store import Store


@pytest.fixture(params=["directory", "ducklake"])
def location(request, tmp_path) -> str:
    if request.param == "directory":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgres_server").lake_location(tmp_path / "shared")


def evaluated_round(store: Store, round_id: str = "round-001", *, n: int = 30, wins: int = 20) -> None:
    """A round recorded by hand up to its evaluation (no decision): judge `ref` (canaries passed) prefers the
    new policy on `wins` of `n` prompts, ties on the rest."""
    config = config_from_dict({"judges": [{"kind": "reference", "name": "ref", "primary": True}]})
    t0 = datetime(2026, 1, 1, 12, 0, 0)
    detail = {
        "model_a": "old",
        "model_b": "new",
        "judges": {"ref": {"judge": "ref", "judge_version": "ref-v1"}},
        "primary_judge": "ref",
    }
    store.append(
        "checkpoints",
        [
            {"checkpoint_id": "old", "kind": "policy", "path": "/nowhere/old"},
            {"checkpoint_id": "new", "kind": "policy", "path": "/nowhere/new", "round_id": round_id},
        ],
    )
    store.append(
        "round_events",
        [
            {
                "round_id": round_id,
                "stage": "",
                "status": "running",
                "config": config.to_json(),
                "event_at": t0,
            },
            {
                "round_id": round_id,
                "stage": "evaluate",
                "status": "done",
                "detail": detail,
                "event_at": t0 + timedelta(seconds=1),
            },
            {"round_id": round_id, "stage": "", "status": "done", "event_at": t0 + timedelta(seconds=2)},
        ],
    )
    store.append(
        "judgments",
        [
            {
                "judge": "ref",
                "judge_version": "ref-v1",
                "prompt_id": f"p{i:02d}",
                "model_a": "old",
                "model_b": "new",
                "order": order,
                "preference": 1.0 if i < wins else 0.5,
                "round_id": round_id,
                "category": "math",
            }
            for i in range(n)
            for order in ("ab", "ba")
        ],
    )
    store.append(
        "judge_canaries",
        [
            {
                "judge": "ref",
                "judge_version": "ref-v1",
                "canary_set": "c1",
                "n": 30,
                "accuracy": 1.0,
                "informative": True,
            }
        ],
    )


@pytest.mark.slow  # two CLI processes per backend: 30-60 s on a loaded 2-core machine
def test_two_concurrent_gates_record_one_decision(location):
    store = Store.open(location)
    evaluated_round(store)
    # before any decision the champion is the latest done policy, and said so
    from rlhf.rounds.decisions import champion

    first = champion(store)
    assert first is not None and first.checkpoint_id == "new" and "no decision recorded" in first.source

    cmd = [sys.executable, "-m", "rlhf.cli", "--store", location, "gate", "--round", "round-001", "--json"]
    jobs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [job.communicate(timeout=240) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], outputs
    records = [json.loads(out) for out, _ in outputs]
    assert records[0] == records[1]  # both report the one recorded decision (same time, same everything)
    assert records[0]["decision"] == "promote" and records[0]["decision_id"] == "gate:round-001"
    headline = records[0]["statistics"]["headline"]
    assert headline["n"] == 30 and headline["win_rate"] == pytest.approx((20 + 0.5 * 10) / 30)
    assert Store.open(location).count("decisions") == 1
    assert champion(Store.open(location)).checkpoint_id == "new"
