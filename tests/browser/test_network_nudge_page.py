"""NetworkNudge in Chromium: the front end alone and the built chapters.

1. A minimal local page loads ``network_nudge.js`` as it is today with a fake anywidget
   model (get/set/on/off/send/save_changes), for a 2-2-2 sigmoid network and for two
   softmax networks. Every slider is moved to several positions; every number shown
   (activations, deltas, every gradient, C, the nudge's predicted and actual change, the
   softmax bars) must equal ``backprop_book.reference`` to 1e-9; screenshots before and
   after a nudge go to ``_build/screenshots/`` (how long a redraw takes is measured by
   ``make bench-pages``, never judged by a test).
2. The built chapter pages (``book/two-two-two.html``, ``book/softmax-four-layer.html``),
   drawn by the book's widget runtime (static-widgets.js) from their saved widget state, with no kernel and
   no network; skipped when the page is not in ``_build/html`` (this file never builds).

The 2-2-2 chapter's widget with a live kernel, in JupyterLab, is tested in
tests/class/test_lab_widgets.py.

The widget's state is read back from the page and its numbers recomputed from the reference
(tests/support/network_widget.py), so the comparison never trusts the page's own maths.
"""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest
from browser import AXE_ON_ELEMENT, NO_ICON, TEXT_SIZES, open_logged_page, settled
from browser import MOVE_SLIDER as MOVE
from network_widget import READ, assert_matches_numpy

from backprop_book import reference as ref
from backprop_book.widgets._assets import script, stylesheet
from backprop_book.widgets.network_nudge import (
    NetworkNudge,
    activations,
    cost_name,
    param_names,
    shapes_like,
)
from bookkit.browser import serve
from bookkit.paths import BUILD
from bookkit.paths import ROOT as REPO

pytestmark = pytest.mark.browser

STATIC = REPO / "backprop_book" / "widgets"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = BUILD / "screenshots"
ROOT = ".bp-network-nudge"
PAGES = {"two-two-two": "book/two-two-two.html", "softmax": "book/softmax-four-layer.html"}
SLIDER_RANGES = {"value": (-4, 4), "step": (0.01, 1), "x": (-3, 3), "y": (0, 1)}

CASES = {  # name: sizes, output, parameter nudged at first
    "222-mse": ([2, 2, 2], "sigmoid-mse", "W1[1,1]"),
    "4333-ce": ([4, 3, 3, 3], "softmax-ce", "b3[2]"),
    "2333-ce": ([2, 3, 3, 3], "softmax-ce", "W2[3,1]"),
}

# --- reading the page -------------------------------------------------------------------

CHOOSE = """(root, [control, value]) => {
  const select = root.querySelector(`select[data-control="${control}"]`);
  select.value = String(value);
  select.dispatchEvent(new Event('change', {bubbles: true}));
}"""

# Where (in viewport pixels) a point t of the way along edge i is drawn.
EDGE_POINT = """(root, [i, t]) => {
  const line = root.querySelector(`line.bp-wedge[data-index="${i}"]`);
  const v = k => Number(line.getAttribute(k));
  const p = new DOMPoint(v('x1') + t * (v('x2') - v('x1')), v('y1') + t * (v('y2') - v('y1')));
  const q = p.matrixTransform(line.getScreenCTM());
  return [q.x, q.y];
}"""

# --- a minimal page with a fake anywidget model -------------------------------------------

HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NetworkNudge test page</title>__ICON__
<link rel="stylesheet" href="card.css"><link rel="stylesheet" href="network_nudge.css"></head>
<body style="margin: 12px; background: #fff"><main><h1 style="font: 600 18px sans-serif">
NetworkNudge, front end alone</h1><div id="widget"></div></main>
<script type="module">
import widget from "./network_nudge.js";
// The part of anywidget's model a widget uses; "change" fires synchronously, as Backbone's.
function fakeModel(initial) {
  const data = structuredClone(initial), handlers = {}, sent = [], saved = [];
  const fire = (event, ...args) => (handlers[event] || []).slice().forEach((h) => h(...args));
  return {
    get: (key) => data[key],
    set(changes, value) {
      if (typeof changes === "string") changes = { [changes]: value };
      const changed = Object.keys(changes).filter((k) => JSON.stringify(data[k]) !== JSON.stringify(changes[k]));
      Object.assign(data, structuredClone(changes));
      changed.forEach((k) => fire("change:" + k));
      if (changed.length) fire("change");
    },
    on(event, h) { (handlers[event] ||= []).push(h); },
    off(event, h) { handlers[event] = (handlers[event] || []).filter((x) => x !== h); },
    send(msg) { sent.push(msg); },
    save_changes() { saved.push(structuredClone(data)); },
    fire, sent, saved,
  };
}
window.mount = (state) => {
  const el = document.getElementById("widget");
  el.replaceChildren();
  window.model = fakeModel(state);
  widget.render({ model: window.model, el });
};
window.harnessReady = true;
</script></body></html>
"""


@functools.cache
def harness_state(case: str) -> dict:
    """A widget's synced state, made by the Python class (seeded), as the front end gets it."""
    sizes, output, param = CASES[case]
    rng = np.random.default_rng(sum(sizes))
    params = ref.init_params(sizes, seed=sum(sizes), scale=1.0)
    x = np.round(rng.uniform(-2, 2, sizes[0]), 2)
    y = np.eye(sizes[-1])[1] if output == "softmax-ce" else np.round(rng.uniform(0, 1, 2), 2)
    w = NetworkNudge(params=params, x=x, y=y, output=output, param=param, step=0.5)
    keys = ("sizes", "output", "flat", "x", "y", "param", "step", "kernel")
    return {k: v for k, v in w.get_state().items() if k in keys}



