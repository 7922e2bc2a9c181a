"""The page as read on a phone.

(Code that fits the column at 1280 px is checked where each page is read at that width,
in test_pages.py: cells folded behind "Show code cell source" are not seen until
opened, so they are exempt.)

Each chapter with widgets is opened once on an emulated phone (390 px, touch), and on it:

* the page does not scroll sideways (every page is also checked at 390 px, by narrowing
  the window, in test_pages.py);
* every widget is laid out in one column, and a slider moves by touch and by keyboard, and
  the widget recomputes.

How soon the first widget is live is a speed, so a benchmark measures it
(``make bench-pages``), never this test.
"""

from __future__ import annotations

import pytest
from browser import LAY_OUT_ALL, WIDGET_ROOTS, open_logged_page, settled, widget_chapters

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
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
def test_widget_chapter_on_a_phone(chromium, book_server, entry):
    page, log = open_logged_page(chromium, book_server, **PHONE, has_touch=True,
                                 is_mobile=True)
    page.goto(f"{book_server}/{entry}.html")
    settled(page)
    page.add_style_tag(content=LAY_OUT_ALL)  # the whole page, not only what is on screen
    # Against the document's client width: an emulated phone widens innerWidth to fit
    # a page that overflows, so innerWidth let a 14 px overflow through.
    sizes = page.evaluate("""() => ({page: document.documentElement.scrollWidth,
                                      body: document.body.scrollWidth,
                                      view: document.documentElement.clientWidth})""")
    assert max(sizes["page"], sizes["body"]) <= sizes["view"], f"{entry}: {sizes}"
    page.wait_for_selector(f":is({WIDGET_ROOTS})[data-redraws]")
    widgets_one_column(page, entry)
    slider_moves_by_touch_and_keyboard(page, entry)
    assert not log.problems(), "; ".join(log.problems())
    page.close()
