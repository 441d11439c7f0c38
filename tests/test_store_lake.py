"""The DuckLake store from the command line and under faults: bad locations, an unreachable or
misconfigured Postgres, missing extension files, an unwritable data path (all exit 2 naming what and where,
with nothing written), a Postgres restart in the middle of an append, `rlhf store path` and time travel."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from rlhf.cli import main
from rlhf.store import RecordError, Store, StoreUnavailable

VENV_BIN = Path(sys.executable).parent


def judgments(n: int, *, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prompt_id": [f"p{(start + i) // 2}" for i in range(n)],
            "model_a": "old",
            "model_b": "new",
            "judge": "j",
            "order": ["ab", "ba"] * (n // 2),
            "preference": [0.25 + 0.5 * ((start + i) % 3 == 0) for i in range(n)],
        }
    )


def cli(location: str, *args: str):
    return CliRunner().invoke(main, ["--store", location, *args])


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("ducklake:sqlite:lake.db", "only Postgres catalogs are supported"),
        ("ducklake:postgres:host=/tmp user=x", "dbname is missing"),
        ("ducklake:postgres:dbname=x colour=blue", "unknown setting 'colour'"),
        ("ducklake:postgres:dbname='x", "cannot parse the settings"),
        ("ducklake:postgres:dbname=x data_path=s3://bucket/lake", "only a directory on a shared filesystem"),
        ("ducklake:postgres:dbname=x dbname=y", "dbname is given twice"),
    ],
)
def test_a_malformed_location_exits_2_naming_the_problem(location, message):
    result = cli(location, "store", "info")
    assert result.exit_code == 2, result.output
    assert message in result.output and location.split(":")[1] in result.output


def test_unreachable_or_misconfigured_postgres_exits_2_and_writes_nothing(postgres_server, tmp_path):
    data = tmp_path / "shared"
    refused = cli(
        f"ducklake:postgres:dbname=x host=127.0.0.1 port=1 user=postgres data_path={data}", "store", "info"
    )
    assert refused.exit_code == 2
    assert "dbname=x, host=127.0.0.1, port=1" in refused.output and "refused" in refused.output.lower()
    socket = postgres_server.socket_dir
    no_db = cli(
        f"ducklake:postgres:dbname=nosuch host={socket} user=postgres data_path={data}", "store", "info"
    )
    assert no_db.exit_code == 2 and 'database "nosuch" does not exist' in no_db.output
    secret = cli(
        f"ducklake:postgres:dbname=x host={socket} user=nobody password=hunter2 data_path={data}",
        "store",
        "info",
    )
    assert secret.exit_code == 2 and 'role "nobody" does not exist' in secret.output
    assert "hunter2" not in secret.output  # a password never appears in a message
    assert not data.exists()
    fresh = postgres_server.createdb()
    read_only = cli(f"ducklake:postgres:{postgres_server.libpq(fresh)}", "store", "info")
    assert read_only.exit_code == 2 and "no store in the Postgres database" in read_only.output
    # a command that writes would create it: without data_path it cannot, and says so
    missing_path = cli(f"ducklake:postgres:{postgres_server.libpq(fresh)}", *WRITER)
    assert missing_path.exit_code == 2 and "add data_path=DIR" in missing_path.output
    tables = subprocess.run(
        [
            str(postgres_server.bin / "psql"),
            "-h",
            str(socket),
            "-U",
            "postgres",
            "-d",
            fresh,
            "-Atc",
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        ],
        capture_output=True,
        text=True,
        check=True,
        user="postgres" if postgres_server.as_postgres else None,
    ).stdout.strip()
    assert tables == "0"  # nothing was created in the catalog database


WRITER = ("synthetic", "--rounds", "0", "--prompts", "1", "--judges", "1")  # a command that creates a store


def test_an_unwritable_data_path_exits_2_before_the_catalog_is_created(postgres_server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    fresh = postgres_server.createdb()
    result = cli(f"ducklake:postgres:{postgres_server.libpq(fresh)} data_path={blocker}/store", *WRITER)
    assert result.exit_code == 2
    assert f"data path {blocker}/store/lake" in result.output and "is not a directory" in result.output
    with pytest.raises(StoreUnavailable, match="add data_path"):  # the catalog was not created
        Store.open(f"ducklake:postgres:{postgres_server.libpq(fresh)}")


def test_missing_extension_files_exit_2_naming_the_file_and_the_wheel(postgres_server, tmp_path, monkeypatch):
    import rlhf.store.extensions as extensions

    monkeypatch.setenv("HOME", str(tmp_path))  # an empty DuckDB extension directory: nothing installed yet
    monkeypatch.setattr(extensions.duckdb, "__version__", "9.9.9")
    result = cli(postgres_server.lake_location(tmp_path / "shared"), "store", "info")
    assert result.exit_code == 2
    assert "extensions/v9.9.9/ducklake.duckdb_extension is missing" in result.output
    assert "pip install duckdb-extension-ducklake==9.9.9" in result.output
    assert not (tmp_path / "shared").exists()


def test_store_path_prints_a_read_only_attach_that_the_duckdb_cli_runs(postgres_server, tmp_path):
    location = postgres_server.lake_location(tmp_path / "shared")
    store = Store.open(location)
    store.append("judgments", judgments(40))
    printed = cli(location, "store", "path")
    assert printed.exit_code == 0
    statements = printed.output.strip()
    assert "READ_ONLY" in statements and "INSTALL" in statements
    # the analysts' documented command, with the duckdb CLI (1.5.5) from PyPI and a fresh home directory
    home = tmp_path / "home"
    home.mkdir()
    out = subprocess.run(
        [str(VENV_BIN / "duckdb"), "-csv", "-cmd", statements, "-c", "SELECT sum(n) FROM pair_winrates"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "20"
    write = subprocess.run(
        [str(VENV_BIN / "duckdb"), "-cmd", statements, "-c", "DELETE FROM stored.judgments"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr).lower()
    assert store.count("judgments") == 40
    # --store <root> opens the same DuckLake store (the root's store.json names the catalog, no password)
    assert Store.open(store.root).count("judgments") == 40
    assert cli(str(store.root), "store", "path", "--location").output.strip() == store.location


def test_time_travel_reads_an_earlier_snapshot(postgres_server, tmp_path):
    store = Store.open(postgres_server.lake_location(tmp_path / "shared"))
    store.append("judgments", judgments(40))
    version = store.snapshot_version()  # type: ignore[attr-defined]
    store.append("judgments", judgments(40, start=40))
    assert store.query("SELECT sum(n) AS n FROM pair_winrates")["n"][0] == 40
    con = duckdb.connect()
    from rlhf.store import extensions

    extensions.load(con)
    con.execute(
        f"ATTACH 'ducklake:{store.place.catalog()}' AS lastweek (READ_ONLY, SNAPSHOT_VERSION {version})"
    )  # type: ignore[attr-defined]
    assert con.execute("SELECT sum(n) FROM lastweek.pair_winrates").fetchall()[0][0] == 20
    assert store.query(f"SELECT count(*) AS n FROM stored.judgments AT (VERSION => {version})")["n"][0] == 40


RESTART_WRITER = textwrap.dedent(
    """
    import os, sys, time, pandas as pd
    from rlhf.store import Store, StoreError
    store = Store.open(sys.argv[1])
    n = int(sys.argv[2])
    rows = pd.DataFrame({"prompt_id": [f"p{i // 2}" for i in range(n)], "model_a": "old", "model_b": "new",
                         "judge": "j", "order": ["ab", "ba"] * (n // 2), "preference": [(i % 5) / 4 for i in range(n)]})
    print("appending", flush=True)
    try:
        store.append("judgments", rows)
        print("first append committed", flush=True)
    except StoreError as exc:
        print("failed:", str(exc).splitlines()[0], flush=True)
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.1)
    result = store.append("judgments", rows)  # the rerun, in the same process after the restart
    print("rerun", result.added, result.skipped, flush=True)
    """
)


@pytest.mark.slow
def test_a_postgres_restart_during_an_append_fails_it_cleanly_and_the_rerun_completes(tmp_path):
    from postgres_server import PostgresServer

    server = PostgresServer().start()  # its own server: this test stops it
    try:
        location = server.lake_location(tmp_path / "shared")
        Store.open(location)
        restarted = tmp_path / "restarted"
        n = 200_000
        writer = subprocess.Popen(
            [sys.executable, "-c", RESTART_WRITER, location, str(n), str(restarted)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout.readline().strip() == "appending"
        lake_files = tmp_path / "shared" / "lake"
        deadline = time.monotonic() + 300
        while not any(lake_files.rglob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.02)  # the append is writing its Parquet files: its commit is still ahead
        server.stop("immediate")  # like a crash or a failover: connections are cut
        first = writer.stdout.readline().strip()
        server.start()
        visible = Store.open(location).count("judgments")
        restarted.touch()
        rest, _ = writer.communicate(timeout=600)
        assert writer.returncode == 0, rest
        if first.startswith("failed:"):
            assert "rerun" in first or "failed" in first
            assert visible == 0  # nothing of the failed append is visible
            assert rest.strip() == f"rerun {n} 0"
        else:  # the append committed before the stop reached it: the rerun adds nothing
            assert first == "first append committed" and visible == n and rest.strip() == f"rerun 0 {n}"
        assert Store.open(location).count("judgments") == n
    finally:
        server.remove()


def test_store_compact_works_on_the_lake_and_keeps_every_row(postgres_server, tmp_path):
    location = postgres_server.lake_location(tmp_path / "shared")
    store = Store.open(location)
    for i in range(6):
        store.append("judgments", judgments(200, start=200 * i))
    before = store.query("SELECT * FROM pair_winrates ORDER BY ALL")
    result = cli(location, "store", "compact", "--keep-hours", "0")
    assert result.exit_code == 0 and "merged" in result.output
    files = store.query(
        "SELECT count(*) AS n FROM ducklake_list_files('lake', 'judgments', schema => 'stored')"
    )
    assert files["n"][0] == 1
    pd.testing.assert_frame_equal(store.query("SELECT * FROM pair_winrates ORDER BY ALL"), before)
    assert store.count("judgments") == 1200
    with pytest.raises(RecordError):
        store.append("judgments", judgments(200).assign(preference=0.0))  # a stored key with other content


@pytest.mark.slow
def test_every_dashboard_page_renders_the_ducklake_store(postgres_server, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from rlhf.synthetic import SyntheticConfig, generate

    store = Store.open(postgres_server.lake_location(tmp_path / "shared"))
    generate(store, SyntheticConfig(rounds=3, prompts=40, judges=2, seed=5))
    monkeypatch.setenv(
        "RLHF_STORE", str(store.root)
    )  # what `rlhf dashboard` passes: the root names the catalog
    app = str(Path(__file__).resolve().parent.parent / "dashboard" / "streamlit_app.py")
    at = AppTest.from_file(app, default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.get("plotly_chart"), "the progress page drew no chart"
    for page in ("categories", "head_to_head", "regressions", "judge_health", "training"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
