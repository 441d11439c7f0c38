"""The judging driver over a real store: both orders, un-mirroring, caching, resume, unscored rows."""

from __future__ import annotations

import pytest

from judge_fixtures import seed_store
from judges.protocol import JudgeDefaults, PairItem
from judges.reference_judge import ReferenceJudge
from judges.run import JudgeRunError, judge_pairs
from judges.verdict import Verdict


class ScriptedJudge(JudgeDefaults):
    """Prefers the longer answer with a position bias: P(second better) = 0.7 if longer else 0.4.
    Counts the pairs it is asked about; raises after `fail_after`; can fail selected answers."""

    judge_id = "scripted"
    template_hash = "t0"

    def __init__(self, *, fail_after=None, unscored_if=None, retryable_if=None, version="v1"):
        self.judge_version = version
        self.calls = 0
        self.fail_after = fail_after
        self.unscored_if = unscored_if
        self.retryable_if = retryable_if

    def judge(self, items):
        out = []
        for item in items:
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise RuntimeError("judge crashed")
            self.calls += 1
            if self.unscored_if and self.unscored_if in item.first + item.second:
                out.append(Verdict.unscored("unparseable"))
            elif self.retryable_if and self.retryable_if in item.first + item.second:
                out.append(Verdict.unscored("HTTP 503", retryable=True))
            else:
                out.append(Verdict(0.7 if len(item.second) > len(item.first) else 0.4, raw_output="ok"))
        return out


def _rows(store):
    return store.query(
        'SELECT prompt_id, "order", preference, error FROM judgments ORDER BY prompt_id, "order"'
    )


def test_both_orders_stored_and_unmirrored(store):
    seed_store(store)
    result = judge_pairs(store, ScriptedJudge(), "old", "new", round_id="r1")
    rows = _rows(store)
    assert len(rows) == 12 and set(rows["order"]) == {"ab", "ba"}
    p0 = rows[rows.prompt_id == "p0"].set_index("order")["preference"]
    # p0: new (model_b) is "The answer is 4." (16 chars), old "The answer is 5." (16): equal -> 0.4 both shown ways
    assert p0["ab"] == pytest.approx(0.4) and p0["ba"] == pytest.approx(0.6)
    p2 = rows[rows.prompt_id == "p2"].set_index("order")["preference"]
    # p2: new answer is longer. ab: B shown second and longer -> 0.7; ba: B shown first -> 1 - 0.4 = 0.6
    assert p2["ab"] == pytest.approx(0.7) and p2["ba"] == pytest.approx(0.6)
    assert (
        result.n_prompts == 6 and result.n_verdicts == 12 and result.n_judged == 12 and result.n_cached == 0
    )
    assert result.n_both_scored == 6
    # p0 (0.4 vs 0.6) flips with position: inconsistent; p2 (0.7, 0.6) consistent
    stored = store.query("SELECT round_id, source, generation_a IS NOT NULL AS g, length_a FROM judgments")
    assert set(stored["round_id"]) == {"r1"} and set(stored["source"]) == {"judge"} and stored["g"].all()
    assert 0 < result.n_consistent < 6


def test_rerun_makes_zero_judge_calls_and_adds_nothing(store):
    seed_store(store)
    judge_pairs(store, ScriptedJudge(), "old", "new")
    again = ScriptedJudge()
    result = judge_pairs(store, again, "old", "new")
    assert again.calls == 0
    assert result.n_cached == 12 and result.n_judged == 0 and result.n_rows_added == 0
    assert len(_rows(store)) == 12
    # a new judge version is a different judge: it judges everything again
    fresh = ScriptedJudge(version="v2")
    judge_pairs(store, fresh, "old", "new")
    assert fresh.calls == 12


def test_crash_midway_then_rerun_resumes_without_rejudging(store):
    seed_store(store)
    crashing = ScriptedJudge(fail_after=7)
    with pytest.raises(RuntimeError, match="judge crashed"):
        judge_pairs(store, crashing, "old", "new", chunk_prompts=2)  # chunks of 4 verdicts
    assert len(_rows(store)) == 4  # one committed chunk; the second died at its 4th verdict
    assert store.count("judge_cache") == 4
    resumed = ScriptedJudge()
    result = judge_pairs(store, resumed, "old", "new", chunk_prompts=2)
    assert resumed.calls == 8 and result.n_cached == 4 and result.n_rows_added == 8
    assert len(_rows(store)) == 12


