"""The OpenAI-compatible backend against the real stub server running as a subprocess on localhost."""

from __future__ import annotations

import httpx
import pandas as pd

from openai_stub_server import running_stub
from rlhf.openai_client import ChatError
from rlhf.sampler import SamplerConfig, sample
from rlhf.sampler.openai_backend import OpenAIBackend


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"prompt_id": [f"q{i}" for i in range(n)], "text": [f"question {i}?" for i in range(n)]}
    )


def _config(url: str, **kw) -> SamplerConfig:
    return SamplerConfig(
        backend="openai", base_url=url, max_new_tokens=12, max_concurrency=4, timeout_s=10, **kw
    )


def test_openai_backend_writes_the_same_records_and_survives_a_429(store, tmp_path):
    with running_stub(
        "--fail-first",
        "1",
        "--fail-status",
        "429",
        rules=[{"contains": "question 0?", "reply": "zero is the answer"}],
        tmp_dir=str(tmp_path),
    ) as url:
        result = sample(
            store,
            "served-policy",
            prompts=_frame(6),
            config=_config(url, samples_per_prompt=2, temperature=0.7, seed=5),
        )
        stats = httpx.get(url.replace("/v1", "/stats")).json()
    assert (result.requested, result.generated, result.failed) == (12, 12, 0)
    assert stats["failed_on_purpose"] == 1 and stats["chat_requests"] == 13  # one 429, retried
    rows = store.query("SELECT * FROM generations ORDER BY prompt_id, sample_index")
    assert set(rows["backend"]) == {"openai"} and set(rows["checkpoint_id"]) == {"served-policy"}
    assert list(rows.loc[rows["prompt_id"] == "q0", "text"]) == ["zero is the answer"] * 2
    assert (rows["completion_tokens"] > 0).all() and (rows["prompt_tokens"] > 0).all()
    assert set(rows["finish_reason"]) <= {"stop", "length"} and (rows["latency_s"] > 0).all()
    # the stub's pseudo answers depend on the per-request seed: the two samples of a prompt differ
    other = rows[rows["prompt_id"] == "q3"]["text"].tolist()
    assert other[0] != other[1]
    ckpt = store.query("SELECT * FROM checkpoints").iloc[0]
    assert ckpt["checkpoint_id"] == "served-policy" and ckpt["kind"] == "policy"


def test_failed_requests_are_not_stored_and_a_rerun_retries_only_them(store, tmp_path):
    rules = [{"contains": "question 2?", "status": 500}]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        result = sample(store, "m", prompts=_frame(4), config=_config(url, max_retries=0))
    assert (result.generated, result.failed) == (3, 1) and "q2#0" in result.errors[0]
    assert "500" in result.errors[0]
    with running_stub() as url:
        again = sample(store, "m", prompts=_frame(4), config=_config(url))
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == 1
    assert (again.reused, again.generated, again.failed) == (3, 1, 0)
    assert store.count("generations") == 4


def test_a_prompt_the_server_calls_too_long_is_recorded_as_skipped():
    backend = OpenAIBackend("m", SamplerConfig(backend="openai", base_url="http://127.0.0.1:9/v1"))
    too_long = ChatError("HTTP 400: This model's maximum context length is 2048 tokens", 400, 1, 0.01)
    out = backend._output(too_long)
    assert (
        out.finish_reason == "skipped"
        and "maximum context length" in out.skipped_reason
        and out.error is None
    )
    other = backend._output(ChatError("HTTP 400: bad request", 400, 1, 0.01))
    assert other.error and other.finish_reason is None
    backend.close()
