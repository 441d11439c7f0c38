"""`rlhf dashboard` serves on 127.0.0.1 by default with the store passed through RLHF_STORE; `rlhf synthetic`
writes a store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from click.testing import CliRunner

from dashboard_browser import free_port
from rlhf.cli import main
from rlhf.store import Store


def _non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; this picks the outward interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def test_synthetic_command_writes_a_store(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "--store",
            str(tmp_path / "s"),
            "synthetic",
            "--rounds",
            "3",
            "--prompts",
            "12",
            "--judges",
            "2",
            "--no-running",
        ],
    )
    assert result.exit_code == 0, result.output
    store = Store.open(tmp_path / "s")
    assert store.count("prompts") == 12
    assert store.query("SELECT count(*) AS n FROM rounds WHERE status = 'done'")["n"].iloc[0] == 3
    assert (
        f"judgments {store.count('judgments'):>10,} added".split()
        == next(line for line in result.output.splitlines() if line.startswith("judgments")).split()
    )


def test_dashboard_binds_loopback_only_and_reads_the_given_store(tmp_path):
    store_dir = tmp_path / "store"
    Store.open(store_dir)
    port = free_port()
    env = {**os.environ, "RLHF_STORE": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlhf.cli", "--store", str(store_dir), "dashboard", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.3)
        ip = _non_loopback_ip()
        if ip:  # the same port on the machine's outward address is closed
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((ip, port)) != 0
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"dashboard over {store_dir}" in out
    assert f"http://127.0.0.1:{port}" in out
