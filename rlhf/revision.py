"""The code revision a record was produced by, so every checkpoint and round can be traced to its code.

Inside a git checkout: `git describe --always --dirty` style, e.g. ``7f0c8ef`` or ``7f0c8ef-dirty``.
Installed without git: ``rlhf-rounds==0.1.0``.
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(_PACKAGE_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"rlhf-rounds=={version('rlhf-rounds')}"
    except PackageNotFoundError:
        return "rlhf-rounds==unknown"


@lru_cache(maxsize=1)
def code_revision() -> str:
    """The package's git commit (short hash, ``-dirty`` when tracked files differ), else its installed version."""
    commit = _git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return _installed_version()
    status = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if status else commit


__all__ = ["code_revision"]
