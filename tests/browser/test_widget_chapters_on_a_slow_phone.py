"""Every widget chapter of the built book, opened on a slow phone.

A reader on a cheap phone runs the page's one thread many times slower than a test machine
at rest, on a narrow touch screen. Each chapter with widgets is opened once that way: an
emulated phone (390 px, touch) whose page CPU Chromium's DevTools protocol slows
(``Emulation.setCPUThrottlingRate``) before it loads. On it:

* every widget starts: the ipywidgets manager the book once shipped (with anywidget 0.11)
  gave each widget model 2 s to start and then gave up for good ("[anywidget] Failed to
  initialize model."), so a widget on a slow page was dead. The book's own runtime
  (web/src/static-widgets.js) has no deadline (tests/browser/test_widget_runtime.py holds a
  page's thread for 4 s to show it on a page made for the test);
* every widget is silent for a screen reader until the reader moves it; its first slider
  moved one step by the keyboard on the slow page, it redraws, then says what changed, with
  a number;
* the page, every dropdown unfolded, does not scroll sideways (every other page is checked
  at 390 px by narrowing a desktop window, in test_pages.py), every widget is laid out in
  one column, and a slider moves by touch and by keyboard, and the widget recomputes. The
  top of the page is saved as ``_build/screenshots/<page>-phone.png``, as test_pages.py saves
  every other page's.

(Three visits per chapter once did these three things; one visit does them all.) How soon
the first widget is live is a speed, so a benchmark measures it (``make bench-pages``),
never this test.
"""

from __future__ import annotations

import pytest
from browser import (
    LAY_OUT_ALL,
    SIDEWAYS,
    UNFOLD,
    WIDGET_ROOTS,
    open_logged_page,
    settled,
    widget_chapters,
)

from bookkit.paths import BUILD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
#: How many times slower the page's CPU runs. With the old manager's deadline, 5x killed the
#: widgets of making-deep-networks-train in one run of two and 8x in every run.
SLOWDOWN = 4

VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]'

# A widget's live region (what a screen reader is told), and its redraw count.
HEARD = """root => ({said: root.querySelector('.bp-sr-only[aria-live=polite]').textContent,
                    redraws: Number(root.dataset.redraws)})"""
# The widget's first slider moved one step, as the keyboard moves it; its redraw count
# once the page has drawn twice more.
NUDGE = """async root => {
  const slider = root.querySelector('input[type=range]');
  slider.focus();
  slider.stepUp();
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  slider.dispatchEvent(new Event('change', {bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return Number(root.dataset.redraws);
}"""

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

READ_SLIDER = """input => ({value: input.valueAsNumber,
  redraws: Number(input.closest('[data-redraws]').dataset.redraws)})"""


def every_widget_answers_and_speaks_when_moved(page, cdp, entry: str) -> None:
    """Silent as the page opens; moved on the slow page, each redraws at once, then says a
    number. Slowed only while the widgets work: a slowed page keeps a core busy even while
    it waits (measured: 2.4 s of CPU in 3 s of waiting at 4x, 0.05 s unslowed)."""
    page.wait_for_timeout(800)  # longer than a widget waits before it speaks
    roots = page.locator(f":is({WIDGET_ROOTS})")
    heard = [roots.nth(i).evaluate(HEARD) for i in range(roots.count())]
    spoke = [i for i, h in enumerate(heard) if h["said"]]
    assert not spoke, f"{entry}: widgets {spoke} spoke before anyone moved them"
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOWDOWN})
    redraws = [roots.nth(i).evaluate(NUDGE) for i in range(roots.count())]
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    dead = [i for i, (h, r) in enumerate(zip(heard, redraws, strict=True)) if r <= h["redraws"]]
    assert not dead, f"{entry}: widgets {dead} drew but did not answer their slider"
    for i in range(roots.count()):
        root = roots.nth(i)
        page.wait_for_function(f"root => ({HEARD})(root).said.length > 0",
                               arg=root.element_handle(), polling=100)
        said = root.evaluate(HEARD)["said"]
        assert any(ch.isdigit() for ch in said), f"{entry}: widget {i} said {said!r}, no number"


def widgets_one_column(page, entry: str) -> None:
    roots = page.locator(WIDGET_ROOTS)
    assert roots.count() >= 1
    for i in range(roots.count()):
        layout = roots.nth(i).evaluate(SIDE_BY_SIDE)
        assert not layout["pairs"], f"{entry}, widget {i}: parts side by side: {layout}"
        assert layout["left"] >= 0 and layout["right"] <= PHONE["width"], layout


def slider_moves_by_touch_and_keyboard(page, entry: str) -> None:
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


@pytest.mark.parametrize("entry", widget_chapters())
def test_widget_chapter_on_a_slow_phone(chromium, book_server, entry):
    page, log = open_logged_page(chromium, book_server, **PHONE, has_touch=True,
                                 is_mobile=True)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOWDOWN})
    page.goto(f"{book_server}/{entry}.html")
    expected = page.locator(VIEWS).count()  # the page's saved widget views, one per widget
    assert expected >= 1, f"{entry}: no widget on a widget chapter"
    page.wait_for_function(
        f"n => document.querySelectorAll(':is({WIDGET_ROOTS})[data-redraws]').length >= n",
        arg=expected, polling=250)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})  # started: the rest at full speed
    settled(page)
    shots = BUILD / "screenshots"  # the top of the page, for a human (as test_pages.py)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{entry.replace('/', '__')}-phone.png"))
    every_widget_answers_and_speaks_when_moved(page, cdp, entry)
    # the whole page, not only what is on screen, every dropdown unfolded
    page.add_style_tag(content=LAY_OUT_ALL)
    page.evaluate(UNFOLD)
    sizes = page.evaluate(SIDEWAYS)
    assert max(sizes["page"], sizes["body"]) <= sizes["view"], f"{entry}: {sizes}"
    widgets_one_column(page, entry)
    slider_moves_by_touch_and_keyboard(page, entry)
    assert not log.problems(), f"{entry}: " + "; ".join(log.problems())
    page.context.close()
