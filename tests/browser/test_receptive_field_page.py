"""The convolution chapter's widget in the built page: live with no kernel.

ReceptiveField computes in JavaScript; for every mode, stride, cell and nudge tried here,
each number it shows must equal a NumPy computation written in this file (the layer as a
loop over windows, centered differences of C = sum(G * y) for the gradient entry). It
must work by keyboard, pass axe-core, and load nothing beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser import assert_readable_and_axe_clean, open_logged_page

from bookkit.paths import BUILD

pytestmark = pytest.mark.browser

PAGE = "book/convolution.html"
READ = """root => {
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  out.g = [...root.querySelectorAll('.bp-g td')].map(td => Number(td.dataset.g));
  out.cells = [...root.querySelectorAll('.bp-y td')].map(td => [Number(td.dataset.row),
    Number(td.dataset.col), td.dataset.reached === 'true', td.dataset.change]);
  return out;
}"""
SET = """(root, [mode, stride, row, col, nudge]) => {
  const pick = (name, value) => {
    const r = [...root.querySelectorAll('input[type=radio]')].find(i => i.name.endsWith(name) && i.value === String(value));
    r.checked = true; r.dispatchEvent(new Event('change', {bubbles: true}));
  };
  pick('mode', mode); pick('stride', stride);
  root.querySelector(`button[data-grid="${mode === 'input' ? 'x' : 'k'}"][data-row="${row}"][data-col="${col}"]`).click();
  const s = root.querySelector('input[data-param="nudge"]');
  s.value = String(nudge); s.dispatchEvent(new Event('input', {bubbles: true}));
}"""


def saved_state(built_book) -> dict:
    html = (built_book / PAGE).read_text()
    blob = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert blob, f"{PAGE} carries no widget state"
    states = [s["state"] for s in json.loads(blob.group(1))["state"].values() if "g" in s["state"]]
    assert len(states) == 1, "one ReceptiveField on the page"
    return states[0]


def numpy_view(state, mode, stride, row, col, nudge):
    """What the widget must show, computed here: loops over windows, centered differences."""
    x, k, g = (np.array(state[n], dtype=float) for n in ("x", "k", "g"))
    G = g[::stride, ::stride]

    def layer(xx, kk):
        return np.array([[np.sum(kk * xx[stride * i:stride * i + 3, stride * j:stride * j + 3])
                          for j in range(G.shape[1])] for i in range(G.shape[0])])

    which = x if mode == "input" else k
    bumped = which.copy()
    bumped[row, col] += nudge
    after = layer(bumped, k) if mode == "input" else layer(x, bumped)
    change = after - layer(x, k)
    h = 1e-6
    up, down = which.copy(), which.copy()
    up[row, col] += h
    down[row, col] -= h
    cost = (lambda w: np.sum(G * layer(w, k))) if mode == "input" else (lambda w: np.sum(G * layer(x, w)))
    return change, float(np.sum(G * change)), float((cost(up) - cost(down)) / (2 * h))


@pytest.fixture(scope="module")
def page(built_book, book_server, worker_chromium):
    page, log = open_logged_page(worker_chromium, book_server, height=1400)
    page.goto(f"{book_server}/{PAGE}")
    page.wait_for_selector(".bp-receptive-field[data-redraws]")
    yield page, log
    page.close()


@pytest.mark.parametrize(("mode", "stride", "row", "col", "nudge"), [
    ("input", 1, 2, 3, 0.5), ("input", 1, 0, 0, -0.35), ("input", 2, 2, 2, 0.8),
    ("input", 2, 5, 5, 1.0), ("kernel", 1, 1, 1, 0.25), ("kernel", 2, 0, 2, -0.9),
])
def test_every_number_equals_numpy(built_book, page, mode, stride, row, col, nudge):
    page, log = page
    state = saved_state(built_book)
    root = page.locator(".bp-receptive-field").element_handle()
    root.evaluate(SET, [mode, stride, row, col, nudge])
    shown = root.evaluate(READ)
    change, dC, gradient = numpy_view(state, mode, stride, row, col, nudge)
    assert shown["cell"] == f"{mode}:{row},{col}"
    g_shown = np.array(state["g"], dtype=float)[::stride, ::stride].ravel()
    assert np.array_equal(np.array(shown["g"]), g_shown), "the table of G at this stride"
    assert float(shown["dC"]) == pytest.approx(dC, abs=1e-12)
    assert float(shown["gradient"]) == pytest.approx(gradient, rel=1e-6, abs=1e-8)
    assert float(shown["eps_times_gradient"]) == pytest.approx(dC, abs=1e-9)
    for i, j, reached, text in shown["cells"]:
        if reached:
            assert float(text) == pytest.approx(change[i, j], abs=1e-12)
        else:
            assert change[i, j] == 0 and mode == "input"
    held = sum(r for *_, r, _ in shown["cells"])
    assert int(shown["moved"]) == held
    if (mode, stride, row) == ("input", 2, 5):
        assert held == 0, "no stride-2 window holds the last pixel"
    assert not log.problems(), log.problems()


def test_cells_and_slider_work_by_keyboard(built_book, page):
    page, _ = page
    state = saved_state(built_book)
    root = page.locator(".bp-receptive-field")
    root.element_handle().evaluate(SET, ["input", 1, 0, 0, 0.5])
    root.locator('button[data-grid="x"][data-row="3"][data-col="1"]').focus()
    page.keyboard.press("Enter")
    slider = root.locator('input[data-param="nudge"]')
    slider.focus()
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    shown = root.element_handle().evaluate(READ)
    assert shown["cell"] == "input:3,1" and float(shown["nudge"]) == pytest.approx(0.6)
    _, dC, _ = numpy_view(state, "input", 1, 3, 1, 0.6)
    assert float(shown["dC"]) == pytest.approx(dC, abs=1e-9)
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(shots / "widget-receptive-field.png"))


def test_widget_is_readable_and_passes_axe(page):
    page, _ = page
    assert_readable_and_axe_clean(page, ".bp-receptive-field")
