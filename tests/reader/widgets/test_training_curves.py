"""The TrainingCurves widget: its Python side (traits, validation, rerun) and its front end.

The grid used here is made by a small closed-form "training" written in this file (losses
that decay like a / (1 + k e)), not by the chapter, so the tests are fast and the values
the front end must show are known independently. The browser test loads the ES module in
a minimal local page with a fake anywidget model, moves the sliders (by script and by
keyboard), compares the displayed final accuracy with the grid, and saves a screenshot.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from backprop_book.widgets._assets import script
from backprop_book.widgets.training_curves import (
    CURVES,
    TrainingCurves,
    checked_curves,
    checked_grid,
    curve_grid,
)
from bookkit.browser import serve
from bookkit.paths import ROOT as REPO

STATIC = REPO / "backprop_book" / "widgets"
ETAS = [0.03, 0.1, 0.3, 1.0, 3.0]
SIZES = [16, 64, 256, 1024]
EPOCHS = 6


def fake_train(eta: float, batch_size: int, epochs: int, seed: int) -> dict[str, list[float]]:
    """Curves in closed form: faster decay for larger eta and smaller batches; seed shifts them."""
    e = np.arange(epochs + 1)
    k = eta * 40 / batch_size + 0.01 * seed
    train = 2.3 / (1 + k * e)
    return {
        "train_loss": train.tolist(),
        "test_loss": (train + 0.05 * (1 - np.exp(-e))).tolist(),
        "test_acc": (0.1 + 0.85 * (1 - np.exp(-k * e))).tolist(),
    }


@pytest.fixture(scope="module")
def grid() -> dict:
    return curve_grid(fake_train, ETAS, SIZES, EPOCHS, n_train=1347)


# ------------------------------------------------------------------ Python side


def test_grid_shape_and_values(grid):
    assert grid["learning_rates"] == ETAS and grid["batch_sizes"] == SIZES
    assert grid["epochs"] == EPOCHS and grid["n_train"] == 1347
    for key in CURVES:
        assert np.shape(grid[key]) == (len(ETAS), len(SIZES), EPOCHS + 1)
    assert grid["test_acc"][3][1] == pytest.approx(fake_train(1.0, 64, EPOCHS, 0)["test_acc"])
    json.dumps(grid)  # plain JSON, ready to sync


def test_widget_traits_and_selection(grid):
    w = TrainingCurves(grid, lr_index=2, bs_index=1)
    assert (w.lr_index, w.bs_index) == (2, 1)
    sel = w.selected
    assert sel["eta"] == 0.3 and sel["batch_size"] == 64
    assert sel["test_acc"][-1] == pytest.approx(fake_train(0.3, 64, EPOCHS, 0)["test_acc"][-1])
    w.lr_index = 4
    assert w.selected["eta"] == 3.0
    state = w.get_state()
    assert {"grid", "lr_index", "bs_index", "kernel"} <= set(state)


@pytest.mark.parametrize("name, value", [("lr_index", 5), ("bs_index", -1), ("lr_index", 99)])
def test_index_out_of_range(grid, name, value):
    w = TrainingCurves(grid)
    with pytest.raises(Exception, match=f"{name} must be in 0.."):
        setattr(w, name, value)


def test_nan_in_grid_is_refused_with_where(grid):
    bad = json.loads(json.dumps(grid))
    bad["test_loss"][1][2][3] = math.nan
    with pytest.raises(ValueError, match=r"eta=0.1, m=256: test_loss is nan at epoch 3"):
        checked_grid(bad)
    with pytest.raises(Exception, match="diverged"):
        TrainingCurves(bad)


def test_wrong_grid_shapes_are_refused(grid):
    short = json.loads(json.dumps(grid))
    short["train_loss"] = short["train_loss"][:-1]
    with pytest.raises(ValueError, match=r"has shape \(4, 4, 7\); expected .* \(5, 4, 7\)"):
        checked_grid(short)
    missing = {k: v for k, v in grid.items() if k != "test_acc"}
    with pytest.raises(ValueError, match="missing: test_acc"):
        checked_grid(missing)
    with pytest.raises(TypeError, match="grid must be a dict"):
        TrainingCurves([1, 2, 3])


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("learning_rates", [0.1, 0.1, 0.3, 1.0, 3.0], "strictly increasing"),
        ("learning_rates", [0.1, -0.3, 0.5, 1.0, 3.0], "positive finite"),
        ("batch_sizes", [16, 64.5, 256, 1024], "whole numbers"),
        ("epochs", 0, "epochs must be a whole number >= 1"),
        ("n_train", -4, "n_train must be"),
    ],
)
def test_axes_are_validated(grid, field, value, says):
    bad = dict(grid, **{field: value})
    with pytest.raises(ValueError, match=says):
        checked_grid(bad)


def test_curves_validation():
    good = fake_train(0.1, 16, 3, 0)
    assert checked_curves(good, 3)["test_acc"] == pytest.approx(good["test_acc"])
    with pytest.raises(ValueError, match=r"shape \(4,\); expected \(3,\)"):
        checked_curves(good, 2)
    with pytest.raises(ValueError, match=r"test_acc must lie in \[0.0, 1.0\]"):
        checked_curves(dict(good, test_acc=[0.1, 0.5, 1.2, 0.9]), 3)
    with pytest.raises(ValueError, match="test_loss is inf at epoch 2"):
        checked_curves(dict(good, test_loss=[1.0, 2.0, math.inf, 1.0]), 3)
    with pytest.raises(TypeError, match="must give a dict"):
        checked_curves([1, 2], 3)


def test_rerun_calls_train_with_a_new_seed(grid):
    calls = []

    def train(eta, m, epochs, seed):
        calls.append((eta, m, epochs, seed))
        return fake_train(eta, m, epochs, seed)

    w = TrainingCurves(grid, train=train, lr_index=1, bs_index=2)
    first, second = w.rerun(), w.rerun()
    assert calls == [(0.1, 256, EPOCHS, 1), (0.1, 256, EPOCHS, 2)]
    assert second["seed"] == 2 and (second["lr_index"], second["bs_index"]) == (1, 2)
    assert w.kernel["test_acc"] == pytest.approx(fake_train(0.1, 256, EPOCHS, 2)["test_acc"])
    assert first["test_acc"] != second["test_acc"]


def test_rerun_without_train_and_bad_train(grid):
    with pytest.raises(RuntimeError, match="without a train function"):
        TrainingCurves(grid).rerun()
    with pytest.raises(TypeError, match="train must be a function"):
        TrainingCurves(grid, train="not a function")
    w = TrainingCurves(grid, train=lambda *a: {"train_loss": [math.nan] * (EPOCHS + 1)})
    with pytest.raises(ValueError, match="missing: test_loss, test_acc"):
        w.rerun()


# ------------------------------------------------------------------ the front end, in Chromium

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TrainingCurves test</title>__ICON__
<link rel="stylesheet" href="card.css"><link rel="stylesheet" href="training_curves.css"></head>
<body style="margin:16px;background:#fff">
<main><div id="host"></div></main>
<script type="module">
import widget from "./training_curves.js";
const state = __STATE__;
const handlers = {};
window.sent = [];
window.saved = 0;
window.model = {
  get: (k) => state[k],
  set: (k, v) => {
    state[k] = v;
    for (const f of handlers["change:" + k] || []) f();
    for (const f of handlers["change"] || []) f();
  },
  on: (ev, f) => { (handlers[ev] = handlers[ev] || []).push(f); },
  off: (ev, f) => { handlers[ev] = (handlers[ev] || []).filter((g) => g !== f); },
  send: (msg) => { window.sent.push(msg); },
  save_changes: () => { window.saved += 1; },
  emit: (ev, msg) => { for (const f of handlers[ev] || []) f(msg); },
};
widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>
"""

