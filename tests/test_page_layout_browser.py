"""The page as read on a phone, and how soon its first widget is live.

(Code that fits the column at 1280 px is checked where each page is read at that width,
in test_browser_pages.py: cells folded behind "Show code cell source" are not seen until
opened, so they are exempt.)

* At 390 px (a phone), no chapter page scrolls sideways; every widget is laid out in one
  column; a slider moves by touch and by keyboard, and the widget recomputes.
* The first widget of a chapter page is live soon after navigation: the time from
  navigation start to its first JavaScript redraw is measured on each page and written to
  ``_build/first-widget-live.json``; a slider move must then redraw it.
"""

from __future__ import annotations

import json

import pytest
from browser import browser, open_logged_page
from conftest import BUILD, source_of, toc_entries

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDGET_ROOTS = ".bp-chain-nudge, .bp-network-nudge, .bp-training-curves"
#: The target is 2 s; the bound asserted is looser because the CPU is shared while tests
#: run (a timing, not a correctness check). The measured times are reported in the JSON.
LIVE_TARGET_MS, LIVE_BOUND_MS = 2000, 6000


def chapters() -> list[str]:
    return [e for e in toc_entries() if source_of(e).suffix == ".ipynb"]


def widget_chapters() -> list[str]:
    return [e for e in chapters() if "Nudge(" in source_of(e).read_text()
            or "TrainingCurves(" in source_of(e).read_text()]


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def phone_page(chromium, book_server, entry):
    page, log = open_logged_page(chromium, book_server, **PHONE, has_touch=True,
                                 is_mobile=True)
    page.goto(f"{book_server}/{entry}.html")
    page.wait_for_load_state("networkidle")
    return page, log


@pytest.mark.parametrize("entry", toc_entries())
def test_no_sideways_scroll_on_a_phone(chromium, book_server, entry):
    page, log = phone_page(chromium, book_server, entry)
    sizes = page.evaluate("""() => ({page: document.documentElement.scrollWidth,
                                      body: document.body.scrollWidth, view: innerWidth})""")
    assert max(sizes["page"], sizes["body"]) <= sizes["view"], f"{entry}: {sizes}"
    assert not log.problems(), "; ".join(log.problems())
    page.close()


# Blocks of a widget that sit side by side: any two (of its labelled parts: diagrams,
# plots, fieldsets, tables) whose boxes share a vertical stretch.
SIDE_BY_SIDE = """root => {
  const parts = [...root.querySelectorAll('svg[role=img], fieldset, table')]
    .filter(e => !e.parentElement.closest('fieldset, table'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  const pairs = [];
  for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
    const a = parts[i], b = parts[j];
    const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (overlapY > 4 && (a.right <= b.left + 1 || b.right <= a.left + 1)) {
      pairs.push([Math.round(a.left), Math.round(a.top), Math.round(b.left), Math.round(b.top)]);
    }
  }
  const box = root.getBoundingClientRect();
  return {pairs, right: box.right, left: box.left};
}"""


@pytest.mark.parametrize("entry", widget_chapters())
def test_widgets_one_column_on_a_phone(chromium, book_server, entry):
    page, log = phone_page(chromium, book_server, entry)
    page.wait_for_selector(f":is({WIDGET_ROOTS})[data-redraws]", timeout=30_000)
    roots = page.locator(WIDGET_ROOTS)
    assert roots.count() >= 1
    for i in range(roots.count()):
        layout = roots.nth(i).evaluate(SIDE_BY_SIDE)
        assert not layout["pairs"], f"{entry}, widget {i}: parts side by side: {layout}"
        assert layout["left"] >= 0 and layout["right"] <= PHONE["width"], layout
    assert not log.problems(), "; ".join(log.problems())
    page.close()


READ_SLIDER = """input => ({value: input.valueAsNumber,
  redraws: Number(input.closest('[data-redraws]').dataset.redraws)})"""


@pytest.mark.parametrize("entry", widget_chapters())
def test_sliders_move_by_touch_and_keyboard_on_a_phone(chromium, book_server, entry):
    page, log = phone_page(chromium, book_server, entry)
    page.wait_for_selector(f":is({WIDGET_ROOTS})[data-redraws]", timeout=30_000)
    slider = page.locator(f":is({WIDGET_ROOTS}) input[type=range]").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box["width"] >= 100 and box["height"] >= 16, f"{entry}: slider too small {box}"
    before = slider.evaluate(READ_SLIDER)
    page.touchscreen.tap(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    tapped = slider.evaluate(READ_SLIDER)
    assert tapped["value"] > before["value"], f"{entry}: a tap did not move the slider"
    assert tapped["redraws"] > before["redraws"], f"{entry}: a tap did not redraw the widget"
    slider.focus()
    page.keyboard.press("Home")
    home = slider.evaluate(READ_SLIDER)
    page.keyboard.press("ArrowRight")
    stepped = slider.evaluate(READ_SLIDER)
    assert home["value"] < tapped["value"] and stepped["value"] > home["value"], (entry, home)
    assert stepped["redraws"] > home["redraws"] > tapped["redraws"], entry
    assert not log.problems(), "; ".join(log.problems())
    page.close()


FIRST_LIVE = """() => {
  window.__bpFirstLive = null;
  const seen = () => {
    if (window.__bpFirstLive === null && document.querySelector('[data-redraws]')) {
      window.__bpFirstLive = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true,
                                                attributes: true, attributeFilter: ['data-redraws']});
}"""

NUDGE_FIRST = """() => {
  const root = document.querySelector('[data-redraws]');
  const input = root.querySelector('input[type=range]');
  const before = Number(root.dataset.redraws);
  input.value = String(Number(input.min) + 0.75 * (Number(input.max) - Number(input.min)));
  input.dispatchEvent(new Event('input', {bubbles: true}));
  return Number(root.dataset.redraws) > before;
}"""


def test_first_widget_is_live_soon_after_navigation(chromium, book_server):
    times = {}
    for entry in widget_chapters():
        page, log = open_logged_page(chromium, book_server, width=1280, height=900)
        page.add_init_script(f"({FIRST_LIVE})()")
        page.goto(f"{book_server}/{entry}.html", wait_until="commit")
        page.wait_for_function("window.__bpFirstLive !== null", timeout=30_000)
        times[entry] = round(page.evaluate("window.__bpFirstLive"))
        assert page.evaluate(NUDGE_FIRST), f"{entry}: the first widget did not recompute"
        page.wait_for_load_state("networkidle")
        assert not log.problems(), "; ".join(log.problems())
        page.close()
    BUILD.mkdir(exist_ok=True)
    report = {"target_ms": LIVE_TARGET_MS, "first_widget_live_ms": times}
    (BUILD / "first-widget-live.json").write_text(json.dumps(report, indent=1) + "\n")
    print("\nfirst widget live (ms after navigation start):", times)
    slow = {e: t for e, t in times.items() if t > LIVE_BOUND_MS}
    assert not slow, f"first widget live later than {LIVE_BOUND_MS} ms: {slow}"
