"""The shared OpenAI-compatible client against a real stub server process on localhost."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from openai_stub_server import free_port, running_stub
from rlhf.openai_client import ChatError, ChatResult, OpenAIClient, OpenAIClientError


def _req(text: str, **kw) -> dict:
    return {"messages": [{"role": "user", "content": text}], "max_tokens": 16, **kw}


def test_results_in_input_order_with_logprobs_and_ledger(tmp_path):
    rules = [{"contains": f"q{i}", "reply": f"answer {i}"} for i in range(6)]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        client = OpenAIClient(
            url, "stub-model", max_concurrency=3, prompt_price_per_mtok=1.0, completion_price_per_mtok=2.0
        )
        out = client.chat_many([_req(f"q{i}", logprobs=True, top_logprobs=3) for i in range(6)])
        assert [r.text for r in out] == [f"answer {i}" for i in range(6)]
        first = out[0]
        assert isinstance(first, ChatResult)
        assert first.tokens == ["answer", " 0"]
        assert len(first.logprobs) == 2 and first.logprobs[0]["answer"] == pytest.approx(-0.05)
        assert len(first.logprobs[0]) == 3
        assert first.finish_reason == "stop" and first.completion_tokens == 2 and first.prompt_tokens == 1
        ledger = client.ledger.as_dict()
        assert ledger["requests"] == 6 and ledger["succeeded"] == 6 and ledger["retries"] == 0
        assert ledger["prompt_tokens"] == 6 and ledger["completion_tokens"] == 12
        assert ledger["cost_usd"] == pytest.approx((6 * 1.0 + 12 * 2.0) / 1e6)
        # without logprobs asked: None, not an empty list
        plain = client.chat(_req("q1"))
        assert plain.logprobs is None and plain.tokens is None


def test_retry_on_429_then_success():
    with running_stub("--fail-first", "2", "--fail-status", "429") as url:
        client = OpenAIClient(url, "stub-model", max_retries=4, backoff_s=0.01)
        (result,) = client.chat_many([_req("hello")])
        assert isinstance(result, ChatResult), result
        assert result.attempts == 3
        assert client.ledger.retries == 2 and client.ledger.succeeded == 1
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == 3


def test_retries_exhausted_on_503_gives_error_not_exception():
    with running_stub("--fail-first", "10", "--fail-status", "503") as url:
        client = OpenAIClient(url, "stub-model", max_retries=2, backoff_s=0.01)
        (result,) = client.chat_many([_req("hello")])
        assert isinstance(result, ChatError)
        assert result.status == 503 and result.attempts == 3
        assert "503" in result.error and url in result.error


def test_no_retry_on_400(tmp_path):
    with running_stub(rules=[{"contains": "bad", "status": 400}], tmp_dir=str(tmp_path)) as url:
        client = OpenAIClient(url, "stub-model", max_retries=4, backoff_s=0.01)
        bad, good = client.chat_many([_req("bad request"), _req("fine")])
        assert isinstance(bad, ChatError) and bad.status == 400 and bad.attempts == 1
        assert isinstance(good, ChatResult)
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == 2


def test_unreachable_server_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = OpenAIClient(url, "m", max_retries=1, backoff_s=0.01, timeout_s=2)
    with pytest.raises(OpenAIClientError, match=f"cannot reach OpenAI-compatible server at {url}/models"):
        client.health()
    (result,) = client.chat_many([_req("x")])
    assert isinstance(result, ChatError) and result.status is None and result.attempts == 2
    assert f"{url}/chat/completions" in result.error


def test_bounded_concurrency_is_real():
    with running_stub("--delay", "0.2") as url:
        client = OpenAIClient(url, "stub-model", max_concurrency=3)
        start = time.perf_counter()
        out = client.chat_many([_req(f"p{i}") for i in range(9)])
        elapsed = time.perf_counter() - start
        assert all(isinstance(r, ChatResult) for r in out)
        stats = httpx.get(url.replace("/v1", "/stats")).json()
        assert stats["max_in_flight"] == 3
        assert elapsed >= 0.55  # 9 requests, 3 at a time, 0.2 s each: at least 3 rounds


def test_health_and_api_key(monkeypatch):
    with running_stub("--require-key", "sekret") as url:
        monkeypatch.setenv("STUB_KEY", "sekret")
        ok = OpenAIClient(url, "stub-model", api_key_env="STUB_KEY")
        assert ok.health()["models"] == ["stub-model"]
        assert isinstance(ok.chat(_req("hi")), ChatResult)
        monkeypatch.delenv("STUB_KEY")
        anon = OpenAIClient(url, "stub-model", api_key_env="STUB_KEY", max_retries=3, backoff_s=0.01)
        denied = anon.chat(_req("hi"))
        assert isinstance(denied, ChatError) and denied.status == 401 and denied.attempts == 1


def test_deterministic_default_answers_and_length_cut():
    with running_stub() as url:
        client = OpenAIClient(url, "stub-model")
        a, b = client.chat_many([_req("same", seed=1), _req("same", seed=1)])
        c = client.chat(_req("same", seed=2))
        assert a.text == b.text and a.text != c.text
        short = client.chat({"messages": [{"role": "user", "content": "same"}], "max_tokens": 3, "seed": 1})
        assert short.completion_tokens == 3 and short.finish_reason == "length"
        assert all(
            math.isfinite(v)
            for d in (client.chat(_req("z", logprobs=True)).logprobs or [])
            for v in d.values()
        )


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="base_url"):
        OpenAIClient("localhost:8000", "m")
    with pytest.raises(ValueError, match="max_concurrency"):
        OpenAIClient("http://x/v1", "m", max_concurrency=0)
