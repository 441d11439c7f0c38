"""Length-controlled win rate: a planted length bias is removed, a real quality gap is kept."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import judges.stats.length_control
from judges.stats.length_control import instruction_difficulty, lc_win_rate, lc_win_rate_against_baseline
from judges.stats.winrate import win_rate


def _lengths(n: int, shift: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    baseline = rng.integers(200, 800, n).astype(float)
    return baseline + rng.normal(shift, 300, n), baseline


def test_planted_length_bias_is_removed():
    # equal quality; the judge favours the longer answer and the model writes longer answers
    rng = np.random.default_rng(0)
    length_model, length_baseline = _lengths(3000, shift=250, rng=rng)
    delta = length_model - length_baseline
    p_true = 1 / (1 + np.exp(-1.5 * np.tanh(delta / delta.std(ddof=1))))
    verdicts = (rng.random(len(delta)) < p_true).astype(float)

    raw = win_rate(verdicts, n_boot=0).win_rate
    lc = lc_win_rate(verdicts, length_model, length_baseline)
    assert raw > 0.62  # the bias shows in the raw number
    assert lc.lc_win_rate == pytest.approx(0.5, abs=0.03)
    assert lc.coef_length == pytest.approx(1.5, abs=0.25)
    assert not lc.extrapolated


def test_planted_bias_with_soft_preferences_and_a_different_bias_shape():
    # the judge's bias is logistic in the raw character difference, not tanh: still close to 0.5
    rng = np.random.default_rng(1)
    length_model, length_baseline = _lengths(3000, shift=200, rng=rng)
    soft = 1 / (1 + np.exp(-(length_model - length_baseline) / 400))
    assert np.mean(soft) > 0.6
    assert lc_win_rate(soft, length_model, length_baseline).lc_win_rate == pytest.approx(0.5, abs=0.03)


def test_quality_gap_without_length_bias_is_kept():
    rng = np.random.default_rng(2)
    length_model, length_baseline = _lengths(3000, shift=250, rng=rng)
    verdicts = (rng.random(3000) < 0.7).astype(float)
    lc = lc_win_rate(verdicts, length_model, length_baseline)
    assert lc.lc_win_rate == pytest.approx(0.7, abs=0.035)


def test_fit_solves_the_soft_label_likelihood_equations():
    # at the (nearly unpenalised) optimum: sum_x (p_x - s_x) * feature_x = 0 for each feature
    rng = np.random.default_rng(3)
    length_model, length_baseline = _lengths(500, shift=100, rng=rng)
    p = rng.random(500)
    lc = lc_win_rate(p, length_model, length_baseline)
    feature = np.tanh((length_model - length_baseline) / lc.length_sd)
    s = 1 / (1 + np.exp(-(lc.coef_intercept + lc.coef_length * feature)))
    assert abs(np.sum(p - s)) < 1e-4
    assert abs(np.sum((p - s) * feature)) < 1e-4
    assert lc.lc_win_rate == pytest.approx(1 / (1 + np.exp(-lc.coef_intercept)))


def test_equal_lengths_give_the_plain_mean_and_missing_lengths_give_none():
    p = np.array([0.9, 0.6, 0.3, 0.8])
    same = lc_win_rate(p, np.full(4, 100.0), np.full(4, 100.0))
    assert same.lc_win_rate == pytest.approx(p.mean(), abs=1e-6) and same.coef_length == 0.0
    # lc equals the raw mean here: no extrapolation happens, and no warning says one does
    assert not same.extrapolated and same.warnings == ()
    shorter = lc_win_rate(p, np.array([50.0, 60, 70, 80]), np.full(4, 100.0))  # every answer strictly shorter
    assert shorter.extrapolated and shorter.share_shorter == 1.0
    assert lc_win_rate(p, np.full(4, np.nan), np.full(4, 100.0)) is None
    part = lc_win_rate(np.array([0.9, np.nan, 0.3]), np.array([10.0, 20, np.nan]), np.array([10.0, 10, 10]))
    assert part.n == 1


def test_length_term_that_cannot_be_told_from_the_intercept_is_reported_not_silently_used():
    # every answer of the model is 50-89 characters longer: tanh(d / sd) is about 1 everywhere
    p = np.where(np.arange(40) % 3 == 0, 0.2, 0.8)
    delta = 50.0 + np.arange(40)
    lc = lc_win_rate(p, 100 + delta, np.full(40, 100.0))
    assert lc.extrapolated and lc.share_longer == 1.0 and lc.weakly_identified
    assert any("extrapolation" in w for w in lc.warnings)


def test_weak_identification_and_extreme_change_warnings():
    rng = np.random.default_rng(7)
    n = 400
    delta = np.where(np.arange(n) < 12, -50.0, 300.0) + rng.normal(0, 30, n)  # 3% of prompts shorter
    p = (rng.random(n) < 0.3).astype(float)
    lc = lc_win_rate(p, 500 + delta, np.full(n, 500.0))
    assert not lc.extrapolated and lc.weakly_identified  # 12 < max(10, 0.05 * 400) = 20 on the minority side
    assert any("weakly identified" in w for w in lc.warnings)
    balanced = lc_win_rate(p, 500 + rng.normal(0, 100, n), np.full(n, 500.0))
    assert not balanced.weakly_identified and balanced.warnings == ()
    # AlpacaEval's rule at raw 20%: below 10 or above 40 is extreme
    assert judges.stats.length_control.is_extreme_change(
        20, 41
    ) and not judges.stats.length_control.is_extreme_change(20, 39)


def _simulated_models(n_models: int = 16, n_prompts: int = 600, seed: int = 0):
    """Models against one baseline with planted prompt difficulty, quality and a judge that likes length."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1.0, n_prompts)
    frames, truth = {}, {}
    for m in range(n_models):
        quality = rng.normal(0, 0.8)
        delta = rng.normal(rng.uniform(-100, 300), 250, n_prompts)
        logit = quality + gamma + 1.2 * np.tanh(delta / np.std(delta, ddof=1))
        pref = (rng.random(n_prompts) < 1 / (1 + np.exp(-logit))).astype(float)
        frames[f"m{m}"] = pd.DataFrame(
            {
                "prompt_id": [f"x{i}" for i in range(n_prompts)],
                "preference": pref,
                "length_model": 500 + delta,
                "length_baseline": np.full(n_prompts, 500.0),
            }
        )
        truth[f"m{m}"] = float(np.mean(1 / (1 + np.exp(-(quality + gamma)))))  # the equal-length win rate
    return frames, gamma, truth


