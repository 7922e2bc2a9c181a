"""The kernel path: a chapter's nudge widget, live in a real JupyterLab driven by Chromium.

The static book computes the widget in JavaScript; in a notebook the chapter's own NumPy
function computes it. Each test opens a chapter's widget in JupyterLab as a reader does
(open, Run All Cells), moves a slider with the keyboard and waits until the widget
shows the cost NumPy gives for the new position, labelled as computed by the kernel. In the
same visit to the 1-1-1 chapter, jupyterlab-myst must show the book's figure and exercise
boxes, not raw directives.

The kernel runs only the chapter's code the widget needs (``lab_server.widget_notebook``):
the rest (plots, derivations, training) changes nothing the widget shows, and the build
and nbval run every chapter in full. The 1-1-1 chapter keeps all its prose, in place.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser import MOVE_SLIDER
from chain_widget import READ, assert_matches_numpy
from lab_server import lab_errors, run_all_until, widget_notebook
from network_widget import READ as NETWORK_READ
from network_widget import assert_matches_numpy as assert_network_matches

pytestmark = pytest.mark.kernel

CHAIN_NOTEBOOK = "one-neuron-chain.ipynb"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + np.exp(-z))


def chain_cost(w1, b1, w2, b2, x, y) -> float:
    """C = (a2 - y)^2 for the 1-1-1 chain, written here independently of the book's code."""
    a2 = sigmoid(w2 * sigmoid(w1 * x + b1) + b2)
    return (a2 - y) ** 2


def shown_values(widget) -> dict[str, float]:
    return widget.evaluate(
        """root => {
          const out = {};
          root.querySelectorAll('input[data-param]').forEach(i => out[i.dataset.param] = Number(i.value));
          const c = root.querySelector('[data-readout="C"]');
          out.C = Number(c.dataset.value);
          out.source = root.querySelector('[data-readout="source"]').dataset.value;
          return out;
        }"""
    )


def myst_figure_renders(page) -> None:
    """jupyterlab-myst shows the chapter's figure, loaded and described (at the top)."""
    figure = page.locator('.jp-MarkdownCell .myst img[src*="chain-111.svg"]').first
    figure.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=figure.element_handle())
    assert "1-1-1 network drawn as a chain" in figure.get_attribute("alt")


def myst_exercise_box_renders(page) -> None:
    """Scrolling from the top as a reader does, the first exercise shows as a MyST box.

    The windowed notebook lays cells out once the scrolling pauses, not during it.
    """
    box = page.locator("aside.myst-exercise#ex-111-sigmoid-slope")
    scrolled = "() => document.querySelector('.jp-WindowedPanel-outer').scrollTop"
    page.evaluate("() => { document.querySelector('.jp-WindowedPanel-outer').scrollTop = 0; }")
    page.mouse.move(760, 500)  # over the notebook
    for _ in range(200):
        if box.count():
            break
        at = page.evaluate(scrolled)
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
        if page.evaluate(scrolled) == at:
            break
    box.wait_for()
    # text_content: a cell the windowed notebook has not laid out has no inner text yet
    assert box.locator(".myst-exercise-title").text_content().startswith("Exercise")
    assert "Store it in" in box.locator(".myst-exercise-body").text_content()
    rendered = page.locator(".jp-MarkdownCell .myst").all_text_contents()
    assert not any("{exercise}" in t or "{solution-start}" in t or "{figure}" in t
                   for t in rendered), "a MyST directive shows as raw text"


#: Run after the chapter's widget cell (whose widget is then IPython's ``_``): Python sets a
#: slider, and the widget must follow.
FROM_PYTHON = {"cell_type": "code", "execution_count": None, "id": "from-python",
               "metadata": {}, "outputs": [],
               "source": "nudge = _\nnudge.w2 = -0.75  # set from Python: the slider follows"}

