"""Judge health numbers on a hand-built set of verdicts, each checked against a hand computation."""

from __future__ import annotations

import doctest
import math

import pandas as pd
import pytest

import judges.stats.health
from judges.stats.health import cohens_kappa, judge_agreement, judge_health, outcome_classes


def _v(judge, prompt, a, b, order, pref):
    return {
        "judge": judge,
        "prompt_id": prompt,
        "model_a": a,
        "model_b": b,
        "order": order,
        "preference": pref,
    }


@pytest.fixture
def verdicts() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _v("llm", "p1", "A", "B", "ab", 0.9),
            _v("llm", "p1", "A", "B", "ba", 0.8),  # same side: consistent
            _v("llm", "p2", "A", "B", "ab", 0.8),
            _v("llm", "p2", "A", "B", "ba", 0.3),  # flips with the order: inconsistent
            _v("llm", "p3", "A", "B", "ab", 0.5),
            _v("llm", "p3", "A", "B", "ba", 0.5),  # two ties: consistent
            _v("llm", "p4", "A", "B", "ab", None),  # unscored
            _v("llm", "p4", "A", "B", "ba", 0.2),
            _v("rm", "p1", "A", "B", "ab", 0.9),
            _v("rm", "p2", "A", "B", "ab", 0.1),
            _v("rm", "p3", "A", "B", "ab", 0.5),
            _v("rm", "p4", "A", "B", "ab", 0.3),
            _v("rm", "p5", "A", "B", "ab", 0.3),  # llm has no verdict here
            _v("human", "p1", "A", "B", "ab", 1.0),
            _v("human", "p2", "B", "A", "ab", 1.0),  # stored mirrored: A better, so B loses
        ]
    )


def test_health_numbers_by_hand(verdicts):
    h = judge_health(verdicts, "llm")
    assert h.n_verdicts == 8
    assert h.unscored_rate == pytest.approx(1 / 8)
    assert h.tie_rate == pytest.approx(2 / 7)
    # P(first shown better): 'ab' shows A first (1 - p), 'ba' shows B first (p)
    assert h.first_position_win_rate == pytest.approx((0.1 + 0.8 + 0.2 + 0.3 + 0.5 + 0.5 + 0.2) / 7)
    assert (h.position_consistency, h.n_consistency_prompts) == (pytest.approx(2 / 3), 3)


def test_health_needs_a_judge_when_several(verdicts):
    with pytest.raises(ValueError, match=r"several judges \['human', 'llm', 'rm'\]"):
        judge_health(verdicts)


def test_agreement_between_two_judges_by_hand(verdicts):
    # llm combined: p1 .85 win, p2 .55 win, p3 .5 tie, p4 .2 loss; rm: win, loss, tie, loss
    a = judge_agreement(verdicts, "llm", "rm")
    assert (a.n, a.percent_agreement) == (4, 0.75)
    # chance = .5*.25 + .25*.25 + .25*.5 = .3125; kappa = (.75 - .3125) / .6875 = 7/11
    assert a.cohens_kappa == pytest.approx(7 / 11)


def test_agreement_with_humans_reads_mirrored_labels(verdicts):
    a = judge_agreement(verdicts, "llm")  # judge_y defaults to 'human'
    assert (a.judge_y, a.n, a.percent_agreement) == ("human", 2, 0.5)


def test_agreement_with_a_judge_that_has_no_verdicts(verdicts):
    a = judge_agreement(verdicts, "llm", "nobody")
    assert a.n == 0


def test_kappa_textbook_example():
    # 50 items: both yes 20, x yes/y no 5, x no/y yes 10, both no 15 -> po .7, pe .5, kappa .4
    x = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    y = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohens_kappa(x, y) == pytest.approx(0.4)
    assert pd.isna(cohens_kappa([1, 1], [1, 1]))


def test_outcome_classes_keep_unscored_apart():
    assert outcome_classes(pd.Series([0.7, None, 0.5])).tolist()[::2] == [1.0, 0.0]
    assert pd.isna(outcome_classes(pd.Series([0.7, None]))[1])


def test_docstring_examples():
    assert doctest.testmod(judges.stats.health).failed == 0


def test_unknown_order_is_left_out_of_position_metrics_and_counted():
    # claude-2-like import: only one orientation, no order. Treating it as 'ab' would report the first
    # position winning 1 - win rate; unknown, it reports nothing and says how many were left out.
    imported = pd.DataFrame(
        {
            "judge": "J",
            "prompt_id": ["p", "q", "r"],
            "model_a": "base",
            "model_b": "m",
            "order": [None, None, None],
            "preference": [0.0, 0.0, 1.0],
        }
    )
    h = judge_health(imported, "J")
    assert math.isnan(h.first_position_win_rate) and math.isnan(h.position_consistency)
    assert (h.n_unknown_order, h.n_consistency_prompts, h.n_verdicts) == (3, 0, 3)
    known = pd.DataFrame(
        {
            "judge": "J",
            "prompt_id": ["p", "p"],
            "model_a": "base",
            "model_b": "m",
            "order": ["ab", "ba"],
            "preference": [0.9, 0.8],
        }
    )
    both = judge_health(pd.concat([imported, known]), "J")
    # first shown: 'ab' verdict 0.9 -> P(first better) = 0.1; 'ba' verdict 0.8 -> 0.8; mean 0.45
    assert both.first_position_win_rate == pytest.approx(0.45)
    assert (both.position_consistency, both.n_consistency_prompts, both.n_unknown_order) == (1.0, 1, 3)
