"""pass@k and maj@k (`judges.stats.pass_at_k`): Chen et al.'s unbiased estimator equals brute-force enumeration
of every k-subset of the n sampled answers, and majority voting follows its stated tie rule."""

from __future__ import annotations

import itertools

import pytest

from judges.stats.pass_at_k import majority_correct, pass_at_k, prompt_mean


@pytest.mark.parametrize("n", range(1, 8))
def test_unbiased_pass_at_k_equals_enumerating_every_k_subset(n):
    for c in range(n + 1):
        answers = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(range(n), k))
            brute = sum(any(answers[i] for i in s) for s in subsets) / len(subsets)
            assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12), (n, c, k)


def test_pass_at_1_is_the_share_correct_and_bad_k_is_refused():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        pass_at_k(4, 1, 0)
    with pytest.raises(ValueError, match="larger than the 4 sampled answers"):
        pass_at_k(4, 1, 5)


def test_majority_vote_over_the_first_k_with_ties_to_the_first_sampled():
    answers, correct = ["7", "8", "8", "7", "7"], [True, False, False, True, True]
    assert majority_correct(answers, correct, 1) is True
    assert majority_correct(answers, correct, 3) is False  # "8" twice
    assert majority_correct(answers, correct, 4) is True  # 2-2, "7" sampled first
    assert majority_correct(answers, correct, 5) is True
    with pytest.raises(ValueError, match="larger than the 5"):
        majority_correct(answers, correct, 6)


def test_prompt_mean_interval_brackets_the_mean_and_is_seeded():
    values = [1.0] * 30 + [0.0] * 10
    a, b = prompt_mean(values, n_boot=500, seed=3), prompt_mean(values, n_boot=500, seed=3)
    assert a == b and a.value == 0.75 and a.ci_low < 0.75 < a.ci_high
    assert prompt_mean([], n_boot=10).value is None
