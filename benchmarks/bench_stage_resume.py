"""A DPO stage of the default recipe on the default model (SmolLM2-135M-Instruct), SIGKILLed in the middle
and rerun, against the baseline of before: a killed stage re-ran in full.

    nice -n 10 .venv/bin/python benchmarks/bench_stage_resume.py [--pairs 16] [--kill-after 4] \
        [--checkpoint-steps 2]

Three processes in turn, each `python -m rlhf.rounds.dpo_stage` with recipes/default.yaml (LoRA, batch 4,
max_steps 8, 2 threads) on the first `--pairs` seed preference pairs (the default recipe's 16 training prompts
give at most 16 rejection pairs):
  1. the stage without step checkpoints, uninterrupted: what a killed stage cost before (all of it again);
  2. the stage with step checkpoints, SIGKILLed from outside one second after its `step-<kill-after>`
     checkpoint appeared (so during the next step);
  3. the same command again: it resumes from that checkpoint.
Prints the steps each process trained, its wall time, the checkpoint's size, the largest parameter difference
between 1 and 3, and the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stage_cmd(recipe: Path, pairs: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rlhf.rounds.dpo_stage",
        "--recipe",
        str(recipe),
        "--pairs",
        str(pairs),
        "--init",
        "default",
        "--output",
        str(output),
        "--round-id",
        "bench",
    ]


def _run(cmd: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started, proc.returncode


def _run_and_kill(cmd: list[str], checkpoint: Path) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not checkpoint.is_dir():
        if proc.poll() is not None:
            sys.exit(
                f"the stage ended ({proc.returncode}) before {checkpoint} appeared:\n{proc.stderr.read()[-3000:]}"
            )
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return time.perf_counter() - started, proc.returncode


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _max_diff(a: Path, b: Path) -> float:
    from safetensors.torch import load_file

    x, y = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    return max(float((x[k] - y[k]).abs().max()) for k in x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument(
        "--kill-after", type=int, default=4, help="kill during the step after this checkpoint"
    )
    parser.add_argument("--checkpoint-steps", type=int, default=2)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="reuse step 1 from an earlier run's temporary directory (its a/ folder)",
    )
    ns = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-stage-resume-"))
    if ns.baseline:
        os.symlink(ns.baseline.resolve() / "a", tmp / "a")
    lines = (REPO / "data" / "seed_preferences.jsonl").read_text().splitlines()[: ns.pairs]
    pairs = tmp / "pairs.jsonl"
    pairs.write_text("\n".join(lines) + "\n")
    recipe = yaml.safe_load((REPO / "recipes" / "default.yaml").read_text())
    max_steps = int(recipe["dpo"]["max_steps"])
    plain, checkpointed = dict(recipe), dict(recipe)
    plain["round"] = {**recipe["round"], "checkpoint_steps": None}
    checkpointed["round"] = {**recipe["round"], "checkpoint_steps": ns.checkpoint_steps}
    (tmp / "plain.yaml").write_text(yaml.safe_dump(plain))
    (tmp / "ckpt.yaml").write_text(yaml.safe_dump(checkpointed))
    print(
        f"load average before: {_load()}; dpo max_steps {max_steps}, {ns.pairs} pairs, "
        f"checkpoint every {ns.checkpoint_steps} steps, kill after step {ns.kill_after}",
        flush=True,
    )

    if ns.baseline:
        full_s = float((tmp / "a" / "wall_s.txt").read_text())
    else:
        full_s, _ = _run(_stage_cmd(tmp / "plain.yaml", pairs, tmp / "a" / "policy"))
        (tmp / "a" / "wall_s.txt").write_text(f"{full_s:.1f}")
    full = json.loads((tmp / "a" / "policy.result.json").read_text())
    print(
        f"1. uninterrupted (the re-run of before){' (reused from ' + str(ns.baseline) + ')' if ns.baseline else ''}: "
        f"{full['steps']} steps, {full_s:.1f} s wall (stage {full['seconds']:.1f} s); load {_load()}",
        flush=True,
    )

    work = tmp / "b" / ".policy.work"
    cmd = _stage_cmd(tmp / "ckpt.yaml", pairs, tmp / "b" / "policy")
    killed_s, rc = _run_and_kill(cmd, work / f"step-{ns.kill_after}")
    kept = sorted(p.name for p in work.iterdir() if p.name.startswith("step-"))
    size = _size_mb(work / kept[-1]) if kept else 0.0
    print(
        f"2. SIGKILLed after {killed_s:.1f} s (exit {rc}); whole checkpoints left: {kept} ({size:.1f} MB); "
        f"load {_load()}",
        flush=True,
    )

    resumed_s, _ = _run(cmd)
    resumed = json.loads((tmp / "b" / "policy.result.json").read_text())
    redone = resumed["steps"] - resumed["resumed_from_step"]
    print(
        f"3. rerun: resumed from step {resumed['resumed_from_step']}, {redone} of {resumed['steps']} steps "
        f"redone, {resumed_s:.1f} s wall (stage {resumed['seconds']:.1f} s); load {_load()}",
        flush=True,
    )
    print(
        f"rerun after a kill: {resumed_s:.1f} s now vs {full_s:.1f} s before (x{full_s / resumed_s:.2f}); "
        f"steps redone {redone} vs {full['steps']}; max |param diff| resumed vs uninterrupted "
        f"{_max_diff(tmp / 'a' / 'policy', tmp / 'b' / 'policy'):.2e}",
        flush=True,
    )


if __name__ == "__main__":
    main()
