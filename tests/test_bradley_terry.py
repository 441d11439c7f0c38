"""Bradley-Terry against evalica's published LLMFAO scores and hand-computed cases.

The LLMFAO files (dustalov/evalica, Apache-2.0) are vendored in tests/data/llmfao/ (README.md there gives
their source and licence).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judges.stats.bradley_terry import (
    PairCells,
    anchor_rule,
    average_win_rate,
    bradley_terry,
    elo_ratings,
    fit_strengths,
    max_failed_share,
    pair_cells,
    pair_matrix,
)

LLMFAO = Path(__file__).resolve().parent / "data" / "llmfao"
_WINNER = {"left": 0.0, "right": 1.0, "tie": 0.5}


@pytest.fixture(scope="module")
def llmfao():
    if not (LLMFAO / "llmfao.csv").exists():
        pytest.fail(f"vendored reference data missing: {LLMFAO}")
    votes = pd.read_csv(LLMFAO / "llmfao.csv")
    golden = pd.read_csv(LLMFAO / "llmfao-golden.csv")
    cells = pair_cells(votes["left"], votes["right"], votes["winner"].map(_WINNER))
    return votes, golden, cells


def _golden(golden: pd.DataFrame, algorithm: str) -> pd.Series:
    return golden[golden["algorithm"] == algorithm].set_index("item")["score"]


def test_llmfao_data_is_what_the_readme_says(llmfao):
    votes, _, cells = llmfao
    assert len(votes) == 8931 and len(cells.models) == 59
    assert votes["winner"].value_counts().to_dict() == {"tie": 3471, "left": 2911, "right": 2549}
    assert int(cells.count.sum()) == 8931


def test_reproduces_evalica_bradley_terry_to_1e9(llmfao):
    _, golden, cells = llmfao
    result = bradley_terry(cells, n_boot=0)
    expected = _golden(golden, "bradley_terry")
    ours = pd.Series(result.strength, index=list(result.models))
    assert set(ours.index) == set(expected.index)
    assert np.abs(ours - expected.reindex(ours.index)).max() < 1e-9
    assert math.isclose(result.strength.sum(), 1.0, abs_tol=1e-12)


def test_reproduces_evalica_average_win_rate_to_1e9(llmfao):
    _, golden, cells = llmfao
    ours = pd.Series(average_win_rate(pair_matrix(cells)), index=list(cells.models))
    expected = _golden(golden, "average_win_rate")
    assert np.abs(ours - expected.reindex(ours.index)).max() < 1e-9


def test_llmfao_fit_satisfies_the_likelihood_equations(llmfao):
    # at the MLE every model's expected wins equal its observed wins (ties counted as halves)
    _, _, cells = llmfao
    wins = pair_matrix(cells)
    s = bradley_terry(cells, n_boot=0).strength
    expected = ((wins + wins.T) * s[:, None] / (s[:, None] + s[None, :])).sum(axis=1)
    np.testing.assert_allclose(expected, wins.sum(axis=1), rtol=1e-10)


def test_two_models_hand_computed():
    # a beats b twice, b beats a once: s_a / s_b = 2, strengths 2/3 and 1/3, 400*log10(2) = 120.41 apart
    cells = pair_cells(["a", "a", "a"], ["b", "b", "b"], [0.0, 0.0, 1.0])
    result = bradley_terry(cells, n_boot=0, anchor="b")
    assert result.strength.tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-12)
    assert result.rating.tolist() == pytest.approx([1000 + 400 * math.log10(2), 1000.0], abs=1e-9)
    assert result.n.tolist() == [3, 3]


def test_tie_is_half_a_win_each_side():
    # one win for a and one tie: a has 1.5 wins, b 0.5, so s_a / s_b = 3
    beta, ok = fit_strengths(pair_matrix(pair_cells(["a", "b"], ["b", "a"], [0.0, 0.5])))
    assert ok and math.exp(beta[0] - beta[1]) == pytest.approx(3.0, rel=1e-12)


def test_unscored_judgments_are_dropped_not_tied():
    cells = pair_cells(["a", "a", "a"], ["b", "b", "b"], [0.0, 1.0, np.nan])
    assert int(cells.count.sum()) == 2
    assert pair_matrix(cells).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_elo_anchor_and_default_centre():
    s = np.array([0.5, 0.25, 0.25])
    assert elo_ratings(s, anchor=1).tolist() == pytest.approx([1000 + 400 * math.log10(2), 1000, 1000])
    assert elo_ratings(s).mean() == pytest.approx(1000.0)


def test_no_mle_when_a_model_never_loses():
    cells = pair_cells(["a", "a", "b"], ["b", "c", "c"], [0.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="does not exist"):
        bradley_terry(cells, n_boot=0)


def test_unknown_anchor_names_the_models():
    cells = pair_cells(["a", "b"], ["b", "a"], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"'zzz' is not among the models \['a', 'b'\]"):
        bradley_terry(cells, n_boot=0, anchor="zzz")


def _simulated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = np.array([0.0, 0.4, 0.8, 1.2])
    left = rng.integers(0, 4, n)
    right = (left + rng.integers(1, 4, n)) % 4
    p_right = 1 / (1 + np.exp(-(quality[right] - quality[left])))
    outcome = (rng.random(n) < p_right).astype(float)
    names = np.array(["m0", "m1", "m2", "m3"])
    return names[left], names[right], outcome, quality


def test_bootstrap_is_seeded_covers_the_estimate_and_shrinks_with_data():
    left, right, outcome, _ = _simulated(4000, seed=1)
    cells = pair_cells(left, right, outcome)
    a = bradley_terry(cells, n_boot=300, seed=7, anchor="m0")
    b = bradley_terry(cells, n_boot=300, seed=7, anchor="m0")
    np.testing.assert_array_equal(a.ci_low, b.ci_low)
    assert a.n_failed_resamples == 0
    assert (a.ci_low <= a.rating + 1e-9).all() and (a.rating <= a.ci_high + 1e-9).all()
    assert a.ci_low[0] == a.ci_high[0] == 1000.0  # the anchor is fixed by construction
    assert (a.strength_ci_low < a.strength).all() and (a.strength < a.strength_ci_high).all()
    big = bradley_terry(pair_cells(*_simulated(16000, seed=2)[:3]), n_boot=300, seed=7, anchor="m0")
    ratio = (a.ci_high - a.ci_low)[1:] / (big.ci_high - big.ci_low)[1:]
    assert ((ratio > 1.5) & (ratio < 2.6)).all()  # 4x the data, about half the width


def test_recovers_simulated_strengths():
    left, right, outcome, quality = _simulated(40000, seed=3)
    result = bradley_terry(pair_cells(left, right, outcome), n_boot=0)
    beta = np.log(result.strength)
    np.testing.assert_allclose(beta - beta[0], quality - quality[0], atol=0.08)


def test_resamples_without_an_mle_are_counted_and_left_out():
    # b beats a 4 times in 44: a resample drops all 4 with probability e^-4 (1.8%), and then a never lost,
    # so its MLE does not exist; at 90% up to 5% of the resamples may be left out
    cells = pair_cells(["a"] * 44, ["b"] * 44, [1.0] * 4 + [0.0] * 40)
    result = bradley_terry(cells, n_boot=1000, seed=0, confidence=0.9)
    assert 5 <= result.n_failed_resamples <= max_failed_share(0.9) * 1000
    assert np.isfinite(result.ci_low).all() and np.isfinite(result.ci_high).all()


def test_too_many_resamples_without_an_mle_refuse_instead_of_narrowing_the_interval():
    # one win each way: about half the resamples drop one of the two, and then the MLE does not exist
    cells = pair_cells(["a", "b"], ["b", "a"], [0.0, 0.0])
    refusal = r"^\d+ of 200 Bradley-Terry bootstrap resamples \(\d+\.\d%\) have no maximum-likelihood"
    with pytest.raises(ValueError, match=refusal) as err:
        bradley_terry(cells, n_boot=200, seed=0)
    assert "at most 2.5%" in str(err.value)
    assert bradley_terry(cells, n_boot=0).n_failed_resamples == 0  # the point estimate alone exists


def test_the_anchor_rule_states_the_interval_level_it_was_fitted_at():
    assert "90% intervals" in anchor_rule(0.9) and "95%" not in anchor_rule(0.9)
    assert "97.5% intervals" in anchor_rule(0.975)
    assert max_failed_share(0.95) == pytest.approx(0.025) and max_failed_share(0.8) == pytest.approx(0.1)


def test_prompt_weights_are_poisson_one_and_resample_by_resample():
    from judges.stats.bradley_terry import _poisson_weights

    w = _poisson_weights(np.random.default_rng(0), np.ones(20_000), 50)
    assert w.shape == (20_000, 50)
    freq = np.bincount(w.astype(int).ravel(), minlength=8)[:8] / w.size
    pmf = np.exp(-1.0) / np.array([math.factorial(k) for k in range(8)])
    assert (np.abs(freq - pmf) <= 4 * np.sqrt(pmf / w.size) + 1e-6).all(), (freq, pmf)
    # drawn resample after resample: the first 20 resamples do not depend on how many follow
    first = _poisson_weights(np.random.default_rng(0), np.ones(20_000), 20)
    np.testing.assert_array_equal(first, w[:, :20])


def test_leaderboard_frame_is_sorted_with_the_json_columns():
    # ten of each judgment: every resample keeps a win each way (a bare four leave out too many resamples)
    cells = pair_cells(["a", "a", "a", "b"] * 10, ["b", "c", "c", "c"] * 10, [0.0, 1.0, 0.5, 0.0] * 10)
    frame = bradley_terry(cells, n_boot=50, seed=0).to_frame()
    assert list(frame.columns) == ["model", "strength", "rating", "ci_low", "ci_high", "n"]
    assert frame["strength"].is_monotonic_decreasing
    assert frame["strength"].sum() == pytest.approx(1.0)


def test_docstring_examples():
    import doctest
    import importlib

    # by module path: the package re-exports the function bradley_terry under the module's own name
    module = importlib.import_module("judges.stats.bradley_terry")
    assert doctest.testmod(module).failed == 0


def _clustered_judgments(n_prompts: int = 60, seed: int = 0) -> pd.DataFrame:
    """Three models; on each prompt every pair is judged in both orders and the prompt decides the side."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_prompts):
        easy = rng.random() < 0.6  # prompt-level effect shared by all of its items
        for x, y in (("m0", "m1"), ("m1", "m2"), ("m0", "m2")):
            pref = 0.9 if easy else 0.2
            rows.append(("J", "v1", f"p{p}", x, y, "ab", pref))
            rows.append(("J", "v1", f"p{p}", x, y, "ba", pref))
    return pd.DataFrame(
        rows, columns=["judge", "judge_version", "prompt_id", "model_a", "model_b", "order", "preference"]
    )


