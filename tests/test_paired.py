"""The paired accuracy test (McNemar's exact): hand-worked numbers and a case where it and two independent
proportions disagree."""

from __future__ import annotations

import doctest

import pytest

import judges.stats.paired
from judges.stats.paired import mcnemar_exact, paired_change


def test_doctests():
    failures, tried = doctest.testmod(judges.stats.paired)
    assert tried > 0 and failures == 0


def test_matches_scipy_binomtest():
    from scipy.stats import binomtest

    for lost, gained in [(0, 1), (2, 9), (7, 7), (13, 4), (40, 61)]:
        expected = binomtest(min(lost, gained), lost + gained, 0.5).pvalue
        assert mcnemar_exact(lost, gained) == pytest.approx(expected, rel=1e-12)


def test_paired_and_independent_disagree_and_paired_decides():
    from scipy.stats import chi2_contingency

    before = [True] * 30 + [False] * 30
    after = [True] * 38 + [False] * 22
    # Two independent proportions (30/60 vs 38/60): not significant.
    independent = chi2_contingency([[30, 30], [38, 22]], correction=False).pvalue
    assert independent > 0.1
    change = paired_change(before, after)
    assert change.significant() and change.p_value == pytest.approx(2 / 256)
    assert (change.accuracy_before, change.accuracy_after) == (0.5, 38 / 60)


def test_bad_input():
    with pytest.raises(ValueError, match="same prompts"):
        paired_change([True], [True, False])
    with pytest.raises(ValueError, match=">= 0"):
        mcnemar_exact(-1, 2)