@pytest.fixture(scope="module")
def harness_server(tmp_path_factory):
    """Serve the page and today's network_nudge.js/.css from a temp folder on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("harness")
    (folder / "index.html").write_text(HARNESS.replace("__ICON__", NO_ICON))
    (folder / "network_nudge.js").write_text(script("network_nudge"))
    for name in ("card.css", "network_nudge.css"):
        (folder / name).write_bytes((STATIC / name).read_bytes())
    with serve(folder) as base:
        yield base


@pytest.fixture(params=list(CASES))
def harness(request, chromium, harness_server):
    """(page, root element handle, sizes, output) for one case; no page errors allowed."""
    case = request.param
    page, log = open_logged_page(chromium, harness_server, width=900, height=1400)
    page.goto(f"{harness_server}/index.html")
    page.wait_for_function("() => window.harnessReady")
    page.evaluate("state => window.mount(state)", harness_state(case))
    root = page.wait_for_selector(f"{ROOT}[data-redraws]")
    sizes, output, _ = CASES[case]
    yield page, root, sizes, output, case
    page.close()
    assert not log.problems(), "; ".join(log.problems())


def test_harness_loads_labelled_readable_and_right(harness):
    page, root, sizes, output, case = harness
    assert_matches_numpy(root.evaluate(READ), sizes, output, f"{case} as loaded")
    controls = root.evaluate(
        "r => [...r.querySelectorAll('input, select')].map(i => [i.id, i.labels.length, "
        "i.getAttribute('data-lm-suppress-shortcuts')])"
    )
    n_sliders = 2 + sizes[0] + (0 if output == "softmax-ce" else sizes[-1])
    assert len(controls) == n_sliders + 1 + (output == "softmax-ce"), controls
    assert all(n == 1 and keys == "true" for _, n, keys in controls), controls
    small = [(t, round(px, 1)) for t, px in root.evaluate(TEXT_SIZES) if px < 12]
    assert not small, f"text smaller than 12 px: {small}"
    svgs = root.query_selector_all("svg[role=img]")
    assert len(svgs) == 1 + (output == "softmax-ce")
    for s in svgs:
        assert len(s.get_attribute("aria-label")) > 60
    label = root.query_selector("[data-readout=source]")
    assert label.text_content() == "Numbers computed in your browser (JavaScript)"
    assert root.evaluate("r => r.ownerDocument.defaultView.model.sent") == [{"type": "ping"}]


def slider_positions(name: str, seed: int) -> list[float]:
    lo, hi = SLIDER_RANGES[name.rstrip("0123456789")]
    return [lo, hi, *np.round(np.random.default_rng(seed).uniform(lo, hi, 2), 2)]


def test_every_slider_recomputes_like_numpy(harness):
    """The value slider for every parameter, then Δ and every input and target slider."""
    page, root, sizes, output, case = harness
    names = param_names(sizes)
    for i, name in enumerate(names):
        root.evaluate(CHOOSE, ["param", i])
        for value in slider_positions("value", i)[: 2 if i % 3 else 4]:
            before = root.evaluate(READ)["redraws"]
            root.evaluate(MOVE, ["value", float(value)])
            read = root.evaluate(READ)
            assert read["redraws"] > before and read["state"]["param"] == i
            assert read["state"]["flat"][i] == pytest.approx(float(value), abs=1e-12)
            assert_matches_numpy(read, sizes, output, f"{case}: {name} = {value}")
    keys = ["step", *(f"x{k + 1}" for k in range(sizes[0]))]
    keys += [] if output == "softmax-ce" else [f"y{j + 1}" for j in range(sizes[-1])]
    for seed, key in enumerate(keys):
        for value in slider_positions(key, seed):
            root.evaluate(MOVE, [key, float(value)])
            read = root.evaluate(READ)
            shown = (
                read["state"]["step"] if key == "step" else read["state"][key[0]][int(key[1:]) - 1]
            )
            assert shown == pytest.approx(float(value), abs=1e-12), key
            assert_matches_numpy(read, sizes, output, f"{case}: {key} = {value}")
    if output == "softmax-ce":
        for j in range(sizes[-1]):
            root.evaluate(CHOOSE, ["class", j])
            read = root.evaluate(READ)
            assert read["state"]["y"] == [float(k == j) for k in range(sizes[-1])]
            assert_matches_numpy(read, sizes, output, f"{case}: true class {j + 1}")


def test_clicking_an_edge_or_a_neuron_selects_its_parameter(harness):
    page, root, sizes, output, case = harness
    names = param_names(sizes)
    for i in [k for k, n in enumerate(names) if n.startswith("W")][::3]:
        page.mouse.click(*root.evaluate(EDGE_POINT, [i, 0.36]))
        read = root.evaluate(READ)
        assert read["state"]["param"] == i, (
            f"clicked {names[i]}, got {names[read['state']['param']]}"
        )
        assert_matches_numpy(read, sizes, output, f"{case}: clicked {names[i]}")
        chosen = root.query_selector(".bp-chosen text").text_content()
        assert chosen.startswith(
            re.sub(r"W(\d)", lambda m: "W" + "⁰¹²³⁴⁵⁶⁷⁸⁹"[int(m[1])], names[i])
        )
    for i in [k for k, n in enumerate(names) if n.startswith("b")]:
        root.query_selector(f'circle[data-index="{i}"]').click()
        assert root.evaluate(READ)["state"]["param"] == i, f"clicked the neuron of {names[i]}"
    assert root.query_selector_all(".bp-bias.bp-chosen") and root.query_selector(
        "circle.bp-chosen-node"
    ), "the chosen bias is not marked"


def test_keyboard_moves_sliders_and_picks_parameters(harness):
    page, root, sizes, output, case = harness
    picker = root.query_selector("select[data-control=param]")
    picker.focus()
    start = root.evaluate(READ)["state"]["param"]
    page.keyboard.press("ArrowDown")
    assert root.evaluate(READ)["state"]["param"] == start + 1, "ArrowDown on the picker"
    slider = root.query_selector("input[data-param=value]")
    slider.focus()
    for key in ("ArrowRight", "ArrowRight", "PageUp", "ArrowLeft", "PageDown", "Home", "End"):
        before = root.evaluate(READ)["state"]["value"]
        page.keyboard.press(key)
        read = root.evaluate(READ)
        now = read["state"]["value"]
        assert now == read["state"]["slider_value"]
        if key in ("ArrowRight", "PageUp"):
            assert now > before, f"{key} did not raise the value"
        if key in ("ArrowLeft", "PageDown"):
            assert now < before, f"{key} did not lower the value"
        assert_matches_numpy(read, sizes, output, f"{case}: value after {key}")
    assert now == float(slider.get_attribute("max"))


def test_kernel_numbers_are_shown_while_they_fit_the_screen(harness):
    """A pong and a kernel trait for the values on screen switch the label to the kernel."""
    page, root, sizes, output, case = harness
    state = harness_state(case)
    sent_values = {**state, "flat": [v * 0.9 for v in state["flat"]]}
    params = ref.unflatten(np.array(sent_values["flat"]), shapes_like(sizes))

    def fb(p, x, y):  # the kernel's numbers: the reference, shaped as a chapter returns them
        acts, cost = activations(sizes, output), cost_name(output)
        cache = ref.forward(p, x, acts)
        grads = ref.backward(p, cache, y, acts, cost)
        return {"C": ref.cost_from_cache(cache, y, acts, cost), "a": cache.as_,
                "delta": ref.backward_deltas(p, cache, y, acts, cost),
                "dW": [None] + [g[0] for g in grads], "db": [None] + [g[1] for g in grads]}  # fmt: skip

    w = NetworkNudge(fb, params=params, x=state["x"], y=state["y"], output=output,
                     param=state["param"], step=state["step"])  # fmt: skip
    page.evaluate("changes => window.model.set(changes)", {"flat": w.flat, "kernel": w.kernel})
    assert root.evaluate(READ)["numbers"]["source"] == "browser", "no pong yet: browser"
    page.evaluate("() => window.model.fire('msg:custom', {type: 'pong'})")
    read = root.evaluate(READ)
    assert_matches_numpy(read, sizes, output, f"{case}: kernel", source="kernel")
    assert float(read["numbers"]["C"]) == w.readout()["C"]
    root.evaluate(MOVE, ["step", 0.21])
    label = root.query_selector("[data-readout=source]")
    assert label.get_attribute("data-value") == "browser"
    assert "while the kernel catches up" in label.text_content()
    assert root.evaluate("r => r.ownerDocument.defaultView.model.saved.at(-1).step") == 0.21


def test_harness_passes_axe(harness):
    page, root, sizes, output, case = harness
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make assets)")
    page.add_script_tag(path=str(AXE))
    root.evaluate("r => r.querySelector('details').open = true")
    violations = root.evaluate(AXE_ON_ELEMENT)
    assert not violations, violations


def test_screenshots_before_and_after_a_nudge(harness):
    """For a human to look at: as loaded, then the nudged parameter moved by Δ."""
    page, root, sizes, output, case = harness
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / f"network-nudge-{case}-before.png"))
    s = root.evaluate(READ)["state"]
    root.evaluate(MOVE, ["value", round(s["value"] + s["step"], 2)])
    root.evaluate("r => r.querySelector('details').open = true")
    assert_matches_numpy(root.evaluate(READ), sizes, output, f"{case} after the nudge")
    root.screenshot(path=str(SCREENSHOTS / f"network-nudge-{case}-after.png"))


# --- the built chapters: the saved widget state, drawn by the book's widget runtime -----


def widget_states(html: str) -> tuple[re.Match, dict]:
    found = re.search(
        r'(<script type="application/vnd.jupyter.widget-state\+json">)(.*?)(</script>)', html, re.S
    )
    assert found, "the page carries no widget state"
    return found, json.loads(found.group(2))


def network_models(state: dict) -> list[dict]:
    return [
        m["state"]
        for m in state["state"].values()
        if "bp-network-nudge" in m["state"].get("_esm", "")
    ]


def with_todays_front_end(html: str) -> str:
    """The page with today's network_nudge.js/.css in its saved state (as the next build has)."""
    found, state = widget_states(html)
    for model in network_models(state):
        model["_esm"] = script("network_nudge")
        model["_css"] = stylesheet("card.css", "network_nudge.css")
    blob = json.dumps(state).replace("</", "<\\/")
    return html[: found.start(2)] + blob + html[found.end(2) :]


