"""docs/architecture.md and the code say the same thing: its command table is rlhf.cli's `_COMMANDS`, and each
stage it names has the entry function it names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from rlhf.cli import _COMMANDS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text(encoding="utf-8")


def _rows() -> list[list[str]]:
    """Every table row of the page, as its cells."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in DOC.splitlines()
        if line.strip().startswith("|")
    ]


def test_the_command_table_is_the_cli():
    documented = {
        command: f"rlhf.commands.{module.strip('`').removesuffix('.py')}"
        for module, commands in (row[:2] for row in _rows() if row[0].endswith("_cmd.py`"))
        for command in re.findall(r"`([a-z]+)`", commands)
    }
    actual = {name: target.split(":")[0] for name, target in _COMMANDS.items()}
    assert documented == actual


def test_each_documented_stage_has_its_entry_function():
    stages = [row for row in _rows() if len(row) == 3 and row[1].startswith("`rlhf/rounds/")]
    assert {row[0] for row in stages} >= {"reward", "rejection", "dpo", "evaluate", "compare"}
    for _, module, entry in stages:
        path = module.strip("`").removesuffix(".py").replace("/", ".")
        name = re.match(r"`(\w+)`", entry).group(1)
        assert callable(getattr(importlib.import_module(path), name, None)), (module, name)