# The chain widget shows the kernel's numbers for this slider at this value.
SHOWS_KERNEL = """([root, name, value]) => {
  const i = root.querySelector(`input[data-param="${name}"]`);
  return i.valueAsNumber === value
    && root.querySelector('[data-readout=source]').dataset.value === 'kernel';
}"""
ACTIVE_CELL = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
    .findIndex(c => c.classList.contains('jp-mod-active'))"""


def test_chain_chapter_in_jupyterlab_shows_its_myst_and_its_widget_follows_the_kernel(
        lab, lab_tab, lab_folder, tmp_path):
    """One visit, as a reader of `make lab` makes it: the chapter (all its prose, the code
    its widget needs) opens with the book's figure and exercise boxes (jupyterlab-myst),
    then Run All. The widget shows the kernel's numbers (the chapter's forward_backward,
    every readout checked against NumPy written here); a slider set from Python moves; the
    keyboard moves a slider, not the notebook's selection, and the kernel answers."""
    notebook = widget_notebook(CHAIN_NOTEBOOK, "ChainNudge(", lab_folder, prose=True,
                               after=(FROM_PYTHON,))
    page = lab_tab.open(notebook)
    myst_figure_renders(page)
    widget = run_all_until(page, ".bp-chain-nudge")
    # its kernel talks to Lab over local sockets, not TCP ports (lab_server.jupyter_lab)
    connections = [json.loads(f.read_text()) for f in
                   (lab.root.parent / "jupyter_runtime_dir").glob("kernel-*.json")]
    assert connections and {c["transport"] for c in connections} == {"ipc"}, connections
    root = widget.element_handle()
    page.wait_for_function(SHOWS_KERNEL, arg=[root, "w2", -0.75])  # Python -> front end
    assert_matches_numpy(widget.evaluate(READ), "Lab, as run", source="kernel")

    before = shown_values(widget)
    slider = widget.locator('input[data-param="w1"]')
    slider.scroll_into_view_if_needed()
    slider.focus()
    cell = page.evaluate(ACTIVE_CELL)
    for _ in range(25):
        page.keyboard.press("ArrowRight")
    moved = round(before["w1"] + 0.25, 10)
    expected = chain_cost(moved, *(before[k] for k in ("b1", "w2", "b2", "x", "y")))
    # Wait for the kernel's answer for the new position, never a fixed sleep.
    page.wait_for_function(
        """([root, want]) => {
          const c = root.querySelector('[data-readout="C"]');
          const src = root.querySelector('[data-readout="source"]');
          return src.dataset.value === 'kernel' && Math.abs(Number(c.dataset.value) - want) < 1e-9;
        }""",
        arg=[root, expected]
    )
    after = shown_values(widget)
    assert after["w1"] == pytest.approx(moved, abs=1e-9)
    assert after["C"] == pytest.approx(expected, abs=1e-12)
    assert after["C"] != pytest.approx(before["C"], abs=1e-9), (
        "the slider moved but the cost did not"
    )
    assert_matches_numpy(widget.evaluate(READ), "Lab, after the keyboard", source="kernel")
    b2 = widget.locator('input[data-param="b2"]')
    b2.focus()
    for key in ("ArrowDown", "ArrowUp", "ArrowUp", "PageUp"):  # Lab binds arrows to cell moves
        page.keyboard.press(key)
    assert page.evaluate(ACTIVE_CELL) == cell, "the arrow keys moved the notebook's selection"
    page.wait_for_function(SHOWS_KERNEL, arg=[root, "b2", b2.evaluate("i => i.valueAsNumber")])
    state = widget.evaluate(READ)
    assert state["values"]["b2"] > before["b2"], "the keyboard did not move the b2 slider"
    assert_matches_numpy(state, "Lab, after the arrow keys", source="kernel")
    page.screenshot(path=str(tmp_path / "lab.png"))
    myst_exercise_box_renders(page)
    page.screenshot(path=str(tmp_path / "lab-myst.png"))
    real_errors = lab_errors(lab_tab)
    assert not real_errors, "; ".join(real_errors)


NETWORK_NOTEBOOK = "two-two-two.ipynb"

