"""Canaries: pairs with a known better answer tell a judge that can tell from one that cannot; stored once
per judge version, cached so a rerun judges nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from judges.canaries import MAX_PROMPTS as N
from judges.canaries import CanaryError, build_canaries, run_canaries
from judges.config import ReferenceJudgeConfig
from judges.protocol import JudgeDefaults
from judges.reference_judge import ReferenceJudge, is_correct
from judges.stats.canary import CanarySummary, headline_judge, summarize_canaries
from judges.stats.proportion import wilson_interval
from judges.verdict import Verdict
from rlhf.cli import main
from rlhf.store.queries.canaries import canary_results

REPO = Path(__file__).resolve().parent.parent
CONTRACT = [
    "judge",
    "judge_version",
    "n",
    "accuracy",
    "ci_low",
    "ci_high",
    "tie_rate",
    "position_consistency",
    "length_bias",
    "informative",
]


def _eval_prompts() -> list[dict]:
    rows = [
        json.loads(line) for line in (REPO / "data" / "eval_prompts.jsonl").read_text().splitlines() if line
    ]
    return [
        {k: r.get(k) for k in ("prompt_id", "messages", "category", "reference")} | {"split": "eval"}
        for r in rows
    ]


@pytest.fixture
def eval_store(store):
    store.append("prompts", _eval_prompts())
    return store


class Scripted(JudgeDefaults):
    """A judge with a fixed rule, counting the pairs it is asked about."""

    template_hash = ""

    def __init__(self, name: str, rule):
        self.judge_id = name
        self.judge_version = f"{name}-v1"
        self.rule = rule
        self.calls = 0

    def judge(self, items):
        self.calls += len(items)
        return [Verdict(self.rule(item)) for item in items]


def first_shown(_item) -> float:
    return 0.0  # P(second better) = 0: the answer shown first always wins


def coin(item) -> float:
    return random.Random(item.first + "\x1f" + item.second).random()


def longer(item) -> float:
    return 1.0 if len(item.second) > len(item.first) else 0.0 if len(item.second) < len(item.first) else 0.5


def test_every_canary_has_the_better_answer_the_reference_says(eval_store):
    from rlhf.store.queries.canaries import reference_prompts

    prompts = reference_prompts(eval_store)
    canaries = build_canaries(prompts, max_prompts=None)
    assert len(prompts) >= 90 and len(canaries) == 4 * len(prompts)
    config = ReferenceJudgeConfig()
    for c in canaries:
        a_ok = is_correct(c.answer_a, c.reference, config)[0]
        b_ok = is_correct(c.answer_b, c.reference, config)[0]
        if c.kind == "symmetric":
            assert c.answer_a == c.answer_b and a_ok
        else:
            better, worse = (c.answer_a, c.answer_b) if c.better == "a" else (c.answer_b, c.answer_a)
            assert (a_ok, b_ok) == ((True, False) if c.better == "a" else (False, True)), c
            if c.kind == "truncated":
                assert worse == better[: len(worse)] and len(worse) <= len(better) / 2 + 1
            if c.kind == "length":
                assert len(worse) > 3 * len(better)
    # the better answer sits on both sides about equally often
    sides = [c.better for c in canaries if c.better]
    assert 0.35 < sides.count("a") / len(sides) < 0.65
    # the same prompts build the same set
    assert build_canaries(prompts, max_prompts=None) == canaries
    assert len(build_canaries(prompts, max_prompts=10)) == 40


def test_a_judge_that_knows_the_reference_is_informative(eval_store):
    run = run_canaries(eval_store, ReferenceJudge())
    s = run.summary
    assert s.n == 3 * N and s.accuracy == 1.0 and s.ci_low > 0.97 and s.informative
    assert s.position_consistency == 1.0 and s.position_bias == 0.0 and s.length_bias == 0.0
    assert s.accuracy_by_kind == {"correct": 1.0, "truncated": 1.0, "length": 1.0}


@pytest.mark.parametrize("rule", [first_shown, coin], ids=["first-shown", "coin"])
def test_position_biased_and_random_judges_are_uninformative(eval_store, rule):
    run = run_canaries(eval_store, Scripted(rule.__name__, rule))
    s = run.summary
    assert s.n == 3 * N and not s.informative and s.ci_low <= 0.5 <= s.ci_high
    if rule is first_shown:
        # its two orders mirror each other: every pair a tie, never consistent, fully biased to the first
        assert s.accuracy == 0.5 and s.position_consistency == 0.0 and s.position_bias == 0.5
    else:
        assert abs(s.accuracy - 0.5) < 0.1 and 0.3 < s.position_consistency < 0.7


def test_a_length_loving_judge_shows_its_length_bias(eval_store):
    s = run_canaries(eval_store, Scripted("longer", longer)).summary
    assert s.accuracy_by_kind["length"] == 0.0 and s.accuracy_by_kind["truncated"] == 1.0
    assert s.length_bias >= 0.3  # it loses accuracy when the wrong answer is the longer one


def test_rerun_makes_zero_judge_calls_and_results_are_stored_per_version(eval_store):
    judge = Scripted("coin", coin)
    first = run_canaries(eval_store, judge)
    assert judge.calls == first.n_judged == N * 7 and not first.reused
    rerun = run_canaries(eval_store, judge)
    assert judge.calls == N * 7 and rerun.reused and rerun.n_judged == 0 and rerun.summary == first.summary
    # recomputing on purpose still judges nothing: every verdict is in the cache
    forced = run_canaries(eval_store, judge, force=True)
    assert judge.calls == N * 7 and forced.n_cached == N * 7 and forced.summary == first.summary

    judge.judge_version = "coin-v2"  # a new version is a new judge: its own canaries
    run_canaries(eval_store, judge)
    assert judge.calls == 2 * N * 7
    results = canary_results(eval_store)
    assert list(results.columns[: len(CONTRACT)]) == CONTRACT
    assert (
        sorted(results["judge_version"]) == ["coin-v1", "coin-v2"] and eval_store.count("judge_canaries") == 2
    )
    row = results.iloc[0]
    assert row["n"] == first.summary.n and row["accuracy"] == pytest.approx(first.summary.accuracy)
    assert row["detail"]["n_by_kind"]["symmetric"] == N


def test_no_reference_prompts_is_a_clear_error(store):
    store.append("prompts", [{"prompt_id": "p", "text": "Write a poem."}])
    with pytest.raises(CanaryError, match="no prompt in the store has a reference answer"):
        run_canaries(store, ReferenceJudge())


def test_retryable_failures_store_no_result_and_the_rerun_judges_only_them(eval_store):
    flaky = Scripted("flaky", coin)
    real = flaky.judge
    down_for: set[str] = set()  # the server is "down" for the first question it is asked about

    def judge_or_503(items):
        down_for.add(down_for.pop() if down_for else items[0].question)
        return [
            Verdict.unscored("HTTP 503", retryable=True) if it.question in down_for else v
            for it, v in zip(items, real(items))
        ]

    flaky.judge = judge_or_503
    with pytest.raises(CanaryError, match="retryable"):
        run_canaries(eval_store, flaky)
    assert eval_store.count("judge_canaries") == 0
    calls = flaky.calls
    flaky.judge = real
    run = run_canaries(eval_store, flaky)
    assert 0 < run.n_judged == flaky.calls - calls < 20 and eval_store.count("judge_canaries") == 1


def test_summary_counts_unscored_and_wilson_matches_scipy():
    from scipy.stats import binomtest

    for k, n in ((0, 5), (31, 100), (60, 60)):
        ci = binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)
    rows = pd.DataFrame(
        {
            "canary_id": ["c:1", "c:1", "c:2", "c:2", "s:1"],
            "kind": ["correct"] * 4 + ["symmetric"],
            "better": ["a", "a", "b", "b", None],
            "order": ["ab", "ba", "ab", "ba", "ab"],
            "preference": [0.2, None, None, None, 0.5],
        }
    )
    s = summarize_canaries(rows)
    assert (s.n, s.accuracy, s.n_unscored, s.n_both_orders, s.position_bias) == (1, 1.0, 3, 0, 0.0)
    with pytest.raises(ValueError, match="unknown canary kind"):
        summarize_canaries(rows.assign(kind="bogus"))


def test_headline_judge_is_primary_else_best_informative_never_uninformative():
    def s(acc, lo):
        return CanarySummary(60, acc, lo, 1.0, 0.0, 1.0, 60, 0.0, 0.0, lo > 0.5, 120, 0)

    c = {"llm-default": s(0.51, 0.44), "reference": s(1.0, 0.94), "reward-model": s(0.8, 0.7)}
    assert headline_judge(c, None) == "reference"
    assert headline_judge(c, "reward-model") == "reward-model"
    assert headline_judge(c, "llm-default") == "reference"  # an uninformative primary never leads
    assert headline_judge({"llm-default": c["llm-default"], "x": None}, None) is None
    assert headline_judge({"x": None}, "x") == "x"  # a primary without canary results leads
    frame = pd.DataFrame([{"judge": k, **v.to_dict()} for k, v in c.items()]).set_index("judge")
    assert (
        headline_judge({k: frame.loc[k] for k in frame.index}) == "reference"
    )  # rows of canary_results work


def test_cli_runs_and_shows_canaries(tmp_path):
    store_dir = tmp_path / "s"
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _eval_prompts()[:40]))
    runner = CliRunner()
    assert runner.invoke(main, ["--store", str(store_dir), "append", "prompts", str(path)]).exit_code == 0
    empty = runner.invoke(main, ["--store", str(store_dir), "judge", "canaries"])
    assert empty.exit_code == 0 and "no canary results" in empty.output
    ran = runner.invoke(
        main, ["--store", str(store_dir), "judge", "canaries", "--judge", "reference", "--json"]
    )
    assert ran.exit_code == 0, ran.output
    out = json.loads(ran.output)
    assert out["runs"][0]["judge"] == "reference" and out["runs"][0]["informative"] is True
    shown = runner.invoke(main, ["--store", str(store_dir), "judge", "canaries"])
    assert shown.exit_code == 0 and "reference" in shown.output and "informative" in shown.output
    as_json = json.loads(
        runner.invoke(main, ["--store", str(store_dir), "judge", "canaries", "--json"]).output
    )
    assert [r["judge"] for r in as_json["results"]] == ["reference"] and as_json["results"][0][
        "accuracy"
    ] == 1.0
    bad = runner.invoke(main, ["--store", str(store_dir), "judge", "canaries", "--judge", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_position_consistency_is_the_health_definition():
    from judges.stats.health import position_consistency

    rng = random.Random(3)
    better = [rng.choice("ab") for _ in range(200)]
    rows = [
        (f"correct:{i}", "correct", better[i], order, rng.choice([rng.random(), 0.5]))
        for i in range(200)
        for order in ("ab", "ba")
    ]
    frame = pd.DataFrame(rows, columns=["canary_id", "kind", "better", "order", "preference"])
    as_judgments = frame.rename(columns={"canary_id": "prompt_id"}).assign(
        judge="j", model_a="a", model_b="b"
    )
    expected, n = position_consistency(as_judgments)
    s = summarize_canaries(frame)
    assert (s.position_consistency, s.n_both_orders) == (pytest.approx(expected), n) and n == 200


def test_winrate_and_leaderboard_json_say_whether_the_judge_is_informative(tmp_path):
    from judge_fixtures import seed_store
    from judges.run import judge_pairs
    from rlhf.store import Store

    store = Store.open(tmp_path / "s")
    seed_store(store)
    store.append("prompts", _eval_prompts()[:30])
    knows, biased, untested = ReferenceJudge(), Scripted("first", first_shown), Scripted("untested", coin)
    for judge in (knows, biased, untested):
        judge_pairs(store, judge, "old", "new", prompts=["p0", "p1", "p2", "p3", "p5"])
    run_canaries(store, knows)
    run_canaries(store, biased)

    def cli(*args):
        result = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), *args])
        assert result.exit_code == 0, result.output
        return result.output

    expected = {"reference": True, "first": False, "untested": None}
    for name, informative in expected.items():
        out = json.loads(
            cli(
                "winrate", "--model", "new", "--baseline", "old", "--judge", name, "--json", "--n-boot", "400"
            )
        )
        assert out["judge_informative"] is informative, name
        # 5 prompts: too few for a bootstrap (most resamples would have no MLE and the fit refuses)
        board = json.loads(cli("leaderboard", "--judge", name, "--json", "--n-boot", "0"))
        assert {r["judge_informative"] for r in board} == {informative}
    text = cli("winrate", "--model", "new", "--baseline", "old", "--judge", "first", "--n-boot", "400")
    assert "UNINFORMATIVE JUDGE" in text
    assert "canaries: not run" in cli("leaderboard", "--judge", "untested", "--n-boot", "0")


def test_a_dead_server_stops_after_one_chunk(eval_store):
    dead = Scripted("dead", coin)
    dead.judge = lambda items: [Verdict.unscored("connection refused", retryable=True) for _ in items]
    asked: list[int] = []
    real = dead.judge
    dead.judge = lambda items: (asked.append(len(items)), real(items))[1]
    with pytest.raises(CanaryError, match="retryable"):
        run_canaries(eval_store, dead, chunk=16)
    assert asked == [16] and eval_store.count("judge_cache") == 0 and eval_store.count("judge_canaries") == 0


def spots_cut_answers(item) -> float:
    """Prefers a finished sentence over a cut one; otherwise a coin."""
    first, second = item.first.endswith("."), item.second.endswith(".")
    return coin(item) if first == second else float(second)


def test_beating_chance_on_one_kind_only_is_not_informative(eval_store):
    s = run_canaries(eval_store, Scripted("cut-spotter", spots_cut_answers)).summary
    assert s.accuracy_by_kind["truncated"] == 1.0 and s.ci_low > 0.5  # the pooled interval alone would pass
    assert "correct" in s.failed_kinds and not s.informative
    assert s.ci_by_kind["truncated"][0] > 0.9


def test_a_subset_holds_the_same_pairs_as_the_full_set(eval_store):
    from rlhf.store.queries.canaries import reference_prompts

    prompts = reference_prompts(eval_store)
    full = {c.canary_id: c for c in build_canaries(prompts, max_prompts=None)}
    subset = build_canaries(prompts, max_prompts=20)
    assert len(subset) == 80 and all(full[c.canary_id] == c for c in subset)  # so the cache serves a subset
