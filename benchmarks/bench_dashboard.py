"""Dashboard page times in a real browser (Debian chromium via Playwright) over a synthetic store.

Goal (issue 11): the first page after the server starts drawn in under 3 s on the large store (50 rounds,
1,000 prompts, 6 judges, ~1.15M judgments); every page quick after that. The realistic store is 6 rounds,
200 prompts, 3 judges plus one whose verdicts are all unscored, the last round running and half judged.

What is timed, per page, from the navigation until the page's title shows, Streamlit has finished the run
and every expected Plotly chart has drawn its traces (tests/dashboard_browser.py: wait_drawn):
The store holds the page summaries its writers stored (dashboard/summaries.py; `rlhf synthetic` stores them,
and so does this script after building): a first visit reads them instead of computing.
- first paint: the first page right after the server answers its health check (or --arrive-after seconds
  later), until its title and the latest-comparison table show (what a lead sees first);
- first page:  the same visit until the whole page is drawn. The server is started as `rlhf dashboard` starts it
  (it runs the app once at start and warms every page's caches in the background); `--no-warm` turns that off
  to show what warming buys;
- each page:   the first visit of every other page, in sidebar order, right after (warm-up may still run);
- reload:      a full browser load of each page URL (new websocket session, warm caches), median of --repeats;
- sidebar:     a click on the page's sidebar link inside a running session, median of --repeats;
- received, charts/axes: on each first visit, the websocket bytes the browser received (the page's tables,
  charts and widgets) and the Plotly charts and axes it drew.
The browser has visited the dashboard before (`--browser-cache warm`, the default: a server on the same port
is started, the page drawn, the server stopped), as a lead's browser has, so the first page measures the server
and drawing rather than downloading Streamlit's and Plotly's JavaScript into a fresh profile (`cold`).
The machine is shared: the load average (1, 5, 15 min) is printed before and after.

    python benchmarks/bench_dashboard.py [--store DIR] [--repeats 5] [--rounds 50 --prompts 1000 --judges 6]
    python benchmarks/bench_dashboard.py --store /tmp/realistic --rounds 6 --prompts 200 --judges 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # test support: serve and drive

import dashboard_browser as browser
from rlhf.commands.dashboard_cmd import store_summaries
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "bench-screenshots"


def build(store_dir: Path, rounds: int, prompts: int, judges: int, summaries: bool = True) -> Store:
    store = Store.open(store_dir)
    if store.count("judgments") == 0:
        t0 = time.perf_counter()
        generate(store, SyntheticConfig(rounds=rounds, prompts=prompts, judges=judges, seed=0))
        print(f"built synthetic store in {time.perf_counter() - t0:.1f} s")
    if summaries:  # as `rlhf synthetic` (and every append once a store has them) does
        t0 = time.perf_counter()
        store_summaries(store)
        print(f"page summaries ready in {time.perf_counter() - t0:.1f} s")
    print(
        f"store {store.root}: {store.count('judgments'):,} judgments, {store.count('prompts'):,} prompts, "
        f"{len(store.query('SELECT * FROM rounds')):,} rounds, {store.count('generations'):,} generations"
    )
    return store


def timed(page, spec: browser.PageSpec, go) -> float:
    t0 = time.perf_counter()
    go()
    browser.wait_drawn(page, spec, timeout_ms=180_000)
    return time.perf_counter() - t0


def _charts(page) -> tuple[int, int]:
    """(Plotly charts, axes) the page drew: what drawing costs grows with (each panel is an axis pair)."""
    return tuple(
        page.evaluate(
            """() => { const plots = [...document.querySelectorAll('.js-plotly-plot')];
                return [plots.length, plots.reduce((n, p) =>
                    n + Object.keys(p.layout || {}).filter(k => /^[xy]axis[0-9]*$/.test(k)).length, 0)]; }"""
        )
    )


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store", type=Path, default=Path(tempfile.gettempdir()) / "rlhf-bench-dashboard-store"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--judges", type=int, default=6)
    parser.add_argument(
        "--no-warm", dest="warm", action="store_false", help="Start the server without warming."
    )
    parser.add_argument(
        "--no-summaries",
        dest="summaries",
        action="store_false",
        help="Do not store the page summaries after building (a store whose writers never stored them; "
        "summaries stored by an earlier run stay and are used).",
    )
    parser.add_argument("--screenshots", action="store_true", help=f"Save every page to {SCREENSHOTS}.")
    parser.add_argument(
        "--browser-cache",
        choices=("warm", "cold"),
        default="warm",
        help="warm: the browser has visited the dashboard before (a server on the same port was "
        "started, visited and stopped first), as a lead's browser has; cold: a fresh browser "
        "profile, which also downloads and compiles Streamlit's and Plotly's JavaScript.",
    )
    parser.add_argument(
        "--arrive-after",
        type=float,
        default=0.0,
        help="Seconds between the server answering and the first visit (a lead who opens the "
        "page a little after `rlhf dashboard` started).",
    )
    args = parser.parse_args()
    store = build(args.store, args.rounds, args.prompts, args.judges, args.summaries)

    from playwright.sync_api import sync_playwright

    print(f"before: {load()}")
    first: dict[str, float] = {}
    sent: dict[str, int] = {}  # websocket bytes received on the first visit
    charts: dict[str, tuple[int, int]] = {}  # (Plotly charts, axes) drawn on the first visit
    reload: dict[str, list[float]] = {s.title: [] for s in browser.PAGES}
    sidebar: dict[str, list[float]] = {s.title: [] for s in browser.PAGES}
    with sync_playwright() as pw:
        chromium = browser.launch(pw)  # the browser is up before the server starts: only the server is timed
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        received: Counter[str] = (
            Counter()
        )  # websocket bytes the page received (its elements: tables, charts, widgets)
        page.on("websocket", lambda ws: ws.on("framereceived", lambda m: received.update(bytes=len(m))))
        port = browser.free_port()
        if args.browser_cache == "warm":  # yesterday's visit: the browser caches the app's JavaScript (its
            # server, and every cache in it, is then stopped; only the browser and the OS file cache remember)
            with browser.serve(store.root, port=port, timeout_s=120, warm=False) as base:
                page.goto(f"{base}/")
                browser.wait_drawn(page, browser.PAGES[0], timeout_ms=300_000)
        t_start = time.perf_counter()
        with browser.serve(store.root, port=port, timeout_s=120, warm=args.warm) as base:
            t_up = time.perf_counter() - t_start
            time.sleep(args.arrive_after)
            spec0 = browser.PAGES[0]
            t0 = time.perf_counter()
            received.clear()
            page.goto(f"{base}/")
            page.wait_for_function(
                """(title) => [...document.querySelectorAll('h1')].some(e => e.textContent.trim() === title)
                   && document.querySelector('[data-testid="stDataFrame"]')""",
                arg=spec0.title,
                timeout=180_000,
                polling=50,
            )
            first_paint = time.perf_counter() - t0
            browser.wait_drawn(page, spec0, timeout_ms=180_000)
            first[spec0.title] = time.perf_counter() - t0
            sent[spec0.title], charts[spec0.title] = received["bytes"], _charts(page)
            for spec in browser.PAGES[1:]:
                received.clear()
                first[spec.title] = timed(page, spec, lambda s=spec: page.goto(f"{base}/{s.url_path}"))
                sent[spec.title], charts[spec.title] = received["bytes"], _charts(page)
            for _ in range(args.repeats):
                for spec in browser.PAGES:
                    reload[spec.title].append(
                        timed(page, spec, lambda s=spec: page.goto(f"{base}/{s.url_path}"))
                    )
            for _ in range(args.repeats):
                for spec in browser.PAGES:
                    sidebar[spec.title].append(
                        timed(page, spec, lambda s=spec: browser.open_via_sidebar(page, s))
                    )
            if args.screenshots:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                tall = chromium.new_page(viewport={"width": 1400, "height": 5200})
                for spec in browser.PAGES:
                    tall.goto(f"{base}/{spec.url_path}")
                    browser.wait_drawn(tall, spec, timeout_ms=180_000)
                    tall.screenshot(
                        path=str(SCREENSHOTS / f"{args.rounds}r-{spec.url_path or 'progress'}.png")
                    )
        chromium.close()
    print(f"after: {load()}")
    print(
        f"\nserver answered its health check {t_up:.1f} s after start (warm-up {'on' if args.warm else 'off'}); "
        f"first visit {args.arrive_after:.0f} s later; browser cache {args.browser_cache}"
    )
    print(f"first page, first paint (title and the latest-comparison table): {first_paint:.2f} s")
    print(
        f"\n{'page':<26}{'first visit':>12}{'reload median':>15}{'sidebar median':>16}{'sidebar max':>13}"
        f"{'received':>11}{'charts/axes':>13}"
    )
    for spec in browser.PAGES:
        t = spec.title
        print(
            f"{t:<26}{first[t]:>11.2f}s{statistics.median(reload[t]):>14.2f}s"
            f"{statistics.median(sidebar[t]):>15.2f}s{max(sidebar[t]):>12.2f}s"
            f"{sent[t] / 1000:>8.0f} kB{charts[t][0]:>7}/{charts[t][1]:<5}"
        )
    goal = first[browser.PAGES[0].title]
    print(
        f"\nfirst page after server start: {goal:.2f} s drawn; goal < 3 s: {'met' if goal < 3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
