"""The previous implementation of a module, for side-by-side benchmarks: read from git history, not a file.

`old_module("judges/bradley_terry.py")` loads that file as it was at BASELINE_COMMIT (the last commit before
the statistics core, issue 9) from this clone's own history with `git show`, into a temporary module named
`baseline_<stem>`; `old_module(path, commit="f3d9102")` loads another commit's version as
`baseline_<commit>_<stem>`. A shallow clone without that commit gets a clear error.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

BASELINE_COMMIT = "68307e2"
ROOT = Path(__file__).resolve().parents[1]


def old_module(
    path: str, *, commit: str = BASELINE_COMMIT, rewrite: dict[str, str] | None = None
) -> types.ModuleType:
    """The module at ``path`` as of ``commit`` (``rewrite`` replaces import lines that moved)."""
    try:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"], check=True,
                                capture_output=True, text=True).stdout  # fmt: skip
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        raise SystemExit(f"cannot read {path} at {commit} from this clone's git history: {err}") from err
    for old, new in (rewrite or {}).items():
        source = source.replace(old, new)
    stem = Path(path).stem
    name = f"baseline_{stem}" if commit == BASELINE_COMMIT else f"baseline_{commit}_{stem}"
    module = types.ModuleType(name)
    module.__file__ = f"{commit}:{path}"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module
