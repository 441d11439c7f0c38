"""Win-rate statistics against hand-computed and published (AlpacaEval) numbers."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

import judges.stats.bootstrap
import judges.stats.preferences
import judges.stats.significance
import judges.stats.winrate
from judges.stats.bootstrap import bootstrap_means, percentile_interval
from judges.stats.preferences import pair_preferences, prompt_preferences
from judges.stats.winrate import win_rate, win_rate_by


def _judgment(prompt, a, b, order, pref, **extra):
    return {
        "judge": "J",
        "prompt_id": prompt,
        "model_a": a,
        "model_b": b,
        "order": order,
        "preference": pref,
        **extra,
    }


def test_alpacaeval_published_standard_error():
    # alpaca_eval's leaderboard row "win_rate 44.0, standard_error 4.988876515698589, n_wins 44,
    # n_wins_base 56, n_draws 0, n_total 100" (percent units): 44 wins and 56 losses
    r = win_rate([1.0] * 44 + [0.0] * 56, n_boot=0)
    assert r.win_rate == pytest.approx(0.44, abs=1e-15)
    assert r.standard_error * 100 == pytest.approx(4.988876515698589, abs=1e-12)
    assert (r.n_wins, r.n_losses, r.n_ties, r.n_total) == (44, 56, 0, 100)


def test_hand_computed_soft_and_ties_and_unscored():
    r = win_rate([1.0, 0.75, 0.5, 0.25, np.nan, np.nan], n_boot=0)
    assert r.win_rate == pytest.approx(0.625)
    # std of [1, .75, .5, .25] with ddof 1 = sqrt(0.3125 / 3); / sqrt(4)
    assert r.standard_error == pytest.approx(math.sqrt(0.3125 / 3) / 2)
    assert (r.n_wins, r.n_losses, r.n_ties, r.n_total, r.n_unscored) == (2, 1, 1, 4, 2)
    assert math.isnan(r.p_value) and not r.significant  # no resamples, no test
    # MDE = (z_.975 + z_.8) * SE = (1.959964 + 0.841621) * 0.161374
    assert r.mde == pytest.approx(2.801585 * math.sqrt(0.3125 / 3) / 2, rel=1e-6)


def test_two_sided_p_value_agrees_with_the_interval():
    better = win_rate([1.0] * 30 + [0.0] * 10, n_boot=2000, seed=1)
    worse = win_rate([0.0] * 30 + [1.0] * 10, n_boot=2000, seed=1)
    assert better.significant and worse.significant  # a regression is as detectable as an improvement
    assert better.p_value < 0.01 and worse.p_value < 0.01
    assert better.ci_low > 0.5 and worse.ci_high < 0.5
    even = win_rate([1.0] * 20 + [0.0] * 20, n_boot=2000, seed=1)
    assert not even.significant and even.p_value > 0.5


def test_bootstrap_interval_is_seeded_and_matches_normal_theory_for_large_n():
    rng = np.random.default_rng(0)
    p = (rng.random(3000) < 0.6).astype(float)
    a = win_rate(p, n_boot=2000, seed=3)
    assert a == win_rate(p, n_boot=2000, seed=3)
    other = win_rate(p, n_boot=2000, seed=4)
    assert (a.ci_low, a.ci_high, a.p_value) != (other.ci_low, other.ci_high, other.p_value)
    half = (a.ci_high - a.ci_low) / 2
    assert half == pytest.approx(1.96 * a.standard_error, rel=0.1)
    assert a.ci_low < a.win_rate < a.ci_high


def test_percentile_interval_and_bootstrap_means_by_hand():
    assert percentile_interval(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 0.5) == pytest.approx((1.0, 3.0))
    assert bootstrap_means(np.array([2.0, 2.0]), n_boot=5, seed=1).tolist() == [2.0] * 5
    with pytest.raises(ValueError, match="confidence"):
        percentile_interval(np.array([1.0]), 1.5)


def test_to_dict_turns_nan_into_none():
    d = win_rate([0.7], n_boot=10).to_dict()
    assert d["standard_error"] is None and d["win_rate"] == 0.7


def test_preferences_outside_unit_interval_are_rejected():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        win_rate([1.2])


def _judgments() -> pd.DataFrame:
    return pd.DataFrame(
        [
            # p1: both orders, baseline A as model_a: P(B better) = 0.8 and 0.6 -> 0.7, consistent
            _judgment("p1", "A", "B", "ab", 0.8, category="math", length_a=10, length_b=20),
            _judgment("p1", "A", "B", "ba", 0.6, category="math", length_a=10, length_b=20),
            # p2: stored with B as model_a: P(A better) = 0.9 -> P(B better) = 0.1; second order unscored
            _judgment("p2", "B", "A", "ab", 0.9, category=None, answer_a="hello", answer_b="hi"),
            _judgment("p2", "B", "A", "ba", None, category=None, error="parse"),
            # p3: only verdict unscored -> an unscored prompt, never a tie
            _judgment("p3", "A", "B", "ab", None, category="code", error="timeout"),
            # p4: the orders disagree (A first: B wins 0.7; B first: B loses 0.3) -> 0.5, inconsistent
            _judgment("p4", "A", "B", "ab", 0.7, category="code"),
            _judgment("p4", "A", "B", "ba", 0.3, category="code"),
            # another pair and another model: ignored
            _judgment("p1", "A", "C", "ab", 1.0, category="math"),
        ]
    )


def test_prompt_preferences_orient_average_and_count():
    pp = prompt_preferences(_judgments(), model="B", baseline="A").set_index("prompt_id")
    assert pp.loc["p1", "preference"] == pytest.approx(0.7)
    assert pp.loc["p2", "preference"] == pytest.approx(0.1)
    assert math.isnan(pp.loc["p3", "preference"])
    assert pp.loc["p4", "preference"] == pytest.approx(0.5)
    assert pp["n_verdicts"].tolist() == [2, 2, 1, 2]
    assert pp["n_unscored_verdicts"].tolist() == [0, 1, 1, 0]
    assert pp.loc["p1", "consistent"] == True  # noqa: E712 (pandas boolean NA-able)
    assert pp.loc["p4", "consistent"] == False  # noqa: E712
    assert pd.isna(pp.loc["p2", "consistent"])
    assert (pp.loc["p1", "length_model"], pp.loc["p1", "length_baseline"]) == (20, 10)
    # lengths from the answer text when not stored: B's answer is answer_a ("hello") on p2
    assert (pp.loc["p2", "length_model"], pp.loc["p2", "length_baseline"]) == (5, 2)

    r = win_rate(pp["preference"], n_boot=0)
    assert r.win_rate == pytest.approx((0.7 + 0.1 + 0.5) / 3)
    assert (r.n_wins, r.n_losses, r.n_ties, r.n_total, r.n_unscored) == (1, 1, 1, 3, 1)


def test_mirrored_view_is_the_complement():
    j = _judgments()
    forward = prompt_preferences(j, "B", "A")["preference"]
    backward = prompt_preferences(j, "A", "B")["preference"]
    np.testing.assert_allclose(forward.to_numpy(), 1 - backward.to_numpy())


def test_several_judges_need_a_choice():
    j = pd.concat([_judgments(), _judgments().assign(judge="K", preference=0.0)])
    with pytest.raises(ValueError, match=r"several judges \['J', 'K'\]"):
        prompt_preferences(j, "B", "A")
    only_k = prompt_preferences(j, "B", "A", judge="K")
    assert only_k["preference"].tolist() == [0.0, 1.0, 0.0, 0.0]


def test_breakdown_by_category_with_n_per_cell():
    pp = prompt_preferences(_judgments(), "B", "A")
    cells = win_rate_by(pp, "category", n_boot=100)
    assert sorted(cells) == ["(none)", "code", "math"]
    assert (cells["code"].n_total, cells["code"].n_unscored, cells["code"].win_rate) == (1, 1, 0.5)
    assert (cells["math"].n_total, cells["math"].win_rate) == (1, pytest.approx(0.7))
    assert cells["(none)"].n_total == 1
    with pytest.raises(ValueError, match="no such column"):
        win_rate_by(pp, "topic")


def test_pair_preferences_canonical_order():
    pairs = pair_preferences(_judgments()).set_index(["prompt_id", "model_x", "model_y"])
    assert pairs.loc[("p2", "A", "B"), "preference"] == pytest.approx(0.1)
    assert pairs.loc[("p1", "A", "C"), "preference"] == 1.0
    assert len(pairs) == 5


def test_pair_preferences_equal_their_definition_as_a_groupby():
    """Every (judge, prompt, unordered pair) item: the mean of its scored verdicts oriented to P(model_y
    better), the verdict count, the first known category; sorted by judge, prompt, model_x, model_y.
    Written here as the plain pandas groupby it is, on messy rows (unscored verdicts, missing categories,
    upper-case names that sort first, prompts judged by two judges, a pair judged in one order only)."""
    rng = np.random.default_rng(5)
    n = 400
    models = np.array(["m1", "m10", "m2", "B", "a"])
    a = rng.choice(models, n)
    b = np.where(rng.random(n) < 0.5, np.roll(a, 1), rng.choice(models, n))
    category = rng.choice(["x", "y"], n).astype(object)
    category[rng.random(n) < 0.4] = None
    judgments = pd.DataFrame({
        "judge": rng.choice(["J", "K"], n), "judge_version": "v1", "prompt_id": rng.choice(["p3", "p1", "p20"], n),
        "model_a": a, "model_b": b, "category": pd.Series(category, dtype="str"),
        "preference": np.where(rng.random(n) < 0.15, np.nan, rng.choice([0.0, 0.25, 0.5, 1.0], n)),
    })  # fmt: skip
    swap = judgments["model_a"] > judgments["model_b"]
    oriented = judgments.assign(
        model_x=np.where(swap, judgments["model_b"], judgments["model_a"]),
        model_y=np.where(swap, judgments["model_a"], judgments["model_b"]),
        p=np.where(swap, 1.0 - judgments["preference"], judgments["preference"]),
    )
    expected = (
        oriented.groupby(["judge", "prompt_id", "model_x", "model_y"], sort=True)
        .agg(preference=("p", "mean"), n_verdicts=("p", "size"), category=("category", "first"))
        .reset_index()
    )
    got = pair_preferences(judgments)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-15)
    assert got["preference"].isna().any() and got["category"].isna().any()  # the messy cases occurred
    assert got.loc[got["judge"] == "J", "model_x"].iloc[0] == "B"  # upper case sorts before lower


def test_sorted_factorize_of_item_keys_equals_pandas():
    # pair_preferences groups its rows by one integer key per (judge, prompt, x, y) with a 16-bit radix sort;
    # it must number them as pandas' sorted factorize does, for keys of one, two and three 16-bit digits
    from judges.stats.preferences import _factorize_sorted

    rng = np.random.default_rng(0)
    for high in (2**16, 2**32, 2**47):
        key = rng.integers(0, high, 3000)
        key = np.concatenate([key, key[rng.integers(0, 3000, 2000)]])  # repeated keys, in any order
        codes, uniques = _factorize_sorted(key)
        expected_codes, expected_uniques = pd.factorize(key, sort=True)
        np.testing.assert_array_equal(codes, expected_codes)
        np.testing.assert_array_equal(uniques, expected_uniques)
    codes, uniques = _factorize_sorted(np.zeros(0, dtype=np.int64))
    assert len(codes) == len(uniques) == 0


def test_quick_factorize_of_a_single_valued_column_equals_pandas():
    # one judge and one version take a shortcut; a missing value must never join the single value
    from judges.stats.preferences import _factorize

    columns = [
        pd.Series(["J", "J"], dtype="str"),
        pd.Series(["J", None], dtype="string"),  # J == <NA> is <NA>, not False
        pd.Series(["J", None], dtype="str"),
        pd.Series([None, "J"], dtype="str"),
        pd.Series(["J", None], dtype=object),
        pd.Series([2, 2]),
        pd.Series([1.0, np.nan]),
    ]
    for column in columns:
        codes, uniques = _factorize(column)
        expected_codes, expected_uniques = pd.factorize(column, sort=True, use_na_sentinel=False)
        np.testing.assert_array_equal(codes, expected_codes)
        pd.testing.assert_index_equal(uniques, expected_uniques)


def test_docstring_examples():
    assert doctest.testmod(judges.stats.winrate).failed == 0
    assert doctest.testmod(judges.stats.bootstrap).failed == 0
    assert doctest.testmod(judges.stats.preferences).failed == 0
    assert doctest.testmod(judges.stats.significance).failed == 0
