"""`rlhf sample` through click: summary line, exit codes, nothing written on bad input."""

from __future__ import annotations

import json

from click.testing import CliRunner

from rlhf.cli import main


def _write_prompts(path, n=3):
    path.write_text(
        "".join(
            json.dumps(
                {
                    "prompt_id": f"f{i}",
                    "text": f"What is {i} + {i}?",
                    "category": "math",
                    "split": "train",
                    "reference": str(2 * i),
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


def test_cli_samples_a_file_then_reuses(tmp_path, tiny_lm_dir):
    prompts = _write_prompts(tmp_path / "p.jsonl")
    store_dir = tmp_path / "store"
    args = [
        "--store",
        str(store_dir),
        "sample",
        "--checkpoint",
        str(tiny_lm_dir),
        "--prompts",
        str(prompts),
        "--max-new-tokens",
        "4",
        "-k",
        "2",
        "--threads",
        "1",
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "6 answers for 3 prompts (0 reused, 6 generated" in first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0 and "(6 reused, 0 generated" in second.output
    from rlhf.store import Store

    stored = Store.open(store_dir).query("SELECT * FROM prompts ORDER BY prompt_id")
    assert list(stored["prompt_id"]) == ["f0", "f1", "f2"] and set(stored["category"]) == {"math"}
    assert set(stored["split"]) == {"train"} and list(stored["reference"]) == ["0", "2", "4"]
    assert set(stored["source"]) == {str(prompts)}


def test_cli_bad_input_exits_2_and_names_the_problem(tmp_path, tiny_lm_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt_id": "x", "text": "a"}\n{"prompt_id": "x", "text": "b"}\n')
    store_dir = tmp_path / "store"
    out = CliRunner().invoke(
        main, ["--store", str(store_dir), "sample", "--checkpoint", str(tiny_lm_dir), "--prompts", str(bad)]
    )
    assert out.exit_code == 2 and "bad.jsonl:2: duplicate prompt_id 'x'" in out.output
    out = CliRunner().invoke(
        main,
        [
            "--store",
            str(store_dir),
            "sample",
            "--checkpoint",
            str(tmp_path / "nope"),
            "--prompts",
            str(_write_prompts(tmp_path / "ok.jsonl")),
        ],
    )
    assert out.exit_code == 2 and "no such path" in out.output
    out = CliRunner().invoke(main, ["--store", str(store_dir), "sample", "--checkpoint", "x", "--top-p", "0"])
    assert out.exit_code == 2 and "top_p" in out.output
    from rlhf.store import Store

    store = Store.open(store_dir)
    assert store.count("generations") == 0 and store.count("checkpoints") == 0 and store.count("prompts") == 0
