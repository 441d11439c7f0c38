"""The one config loader (rlhf.config_mapping.from_mapping) and the CLI's one exit spine (rlhf.commands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import click
import pytest
from click.testing import CliRunner

from rlhf.cli import main
from rlhf.commands import BadInput, JobFailed, exit_codes
from rlhf.config_mapping import ConfigError, check_literals, from_mapping
from rlhf.inputs import InputError


@dataclass(frozen=True)
class Inner:
    r: int = 8
    names: tuple[str, ...] = ("a",)


@dataclass(frozen=True)
class Outer:
    mode: Literal["fast", "slow"] = "fast"
    rate: float = 0.5
    label: str | None = None
    flag: bool = False
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be in [0, 1], got {self.rate}")


def test_builds_nested_configs_with_lists_as_tuples_and_ints_as_numbers() -> None:
    built = from_mapping(
        Outer, {"mode": "slow", "rate": 1, "label": None, "inner": {"names": ["x", "y"]}}, "o"
    )
    assert built == Outer(mode="slow", rate=1, label=None, inner=Inner(names=("x", "y")))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"rat": 0.1},
            "cfg.yaml: rat: unknown setting (did you mean 'rate'?); valid: mode, rate, label, flag, inner",
        ),
        (
            {"mode": "fsat"},
            "cfg.yaml: mode: must be one of 'fast', 'slow', got 'fsat' (did you mean 'fast'?)",
        ),
        ({"rate": "high"}, "cfg.yaml: rate: must be a number, got 'high'"),
        ({"flag": "yes"}, "cfg.yaml: flag: must be true or false, got 'yes'"),
        ({"label": 3}, "cfg.yaml: label: must be a string, got 3"),
        ({"rate": 2}, "cfg.yaml: rate must be in [0, 1], got 2"),
        ({"inner": {"r": "8"}}, "cfg.yaml: inner.r: must be an integer, got '8'"),
        ({"inner": {"nmes": []}}, "cfg.yaml: inner.nmes: unknown setting (did you mean 'names'?)"),
        ({"inner": 3}, "cfg.yaml: inner: expected a mapping of settings, got int"),
    ],
)
def test_every_error_names_the_place_the_key_and_what_is_valid(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(Outer, data, "cfg.yaml")
    assert message in str(err.value)


def test_check_literals_guards_configs_built_directly() -> None:
    with pytest.raises(ConfigError, match=r"round\.mode: must be one of 'fast', 'slow', got 'medium'"):
        check_literals(Outer(mode="medium"), "round")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "exit_code", "shown"),
    [
        (InputError("p.jsonl", 3, "text", "empty"), 2, "p.jsonl:3: field 'text': empty"),
        (ConfigError("r.yaml: round.k: must be an integer"), 2, "r.yaml: round.k: must be an integer"),
        (RuntimeError("server went away"), 1, "RuntimeError: server went away"),
    ],
)
def test_the_exit_spine_maps_bad_input_to_2_and_failed_jobs_to_1(
    error: Exception, exit_code: int, shown: str
) -> None:
    @click.command()
    @exit_codes
    def job() -> None:
        raise error

    result = CliRunner().invoke(job, [])
    assert result.exit_code == exit_code, result.output
    assert shown in result.output
    assert isinstance(BadInput("x"), click.ClickException) and JobFailed("x").exit_code == 1


def test_every_rlhf_command_goes_through_the_spine(tmp_path) -> None:
    bad = tmp_path / "recipe.yaml"
    bad.write_text("round: {kk: 4}\njudges: [{kind: reference}]\n")
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "store"), "round", "run", "--config", str(bad)]
    )
    assert result.exit_code == 2, result.output
    assert "round.kk: unknown setting (did you mean 'k'?)" in result.output
    missing = CliRunner().invoke(
        main, ["--store", str(tmp_path / "store"), "append", "prompts", str(tmp_path / "no.jsonl")]
    )
    assert missing.exit_code == 2 and "no.jsonl: no such file" in missing.output
