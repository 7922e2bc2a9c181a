"""The ChainNudge widget's numbers, read from the page and recomputed with NumPy here.

Shared by the built page's tests (tests/browser/test_chain_nudge_page.py) and the chapter
in JupyterLab (tests/class/test_lab_widgets.py): the same readouts, the same independent
NumPy, whichever side (the page's JavaScript or the kernel) computed them.
"""

from __future__ import annotations

import numpy as np

READ = """root => {
  const values = {}, numbers = {};
  root.querySelectorAll('input[type=range][data-param]').forEach(i => {
    values[i.dataset.param] = Number(root.querySelector(`output[for="${i.id}"]`).dataset.value);
    values['slider_' + i.dataset.param] = i.valueAsNumber;
  });
  values.param = root.querySelector('input[data-control=param]:checked').value;
  root.querySelectorAll('[data-readout]').forEach(e => {
    numbers[e.dataset.readout] = e.dataset.value;
  });
  return {values, numbers, redraws: Number(root.dataset.redraws)};
}"""


def reference(w1, b1, w2, b2, x, y) -> dict[str, float]:
    """NumPy, float64: the 1-1-1 sigmoid chain with C = (a2 - y)^2 and its four gradients."""
    z1 = w1 * x + b1
    a1 = 1.0 / (1.0 + np.exp(-z1))
    z2 = w2 * a1 + b2
    a2 = 1.0 / (1.0 + np.exp(-z2))
    dC_dz2 = 2.0 * (a2 - y) * a2 * (1.0 - a2)
    dC_dz1 = dC_dz2 * w2 * a1 * (1.0 - a1)
    out = dict(z1=z1, a1=a1, z2=z2, a2=a2, C=(a2 - y) ** 2)
    out.update(dC_dw1=dC_dz1 * x, dC_db1=dC_dz1, dC_dw2=dC_dz2 * a1, dC_db2=dC_dz2)
    return {k: float(v) for k, v in out.items()}


def expected_numbers(values: dict) -> dict[str, float]:
    args = {k: values[k] for k in ("w1", "b1", "w2", "b2", "x", "y")}
    here, p, step = reference(**args), values["param"], values["step"]
    after = reference(**{**args, p: args[p] + step})
    gradient = here[f"dC_d{p}"]
    return {
        **here,
        "diagram_C": here["C"],
        "gradient": gradient,
        "step": step,
        "predicted_change": gradient * step,
        "actual_change": after["C"] - here["C"],
    }


def assert_matches_numpy(state: dict, where: str, source: str = "browser") -> None:
    want = expected_numbers(state["values"])
    for key, value in want.items():
        got = float(state["numbers"][key])
        assert abs(got - value) <= 1e-9 * max(1.0, abs(value)), (
            f"{where}: {key} shows {got!r}, NumPy says {value!r}"
        )
    said = state["numbers"]["source"]
    assert said == source, (
        f"{where}: the numbers should come from the {source}, the label says {said}"
    )
