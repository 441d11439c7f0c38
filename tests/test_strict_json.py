"""Every `--json` is strict JSON: null, never NaN or Infinity (`jq` and most parsers other than Python's refuse
them). Each command that has a `--json` option runs here on one small store and its output goes through a
parser that refuses NaN/Infinity; a command given `--json` later and not added here fails the first test."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rlhf.cli import main


def _refuse(constant: str):
    raise AssertionError(f"not strict JSON: {constant}")


def _strict(text: str):
    return json.loads(text, parse_constant=_refuse)


def _json_commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()) -> set[str]:
    found = set()
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        path = (*prefix, name)
        if any("--json" in getattr(p, "opts", ()) for p in command.params):
            found.add(" ".join(path))
        if isinstance(command, click.Group):
            found |= _json_commands(command, ctx, path)
    return found


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory, tiny_lm_dir):
    from rlhf.store import Store
    from rlhf.synthetic import SyntheticConfig, generate

    root = tmp_path_factory.mktemp("strict") / "store"
    store = Store.open(root)
    config = SyntheticConfig(
        rounds=3,
        prompts=20,
        judges=2,
        running_round=False,
        primary_judge="llm-logprob",
        reference_accuracy=True,
    )
    generate(store, config)
    promotable = (
        "ckpt-r02-files"  # round r02's policy, as a checkpoint whose files exist (promote checks them)
    )
    store.append(
        "checkpoints",
        [
            {
                "checkpoint_id": promotable,
                "round_id": "r02",
                "kind": "policy",
                "path": str(tiny_lm_dir),
                "content_hash": "sha-tiny",
                "parent_checkpoint_id": "ckpt-r01",
                "base_model": "synthetic-base",
                "config": "{}",
                "code_revision": "synthetic",
            }
        ],
    )
    tagger = root.parent / "tagger.yaml"
    tagger.write_text(f"kind: tagger\nname: tiny-tagger\nmodel: {tiny_lm_dir}\n", encoding="utf-8")
    return root, tagger, promotable


def _invocations(tagger, promotable: str = "") -> dict[str, list[str]]:
    pair = ["--model-a", "ckpt-r01", "--model-b", "ckpt-r02"]
    return {
        "round status": ["round", "status"],  # the first round's parent is missing: null, not NaN
        "winrate": [
            "winrate",
            "--model",
            "ckpt-r02",
            "--baseline",
            "ckpt-r01",
            "--judge",
            "llm-logprob",
            "--by",
            "category",
        ],
        "leaderboard": ["leaderboard", "--judge", "llm-logprob", "--n-boot", "400"],
        "prompts health": ["prompts", "health", "--judge", "llm-logprob"],
        "judge": ["judge", "--judge", "reference", *pair],
        "judge canaries": ["judge", "canaries"],
        "judge report": ["judge", "report"],
        "tag": ["tag", "--tagger", str(tagger), "--prompt-id", "p0000"],
        "gate": ["gate", "--round", "r02", "--dry-run"],
        "champion": ["champion"],
        "reject": ["reject", "--checkpoint", "ckpt-r02", "--reason", "a test"],
        "promote": ["promote", "--checkpoint", promotable, "--reason", "a test"],
        "export mlflow": [
            "export",
            "mlflow",
            "--tracking-uri",
            f"sqlite:///{Path(tagger).parent / 'mlflow.db'}",
        ],
    }


# commands that train or evaluate a round: too slow to run here; their JSON is strict by construction (they print
# through echo_json, which the next test holds every command to) and tests/test_gate_cli.py runs them
TOO_SLOW_HERE = {"round run", "round add"}


def test_every_json_command_is_checked_here(tmp_path):
    with click.Context(main) as ctx:
        have = _json_commands(main, ctx)
    assert have == set(_invocations(tmp_path / "t.yaml")) | TOO_SLOW_HERE, (
        "add the new --json command to _invocations"
    )


def test_commands_print_json_only_through_echo_json():
    """Strict by construction: no command module writes JSON itself (json.dumps allows NaN by default)."""
    commands = Path(__file__).resolve().parent.parent / "rlhf" / "commands"
    writers = [
        path.name
        for path in sorted(commands.glob("*.py"))
        if path.name != "strict_json.py" and "json.dumps(" in path.read_text(encoding="utf-8")
    ]
    assert writers == []


# `export mlflow` sets up an MLflow SQLite store (about 30 s): slow
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=[pytest.mark.slow] if c.startswith("export") else [])
        for c in sorted(_invocations("t.yaml"))
    ],
)
def test_json_output_is_strict(synthetic_store, command):
    root, tagger, promotable = synthetic_store
    args = _invocations(tagger, promotable)[command]
    result = CliRunner().invoke(main, ["--store", str(root), *args, "--json"])
    assert result.exit_code in (0, 3, 4), (command, result.output, result.exception)
    assert _strict(result.stdout) is not None or command == "champion"


def test_judge_dry_run_json_is_strict(synthetic_store):
    root, _, _ = synthetic_store
    args = [
        "judge",
        "--judge",
        "reference",
        "--model-a",
        "ckpt-r00",
        "--model-b",
        "ckpt-r01",
        "--dry-run",
        "--json",
    ]
    result = CliRunner().invoke(main, ["--store", str(root), *args])
    assert result.exit_code == 0, result.output
    plan = _strict(result.stdout)
    assert plan["cost_usd"] is None  # a local judge cannot price its requests: null, not NaN


def test_strict_turns_non_finite_numbers_into_null():
    import numpy as np
    import pandas as pd

    from rlhf.commands.strict_json import strict

    value = {"nan": float("nan"), "inf": np.float64("inf"), "na": pd.NA, "n": np.int64(3), "ok": 0.5}
    assert (
        json.dumps(strict(value), allow_nan=False)
        == '{"nan": null, "inf": null, "na": null, "n": 3, "ok": 0.5}'
    )
