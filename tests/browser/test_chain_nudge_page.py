"""The ChainNudge widget in the built book: live with no kernel and no network.

The page's saved widget state is drawn by the book's widget runtime (static-widgets.js); the
widget's own JavaScript must recompute the chain on every slider move. Each move (by script
and by keyboard) is checked against NumPy computed here, and screenshots before and after a
nudge are saved for a human to look at. How long a redraw takes is measured by
``make bench-pages``, never judged by a test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser import AXE_ON_ELEMENT, TEXT_SIZES, shared_widget_page
from browser import MOVE_SLIDER as MOVE
from chain_widget import READ, assert_matches_numpy

from backprop_book.widgets._assets import script
from bookkit.paths import BUILD
from bookkit.paths import ROOT as REPO

pytestmark = pytest.mark.browser

#: The built page that shows the widget: the 1-1-1 chapter.
PAGE = "book/one-neuron-chain.html"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = BUILD / "screenshots"
PARAMS = ("w1", "b1", "w2", "b2")
SLIDERS = {
    "w1": (-4, 4),
    "b1": (-4, 4),
    "w2": (-4, 4),
    "b2": (-4, 4),
    "x": (-3, 3),
    "y": (0, 1),
    "step": (0.01, 1),
}
NUMBERS = ("z1", "a1", "z2", "a2", "C", "dC_dw1", "dC_db1", "dC_dw2", "dC_db2")

ROOT = ".bp-chain-nudge"

# One page for the module: the widget's state as saved is read as the page opens, before
# any test moves it; then each test moves the widget from wherever the last one left it.
chapter, widget = shared_widget_page(PAGE, ROOT, READ)


def test_page_ships_the_current_front_end(built_book):
    """The execution cache bakes the widget's JavaScript into the page; it must be today's file."""
    html = (built_book / PAGE).read_text()
    start = html.index('<script type="application/vnd.jupyter.widget-state+json">')
    state = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    shipped = [
        m["state"]["_esm"]
        for m in state["state"].values()
        if "bp-chain-nudge" in m["state"].get("_esm", "")
    ]
    assert shipped, f"{PAGE} holds no ChainNudge widget state"
    assert shipped[0] == script("chain_nudge"), (
        f"{PAGE} carries an older chain_nudge.js: the notebook's cached execution predates the "
        "file. Rebuild after `jupyter-book clean . --all` (or touch the notebook and drop its "
        "cache)."
    )


def test_renders_labelled_and_readable(widget):
    page, _, root = widget
    labels = root.evaluate(
        "r => [...r.querySelectorAll('input')].map(i => [i.id, i.labels.length])"
    )
    assert len(labels) == 7 + 4 and all(n == 1 for _, n in labels), labels
    small = [(t, round(px, 1)) for t, px in root.evaluate(TEXT_SIZES) if px < 12]
    assert not small, f"text smaller than 12 px: {small}"
    for svg in ("svg.bp-diagram", "svg.bp-plot"):
        assert root.locator(svg).get_attribute("role") == "img"
        assert len(root.locator(svg).get_attribute("aria-label")) > 40


def test_widget_passes_axe(widget):
    """axe-core's WCAG 2 A/AA rules, run on the widget alone (the page has its own test)."""
    page, _, root = widget
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make assets)")
    page.add_script_tag(path=str(AXE))
    for param in ("w2", "b1"):  # the studied parameter restyles part of the widget
        root.locator(f'input[data-control=param][value="{param}"]').check()
        violations = root.evaluate(AXE_ON_ELEMENT)
        assert not violations, f"studying {param}: {violations}"


@pytest.mark.parametrize("name", list(SLIDERS))
def test_every_slider_recomputes_like_numpy(widget, name):
    _, _, root = widget
    lo, hi = SLIDERS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    positions = [lo, hi, *np.round(rng.uniform(lo, hi, 3), 2)]
    for value in positions:
        before = root.evaluate(READ)["redraws"]
        root.evaluate(MOVE, [name, float(value)])
        state = root.evaluate(READ)
        assert state["redraws"] > before, f"moving {name} did not redraw"
        assert state["values"][name] == pytest.approx(float(value), abs=1e-12)
        assert_matches_numpy(state, f"{name} = {value}")


@pytest.mark.parametrize("param", PARAMS)
def test_choosing_the_parameter_recomputes(widget, param):
    page, _, root = widget
    root.locator(f'input[data-control=param][value="{param}"]').check()
    state = root.evaluate(READ)
    assert state["values"]["param"] == param
    assert_matches_numpy(state, f"studying {param}")
    assert (
        root.locator("svg.bp-plot text.bp-axis-label")
        .first.text_content()
        .startswith({"w1": "w₁", "b1": "b₁", "w2": "w₂", "b2": "b₂"}[param])
    )


@pytest.mark.parametrize("name", ["w1", "y", "step"])
def test_sliders_move_with_the_keyboard(widget, name):
    page, _, root = widget
    slider = root.locator(f'input[data-param="{name}"]')
    slider.focus()
    for key in ("ArrowRight", "ArrowRight", "PageUp", "ArrowLeft", "PageDown", "Home", "End"):
        before = root.evaluate(READ)["values"][name]
        page.keyboard.press(key)
        state = root.evaluate(READ)
        now = state["values"][name]
        assert now == state["values"]["slider_" + name]
        if key in ("ArrowRight", "PageUp"):
            assert now > before or now == SLIDERS[name][1], f"{key} did not raise {name}"
        if key in ("ArrowLeft", "PageDown"):
            assert now < before or now == SLIDERS[name][0], f"{key} did not lower {name}"
        assert_matches_numpy(state, f"{name} after {key}")
    assert now == SLIDERS[name][1]


def test_saved_state_is_live_and_matches_numpy_before_and_after_a_nudge(chapter, widget):
    """The widget as saved in the page (read as it opened), then nudged by Δ from where it
    stands: NumPy's numbers both times. Before and after the nudge are shot for a human."""
    page, log, as_loaded = chapter
    _, _, root = widget
    assert not log.problems(), "; ".join(log.problems())  # none since the page opened
    assert_matches_numpy(as_loaded, "as loaded")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        root.evaluate("r => window.scrollBy(0, r.getBoundingClientRect().top - 80)")
        page.screenshot(path=str(SCREENSHOTS / name), clip=root.bounding_box())

    shoot("widget-chain-before.png")
    values = root.evaluate(READ)["values"]
    param, step = values["param"], values["step"]
    target = round(values[param] + step, 2)
    if target > SLIDERS[param][1]:  # no room to the right: nudge the other way
        target = round(values[param] - step, 2)
    root.evaluate(MOVE, [param, target])
    after = root.evaluate(READ)
    assert after["values"][param] == target
    assert_matches_numpy(after, "after the nudge")
    shoot("widget-chain-after.png")
