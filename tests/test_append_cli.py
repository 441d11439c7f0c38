"""`rlhf append`: formats, errors that name file/line/field, nothing half-written, fuzzed reader."""

from __future__ import annotations

import json
import string

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlhf.cli import main
from rlhf.inputs import InputError
from rlhf.store import Store
from rlhf.store.ingest import append_files

ROWS = [
    {
        "prompt_id": "q1",
        "prompt": "What is 2+2?",
        "model_a": "old",
        "model_b": "new",
        "preference": 0.8,
        "judge": "human",
        "category": "math",
    },
    {
        "prompt_id": "q2",
        "prompt": "Capital of France?",
        "model_a": "old",
        "model_b": "new",
        "preference": None,
        "judge": "human",
        "error": "skipped",
    },
    {
        "prompt_id": "q3",
        "prompt": "Say hi",
        "model_a": "old",
        "model_b": "new",
        "preference": 0.5,
        "judge": "human",
        "answer_a": "hi",
        "answer_b": "hello",
    },
]


def write_jsonl(path, rows, *, extra_lines=()):
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def run(store_dir, *args):
    return CliRunner().invoke(main, ["--store", str(store_dir), *args], catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_append_each_format_twice_adds_once(tmp_path, fmt):
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"j.{fmt}"
    if fmt == "jsonl":
        write_jsonl(path, ROWS)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    first = run(tmp_path / "s", "append", "judgments", str(path))
    assert first.exit_code == 0, first.output
    assert "judgments: 3 added" in first.output and "prompts: 3 added" in first.output
    second = run(tmp_path / "s", "append", "judgments", str(path))
    assert "judgments: 0 added, 3 already stored" in second.output
    store = Store.open(tmp_path / "s")
    got = store.query(
        "SELECT prompt_id, preference, category, length_b FROM judgment_pairs ORDER BY prompt_id"
    )
    assert got["preference"].tolist()[0] == 0.8 and pd.isna(got["preference"][1])
    assert got["category"][0] == "math" and got["length_b"][2] == 5


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"prompt_id": "q9", "prompt": "x", "model_a": "a"', ":4: malformed JSON"),
        (
            '{"prompt_id": "q9", "prompt": "x", "model_a": "a", "model_b": "b", "judge": "h", "preference": 1.5}',
            ":4: field 'preference'",
        ),
        (
            '{"prompt_id": "q9", "model_a": "a", "model_b": "b", "judge": "h", "preference": 0.5}',
            ":4: field 'prompt_id': unknown prompt 'q9'",
        ),
        (
            '{"prompt_id": "q9", "prompt": "x", "model_a": "a", "model_b": "", "judge": "h", "preference": 0.5}',
            ":4: field 'model_b': empty",
        ),
        (
            '{"prompt_id": "q1", "prompt": "What is 2+2?", "model_a": "old", "model_b": "new", "preference": 0.1, "judge": "human"}',
            ":4: field 'key': duplicate key with different content",
        ),
        ("[1, 2]", ":4: expected a JSON object"),
    ],
)
def test_bad_line_names_file_line_field_and_writes_nothing(tmp_path, bad_line, expected):
    path = write_jsonl(tmp_path / "bad.jsonl", ROWS, extra_lines=[bad_line])
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2
    assert str(path) + expected in result.output
    store = Store.open(tmp_path / "s")
    assert store.count("judgments") == 0 and store.count("prompts") == 0


def test_missing_field_and_conflict_with_stored_rows(tmp_path):
    no_judge = [{k: v for k, v in r.items() if k != "judge"} for r in ROWS]
    result = run(tmp_path / "s", "append", "judgments", str(write_jsonl(tmp_path / "a.jsonl", no_judge)))
    assert result.exit_code == 2 and "field 'judge': missing (required for judgments)" in result.output
    assert (
        run(tmp_path / "s", "append", "judgments", str(write_jsonl(tmp_path / "b.jsonl", ROWS))).exit_code
        == 0
    )
    changed = [dict(r) for r in ROWS]
    changed[2]["preference"] = 0.0
    result = run(tmp_path / "s", "append", "judgments", str(write_jsonl(tmp_path / "c.jsonl", changed)))
    assert result.exit_code == 2
    assert (
        f"{tmp_path / 'c.jsonl'}:3: field 'key': a stored record has the same key and different content"
        in result.output
    )


