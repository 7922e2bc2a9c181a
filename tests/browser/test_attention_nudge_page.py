"""The AttentionNudge widget in the built transformer chapter: live with no kernel.

The page's saved widget state is drawn by the book's widget runtime (static-widgets.js); the
widget's own JavaScript must recompute the weights and dC/dq on every slider move and target choice.
Every state is checked against NumPy computed here, to full precision (data-value) and to
the digits printed; axe-core checks the widget for WCAG 2 A/AA problems.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from browser import AXE_ON_ELEMENT, TEXT_SIZES, shared_widget_page
from browser import MOVE_SLIDER as MOVE

from backprop_book.widgets._assets import script
from bookkit.paths import ROOT as REPO

pytestmark = pytest.mark.browser

PAGE = "book/transformer-block.html"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
ROOT = ".bp-attention-nudge"
#: The keys and the starting state the chapter gives the widget.
KEYS = np.array([[2.0, 0.5], [-1.0, 1.5], [0.5, -2.0]])
START = {"q1": -1.0, "q2": -0.5, "target": 0}

READ = """root => {
  const numbers = {}, shown = {};
  root.querySelectorAll('[data-readout]').forEach(e => {
    numbers[e.dataset.readout] = e.dataset.value;
    shown[e.dataset.readout] = e.textContent;
  });
  const target = Number(root.querySelector('input[data-control=target]:checked').value);
  const sliders = {};
  root.querySelectorAll('input[data-param]').forEach(i => { sliders[i.dataset.param] = i.valueAsNumber; });
  return {numbers, shown, target, sliders, redraws: Number(root.dataset.redraws),
          arrow: root.querySelector('line.bp-arrow').style.display !== 'none'};
}"""


def reference(q1: float, q2: float, c: int) -> dict[str, float]:
    """NumPy, float64, written out here: scores, weights, -log p_c and dC/dq."""
    q = np.array([q1, q2])
    s = KEYS @ q / math.sqrt(2)
    p = np.exp(s - s.max())
    p /= p.sum()
    dq = (p - np.eye(3)[c]) @ KEYS / math.sqrt(2)
    out = {"C": -math.log(p[c]), "dC_dq1": dq[0], "dC_dq2": dq[1]}
    out.update({f"s{j}": s[j] for j in range(3)})
    out.update({f"p{j}": p[j] for j in range(3)})
    return {k: float(v) for k, v in out.items()}


def printed(v: float) -> str:
    """How the widget prints a number: three decimals, a true minus sign, never -0."""
    t = f"{v:.3f}"
    return (t[1:] if t == "-0.000" else t).replace("-", "\u2212")


def assert_matches_numpy(state: dict, where: str) -> None:
    q1, q2 = float(state["numbers"]["q1"]), float(state["numbers"]["q2"])
    assert (q1, q2) == (state["sliders"]["q1"], state["sliders"]["q2"]), where
    want = reference(q1, q2, state["target"])
    for key, value in want.items():
        got = float(state["numbers"][key])
        assert abs(got - value) <= 1e-12 * max(1.0, abs(value)), f"{where}: {key} {got} != {value}"
        assert state["shown"][key] == printed(value), f"{where}: {key} prints {state['shown'][key]}"
    assert state["numbers"]["source"] == "browser", where


# One page for the module; the widget's state as saved is read as it opens.
chapter, widget = shared_widget_page(PAGE, ROOT, READ)


def test_page_ships_the_current_front_end(built_book):
    html = (built_book / PAGE).read_text()
    start = html.index('<script type="application/vnd.jupyter.widget-state+json">')
    state = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    shipped = [m["state"]["_esm"] for m in state["state"].values()
               if "bp-attention-nudge" in m["state"].get("_esm", "")]
    assert shipped, f"{PAGE} holds no AttentionNudge widget state"
    assert shipped[0] == script("attention_nudge"), f"{PAGE} carries an older attention_nudge.js"


def test_saved_state_is_live_and_matches_numpy(chapter, widget):
    _, log, state = chapter  # read as the page opened, before any test moved the widget
    _, _, root = widget
    assert not log.problems(), "; ".join(log.problems())  # none since the page opened
    assert state["target"] == START["target"]
    assert (state["sliders"]["q1"], state["sliders"]["q2"]) == (START["q1"], START["q2"])
    assert_matches_numpy(state, "as loaded")
    before = root.evaluate(READ)
    root.evaluate(MOVE, ["q1", 0.5 if before["sliders"]["q1"] != 0.5 else -0.5])
    moved = root.evaluate(READ)
    assert moved["redraws"] > before["redraws"]
    assert_matches_numpy(moved, f"q1 = {moved['sliders']['q1']}")


def test_renders_labelled_and_readable(widget):
    _, _, root = widget
    labels = root.evaluate("r => [...r.querySelectorAll('input')].map(i => [i.id, i.labels.length])")
    assert len(labels) == 2 + 3 and all(n == 1 for _, n in labels), labels
    small = [(t, round(px, 1)) for t, px in root.evaluate(TEXT_SIZES) if px < 12]
    assert not small, f"text smaller than 12 px: {small}"
    for svg in ("svg.bp-plane", "svg.bp-bars"):
        assert root.locator(svg).get_attribute("role") == "img"
        assert len(root.locator(svg).get_attribute("aria-label")) > 40


def test_widget_passes_axe(widget):
    page, _, root = widget
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make assets)")
    page.add_script_tag(path=str(AXE))
    for target in ("0", "2"):  # the target restyles a bar, a ring and the labels
        root.locator(f'input[data-control=target][value="{target}"]').check()
        violations = root.evaluate(AXE_ON_ELEMENT)
        assert not violations, f"target {target}: {violations}"


@pytest.mark.parametrize("name", ["q1", "q2"])
def test_every_slider_recomputes_like_numpy(widget, name):
    _, _, root = widget
    for value in (-3.0, 3.0, 0.0, 1.25, -2.35):
        before = root.evaluate(READ)["redraws"]
        root.evaluate(MOVE, [name, value])
        state = root.evaluate(READ)
        assert state["redraws"] > before, f"moving {name} did not redraw"
        assert state["sliders"][name] == value
        assert_matches_numpy(state, f"{name} = {value}")


@pytest.mark.parametrize("target", [0, 1, 2])
def test_choosing_the_target_recomputes(widget, target):
    _, _, root = widget
    root.locator(f'input[data-control=target][value="{target}"]').check()
    state = root.evaluate(READ)
    assert state["target"] == target
    assert_matches_numpy(state, f"target {target}")
    label = root.locator(f"svg.bp-plane .bp-key-{target} .bp-key-label").text_content()
    assert label.endswith("(target)"), label  # the target is named, not only drawn


def test_sliders_move_with_the_keyboard(widget):
    page, _, root = widget
    slider = root.locator('input[data-param="q2"]')
    slider.focus()
    for key in ("ArrowRight", "ArrowRight", "PageUp", "ArrowLeft", "Home", "End"):
        before = root.evaluate(READ)["sliders"]["q2"]
        page.keyboard.press(key)
        state = root.evaluate(READ)
        now = state["sliders"]["q2"]
        if key in ("ArrowRight", "PageUp"):
            assert now > before or now == 3.0, f"{key} did not raise q2"
        if key == "ArrowLeft":
            assert now < before or now == -3.0, f"{key} did not lower q2"
        assert_matches_numpy(state, f"q2 after {key}")
    assert now == 3.0


def test_a_step_along_the_arrow_raises_the_targets_weight(widget):
    """What the chapter asks the reader to try, done in the page: its own numbers agree."""
    _, _, root = widget
    root.locator('input[data-control=target][value="0"]').check()
    root.evaluate(MOVE, ["q1", -1.0])
    root.evaluate(MOVE, ["q2", -0.5])
    start = root.evaluate(READ)
    assert start["arrow"]
    g = float(start["numbers"]["dC_dq1"]), float(start["numbers"]["dC_dq2"])
    root.evaluate(MOVE, ["q1", round(-1.0 - 0.5 * g[0], 2)])
    root.evaluate(MOVE, ["q2", round(-0.5 - 0.5 * g[1], 2)])
    after = root.evaluate(READ)
    assert float(after["numbers"]["p0"]) > float(start["numbers"]["p0"])
    assert float(after["numbers"]["C"]) < float(start["numbers"]["C"])
