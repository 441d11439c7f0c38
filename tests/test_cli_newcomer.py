"""The command line as a newcomer meets it (issue 17), through the real `rlhf` command on real stores:
read-only commands never create a store, `--store` after the subcommand, the headline judge by default,
`--judge` by kind, a closed pipe, the `--n-boot` minimum and canary sentences computed from the interval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rlhf.cli import main
from rlhf.store import Store

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("newcomer") / "store"
    result = cli("--store", str(root), "synthetic", "--rounds", "3", "--prompts", "30", "--no-running")
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize(
    "command",
    [
        ["round", "status"],
        ["store", "path"],
        ["store", "info"],
        ["winrate", "--model", "a", "--baseline", "b"],
        ["leaderboard"],
        ["judge", "canaries"],
    ],
)
def test_a_read_only_command_on_a_typo_exits_2_and_creates_nothing(tmp_path, command):
    typo = tmp_path / "sotre" / "nested" / "deeper"
    result = cli("--store", str(typo), *command)
    assert result.exit_code == 2, result.output
    assert f"no store at {typo}; `rlhf demo`, `rlhf round run` or `rlhf append` create one" in result.output
    assert not (tmp_path / "sotre").exists()


def test_an_existing_directory_that_is_not_a_store_is_left_alone(tmp_path):
    (tmp_path / "notes").mkdir()
    result = cli("store", "info", "--store", str(tmp_path / "notes"))
    assert result.exit_code == 2 and "no store at" in result.output
    assert list((tmp_path / "notes").iterdir()) == []


def test_store_is_accepted_after_the_subcommand(synthetic_store):
    before = cli("--store", str(synthetic_store), "store", "path", "--location")
    after = cli("store", "path", "--location", "--store", str(synthetic_store))
    equals = cli("store", "path", f"--store={synthetic_store}", "--location")
    assert before.exit_code == after.exit_code == equals.exit_code == 0
    assert before.output == after.output == equals.output == f"{synthetic_store}\n"
    clash = cli("--store", str(synthetic_store), "store", "path", "--store", "/elsewhere")
    assert clash.exit_code == 2 and "--store is given 2 times with different locations" in clash.output


def test_winrate_and_leaderboard_default_to_the_headline_judge(synthetic_store):
    # synthetic canaries: llm-logprob 0.84 and reward-model 0.78 informative, api-judge 0.55 not
    result = cli("--store", str(synthetic_store), "winrate", "--model", "ckpt-r02", "--baseline", "ckpt-r01",
                 "--json", "--n-boot", "400")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["judge"] == "llm-logprob"
    assert "judge 'llm-logprob': the judge that passed its canaries with the best accuracy" in result.stderr
    board = cli("--store", str(synthetic_store), "leaderboard", "--json", "--n-boot", "0")
    assert board.exit_code == 0, board.output
    assert {r["judge"] for r in json.loads(board.stdout)} == {"llm-logprob"}


def test_the_recipe_primary_judge_leads_when_recorded(tmp_path):
    store = Store.open(tmp_path / "s")
    from rlhf.synthetic import SyntheticConfig, generate

    generate(store, SyntheticConfig(rounds=2, prompts=20, running_round=False, primary_judge="reward-model"))
    result = cli("--store", str(store.root), "winrate", "--model", "ckpt-r01", "--baseline", "ckpt-r00",
                 "--json", "--n-boot", "400")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["judge"] == "reward-model"
    assert "the recipe's primary judge recorded by the latest evaluated round" in result.stderr


def test_judge_by_a_unique_start_of_its_name(synthetic_store):
    result = cli("--store", str(synthetic_store), "winrate", "--model", "ckpt-r02", "--baseline", "ckpt-r01",
                 "--judge", "api", "--json", "--n-boot", "400")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["judge"] == "api-judge"
    assert "--judge 'api' is judge 'api-judge'" in result.stderr
    nobody = cli("--store", str(synthetic_store), "leaderboard", "--judge", "zzz")
    assert nobody.exit_code == 2 and "no judgments in" in nobody.output and "'zzz'" in nobody.output


def test_n_boot_below_its_minimum_is_refused(synthetic_store):
    for n_boot, confidence, least in (("1", "0.95", 400), ("0", "0.95", 400), ("1999", "0.99", 2000)):
        result = cli("--store", str(synthetic_store), "winrate", "--model", "ckpt-r02", "--baseline", "ckpt-r01",
                     "--n-boot", n_boot, "--confidence", confidence)  # fmt: skip
        assert result.exit_code == 2, result.output
        assert f"needs at least {least} resamples" in result.output
    ok = cli("--store", str(synthetic_store), "winrate", "--model", "ckpt-r02", "--baseline", "ckpt-r01",
             "--n-boot", "400")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    p_line = next(line for line in ok.output.splitlines() if "p-value" in line)
    assert "< 2" not in p_line


def test_a_closed_pipe_is_a_quiet_success(synthetic_store):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        f"{sys.executable} -m rlhf.cli --store {synthetic_store} round status | head -1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        executable="/bin/bash",
    )
    assert done.stdout.startswith("round"), done.stdout
    assert "BrokenPipe" not in done.stderr and "Error" not in done.stderr, done.stderr
    status = subprocess.run(
        f"set -o pipefail; {sys.executable} -m rlhf.cli --store {synthetic_store} leaderboard --n-boot 0 "
        "2>/dev/null | head -1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        executable="/bin/bash",
    )
    assert status.returncode == 0, status.stderr


def _canary(judge: str, low: float, high: float, accuracy: float, **detail) -> dict:
    return {"judge": judge, "judge_version": f"{judge}@1", "canary_set": "t", "n": 60, "accuracy": accuracy,
            "ci_low": low, "ci_high": high, "tie_rate": 0.0, "position_consistency": 0.8, "position_bias": 0.0,
            "length_bias": 0.0, "informative": low > 0.5 and not detail.get("failed_kinds"),
            "n_verdicts": 120, "n_unscored": 0, "detail": json.dumps(detail)}  # fmt: skip


@pytest.mark.parametrize(
    ("low", "high", "acc", "detail", "expected"),
    [
        (0.266, 0.397, 0.328, {}, "its interval lies below 50%: it prefers the wrong answer"),
        (0.404, 0.696, 0.55, {}, "its interval includes 50%: it cannot be told apart from a coin"),
        (
            0.6,
            0.8,
            0.7,
            {"failed_kinds": ["length"], "ci_by_kind": {"length": [0.0, 0.057]}},
            "above 50% pooled, but below chance on length (prefers the wrong answer)",
        ),
        (0.655, 0.905, 0.78, {}, "canaries: informative, accuracy 0.780 [0.655, 0.905]"),
    ],
)
def test_canary_sentences_follow_the_interval(tmp_path, low, high, acc, detail, expected):
    store = Store.open(tmp_path / "s")
    from rlhf.synthetic import SyntheticConfig, generate

    generate(store, SyntheticConfig(rounds=2, prompts=10, judges=1, running_round=False, canaries=False))
    store.append("judge_canaries", [_canary("llm-logprob", low, high, acc, **detail)])
    result = cli("--store", str(store.root), "winrate", "--model", "ckpt-r01", "--baseline", "ckpt-r00",
                 "--judge", "llm-logprob", "--n-boot", "400")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "includes 50%" not in result.output or "includes 50%" in expected


def test_a_copied_store_opens_at_its_new_place_with_the_same_numbers(tmp_path, tiny_lm_dir):
    import shutil

    import duckdb

    from rlhf.rounds import checkpoint as ckpt
    from rlhf.store.queries.checkpoints import checkpoint_row
    from rlhf.synthetic import SyntheticConfig, generate

    old, new = tmp_path / "old" / "store", tmp_path / "new" / "store"
    store = Store.open(old)
    generate(store, SyntheticConfig(rounds=2, prompts=20, judges=1, running_round=False))
    inside = old / "rounds" / "round-009" / "policy"
    shutil.copytree(tiny_lm_dir, inside)
    ckpt.register(store, checkpoint_id="inside", kind="policy", path=inside, round_id=None,
                  parent_checkpoint_id=None, base_model=None, config=None)  # fmt: skip
    assert store.query("SELECT path FROM checkpoints WHERE checkpoint_id = 'inside'")["path"][0] == (
        "./rounds/round-009/policy"
    )
    args = ["winrate", "--model", "ckpt-r01", "--baseline", "ckpt-r00", "--json", "--n-boot", "400"]
    before = cli("--store", str(old), *args)
    assert before.exit_code == 0, before.output
    new.parent.mkdir()
    subprocess.run(["cp", "-r", str(old), str(new)], check=True)
    shutil.rmtree(old)  # nothing may still be read from the old place
    after = cli("--store", str(new), *args)
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout)
    analyst = cli("--store", str(new), "store", "path")
    assert analyst.output.strip() == str(new / "catalog.duckdb")
    with duckdb.connect(analyst.output.strip(), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM judgment_pairs").fetchone()
    assert n is not None and n[0] == Store.open(new).count("judgment_pairs") > 0
    row = checkpoint_row(Store.open(new), "inside")
    assert row is not None and row["path"] == str(new / "rounds" / "round-009" / "policy")
    assert Path(row["path"]).is_dir()


def _all_commands():
    import click

    from rlhf.cli import _COMMANDS

    def walk(name: str, command: click.Command):
        yield name, command
        if isinstance(command, click.Group):
            for sub, child in command.commands.items():
                yield from walk(f"{name} {sub}", child)

    ctx = click.Context(main)
    for name in _COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None
        yield from walk(name, command)


def test_every_option_has_help_text():
    import click

    missing = [
        f"rlhf {name} {param.opts[0]}"
        for name, command in _all_commands()
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert not missing, f"options without help: {missing}"


def test_leaderboard_help_lists_the_json_fields_as_they_are(synthetic_store):
    from rlhf.commands.winrate_cmd import LEADERBOARD_JSON_FIELDS

    board = cli("--store", str(synthetic_store), "leaderboard", "--json", "--n-boot", "0")
    assert board.exit_code == 0, board.output
    assert tuple(json.loads(board.stdout)[0]) == LEADERBOARD_JSON_FIELDS
    text = " ".join(cli("leaderboard", "--help").output.split())
    assert "{" + ", ".join(LEADERBOARD_JSON_FIELDS) + "}" in text


def test_judge_takes_a_kind_and_the_unknown_message_offers_judges_only(synthetic_store):
    unknown = cli("--store", str(synthetic_store), "judge", "--judge", "nope", "--model", "ckpt-r01",
                  "--baseline", "ckpt-r00")  # fmt: skip
    assert unknown.exit_code == 2
    assert (
        "--judge nope: unknown; give a YAML config path, a built-in name (llm-default, llm-reasoning, "
        in (unknown.output)
    )
    assert "tagger" not in unknown.output
    from rlhf.commands.judge_cmd import builtin_for

    assert builtin_for("llm", ("llm", "reference")) == "llm-default"


@pytest.mark.parametrize(
    "module",
    [
        "judges.stats.canary",  # above / at / below chance from the interval
        "judges.stats.bootstrap",  # the --n-boot minimum
        "rlhf.commands.judge_choice",  # --judge by kind or name start
        "rlhf.commands.judge_cmd",  # rlhf judge --judge KIND
        "rlhf.commands.winrate_cmd",  # "+-0.4 points", not "+-0"
        "rlhf.cli",  # --store after the subcommand
        "rlhf.store.ingest",  # what a preference may be
        "dashboard.ui",  # answer boxes capped by drawn height
    ],
)
def test_doctests_of_the_computed_messages(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
