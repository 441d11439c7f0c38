"""Every shell example in README.md and docs/*.md runs as written.

THE CONVENTION (for everyone who adds a shell example to the docs):

- A fenced block tagged ``bash`` (also ``sh``, ``shell``) is a shell example: this test runs it, as one
  ``bash -e -o pipefail`` script, with ``rlhf`` on PATH resolving to this checkout, ``$RLHF_STORE`` (and so
  every ``rlhf`` command without ``--store``) a small store this test prepares (synthetic rounds plus
  checkpoints ``default`` and ``round-001-policy`` .. ``round-003-policy`` judged by the synthetic judges
  ``llm-logprob``, ``reward-model`` and ``api-judge``), a private ``$HOME``, and as working directory a copy
  of the checkout (its files linked, ``.venv`` the running virtualenv) holding ``human_labels.jsonl``, a
  judgments file in the format docs/store.md documents.
- A block that is output, a diagram or not shell is fenced with no tag or with ``text``, ``yaml``, ``sql``...;
  it is never run.
- A command that cannot run here (it needs a GPU, a server, a model download, minutes of training, or it
  serves forever) is listed in ``SKIPPED`` below: (file, the start of the command) -> the reason. Each listed
  command is replaced by ``:`` in its block; the rest of the block still runs. An entry that matches no
  command fails the test (the list never goes stale).
- Use real names in examples (``round-003-policy``, not ``NEW``), or make the example skipped with a reason.

The test fails on any unlisted example that exits non-zero, naming the file, the line and the output;
``test_a_broken_readme_example_fails`` plants one to prove it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]
SHELL_TAGS = {"bash", "sh", "shell"}

# (file, the start of a command) -> why it is not run here.
SKIPPED: dict[tuple[str, str], str] = {
    ("README.md", "make demo"): "sets up .venv and trains two rounds of SmolLM2 (minutes), then serves",
    ("README.md", "make test"): "the whole suite: CI runs it",
    ("README.md", "make check"): "the checkers: `make test` runs them",
    ("README.md", "make bench"): "benchmarks run for minutes",
    ("README.md", ".venv/bin/pytest"): "runs tests: the suite runs them itself",
    ("README.md", "rlhf round add --checkpoint /uploads/"): "needs an uploaded policy and generates answers",
    ("README.md", "rlhf gate --round round-003"): "decides a round the demo ran; the prepared store has none",
    ("docs/architecture.md", "make check"): "the checkers: `make test` runs them",
    ("docs/architecture.md", ".venv/bin/"): "the checkers: `make test` runs them",
    ("docs/architecture.md", "rm -rf /tmp/up"): "tests/test_architecture.py runs the same on a copy",
    ("docs/architecture.md", "echo 'import rlhf.rounds.orchestrator'"): "the same example (line 2)",
    ("docs/architecture.md", '(cd /tmp/up && "$OLDPWD/.venv/bin/lint-imports"'): "the same example (line 3)",
    ("docs/dashboard.md", "rlhf --store /path/to/store dashboard"): "serves forever",
    ("docs/dashboard.md", "rlhf --store /tmp/demo synthetic && rlhf --store /tmp/demo dashboard"): "serves",
    ("docs/dashboard.md", ".venv/bin/pytest"): "runs tests: the suite runs them itself",
    ("docs/dashboard.md", ".venv/bin/python benchmarks/"): "benchmarks run for minutes",
    ("docs/rounds.md", "rlhf round run"): "trains a round (minutes on CPU)",
    ("docs/rounds.md", "rlhf round add --checkpoint /uploads/"): "needs an uploaded policy",
    ("docs/rounds.md", "rlhf demo"): "trains rounds (minutes on CPU)",
    ("docs/judges.md", "rlhf demo --config recipes/panel.yaml"): "trains a round (minutes on CPU)",
    (
        "docs/rounds.md",
        "rlhf gate --round round-002",
    ): "decides a round the demo ran; the prepared store has none",
    ("docs/rounds.md", "rlhf promote --checkpoint round-003-policy"): "needs the rounds the demo ran",
    ("docs/rounds.md", "rlhf reject --checkpoint round-003"): "needs the rounds the demo ran",
    ("docs/rounds.md", "rlhf --store $S "): "reads the store the `rlhf demo` line above makes",
    ("docs/rounds.md", "accelerate launch"): "needs GPUs",
    ("docs/sampler.md", "rlhf sample"): "loads and runs a model (the last one a server)",
    (
        "docs/sampler.md",
        ".venv/bin/python benchmarks/gpu_check.py --smoke",
    ): "tests/test_gpu_check.py runs it (slow)",
    ("docs/sampler.md", "mkdir -p .gpu_check/model"): "prepares files for a GPU machine",
    ("docs/sampler.md", "M=$(.venv/bin/python -c"): "prepares files for a GPU machine",
    ("docs/sampler.md", 'cp "$M"/config.json'): "prepares files for a GPU machine",
    ("docs/sampler.md", ".venv/bin/python -m pip download"): "downloads wheels: needs the network",
    ("docs/store.md", 'duckdb -cmd "$(rlhf --store "$STORE"'): "needs a DuckLake store on a Postgres server",
}


@dataclass(frozen=True)
class Example:
    file: str
    line: int  # of the opening fence
    commands: tuple[tuple[int, str], ...]  # (line, command with its continuation lines joined)


def examples(root: Path, file: str) -> list[Example]:
    """The shell blocks of ``root/file``."""
    found = []
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(```+)\s*(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        start, tag = i + 1, fence.group(2).lower()
        i += 1
        body: list[tuple[int, str]] = []
        while i < len(lines) and not lines[i].startswith(fence.group(1)):
            body.append((i + 1, lines[i]))
            i += 1
        i += 1
        if tag in SHELL_TAGS:
            found.append(Example(file, start, tuple(_commands(body))))
    return found


def _commands(body: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, text in body:
        if pending is not None:
            pending = (pending[0], pending[1] + "\n" + text)
        else:
            pending = (number, text)
        if not text.rstrip().endswith("\\"):
            out.append(pending)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _skip_reason(file: str, command: str) -> str | None:
    text = command.strip()
    for (where, prefix), reason in SKIPPED.items():
        if where == file and text.startswith(prefix):
            return reason
    return None


def script(example: Example) -> str:
    """The block as a script: skipped commands become `:` with their reason."""
    out = []
    for _, command in example.commands:
        reason = _skip_reason(example.file, command)
        out.append(f": skipped: {reason!r}" if reason else command)
    return "\n".join(out) + "\n"


def run_examples(root: Path, file: str, env: dict[str, str], cwd: Path) -> list[str]:
    """Run every shell example of ``root/file``; return a failure text per example that failed."""
    failures = []
    for example in examples(root, file):
        text = script(example)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", text],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            failures.append(
                f"{file}:{example.line}: exit {done.returncode}\n--- script\n{text}--- stdout\n"
                f"{done.stdout[-3000:]}--- stderr\n{done.stderr[-3000:]}"
            )
    return failures


# ---- the environment the examples run in ---------------------------------------------------------------------
CHECKPOINTS = ["default", "round-001-policy", "round-002-policy", "round-003-policy"]
JUDGES = ["llm-logprob", "reward-model", "api-judge"]  # the synthetic store's judges (they have canaries)


def _judgment_rows(prompts: list[str], judge: str, old: str, new: str, strength: float) -> list[dict]:
    rows = []
    for i, prompt in enumerate(prompts):
        for order in ("ab", "ba"):
            p = min(1.0, max(0.0, strength + 0.3 * ((i * 7 + len(order) + len(judge)) % 5 - 2) / 2))
            rows.append(
                {
                    "judge": judge,
                    "judge_version": f"{judge}@1",
                    "prompt_id": prompt,
                    "model_a": old,
                    "model_b": new,
                    "order": order,
                    "preference": round(p, 3),
                    "round_id": None,
                }
            )
    return rows


@pytest.fixture(scope="module")
def docs_env(tmp_path_factory) -> tuple[dict[str, str], Path]:
    base = tmp_path_factory.mktemp("docs")
    home, bin_dir, checkout, store = base / "home", base / "bin", base / "checkout", base / "store"
    for d in (home, bin_dir, checkout):
        d.mkdir()
    venv = Path(sys.executable).parent.parent
    (bin_dir / "rlhf").write_text(f'#!/bin/sh\nexec {sys.executable} -m rlhf.cli "$@"\n')
    (bin_dir / "rlhf").chmod(0o755)
    for item in REPO.iterdir():
        if item.name not in (".venv", ".git"):
            (checkout / item.name).symlink_to(item)
    (checkout / ".venv").symlink_to(venv)
    env = {
        **os.environ,
        "HOME": str(home),
        "RLHF_STORE": str(store),
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
    }
    cli = [sys.executable, "-m", "rlhf.cli", "--store", str(store)]
    subprocess.run([*cli, "synthetic", "--rounds", "3", "--prompts", "40", "--no-running"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    prompts = [f"p{i:05d}" for i in range(40)]
    rows = []
    for k in range(1, len(CHECKPOINTS)):
        for j, judge in enumerate(JUDGES):
            rows += _judgment_rows(
                prompts, judge, CHECKPOINTS[k - 1], CHECKPOINTS[k], 0.5 + 0.05 * k - 0.03 * j
            )
    setup = base / "setup_judgments.jsonl"
    setup.write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run([*cli, "append", "judgments", str(setup)], env=env, check=True, capture_output=True)
    human = _judgment_rows(prompts[:10], "human", "round-002-policy", "round-003-policy", 0.6)
    (base / "human_labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in human))
    (checkout / "human_labels.jsonl").symlink_to(base / "human_labels.jsonl")
    return env, checkout


@pytest.mark.parametrize("file", DOCS)
def test_docs_examples_run(file, docs_env):
    env, checkout = docs_env
    failures = run_examples(REPO, file, env, checkout)
    assert not failures, "\n\n".join(failures)


def test_every_skipped_entry_matches_a_command():
    commands = {
        (file, command.strip()) for file in DOCS for ex in examples(REPO, file) for _, command in ex.commands
    }
    stale = [key for key in SKIPPED if not any(f == key[0] and c.startswith(key[1]) for f, c in commands)]
    assert not stale, f"SKIPPED entries that match no command in the docs: {stale}"


def test_a_broken_readme_example_fails(tmp_path, docs_env):
    env, checkout = docs_env
    text = (REPO / "README.md").read_text(encoding="utf-8")
    planted = "```bash\nrlhf winrate --model round-003 --baseline round-002 --json\n```\n"
    (tmp_path / "README.md").write_text(text + "\n" + planted, encoding="utf-8")
    failures = run_examples(tmp_path, "README.md", env, checkout)
    assert len(failures) == 1, failures
    line = len(text.splitlines()) + 2
    assert failures[0].startswith(f"README.md:{line}: exit 2"), failures[0]
    assert "has no judgments" in failures[0]


def test_examples_are_found_and_skips_apply():
    found = {ex.file: ex for ex in examples(REPO, "README.md")}
    assert found, "README.md has shell examples"
    demo = next(ex for ex in examples(REPO, "README.md") if "make demo" in ex.commands[0][1])
    assert script(demo).startswith(": skipped: 'sets up .venv")
