"""benchmarks/gpu_check.py keeps working where no GPU is lent: its --smoke mode runs every check on this CPU
with a tiny model (the sampler against plain generate, one reward and one DPO step, vLLM skipped when absent),
and without a GPU and without --smoke it refuses with exit 2 instead of measuring a CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow  # trains two tiny models one step each and compiles nothing: about 40 s on a shared CPU
def test_gpu_check_smoke_runs_every_check(tmp_path):
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())
    by_check: dict[str, list[dict]] = {}
    for row in rows:
        by_check.setdefault(row["check"], []).append(row)
    assert [r["batch"] for r in by_check["sampler"]] == [2, 4]
    assert all(r["tokens_per_s"] > 0 and r["generate_tokens_per_s"] > 0 for r in by_check["sampler"])
    for stage in ("reward", "dpo"):
        assert by_check[stage][0]["status"] == "ok" and by_check[stage][0]["train_loss"] > 0
    assert by_check["vllm"][0]["status"] in ("ok", "skipped")
    assert by_check["summary"][0]["failed"] == []


def test_gpu_check_without_a_gpu_exits_2():
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the refusal is for machines without one")
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "no CUDA device" in proc.stderr