def test_leaderboard_resamples_prompts_not_verdicts():
    from judges.stats.bradley_terry import leaderboard
    from judges.stats.preferences import pair_preferences

    judgments = _clustered_judgments()
    board = leaderboard(judgments, n_boot=400, seed=3)
    assert board.n.tolist() == [
        120.0,
        120.0,
        120.0,
    ]  # 60 prompts x 2 pairs per model: one item per prompt and pair
    # the same items with each item its own unit (what the dashboard used to do, per verdict) are narrower,
    # because the three items of a prompt move together
    items = pair_preferences(judgments)
    per_item = bradley_terry(
        pair_cells(items["model_x"], items["model_y"], items["preference"]), n_boot=400, seed=3
    )
    assert np.allclose(board.rating, per_item.rating)
    width_prompts = (board.ci_high - board.ci_low)[0]
    width_items = (per_item.ci_high - per_item.ci_low)[0]
    assert width_prompts > 1.3 * width_items
    again = leaderboard(judgments, n_boot=400, seed=3)
    assert np.array_equal(again.ci_low, board.ci_low)  # seeded
    # geometric-mean anchor: ratings average 1000
    assert np.mean(board.rating) == pytest.approx(1000.0)


def test_leaderboard_refuses_pooled_judges_and_versions():
    from judges.stats.bradley_terry import leaderboard

    j = _clustered_judgments(5)
    other_version = j.assign(judge_version="v2")
    with pytest.raises(ValueError, match="several judge versions"):
        leaderboard(pd.concat([j, other_version]), n_boot=0)
    with pytest.raises(ValueError, match="several judges"):
        leaderboard(pd.concat([j, j.assign(judge="K")]), n_boot=0)


