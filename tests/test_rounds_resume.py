"""A round killed mid-stage (SIGKILL, as an OOM kill would) resumes at the unfinished stage: finished stages
are not run again and the answers already stored are reused; `rlhf round status` shows where it stands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from rlhf.rounds.events import CRASH_ENV
from rlhf.store import Store
from rounds_helpers import seed_store, tiny_recipe, write_recipe


def _cli(store_dir, *args, env=None):
    """`rlhf` in a subprocess: the only way to SIGKILL it mid-stage."""
    return subprocess.run(
        [sys.executable, "-m", "rlhf.cli", "--store", str(store_dir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _cli_here(store_dir, *args):
    """`rlhf` in this process (no second torch/TRL import)."""
    from click.testing import CliRunner

    from rlhf.cli import main

    return CliRunner().invoke(main, ["--store", str(store_dir), *args], catch_exceptions=False)


def test_killed_round_resumes_at_unfinished_stage(tmp_path, tiny_lm_dir, tiny_rm_dir):
    store_dir = tmp_path / "store"
    seed_store(Store.open(store_dir))
    recipe = write_recipe(tmp_path / "round.yaml", tiny_recipe(tiny_lm_dir, tiny_rm_dir))

    crashed = _cli(store_dir, "round", "run", "--config", str(recipe), env={CRASH_ENV: "rejection:sampled"})
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    store = Store.open(store_dir)
    stages = dict(store.query("SELECT stage, status FROM round_stages WHERE round_id = 'round-001'").values)
    assert stages == {"reward": "done", "rejection": "running"}
    answers = store.query("SELECT count(*) AS n FROM generations")["n"].iloc[0]
    assert answers == 6 * 3  # the answers were committed before the kill

    status = _cli_here(store_dir, "round", "status")
    assert status.exit_code == 0 and "round-001" in status.output and "running" in status.output

    resumed = _cli_here(store_dir, "round", "run", "--config", str(recipe), "--json")
    # held (exit 3): no judge passed canaries (the store has no reference prompts to build them from)
    assert resumed.exit_code == 3, resumed.output[-3000:]
    # --json: the stage log went to stderr and stdout is the decision record, strict JSON (no NaN)
    decided = json.loads(resumed.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert decided["decision"] == "hold" and decided["round_id"] == "round-001"
    assert "round round-001 (resuming)" in resumed.output
    assert "[reward] already done" in resumed.output
    store = Store.open(store_dir)
    events = store.query(
        "SELECT stage, status, detail FROM round_events WHERE round_id = 'round-001' "
        "AND stage <> '' ORDER BY event_at"
    )
    runs = events[events["status"] == "running"]["stage"].value_counts().to_dict()
    assert runs == {"reward": 1, "rejection": 2, "dpo": 1, "checkpoint": 1, "evaluate": 1}
    rejection = json.loads(
        events[(events["stage"] == "rejection") & (events["status"] == "done")]["detail"].iloc[0]
    )
    assert rejection["reused"] == 18 and rejection["generated"] == 0
    assert store.query("SELECT status FROM rounds")["status"].tolist() == ["done"]

    final = _cli_here(store_dir, "round", "status", "--json")
    rows = json.loads(final.output)
    assert rows[0]["status"] == "done" and set(rows[0]["stages"].values()) == {"done"}


def test_cli_bad_recipe_exits_2_naming_key(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("dpo: {betta: 0.1}\njudges: [{kind: reference}]\n")
    result = _cli_here(tmp_path / "store", "round", "run", "--config", str(recipe))
    assert result.exit_code == 2
    assert f"{recipe}: dpo.betta: not a field of trl.DPOConfig" in result.output
