"""One reward-scoring rule for every caller: the rejection stage's ranking (`score_answers`) and the reward
judge (and so the canaries run on it) score the same (prompt, answer) identically, from the prompt's full chat
messages, and both leave an over-long input unscored instead of truncating it."""

from __future__ import annotations

import json
import math

import pytest

from judges.config import RewardJudgeConfig
from judges.protocol import PairItem
from judges.reward_judge import RewardJudge
from judges.run import pair_item
from rlhf.rounds.rejection_stage import score_answers

SYSTEM = [{"role": "system", "content": "Answer in one word."}]
PROMPTS = [
    [{"role": "user", "content": "What is 2 + 2?"}],
    [*SYSTEM, {"role": "user", "content": "Capital of France?"}],
    [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ],
]
ANSWERS = ("Four.", "It is 4, I am sure of it.")
LONG = "word " * 400  # far over max_length=64 tokens


def _judge_rewards(judge: RewardJudge, items: list[PairItem]) -> list[tuple[float | None, float | None]]:
    out = []
    for verdict in judge.judge(items):
        raw = json.loads(verdict.raw_output or "{}")
        out.append((raw["reward_first"], raw["reward_second"]))
    return out


def test_rejection_ranking_and_reward_judge_score_identically(tiny_rm_dir):
    config = RewardJudgeConfig(model=str(tiny_rm_dir), batch_size=4, max_length=64)
    judge = RewardJudge(config)
    # the items as the judging driver builds them from stored prompts (question text plus the stored messages)
    rows = [
        {
            "prompt_id": f"p{i}",
            "text": messages[-1]["content"],
            "messages": json.dumps(messages),
            "answer_a": ANSWERS[0],
            "answer_b": ANSWERS[1] if i else LONG,
            "reference": None,
            "category": None,
        }
        for i, messages in enumerate(PROMPTS)
    ]
    items = [pair_item(row) for row in rows]
    judged = _judge_rewards(judge, items)
    ranked = score_answers(
        tiny_rm_dir,
        [
            (messages, answer)
            for messages, row in zip(PROMPTS, rows)
            for answer in (row["answer_a"], row["answer_b"])
        ],
        batch_size=4,
        max_length=judge.max_length,
    )
    assert [r for pair in judged for r in pair] == ranked  # identical floats, not merely close
    # the system prompt and the earlier turns count: the same question without them scores differently
    bare = PairItem(question=items[1].question, first=ANSWERS[0], second=ANSWERS[1])
    assert _judge_rewards(judge, [bare])[0][0] != judged[1][0]


def test_over_long_input_is_unscored_by_both_callers_never_truncated(tiny_rm_dir):
    judge = RewardJudge(RewardJudgeConfig(model=str(tiny_rm_dir), max_length=64))
    (verdict,) = judge.judge([PairItem(question="What is 2 + 2?", first="Four.", second=LONG)])
    assert verdict.preference is None and "longer than max_length=64" in (verdict.error or "")
    ranked = score_answers(tiny_rm_dir, [(PROMPTS[0], "Four."), (PROMPTS[0], LONG)], max_length=64)
    assert ranked[1] is None and isinstance(ranked[0], float) and math.isfinite(ranked[0])


@pytest.mark.parametrize("messages", [None, ()])
def test_a_pair_without_messages_is_one_user_turn(messages):
    item = PairItem(question="q?", first="a", second="b", messages=messages)
    assert item.prompt_messages() == [{"role": "user", "content": "q?"}]
    assert item.swapped().messages == item.messages