def test_several_files_are_one_batch(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", ROWS)
    bad = write_jsonl(tmp_path / "bad.jsonl", [dict(ROWS[0], prompt_id="z", preference=2)])
    result = run(tmp_path / "s", "append", "judgments", str(good), str(bad))
    assert result.exit_code == 2 and f"{bad}:1: field 'preference'" in result.output
    assert Store.open(tmp_path / "s").count("judgments") == 0


def test_store_path_prints_the_analyst_file(tmp_path):
    Store.open(tmp_path / "s")
    result = run(tmp_path / "s", "store", "path")
    assert result.output.strip() == str((tmp_path / "s" / "catalog.duckdb").absolute())


_text = st.text(alphabet=string.printable, max_size=40)
_value = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), _text)
_row = st.dictionaries(
    st.sampled_from(
        ["prompt_id", "prompt", "model_a", "model_b", "judge", "preference", "order", "category", "zzz"]
    ),
    _value,
    max_size=9,
)
_line = st.one_of(_row.map(json.dumps), _text)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    """One store for every fuzzed file: each example checks the counts it changed, so the examples need not
    start from an empty store (a fresh one per example was most of this test's 30 s)."""
    return Store.open(tmp_path_factory.mktemp("fuzz") / "s")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, min_size=1, max_size=6))
def test_fuzzed_files_either_land_whole_or_fail_cleanly(tmp_path_factory, fuzz_store, lines):
    store = fuzz_store
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_text("\n".join(lines) + "\n")
    judgments, prompts = store.count("judgments"), store.count("prompts")
    try:
        results = append_files(store, "judgments", [path])
    except InputError as exc:
        assert str(path) in str(exc)
        assert store.count("judgments") == judgments and store.count("prompts") == prompts  # nothing half-way
    else:
        assert store.count("judgments") == judgments + results["judgments"].added


def _judgment(prompt_id: str, **fields) -> dict:
    return {"prompt_id": prompt_id, "prompt": f"text of {prompt_id}", "model_a": "old", "model_b": "new",
            "judge": "human", "preference": 0.5, **fields}  # fmt: skip


def test_a_file_with_three_different_errors_reports_all_three(tmp_path):
    rows = [
        _judgment("q1"),
        _judgment("q2", preference=True),
        _judgment("q3", order="AB"),
        _judgment("q4"),
        _judgment("q5", preference=None),
    ]
    path = write_jsonl(tmp_path / "three.jsonl", rows, extra_lines=['{"prompt_id": "q6",, }'])
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2
    # the malformed line is found while reading; fix it and the three field errors come together
    assert f"{path}:6: malformed JSON (Expecting property name enclosed in double quotes at column 20)" in (
        result.output
    )
    path = write_jsonl(tmp_path / "three.jsonl", rows)
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2
    assert "3 problems; nothing was written:" in result.output
    assert f"{path}:2: field 'preference': True is a boolean, not a preference" in result.output
    assert f"{path}:3: field 'order': must be one of ab, ba" in result.output
    assert (
        f"{path}:5: field 'preference': empty: a judgment without a preference is unscored" in result.output
    )
    assert Store.open(tmp_path / "s").count("judgments") == 0


def test_at_most_twenty_errors_are_listed(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [_judgment(f"q{i}", preference=2) for i in range(25)])
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2 and "25 problems (the first 20 shown)" in result.output
    assert f"{path}:20: field 'preference'" in result.output and f"{path}:21:" not in result.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("true", "True is a boolean, not a preference"),
        ('""', "'' is a string, not a preference"),
        ('"0.5"', "'0.5' is a string, not a preference"),
        ("NaN", "NaN at column"),
        ("null", "empty: a judgment without a preference is unscored and needs an 'error'"),
    ],
)
def test_booleans_nan_strings_and_blank_preferences_are_refused(tmp_path, value, message):
    line = (
        '{"prompt_id": "q1", "prompt": "x", "model_a": "a", "model_b": "b", "judge": "h", "preference": '
        + value
        + "}"
    )
    path = tmp_path / "p.jsonl"
    path.write_text(line + "\n")
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2 and message in result.output, result.output


