"""The embedded default data: counts, correct references, no leakage, TRL format, and loader errors."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter

import pytest

from rlhf.default_data import (
    DataError,
    default_eval_prompts,
    default_seed_preferences,
    default_train_prompts,
    load_preferences,
    load_prompts,
    prompt_content_hash,
)
from rlhf.schema import TABLES

CATEGORIES = {"math", "coding", "reasoning", "writing", "law", "politics", "safety", "general_knowledge"}


@pytest.fixture(scope="module")
def eval_prompts():
    return default_eval_prompts()


@pytest.fixture(scope="module")
def train_prompts():
    return default_train_prompts()


@pytest.fixture(scope="module")
def seeds():
    return default_seed_preferences()


# --- counts and shape -------------------------------------------------------------------------------------


def test_prompt_counts_and_categories(eval_prompts, train_prompts):
    for frame, split in ((eval_prompts, "eval"), (train_prompts, "train")):
        assert len(frame) >= 200
        counts = Counter(frame["category"])
        assert set(counts) >= CATEGORIES, f"{split}: missing {CATEGORIES - set(counts)}"
        assert min(counts.values()) >= 20, counts
        assert set(frame["split"]) == {split}
        assert frame["prompt_id"].str.startswith(f"{split}-").all()


def test_prompt_frames_have_the_store_columns(eval_prompts):
    assert list(eval_prompts.columns) == list(TABLES["prompts"])
    first = eval_prompts.iloc[0]
    messages = json.loads(first["messages"])
    assert messages[-1]["role"] == "user" and first["text"] == messages[-1]["content"]
    assert first["content_hash"] == prompt_content_hash(messages)
    assert first["source"] == "rlhf-rounds-default-v1"
    assert json.loads(first["tags"]) == []


def test_seed_counts(seeds):
    assert len(seeds) >= 100
    counts = Counter(seeds["category"])
    assert set(counts) >= CATEGORIES and min(counts.values()) >= 10, counts


def test_safety_prompts_cover_both_refusals_and_over_refusal(eval_prompts):
    safety = eval_prompts[eval_prompts["category"] == "safety"]
    tags = Counter(tag for raw in safety["tags"] for tag in json.loads(raw))
    assert tags["should-refuse"] >= 10 and tags["should-help"] >= 10, tags


def test_prompts_are_short(eval_prompts, train_prompts, seeds):
    # The default model answers with max lengths ~128 tokens; ~4 characters per token is a safe bound.
    assert eval_prompts["text"].str.len().max() <= 200
    assert train_prompts["text"].str.len().max() <= 200
    pair_chars = [
        len(p[0]["content"]) + max(len(c[0]["content"]), len(r[0]["content"]))
        for p, c, r in zip(seeds["prompt"], seeds["chosen"], seeds["rejected"])
    ]
    assert max(pair_chars) <= 400


# --- references are right ---------------------------------------------------------------------------------

_ARITHMETIC = [
    (re.compile(r"What is (\d+) \+ (\d+)\?"), lambda a, b: a + b),
    (re.compile(r"What is (\d+) - (\d+)\?"), lambda a, b: a - b),
    (re.compile(r"What is (\d+) times (\d+)\?"), lambda a, b: a * b),
    (re.compile(r"What is (\d+) divided by (\d+)\?"), lambda a, b: a / b),
    (re.compile(r"What is (\d+)% of (\d+)\?"), lambda p, n: p * n / 100),
    (re.compile(r"What is (\d+) squared\?"), lambda a: a * a),
]

# Word problems, each answer computed here from the numbers in the question.
_WORD_PROBLEMS = {
    "eval-math-013": 27 / 3,
    "eval-math-014": 48 - 48 / 4,
    "eval-math-015": 60 * 2.5,
    "eval-math-016": 7 * 12,
    "eval-math-017": 4 * 9,
    "eval-math-018": 15 * (1 - 0.20),
    "eval-math-019": 19 - 7,
    "eval-math-020": 45 / 3,
    "eval-math-021": (11 + 5) / 2,
    "eval-math-022": (4 + 8 + 15 + 21) / 4,
    "eval-math-023": 3.5 * 60,
    "eval-math-024": 18 / (12 + 18) * 100,
    "eval-math-025": 180,
    "eval-math-026": math.gcd(48, 36),
    "eval-math-027": math.lcm(6, 8),
    "eval-math-028": 2**10,
    "eval-math-029": math.isqrt(169),
    "eval-math-030": 250 * 6,
    "eval-math-031": 252 / 18,
    "eval-math-032": math.factorial(7),
}


def _expected(prompt_id: str, text: str) -> float | None:
    for pattern, fn in _ARITHMETIC:
        match = pattern.fullmatch(text)
        if match:
            return fn(*map(int, match.groups()))
    return _WORD_PROBLEMS.get(prompt_id)


def test_every_math_eval_prompt_has_a_correct_numeric_reference(eval_prompts):
    math_prompts = eval_prompts[eval_prompts["category"] == "math"]
    assert len(math_prompts) >= 20
    for row in math_prompts.itertuples():
        assert row.reference is not None, row.prompt_id
        expected = _expected(row.prompt_id, row.text)
        assert expected is not None, f"{row.prompt_id}: no independent check for {row.text!r}"
        assert float(row.reference) == pytest.approx(expected), (row.prompt_id, row.text, row.reference)


def test_arithmetic_train_references_are_correct(train_prompts):
    checked = 0
    for row in train_prompts[train_prompts["category"] == "math"].itertuples():
        expected = _expected(row.prompt_id, row.text)
        if expected is not None:
            assert float(row.reference) == pytest.approx(expected), (row.prompt_id, row.text)
            checked += 1
    assert checked >= 10


def test_general_knowledge_has_short_references(eval_prompts):
    gk = eval_prompts[eval_prompts["category"] == "general_knowledge"]
    refs = gk["reference"].dropna()
    assert len(refs) >= 10
    assert refs.str.split().str.len().max() <= 4
    assert gk.set_index("text").loc["What is the capital of France?", "reference"] == "Paris"


# --- no leakage -------------------------------------------------------------------------------------------


def test_no_prompt_is_in_both_train_and_eval(eval_prompts, train_prompts):
    assert eval_prompts["content_hash"].is_unique
    assert train_prompts["content_hash"].is_unique
    assert not set(eval_prompts["content_hash"]) & set(train_prompts["content_hash"])


def test_no_seed_pair_repeats_an_eval_prompt(eval_prompts, seeds):
    seed_hashes = {prompt_content_hash(p) for p in seeds["prompt"]}
    assert len(seed_hashes) == len(seeds)
    assert not seed_hashes & set(eval_prompts["content_hash"])


def test_content_hash_ignores_case_spacing_and_unicode_form_but_not_role_or_words():
    base = [{"role": "user", "content": "Café au lait?"}]
    assert prompt_content_hash(base) == prompt_content_hash(
        [{"role": "user", "content": "  cafe\u0301   AU lait? "}]
    )
    assert prompt_content_hash(base) != prompt_content_hash([{"role": "system", "content": "Café au lait?"}])
    assert prompt_content_hash(base) != prompt_content_hash([{"role": "user", "content": "Café au lait!"}])
    assert re.fullmatch(r"[0-9a-f]{64}", prompt_content_hash(base))


# --- TRL conversational format ----------------------------------------------------------------------------


def test_seed_preferences_are_a_trl_conversational_preference_dataset(seeds):
    from datasets import Dataset

    dataset = Dataset.from_list(seeds[["prompt", "chosen", "rejected"]].to_dict("records"))
    assert dataset.column_names == ["prompt", "chosen", "rejected"]
    assert len(dataset) == len(seeds)
    for example in dataset:
        roles = [m["role"] for m in example["prompt"]]
        assert roles[-1] == "user"
        assert all(a != b for a, b in itertools.pairwise(roles)), roles  # roles alternate
        for side in ("chosen", "rejected"):
            assert len(example[side]) == 1 and example[side][0]["role"] == "assistant"
            assert set(example[side][0]) == {"role", "content"} and example[side][0]["content"].strip()
        assert example["chosen"][0]["content"] != example["rejected"][0]["content"]


# --- loader errors name file, line and field --------------------------------------------------------------

_GOOD_PROMPT = {"prompt_id": "p-1", "messages": [{"role": "user", "content": "Hi?"}], "category": "general"}
_GOOD_PAIR = {
    "id": "s-1",
    "prompt": [{"role": "user", "content": "Hi?"}],
    "chosen": [{"role": "assistant", "content": "Hello!"}],
    "rejected": [{"role": "assistant", "content": "Go away."}],
    "category": "general",
}


def _write(tmp_path, lines: list[str]):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _with(record: dict, **changes) -> str:
    out = dict(record)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key)
        else:
            out[key] = value
    return json.dumps(out)


_DROP = object()


@pytest.mark.parametrize(
    ("bad_line", "field", "needle"),
    [
        ('{"prompt_id": "p-2", "messages": [', None, "malformed JSON"),
        (_with(_GOOD_PROMPT, prompt_id="p-2", messages=_DROP), "messages", "missing required field"),
        (_with(_GOOD_PROMPT, prompt_id=_DROP), "prompt_id", "missing required field"),
        (
            _with(_GOOD_PROMPT, prompt_id="p-2", messages=[{"role": "user", "content": "  "}]),
            "messages[0].content",
            "empty",
        ),
        (
            _with(_GOOD_PROMPT, prompt_id="p-2", messages=[{"role": "human", "content": "Hi"}]),
            "messages[0].role",
            "unknown role 'human'",
        ),
        (_with(_GOOD_PROMPT, prompt_id="p-2", category=3), "category", "must be a non-empty string"),
        (
            _with(
                _GOOD_PROMPT,
                prompt_id="p-2",
                messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            ),
            "messages[1].role",
            "last message must be from the 'user'",
        ),
        (_with(_GOOD_PROMPT, prompt_id="p-2", reference=42), "reference", "string or null"),
        (_with(_GOOD_PROMPT, prompt_id="p-2", refrence="42"), "refrence", "unknown field"),
        (_with(_GOOD_PROMPT, prompt_id="p-2", split="train"), "split", "loaded as 'eval'"),
    ],
)
def test_prompt_errors_name_file_line_and_field(tmp_path, bad_line, field, needle):
    path = _write(tmp_path, [json.dumps(_GOOD_PROMPT), "", bad_line])
    with pytest.raises(DataError) as info:
        load_prompts(path, split="eval")
    message = str(info.value)
    assert message.startswith(f"{path}:3:"), message
    assert info.value.line == 3 and info.value.field == field
    if field:
        assert f"field '{field}'" in message
    assert needle in message


def test_duplicate_prompt_id_names_both_lines(tmp_path):
    path = _write(
        tmp_path,
        [json.dumps(_GOOD_PROMPT), _with(_GOOD_PROMPT, messages=[{"role": "user", "content": "Other"}])],
    )
    with pytest.raises(DataError, match=r":2: field 'prompt_id': duplicate id 'p-1', first used on line 1"):
        load_prompts(path, split="train")


@pytest.mark.parametrize(
    ("bad_line", "field", "needle"),
    [
        ("not json", None, "malformed JSON"),
        (_with(_GOOD_PAIR, id="s-2", rejected=_DROP), "rejected", "missing required field"),
        (
            _with(_GOOD_PAIR, id="s-2", chosen=[{"role": "assistant", "content": ""}]),
            "chosen[0].content",
            "empty",
        ),
        (
            _with(_GOOD_PAIR, id="s-2", prompt=[{"role": "bot", "content": "Hi?"}]),
            "prompt[0].role",
            "unknown role",
        ),
        (
            _with(_GOOD_PAIR, id="s-2", chosen=[{"role": "user", "content": "Hi"}]),
            "chosen[0].role",
            "must be 'assistant'",
        ),
        (_with(_GOOD_PAIR, id="s-2", category=["math"]), "category", "must be a non-empty string"),
        (_with(_GOOD_PAIR, id="s-1"), "id", "first used on line 1"),
        (
            _with(_GOOD_PAIR, id="s-2", rejected=[{"role": "assistant", "content": "Hello!"}]),
            "rejected",
            "same text as 'chosen'",
        ),
    ],
)
def test_preference_errors_name_file_line_and_field(tmp_path, bad_line, field, needle):
    path = _write(tmp_path, [json.dumps(_GOOD_PAIR), bad_line])
    with pytest.raises(DataError) as info:
        load_preferences(path)
    assert str(info.value).startswith(f"{path}:2:"), str(info.value)
    assert info.value.field == field and needle in str(info.value)


def test_loader_accepts_null_category_and_system_turn(tmp_path):
    record = {
        "prompt_id": "x",
        "split": "train",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}],
        "category": None,
    }
    frame = load_prompts(_write(tmp_path, [json.dumps(record)]), split="train")
    assert frame.loc[0, "category"] is None and frame.loc[0, "text"] == "Hi?"
    assert frame.loc[0, "source"] == "rlhf-rounds-default-v1" and frame.loc[0, "reference"] is None


def test_empty_file_and_bad_split_are_refused(tmp_path):
    with pytest.raises(DataError, match=r":1: no records"):
        load_prompts(_write(tmp_path, [""]), split="eval")
    with pytest.raises(ValueError, match="split must be one of"):
        load_prompts(_write(tmp_path, [json.dumps(_GOOD_PROMPT)]), split="test")  # type: ignore[arg-type]
