"""The static book's widget runtime (web/src/static-widgets.js), on pages made for the test.

Every widget of the book is an anywidget; the built page embeds each model's state, and
the runtime renders each saved view with a model that speaks anywidget's API. These tests
pin what the book's widgets rely on (Backbone-style change events, one stylesheet per widget
class, the view's wrappers), that a widget which cannot start says so in the page instead
of leaving a blank, and that a widget starts however long the page's thread is busy. (The
book's own widget chapters are opened on a slow phone in
test_widget_chapters_on_a_slow_phone.py: every widget starts, speaks only once moved, and
answers.)
"""

from __future__ import annotations

import json
import shutil

import pytest
from browser import NO_ICON, open_logged_page

from bookkit.browser import serve
from bookkit.paths import WEB

pytestmark = pytest.mark.browser

RUNTIME = WEB / "src" / "static-widgets.js"

# A widget module that logs what the runtime hands it, so the test can read it back.
PROBE = """
export default {
  initialize({ model }) { (window.__log ||= []).push("initialize " + model.get("label")); },
  render({ model, el }) {
    const log = (window.__log ||= []);
    model.on("change:count", (m, v) => log.push("change:count " + v));
    model.on("change", () => log.push("change"));
    const b = document.createElement("button");
    b.className = "probe";
    b.textContent = model.get("label");
    b.onclick = () => { model.set("count", model.get("count") + 1); model.save_changes();
                        model.send({ type: "ping" }); };
    el.appendChild(b);
    model.set("count", model.get("count"));  // unchanged: no event
    model.set({ count: model.get("count") }); // the object form, unchanged too
  },
};
"""


def anywidget(esm: str, css: str = "", **state) -> dict:
    return {"model_module": "anywidget", "model_name": "AnyModel",
            "model_module_version": "~0.11.*",
            "state": {"_esm": esm, "_css": css, "_anywidget_id": "test.Probe",
                      "_dom_classes": ["probe-host"], **state}}


def page_with(models: dict, views: list[str], before_runtime: str = "") -> str:
    """An HTML page as the book's build writes one: the state in the head, a view per widget."""
    state = json.dumps({"version_major": 2, "version_minor": 0, "state": models})
    body = "".join(
        '<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
        + json.dumps({"version_major": 2, "version_minor": 1, "model_id": v}) + "</script></div>"
        for v in views)
    return (f"<!doctype html><html><head>{NO_ICON}"
            f'<script type="application/vnd.jupyter.widget-state+json">{state}</script>'
            '<script defer src="static-widgets.js"></script></head>'
            f"<body>{body}{before_runtime}</body></html>")


@pytest.fixture
def site(tmp_path):
    """Serve pages written into a folder beside a copy of the runtime."""
    shutil.copy(RUNTIME, tmp_path / "static-widgets.js")
    with serve(tmp_path) as base:
        def publish(name: str, html: str) -> str:
            (tmp_path / name).write_text(html)
            return f"{base}/{name}"
        yield base, publish


def test_a_view_gets_its_model_its_wrappers_and_one_stylesheet_per_widget_class(chromium, site):
    base, publish = site
    url = publish("probe.html", page_with(
        {"m1": anywidget(PROBE, ".probe { color: rgb(1, 2, 3); }", label="one", count=0),
         "m2": anywidget(PROBE, ".probe { color: rgb(1, 2, 3); }", label="two", count=5)},
        ["m1", "m2", "m1"]))
    page, log = open_logged_page(chromium, base)
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('button.probe').length === 3")
    hosts = page.locator(".cell_output > .widget-subarea > .lm-Widget.jupyter-widgets.probe-host")
    assert hosts.count() == 3, "each view in a .widget-subarea > .lm-Widget.jupyter-widgets"
    assert page.locator("style[data-widget]").count() == 1, "one stylesheet per widget class"
    assert page.locator("button.probe").first.evaluate("b => getComputedStyle(b).color") == "rgb(1, 2, 3)"
    # the module is imported once per distinct text, initialize runs per view; no event yet
    assert page.evaluate("window.__log") == ["initialize one", "initialize two", "initialize one"]
    page.locator("button.probe").first.click()
    # two views of m1 each listen: as in Backbone, every change:count first (with the new
    # value), then every change
    assert page.evaluate("window.__log.slice(3)") == ["change:count 1", "change:count 1", "change", "change"]
    assert page.locator("button.probe").nth(2).evaluate("b => b.textContent") == "one"
    assert not log.problems(), "; ".join(log.problems())


@pytest.mark.parametrize("model, says", [
    (anywidget("export default { render() { throw new Error('boom'); } };"), "render() failed: boom"),
    (anywidget("this is not JavaScript"), "its module did not load"),
    (anywidget("export const nothing = 1;"), "its module has no render()"),
    ({"model_module": "@jupyter-widgets/controls", "model_name": "IntSliderModel",
      "state": {"value": 3}}, "a @jupyter-widgets/controls IntSliderModel is not an anywidget"),
])
def test_a_widget_that_cannot_start_says_why_in_the_page(chromium, site, model, says):
    base, publish = site
    url = publish("broken.html", page_with({"m": model}, ["m", "missing"]))
    page, log = open_logged_page(chromium, base)
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('[role=alert]').length === 2")
    notes = page.locator("[role=alert]").all_inner_texts()
    assert says in notes[0] and "could not start" in notes[0], notes[0]
    assert "no saved state for model missing" in notes[1], notes[1]
    assert all(e.startswith("[widgets]") for e in log.console_errors), log.console_errors
    assert not log.page_errors, log.page_errors


def test_a_widget_starts_however_long_the_page_is_busy(chromium, site):
    """No deadline: the page's thread is held for 4 s before the runtime may run (as a slow
    phone laying out a long chapter would), and the widget still starts."""
    base, publish = site
    hold = "<script>const end = performance.now() + 4000; while (performance.now() < end) {}</script>"
    url = publish("busy.html", page_with({"m": anywidget(PROBE, label="late", count=0)}, ["m"], hold))
    page, log = open_logged_page(chromium, base)
    page.goto(url)
    page.wait_for_selector("button.probe")
    assert page.evaluate("performance.now()") > 4000
    assert not log.problems(), "; ".join(log.problems())
