"""A real `rlhf sample` process killed with SIGKILL mid-run; the rerun generates only what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from rlhf.sampler import SamplerConfig, sample
from rlhf.sampler.transformers_backend import TransformersBackend


@pytest.mark.slow
def test_sigkilled_run_resumes_without_redoing_committed_chunks(tmp_path, tiny_lm_dir):
    from rlhf.store import Store

    n = 160
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        "".join(
            json.dumps({"prompt_id": f"k{i:03d}", "text": f"Question number {i}?"}) + "\n" for i in range(n)
        )
    )
    store_dir = tmp_path / "store"
    args = ["--max-new-tokens", "8", "--batch-size", "2", "--chunk-size", "4"]
    cmd = [
        sys.executable,
        "-m",
        "rlhf.cli",
        "--store",
        str(store_dir),
        "sample",
        "--checkpoint",
        str(tiny_lm_dir),
        "--prompts",
        str(prompts),
        "--threads",
        "1",
        "--no-progress",
        *args,
    ]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    store = Store.open(store_dir)
    deadline = time.monotonic() + 120
    try:
        while store.count("generations") < 8:
            assert proc.poll() is None, f"sampler exited early: {proc.stderr.read().decode()[-800:]}"
            assert time.monotonic() < deadline, "no chunk committed within 120 s"
            time.sleep(0.05)
        proc.kill()  # SIGKILL, by our own child's pid
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    committed = store.count("generations")
    assert 8 <= committed < n, committed
    assert committed % 4 == 0  # whole chunks only: nothing half-written

    backends: list[TransformersBackend] = []

    def factory(resolved, config):
        backends.append(TransformersBackend.load(resolved.path, config))
        return backends[-1]

    config = SamplerConfig(max_new_tokens=8, batch_size=64, chunk_size=200)
    result = sample(store, str(tiny_lm_dir), prompts=str(prompts), config=config, backend=factory)
    assert result.reused == committed and result.generated == n - committed
    assert backends[0].model_calls == -(-(n - committed) // 64)
    counts = store.query("SELECT count(*) AS rows, count(DISTINCT prompt_id) AS prompts FROM generations")
    assert counts["rows"].iloc[0] == n and counts["prompts"].iloc[0] == n
