"""Warm the caches at server start, so the first visit of each page finds its numbers computed.

`dashboard/server.py` (how `rlhf dashboard` starts Streamlit) calls `start()` as soon as Streamlit's runtime
exists; the app calls it too on its first run. Its thread, once per server process, computes what every page
shows by default (its queries and statistics, for the default judge and the latest comparison), Progress
first. Each is a cached function keyed by the data version, so a page that asks while the thread is
computing waits for the same result instead of computing it twice. Off unless RLHF_DASHBOARD_WARM=1 (set by
`rlhf dashboard`; tests under AppTest leave it off).

`refresh` runs the same list and stores what it had to compute as page summaries (dashboard/summaries.py),
so the next server started on the same data finds every default view computed: the writing commands run it
as `python -m dashboard.warm STORE` after they append, and the server's warm-up stores what it computes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

import streamlit as st

ENV = "RLHF_DASHBOARD_WARM"
FIRST_PAGE_WAIT_S = 30.0  # the other pages wait at most this long for the first visitor's page
log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _first_page_drawn() -> threading.Event:
    """Set when any session has finished drawing a page (one per server process)."""
    return threading.Event()


def page_drawn() -> None:
    """Called by the app after each page run: the rest of the warm-up no longer competes with a first page."""
    _first_page_drawn().set()


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


@st.cache_resource(show_spinner=False)
def start(path: str | None) -> threading.Thread:
    """Start the warming thread (once per server process and store)."""
    thread = threading.Thread(target=_run, args=(path,), name="dashboard-warm", daemon=True)
    thread.start()
    return thread


def _run(path: str | None) -> None:
    # cached functions called outside a script run log a harmless "missing ScriptRunContext" warning each
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    try:
        refresh(path, wait=True)
    except Exception:  # warming is an optimisation: a failure here must never stop the server
        log.exception("warming the dashboard caches or storing their summaries failed")
    else:
        log.info("dashboard caches warm in %.1f s", time.perf_counter() - t0)


def refresh(path: str | None, *, wait: bool = False) -> tuple[int, int]:
    """`warm`, then store every default view it had to compute as a summary of the data version it read.

    Returns (summaries computed and stored, summaries found stored). A second refresh of the same data
    computes nothing and writes nothing.
    """
    from dashboard import queries, summaries

    version = queries.data_version(path)
    found = len(summaries.stored(path, version))
    with summaries.recording() as calls:
        warm(path, wait=wait)
    return summaries.write(path, version, calls), found


def warm(path: str | None, *, wait: bool = True) -> None:
    """Compute what each page shows on its first visit, in the order a lead usually visits them.

    `wait`: after the first page's numbers, wait (at most FIRST_PAGE_WAIT_S) for a visitor's first page to
    be drawn before computing the other pages' (the server's warm-up; off outside a server)."""
    from dashboard import lineage, queries, stats

    version = queries.data_version(path)
    rounds = queries.rounds(path, version)
    comps = lineage.comparisons(rounds)
    default, _ = stats.judge_trust(path, version)
    if comps.frame.empty or default is None:
        return
    prev = comps.of_kind(lineage.VS_PREVIOUS)
    prev = prev if not prev.empty else comps.frame
    latest = prev.iloc[-1]
    olds, news = tuple(prev["old"]), tuple(prev["new"])
    # Progress, in the order the page asks
    for _, row in prev.iloc[::-1].iterrows():
        cover = queries.comparison_coverage(path, version, row["old"], row["new"]).iloc[0]
        if int(cover["judged"]) > 0:
            stats.latest_table(path, version, row["old"], row["new"])
            stats.headline_for(path, version, row["old"], row["new"], default)
            if row["status"] != "running" and int(cover["judged"]) >= int(cover["expected"]):
                break
    queries.pair_summary(path, version, comps.olds, comps.news)
    stats.reference(path, version)
    stats.leaderboard(path, version, default)
    queries.checkpoints(path, version)
    # the other pages: after the first visitor's page is drawn (one process, one GIL: warming them earlier
    # would slow that page down), or after FIRST_PAGE_WAIT_S when nobody comes
    if wait:
        _first_page_drawn().wait(FIRST_PAGE_WAIT_S)
    # Categories
    cells = queries.category_summary(path, version, olds, news, default)
    # Judge health
    stats.report_cards(path, version)
    stats.panel_members(path, version)
    queries.judge_trends(path, version, olds, news)
    queries.agreement_trends(path, version, olds, news)
    stats.lc_by_comparison(path, version, olds, news, default)
    stats.judge_table_for(path, version, latest["old"], latest["new"])
    stats.length_bins_for(path, version, latest["old"], latest["new"])
    stats.agreement_for(path, version, latest["old"], latest["new"])
    # Regressions
    queries.category_summary(path, version, (latest["old"],), (latest["new"],), default)
    losses = queries.regressions(path, version, latest["old"], latest["new"], default, None, None)
    if not losses.empty:
        first = losses["prompt_id"].iloc[0]
        queries.answers(path, version, first, latest["old"], latest["new"])
        queries.prompt_detail(path, version, first, latest["old"], latest["new"])
    # Head to head: the first judged checkpoint in round order against the last
    observed = stats.observed_matrix(path, version, default)
    models = list(
        dict.fromkeys(
            [*(m for m in rounds["checkpoint_id"].dropna() if m in set(observed.index)), *observed.index]
        )
    )
    if len(models) >= 2:
        stats.headline_for(path, version, models[0], models[-1], default)
        stats.by_category_for(path, version, models[0], models[-1], default)
    # Prompt-set health
    stats.prompt_health(path, version, default)
    # Training
    queries.training_metrics(path, version)
    if not cells.empty:
        first_cat = sorted(cells["category"].unique())[0]
        queries.cell_prompts(path, version, latest["old"], latest["new"], default, first_cat)


def main(argv: list[str]) -> int:
    """`python -m dashboard.warm [STORE]`: store the summaries of every page's default view (default store:
    $RLHF_STORE)."""
    from dashboard import queries

    # cached functions called outside a Streamlit script run warn that there is no runtime or ScriptRunContext
    for name in ("streamlit.runtime.caching.cache_data_api", "streamlit.runtime.caching.cache_resource_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):  # fmt: skip
        logging.getLogger(name).setLevel(logging.ERROR)
    path = argv[0] if argv else queries.store_dir()
    start = time.perf_counter()
    written, found = refresh(path)
    print(
        f"dashboard summaries: {written} computed and stored, {found} found stored, "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
