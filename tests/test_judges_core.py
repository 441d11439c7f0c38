"""Verdicts, templates, configs, cache keys and the reference judge: pure pieces, no model."""

from __future__ import annotations

import hashlib

import pytest

from judges.cache import cache_key
from judges.config import (
    BUILTIN,
    LLMJudgeConfig,
    OpenAIJudgeConfig,
    ReferenceJudgeConfig,
    TaggerConfig,
    config_from_dict,
    load_config,
    resolve_config,
)
from judges.protocol import PairItem
from judges.reference_judge import ReferenceJudge, final_answer, parse_number
from judges.template import TEMPLATE_DIR, load_template, parse_template
from judges.verdict import Verdict, unmirror


# -- verdict ------------------------------------------------------------------------------------
def test_verdict_is_a_probability_or_unscored_with_reason():
    assert Verdict(0.25).preference == 0.25
    for bad in (-0.01, 1.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="probability"):
            Verdict(bad)
    with pytest.raises(ValueError, match="needs an error"):
        Verdict(None)
    with pytest.raises(ValueError, match="cannot carry an error"):
        Verdict(0.5, error="boom")
    with pytest.raises(ValueError, match="retryable"):
        Verdict(0.5, retryable=True)
    failed = Verdict.unscored("server said no")
    assert not failed.scored and failed.error == "server said no"


def test_unmirror_maps_positional_preference_to_model_b():
    assert unmirror(0.9, "ab") == 0.9
    assert unmirror(0.9, "ba") == pytest.approx(0.1)
    assert unmirror(None, "ab") is None
    with pytest.raises(ValueError):
        unmirror(0.5, "xy")


# -- templates ----------------------------------------------------------------------------------
def test_builtin_templates_parse_and_hash_is_file_content():
    for path in TEMPLATE_DIR.glob("*.txt"):
        template = load_template(path.stem)
        assert template.hash == hashlib.sha256(path.read_bytes()).hexdigest()
    verdict = load_template("pairwise_verdict")
    assert verdict.placeholders == {"question", "answer_1", "answer_2"}
    assert verdict.assistant_prefix == "Better response:"
    assert load_template("tagger").placeholders == {"question", "categories"}


def test_render_is_single_pass_so_answers_cannot_inject_placeholders():
    template = load_template("pairwise_verdict")
    messages, prefix = template.render(question="Q?", answer_1="I say {{answer_2}}", answer_2="SECOND")
    user = messages[-1]["content"]
    assert "I say {{answer_2}}" in user and user.count("SECOND") == 1
    assert messages[0]["role"] == "system" and prefix == "Better response:"
    with pytest.raises(KeyError, match="answer_2"):
        template.render(question="Q", answer_1="a")


def test_template_errors_name_file_and_line(tmp_path):
    with pytest.raises(ValueError, match=r"t\.txt:3: unknown placeholder \{\{answr\}\}"):
        parse_template("### user\nhello\n{{answr}}\n", name="t", path="t.txt")
    with pytest.raises(ValueError, match=r"t\.txt:1: a template must start"):
        parse_template("hello\n### user\nx", name="t", path="t.txt")
    with pytest.raises(FileNotFoundError, match=r"built-in: .*pairwise_verdict"):
        load_template("no_such_template")
    custom = tmp_path / "mine.txt"
    custom.write_text("### user\n{{question}} {{answer_1}} {{answer_2}}\n")
    assert load_template(str(custom)).name == "mine"