def test_joint_difficulty_recovers_the_planted_one_and_lc_the_equal_length_win_rate():
    frames, gamma, truth = _simulated_models()
    diff = instruction_difficulty(frames)
    assert diff.converged and diff.n_models == 16
    est = diff.difficulty.reindex([f"x{i}" for i in range(len(gamma))]).to_numpy()
    assert np.corrcoef(est, gamma)[0, 1] > 0.8  # 16 binary verdicts per prompt: about 0.87 expected
    for model, _frame in frames.items():
        lc = lc_win_rate_against_baseline(frames, model, difficulty=diff)
        assert lc.n_models_for_difficulty == 16 and lc.coef_difficulty is not None and lc.converged
        assert lc.lc_win_rate == pytest.approx(truth[model], abs=0.04), model
    alone = lc_win_rate_against_baseline({"m0": frames["m0"]}, "m0")
    assert alone.coef_difficulty is None and alone.n_models_for_difficulty == 0


def test_instruction_difficulty_covariate_is_used():
    rng = np.random.default_rng(4)
    n = 3000
    difficulty = rng.normal(0, 1, n)
    length_model, length_baseline = _lengths(n, shift=0, rng=rng)
    p = 1 / (1 + np.exp(-(0.4 + 1.0 * difficulty)))
    lc = lc_win_rate(p, length_model, length_baseline, difficulty)
    assert lc.coef_difficulty == pytest.approx(1.0, abs=1e-3)
    assert lc.coef_intercept == pytest.approx(0.4, abs=1e-3)
    assert lc.lc_win_rate == pytest.approx(np.mean(p), abs=1e-3)


def test_lc_interval_is_seeded_and_covers_the_planted_truth():
    rng = np.random.default_rng(5)
    length_model, length_baseline = _lengths(1500, shift=250, rng=rng)
    delta = length_model - length_baseline
    verdicts = (rng.random(1500) < 1 / (1 + np.exp(-1.5 * np.tanh(delta / delta.std(ddof=1))))).astype(float)
    a = lc_win_rate(verdicts, length_model, length_baseline, n_boot=300, seed=1)
    assert a == lc_win_rate(verdicts, length_model, length_baseline, n_boot=300, seed=1)
    assert a.ci_low < 0.5 < a.ci_high and a.ci_low < a.lc_win_rate < a.ci_high
    raw = win_rate(verdicts, n_boot=300, seed=1)
    assert raw.ci_low > 0.55  # the raw interval excludes equal quality; the length-controlled one does not
    assert np.isnan(lc_win_rate(verdicts, length_model, length_baseline).ci_low)  # none unless asked


