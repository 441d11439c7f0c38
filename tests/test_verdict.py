"""The demo's verdict: a table per round and judge from the statistics core, canary results and reference accuracy,
and one plain sentence that believes only judges that passed their canaries. Built on a small store."""

from __future__ import annotations

import pytest

from judges.stats.paired import paired_change
from judges.stats.winrate import win_rate
from rlhf.rounds.events import record
from rlhf.rounds.verdict import format_verdict, verdict_rows, verdict_sentence

REF_V, LLM_V = "reference-v1:auto:1e-06:1e-09", "llm-v9"


def _judgments(round_id: str, judge: str, version: str, a: str, b: str, prefs: list[float]) -> list[dict]:
    return [
        {
            "judge": judge,
            "judge_version": version,
            "prompt_id": f"p{i:02d}",
            "model_a": a,
            "model_b": b,
            "order": order,
            "preference": p,
            "round_id": round_id,
            "source": "judge",
        }
        for i, p in enumerate(prefs)
        for order in ("ab", "ba")
    ]


def _round(
    store,
    round_id: str,
    a: str,
    b: str,
    *,
    ref: list[float],
    llm: list[float],
    acc: tuple[int, int],
    llm_summary: dict | None = None,
    change=None,
) -> None:
    store.append(
        "judgments",
        _judgments(round_id, "reference", REF_V, a, b, ref) + _judgments(round_id, "llm", LLM_V, a, b, llm),
    )
    n = len(ref)
    detail = {
        "model_a": a,
        "model_b": b,
        "primary_judge": "reference",
        "judges": {
            "reference": {"judge": "reference", "judge_version": REF_V, "n_skipped": 5, "kind": "reference"},
            "llm": {
                "judge": "llm",
                "judge_version": LLM_V,
                "n_skipped": 0,
                "kind": "llm",
                **(llm_summary or {}),
            },
        },
        # the paired test the evaluate stage records: the reference judge's 1.0 verdicts are prompts gained, its
        # 0.0 verdicts prompts lost (only the new / only the old answer right)
        "reference_change": (
            change
            or paired_change(
                [p == 0.0 for p in ref] + [True] * (acc[0] - ref.count(0.0)),
                [p == 1.0 for p in ref] + [True] * (acc[0] - ref.count(0.0)),
            )
        ).to_dict(),
        "reference_accuracy": {
            a: {"n": n, "n_correct": acc[0], "accuracy": acc[0] / n, "ci_low": 0.0, "ci_high": 1.0},
            b: {"n": n, "n_correct": acc[1], "accuracy": acc[1] / n, "ci_low": 0.0, "ci_high": 1.0},
        },
    }
    record(store, round_id, stage="", status="running")
    record(store, round_id, stage="evaluate", status="done", detail=detail)
    record(store, round_id, stage="", status="done")


@pytest.fixture
def two_round_store(store):
    _canaries(store)
    # round 1: the reference judge sees 2 wins, 1 loss, 17 ties (no change); the LLM judge "loves" the new policy
    _round(store, "round-001", "base", "r1", ref=[1.0, 1.0, 0.0] + [0.5] * 17, llm=[0.9] * 20, acc=(6, 7))
    return store


def _canaries(store) -> None:
    """The reference judge can tell, the LLM judge cannot."""
    store.append(
        "judge_canaries",
        [
            {
                "judge": "reference",
                "judge_version": REF_V,
                "canary_set": "c1",
                "n": 40,
                "accuracy": 1.0,
                "ci_low": 0.91,
                "ci_high": 1.0,
                "informative": True,
            },
            {
                "judge": "llm",
                "judge_version": LLM_V,
                "canary_set": "c1",
                "n": 40,
                "accuracy": 0.5,
                "ci_low": 0.35,
                "ci_high": 0.65,
                "informative": False,
            },
        ],
    )


