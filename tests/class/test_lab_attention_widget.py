"""The kernel path of the attention chapter's widget, in a real JupyterLab driven by Chromium.

The chapter's widget cell and the cells it needs (``lab_server.widget_notebook``: not the
language model the chapter trains, which the build and nbval run) are run as a reader runs
a notebook (open, Run All Cells); the widget must then show the numbers the kernel computes
with the package (labelled "kernel"), and after the query's slider moves by the keyboard,
the kernel's numbers for the new query: equal to NumPy's, written out here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from lab_server import lab_errors, run_all_until, widget_notebook

pytestmark = pytest.mark.kernel

NOTEBOOK = "transformer-block.ipynb"
KEYS = np.array([[2.0, 0.5], [-1.0, 1.5], [0.5, -2.0]])

STATE = """root => {
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  out.target = Number(root.querySelector('input[data-control=target]:checked').value);
  return out;
}"""


def query_numbers(q1: float, q2: float, c: int) -> dict[str, float]:
    s = KEYS @ np.array([q1, q2]) / math.sqrt(2)
    p = np.exp(s - s.max())
    p /= p.sum()
    dq = (p - np.eye(3)[c]) @ KEYS / math.sqrt(2)
    return {"C": -math.log(p[c]), "dC_dq1": dq[0], "dC_dq2": dq[1], "p0": p[0]}


def test_attention_widget_follows_the_kernel_in_jupyterlab(lab_tab, lab_folder):
    notebook = widget_notebook(NOTEBOOK, "AttentionNudge(", lab_folder)
    page = lab_tab.open(notebook)
    widget = run_all_until(page, ".bp-attention-nudge")
    widget.locator('[data-readout="source"][data-value="kernel"]').wait_for()
    before = widget.evaluate(STATE)
    want = query_numbers(float(before["q1"]), float(before["q2"]), before["target"])
    for key, value in want.items():
        assert float(before[key]) == pytest.approx(value, rel=1e-12, abs=1e-15), key

    slider = widget.locator('input[data-param="q1"]')
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    moved = round(float(before["q1"]) + 0.5, 10)
    expected = query_numbers(moved, float(before["q2"]), before["target"])
    # the kernel's answer for the new query, never a fixed sleep
    page.wait_for_function(
        """([root, want]) => {
          const c = root.querySelector('[data-readout="C"]');
          const src = root.querySelector('[data-readout="source"]');
          return src.dataset.value === 'kernel' && Math.abs(Number(c.dataset.value) - want) < 1e-9;
        }""",
        arg=[widget.element_handle(), expected["C"]],
    )
    after = widget.evaluate(STATE)
    assert float(after["q1"]) == pytest.approx(moved, abs=1e-9)
    for key, value in expected.items():
        assert float(after[key]) == pytest.approx(value, rel=1e-12, abs=1e-15), key
    real_errors = lab_errors(lab_tab)
    assert not real_errors, "; ".join(real_errors)
