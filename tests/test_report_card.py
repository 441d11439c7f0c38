"""The judge report card: each number against a hand-worked store, and the causes of real judges' failures."""

from __future__ import annotations

import doctest
import importlib

import pandas as pd
import pytest

from judges.stats.report_card import report_cards
from judges.stats.unscored import unscored_cause


@pytest.mark.parametrize(
    "module",
    [
        "judges.stats.markdown",
        "judges.stats.style_preference",
        "judges.stats.unscored",
        "judges.stats.report_card",
        "judges.stats.health",
        "judges.stats.panel",
    ],
)
def test_doctests(module):
    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0


def _row(judge, version, prompt, order, pref, **kw):
    return {
        "judge": judge,
        "judge_version": version,
        "prompt_id": prompt,
        "model_a": "old",
        "model_b": "new",
        "order": order,
        "preference": pref,
        "error": kw.get("error"),
        "length_a": kw.get("la", 10),
        "length_b": kw.get("lb", 10),
        "answer_a": kw.get("aa", "plain"),
        "answer_b": kw.get("ab", "plain"),
        "latency_s": kw.get("latency"),
        "prompt_tokens": kw.get("pt"),
        "completion_tokens": kw.get("ct"),
        "cost_usd": kw.get("cost"),
    }


def test_cards_per_version_with_humans_causes_and_costs():
    rows = [
        # J v1: p1 consistent for new (0.8, 0.7); p2 the longer/markdown answer is new and loses (0.3, 0.4);
        # p3 a tie in ab and too long in ba; p4 unparseable and a server error
        _row("J", "v1", "p1", "ab", 0.8, latency=0.2, pt=100, ct=1, cost=0.001),
        _row("J", "v1", "p1", "ba", 0.7, latency=0.4, pt=100, ct=1, cost=0.001),
        _row("J", "v1", "p2", "ab", 0.3, lb=50, ab="# H\n- a\n- b", latency=0.2),
        _row("J", "v1", "p2", "ba", 0.4, lb=50, ab="# H\n- a\n- b", latency=0.2),
        _row("J", "v1", "p3", "ab", 0.5),
        _row("J", "v1", "p3", "ba", None, error="judge prompt has 900 tokens, more than max_length=512"),
        _row("J", "v1", "p4", "ab", None, error="could not parse a verdict from the judge's output: 'hm'"),
        _row("J", "v1", "p4", "ba", None, error="http://x/v1/chat/completions answered HTTP 400: no"),
        # J v2 judged p1 only: a different judge, its own card
        _row("J", "v2", "p1", "ab", 0.1),
        # humans: new wins p1, loses p2, ties p3
        _row("human", None, "p1", None, 1.0),
        _row("human", None, "p2", None, 0.0),
        _row("human", None, "p3", None, 0.5),
    ]
    canaries = pd.DataFrame(
        [
            {
                "judge": "J",
                "judge_version": "v1",
                "accuracy": 0.75,
                "ci_low": 0.6,
                "ci_high": 0.86,
                "informative": True,
                "detail": {
                    "accuracy_by_kind": {"correct": 1.0, "length": 0.5},
                    "ci_by_kind": {"correct": [0.8, 1.0], "length": [0.3, 0.7]},
                    "n_by_kind": {"correct": 20, "length": 20},
                },
            },
            {
                "judge": "K",
                "judge_version": "k1",
                "accuracy": 0.5,
                "ci_low": 0.4,
                "ci_high": 0.6,
                "informative": False,
                "detail": {},
            },
        ]
    )
    cards = {(c.judge, c.judge_version): c for c in report_cards(pd.DataFrame(rows), canaries)}
    assert set(cards) == {("J", "v1"), ("J", "v2"), ("K", "k1")}  # no card for the humans
    v1 = cards[("J", "v1")]
    assert (v1.n_verdicts, v1.n_scored) == (8, 5)
    assert v1.unscored_rate == pytest.approx(3 / 8) and v1.tie_rate == pytest.approx(1 / 5)
    assert v1.unscored_by_cause == {"too_long": 1, "unparseable": 1, "server_error": 1, "other": 0}
    # both orders scored: p1 (same side) and p2 (same side): 2 items, consistent
    assert v1.position_consistency == 1.0 and v1.n_consistency_items == 2
    # longer answer is new's on p2 only: P(longer better) = mean(0.3, 0.4)
    assert v1.p_prefers_longer == pytest.approx(0.35) and v1.n_length_verdicts == 2
    assert v1.p_prefers_markdown == pytest.approx(0.35) and v1.n_markdown_verdicts == 2
    # humans vs J v1 on p1 (win, win), p2 (loss, loss), p3 (tie, tie): 3 items, perfect agreement
    assert v1.human_n == 3 and v1.human_agreement == 1.0 and v1.human_kappa == pytest.approx(1.0)
    # times recorded on 4 verdicts: mean 0.25 s -> 250 s per 1,000; cost on 2: 1 USD per 1,000
    assert v1.seconds_per_1000 == pytest.approx(250.0) and v1.n_timed == 4
    assert v1.cost_usd_per_1000 == pytest.approx(1.0) and v1.n_costed == 2
    assert v1.prompt_tokens_per_1000 == pytest.approx(100_000)
    assert v1.canary_accuracy == 0.75 and v1.canary_informative is True
    assert v1.canary_by_kind["length"] == {"accuracy": 0.5, "ci_low": 0.3, "ci_high": 0.7, "n": 20}
    v2 = cards[("J", "v2")]
    assert v2.n_verdicts == 1 and v2.human_n == 1 and v2.human_agreement == 0.0  # loss vs human win
    assert v2.canary_informative is None and v2.seconds_per_1000 is None
    k = cards[("K", "k1")]
    assert k.n_verdicts == 0 and k.canary_informative is False and k.unscored_rate is None
    import json

    json.dumps([c.to_dict() for c in cards.values()], allow_nan=False)  # strict JSON