def test_no_trusted_judge_found_a_change(two_round_store):
    rows = verdict_rows(two_round_store)
    assert [(r.round_id, r.judge) for r in rows] == [("round-001", "reference"), ("round-001", "llm")]
    ref, llm = rows
    core = win_rate([1.0, 1.0, 0.0] + [0.5] * 17, seed=0)
    assert ref.win_rate == pytest.approx(core.win_rate) == pytest.approx(0.525)
    assert (ref.ci_low, ref.ci_high, ref.significant) == (
        pytest.approx(core.ci_low),
        pytest.approx(core.ci_high),
        False,
    )
    assert (ref.n, ref.n_skipped, ref.can_tell, ref.headline) == (20, 5, True, True)
    assert (ref.accuracy_old, ref.accuracy_new, ref.accuracy_n) == (
        pytest.approx(0.3),
        pytest.approx(0.35),
        20,
    )
    assert (
        llm.significant and llm.win_rate == pytest.approx(0.9) and llm.can_tell is False and not llm.headline
    )
    sentence = verdict_sentence(rows)
    assert sentence.startswith(
        "No judge that can tell (passed its canaries: reference) found a significant change"
    )
    # computed, not asserted: 2 prompts gained, 1 lost; McNemar by hand: 2 * P(X <= 1 | n = 3) = 2 * 4 / 8 = 1
    assert (
        "(in round-001 reference accuracy went from 30% to 35%: 2 prompts gained and 1 lost, "
        "McNemar's exact p = 1: within the noise)" in sentence
    )
    assert "llm in round-001 (90%)" in sentence and "not believed" in sentence

    text = format_verdict(rows)
    lines = text.splitlines()
    assert lines[0].startswith("round      judge") and "ref. accuracy old -> new" in lines[0]
    ref_line = next(line for line in lines if line.startswith("round-001  reference *"))
    assert (
        "52%" in ref_line
        and "20 (5 skipped)" in ref_line
        and "passed" in ref_line
        and "30% -> 35% of 20" in ref_line
    )
    llm_line = next(line for line in lines if line.startswith("round-001  llm"))
    assert "90%" in llm_line and "yes" in llm_line and "FAILED" in llm_line
    assert lines[-1] == "Verdict: " + sentence


def test_a_significant_paired_accuracy_change_is_not_called_noise(store):
    """No judge that can tell found a significant win rate, but the reference accuracy moved from 6 to 14 of 20
    with 8 prompts gained and none lost: McNemar's exact p = 2 / 2**8 = 0.0078. The sentence says so; it used
    to append "within the noise" whatever the change."""
    _canaries(store)
    change = paired_change([False] * 8 + [True] * 6 + [False] * 6, [True] * 14 + [False] * 6)
    assert (change.lost, change.gained, change.p_value) == (0, 8, 0.0078125)
    # the reference judge (trusted) judged other prompts: one gain, one loss, 18 ties, not significant
    ref = [1.0, 0.0] + [0.5] * 18
    _round(store, "round-001", "base", "r1", ref=ref, llm=[0.9] * 20, acc=(6, 14), change=change)
    sentence = verdict_sentence(verdict_rows(store))
    assert sentence.startswith(
        "No judge that can tell (passed its canaries: reference) found a significant change"
    )
    assert (
        "(in round-001 reference accuracy went from 30% to 70%: 8 prompts gained and 0 lost, McNemar's exact "
        "p = 0.0078: a significant change)" in sentence
    )
    assert "within the noise" not in sentence


def test_a_trusted_significant_change_is_the_verdict(two_round_store):
    _round(two_round_store, "round-002", "r1", "r2", ref=[1.0] * 15 + [0.5] * 5, llm=[0.5] * 20, acc=(6, 15))
    rows = verdict_rows(two_round_store)
    ref2 = next(r for r in rows if r.round_id == "round-002" and r.judge == "reference")
    assert ref2.significant and ref2.ci_low > 0.5
    sentence = verdict_sentence(rows)
    assert sentence.startswith(
        "round-002 improved reference accuracy from 30% to 75% (reference judge: win rate 88%"
    )
    assert "significant" in sentence and "round-001" not in sentence


