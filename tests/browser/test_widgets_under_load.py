"""Every widget of the built book starts, and answers, on a page whose CPU is slow.

A reader on a cheap laptop or a phone, or a page opened while the machine is busy, runs the
page's one thread many times slower than a test machine at rest. The ipywidgets manager the
book once shipped (with anywidget 0.11) gave each widget model 2 s to start and then gave up
for good ("[anywidget] Failed to initialize model."), and a widget on a slow page was dead.
The book's own runtime (web/src/static-widgets.js) has no deadline
(tests/browser/test_widget_runtime.py holds a page's thread for 4 s to show it).

Chromium's DevTools protocol slows the page's CPU (``Emulation.setCPUThrottlingRate``) before
it loads. Then every widget on every widget chapter must draw, and each must redraw when
its first slider moves, with no error in the page.
"""

from __future__ import annotations

import pytest
from browser import WIDGET_ROOTS, open_logged_page, widget_chapters

pytestmark = pytest.mark.browser

#: How many times slower the page's CPU runs. With the old manager's deadline, 5x killed the
#: widgets of making-deep-networks-train in one run of two and 8x in every run.
SLOWDOWN = 4

VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]'

# Each widget's first slider moved one step by the keyboard: the widget must redraw.
ANSWERS = """async root => {
  const slider = root.querySelector('input[type=range]');
  const before = Number(root.dataset.redraws);
  slider.focus();
  slider.stepUp();
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  slider.dispatchEvent(new Event('change', {bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return Number(root.dataset.redraws) > before;
}"""


@pytest.mark.parametrize("entry", widget_chapters())
def test_every_widget_starts_on_a_slow_cpu(chromium, book_server, entry):
    page, log = open_logged_page(chromium, book_server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOWDOWN})
    page.goto(f"{book_server}/{entry}.html")
    expected = page.locator(VIEWS).count()  # the page's saved widget views, one per widget
    assert expected >= 1, f"{entry}: no widget on a widget chapter"
    page.wait_for_function(
        f"n => document.querySelectorAll(':is({WIDGET_ROOTS})[data-redraws]').length >= n",
        arg=expected)
    roots = page.locator(f":is({WIDGET_ROOTS})")
    dead = [i for i in range(roots.count()) if not roots.nth(i).evaluate(ANSWERS)]
    assert not dead, f"{entry}: widgets {dead} drew but did not answer their slider"
    assert not log.problems(), f"{entry}: " + "; ".join(log.problems())
    page.close()