def test_docstring_examples():
    assert doctest.testmod(judges.stats.length_control).failed == 0


def _gamed_case() -> dict[str, pd.DataFrame]:
    """Model m and the baseline's two gamed variants, each on two prompts 100 characters longer / shorter."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    t = np.tanh(100 / np.std([100, -100], ddof=1))  # 0.608859, the same for every row here
    lengths = {"prompt_id": ["x0", "x1"], "length_model": [600.0, 400.0], "length_baseline": [500.0, 500.0]}
    model = pd.DataFrame({**lengths, "preference": [sig(-1 + t), sig(-1 - t)]})  # theta -1, phi 1 exactly
    gamed = pd.DataFrame({**lengths, "preference": [sig(3 * t), sig(-3 * t)]})  # the variants say phi 3
    return {"m": model, "base_verbose": gamed, "base_concise": gamed.copy(), "other_verbose": gamed.copy()}


def test_gamed_baseline_rows_have_no_intercept_and_weight_lambda_over_variants():
    # AlpacaEval's regularisation: the baseline's gamed variants enter the model's GLM with sample weight
    # 0.2 / 2 and no intercept. Hand-computed (scipy root of the two score equations, theta and phi):
    # theta = -1.0637353, phi = 1.3325598, lc = sigmoid(theta) = 0.2565963; without those rows theta = -1
    # and phi = 1 fit exactly (lc = sigmoid(-1) = 0.2689414).
    from judges.stats.length_control import Difficulty, gamed_baseline_rows, is_gamed_baseline

    frames = _gamed_case()
    m = frames["m"]
    assert [k for k in frames if is_gamed_baseline(k, "base")] == ["base_verbose", "base_concise"]
    rows = gamed_baseline_rows(frames, "base", None)
    assert rows.variants == ("base_concise", "base_verbose") and len(rows) == 4
    assert rows.weight.tolist() == pytest.approx([0.1] * 4)
    plain = lc_win_rate(m["preference"], m["length_model"], m["length_baseline"])
    assert plain.lc_win_rate == pytest.approx(0.2689414, abs=1e-6) and plain.n_gamed_rows == 0
    lc = lc_win_rate(m["preference"], m["length_model"], m["length_baseline"], gamed=rows)
    assert lc.coef_intercept == pytest.approx(-1.0637353, abs=1e-5)
    assert lc.coef_length == pytest.approx(1.3325598, abs=1e-4)  # the 1e-6 ridge moves it by 1e-5
    assert lc.lc_win_rate == pytest.approx(0.2565963, abs=1e-6) and lc.n_gamed_rows == 4
    # the store path: naming the baseline is what brings its gamed variants in (a zero difficulty here)
    zero = Difficulty(pd.Series(0.0, index=pd.Index(["x0", "x1"], name="prompt_id")), 4, True, 1)
    via = lc_win_rate_against_baseline(frames, "m", difficulty=zero, baseline="base")
    assert via.lc_win_rate == pytest.approx(0.2565963, abs=1e-5) and via.n_gamed_rows == 4
    assert lc_win_rate_against_baseline(frames, "m", difficulty=zero).n_gamed_rows == 0


def test_judgments_of_the_baselines_gamed_variants_enter_every_models_fit():
    # end to end from judgment rows (the CLI's and the dashboard's entry point): naming the baseline brings
    # its gamed variants in, another model's "_verbose" does not count as one
    from judges.stats.length_control import lc_win_rate_from_judgments

    rows = []
    for name, frame in _gamed_case().items():
        for r in frame.itertuples():
            rows.append({"model_a": "base", "model_b": name, "judge": "J", "judge_version": "v1", "prompt_id": r.prompt_id,
                         "preference": r.preference, "length_a": r.length_baseline, "length_b": r.length_model})  # fmt: skip
    judgments = pd.DataFrame(rows)
    lc = lc_win_rate_from_judgments(judgments, "m", "base")
    assert lc.n_gamed_rows == 4 and lc.n_models_for_difficulty == 4 and lc.converged
    frames = {name: f.assign(n_verdicts=1) for name, f in _gamed_case().items()}
    assert lc.lc_win_rate == pytest.approx(
        lc_win_rate_against_baseline(frames, "m", baseline="base").lc_win_rate, abs=1e-9
    )
    without = lc_win_rate_against_baseline(frames, "m")
    assert without.n_gamed_rows == 0 and abs(without.lc_win_rate - lc.lc_win_rate) > 1e-3
