"""The dashboard in a real browser (Debian chromium via Playwright): every page draws its charts, and hostile
model output (script tags, event handlers, javascript: links, remote markdown images) runs nothing and
fetches nothing. Screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import dashboard_browser as browser
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"


class _Trap(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    _Trap.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Trap.hits
    server.shutdown()


def _payloads(port: int) -> tuple[str, ...]:
    url = f"http://127.0.0.1:{port}"
    return (
        "<script>window.__xss = 1; alert('script')</script>",
        f'<img src=x onerror="window.__xss = 2; alert(2); fetch(\'{url}/onerror\')">',
        "[click me](javascript:window.__xss=3;alert(3))",
        f"![pixel]({url}/pixel)",
        f'<a href="javascript:alert(4)">link</a> <iframe src="{url}/iframe"></iframe>',
        "'; DROP TABLE judgments; --",
    )


@pytest.mark.skipif(shutil.which("chromium") is None and not Path(browser.CHROMIUM).exists(),
                    reason="needs Debian's chromium (make browser)")
def test_every_page_draws_and_hostile_text_stays_text(tmp_path, trap):
    from playwright.sync_api import sync_playwright

    port, hits = trap
    payloads = _payloads(port)
    store = Store.open(tmp_path / "store")
    generate(store, SyntheticConfig(rounds=5, prompts=80, judges=2, seed=2, payloads=payloads))
    # a judge whose very name is hostile: it shows in selectors, legends and tables
    hostile_judge = f'<img src="http://127.0.0.1:{port}/judge" onerror="window.__xss=5">'
    store.append("judgments", [
        {"judge": hostile_judge, "prompt_id": f"p{i:05d}", "model_a": "ckpt-r03", "model_b": "ckpt-r04",
         "order": o, "preference": 0.25 if i % 2 else 0.75, "rationale": payloads[i % len(payloads)]}
        for i in range(0, 40) for o in ("ab", "ba")])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []

    with browser.serve(store.root) as base, sync_playwright() as pw:
        chromium = browser.launch(pw)
        page = chromium.new_page(viewport={"width": 1400, "height": 2400})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for spec in browser.PAGES:
            page.goto(f"{base}/{spec.url_path}")
            browser.wait_drawn(page, spec)
            traces = page.locator(".js-plotly-plot").count()
            assert traces >= spec.charts, spec
            assert page.evaluate("window.__xss") is None, spec
            page.screenshot(path=str(SCREENSHOTS / f"{spec.url_path or 'progress'}.png"), full_page=True)

        # a click on a heatmap cell selects that cell's prompts
        spec = next(s for s in browser.PAGES if s.url_path == "categories")
        page.goto(f"{base}/categories")
        browser.wait_drawn(page, spec)
        plot = page.locator(".js-plotly-plot").first
        x_tick, y_tick = plot.locator(".xtick text").first, plot.locator(".ytick text").first
        want_round, want_category = x_tick.text_content(), y_tick.text_content()
        assert want_round != "r04"  # the default selection is the latest round: the click must change it
        xb, yb = x_tick.bounding_box(), y_tick.bounding_box()
        page.mouse.click(xb["x"] + xb["width"] / 2, yb["y"] + yb["height"] / 2)
        page.wait_for_function(
            """([r, c]) => {
                const v = [...document.querySelectorAll('[data-testid="stSelectbox"] input')].map(i => i.value);
                return v.includes(r) && v.includes(c);
            }""", arg=[want_round, want_category], timeout=30_000)

        # read hostile samples on the regressions page: search for them, open the first one
        spec = next(s for s in browser.PAGES if s.url_path == "regressions")
        page.goto(f"{base}/regressions")
        browser.wait_drawn(page, spec)
        box = page.get_by_label("Text search (prompt or either answer)")
        box.fill("window.__xss = 1")
        box.press("Enter")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stCode\"]')].some(e => e.textContent.includes('<script>'))",
            timeout=30_000,
        )
        browser.wait_drawn(page, spec)
        page.screenshot(path=str(SCREENSHOTS / "regressions-hostile.png"), full_page=True)
        code_text = " ".join(page.locator('[data-testid="stCode"]').all_text_contents())
        assert "<script>window.__xss = 1" in code_text  # shown as literal text
        assert page.locator("script", has_text="__xss").count() == 0  # never became an element
        assert page.locator("img[src*='pixel'], img[onerror], iframe[src*='iframe']").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
        assert page.evaluate("window.__xss") is None
        page.wait_for_timeout(500)  # give any stray request time to arrive
        chromium.close()

    assert dialogs == []
    assert hits == [], f"the planted server was contacted: {hits}"
    for name in ("progress", "categories", "head_to_head", "regressions", "judge_health", "training"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