def test_csv_nan_is_refused_and_an_empty_cell_with_an_error_is_unscored(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("prompt_id,prompt,model_a,model_b,judge,preference,error\nq1,x,a,b,h,NaN,\n")
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2 and f"{path}:2: field 'preference': 'NaN' is not a number" in result.output
    path.write_text(
        "prompt_id,prompt,model_a,model_b,judge,preference,error\nq1,x,a,b,h,,skipped\nq2,y,a,b,h,0.25,\n"
    )
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 0, result.output
    got = Store.open(tmp_path / "s").query("SELECT prompt_id, preference FROM judgments ORDER BY prompt_id")
    assert pd.isna(got["preference"][0]) and got["preference"][1] == 0.25


def test_unknown_round_is_refused_unless_asked_for(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [_judgment("q1", round_id="round-009")])
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2
    assert (
        f"{path}:1: field 'round_id': unknown round 'round-009' (rounds in the store: none)" in result.output
    )
    result = run(tmp_path / "s", "append", "judgments", "--allow-new-rounds", str(path))
    assert result.exit_code == 0, result.output
    again = write_jsonl(tmp_path / "r2.jsonl", [_judgment("q2", round_id="round-009")])
    assert run(tmp_path / "s", "append", "judgments", str(again)).exit_code == 0  # now a known round


def test_a_corrected_label_is_explained(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [_judgment("q1", preference=0.7, order="ab")])
    assert run(tmp_path / "s", "append", "judgments", str(first)).exit_code == 0
    fixed = write_jsonl(tmp_path / "b.jsonl", [_judgment("q1", preference=0.2, order="ab")])
    result = run(tmp_path / "s", "append", "judgments", str(fixed))
    assert result.exit_code == 2
    assert (
        f"{fixed}:1: field 'key': a stored record has the same key and different content: " in result.output
    )
    assert "preference stored '0.7', given '0.2'" in result.output
    assert "(the key: judge, judge_version, prompt_id, model_a, model_b, order)" in result.output
    assert "record a correction under a new judge_version" in result.output
    corrected = write_jsonl(
        tmp_path / "c.jsonl", [_judgment("q1", preference=0.2, order="ab", judge_version="human@2")]
    )
    assert run(tmp_path / "s", "append", "judgments", str(corrected)).exit_code == 0


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_bom_and_crlf_are_read_alike_in_every_text_format(tmp_path, fmt):
    rows = [_judgment("q1", preference=0.75), _judgment("q2", preference=0.25)]
    if fmt == "jsonl":
        text = "\r\n".join(json.dumps(r) for r in rows) + "\r\n"
    else:
        text = pd.DataFrame(rows).to_csv(index=False, lineterminator="\r\n")
    path = tmp_path / f"bom.{fmt}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 0, result.output
    got = Store.open(tmp_path / "s").query(
        "SELECT prompt_id, preference, judge FROM judgments ORDER BY prompt_id"
    )
    assert got["prompt_id"].tolist() == ["q1", "q2"] and got["preference"].tolist() == [0.75, 0.25]
    assert got["judge"].tolist() == ["human", "human"]


def test_unknown_field_lists_the_documented_fields(tmp_path):
    path = write_jsonl(tmp_path / "u.jsonl", [_judgment("q1", labeler="ann")])
    result = run(tmp_path / "s", "append", "judgments", str(path))
    assert result.exit_code == 2
    assert "field 'labeler': unknown field for judgments; required: judge, prompt_id, model_a, model_b, " in (
        result.output
    )
    assert "judgment_id" not in result.output and "template_hash" not in result.output
