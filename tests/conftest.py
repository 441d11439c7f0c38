"""Shared fixtures: tiny local models (no hub) and a fresh store per test."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> Path:
    from rlhf.tiny import make_tiny_lm

    return make_tiny_lm(tmp_path_factory.mktemp("tiny") / "lm")


@pytest.fixture(scope="session")
def tiny_rm_dir(tmp_path_factory) -> Path:
    from rlhf.tiny import make_tiny_reward_model

    return make_tiny_reward_model(tmp_path_factory.mktemp("tiny") / "rm")


@pytest.fixture
def store(tmp_path):
    from rlhf.store import Store

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
