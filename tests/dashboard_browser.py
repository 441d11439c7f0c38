"""Test support: serve the dashboard on a free local port and drive it with a real browser (tests, benchmark).

Lives in tests/ (the benchmark puts this folder on its path) because it starts the server through the CLI's
command line, and the dashboard package imports nothing from rlhf.commands.

Playwright for Python drives Debian's /usr/bin/chromium (never `playwright install`; see shared FACTS).
Each page is 'drawn' when its title shows, Streamlit is no longer running the script, and it holds the
expected number of Plotly charts with drawn traces.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rlhf.commands.dashboard_cmd import APP as _APP
from rlhf.commands.dashboard_cmd import WARM_ENV, streamlit_command

# The app under test; RLHF_DASHBOARD_APP points the browser test at another checkout's app (to show that a
# test fails on old code).
APP = Path(os.environ.get("RLHF_DASHBOARD_APP") or _APP)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TRACE = ".js-plotly-plot .scatterlayer .trace, .js-plotly-plot .heatmaplayer .hm, .js-plotly-plot .barlayer .trace"


@dataclass(frozen=True)
class PageSpec:
    url_path: str  # "" for the default page
    nav: str  # its label in the sidebar (st.Page title)
    title: str  # the page's st.title text
    charts: int  # Plotly charts that must have drawn traces
    blocks: str = ""  # CSS selector of other elements that must be present (pages without charts)


PAGES = (
    PageSpec("", "Progress", "Progress across rounds", 2),
    PageSpec("categories", "Categories", "Win rate by category", 1),
    PageSpec("head_to_head", "Head to head", "Head to head", 1),
    PageSpec(
        "regressions", "Regressions and samples", "Regressions and samples", 0, '[data-testid="stCode"] code'
    ),
    PageSpec("judge_health", "Judge health", "Judge health", 1),
    PageSpec("training", "Training", "Training", 5),
    PageSpec("prompt_health", "Prompt health", "Prompt-set health", 1, '[data-testid="stDataFrame"]'),
)

# Judge health's other tabs (their content runs and is drawn only when opened) and the charts each draws
JUDGE_HEALTH_TABS = (("Length control", 1), ("One comparison in detail", 2))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    store_dir: Path | str,
    port: int | None = None,
    timeout_s: float = 60.0,
    warm: bool = True,
    log: Path | None = None,
) -> Iterator[str]:
    """`streamlit run` the dashboard over `store_dir` on 127.0.0.1 as `rlhf dashboard` does (with its start-up
    warm-up unless warm=False); yields the base URL as soon as the server answers."""
    port = port or free_port()
    env = {**os.environ, "RLHF_STORE": str(store_dir), **(WARM_ENV if warm else {})}
    stack = contextlib.ExitStack()
    # a log file, never a pipe nobody reads: a full pipe would stall the server
    out = stack.enter_context(open(log, "w")) if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        streamlit_command(APP, "127.0.0.1", port), env=env, stdout=out, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = Path(log).read_text()[-3000:] if log else "(no log kept)"
                raise RuntimeError(f"streamlit did not start on {base}:\n{tail}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        stack.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_drawn(page, spec: PageSpec, timeout_ms: float = 60_000) -> None:
    """Block until `spec`'s page has its title, has finished running, and shows its charts' traces."""
    page.wait_for_function(
        """([title, charts, traceSel, blocks]) => {
            const h = [...document.querySelectorAll('h1')].some(e => e.textContent.trim() === title);
            if (!h) return false;
            const running = document.querySelector('[data-testid="stStatusWidget"]');
            if (running && /running|stop/i.test(running.textContent || '')) return false;
            const stale = document.querySelector('[data-stale="true"]');
            if (stale) return false;
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            const drawn = plots.filter(p => p.querySelector(traceSel.split(', ').map(s => s.replace('.js-plotly-plot ', '')).join(', ')));
            if (drawn.length < charts) return false;
            if (blocks && !document.querySelector(blocks)) return false;
            return true;
        }""",
        arg=[spec.title, spec.charts, TRACE, spec.blocks],
        timeout=timeout_ms,
        polling=50,
    )


def open_via_sidebar(page, spec: PageSpec) -> None:
    """Navigate inside the running app (as a user does) by clicking the page's sidebar link."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=spec.nav).first.click()
