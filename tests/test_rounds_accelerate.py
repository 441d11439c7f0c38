"""The training stages run under `accelerate launch` (here two CPU processes with gloo), the way a round
runs on many GPUs with recipes/accelerate/*.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from rlhf.rounds import config_from_dict, run_round
from rlhf.rounds.launch import _free_port
from rlhf.rounds.pairs import pair_from_record, write_pairs
from rounds_helpers import seed_store, tiny_recipe, write_recipe

REPO = Path(__file__).resolve().parent.parent
CPU_2PROC = REPO / "recipes" / "accelerate" / "cpu_2proc.yaml"


@pytest.mark.slow  # two processes each importing torch and TRL: about 30 s here
def test_dpo_stage_under_accelerate_launch_two_processes(tmp_path, tiny_lm_dir, tiny_rm_dir):
    pairs = [
        pair_from_record(
            {"prompt": f"What is {i} + 1?", "chosen": f"It is {i + 1}.", "rejected": "No."},
            where="test",
            source="test",
        )
        for i in range(16)
    ]
    pairs_file = write_pairs(pairs, tmp_path / "pairs.parquet")
    recipe = write_recipe(tmp_path / "r.yaml", tiny_recipe(tiny_lm_dir, tiny_rm_dir))
    out = tmp_path / "policy"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(CPU_2PROC),
            "--main_process_port",
            str(_free_port()),
            "-m",
            "rlhf.rounds.dpo_stage",
            "--recipe",
            str(recipe),
            "--pairs",
            str(pairs_file),
            "--init",
            str(tiny_lm_dir),
            "--output",
            str(out),
            "--round-id",
            "r-acc",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "policy.result.json").read_text())
    assert result["world_size"] == 2 and result["steps"] == 3 and result["pairs_used"] == 16
    before, after = (
        load_file(str(tiny_lm_dir / "model.safetensors")),
        load_file(str(out / "model.safetensors")),
    )
    assert any(not (before[k] == after[k]).all() for k in before)
    assert not list(tmp_path.glob(".policy.tmp-*"))  # the atomic save left nothing behind


@pytest.mark.slow  # a whole round whose reward and DPO stages each start two processes: about a minute
def test_round_with_accelerate_launcher(store, tiny_lm_dir, tiny_rm_dir):
    seed_store(store, long_pair=False)
    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir, launcher="accelerate", accelerate_config=str(CPU_2PROC))
    result = run_round(config_from_dict(recipe), store, echo=lambda _m: None)
    assert result.stages["reward"]["world_size"] == 2 and result.stages["dpo"]["world_size"] == 2
    metrics = store.query("SELECT DISTINCT stage FROM training_metrics")  # written by the main process only
    assert set(metrics["stage"]) == {"reward", "dpo"}
    assert store.query("SELECT count(*) AS n FROM judgments")["n"].iloc[0] > 0