def _mixed_judgments(n_prompts: int = 200, seed: int = 11) -> pd.DataFrame:
    """Five models, four random pairs per prompt in both orders, a prompt effect shared by its items; hard,
    tied, soft (three decimals) and unscored verdicts."""
    rng = np.random.default_rng(seed)
    quality = {"m0": 0.0, "m1": 0.3, "m2": 0.9, "m3": 1.0, "m4": -0.5}
    names = list(quality)
    rows = []
    for p in range(n_prompts):
        effect = rng.normal(0, 0.5)
        for _ in range(4):
            x, y = rng.choice(names, 2, replace=False)
            p_y = 1 / (1 + np.exp(-(quality[y] - quality[x] + effect)))
            for order in ("ab", "ba"):
                u = rng.random()
                pref = np.nan if u < 0.03 else (0.5 if u < 0.13 else float(rng.random() < p_y))
                if rng.random() < 0.2:
                    pref = round(float(rng.random()), 3) if not np.isnan(pref) else pref
                rows.append(("J", "v1", f"p{p:03d}", x, y, order, pref))
    columns = ["judge", "judge_version", "prompt_id", "model_a", "model_b", "order", "preference"]
    return pd.DataFrame(rows, columns=columns)


# leaderboard(_mixed_judgments(), n_boot=200, seed=5) as computed by the code at a6f385a, before issue 21's second
# speed-up (string items, one sparse map to the wins matrix, 1,024-slice Poisson table); the speed-up keeps the
# draws and the fits, so any drift of the point estimate or of an interval end beyond rounding fails here
_PINNED = {
    "rating": [
        959.9547087556111,
        1014.8423402779987,
        1078.9775585177185,
        1067.9533087953664,
        878.2720836533049,
    ],
    "ci_low": [
        939.0887655032691,
        992.7641119167055,
        1055.6029132620408,
        1048.1982924089039,
        854.1263051444005,
    ],
    "ci_high": [
        982.0772243229485,
        1036.3788276267744,
        1099.1838726306016,
        1085.549152123806,
        898.5989713460084,
    ],
}


