"""Local LLM judge, reward judge and tagger on tiny random models built offline (no hub)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from judge_fixtures import seed_store
from judges.config import LLMJudgeConfig, RewardJudgeConfig, TaggerConfig
from judges.llm_judge import LLMJudge
from judges.protocol import PairItem
from judges.reward_judge import RewardJudge
from judges.run import judge_pairs
from judges.tagger import PromptTagger, tag_prompts
from judges.template import load_template

torch.set_num_threads(1)

ITEMS = [
    PairItem("What is 2 + 2?", "4", "The answer is 5."),
    PairItem("Write a short poem about the sea.", "The waves roll in under a grey sky, " * 3, "Sea."),
    PairItem("Capital of France?", "Paris", "Rome"),
    PairItem("def add(a, b)?", "return a + b", "return a - b because " * 5),
    PairItem("Explain contracts.", "An offer, acceptance and consideration.", "No idea."),
]


@pytest.fixture(scope="module")
def lm(tiny_lm_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_lm_dir).eval(), AutoTokenizer.from_pretrained(
        tiny_lm_dir
    )


@pytest.fixture(scope="module")
def judge(tiny_lm_dir):
    return LLMJudge(LLMJudgeConfig(model=str(tiny_lm_dir), batch_size=8))


def _hand_preference(model, tokenizer, item: PairItem) -> float:
    messages, prefix = load_template("pairwise_verdict").render(
        question=item.question, answer_1=item.first, answer_2=item.second
    )
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + prefix
    ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        probs = torch.softmax(model(input_ids=ids).logits[0, -1].double(), dim=-1)

    def mass(label):
        spellings = {tuple(tokenizer(s, add_special_tokens=False)["input_ids"]) for s in (label, " " + label)}
        return sum(float(probs[s[0]]) for s in spellings if len(s) == 1)

    return mass("B") / (mass("A") + mass("B"))


def test_soft_preference_equals_hand_computation_from_logits(judge, lm):
    verdicts = judge.judge(ITEMS)
    for item, verdict in zip(ITEMS, verdicts):
        assert verdict.preference == pytest.approx(_hand_preference(*lm, item), abs=1e-6)
        raw = json.loads(verdict.raw_output)
        assert 0 < raw["verdict_mass"] <= 1 and verdict.completion_tokens == 0
    # a random tiny model is not indifferent by accident: preferences differ between pairs
    assert len({round(v.preference, 9) for v in verdicts}) > 1


def test_batched_equals_one_at_a_time(judge, tiny_lm_dir):
    single = LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), batch_size=1),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="x",
    )
    passes_before = judge.forward_passes
    batched = [v.preference for v in judge.judge(ITEMS)]
    assert judge.forward_passes - passes_before == 1  # five pairs, one forward pass
    alone = [v.preference for v in single.judge(ITEMS)]
    assert single.forward_passes == 5
    assert batched == pytest.approx(alone, abs=1e-5)


def test_too_long_prompt_is_unscored_not_truncated(judge, tiny_lm_dir):
    short = LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), max_length=300),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="x",
    )
    long_item = PairItem("Q?", "word " * 400, "x")
    first, second = short.judge([long_item, ITEMS[0]])
    assert first.preference is None and "more than max_length=300" in first.error
    assert second.preference is not None
    strict = LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), min_verdict_mass=0.99),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="x",
    )
    assert "min_verdict_mass" in strict.judge([ITEMS[0]])[0].error


def test_version_tracks_template_model_and_mode(judge, tiny_lm_dir):
    assert judge.template_hash == load_template("pairwise_verdict").hash
    assert judge.template_hash[:12] in judge.judge_version
    other = LLMJudge(
        LLMJudgeConfig(
            model=str(tiny_lm_dir), mode="reasoning", template="pairwise_reasoning", max_new_tokens=4
        ),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="x",
    )
    assert other.judge_version != judge.judge_version
    (verdict,) = other.judge([ITEMS[2]])
    # a random model writes no [[A]]/[[B]]: unscored with its output kept, never a tie
    assert verdict.preference is None and "no [[A]]" in verdict.error and verdict.completion_tokens <= 4


def test_driver_cache_zero_calls_and_crash_resume(store, tiny_lm_dir, judge):
    seed_store(store)
    cfg = LLMJudgeConfig(model=str(tiny_lm_dir))
    crashing = LLMJudge(cfg, model=judge.model, tokenizer=judge.tokenizer, model_hash="h")
    real_judge = crashing.judge

    def judge_then_crash(items):
        if crashing.model_calls >= 4:
            raise RuntimeError("killed")
        return real_judge(items)

    crashing.judge = judge_then_crash
    with pytest.raises(RuntimeError, match="killed"):
        judge_pairs(store, crashing, "old", "new", chunk_prompts=2)
    assert crashing.model_calls == 4 and store.count("judgments") == 4

    resumed = LLMJudge(cfg, model=judge.model, tokenizer=judge.tokenizer, model_hash="h")
    result = judge_pairs(store, resumed, "old", "new", chunk_prompts=2)
    assert resumed.model_calls == 8 and result.n_cached == 4 and store.count("judgments") == 12

    again = LLMJudge(cfg, model=judge.model, tokenizer=judge.tokenizer, model_hash="h")
    rerun = judge_pairs(store, again, "old", "new")
    assert again.model_calls == 0 and again.forward_passes == 0 and rerun.n_cached == 12
    # stored rows are the un-mirrored verdicts of this judge
    rows = store.query("SELECT prompt_id, \"order\", preference FROM judgments WHERE prompt_id = 'p2'")
    direct = judge.judge(
        [
            PairItem(
                "What is the capital of France?",
                "The capital of France is Rome.",
                "The capital of France is Paris.",
            )
        ]
    )[0].preference
    assert rows.set_index("order").loc["ab", "preference"] == pytest.approx(direct, abs=1e-6)


def test_rationale_generated_only_for_losses(store, tiny_lm_dir, judge):
    seed_store(store)
    explaining = LLMJudge(
        LLMJudgeConfig(model=str(tiny_lm_dir), rationale="losses", max_new_tokens=3),
        model=judge.model,
        tokenizer=judge.tokenizer,
        model_hash="h",
    )
    result = judge_pairs(store, explaining, "old", "new")
    per_prompt = store.query(
        "SELECT prompt_id, avg(preference) AS p, count(rationale) AS n_rat FROM judgments GROUP BY 1"
    )
    losses = per_prompt[per_prompt["p"] < 0.5]
    assert (losses["n_rat"] == 2).all() and (per_prompt.loc[per_prompt["p"] >= 0.5, "n_rat"] == 0).all()
    assert result.n_rationales == 2 * len(losses)
    assert explaining.judge_version.endswith(f"rationale=losses@{explaining.rationale_template.hash[:12]}")


# -- reward judge -------------------------------------------------------------------------------
def test_reward_judge_is_sigmoid_of_reward_difference(tiny_rm_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    judge = RewardJudge(RewardJudgeConfig(model=str(tiny_rm_dir), batch_size=4))
    model = AutoModelForSequenceClassification.from_pretrained(tiny_rm_dir).eval()
    tok = AutoTokenizer.from_pretrained(tiny_rm_dir)

    def reward(q, a):
        text = tok.apply_chat_template(
            [{"role": "user", "content": q}, {"role": "assistant", "content": a}], tokenize=False
        )
        with torch.no_grad():
            return float(
                model(input_ids=torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])).logits[0, 0]
            )

    items = ITEMS + [it.swapped() for it in ITEMS]
    verdicts = judge.judge(items)
    assert judge.model_calls == 10  # each distinct (prompt, answer) scored once for both orders
    for item, verdict in zip(items, verdicts):
        expected = 1 / (1 + math.exp(reward(item.question, item.first) - reward(item.question, item.second)))
        assert verdict.preference == pytest.approx(expected, abs=1e-6)
    for v, w in zip(verdicts[:5], verdicts[5:]):
        assert v.preference + w.preference == pytest.approx(1.0)


# -- tagger -------------------------------------------------------------------------------------
def test_tagger_picks_the_best_scoring_category_and_stores_version(store, tiny_lm_dir, lm):
    model, tok = lm
    config = TaggerConfig(model=str(tiny_lm_dir), categories=("math", "writing", "coding"), score="sum")
    tagger = PromptTagger(config, model=model, tokenizer=tok, model_hash="m")
    question = "What is 2 + 2?"
    scores = tagger.scores([question])[0]
    # hand computation: log P(" math" | context) from a full forward pass per category
    messages, prefix = load_template("tagger").render(question=question, categories="math, writing, coding")
    context = tok(
        tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + prefix,
        add_special_tokens=False,
    )["input_ids"]
    for name, got in zip(config.categories, scores):
        cat = tok(" " + name, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([context + cat])).logits[0], dim=-1)
        want = sum(float(logp[len(context) + t - 1, c]) for t, c in enumerate(cat))
        assert got == pytest.approx(want, abs=1e-4)

    store.append(
        "prompts",
        [
            {"prompt_id": "q1", "text": question},
            {"prompt_id": "q2", "text": "Write a poem."},
            {"prompt_id": "q3", "text": "Sort a list.", "category": "coding"},
        ],
    )
    result = tag_prompts(store, tagger)
    assert result.n_candidates == 2 and result.n_tagged == 2
    tags = store.query("SELECT * FROM prompt_tags ORDER BY prompt_id")
    assert tags["prompt_id"].tolist() == ["q1", "q2"]
    assert (
        set(tags["category"]) <= set(config.categories)
        and (tags["tagger_version"] == tagger.tagger_version).all()
    )
    assert tags.loc[0, "category"] == config.categories[max(range(3), key=lambda i: scores[i])]
    assert ((tags["score"] > 1 / 3) & (tags["score"] <= 1)).all()
    again = tag_prompts(store, tagger)
    assert again.n_tagged == 0 and again.n_already == 2
    cats = store.query("SELECT prompt_id, category FROM prompt_categories ORDER BY 1")
    assert cats.loc[2, "category"] == "coding"  # a prompt's own category wins over any tag


# -- the real default model (slow) --------------------------------------------------------------
@pytest.mark.slow
def test_default_model_judges_clearly_wrong_answers(store, capsys):
    """SmolLM2-135M-Instruct as judge on three pairs where one answer is plainly wrong. We record what it
    says; we do not assert that a 135M model is smart, only that the protocol holds."""
    from rlhf.models import content_hash, load_causal_lm

    model, tokenizer = load_causal_lm("default")
    judge = LLMJudge(
        LLMJudgeConfig(model="default"), model=model, tokenizer=tokenizer, model_hash=content_hash("default")
    )
    store.append(
        "prompts",
        [
            {"prompt_id": "cap", "text": "What is the capital of France?", "reference": "Paris"},
            {"prompt_id": "mul", "text": "What is 12 times 3?", "reference": "36"},
            {"prompt_id": "col", "text": "Name a primary color."},
        ],
    )
    store.append(
        "generations",
        [
            {"checkpoint_id": "wrong", "prompt_id": "cap", "text": "The capital of France is Berlin."},
            {"checkpoint_id": "right", "prompt_id": "cap", "text": "The capital of France is Paris."},
            {"checkpoint_id": "wrong", "prompt_id": "mul", "text": "12 times 3 is 15."},
            {"checkpoint_id": "right", "prompt_id": "mul", "text": "12 times 3 is 36."},
            {"checkpoint_id": "wrong", "prompt_id": "col", "text": "Banana is a primary color."},
            {"checkpoint_id": "right", "prompt_id": "col", "text": "Red is a primary color."},
        ],
    )
    result = judge_pairs(store, judge, "wrong", "right")
    rows = store.query('SELECT prompt_id, "order", preference, raw_output FROM judgments ORDER BY 1, 2')
    assert len(rows) == 6 and rows.groupby("prompt_id")["order"].apply(set).eq({"ab", "ba"}).all()
    assert rows["preference"].between(0, 1).all() and result.n_unscored == 0
    masses = [json.loads(r)["verdict_mass"] for r in rows["raw_output"]]
    with capsys.disabled():
        print(
            "\ndefault-model judge, P(right answer better): "
            + ", ".join(f"{p}/{o}={v:.3f}" for p, o, v in rows[["prompt_id", "order", "preference"]].values)
            + f"; mean {result.win_rate:.3f}; position consistency {result.position_consistency}; "
            f"verdict mass {min(masses):.2f}-{max(masses):.2f}"
        )
