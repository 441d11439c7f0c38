"""A training stage killed mid-way resumes from its latest whole step checkpoint and ends where an
uninterrupted run ends (same parameters for a fixed seed), redoing only the steps after that checkpoint.
A checkpoint torn mid-save is never resumed from; old checkpoints are pruned."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from rlhf.rounds import config_from_dict
from rlhf.rounds.events import CRASH_ENV
from rlhf.rounds.pairs import pair_from_record, write_pairs
from rlhf.rounds.step_checkpoints import (
    complete_checkpoints,
    fingerprint,
    latest_checkpoint,
    prepare_work_dir,
    prune,
)
from rlhf.store import Store
from rounds_helpers import tiny_recipe, write_recipe

MAX_STEPS = 10  # 14 pairs at batch 4: 4 steps an epoch, so the resumes below land mid-epoch and cross epochs


def _pairs():
    return [
        pair_from_record(
            {"prompt": f"What is {i} + 1?", "chosen": f"It is {i + 1}.", "rejected": "No."},
            where="test",
            source="test",
        )
        for i in range(14)
    ]


def _recipe(lm_dir: Path, rm_dir: Path, **round_keys) -> dict:
    if "checkpoint_steps" in round_keys:  # the same for both stages here
        round_keys.setdefault("reward_checkpoint_steps", round_keys["checkpoint_steps"])
    recipe = tiny_recipe(lm_dir, rm_dir, **round_keys)
    recipe["dpo"] = {**recipe["dpo"], "max_steps": MAX_STEPS}
    recipe["reward"] = {**recipe["reward"], "max_steps": MAX_STEPS}
    return recipe


def _stage(stage: str) -> tuple[str, str]:
    return (
        ("rlhf.rounds.dpo_stage", "policy")
        if stage == "dpo"
        else ("rlhf.rounds.reward_stage", "reward_model")
    )


def _run_stage(tmp: Path, stage: str, recipe: Path, init: Path, store_dir: Path, crash_at: str | None = None):
    """The stage as its own process (`python -m rlhf.rounds.<stage>_stage`), SIGKILLed at `crash_at`."""
    module, out = _stage(stage)
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            "--recipe",
            str(recipe),
            "--pairs",
            str(tmp / "pairs.parquet"),
            "--init",
            str(init),
            "--output",
            str(tmp / "round" / out),
            "--round-id",
            "r1",
            "--store",
            str(store_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _weights(path: Path) -> dict:
    return load_file(str(path / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert sorted(a) == sorted(b)
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def _logged_steps(store_dir: Path, stage: str) -> list[int]:
    rows = Store.open(store_dir).query(
        "SELECT DISTINCT step FROM training_metrics WHERE stage = ? AND name = 'loss' ORDER BY step", [stage]
    )
    return [int(s) for s in rows["step"]]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_lm_dir, tiny_rm_dir):
    """stage -> (weights, result) of a run without a crash and without step checkpoints."""
    out = {}
    for stage, init in (("dpo", tiny_lm_dir), ("reward", tiny_rm_dir)):
        tmp = tmp_path_factory.mktemp(f"plain-{stage}")
        write_pairs(_pairs(), tmp / "pairs.parquet")
        recipe = write_recipe(tmp / "r.yaml", _recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=None))
        done = _run_stage(tmp, stage, recipe, init, tmp / "store")
        assert done.returncode == 0, done.stderr[-3000:]
        _, name = _stage(stage)
        out[stage] = (
            _weights(tmp / "round" / name),
            json.loads((tmp / "round" / f"{name}.result.json").read_text()),
        )
        assert _logged_steps(tmp / "store", stage) == list(range(1, MAX_STEPS + 1))
    return out


@pytest.mark.slow  # three training processes (kill, resume) per stage: about 30 s each here
@pytest.mark.parametrize("stage", ["dpo", "reward"])
def test_killed_stage_resumes_from_latest_checkpoint(
    tmp_path, tiny_lm_dir, tiny_rm_dir, uninterrupted, stage
):
    init = tiny_lm_dir if stage == "dpo" else tiny_rm_dir
    write_pairs(_pairs(), tmp_path / "pairs.parquet")
    recipe = write_recipe(
        tmp_path / "r.yaml", _recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=2, checkpoints_kept=2)
    )
    _, name = _stage(stage)
    work = tmp_path / "round" / f".{name}.work"

    killed = _run_stage(tmp_path, stage, recipe, init, tmp_path / "store-killed", crash_at=f"{stage}:step-7")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert [s for s, _ in complete_checkpoints(work)] == [4, 6]  # saved at 2, 4, 6; the oldest pruned
    assert not (tmp_path / "round" / name).exists()

    resumed = _run_stage(tmp_path, stage, recipe, init, tmp_path / "store-resumed")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads((tmp_path / "round" / f"{name}.result.json").read_text())
    assert result["resumed_from_step"] == 6 and result["steps"] == MAX_STEPS
    # the resumed process logged (so ran) only steps 7..10; the killed one had logged 1..6
    assert _logged_steps(tmp_path / "store-resumed", stage) == [7, 8, 9, 10]
    assert _logged_steps(tmp_path / "store-killed", stage) == [1, 2, 3, 4, 5, 6]
    weights, plain = uninterrupted[stage]
    assert _max_diff(_weights(tmp_path / "round" / name), weights) <= 1e-6
    assert result["train_loss"] == pytest.approx(plain["train_loss"], abs=1e-3)  # logged losses are rounded
    assert not work.exists()  # the work directory goes once the model is saved


@pytest.mark.slow  # two training processes: about 25 s here
def test_checkpoint_torn_mid_save_is_not_resumed_from(tmp_path, tiny_lm_dir, tiny_rm_dir, uninterrupted):
    write_pairs(_pairs(), tmp_path / "pairs.parquet")
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=3))
    work = tmp_path / "round" / ".policy.work"

    # killed after transformers wrote checkpoint-6 but before it became whole (step-6)
    killed = _run_stage(
        tmp_path, "dpo", recipe, tiny_lm_dir, tmp_path / "store", crash_at="dpo:checkpoint-6-written"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (work / "checkpoint-6" / "trainer_state.json").exists()
    assert [s for s, _ in complete_checkpoints(work)] == [3]  # keep 1 (the default)
    (work / "checkpoint-6" / "optimizer.pt").write_bytes(b"torn")  # as a crash mid-write would leave it

    resumed = _run_stage(tmp_path, "dpo", recipe, tiny_lm_dir, tmp_path / "store-resumed")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads((tmp_path / "round" / "policy.result.json").read_text())
    assert result["resumed_from_step"] == 3 and result["steps"] == MAX_STEPS
    assert _logged_steps(tmp_path / "store-resumed", "dpo") == [4, 5, 6, 7, 8, 9, 10]
    assert not (work / "checkpoint-6").exists() and not work.exists()
    assert _max_diff(_weights(tmp_path / "round" / "policy"), uninterrupted["dpo"][0]) <= 1e-6


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fake_checkpoint(work: Path, name: str, step: int | None) -> Path:
    path = work / name
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"x")
    if step is not None:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_work_dir_keeps_only_whole_checkpoints_of_the_same_run(tmp_path):
    work = tmp_path / ".policy.work"
    run = fingerprint({"stage": "dpo", "keys": {"max_steps": 10}})
    prepare_work_dir(work, run)
    for step in (2, 4, 6):
        _fake_checkpoint(work, f"step-{step}", step)
    _fake_checkpoint(work, "step-8", None)  # no trainer state: not whole
    _fake_checkpoint(work, "step-9", 7)  # trainer state of another step
    _fake_checkpoint(work, "checkpoint-10", 10)  # transformers' in-place name: never trusted
    assert latest_checkpoint(work) == work / "step-6"

    removed = prepare_work_dir(work, run)
    assert sorted(p.name for p in removed) == ["checkpoint-10", "step-8", "step-9"]
    assert [s for s, _ in complete_checkpoints(work)] == [2, 4, 6]
    assert [p.name for p in prune(work, 1)] == ["step-2", "step-4"]
    assert latest_checkpoint(work) == work / "step-6"

    other = fingerprint({"stage": "dpo", "keys": {"max_steps": 20}})  # the recipe changed since the crash
    prepare_work_dir(work, other)
    assert (
        latest_checkpoint(work) is None
        and json.loads((work / "run.json").read_text())["fingerprint"] == other
    )


def test_checkpoint_keys_are_the_rounds(tiny_lm_dir, tiny_rm_dir):
    from rlhf.rounds.config import ConfigError

    config = config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir))
    assert (
        config.checkpoint_steps == 50
        and config.reward_checkpoint_steps == 50
        and config.checkpoints_kept == 1
    )
    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir)
    recipe["dpo"]["save_steps"] = 5
    with pytest.raises(
        ConfigError, match=re.escape("dpo.save_steps: step checkpoints are set by round.checkpoint_steps")
    ):
        config_from_dict(recipe)
    with pytest.raises(ConfigError, match=re.escape("round.checkpoints_kept: must be >= 1")):
        config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir, checkpoints_kept=0))
    with pytest.raises(ConfigError, match=re.escape("round.checkpoint_steps: must be >= 1 or null")):
        config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=0))
    with pytest.raises(ConfigError, match=re.escape("round.reward_checkpoint_steps: must be >= 1 or null")):
        config_from_dict(tiny_recipe(tiny_lm_dir, tiny_rm_dir, reward_checkpoint_steps=-1))


@pytest.mark.slow  # a round killed in its DPO stage and rerun, through the CLI: about a minute here
def test_round_killed_in_dpo_resumes_from_step_checkpoint(tmp_path, tiny_lm_dir, tiny_rm_dir):
    from rounds_helpers import seed_store

    store_dir = tmp_path / "store"
    seed_store(Store.open(store_dir))
    recipe = write_recipe(tmp_path / "round.yaml", tiny_recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=1))

    def cli(crash_at: str | None = None):
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "rlhf.cli",
                "--store",
                str(store_dir),
                "round",
                "run",
                "--config",
                str(recipe),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    crashed = cli("dpo:step-2")  # after DPO's 2nd optimizer step, before its checkpoint
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    work = store_dir / "rounds" / "round-001" / ".policy.work"
    assert [s for s, _ in complete_checkpoints(work)] == [1]

    resumed = cli()
    # The round finishes and is gated: its tiny judges pass no canaries, so it is held (exit 3, docs/rounds.md).
    assert resumed.returncode == 3, resumed.stderr[-3000:]
    assert "HOLD" in resumed.stdout
    assert "[reward] already done" in resumed.stdout and "[rejection] already done" in resumed.stdout
    store = Store.open(store_dir)
    dpo = store.query("SELECT detail FROM round_stages WHERE round_id = 'round-001' AND stage = 'dpo'")
    detail = json.loads(dpo["detail"].iloc[0])
    assert detail["resumed_from_step"] == 1 and detail["steps"] == 3
    runs = store.query(
        "SELECT stage, count(*) AS n FROM round_events WHERE round_id = 'round-001' "
        "AND status = 'running' AND stage IN ('reward', 'dpo') GROUP BY stage"
    )
    assert dict(zip(runs["stage"], runs["n"])) == {"reward": 1, "dpo": 2}
    assert (
        not work.exists() and (store_dir / "rounds" / "round-001" / "policy" / "model.safetensors").exists()
    )


@pytest.mark.slow  # two `accelerate launch` runs of two processes each: about a minute here
def test_killed_stage_resumes_under_accelerate_launch(tmp_path, tiny_lm_dir, tiny_rm_dir):
    write_pairs(_pairs(), tmp_path / "pairs.parquet")
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tiny_lm_dir, tiny_rm_dir, checkpoint_steps=2))
    config = Path(__file__).resolve().parent.parent / "recipes" / "accelerate" / "cpu_2proc.yaml"

    def launch(crash_at: str | None = None):
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "accelerate.commands.launch",
                "--config_file",
                str(config),
                "--main_process_port",
                str(_free_port()),
                "-m",
                "rlhf.rounds.dpo_stage",
                "--recipe",
                str(recipe),
                "--pairs",
                str(tmp_path / "pairs.parquet"),
                "--init",
                str(tiny_lm_dir),
                "--output",
                str(tmp_path / "round" / "policy"),
                "--round-id",
                "r1",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    killed = launch("dpo:step-5")  # every process SIGKILLs itself after step 5
    assert killed.returncode != 0
    work = tmp_path / "round" / ".policy.work"
    assert [s for s, _ in complete_checkpoints(work)] == [4]
    assert sorted(p.name for p in (work / "step-4").glob("rng_state_*.pth")) == [
        "rng_state_0.pth",
        "rng_state_1.pth",
    ]

    resumed = launch()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads((tmp_path / "round" / "policy.result.json").read_text())
    assert result["world_size"] == 2 and result["resumed_from_step"] == 4 and result["steps"] == MAX_STEPS