def test_leaderboard_point_estimate_and_intervals_are_pinned():
    from judges.stats.bradley_terry import leaderboard

    board = leaderboard(_mixed_judgments(), n_boot=200, seed=5)
    assert board.models == ("m0", "m1", "m2", "m3", "m4") and board.n_failed_resamples == 0
    assert board.n.tolist() == [283, 267, 285, 277, 266]
    for field, expected in _PINNED.items():
        np.testing.assert_allclose(getattr(board, field), expected, rtol=0, atol=1e-8, err_msg=field)


def test_leaderboard_from_item_codes_equals_the_cells_of_the_items_frame():
    # the leaderboard builds its cells from pair_items' codes; they must be the cells pair_cells builds from
    # pair_preferences' text columns, including a model seen only in unscored verdicts and an unscored prompt
    from judges.stats.bradley_terry import _item_cells, leaderboard
    from judges.stats.preferences import pair_items, pair_preferences

    extra = pd.DataFrame(
        [
            ("J", "v1", "p000", "m0", "zz-unscored", "ab", np.nan),
            ("J", "v1", "a-unscored", "m1", "m2", "ab", np.nan),
        ],
        columns=["judge", "judge_version", "prompt_id", "model_a", "model_b", "order", "preference"],
    )
    judgments = pd.concat([extra, _mixed_judgments(80, seed=3)], ignore_index=True)
    items = pair_preferences(judgments)
    expected = pair_cells(items["model_x"], items["model_y"], items["preference"], groups=items["prompt_id"])
    got = _item_cells(pair_items(judgments))
    assert got.models == expected.models == ("m0", "m1", "m2", "m3", "m4", "zz-unscored")
    assert got.n_groups == expected.n_groups == 80
    for field in ("left", "right", "preference", "count", "group"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)
    with pytest.raises(ValueError, match=r"does not exist.*\['zz-unscored'\]"):  # never compared: no MLE
        leaderboard(judgments, n_boot=0)
    judgments = judgments[judgments["model_b"] != "zz-unscored"]
    items = pair_preferences(judgments)
    expected = pair_cells(items["model_x"], items["model_y"], items["preference"], groups=items["prompt_id"])
    board = leaderboard(judgments, n_boot=100, seed=1)
    reference = bradley_terry(expected, n_boot=100, seed=1)
    for field in ("rating", "ci_low", "ci_high", "n"):
        np.testing.assert_array_equal(getattr(board, field), getattr(reference, field), err_msg=field)


