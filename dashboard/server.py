"""Start the Streamlit server for the dashboard with what can be done before the first visitor done already.

`python dashboard/server.py APP [streamlit run options]` is `streamlit run APP [options]` plus two things at
start: it imports the heavy modules the pages need (pandas, DuckDB, Plotly, the statistics core, the page
helpers) before the server listens, and with RLHF_DASHBOARD_WARM=1 it starts `dashboard.warm`'s thread as soon
as Streamlit's runtime exists, which computes every page's default view into the shared caches. A visitor who
arrives while it runs waits for the same cached results instead of computing them again.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # run by path: make `dashboard` importable
    sys.path.insert(0, str(_ROOT))


def preload() -> None:
    """Import what the first page run would otherwise import while a visitor waits."""
    import duckdb  # noqa: F401
    import pandas
    import plotly.graph_objects  # noqa: F401

    # the first page run would also pay for its first table (Arrow), styled table (pandas' Styler imports
    # jinja2) and chart (Plotly JSON) encodings, and Progress for the champion's rule (rlhf.rounds: 0.5 s)
    import plotly.io as pio
    from streamlit import dataframe_util

    import rlhf.rounds.decisions  # noqa: F401
    from dashboard import charts, lineage, queries, safe_text, stats, ui  # noqa: F401

    frame = pandas.DataFrame({"a": [1.0], "b": ["x"]})
    dataframe_util.convert_anything_to_arrow_bytes(frame)
    frame.style.apply(lambda row: ["" for _ in row], axis=1).to_html()
    # Plotly loads a property's validator the first time a figure sets it (0.16 s for the first panels)
    rounds = ["r0", "r1"]
    tiny = pandas.DataFrame(
        {"round_id": rounds, "judge": "j", "model": rounds, "win_rate": 0.5, "rating": 1000.0,
         "ci_low": 0.4, "ci_high": 0.6, "n": 1}
    )  # fmt: skip
    pio.to_json(charts.win_rate_panels(tiny, rounds, "", running={"r1"}))
    pio.to_json(charts.rating_chart(tiny, "", rounds))


def _warm_when_running() -> None:
    from streamlit.runtime import Runtime

    from dashboard import queries, warm

    deadline = time.monotonic() + 120
    while not Runtime.exists() and time.monotonic() < deadline:  # caches belong to the runtime
        time.sleep(0.05)
    if Runtime.exists():
        warm.start(queries.store_dir())


def main(argv: list[str]) -> int:
    from streamlit.web import cli

    from dashboard import warm

    preload()
    if warm.enabled():
        threading.Thread(target=_warm_when_running, name="dashboard-warm-start", daemon=True).start()
    sys.argv = ["streamlit", "run", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
