"""Decisions in the store, on both backends: two `rlhf gate` processes deciding the same round at once record
one decision and both report it; a store without decisions names its latest done policy as the champion."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rlhf.store import Store
from rounds_helpers import evaluated_round


@pytest.fixture(params=["directory", "ducklake"])
def location(request, tmp_path) -> str:
    if request.param == "directory":
        return str(tmp_path / "store")
    return request.getfixturevalue("postgres_server").lake_location(tmp_path / "shared")


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


def test_promoting_what_cannot_be_promoted_exits_2_and_records_nothing(tmp_path):
    from click.testing import CliRunner

    from rlhf.cli import main

    store = Store.open(tmp_path / "store")
    evaluated_round(store)  # checkpoint "new" lives at /nowhere/new: its files are gone
    unfinished = tmp_path / "p2"
    unfinished.mkdir()
    store.append(
        "checkpoints",
        [{"checkpoint_id": "p2", "kind": "policy", "path": str(unfinished), "round_id": "round-002"}],
    )
    store.append("round_events", [{"round_id": "round-002", "stage": "", "status": "failed"}])

    def promote(checkpoint: str):
        return CliRunner().invoke(
            main, ["--store", str(store.root), "promote", "--checkpoint", checkpoint, "--reason", "x"]
        )

    gone = promote("new")
    assert gone.exit_code == 2 and "checkpoint new: its files are gone (/nowhere/new)" in gone.output
    failed = promote("round-002")
    assert failed.exit_code == 2 and "its round round-002 is failed, not done" in failed.output
    assert store.count("decisions") == 0


def test_promoting_the_starting_policy_back_is_a_manual_decision_without_a_round(tmp_path, tiny_lm_dir):
    """After a bad promotion a person may hand the title back to the starting policy (a registered base
    checkpoint, which has no round): recorded with round_id NULL, the champion moves, and a reject of it hands
    the title back again; a base checkpoint whose files are gone is refused with exit 2, nothing recorded."""
    from click.testing import CliRunner

    from rlhf.cli import main
    from rlhf.rounds.checkpoint import register_base

    store = Store.open(tmp_path / "store")
    base = register_base(store, str(tiny_lm_dir)).checkpoint_id
    evaluated_round(store, old=base)  # round-001's policy "new" against the starting policy

    def cli(*args: str):
        return CliRunner().invoke(main, ["--store", str(store.root), *args])

    assert json.loads(cli("gate", "--round", "round-001", "--json").output)["decision"] == "promote"
    back = cli("promote", "--checkpoint", base, "--reason", "round-001 regressed in production", "--json")
    assert back.exit_code == 0, back.output
    record = json.loads(back.output)
    assert record["round_id"] is None and record["checkpoint_id"] == base and record["champion_id"] == "new"
    assert record["manual"] is True and record["decision_id"].startswith("manual:")
    champion = json.loads(cli("champion", "--json").output)
    assert champion["checkpoint_id"] == base
    assert [(e["checkpoint_id"], e.get("round_id")) for e in champion["lineage"]] == [
        (base, None),
        ("new", "round-001"),
        (base, None),
    ]
    text = cli("reject", "--checkpoint", base, "--reason", "the fix is in")
    assert text.exit_code == 0 and text.output.startswith("-: REJECT by ")
    assert json.loads(cli("champion", "--json").output)["checkpoint_id"] == "new"
    rows = store.query("SELECT decision_id, round_id, decision FROM decisions ORDER BY created_at")
    assert rows["decision"].tolist() == ["promote", "promote", "reject"]
    assert rows["round_id"].isna().tolist() == [False, True, True]

    store.append("checkpoints", [{"checkpoint_id": "base-gone", "kind": "policy", "path": "/nowhere/base"}])
    gone = cli("promote", "--checkpoint", "base-gone", "--reason", "x")
    assert gone.exit_code == 2 and "checkpoint base-gone: its files are gone (/nowhere/base)" in gone.output
    assert store.count("decisions") == 3


def test_round_status_and_the_demo_show_decisions_and_the_champion(tmp_path):
    from click.testing import CliRunner

    from rlhf.cli import main
    from rlhf.commands.demo_cmd import _decisions
    from rlhf.rounds.decisions import gate_round

    store = Store.open(tmp_path / "store")
    evaluated_round(store, "round-001", old="base", new="p1", day=1)
    gate_round(store, "round-001")
    evaluated_round(store, "round-002", old="p1", new="p2", n=10, wins=5, day=2)
    gate_round(store, "round-002")
    status = CliRunner().invoke(main, ["--store", str(store.root), "round", "status"])
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[1].startswith("round-001") and lines[1].endswith(
        "promote: interval 75.0%-91.7% lies above 45.0% (non-inferiority)"
    )
    assert lines[2].endswith("hold: 10 scored prompts, fewer than 20")
    assert lines[3].startswith("champion: p1 (promoted by the gate on ")
    rows = json.loads(
        CliRunner().invoke(main, ["--store", str(store.root), "round", "status", "--json"]).output
    )
    assert [r["decision"] for r in rows] == ["promote", "hold"]
    shown = _decisions(store).splitlines()
    assert shown[0] == "Decisions (the gate, docs/rounds.md):"
    assert shown[1].startswith("  round-001: PROMOTE p1 vs champion base: interval 75.0%-91.7%")
    assert shown[2] == "  round-002: HOLD p2 vs champion p1: 10 scored prompts, fewer than 20"
    assert shown[3].startswith("Champion: p1 (promoted by the gate on ")