def test_resampled_statistics_are_the_reweighted_wins_matrix():
    # a resample's fit sees its cells only through N = M + M^T and W = M's row sums, M the wins matrix of the
    # cells with each count multiplied by its prompt's weight
    from judges.stats.bradley_terry import (
        _item_cells,
        _poisson_weights,
        _resample_maps,
        _resampled_statistics,
    )
    from judges.stats.preferences import pair_items

    cells = _item_cells(pair_items(_mixed_judgments(60)))
    assert cells.group is not None
    maps = _resample_maps(cells)
    draws = _poisson_weights(np.random.default_rng(0), maps.means, 7)
    total, won = _resampled_statistics(maps, draws)
    k = len(cells.models)
    for r in range(7):
        weight = cells.count * draws[cells.group, r]
        m = pair_matrix(PairCells(cells.models, cells.left, cells.right, cells.preference, weight))
        counted = np.zeros((k, k))
        np.add.at(counted, (cells.left, cells.right), weight)  # judgments per pair, an integer
        np.testing.assert_array_equal(total[r], counted + counted.T)
        np.testing.assert_allclose(won[r], m.sum(axis=1), rtol=1e-13)


def test_pair_totals_stay_exact_beyond_the_integers_of_float32():
    # totals are summed in float32 only while every sum is an integer below 2**24: 3 * (2**23 + 1) + 2, odd and
    # above 2**24, is not a float32; 1 * (2**23 + 1) + 2 is
    from judges.stats.bradley_terry import _resample_maps, _resampled_statistics

    one = np.array([1])
    cells = PairCells(("a", "b"), np.array([0, 0]), np.array([1, 1]), np.array([0.0, 1.0]),
                      np.array([2**23 + 1, 2]), group=np.array([0, 1]), n_groups=2)  # fmt: skip
    maps = _resample_maps(cells)
    for weight, expected in ((3, 3 * (2**23 + 1) + 2), (1, 2**23 + 3)):
        total, won = _resampled_statistics(maps, np.array([weight * one, one], dtype=np.uint8))
        assert total[0, 0, 1] == total[0, 1, 0] == expected
        assert won[0].tolist() == [weight * (2**23 + 1), 2.0]


def test_prompt_weights_invert_the_poisson_cdf_at_the_generators_uniforms():
    # the same draws as inverting rng.random's uniforms, though read from the stream's raw 64-bit words; the
    # seeds' draws stay those of the code before (the uniforms' slice table only makes the inversion faster)
    from judges.stats.bradley_terry import _poisson_one_sampler, _poisson_weights

    cdf, table = _poisson_one_sampler()
    w = _poisson_weights(np.random.default_rng(3), np.ones(5000), 40)
    u = np.random.default_rng(3).random((40, 5000))
    np.testing.assert_array_equal(w, np.searchsorted(cdf, u, side="right").T)
    slices = (u * len(table)).astype(int)
    assert (table[slices] == 255).sum() > 5  # the exact look-up was exercised
