"""The win rate in SQL against numbers worked by hand (convention 17: one definition across languages).

The store's views (`prompt_preferences`, `pair_winrates`, `category_winrates`), the dashboard's `pair_summary`
and the statistics core (`judges.stats`) are fed the same small store and each is compared with the numbers
below, worked by hand, not only with each other (a mistake they shared would pass a consistency test).

One judge, version v1, round r1, model_a = A (old), model_b = B (new); P(B better) per verdict:

    prompt  category  ab    ba             per-prompt preference
    p1      math      0.9   0.7            0.8   win
    p2      math      0.2   (unscored)     0.2   loss
    p3      writing   0.5   0.5            0.5   tie
    p4      (none)    (unscored, both)     -     unscored prompt, never a tie
    p5      writing   1.0   (not judged)   1.0   win

Scored prompts: n = 4, wins 2, losses 1, ties 1, unscored 1.
win rate = (0.8 + 0.2 + 0.5 + 1.0) / 4 = 0.625.
Deviations 0.175, -0.425, -0.125, 0.375; squares sum 0.030625 + 0.180625 + 0.015625 + 0.140625 = 0.3675;
sd (ddof 1) = sqrt(0.3675 / 3) = sqrt(0.1225) = 0.35; standard error = 0.35 / sqrt(4) = 0.175.
math: (0.8, 0.2): mean 0.5, sd sqrt(0.18) = 0.424264, SE 0.3; writing: (0.5, 1.0): mean 0.75, sd
sqrt(0.125) = 0.353553, SE 0.25; (none): no scored prompt, 1 unscored.
Same side of 0.5 in both orders: p1 (0.9, 0.7) and p3 (0.5, 0.5): 2 of the 2 prompts with both orders scored.
"""

from __future__ import annotations

import pytest

from judges.stats.health import position_consistency
from judges.stats.preferences import prompt_preferences
from judges.stats.winrate import win_rate, win_rate_by

WIN_RATE, SE, N = 0.625, 0.175, 4
PER_PROMPT = {"p1": 0.8, "p2": 0.2, "p3": 0.5, "p5": 1.0}
CATEGORIES = {
    "math": (2, 0.5, 0.3, 1, 1, 0),
    "writing": (2, 0.75, 0.25, 1, 0, 1),
}  # n, mean, SE, wins, losses, ties


@pytest.fixture
def hand_store(store):
    store.append(
        "prompts",
        [
            {"prompt_id": p, "text": f"question {p}", "split": "eval", "category": c}
            for p, c in (("p1", "math"), ("p2", "math"), ("p3", "writing"), ("p4", None), ("p5", "writing"))
        ],
    )
    verdicts = [
        ("p1", "ab", 0.9), ("p1", "ba", 0.7), ("p2", "ab", 0.2), ("p2", "ba", None), ("p3", "ab", 0.5),
        ("p3", "ba", 0.5), ("p4", "ab", None), ("p4", "ba", None), ("p5", "ab", 1.0),
    ]  # fmt: skip
    store.append(
        "judgments",
        [
            {
                "judge": "J",
                "judge_version": "v1",
                "prompt_id": p,
                "model_a": "A",
                "model_b": "B",
                "order": o,
                "preference": pref,
                "error": None if pref is not None else "no verdict",
                "round_id": "r1",
                "source": "judge",
            }
            for p, o, pref in verdicts
        ],
    )
    return store


def test_prompt_preferences_view_by_hand(hand_store):
    view = hand_store.query("SELECT prompt_id, preference, n_scored, category FROM prompt_preferences")
    got = {r.prompt_id: r for r in view.itertuples()}
    assert {p: got[p].preference for p in PER_PROMPT} == pytest.approx(PER_PROMPT)
    assert (
        got["p4"].preference != got["p4"].preference and got["p4"].n_scored == 0
    )  # NULL: unscored, not a tie
    assert got["p1"].category == "math" and got["p4"].category != got["p4"].category  # NULL


def test_pair_winrates_view_by_hand(hand_store):
    (row,) = hand_store.query("SELECT * FROM pair_winrates").itertuples()
    assert (row.n, row.wins, row.losses, row.ties, row.unscored) == (N, 2, 1, 1, 1)
    assert row.win_rate == pytest.approx(WIN_RATE) and row.standard_error == pytest.approx(SE)


def test_category_winrates_view_by_hand(hand_store):
    view = hand_store.query("SELECT * FROM category_winrates").set_index("category")
    for category, (n, mean, se, wins, losses, ties) in CATEGORIES.items():
        row = view.loc[category]
        assert (row["n"], row["wins"], row["losses"], row["ties"], row["unscored"]) == (
            n,
            wins,
            losses,
            ties,
            0,
        )
        assert row["win_rate"] == pytest.approx(mean) and row["standard_error"] == pytest.approx(se)
    assert (view.loc["(none)", "n"], view.loc["(none)", "unscored"]) == (0, 1)


def test_dashboard_pair_summary_by_hand(hand_store):
    from dashboard import queries

    path = str(hand_store.root)
    (row,) = queries.pair_summary(path, queries.data_version(path), ("A",), ("B",)).itertuples()
    assert (row.n, row.wins, row.losses, row.ties, row.unscored) == (N, 2, 1, 1, 1)
    assert row.win_rate == pytest.approx(WIN_RATE) and row.standard_error == pytest.approx(SE)


def test_the_core_by_hand(hand_store):
    from rlhf.store.queries.judgments import judgment_rows

    rows = judgment_rows(hand_store, judge="J", judge_version="v1", models=("A", "B"))
    prefs = prompt_preferences(rows, "B", "A").set_index("prompt_id")
    assert prefs["preference"].dropna().to_dict() == pytest.approx(PER_PROMPT)
    r = win_rate(prefs["preference"], n_boot=0)
    assert (r.n_total, r.n_wins, r.n_losses, r.n_ties, r.n_unscored) == (N, 2, 1, 1, 1)
    assert r.win_rate == pytest.approx(WIN_RATE) and r.standard_error == pytest.approx(SE)
    cells = win_rate_by(prefs.reset_index(), "category", n_boot=0)
    for category, (n, mean, se, wins, losses, ties) in CATEGORIES.items():
        c = cells[category]
        assert (c.n_total, c.n_wins, c.n_losses, c.n_ties) == (n, wins, losses, ties)
        assert c.win_rate == pytest.approx(mean) and c.standard_error == pytest.approx(se)
    assert position_consistency(rows) == (1.0, 2)
    assert prefs["consistent"].sum() == 2 and prefs["consistent"].notna().sum() == 2


def test_the_judging_driver_reports_the_same_numbers(hand_store):
    """judge_pairs' win rate and consistency come from the core: on the stored rows of a run they are the hand
    numbers (here read through the same function the driver ends with)."""
    from judges.protocol import JudgeDefaults
    from judges.run import _consistency

    class Stored(JudgeDefaults):
        judge_id, judge_version, template_hash = "J", "v1", ""

        def judge(self, items):  # pragma: no cover - nothing is judged here
            raise AssertionError

    consistent, both, rate = _consistency(hand_store, Stored(), "A", "B", ["p1", "p2", "p3", "p4", "p5"])
    assert (consistent, both) == (2, 2) and rate == pytest.approx(WIN_RATE)
