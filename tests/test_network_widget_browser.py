"""NetworkNudge in the built book: live with no kernel, numbers equal to the NumPy reference.

For the 2-2-2 chapter (sigmoid, squared error) and the softmax chapter (softmax,
cross-entropy), the page's saved widget state is rendered by the shipped html-manager and
the widget's JavaScript must recompute everything on each move. Each test moves sliders and
choices, reads every displayed number (activations, deltas, every weight's gradient, the
cost, the nudge's predicted and actual change) and compares them with
``backprop_book.reference`` computed here. Redraw times are measured in the page; screenshots
before and after a nudge go to ``_build/screenshots/``.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from browser import browser, open_logged_page
from conftest import BUILD

from backprop_book import reference as ref
from backprop_book.network_widget import activations, cost_name, param_names

pytestmark = pytest.mark.browser

PAGES = {"two-two-two": "book/two-two-two.html", "softmax": "book/softmax-four-layer.html"}
ROOT = ".bp-network-nudge"
FRAME_MS = 16.0

READ = """root => {
  const numbers = {};
  root.querySelectorAll('[data-readout]').forEach(e => { numbers[e.dataset.readout] = e.dataset.value; });
  return {numbers, redraws: Number(root.dataset.redraws), ms: Number(root.dataset.lastUpdateMs)};
}"""

# The widget's own state, read from the model through the DOM it drew: sizes from the
# diagram, values from the sliders' outputs are not enough (rounding), so we ask the view.
STATE = """root => {
  const v = {};
  v.param = Number(root.querySelector('select[data-control=param]').value);
  v.value = Number(root.querySelector('input[data-param=value]').value);
  return v;
}"""

MOVE = """(root, [key, value]) => {
  const input = root.querySelector(`input[data-param="${key}"]`);
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  return Number(root.dataset.lastUpdateMs);
}"""

CHOOSE = """(root, [control, value]) => {
  const select = root.querySelector(`select[data-control="${control}"]`);
  select.value = String(value);
  select.dispatchEvent(new Event('change', {bubbles: true}));
  return Number(root.dataset.lastUpdateMs);
}"""


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def saved_state(built_book, page_path):
    """The widget's saved model state in the built page (what the reader starts from)."""
    import json
    import re

    html = (built_book / page_path).read_text()
    blob = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert blob, f"{page_path} carries no widget state"
    states = json.loads(blob.group(1))["state"]
    mine = [s["state"] for s in states.values() if "flat" in s["state"] and "sizes" in s["state"]]
    assert len(mine) == 1, f"{page_path}: expected one NetworkNudge, found {len(mine)}"
    return mine[0]


def expected(state: dict) -> dict[str, float]:
    """Every number the widget shows, from the reference implementation."""
    sizes, output = state["sizes"], state["output"]
    like = [(np.zeros((n, m)), np.zeros((n, 1))) for m, n in zip(sizes, sizes[1:], strict=False)]
    params = ref.unflatten(np.array(state["flat"]), like)
    x = np.array(state["x"]).reshape(-1, 1)
    y = np.array(state["y"]).reshape(-1, 1)
    acts, cost = activations(sizes, output), cost_name(output)
    cache = ref.forward(params, x, acts)
    deltas = ref.backward_deltas(params, cache, y, acts, cost)
    C, grads = ref.loss_and_grads(params, x, y, acts, cost)
    flat_grad = ref.flatten(grads)
    moved = np.array(state["flat"])
    moved[state["param"]] += state["step"]
    C_after = ref.loss(ref.unflatten(moved, like), x, y, acts, cost)
    out = {"C": C, "gradient": flat_grad[state["param"]],
           "predicted_change": flat_grad[state["param"]] * state["step"], "actual_change": C_after - C}
    for layer in range(len(sizes)):
        for j in range(sizes[layer]):
            out[f"a{layer}_{j + 1}"] = cache.as_[layer][j, 0]
            if layer:
                out[f"delta{layer}_{j + 1}"] = deltas[layer][j, 0]
    for i, name in enumerate(param_names(sizes)):
        if name.startswith("W"):
            layer, jk = name[1:].split("[")
            j, k = jk.rstrip("]").split(",")
            out[f"dW{layer}_{j}_{k}"] = flat_grad[i]
    if output == "softmax-ce":
        for j in range(sizes[-1]):
            out[f"s{j + 1}"] = cache.as_[-1][j, 0]
            out[f"s_minus_y{j + 1}"] = cache.as_[-1][j, 0] - y[j, 0]
    return {k: float(v) for k, v in out.items()}


