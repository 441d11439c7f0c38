"""The import floors hold, and an upward import breaks them (docs/architecture.md).

`lint-imports` (import-linter, contracts in pyproject.toml) runs in `make check`; these tests prove the
contracts are kept on the tree and that they would catch the next upward import: a copy of the packages
with one base module importing the rounds package must fail the floors contract.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _copy_tree(tmp_path: Path) -> Path:
    for package in ("rlhf", "judges", "dashboard"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_its_import_contracts() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("module", "upward_import", "contract"),
    [
        ("rlhf/schema.py", "import rlhf.rounds.orchestrator", "Floors"),
        ("rlhf/store/records.py", "import judges.run", "Floors"),
        ("judges/config.py", "import judges.llm_judge", "Judge configs know no implementation"),
        ("judges/stats/winrate.py", "import httpx", "judges.stats is pure statistics"),
    ],
)
def test_an_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, upward_import: str, contract: str
) -> None:
    tree = _copy_tree(tmp_path)
    target = tree / module
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n{upward_import}  # upward on purpose\n", encoding="utf-8"
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


_SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\b(INSERT INTO|DELETE FROM|CREATE (TEMP )?(TABLE|VIEW))\b")
_SQL_HOMES = ("rlhf/store/", "dashboard/queries.py")


def test_sql_lives_only_in_the_store_layer_and_dashboard_queries() -> None:
    """Every SQL string outside rlhf/store/ and dashboard/queries.py is a defect: add a named query function
    in rlhf/store/queries/<concept>.py instead."""
    found = []
    for package in ("rlhf", "judges", "dashboard"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(_SQL_HOMES):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
                if is_text and _SQL.search(node.value) and not _is_docstring_like(node.value):
                    found.append(f"{rel}:{node.lineno}: {node.value.strip()[:60]!r}")
    assert not found, "SQL outside the store layer:\n" + "\n".join(found)


def _is_docstring_like(text: str) -> bool:
    return (
        not text.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "DELETE", "CREATE", "COPY", "FROM"))
    )
