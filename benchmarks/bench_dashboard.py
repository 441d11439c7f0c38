"""Dashboard page times in a real browser over a synthetic store of 50 rounds, 1,000 prompts, ~1.15M judgments.

Goal (issue 6): every page's charts drawn in under 2 s after the first load, on a 2-core machine.

What is timed, per page, from the navigation until the page's title shows, Streamlit has finished the run
and every expected Plotly chart has drawn its traces (dashboard.browser.wait_drawn):
- first:   the first visit after the server starts (cold caches: every query runs in DuckDB);
- reload:  a full browser load of the page URL (new websocket session, warm data caches);
- sidebar: a click on the page's sidebar link inside a running session (how people move between pages).
Medians over --repeats visits. The store is built once under --store and reused if it already has data.

    python benchmarks/bench_dashboard.py [--store DIR] [--repeats 5] [--rounds 50 --prompts 1000 --judges 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from dashboard import browser
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate


def build(store_dir: Path, rounds: int, prompts: int, judges: int) -> Store:
    store = Store.open(store_dir)
    if store.count("judgments") == 0:
        t0 = time.perf_counter()
        generate(store, SyntheticConfig(rounds=rounds, prompts=prompts, judges=judges, seed=0))
        print(f"built synthetic store in {time.perf_counter() - t0:.1f} s")
    print(f"store {store.root}: {store.count('judgments'):,} judgments, {store.count('prompts'):,} prompts, "
          f"{len(store.query('SELECT * FROM rounds')):,} rounds, {store.count('generations'):,} generations")
    return store


def timed(page, spec: browser.PageSpec, go) -> float:
    t0 = time.perf_counter()
    go()
    browser.wait_drawn(page, spec, timeout_ms=120_000)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "rlhf-bench-dashboard-store")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--judges", type=int, default=6)
    args = parser.parse_args()
    store = build(args.store, args.rounds, args.prompts, args.judges)

    from playwright.sync_api import sync_playwright

    first: dict[str, float] = {}
    reload: dict[str, list[float]] = {s.title: [] for s in browser.PAGES}
    sidebar: dict[str, list[float]] = {s.title: [] for s in browser.PAGES}
    with browser.serve(store.root, timeout_s=120) as base, sync_playwright() as pw:
        chromium = browser.launch(pw)
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        for spec in browser.PAGES:
            first[spec.title] = timed(page, spec, lambda s=spec: page.goto(f"{base}/{s.url_path}"))
        for _ in range(args.repeats):
            for spec in browser.PAGES:
                reload[spec.title].append(timed(page, spec, lambda s=spec: page.goto(f"{base}/{s.url_path}")))
        page.goto(f"{base}/training")
        browser.wait_drawn(page, browser.PAGES[-1])
        for _ in range(args.repeats):
            for spec in browser.PAGES:
                sidebar[spec.title].append(timed(page, spec, lambda s=spec: browser.open_via_sidebar(page, s)))
        chromium.close()

    print(f"\n{'page':<26}{'first (cold)':>14}{'reload median':>15}{'sidebar median':>16}{'sidebar max':>13}")
    for spec in browser.PAGES:
        t = spec.title
        print(f"{t:<26}{first[t]:>13.2f}s{statistics.median(reload[t]):>14.2f}s"
              f"{statistics.median(sidebar[t]):>15.2f}s{max(sidebar[t]):>12.2f}s")
    worst = max(statistics.median(v) for v in sidebar.values())
    print(f"\nslowest page median (sidebar navigation): {worst:.2f} s; goal < 2 s: {'met' if worst < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
