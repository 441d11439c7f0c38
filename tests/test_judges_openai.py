"""The OpenAI-compatible judge against a real stub server process on a free localhost port."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from judge_fixtures import seed_store
from judges.config import OpenAIJudgeConfig
from judges.openai_judge import OpenAIJudge, parse_letter, soft_preference
from judges.protocol import PairItem
from judges.run import JudgeRunError, judge_pairs
from openai_stub_server import free_port, running_stub
from rlhf.openai_client import OpenAIClientError

LOG = math.log


PREFER_B = [
    {"contains": "Which response is better", "reply": "B", "top_logprobs": {"B": LOG(0.75), "A": LOG(0.25)}}
]


def _judge(url: str, **kw) -> OpenAIJudge:
    return OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", **{"max_retries": 3, **kw}))


def _fast(judge: OpenAIJudge) -> OpenAIJudge:
    judge.client.backoff_s = 0.01
    return judge


def test_soft_preference_from_top_logprobs_and_text_fallback(tmp_path):
    rules = [
        {
            "contains": "ALPHA",
            "reply": "B",
            "top_logprobs": {"B": LOG(0.6), " B": LOG(0.1), "A": LOG(0.2), "The": LOG(0.05)},
        },
        {"contains": "BRAVO", "reply": "A", "top_logprobs": {"A": LOG(0.9), "Sure": LOG(0.05)}},
        {"contains": "CHARLIE", "reply": "B. It is better.", "no_logprobs": True},
        {"contains": "DELTA", "reply": "I cannot decide", "no_logprobs": True},
    ]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        judge = _judge(url, prompt_price_per_mtok=2.0, completion_price_per_mtok=10.0)
        got = judge.judge([PairItem(q, "x", "y") for q in ("ALPHA", "BRAVO", "CHARLIE", "DELTA")])
        assert got[0].preference == pytest.approx(0.7 / 0.9)
        assert json.loads(got[0].raw_output)["bounded"] is False
        # only A listed: B bounded by the smallest listed log-prob (0.05)
        assert got[1].preference == pytest.approx(0.05 / 0.95)
        assert json.loads(got[1].raw_output)["bounded"] is True
        assert got[2].preference == 1.0 and got[2].raw_output == "B."  # parsed text (max_tokens=1)
        assert got[3].preference is None and "could not parse" in got[3].error and not got[3].retryable
        assert got[0].cost_usd == pytest.approx((got[0].prompt_tokens * 2 + 1 * 10) / 1e6)
        ledger = judge.ledger.as_dict()
        # four verdicts and the one logprob probe (a new server and model for this process)
        assert ledger["requests"] == 5 and ledger["completion_tokens"] > 0 and ledger["cost_usd"] > 0


def test_parsers():
    assert soft_preference({"Hello": -0.1}) is None
    assert parse_letter(" A") == 0.0 and parse_letter("**B**") == 1.0 and parse_letter("Both") is None
    assert parse_letter("reasoning... [[C]]") == 0.5


def test_driver_with_openai_judge_both_orders_and_cache(store, tmp_path):
    seed_store(store)
    # answers mentioning 'Paris' win wherever they are shown: consistent both ways
    rules = [
        {
            "contains": "[Response B]\nThe capital of France is Paris",
            "reply": "B",
            "top_logprobs": {"B": LOG(0.8), "A": LOG(0.2)},
        },
        {
            "contains": "[Response A]\nThe capital of France is Paris",
            "reply": "A",
            "top_logprobs": {"A": LOG(0.8), "B": LOG(0.2)},
        },
    ]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        result = judge_pairs(store, _judge(url), "old", "new", round_id="r7")
        rows = store.query("SELECT prompt_id, \"order\", preference FROM judgments WHERE prompt_id='p2'")
        assert rows["preference"].tolist() == pytest.approx([0.8, 0.8])
        assert result.n_verdicts == 12 and result.n_judged == 12 and result.prompt_tokens > 0
        calls = httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"]
        again = judge_pairs(store, _judge(url), "old", "new", round_id="r7")
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == calls  # zero new requests
        assert again.n_cached == 12


def test_retry_on_429_then_success(store, tmp_path):
    seed_store(store, n=1)
    with running_stub(
        "--fail-first", "2", "--fail-status", "429", rules=PREFER_B, tmp_dir=str(tmp_path)
    ) as url:
        judge = _fast(_judge(url, max_concurrency=1))
        result = judge_pairs(store, judge, "old", "new")
        assert result.n_unscored == 0 and result.n_retry_failed == 0 and result.n_verdicts == 2
        assert judge.ledger.retries == 2
        assert store.query('SELECT "order", preference FROM judgments ORDER BY 1')[
            "preference"
        ].tolist() == pytest.approx([0.75, 0.25])


def test_no_retry_on_400_and_it_is_stored_unscored(store, tmp_path):
    seed_store(store, n=2)
    with running_stub(
        rules=[{"contains": "12 times 3", "status": 400}, *PREFER_B], tmp_dir=str(tmp_path)
    ) as url:
        judge = _fast(_judge(url))
        result = judge_pairs(store, judge, "old", "new")
        assert judge.ledger.retries == 0
        # four verdicts and the logprob probe
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == 5
    rows = store.query("SELECT prompt_id, preference, error FROM judgments WHERE prompt_id = 'p1'")
    assert len(rows) == 2 and rows["preference"].isna().all() and rows["error"].str.contains("HTTP 400").all()
    assert result.n_unscored == 2


def test_server_errors_after_retries_are_not_stored_and_rerun_retries(store, tmp_path):
    seed_store(store, n=2)
    with (
        running_stub("--fail-first", "100", "--fail-status", "503") as url,
        pytest.raises(JudgeRunError, match="HTTP 503"),
    ):
        # reasoning mode: no logprob probe, whose failure would stop the run before any verdict
        reasoning = _judge(url, max_retries=1, mode="reasoning", template="pairwise_reasoning")
        judge_pairs(store, _fast(reasoning), "old", "new")
    assert store.count("judgments") == 0
    with running_stub(rules=PREFER_B, tmp_dir=str(tmp_path)) as url:
        result = judge_pairs(store, _judge(url), "old", "new")
        assert result.n_judged == 4 and result.n_unscored == 0 and store.count("judgments") == 4


def test_unreachable_server_error_names_the_url(store):
    seed_store(store, n=1)
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(OpenAIClientError, match=f"cannot reach OpenAI-compatible server at {url}/models"):
        judge_pairs(store, _judge(url, timeout_s=2), "old", "new")


def test_reasoning_mode_parses_bracket_verdicts(tmp_path):
    rules = [
        {"contains": "ALPHA", "reply": "A is vague; B is right. [[B]]"},
        {"contains": "BRAVO", "reply": "[[C]]"},
    ]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        judge = _judge(url, mode="reasoning", template="pairwise_reasoning", max_new_tokens=64)
        first, second, third = judge.judge([PairItem(q, "x", "y") for q in ("ALPHA", "BRAVO", "ZULU")])
        assert first.preference == 1.0 and first.rationale.startswith("A is vague")
        assert second.preference == 0.5
        assert third.preference is None  # the stub's free text has no verdict


def test_a_server_that_ignores_logprobs_gets_text_verdicts(store, tmp_path):
    """The fast twin of tests/test_real_server.py: the stub ignoring logprobs as `transformers serve` does."""
    seed_store(store, n=2)
    rules = [{"contains": "Which response is better", "reply": "B is better"}]
    with running_stub("--no-logprobs", rules=rules, tmp_dir=str(tmp_path)) as url:
        judge = _judge(url)
        result = judge_pairs(store, judge, "old", "new")
        assert judge.verdict_source() == "text" and ":verdicts=text:max_tokens=4" in result.judge_version
        assert result.n_verdicts == 4 and result.n_unscored == 0
        rows = store.query('SELECT "order", preference, judge_version, raw_output FROM judgments ORDER BY 1')
        # 'B' read from the text: model_b when shown second (ab), model_a when shown second (ba)
        assert rows["preference"].tolist() == [1.0, 1.0, 0.0, 0.0]
        assert set(rows["judge_version"]) == {result.judge_version} and set(rows["raw_output"]) == {
            "B is better"
        }
        requests = httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"]
        assert requests == 5  # the probe and four verdicts
        rerun = _judge(url)
        assert judge_pairs(store, rerun, "old", "new").n_cached == 4
        assert httpx.get(url.replace("/v1", "/stats")).json()["chat_requests"] == requests  # zero requests