NETWORK_STATE = """root => {
  const flat = [];
  root.querySelectorAll('[data-index][data-weight]').forEach(e => flat[Number(e.dataset.index)] = Number(e.dataset.weight));
  root.querySelectorAll('[data-index][data-bias]').forEach(e => flat[Number(e.dataset.index)] = Number(e.dataset.bias));
  const x = [...root.querySelectorAll('input[data-param^="x"]')].map(i => Number(i.nextElementSibling.dataset.value));
  const y = [...root.querySelectorAll('input[data-param^="y"]')].map(i => Number(i.nextElementSibling.dataset.value));
  return {flat, x, y, C: Number(root.querySelector('[data-readout="C"]').dataset.value),
          source: root.querySelector('[data-readout="source"]').dataset.value};
}"""


def network_cost(flat, x, y) -> float:
    """C = 1/2 sum (a2 - y)^2 of the 2-2-2 sigmoid network, from the flat W1, b1, W2, b2."""
    flat = np.asarray(flat, dtype=float)
    W1, b1, W2, b2 = flat[:4].reshape(2, 2), flat[4:6], flat[6:10].reshape(2, 2), flat[10:12]
    a2 = sigmoid(W2 @ sigmoid(W1 @ np.asarray(x) + b1) + b2)
    return float(0.5 * np.sum((a2 - np.asarray(y)) ** 2))


def test_network_widget_is_driven_by_the_kernel_in_jupyterlab(lab_tab, lab_folder, tmp_path):
    """The 2-2-2 chapter's widget cell and its setup, Run All: the widget shows the kernel's
    numbers (every readout checked against the reference); after 30 steps of the first
    weight's slider by the keyboard (Lab binds the arrows to cell moves; the widget keeps
    them), and after an input moved in the page, the kernel's new numbers."""
    notebook = widget_notebook(NETWORK_NOTEBOOK, "NetworkNudge(", lab_folder)
    page = lab_tab.open(notebook)
    widget = run_all_until(page, ".bp-network-nudge")
    widget.locator('[data-readout="source"][data-value="kernel"]').wait_for()
    before = widget.evaluate(NETWORK_STATE)
    assert len(before["flat"]) == 12 and before["C"] == pytest.approx(
        network_cost(before["flat"], before["x"], before["y"]), abs=1e-12)
    assert "computed by the kernel (NumPy)" in widget.locator("[data-readout=source]").inner_text()
    assert_network_matches(widget.evaluate(NETWORK_READ), [2, 2, 2], "sigmoid-mse",
                           "Lab, as run", source="kernel")

    slider = widget.locator('input[data-param="value"]')
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(30):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        """([root, old]) => {
          const c = Number(root.querySelector('[data-readout="C"]').dataset.value);
          const src = root.querySelector('[data-readout="source"]').dataset.value;
          return src === 'kernel' && Math.abs(c - old) > 1e-9;
        }""",
        arg=[widget.element_handle(), before["C"]]
    )
    after = widget.evaluate(NETWORK_STATE)
    assert after["source"] == "kernel"
    assert after["flat"][0] == pytest.approx(round(before["flat"][0], 2) - 0.30, abs=0.011)
    assert after["C"] == pytest.approx(network_cost(after["flat"], after["x"], after["y"]),
                                       abs=1e-12)
    assert_network_matches(widget.evaluate(NETWORK_READ), [2, 2, 2], "sigmoid-mse",
                           "Lab, after the keyboard", source="kernel")

    # front end -> Python -> the chapter's forward_backward -> front end
    x2 = -1.5 if after["x"][1] > 0 else 1.5
    widget.evaluate(MOVE_SLIDER, ["x2", x2])
    page.wait_for_function(
        """([root, x2, want]) => {
          const c = Number(root.querySelector('[data-readout="C"]').dataset.value);
          const src = root.querySelector('[data-readout="source"]').dataset.value;
          return src === 'kernel' && Math.abs(c - want) <= 1e-12;
        }""",
        arg=[widget.element_handle(), x2,
             network_cost(after["flat"], [after["x"][0], x2], after["y"])]
    )
    assert_network_matches(widget.evaluate(NETWORK_READ), [2, 2, 2], "sigmoid-mse",
                           "Lab, after x2", source="kernel")
    real_errors = lab_errors(lab_tab)
    assert not real_errors, "; ".join(real_errors)