READ = """() => {
  const root = document.querySelector('.bp-training-curves');
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => { out[e.dataset.readout] = e.dataset.value; });
  return out;
}"""

MOVE = """([name, value]) => {
  const input = document.querySelector(`input[data-param="${name}"]`);
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
}"""


@pytest.fixture()
def page_url(tmp_path, grid):
    (tmp_path / "training_curves.js").write_text(script("training_curves"))
    for name in ("card.css", "training_curves.css"):
        shutil.copy(STATIC / name, tmp_path / name)
    widget = TrainingCurves(grid, lr_index=0, bs_index=0)
    state = {k: getattr(widget, k) for k in ("grid", "lr_index", "bs_index", "kernel")}
    from browser import NO_ICON

    page = PAGE.replace("__STATE__", json.dumps(state)).replace("__ICON__", NO_ICON)
    (tmp_path / "index.html").write_text(page)
    with serve(tmp_path) as base:
        yield base


@pytest.mark.browser
def test_front_end_shows_the_selected_run(chromium, page_url, grid):
    from browser import open_logged_page

    from bookkit.paths import BUILD

    page, log = open_logged_page(chromium, page_url, width=900, height=1000)
    page.goto(page_url + "/index.html")
    page.wait_for_function("window.ready === true")
    shown = page.evaluate(READ)
    assert float(shown["final_test_acc"]) == pytest.approx(grid["test_acc"][0][0][-1], abs=1e-12)
    assert page.evaluate("window.sent") == [{"type": "ping"}]

    for i, j in [(3, 1), (4, 3), (1, 2)]:
        page.evaluate(MOVE, ["lr_index", i])
        page.evaluate(MOVE, ["bs_index", j])
        shown = page.evaluate(READ)
        assert page.evaluate("[model.get('lr_index'), model.get('bs_index')]") == [i, j]
        assert float(shown["final_test_acc"]) == pytest.approx(grid["test_acc"][i][j][-1], abs=1e-12)
        assert float(shown["final_test_loss"]) == pytest.approx(grid["test_loss"][i][j][-1], abs=1e-12)
        assert float(shown["eta"]) == grid["learning_rates"][i]
        assert int(shown["batch_size"]) == grid["batch_sizes"][j]
        assert int(shown["steps_per_epoch"]) == math.ceil(1347 / grid["batch_sizes"][j])

    page.focus('input[data-param="bs_index"]')  # the keyboard moves a slider too
    page.keyboard.press("ArrowRight")
    assert page.evaluate("model.get('bs_index')") == 3
    shown = page.evaluate(READ)
    assert float(shown["final_test_acc"]) == pytest.approx(grid["test_acc"][1][3][-1], abs=1e-12)
    assert page.evaluate("window.saved") > 0

    labels = page.eval_on_selector_all("label", "ls => ls.map(l => l.textContent)")
    assert labels == ["learning rate η", "batch size m"]
    legend = page.inner_text(".bp-legend")
    assert "solid" in legend and "dashed" in legend and "dotted" in legend
    assert page.is_hidden(".bp-kernel"), "no kernel answered: no rerun button"

    out = BUILD / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.locator(".bp-training-curves").screenshot(path=str(out / "training_curves.png"))
    assert not log.problems(), log.problems()


@pytest.mark.browser
def test_front_end_shows_a_kernel_rerun(chromium, page_url, grid):
    from browser import open_logged_page

    rerun = fake_train(grid["learning_rates"][0], grid["batch_sizes"][0], EPOCHS, 1)
    page, log = open_logged_page(chromium, page_url)
    page.goto(page_url + "/index.html")
    page.wait_for_function("window.ready === true")
    page.evaluate("model.emit('msg:custom', {type: 'pong', can_rerun: true})")
    assert page.is_visible(".bp-kernel button")
    page.click(".bp-kernel button")
    assert page.evaluate("window.sent.at(-1)") == {"type": "rerun"}
    kernel = {"lr_index": 0, "bs_index": 0, "seed": 1, **rerun}
    page.evaluate("k => model.set('kernel', k)", kernel)
    shown = page.evaluate(READ)
    assert float(shown["kernel_status"]) == pytest.approx(rerun["test_acc"][-1], abs=1e-12)
    assert page.is_visible('.bp-series.bp-rerun >> nth=0')
    page.evaluate(MOVE, ["lr_index", 2])  # another pair: the rerun is not its curve
    assert page.is_hidden('.bp-series.bp-rerun >> nth=0')
    assert not log.problems(), log.problems()
