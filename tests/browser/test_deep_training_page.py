"""The deep-training chapter's two widgets in the built page: live with no kernel.

OptimizerRace computes its paths in JavaScript; every number it shows must equal an
independent NumPy computation of the three update rules (written here) for the slider
values on screen. DepthSpread draws precomputed spreads; every selection must show
exactly the saved grid's numbers. Both must work by keyboard, pass axe-core, and load
nothing beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser import assert_readable_and_axe_clean, open_logged_page

from bookkit.paths import BUILD

pytestmark = pytest.mark.browser

PAGE = "book/making-deep-networks-train.html"

SET_AND_READ = """(root, [settings]) => {
  for (const [key, value] of Object.entries(settings)) {
    const input = root.querySelector(`input[data-param="${key}"]`);
    input.value = String(value);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  return out;
}"""
READ = """root => {
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  return out;
}"""


def saved_states(built_book) -> list[dict]:
    html = (built_book / PAGE).read_text()
    blob = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert blob, f"{PAGE} carries no widget state"
    return [s["state"] for s in json.loads(blob.group(1))["state"].values()]


def saved(built_book, key: str) -> dict:
    states = [s for s in saved_states(built_book) if key in s]
    assert len(states) == 1, f"expected one widget with {key!r}, found {len(states)}"
    return states[0]


def numpy_race(H, start, eta, beta, steps):
    """Final points of gradient descent, momentum and Adam, written here independently."""
    H = np.asarray(H, dtype=float)
    w = {k: np.asarray(start, dtype=float) for k in ("gd", "momentum", "adam")}
    v = m = s = np.zeros(2)
    for t in range(1, steps + 1):
        w["gd"] = w["gd"] - eta * (H @ w["gd"])
        v = beta * v + H @ w["momentum"]
        w["momentum"] = w["momentum"] - eta * v
        g = H @ w["adam"]
        m, s = beta * m + (1 - beta) * g, 0.999 * s + 0.001 * g**2
        w["adam"] = w["adam"] - eta * (m / (1 - beta**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return w


def assert_race_matches(shown, state, eta, beta):
    want = numpy_race(state["hessian"], state["start"], eta, beta, state["steps"])
    H = np.asarray(state["hessian"])
    for name, w in want.items():
        where = f"eta = {eta}, beta = {beta}, {name}"
        assert float(shown[f"{name}_x"]) == pytest.approx(w[0], rel=1e-9, abs=1e-12), where
        assert float(shown[f"{name}_y"]) == pytest.approx(w[1], rel=1e-9, abs=1e-12), where
        assert float(shown[f"{name}_cost"]) == pytest.approx(0.5 * w @ H @ w, rel=1e-9, abs=1e-15), where


@pytest.fixture(scope="module")
def page(built_book, book_server, worker_chromium):
    page, log = open_logged_page(worker_chromium, book_server, height=1400)
    page.goto(f"{book_server}/{PAGE}")
    page.wait_for_selector(".bp-optimizer-race[data-redraws]")
    page.wait_for_selector(".bp-depth-spread[data-redraws]")
    yield page, log
    page.close()


def test_race_paths_equal_numpy_for_every_slider_setting(built_book, page):
    page, log = page
    state = saved(built_book, "hessian")
    root = page.locator(".bp-optimizer-race").element_handle()
    shown = root.evaluate(READ)
    assert shown["source"] == "browser", "no kernel in the static page: the browser computes"
    assert_race_matches(shown, state, state["eta"], state["beta"])
    for eta, beta in ((0.005, 0.0), (0.1, 0.5), (0.17, 0.0), (0.25, 0.99), (0.06, 0.9)):
        shown = root.evaluate(SET_AND_READ, [{"eta": eta, "beta": beta}])
        assert float(shown["eta"]) == eta and float(shown["beta"]) == beta
        assert_race_matches(shown, state, eta, beta)
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(shots / "widget-optimizer-race.png"))
    assert not log.problems(), log.problems()


def test_race_sliders_move_by_keyboard(built_book, page):
    page, _ = page
    state = saved(built_book, "hessian")
    root = page.locator(".bp-optimizer-race")
    root.element_handle().evaluate(SET_AND_READ, [{"eta": 0.05, "beta": 0.5}])
    slider = root.locator('input[data-param="eta"]')
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    shown = root.element_handle().evaluate(READ)
    assert float(shown["eta"]) == pytest.approx(0.07, abs=1e-12)
    assert_race_matches(shown, state, float(shown["eta"]), 0.5)


def test_depth_widget_shows_the_saved_grid(built_book, page):
    page, log = page
    grid = saved(built_book, "grid")["grid"]
    assert "spreads" in grid, "the DepthSpread grid"
    root = page.locator(".bp-depth-spread").element_handle()
    depth = grid["depth"]
    for act in grid["activations"]:
        root.evaluate("(r, a) => { const i = r.querySelector(`input[value=\"${a}\"]`); i.checked = true; "
                      "i.dispatchEvent(new Event('change', {bubbles: true})); }", act)
        for i, c in enumerate(grid["scales"]):
            shown = root.evaluate(SET_AND_READ, [{"scale_index": i}])
            sp = grid["spreads"][act]
            assert float(shown["scale"]) == c
            for key, want in (("z_first", sp["z"][i][0]), ("z_last", sp["z"][i][depth - 1]),
                              ("delta_first", sp["delta"][i][0]), ("delta_last", sp["delta"][i][depth - 1])):
                assert float(shown[key]) == pytest.approx(want, rel=1e-12), f"{act}, c = {c}: {key}"
    relu = grid["spreads"]["relu"]
    lo, hi = grid["scales"].index(0.7), grid["scales"].index(1.4)
    assert relu["z"][lo][-1] < 0.05 * relu["z"][lo][0] and relu["z"][hi][-1] > 20 * relu["z"][hi][0]
    root.screenshot(path=str(BUILD / "screenshots" / "widget-depth-spread.png"))
    assert not log.problems(), log.problems()


def test_widgets_are_readable_and_pass_axe(page):
    page, _ = page
    assert_readable_and_axe_clean(page, ".bp-optimizer-race", ".bp-depth-spread")