# -- config -------------------------------------------------------------------------------------
def test_yaml_keys_map_one_to_one_and_errors_name_file_and_key(tmp_path):
    good = tmp_path / "judge.yaml"
    good.write_text("kind: openai\nname: j\nbase_url: http://localhost:9/v1\nmodel: m\ntop_logprobs: 5\n")
    config = load_config(good)
    assert config == OpenAIJudgeConfig(name="j", base_url="http://localhost:9/v1", model="m", top_logprobs=5)
    bad_key = tmp_path / "bad.yaml"
    bad_key.write_text("kind: llm\nbatch: 4\n")
    with pytest.raises(
        ValueError,
        match=r"bad\.yaml: batch: unknown setting \(did you mean 'batch_size'\?\); valid: .*batch_size",
    ):
        load_config(bad_key)
    bad_type = tmp_path / "type.yaml"
    bad_type.write_text("kind: llm\nbatch_size: four\n")
    with pytest.raises(ValueError, match=r"type\.yaml: batch_size: must be an integer, got 'four'"):
        load_config(bad_type)
    bad_value = tmp_path / "value.yaml"
    bad_value.write_text("kind: llm\nmode: vibes\n")
    with pytest.raises(
        ValueError, match=r"value\.yaml: mode: must be one of 'logprob', 'reasoning', got 'vibes'"
    ):
        load_config(bad_value)
    with pytest.raises(
        ValueError, match="kind: must be one of llm, openai, reward, reference, panel, tagger, got 'oracle'"
    ):
        config_from_dict({"kind": "oracle"})


def test_builtin_names_and_validation():
    assert resolve_config("llm-default") == LLMJudgeConfig()
    assert isinstance(BUILTIN["reference"], ReferenceJudgeConfig)
    with pytest.raises(ValueError, match="unknown judge 'nope'"):
        resolve_config("nope")
    with pytest.raises(ValueError, match="top_logprobs"):
        OpenAIJudgeConfig(model="m", top_logprobs=50)
    assert TaggerConfig(categories=["a", "b"]).categories == ("a", "b")
    with pytest.raises(ValueError, match="duplicates"):
        TaggerConfig(categories=("a", "a"))


# -- cache key ----------------------------------------------------------------------------------
class _J:
    judge_id, judge_version, template_hash = "j", "v1", "t"


def test_cache_key_depends_on_everything_a_verdict_depends_on():
    item = PairItem("q", "a1", "a2", reference="r")
    base = cache_key(_J(), item, "ab")
    assert base == cache_key(_J(), PairItem("q", "a1", "a2", prompt_id="other", reference="r"), "ab")
    variants = [
        cache_key(_J(), item, "ba"),
        cache_key(_J(), item.swapped(), "ab"),
        cache_key(_J(), PairItem("q2", "a1", "a2", reference="r"), "ab"),
        cache_key(_J(), PairItem("q", "a1", "a2", reference="r2"), "ab"),
    ]
    other = _J()
    other.judge_version = "v2"
    variants.append(cache_key(other, item, "ab"))
    assert len({base, *variants}) == 6


# -- reference judge ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("The answer is 42.", "42."),
        ("work...\n#### 7", "7"),
        ("so \\boxed{3/4} done", "3/4"),
        ("a\nb\n\n", "b"),
    ],
)
def test_final_answer_extraction(text, expected):
    assert final_answer(text) == expected


def test_parse_number():
    assert parse_number("It costs $1,250.50") == 1250.5
    assert parse_number("-3 then 0.75") == 0.75
    assert parse_number("3/4") == 0.75
    assert parse_number("no digits") is None


def test_reference_judge_verdicts():
    judge = ReferenceJudge()
    right, wrong = "The answer is 36.", "The answer is 38."
    items = [
        PairItem("12*3?", wrong, right, reference="36"),
        PairItem("12*3?", right, wrong, reference="36"),
        PairItem("12*3?", right, "36", reference="36"),
        PairItem("12*3?", wrong, "37", reference="36"),
        PairItem("Capital?", "It is Paris.", "It is Rome.", reference="Paris"),
        PairItem("Capital?", "Parisian food", "paris", reference="Paris"),
        PairItem("poem", "x", "y", prompt_id="p9", reference=None),
    ]
    got = judge.judge(items)
    assert [v.preference for v in got[:6]] == [1.0, 0.0, 0.5, 0.5, 0.0, 1.0]
    assert got[6].preference is None and "p9 has no reference" in got[6].error
    strict = ReferenceJudge(ReferenceJudgeConfig(match="numeric", rel_tol=0.0, abs_tol=0.01))
    assert strict.judge([PairItem("pi?", "3.2", "3.141", reference="3.14159")])[0].preference == 1.0


@pytest.mark.parametrize(
    "module",
    ["judges.verdict", "judges._lm", "judges.reference_judge", "judges.llm_judge", "judges.openai_judge"],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0