@pytest.mark.parametrize("chapter", list(PAGES))
def test_built_chapter_is_live_and_matches_numpy(chapter, chromium, built_book, book_server):
    """The chapter's widget computes offline in the page; every number equals the reference.

    The page is served with today's front end swapped into its saved state, so this tests
    the JavaScript in this tree; ``test_built_chapter_ships_the_current_front_end`` checks
    that a build puts the same file there.
    """
    path = built_book / PAGES[chapter]
    assert path.exists(), f"the built book has no {PAGES[chapter]}"
    saved = network_models(widget_states(path.read_text())[1])
    assert len(saved) == 1, f"{PAGES[chapter]}: expected one NetworkNudge, found {len(saved)}"
    sizes, output = saved[0]["sizes"], saved[0]["output"]
    page, log = open_logged_page(chromium, book_server, height=1600)
    url = f"{book_server}/{PAGES[chapter]}"
    page.route(
        url, lambda r: r.fulfill(response=(f := r.fetch()), body=with_todays_front_end(f.text()))
    )
    page.goto(url)
    root = page.wait_for_selector(f"{ROOT}[data-redraws]")
    settled(page)
    root.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / f"network-nudge-page-{chapter}-before.png"))
    read = root.evaluate(READ)
    assert read["state"]["flat"] == saved[0]["flat"] and read["state"]["x"] == saved[0]["x"]
    assert_matches_numpy(read, sizes, output, f"{chapter}, as saved")
    names = param_names(sizes)
    for index in (0, len(names) - 1, len(names) // 2):
        root.evaluate(CHOOSE, ["param", index])
        for value in (-2.5, 0.37, 1.9):
            root.evaluate(MOVE, ["value", value])
            assert_matches_numpy(
                root.evaluate(READ), sizes, output, f"{chapter}, {names[index]} = {value}"
            )
    for key, value in [
        ("x1", -1.2),
        ("step", 0.05),
        ("y1" if output == "sigmoid-mse" else "", 0.85),
    ]:
        if key:
            root.evaluate(MOVE, [key, value])
    assert_matches_numpy(root.evaluate(READ), sizes, output, f"{chapter}, after the inputs moved")
    root.screenshot(path=str(SCREENSHOTS / f"network-nudge-page-{chapter}-after.png"))
    page.close()
    assert not log.problems(), "; ".join(log.problems())


@pytest.mark.build
@pytest.mark.parametrize("chapter", list(PAGES))
def test_built_chapter_ships_the_current_front_end(chapter, built_book):
    """The execution cache bakes the widget's JavaScript into the page; it must be today's."""
    path = built_book / PAGES[chapter]
    if not path.exists():
        pytest.skip(f"{PAGES[chapter]} is not in the toc yet")
    shipped = network_models(widget_states(path.read_text())[1])
    assert shipped, f"{PAGES[chapter]} holds no NetworkNudge widget state"
    assert shipped[0]["_esm"] == script("network_nudge"), (
        f"{PAGES[chapter]} carries an older network_nudge.js; rebuild (make book)"
    )
