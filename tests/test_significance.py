"""Significance, MDE, multiple comparisons and the streamed bootstrap, against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from judges.stats.bootstrap import bootstrap_means, percentile_interval, resample_chunks, resample_indices
from judges.stats.significance import (
    bootstrap_p_value,
    holm,
    interval_test,
    minimum_detectable_effect,
    rejects,
)
from judges.stats.winrate import win_rate, win_rate_by


@pytest.mark.parametrize("seed", range(40))
def test_significance_is_exactly_the_interval_excluding_one_half(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    centre = rng.uniform(0.3, 0.7)
    prefs = np.clip(rng.normal(centre, 0.35, n), 0, 1).round(1)  # ties and soft verdicts, values on a grid
    for n_boot, confidence in ((200, 0.95), (1000, 0.9), (2000, 0.95)):
        r = win_rate(prefs, n_boot=n_boot, seed=seed, confidence=confidence)
        excludes = r.ci_low > 0.5 or r.ci_high < 0.5
        assert r.significant == excludes == rejects(r.p_value, confidence), (seed, n_boot, r)


def test_the_boundary_p_equal_to_alpha_is_not_significant_and_the_interval_holds_one_half():
    """Exactly 50 of 2,000 resampled means at or below 0.5 (7 wins, 2 losses, seed 9: found by search): the
    interval's lower end, the 50th smallest mean, is at or below 0.5 and p = 2 * 50 / 2000 = 0.05. Compared
    with 1 - 0.95 = 0.050000000000000044, p used to count as significant while the interval held 0.5; the Holm
    flag of a one-cell breakdown (adjusted p = p) said the same."""
    prefs = np.array([1.0] * 7 + [0.0] * 2)
    means = bootstrap_means(np.sort(prefs), n_boot=2000, seed=9)  # win_rate resamples the sorted values
    assert int((means <= 0.5).sum()) == 50
    r = win_rate(prefs, n_boot=2000, seed=9)
    assert r.p_value == 0.05 and r.ci_low <= 0.5
    assert not r.significant
    (cell,) = win_rate_by(pd.DataFrame({"category": "a", "preference": prefs}), n_boot=2000, seed=9).values()
    assert cell.p_adjusted == 0.05 and cell.significant_adjusted is False
    # one resampled mean fewer at or below 0.5 is significant on both counts
    low, _, p, significant = interval_test(means[np.argsort(means)][1:], 0.95)
    assert low > 0.5 and p < 0.05 and significant and rejects(p, 0.95)


def test_p_value_and_interval_by_hand():
    samples = np.array([0.40, 0.45, 0.50, 0.55, 0.60, 0.62, 0.65, 0.70, 0.75, 0.80])
    # 3 samples <= 0.5, 8 >= 0.5: p = 2 * 3 / 10
    assert bootstrap_p_value(samples) == pytest.approx(0.6)
    # k = ceil(10 * 0.2 / 2) = 1: the smallest and the largest
    assert percentile_interval(samples, 0.8) == (0.40, 0.80)
    # k = ceil(10 * 0.5 / 2) = 3
    assert percentile_interval(samples, 0.5) == (0.50, 0.70)


def test_minimum_detectable_effect_for_224_prompts():
    # Binary verdicts at p = 0.5: sd 0.5, SE = 0.5 / sqrt(224) = 0.033408; (1.959964 + 0.841621) * SE
    assert minimum_detectable_effect(0.5 / math.sqrt(224)) == pytest.approx(0.09360, abs=5e-5)
    prefs = np.array([1.0, 0.0] * 112)
    r = win_rate(prefs, n_boot=0)
    assert r.mde == pytest.approx(2.801585 * np.std(prefs, ddof=1) / math.sqrt(224), rel=1e-6)
    assert 0.09 < r.mde < 0.095


def test_holm_matches_the_textbook_example():
    # Holm (1979)-style worked example, as in R's p.adjust(c(.01, .02, .03, .04, .05), "holm")
    assert holm([0.01, 0.02, 0.03, 0.04, 0.05]).tolist() == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    adjusted = holm([0.2, float("nan"), 0.01])
    assert math.isnan(adjusted[1]) and adjusted[[0, 2]].tolist() == pytest.approx([0.2, 0.02])


def test_category_flags_are_holm_adjusted():
    rng = np.random.default_rng(0)
    frames = []
    for cat, share in (("a", 0.5), ("b", 0.5), ("c", 0.5), ("d", 0.72)):
        frames.append(pd.DataFrame({"category": cat, "preference": (rng.random(60) < share).astype(float)}))
    cells = win_rate_by(pd.concat(frames), n_boot=2000, seed=0)
    ps = [cells[k].p_value for k in "abcd"]
    assert [cells[k].p_adjusted for k in "abcd"] == pytest.approx(holm(ps).tolist())
    for cell in cells.values():
        assert cell.significant_adjusted == (cell.p_adjusted < 0.05)
        assert cell.p_adjusted >= cell.p_value


def test_streamed_resamples_equal_one_block_whatever_the_chunk():
    full = resample_indices(7, 50, seed=11)
    for chunk in (1, 3, 50, 64):
        assert (np.concatenate(list(resample_chunks(7, 50, seed=11, chunk=chunk))) == full).all()
    values = np.linspace(0, 1, 7)
    assert bootstrap_means(values, n_boot=50, seed=11, chunk=4).tolist() == pytest.approx(
        values[full].mean(axis=1).tolist()
    )


def test_results_do_not_depend_on_the_order_of_the_rows():
    # surfaces read prompts in different orders (SQL GROUP BY has none): the interval must not care
    rng = np.random.default_rng(9)
    prefs = rng.random(80).round(2)
    a = win_rate(prefs, n_boot=500, seed=4)
    b = win_rate(rng.permutation(prefs), n_boot=500, seed=4)
    assert a == b
