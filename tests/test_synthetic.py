"""The synthetic store generator: structure the dashboard tests rely on, written through the real store."""

from __future__ import annotations

import numpy as np
import pytest

import judges.stats.length_control as length_control
import judges.stats.preferences as preferences
from rlhf.synthetic import BROKEN_JUDGE, JUDGES, SyntheticConfig, generate, policy_id


def _expected_judgments(cfg: SyntheticConfig) -> int:
    total = 0
    for k in range(1, cfg.rounds):
        pairs = 1 if k == 1 else 2
        prompts = cfg.prompts // 2 if (cfg.running_round and k == cfg.rounds - 1) else cfg.prompts
        judges = cfg.judges + (1 if cfg.broken_judge and k == cfg.rounds - 1 else 0)
        total += pairs * prompts * 2 * judges
    return total


def test_counts_orders_running_round_and_broken_judge(store):
    cfg = SyntheticConfig(rounds=5, prompts=60, judges=3, seed=1)
    added = generate(store, cfg)
    assert added["prompts"] == 60
    assert added["generations"] == 5 * 60
    assert added["judgments"] == _expected_judgments(cfg)
    # every (judge, prompt, pair) is judged in both orders
    orders = store.query("""SELECT count(DISTINCT "order") AS n FROM judgments
                            GROUP BY judge, prompt_id, model_a, model_b""")
    assert set(orders["n"]) == {2}
    rounds = store.query("SELECT round_id, status FROM rounds ORDER BY round_id")
    assert rounds["status"].tolist() == ["done"] * 4 + ["running"]
    stage = store.query("SELECT status FROM round_stages WHERE round_id = 'r04' AND stage = 'judge'")
    assert stage["status"].tolist() == ["running"]
    broken = store.query(
        "SELECT count(*) AS n, count(preference) AS scored FROM judgments WHERE judge = ?", [BROKEN_JUDGE]
    )
    assert broken["n"].iloc[0] > 0 and broken["scored"].iloc[0] == 0
    # prompts without a category get one from prompt_tags; the judgment_pairs view resolves it
    untagged = store.query("SELECT count(*) AS n FROM prompts WHERE category IS NULL")["n"].iloc[0]
    assert untagged == added["prompt_tags"] > 0
    missing = store.query("SELECT count(*) AS n FROM judgment_pairs WHERE category IS NULL")["n"].iloc[0]
    assert missing == 0
    # the training metrics the dashboard charts are there
    names = set(store.query("SELECT DISTINCT stage || '/' || name AS s FROM training_metrics")["s"])
    assert {"reward/eval_accuracy", "dpo/loss", "dpo/rewards/margins", "dpo/rewards/accuracies"} <= names


def test_rerun_is_idempotent_and_deterministic(store, tmp_path):
    cfg = SyntheticConfig(rounds=3, prompts=30, judges=2, seed=7)
    generate(store, cfg)
    again = generate(store, cfg)
    assert sum(again.values()) == 0  # every row already stored with the same content
    from rlhf.store import Store

    other = Store.open(tmp_path / "other")
    generate(other, cfg)
    q = 'SELECT judge, prompt_id, model_a, model_b, "order", preference FROM judgments ORDER BY ALL'
    assert store.query(q).equals(other.query(q))


def test_planted_length_bias_is_removed_by_length_control(store):
    """Later checkpoints write longer answers and judges favour length: LC win rate sits below the raw one."""
    cfg = SyntheticConfig(
        rounds=8,
        prompts=400,
        judges=1,
        seed=3,
        length_bias=2.0,
        running_round=False,
        broken_judge=False,
        regression_round=None,
    )
    generate(store, cfg)
    raw = store.query(
        "SELECT * FROM judgments WHERE model_a = ? AND model_b = ?", [policy_id(0), policy_id(7)]
    )
    prefs = preferences.prompt_preferences(raw, model=policy_id(7), baseline=policy_id(0))
    diff = prefs["length_model"] - prefs["length_baseline"]
    assert diff.mean() > 0  # the newer checkpoint writes longer answers
    assert np.corrcoef(diff, prefs["preference"])[0, 1] > 0.2  # and judges reward it
    lc = length_control.lc_win_rate(prefs["preference"], prefs["length_model"], prefs["length_baseline"])
    assert lc.coef_length > 0
    assert lc.lc_win_rate < prefs["preference"].mean() - 0.01


def test_payloads_reach_prompts_answers_rationales_and_a_category(store):
    payloads = ("<script>x()</script>", "'; DROP TABLE judgments; --")
    generate(store, SyntheticConfig(rounds=3, prompts=40, judges=1, payloads=payloads))
    texts = " ".join(store.query("SELECT text FROM prompts")["text"])
    answers = " ".join(store.query("SELECT text FROM generations")["text"])
    rationales = " ".join(
        store.query("SELECT rationale FROM judgments WHERE rationale IS NOT NULL")["rationale"]
    )
    cats = set(store.query("SELECT category FROM prompt_categories")["category"])
    for p in payloads:
        assert p in texts and p in answers
    assert any(p in rationales for p in payloads)
    assert any(payloads[-1] in c for c in cats)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"rounds": -1}, "rounds"),
        ({"judges": 0}, "judges"),
        ({"judges": len(JUDGES) + 1}, "judges"),
        ({"unscored_rate": 1.0}, "unscored_rate"),
        ({"categories": ()}, "categories"),
    ],
)
def test_config_rejects_bad_values(kwargs, field):
    with pytest.raises(ValueError, match=field):
        SyntheticConfig(**kwargs)


def test_empty_when_no_rounds(store):
    assert generate(store, SyntheticConfig(rounds=0)) == {}
    assert store.count("judgments") == 0
