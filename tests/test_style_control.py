"""Style-controlled Bradley-Terry (`judges.stats.style_control`): the same point estimates as Arena-Hard v2's own
code on the same synthetic battles, a planted style effect recovered, and answers without text left out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from judges.stats.bradley_terry import leaderboard
from judges.stats.style_control import (
    FEATURES,
    fit_style_bradley_terry,
    style_features,
    style_leaderboard,
)
from rlhf.cli import main
from rlhf.store import Store

BASELINE = "o3-mini-2025-01-31"  # Arena-Hard v2's baseline for hard_prompt: their code looks it up by name
MODELS = ("model-a", "model-b", "model-c")


def arena_battles(seed: int = 19, n_prompts: int = 120) -> tuple[dict, list]:
    """Synthetic Arena-Hard battles, regenerated from ``seed``.

    Returns (style, battles): style[model][uid] = (token_len, headers, list items, bold); battles: (uid, model,
    score of game 1, score of game 2), each score P(model better) in {0, 0.5, 1}. model-c writes long, list-heavy
    answers that the simulated judge likes for their style, not their content.
    """
    rng = np.random.default_rng(seed)
    skill = {BASELINE: 0.0, "model-a": 0.4, "model-b": -0.3, "model-c": 0.1}
    verbose = {BASELINE: 1.0, "model-a": 1.0, "model-b": 0.7, "model-c": 2.5}
    style: dict[str, dict[str, tuple[int, int, int, int]]] = {}
    for model in (BASELINE, *MODELS):
        style[model] = {}
        for i in range(n_prompts):
            length = int(rng.integers(40, 400) * verbose[model])
            lists = int(rng.poisson(2.0 * verbose[model] ** 2))
            style[model][f"u{i:03d}"] = (length, int(rng.poisson(0.5)), lists, int(rng.poisson(1.0)))
    battles = []
    for model in MODELS:
        for i in range(n_prompts):
            uid = f"u{i:03d}"
            mine, base = np.array([style[model][uid]], float), np.array([style[BASELINE][uid]], float)
            f = style_features(base, mine)[0]
            eta = skill[model] - skill[BASELINE] + 1.5 * f[0] + 2.0 * f[2]
            p = 1 / (1 + np.exp(-eta))
            scores = [0.5 if rng.random() < 0.15 else float(rng.random() < p) for _ in range(2)]
            battles.append((uid, model, scores[0], scores[1]))
    return style, battles


# From Arena-Hard's own code on arena_battles(19, 120): lmarena/arena-hard-auto at commit 196f6b8 (show_result.py
# print_leaderboard_with_style_features with --control-features markdown length, its features and
# utils/math_utils.py fit_pairwise_model / to_winrate_probabilities), run once outside this repository by
# /tmp/ah-check/run_theirs.py (described in docs/statistics.md), with their L-BFGS run to convergence in float64
# (lr=1.0, max_epochs=2000, tol=1e-14) instead of 50 float32 epochs, and the bootstrap replaced by that one full-data fit.
# Their features are float32 and the fit stops at a gradient of 1.5e-6, so agreement is to about 1e-8, not 1e-12.
EXPECTED_WIN_VS_BASELINE = {
    "model-a": 0.6043610218506514,
    "model-b": 0.4753375341071838,
    "model-c": 0.5079224995419122,
}
EXPECTED_COEFS = [0.6186363211583263, 0.014883979626753968, 0.13585245084832323, 0.031734703520184995]


def _rows(style, battles) -> tuple[list, list, list, np.ndarray]:
    left, right, pref, feats = [], [], [], []
    for uid, model, s1, s2 in battles:
        f = style_features(np.array([style[BASELINE][uid]], float), np.array([style[model][uid]], float))[0]
        for s in (s1, s2):
            left.append(BASELINE)
            right.append(model)
            pref.append(s)
            feats.append(f)
    return left, right, pref, np.array(feats)


def test_point_estimates_equal_arena_hards_code_on_the_same_battles():
    style, battles = arena_battles()
    left, right, pref, feats = _rows(style, battles)
    models = sorted({BASELINE, *MODELS})
    beta, gamma, kept = fit_style_bradley_terry(left, right, pref, feats, models=models, centre=True)
    assert kept.all()
    base = beta[models.index(BASELINE)]
    for model, expected in EXPECTED_WIN_VS_BASELINE.items():
        assert 1 / (1 + np.exp(-(beta[models.index(model)] - base))) == pytest.approx(expected, abs=1e-6), (
            model
        )
    assert gamma.tolist() == pytest.approx(EXPECTED_COEFS, abs=1e-6)


def _planted_judgments(seed: int = 7, n_prompts: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    """Judgments of three checkpoints on every pair, answers as text. 'listy' answers with bullet lists and is no
    better than 'plain'; the simulated judge adds 1.0 logit per standard deviation of the lists difference."""
    rng = np.random.default_rng(seed)
    skill = {"plain": 0.0, "listy": 0.0, "strong": 0.8}

    def answer(model: str) -> str:
        words = " ".join(["word"] * int(rng.integers(20, 60)))
        n_items = (
            int(rng.integers(0, 9)) if model == "listy" else int(rng.integers(1, 4)) * (rng.random() < 0.3)
        )
        return words + "".join(f"\n- point {i}" for i in range(n_items))

    texts = {(f"p{i}", m): answer(m) for i in range(n_prompts) for m in skill}
    rows = [
        (f"p{i}", a, b)
        for i in range(n_prompts)
        for a, b in (("plain", "listy"), ("plain", "strong"), ("listy", "strong"))
    ]
    from judges.stats.style_control import answer_style, standardise

    left = np.array([answer_style(texts[(p, a)]) for p, a, _ in rows])
    right = np.array([answer_style(texts[(p, b)]) for p, _, b in rows])
    z, kept = standardise(style_features(left, right))
    planted = np.array([0.0, 0.0, 1.0, 0.0])[kept]
    eta = np.array([skill[b] - skill[a] for _, a, b in rows]) + z @ planted
    pref = (rng.random(len(rows)) < 1 / (1 + np.exp(-eta))).astype(float)
    frame = pd.DataFrame(
        {
            "judge": "J",
            "judge_version": "J@1",
            "prompt_id": [p for p, _, _ in rows],
            "model_a": [a for _, a, _ in rows],
            "model_b": [b for _, _, b in rows],
            "order": "ab",
            "preference": pref,
            "answer_a": [texts[(p, a)] for p, a, _ in rows],
            "answer_b": [texts[(p, b)] for p, _, b in rows],
        }
    )
    return frame, kept


def test_a_planted_taste_for_lists_is_recovered_and_removed_from_the_ratings():
    frame, kept = _planted_judgments()
    assert kept[FEATURES.index("lists")]
    sc = style_leaderboard(frame, n_boot=200, seed=1)
    coefs = sc.coefficients().set_index("feature")
    lists = coefs.loc["lists"]
    assert lists["ci_low"] < 1.0 < lists["ci_high"] and lists["ci_low"] > 0.5  # the planted 1.0, clearly > 0
    assert coefs.loc["length", "ci_low"] < 0 < coefs.loc["length", "ci_high"]  # no taste for length planted
    plain = leaderboard(frame, n_boot=0).to_frame().set_index("model")["rating"]
    styled = sc.to_frame().set_index("model")["sc_rating"]
    assert plain["listy"] - plain["plain"] > 40  # the judge's taste makes 'listy' look better than 'plain'
    assert abs(styled["listy"] - styled["plain"]) < 25  # with style held fixed they are alike, as planted
    assert styled["strong"] > styled["listy"] and sc.n_left_out_no_text == 0


def test_items_without_answer_text_are_left_out_and_counted_not_zero_filled():
    frame, _ = _planted_judgments(n_prompts=200)
    missing = frame["prompt_id"].isin({f"p{i}" for i in range(30)})
    imported = frame.assign(  # judgments of these prompts were imported without their answers
        answer_a=frame["answer_a"].where(~missing, None), answer_b=frame["answer_b"].where(~missing, None)
    )
    with_gaps = style_leaderboard(imported, n_boot=0)
    without = style_leaderboard(frame[~missing], n_boot=0)
    assert with_gaps.n_left_out_no_text == int(missing.sum()) == 90
    assert with_gaps.n_items == without.n_items == len(frame) - 90
    assert np.allclose(with_gaps.coef, without.coef, equal_nan=True) and np.allclose(
        with_gaps.rating, without.rating
    )


def test_leaderboard_style_control_json(tmp_path):
    frame, _ = _planted_judgments(n_prompts=120)
    store = Store.open(tmp_path / "store")
    records = frame.to_dict(orient="records")
    for r in records:  # prompt p0's judgments were imported without their answers
        if r["prompt_id"] == "p0":
            r.update(answer_a=None, answer_b=None)
    store.append("judgments", records)
    args = ["--store", str(store.root), "leaderboard", "--style-control", "--n-boot", "400"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = style_leaderboard(frame[frame["prompt_id"] != "p0"], n_boot=400, seed=0)
    board = {r["model"]: r for r in out["leaderboard"]}
    for model, rating in zip(expected.models, expected.rating, strict=True):
        assert board[model]["sc_rating"] == pytest.approx(rating, abs=1e-6)
        assert board[model]["rating"] is not None
    style = out["style_control"]
    assert style["n_left_out_no_text"] == 3 and style["n_items"] == len(frame) - 3
    assert [c["feature"] for c in style["coefficients"]] == list(FEATURES)
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and "3 items left out: an answer's text is unknown" in text.output
    assert "lists" in text.output and "sc_rating" in text.output
