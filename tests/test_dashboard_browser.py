"""The dashboard in a real browser (Debian chromium via Playwright): every page draws its charts; hostile
model output (script tags, event handlers, javascript: links, remote markdown images) runs nothing and
fetches nothing; and names are inert and unambiguous: a URL and a right-to-left override planted in every
name (round, checkpoint, judge, category, prompt id) and in judge error text never become a link and the
override is shown as the visible escape `\\u202e`, never applied. Screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import shutil
import threading
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import dashboard_browser as browser
from rlhf.store import Store
from rlhf.synthetic import SyntheticConfig, generate, policy_id, prompt_id, round_id

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
RLO = "\u202e"


class _Trap(BaseHTTPRequestHandler):
    hits: typing.ClassVar[list[str]] = []

    def do_GET(self):
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
        f"<img src=x onerror=\"window.__xss = 2; alert(2); fetch('{url}/onerror')\">",
        "[click me](javascript:window.__xss=3;alert(3))",
        f"![pixel]({url}/pixel)",
        f'<a href="javascript:alert(4)">link</a> <iframe src="{url}/iframe"></iframe>',
        "'; DROP TABLE judgments; --",
    )


# Text of the page as a reader gets it: the DOM's text (including Plotly's SVG labels) and every input's value.
_PAGE_TEXT = """() => document.body.textContent + ' ' +
    [...document.querySelectorAll('input, textarea')].map(i => i.value).join(' ')"""
_LINKS = """(needle) => [...document.querySelectorAll('a')]
    .filter(a => (a.href || '').includes(needle) || (a.textContent || '').includes(needle))
    .map(a => a.outerHTML)"""


def _check_names_inert(page, where: str, needle: str) -> None:
    """No link carries a planted name or error text; the override is shown as its escape, never applied."""
    assert page.evaluate(_LINKS, needle) == [], f"{where}: a planted URL became a link"
    text = page.evaluate(_PAGE_TEXT)
    assert RLO not in text, f"{where}: a right-to-left override reached the page unescaped"
    assert "\\u202e" in text, f"{where}: the override is not shown visibly"


@pytest.mark.skipif(
    shutil.which("chromium") is None and not Path(browser.CHROMIUM).exists(),
    reason="needs Debian's chromium (make browser)",
)
def test_every_page_draws_hostile_text_stays_text_and_names_are_inert(tmp_path, trap):
    from playwright.sync_api import sync_playwright

    port, hits = trap
    payloads = _payloads(port)
    # every name carries a URL (pointing at the trap) and a right-to-left override
    needle = f"127.0.0.1:{port}/name"
    tag = f" http://{needle}{RLO}30"
    store = Store.open(tmp_path / "store")
    generate(store, SyntheticConfig(rounds=5, prompts=80, judges=2, seed=2, payloads=payloads, name_tag=tag))
    # a judge whose very name is hostile markup: it shows in selectors, legends and tables
    hostile_judge = f'<img src="http://127.0.0.1:{port}/judge" onerror="window.__xss=5">{tag}'
    store.append(
        "judgments",
        [
            {
                "judge": hostile_judge,
                "prompt_id": prompt_id(i, tag),
                "model_a": policy_id(3, tag),
                "model_b": policy_id(4, tag),
                "order": o,
                "preference": 0.25 if i % 2 else 0.75,
                "rationale": payloads[i % len(payloads)],
                "round_id": round_id(4, tag),
            }
            for i in range(40)
            for o in ("ab", "ba")
        ],
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []

    with browser.serve(store.root) as base, sync_playwright() as pw:
        chromium = browser.launch(pw)
        page = chromium.new_page(viewport={"width": 1400, "height": 2400})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for spec in browser.PAGES:
            page.goto(f"{base}/{spec.url_path}")
            browser.wait_drawn(page, spec)
            assert page.locator(".js-plotly-plot").count() >= spec.charts, spec
            assert page.evaluate("window.__xss") is None, spec
            _check_names_inert(page, spec.title, needle)
            if (
                spec.url_path == "judge_health"
            ):  # the report card table is drawn (its names go through ui.table)
                assert page.get_by_text("Report card per judge version").count() == 1
                for tab, charts in browser.JUDGE_HEALTH_TABS:  # tabs whose content runs when opened
                    page.get_by_role("tab", name=tab).click()
                    browser.wait_drawn(page, browser.PageSpec(spec.url_path, spec.nav, spec.title, charts))
                    _check_names_inert(page, f"{spec.title}: {tab}", needle)
            page.screenshot(path=str(SCREENSHOTS / f"{spec.url_path or 'progress'}.png"), full_page=True)

        # a selector's open list shows the override escaped too
        page.goto(f"{base}/")
        browser.wait_drawn(page, browser.PAGES[0])
        page.locator('[data-testid="stSelectbox"]').first.click()
        options = page.locator('[role="option"]').all_text_contents()
        assert options and all(RLO not in o for o in options) and any("\\u202e" in o for o in options), (
            options
        )
        page.keyboard.press("Escape")

        # a click on a heatmap cell selects that cell's prompts
        spec = next(s for s in browser.PAGES if s.url_path == "categories")
        page.goto(f"{base}/categories")
        browser.wait_drawn(page, spec)
        plot = page.locator(".js-plotly-plot").first
        x_tick, y_tick = plot.locator(".xtick text").first, plot.locator(".ytick text").first
        want_round, want_category = x_tick.text_content(), y_tick.text_content()
        assert not want_round.startswith(
            "r04"
        )  # the default selection is the latest round: the click must change it
        xb, yb = x_tick.bounding_box(), y_tick.bounding_box()
        page.mouse.click(xb["x"] + xb["width"] / 2, yb["y"] + yb["height"] / 2 + 20 * 0)
        page.wait_for_function(
            """([r, c]) => {
                const v = [...document.querySelectorAll('[data-testid="stSelectbox"] input')].map(i => i.value);
                const shown = [...document.querySelectorAll('[data-testid="stSelectbox"]')].map(e => e.textContent);
                const all = v.concat(shown).join(' ');
                return all.includes(r.slice(0, 3)) && all.includes(c.slice(0, 6));
            }""",
            arg=[want_round, want_category],
            timeout=30_000,
        )

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
        _check_names_inert(page, "regressions after a search", needle)
        page.wait_for_timeout(500)  # give any stray request time to arrive
        chromium.close()

    assert dialogs == []
    assert hits == [], f"the planted server was contacted: {hits}"
    for name in ("progress", "categories", "head_to_head", "regressions", "judge_health", "training"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