def assert_matches(numbers: dict, state: dict, where: str) -> None:
    want = expected(state)
    for key, value in want.items():
        assert key in numbers, f"{where}: the widget shows no {key}"
        got = float(numbers[key])
        assert abs(got - value) <= 1e-9 * max(1.0, abs(value)), f"{where}: {key} shows {got!r}, NumPy says {value!r}"
    assert numbers["source"] == "browser", f"{where}: the static page must compute in the browser"


@pytest.mark.parametrize("chapter", PAGES)
def test_network_widget_is_live_and_right(chapter, chromium, book_server, built_book):
    page_path = PAGES[chapter]
    state = dict(saved_state(built_book, page_path))
    page, log = open_logged_page(chromium, book_server, height=1400)
    page.goto(f"{book_server}/{page_path}")
    root = page.wait_for_selector(f"{ROOT}[data-redraws]", timeout=30_000)
    root.scroll_into_view_if_needed()
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(shots / f"widget-{chapter}-before.png"))
    assert_matches(root.evaluate(READ)["numbers"], state, f"{chapter}, as saved")

    times = []
    names = param_names(state["sizes"])
    rng = np.random.default_rng(7)
    for index in (0, len(names) - 1, int(rng.integers(len(names)))):  # first, last, one more
        times.append(root.evaluate(CHOOSE, ["param", index]))
        state["param"] = index
        for value in (-2.5, 0.37, 1.9):
            times.append(root.evaluate(MOVE, ["value", value]))
            state["flat"] = list(state["flat"])
            state["flat"][index] = value
            assert_matches(root.evaluate(READ)["numbers"], state, f"{chapter}, {names[index]} = {value}")
    times.append(root.evaluate(MOVE, ["x1", -1.2]))
    state["x"] = [-1.2, *state["x"][1:]]
    times.append(root.evaluate(MOVE, ["step", 0.05]))
    state["step"] = 0.05
    if state["output"] == "softmax-ce":
        times.append(root.evaluate(CHOOSE, ["class", 0]))
        state["y"] = [1.0] + [0.0] * (len(state["y"]) - 1)
    else:
        times.append(root.evaluate(MOVE, ["y2", 0.85]))
        state["y"] = [state["y"][0], 0.85]
    assert_matches(root.evaluate(READ)["numbers"], state, f"{chapter}, after inputs moved")
    root.screenshot(path=str(shots / f"widget-{chapter}-after.png"))

    median = statistics.median(times)
    print(f"{chapter}: median redraw {median:.2f} ms over {len(times)} updates")
    assert median < FRAME_MS, f"{chapter}: median redraw {median:.1f} ms, over one frame"
    assert not log.problems(), log.problems()


def test_keyboard_moves_the_value_slider(chromium, book_server, built_book):
    page_path = PAGES["two-two-two"]
    state = dict(saved_state(built_book, page_path))
    page, _ = open_logged_page(chromium, book_server, height=1400)
    page.goto(f"{book_server}/{page_path}")
    root = page.wait_for_selector(f"{ROOT}[data-redraws]", timeout=30_000)
    slider = root.query_selector("input[data-param=value]")
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    value = float(slider.evaluate("i => i.value"))
    assert abs(value - (state["flat"][state["param"]] + 0.1)) < 0.011
    state["flat"] = list(state["flat"])
    state["flat"][state["param"]] = value
    assert_matches(root.evaluate(READ)["numbers"], state, "after ten ArrowRight presses")