def test_failures_are_unscored_rows_never_ties(store):
    seed_store(store)
    result = judge_pairs(store, ScriptedJudge(unscored_if="Sea."), "old", "new")
    rows = _rows(store)
    failed = rows[rows.prompt_id == "p4"]
    assert len(failed) == 2 and failed["preference"].isna().all() and (failed["error"] == "unparseable").all()
    assert result.n_unscored == 2 and result.errors == ("unparseable",)
    assert result.n_both_scored == 5
    assert (rows["preference"].dropna() != 0.5).all()


def test_retryable_failures_are_not_stored_and_are_retried(store):
    seed_store(store)
    result = judge_pairs(store, ScriptedJudge(retryable_if="Sea."), "old", "new")
    assert result.n_retry_failed == 2 and len(_rows(store)) == 10
    healed = ScriptedJudge()
    judge_pairs(store, healed, "old", "new")
    assert healed.calls == 2 and len(_rows(store)) == 12


def test_a_chunk_of_only_infrastructure_failures_stops_the_run(store):
    seed_store(store)
    with pytest.raises(JudgeRunError, match=r"retryable error.*HTTP 503"):
        judge_pairs(store, ScriptedJudge(retryable_if="."), "old", "new")
    assert len(_rows(store)) == 0


def test_missing_answers_are_counted_and_prompts_filter(store):
    seed_store(store, skip_new=(1, 3))
    result = judge_pairs(store, ScriptedJudge(), "old", "new")
    assert result.n_missing == 2 and result.n_prompts == 4
    other = judge_pairs(store, ScriptedJudge(version="v9"), "old", "new", prompts=["p0"])
    assert other.n_prompts == 1 and other.n_verdicts == 2


def test_one_order_per_prompt_is_reproducible(store):
    seed_store(store)
    judge_pairs(store, ScriptedJudge(), "old", "new", both_orders=False)
    first = _rows(store)[["prompt_id", "order"]].values.tolist()
    assert len(first) == 6 and {o for _, o in first} == {"ab", "ba"}  # sha256(prompt_id) picks


def test_reference_judge_end_to_end(store):
    seed_store(store)
    result = judge_pairs(store, ReferenceJudge(), "old", "new", round_id="r1")
    prefs = store.query(
        "SELECT prompt_id, avg(preference) AS p, count(preference) AS n FROM judgments GROUP BY 1 ORDER BY 1"
    ).set_index("prompt_id")
    assert prefs.loc[["p0", "p1", "p2", "p5"], "p"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert prefs.loc["p3", "p"] == 0.5  # both right or both wrong: a tie
    # p4 has no reference: skipped and counted, no row stored (neither a tie nor an unscored verdict)
    assert "p4" not in prefs.index and result.n_no_reference == 1
    assert result.n_prompts == 5 and result.n_verdicts == 10 and result.n_unscored == 0
    assert result.win_rate == pytest.approx(4.5 / 5) and result.position_consistency == 1.0
    # the judge itself still refuses a pair without a reference if a caller hands it one
    (direct,) = ReferenceJudge().judge([PairItem(question="q", first="1", second="2", prompt_id="p4")])
    assert direct.preference is None and "has no reference" in (direct.error or "")


def test_rationales_only_where_asked(store):
    seed_store(store)

    class Explaining(ScriptedJudge):
        rationale = "disagreements"

        def __init__(self):
            super().__init__()
            self.explained = []

        def explain(self, items):
            self.explained.extend(items)
            return [f"because {it.prompt_id}" for it in items]

    judge = Explaining()
    result = judge_pairs(store, judge, "old", "new")
    rows = store.query("SELECT prompt_id, rationale FROM judgments WHERE rationale IS NOT NULL")
    # disagreements = prompts whose two orders fall on opposite sides of 0.5 (equal-length answers here)
    assert result.n_rationales == len(rows) == len(judge.explained) > 0
    assert len(rows) == 2 * (result.n_both_scored - result.n_consistent)


def test_same_model_twice_is_refused(store):
    with pytest.raises(ValueError, match="same checkpoint"):
        judge_pairs(store, ScriptedJudge(), "old", "old")


def test_identical_pairs_under_two_prompt_ids_are_judged_once(store):
    store.append("prompts", [{"prompt_id": "x1", "text": "Same?"}, {"prompt_id": "x2", "text": "Same?"}])
    store.append(
        "generations",
        [
            {"checkpoint_id": m, "prompt_id": p, "text": t}
            for p in ("x1", "x2")
            for m, t in (("old", "short"), ("new", "a longer answer"))
        ],
    )
    judge = ScriptedJudge()
    result = judge_pairs(store, judge, "old", "new")
    assert judge.calls == 2 and result.n_verdicts == 4 and store.count("judge_cache") == 2
    assert store.count("judgments") == 4