def test_unscored_causes_of_real_judges(tmp_path, tiny_lm_dir, tiny_rm_dir):
    """Each judge's own failure message gets its cause (a reworded message would fall to 'other')."""
    from judges.config import LLMJudgeConfig, OpenAIJudgeConfig, ReferenceJudgeConfig, RewardJudgeConfig
    from judges.llm_judge import LLMJudge
    from judges.openai_judge import OpenAIJudge
    from judges.protocol import PairItem
    from judges.reference_judge import ReferenceJudge
    from judges.reward_judge import RewardJudge
    from openai_stub_server import running_stub

    long_item = PairItem("q " * 200, "a", "b")
    llm = LLMJudge(LLMJudgeConfig(model=str(tiny_lm_dir), max_length=64))
    assert unscored_cause(llm.judge([long_item])[0].error) == "too_long"
    reward = RewardJudge(RewardJudgeConfig(model=str(tiny_rm_dir), max_length=64))
    assert unscored_cause(reward.judge([long_item])[0].error) == "too_long"
    no_ref = ReferenceJudge(ReferenceJudgeConfig()).judge([PairItem("q", "1", "2", prompt_id="p")])[0]
    assert unscored_cause(no_ref.error) == "other"
    rules = [
        {"contains": "BROKEN", "status": 400},
        {"contains": "MUMBLE", "reply": "I cannot decide", "no_logprobs": True},
    ]
    with running_stub(rules=rules, tmp_dir=str(tmp_path)) as url:
        judge = OpenAIJudge(OpenAIJudgeConfig(base_url=url, model="stub-model", max_retries=0))
        broken, mumble = judge.judge([PairItem("BROKEN", "x", "y"), PairItem("MUMBLE", "x", "y")])
    assert broken.preference is None and not broken.retryable
    assert unscored_cause(broken.error) == "server_error"
    assert unscored_cause(mumble.error) == "unparseable"


def test_rlhf_judge_report_equals_the_core_and_reads_as_its_numbers(store):
    """`rlhf judge report --json` is report_cards on the same store; the text says what the numbers say."""
    import json

    from click.testing import CliRunner

    from judge_fixtures import seed_store
    from judges.canaries import run_canaries
    from judges.config import ReferenceJudgeConfig
    from judges.reference_judge import ReferenceJudge
    from judges.run import judge_pairs
    from rlhf.cli import main
    from rlhf.store.queries.canaries import canary_results
    from rlhf.store.queries.judgments import report_rows

    seed_store(store)
    judge = ReferenceJudge(ReferenceJudgeConfig())
    judge_pairs(store, judge, "old", "new")
    run_canaries(store, judge)
    # humans: new better on p0 and p1 (agrees with the reference judge), old better on p2 (disagrees)
    store.append(
        "judgments",
        [
            {
                "judge": "human",
                "prompt_id": p,
                "model_a": "old",
                "model_b": "new",
                "preference": v,
                "source": "people",
            }
            for p, v in (("p0", 1.0), ("p1", 1.0), ("p2", 0.0))
        ],
    )
    run = CliRunner().invoke(main, ["--store", str(store.root), "judge", "report", "--json"])
    assert run.exit_code == 0, run.output
    got = json.loads(run.stdout)
    want = [c.to_dict() for c in report_cards(report_rows(store), canary_results(store))]
    assert got == want and [c["judge"] for c in got] == ["reference"]
    card = got[0]
    assert card["canary_informative"] is True and card["canary_by_kind"]["correct"]["accuracy"] == 1.0
    assert card["human_n"] == 3 and card["human_agreement"] == pytest.approx(2 / 3)
    assert card["unscored_by_cause"] == {"too_long": 0, "unparseable": 0, "server_error": 0, "other": 0}
    text = CliRunner().invoke(main, ["--store", str(store.root), "judge", "report"])
    assert text.exit_code == 0, text.output
    assert f"{card['n_verdicts']} verdicts" in text.output
    assert f"kappa {card['human_kappa']:.3f}" in text.output and "on 3 items" in text.output
    first = card["first_position_rate"]
    assert ("favours the first shown" in text.output) == (first > 0.5)
    bad = CliRunner().invoke(main, ["--store", str(store.root), "judge", "report", "--judge", "nobody"])
    assert bad.exit_code == 2 and "judges: reference" in bad.output
