"""Shared fixtures: tiny local models (no hub) and a fresh store per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Keep tests off the hub and polite on a 2-core machine.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# A test that forgets --store must never touch the user's real store.
os.environ["RLHF_STORE"] = tempfile.mkdtemp(prefix="rlhf-test-store-")
# Under pytest-xdist (`make test` runs one worker per core) each worker and the processes it starts compute on
# one thread, so the workers do not oversubscribe the cores (a recipe's num_threads still applies where set).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> Path:
    from rlhf.tiny import make_tiny_lm

    return make_tiny_lm(tmp_path_factory.mktemp("tiny") / "lm")


@pytest.fixture(scope="session")
def tiny_rm_dir(tmp_path_factory) -> Path:
    from rlhf.tiny import make_tiny_reward_model

    return make_tiny_reward_model(tmp_path_factory.mktemp("tiny") / "rm")


@pytest.fixture(scope="session")
def _empty_store_template(tmp_path_factory) -> Path:
    """One freshly created store directory (schema part, migrations), made once per session."""
    from rlhf.store import Store

    return Store.open(tmp_path_factory.mktemp("template") / "store").root


@pytest.fixture
def store(tmp_path, _empty_store_template):
    """A fresh, empty store of its own for each test: a copy of the session's freshly created store, opened
    where it now lies (which rebuilds its analyst catalog for the new path). Creating a store from nothing
    (schema part, migrations, catalog) cost about a second on 2 shared cores; the copy costs half of it."""
    from rlhf.store import Store

    shutil.copytree(_empty_store_template, tmp_path / "store", symlinks=True)
    return Store.open(tmp_path / "store")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on a private socket for the DuckLake store tests (tests/postgres_server.py)."""
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.remove()