def test_a_judge_that_failed_its_canaries_shows_its_sample_or_that_it_was_not_judged(store):
    """round.uninformative_judges: the LLM judge (failed its canaries) judged a sample of 20 of 60 prompts in
    round 1 (its 20 judged prompts are in the store) and none in round 2 (no judgments at all)."""
    _canaries(store)
    sample = {"policy": "sample", "n_judged": 20, "n_not_judged": 40, "reason": "failed its canaries"}
    skip = {**sample, "policy": "skip", "n_judged": 0, "n_not_judged": 60}
    _round(store, "round-001", "base", "r1", ref=[0.5] * 20, llm=[0.9] * 20, acc=(6, 7),
           llm_summary={"uninformative": sample})  # fmt: skip
    _round(
        store,
        "round-002",
        "r1",
        "r2",
        ref=[0.5] * 20,
        llm=[],
        acc=(7, 7),
        llm_summary={"uninformative": skip},
    )

    rows = {(r.round_id, r.judge): r for r in verdict_rows(store)}
    sampled, skipped = rows[("round-001", "llm")], rows[("round-002", "llm")]
    assert (sampled.n, sampled.left_out_policy, sampled.n_eligible) == (20, "sample", 60)
    assert sampled.win_rate == pytest.approx(0.9)
    assert (skipped.n, skipped.left_out_policy, skipped.win_rate, skipped.significant) == (
        0,
        "skip",
        None,
        False,
    )
    lines = format_verdict(list(rows.values())).splitlines()
    assert "20 (sample of 60)" in next(line for line in lines if line.startswith("round-001  llm"))
    skip_line = next(line for line in lines if line.startswith("round-002  llm"))
    assert "0 (not judged)" in skip_line and "FAILED" in skip_line
    assert any(line.startswith("sample / not judged: the judge failed its canaries") for line in lines)
    # without such a judge the note is not printed
    assert "sample / not judged" not in format_verdict([rows[("round-001", "reference")]])


def test_no_canaries_and_hostile_names(store):
    import dataclasses

    _round(store, "round-001", "base", "r1", ref=[0.5] * 4, llm=[0.5] * 4, acc=(1, 1))
    rows = verdict_rows(store)
    assert len(rows) == 2 and {r.can_tell for r in rows} == {None}
    assert verdict_sentence(rows).startswith("No judge has passed its canaries")
    assert "not run" in format_verdict(rows)
    hostile = dataclasses.replace(rows[0], judge="evil\x1b[31m\nname")
    text = format_verdict([hostile])
    assert "\x1b" not in text and "evil?[31m?name" in text
    assert verdict_sentence([]) == "No round has been evaluated yet."


@pytest.mark.slow  # a whole (tiny) round through the CLI: about 30-60 s on 2 shared cores
def test_demo_ends_with_the_verdict_and_where_to_look(tmp_path, tiny_lm_dir, tiny_rm_dir):
    from click.testing import CliRunner

    from rlhf.cli import main
    from rounds_helpers import tiny_recipe, write_recipe

    recipe = tiny_recipe(tiny_lm_dir, tiny_rm_dir, train_prompts=4, eval_prompts=12, seed_pairs=True)
    recipe["judges"] = [{"kind": "reference", "primary": True}, {"kind": "reward"}]
    path = write_recipe(tmp_path / "tiny.yaml", recipe)
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main,
        ["demo", "--rounds", "1", "--no-serve", "--store", str(store), "--config", str(path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    table = out[out.index("round      judge") :]
    assert "round-001  reference *" in table and "round-001  reward-model" in table
    assert "\nVerdict: " in out and "where to look: rlhf --store" in out and "Progress" in out


def test_the_reference_finding_is_recognised_by_the_judge_kind_not_a_version_prefix():
    from rlhf.rounds.verdict import VerdictRow

    common = dict(round_id="round-001", model_a="a", model_b="b", win_rate=0.8, ci_low=0.7, ci_high=0.9)
    accuracy = dict(accuracy_old=0.3, accuracy_new=0.6, accuracy_n=20, n=20, n_skipped=0, headline=True)
    # an LLM judge whose version string happens to start like the reference judge's
    llm = VerdictRow(
        judge="style", judge_version="reference-style-v2", significant=True, can_tell=True, judge_kind="llm",
        **common, **accuracy,
    )  # fmt: skip
    assert verdict_sentence([llm]).startswith(
        "in round-001 the style judge found the new policy significantly better"
    )
    ref = VerdictRow(
        judge="exact", judge_version="v7", significant=True, can_tell=True, judge_kind="reference",
        **common, **accuracy,
    )  # fmt: skip
    assert verdict_sentence([ref]).startswith(
        "round-001 improved reference accuracy from 30% to 60% (exact judge"
    )
