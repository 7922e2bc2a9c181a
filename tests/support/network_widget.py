"""The NetworkNudge widget's numbers, read from the page and recomputed from
``backprop_book.reference`` here.

Shared by the widget's page tests (tests/browser/test_network_nudge_page.py) and the
2-2-2 chapter in JupyterLab (tests/class/test_lab_widgets.py): the same readouts, the same
reference, whichever side (the page's JavaScript or the kernel) computed them. The state
is read back from the page (each weight's and bias's full-precision value sits on its edge
or neuron), so the comparison never trusts the page's own maths.
"""

from __future__ import annotations

import re

import numpy as np

from backprop_book import reference as ref
from backprop_book.widgets.network_nudge import activations, cost_name, param_names, shapes_like

# The state as the page shows it: weights and biases from the drawing's data attributes,
# inputs, targets and Δ from the sliders' outputs, the parameter from the picker.
READ = """root => {
  const flat = [];
  root.querySelectorAll('line.bp-wedge[data-index]').forEach(e => flat[+e.dataset.index] = Number(e.dataset.weight));
  root.querySelectorAll('circle[data-index]').forEach(e => flat[+e.dataset.index] = Number(e.dataset.bias));
  const out = key => Number(root.querySelector(`input[data-param="${key}"]`).nextElementSibling.dataset.value);
  const vec = prefix => [...root.querySelectorAll(`input[data-param^="${prefix}"]`)]
      .filter(i => /^[xy]\\d+$/.test(i.dataset.param)).map(i => out(i.dataset.param));
  const cls = root.querySelector('select[data-control=class]');
  const y = cls ? [...cls.options].map(o => o.selected ? 1 : 0) : vec('y');
  const numbers = {};
  root.querySelectorAll('[data-readout]').forEach(e => { numbers[e.dataset.readout] = e.dataset.value; });
  return {state: {flat, x: vec('x'), y, step: out('step'),
                  param: Number(root.querySelector('select[data-control=param]').value),
                  value: out('value'), slider_value: root.querySelector('input[data-param=value]').valueAsNumber},
          numbers, redraws: Number(root.dataset.redraws), ms: Number(root.dataset.lastUpdateMs)};
}"""


def expected(sizes: list[int], output: str, s: dict) -> dict[str, float]:
    """Every number the widget shows, keyed like its data-readout, from the reference."""
    like = shapes_like(sizes)
    params = ref.unflatten(np.array(s["flat"]), like)
    X, Y = np.reshape(s["x"], (-1, 1)), np.reshape(s["y"], (-1, 1))
    acts, cost = activations(sizes, output), cost_name(output)
    C, grads = ref.loss_and_grads(params, X, Y, acts, cost)
    cache = ref.forward(params, X, acts)
    deltas = ref.backward_deltas(params, cache, Y, acts, cost)
    grad = ref.flatten(grads)
    moved = np.array(s["flat"])
    moved[s["param"]] += s["step"]
    after = ref.loss(ref.unflatten(moved, like), X, Y, acts, cost)
    p = s["param"]
    out = {"C": C, "diagram_C": C, "gradient": grad[p], "step": s["step"],
           "predicted_change": grad[p] * s["step"], "actual_change": after - C}  # fmt: skip
    for layer, n in enumerate(sizes):
        for j in range(n):
            out[f"a{layer}_{j + 1}"] = cache.as_[layer][j, 0]
            if layer:
                out[f"delta{layer}_{j + 1}"] = deltas[layer][j, 0]
    for i, name in enumerate(param_names(sizes)):
        kind, layer, *jk = re.findall(r"[Wb]|\d+", name)
        out[f"d{kind}{layer}_{'_'.join(jk)}"] = grad[i]
    if output == "softmax-ce":
        for j in range(sizes[-1]):
            out[f"s{j + 1}"] = cache.as_[-1][j, 0]
            out[f"s_minus_y{j + 1}"] = cache.as_[-1][j, 0] - Y[j, 0]
    return {k: float(v) for k, v in out.items()}


def assert_matches_numpy(read: dict, sizes, output, where: str, source: str = "browser") -> None:
    s, shown = read["state"], read["numbers"]
    assert len(s["flat"]) == len(param_names(sizes)) and None not in s["flat"], where
    assert s["value"] == s["flat"][s["param"]], f"{where}: the value slider shows another value"
    for key, want in expected(sizes, output, s).items():
        assert key in shown, f"{where}: the widget shows no {key}"
        got = float(shown[key])
        assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), (
            f"{where}: {key} shows {got!r}, NumPy says {want!r}"
        )
    assert shown["source"] == source, f"{where}: numbers from {shown['source']}, expected {source}"
