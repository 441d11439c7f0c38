"""The statistics core is importable without judges, HTTP clients, Streamlit or torch."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "judges.llm_judge",
    "judges.openai_judge",
    "judges.reward_judge",
    "judges.run",
    "httpx",
    "streamlit",
    "torch",
]


def test_importing_the_statistics_core_loads_no_judge_http_or_ui() -> None:
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import judges.stats\n"
        "names = [m.name for m in pkgutil.iter_modules(judges.stats.__path__)]\n"
        "assert {'winrate', 'bootstrap', 'significance', 'preferences', 'length_control', 'bradley_terry',"
        " 'health'} <= set(names), names\n"
        "for name in names:\n"
        "    importlib.import_module('judges.stats.' + name)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_check_would_see_a_heavy_import() -> None:
    """Guard against a check that cannot fail: importing a judge does show up in sys.modules."""
    code = "import json, sys\nimport judges.openai_judge\nprint(json.dumps('httpx' in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) is True
