"""Rate limits, Retry-After, budgets, dry runs and recorded retries, against the stub server as a real process."""

from __future__ import annotations

import logging
import math
import threading
import time

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

from judge_fixtures import seed_store
from judges.config import OpenAIJudgeConfig, config_from_dict
from judges.openai_judge import OpenAIJudge
from judges.run import JudgeRunError, judge_pairs, plan_pairs
from openai_stub_server import running_stub
from rlhf.cli import main as cli
from rlhf.config_mapping import ConfigError
from rlhf.openai_client import OpenAIClient
from rlhf.rate_limit import RateLimiter
from rlhf.sampler import SamplerConfig, sample

PREFER_B = [
    {
        "contains": "Which response is better",
        "reply": "B",
        "top_logprobs": {"B": math.log(0.75), "A": math.log(0.25)},
    }
]


def _stats(url: str) -> dict:
    return httpx.get(url.replace("/v1", "/stats")).json()


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"prompt_id": [f"q{i}" for i in range(n)], "text": [f"question {i}?" for i in range(n)]}
    )


def test_two_clients_on_one_server_share_its_requests_per_minute(tmp_path):
    """600/min = one request every 0.1 s, whichever client and worker sends it: 32 requests from two
    clients with four workers each arrive at the server within 10% of that rate."""
    with running_stub() as url:
        clients = [OpenAIClient(url, "stub-model", max_concurrency=4, requests_per_min=600) for _ in range(2)]
        assert clients[0].limiter is clients[1].limiter
        body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
        threads = [threading.Thread(target=c.chat_many, args=([body] * 16,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = _stats(url)
    assert stats["chat_requests"] == 32
    rate = (stats["chat_requests"] - 1) / (stats["last_at"] - stats["first_at"]) * 60
    assert rate == pytest.approx(600, rel=0.10)
    assert all(c.ledger.succeeded == 16 for c in clients)


def test_tokens_per_minute_spaces_requests_by_their_estimated_tokens():
    now = [0.0]
    limiter = RateLimiter(
        tokens_per_min=6000, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    # 100 tokens a second, a bucket of one second: 10 requests of 100 tokens take 9 s after the first
    for _ in range(10):
        limiter.acquire(100)
    assert now[0] == pytest.approx(9.0)
    limiter.acquire(300)  # larger than the bucket: waits for a full bucket, then runs 200 into debt
    limiter.acquire(100)
    assert now[0] == pytest.approx(9.0 + 1.0 + 3.0)


def test_retry_after_is_waited_for_and_retries_are_recorded(store, tmp_path):
    seed_store(store, n=1)
    rules = [{"contains": "", "reply": "[[B]]"}]
    with running_stub(
        "--fail-first", "2", "--fail-status", "429", "--retry-after", "1", rules=rules, tmp_dir=str(tmp_path)
    ) as url:
        # reasoning mode sends no logprob probe, so the first verdict meets both 429s
        config = OpenAIJudgeConfig(
            base_url=url,
            model="stub-model",
            max_concurrency=1,
            mode="reasoning",
            template="pairwise_reasoning",
        )
        judge = OpenAIJudge(config)
        judge.client.backoff_s = 0.01
        start = time.monotonic()
        result = judge_pairs(store, judge, "old", "new", both_orders=True)
        elapsed = time.monotonic() - start
    assert elapsed >= 2.0  # two 429s, each asking for one second (the backoff alone is 0.01 s)
    assert result.n_retries == 2 and result.n_unscored == 0
    assert sorted(store.query("SELECT retries FROM judgments")["retries"]) == [0, 2]
    assert sorted(store.query("SELECT retries FROM judge_cache")["retries"]) == [0, 2]


def test_a_budget_stops_the_judge_before_passing_it_and_nothing_is_lost(store, tmp_path):
    seed_store(store, n=6)  # 12 verdicts
    prices = dict(prompt_price_per_mtok=100.0, completion_price_per_mtok=100.0)
    with running_stub(rules=PREFER_B, tmp_dir=str(tmp_path)) as url:
        free = OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", **prices))
        plan = plan_pairs(store, free, "old", "new")
        assert (plan.n_requests, plan.n_cached) == (12, 0) and plan.cost_usd > 0
        assert _stats(url)["chat_requests"] == 1  # the dry run sent only the logprob probe
        per_request = plan.cost_usd / plan.n_requests
        # room for two requests by their estimates; the stub bills fewer tokens than estimated (it counts
        # words), and each answer's real cost replaces its estimate, so a few more fit, never all twelve
        budget = 2.5 * per_request
        judge = OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", budget_usd=budget, **prices))
        with pytest.raises(JudgeRunError, match=r"budget \$.* reached.*Stopped after \d+ of 12 verdicts"):
            judge_pairs(store, judge, "old", "new", chunk_prompts=2)
        sent = _stats(url)["chat_requests"] - 1
        stored = store.query("SELECT count(*) AS n, count(preference) AS scored FROM judgments").iloc[0]
        # every request sent is a stored, scored verdict; none was sent past the budget
        assert 2 <= sent < 12 and stored["n"] == stored["scored"] == sent
        assert judge.client.budget.spent_usd <= budget and judge.client.budget.refused >= 1
        # the rerun with a larger budget continues from the cache: only the rest is requested
        more = OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", budget_usd=1.0, **prices))
        again = judge_pairs(store, more, "old", "new")
        assert (again.n_cached, again.n_judged) == (sent, 12 - sent)
        assert _stats(url)["chat_requests"] - 1 == 12
        assert plan_pairs(store, more, "old", "new").n_requests == 0


def test_sampler_budget_stops_with_everything_sent_stored_and_dry_run_counts(store, tmp_path):
    with running_stub() as url:
        config = SamplerConfig(
            backend="openai",
            base_url=url,
            max_new_tokens=8,
            max_concurrency=2,
            chunk_size=4,
            prompt_price_per_mtok=1000.0,
            completion_price_per_mtok=1000.0,
        )
        env = {"RLHF_NO_COLOR": "1"}
        args = ["--store", str(store.root), "sample", "--checkpoint", "served", "--backend", "openai"]
        args += [
            "--base-url",
            url,
            "--max-new-tokens",
            "8",
            "--prompt-price",
            "1000",
            "--completion-price",
            "1000",
        ]
        prompts = tmp_path / "prompts.jsonl"
        _frame(10).to_json(prompts, orient="records", lines=True)
        dry = CliRunner().invoke(cli, [*args, "--prompts", str(prompts), "--dry-run"], env=env)
        assert dry.exit_code == 0, dry.output
        assert "10 requests to make" in dry.output and _stats(url)["chat_requests"] == 0
        assert store.count("generations") == 0
        # each request is estimated at 8 + ceil(len("question N?")/3) = 12 prompt + 8 completion tokens
        assert "about 120 prompt + 80 completion tokens" in dry.output and "$0.2000" in dry.output
        budget = ["--budget", "0.05"]  # two requests' estimates (0.02 each) fit; real costs are lower
        stopped = CliRunner().invoke(
            cli, [*args, "--prompts", str(prompts), *budget, "--chunk-size", "2"], env=env
        )
        sent = _stats(url)["chat_requests"]
        assert stopped.exit_code == 1 and "budget $0.0500 reached" in stopped.output
        assert f"stopped by the budget with {10 - sent} answers not requested" in stopped.output
        assert 2 <= sent < 10 and store.count("generations") == sent
        rest = sample(store, "served", prompts=_frame(10), config=config)
        assert (rest.reused, rest.generated) == (sent, 10 - sent) and _stats(url)["chat_requests"] == 10
        assert store.query("SELECT retries FROM generations")["retries"].tolist() == [0] * 10


def test_faults_are_unscored_with_their_cause_never_ties(store, tmp_path):
    seed_store(store, n=4)
    rules = [
        {"contains": "Paris", "empty_choices": True},
        {"contains": "12 times 3", "reply": "B", "finish_reason": "content_filter"},
        {"contains": "10 minus 7", "malformed": True},
        {"contains": "Which response is better", "reply": "Well, hmm", "no_logprobs": True},
    ]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        result = judge_pairs(
            store, OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model")), "old", "new"
        )
    rows = store.query("SELECT prompt_id, preference, error FROM judgments ORDER BY prompt_id")
    assert rows["preference"].isna().all() and result.n_unscored == 8 == len(rows)
    errors = " | ".join(rows["error"])
    assert "no choices" in errors and "finish_reason 'content_filter'" in errors
    assert "could not parse a verdict" in errors and "answered 200 with an unexpected body" in errors


def test_malformed_json_and_timeouts_through_the_same_client(tmp_path):
    rules = [{"contains": "broken", "malformed": True}]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        client = OpenAIClient(url, "stub-model", max_retries=2, backoff_s=0.01)
        broken = client.chat({"messages": [{"role": "user", "content": "broken"}], "max_tokens": 4})
    # a 200 that is not JSON is the server's answer, not a transient fault: no retry, the cause named
    assert broken.status == 200 and broken.attempts == 1 and "unexpected body" in broken.error
    with running_stub("--delay", "2") as url:
        client = OpenAIClient(url, "stub-model", timeout_s=0.3, max_retries=1, backoff_s=0.01)
        start = time.monotonic()
        slow = client.chat({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        elapsed = time.monotonic() - start
    # a timeout is retried, then reported (status None: the driver keeps it out of the store for a rerun)
    assert slow.status is None and slow.attempts == 2 and "ReadTimeout" in slow.error and elapsed < 1.9


def test_a_server_without_the_configured_model_fails_before_any_request(store, tmp_path):
    seed_store(store, n=1)
    with running_stub("--served-model", "other-model") as url:
        with pytest.raises(Exception, match=r"does not serve model 'stub-model'.*'other-model'"):
            judge_pairs(store, OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model")), "old", "new")
        assert _stats(url)["chat_requests"] == 0


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"requests_per_min": 0}, "requests_per_min must be > 0"),
        ({"tokens_per_min": -5}, "tokens_per_min must be > 0"),
        ({"budget_usd": -1, "prompt_price_per_mtok": 1.0}, "budget_usd must be > 0"),
        ({"budget_usd": 2.0}, "budget_usd needs prices"),
    ],
)
def test_bad_limits_and_budgets_name_the_key(keys, named, tmp_path):
    with pytest.raises(ConfigError, match=named):
        config_from_dict({"kind": "openai", "model": "m", **keys}, source="judge.yaml")
    path = tmp_path / "judge.yaml"
    path.write_text("kind: openai\nmodel: m\n" + "".join(f"{k}: {v}\n" for k, v in keys.items()))
    result = CliRunner().invoke(
        cli,
        ["--store", str(tmp_path / "s"), "judge", "--judge", str(path), "--model-a", "a", "--model-b", "b"],
    )
    assert result.exit_code == 2 and named in result.output and str(path) in result.output


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--budget", "1"], "--budget needs prices"),
        (["--requests-per-min", "0"], "--requests-per-min must be > 0"),
        (["--tokens-per-min", "-1"], "--tokens-per-min must be > 0"),
    ],
)
def test_sample_rejects_bad_limits_naming_the_option(options, named, tmp_path):
    args = ["--store", str(tmp_path / "s"), "sample", "--checkpoint", "m", "--backend", "openai"]
    result = CliRunner().invoke(cli, [*args, "--base-url", "http://127.0.0.1:9/v1", *options])
    assert result.exit_code == 2 and named in result.output
    assert not (tmp_path / "s").exists()


def test_the_api_key_is_in_no_store_row_log_line_or_error(store, tmp_path, monkeypatch, caplog):
    secret = "sk-test-7f3a9c1e5b"
    monkeypatch.setenv("RLHF_TEST_KEY", secret)
    seed_store(store, n=2)
    caplog.set_level(logging.DEBUG)
    with running_stub("--require-key", secret, rules=PREFER_B, tmp_dir=str(tmp_path)) as url:
        config = OpenAIJudgeConfig(base_url=url, model="stub-model", api_key_env="RLHF_TEST_KEY")
        result = judge_pairs(store, OpenAIJudge(config), "old", "new")
        assert result.n_unscored == 0 and result.n_verdicts == 4
        monkeypatch.setenv("RLHF_TEST_KEY", secret + "-wrong")
        wrong = OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", api_key_env="RLHF_TEST_KEY"))
        refused = judge_pairs(store, wrong, "new", "old")
    assert refused.n_unscored == 4 and all("HTTP 401" in e and secret not in e for e in refused.errors)
    assert secret not in caplog.text and secret not in repr(wrong.client.ledger)
    for path in store.root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_budget_doctests():
    import doctest

    import rlhf.budget

    assert doctest.testmod(rlhf.budget).failed == 0
