"""The kernel path of ReceptiveField: the widget in a real JupyterLab, driven from Python.

The chapter's widget cell and the cells it needs run in JupyterLab (Run All Cells), with
one more cell that sets the selection from Python, as a reader would in a notebook
(``field.row, field.col, field.nudge = ...``). The widget must show that selection, with
the numbers an independent NumPy computation gives; then a click on another pixel must
redraw it, in the same page.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lab_server import run_all_until, widget_notebook

pytestmark = pytest.mark.kernel

NOTEBOOK = "convolution.ipynb"
STATE = """root => {
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  return out;
}"""
SET_FROM_PYTHON = ("import json\nfield.row, field.col, field.nudge = 4, 1, -0.5\n"
                   "print('GRIDS=' + json.dumps([field.x, field.k, field.g]))")


def the_widget_of_the_chapter(folder: Path) -> Path:
    extra = {"cell_type": "code", "id": "set-from-python", "metadata": {}, "outputs": [],
             "execution_count": None, "source": SET_FROM_PYTHON}
    return widget_notebook(NOTEBOOK, "ReceptiveField(", folder, after=(extra,))


def dC_of(x, k, g, r, c, eps):
    """sum(G * change of y) for x[r, c] += eps, stride 1, written here as loops."""
    x, k, g = (np.asarray(a, dtype=float) for a in (x, k, g))
    bumped = x.copy()
    bumped[r, c] += eps

    def layer(xx):
        return np.array([[np.sum(k * xx[i:i + 3, j:j + 3]) for j in range(g.shape[1])]
                         for i in range(g.shape[0])])
    return float(np.sum(g * (layer(bumped) - layer(x))))


def test_the_kernel_sets_the_selection_and_the_page_follows(lab_tab, lab_folder, tmp_path):
    notebook = the_widget_of_the_chapter(lab_folder)
    page = lab_tab.open(notebook)
    widget = run_all_until(page, ".bp-receptive-field")
    widget.locator('[data-readout="cell"][data-value="input:4,1"]').wait_for()
    printed = page.locator(".jp-OutputArea-output", has_text="GRIDS=").first
    printed.wait_for()
    x, k, g = json.loads(printed.inner_text().split("GRIDS=", 1)[1].strip())
    shown = widget.evaluate(STATE)
    assert float(shown["nudge"]) == -0.5
    assert float(shown["dC"]) == pytest.approx(dC_of(x, k, g, 4, 1, -0.5), abs=1e-12)
    widget.locator('button[data-grid="x"][data-row="2"][data-col="3"]').click()
    widget.locator('[data-readout="cell"][data-value="input:2,3"]').wait_for()
    after = widget.evaluate(STATE)
    assert float(after["dC"]) == pytest.approx(dC_of(x, k, g, 2, 3, -0.5), abs=1e-12)
    page.screenshot(path=str(tmp_path / "lab.png"))
    real_errors = [e for e in lab_tab.problems() if "favicon" not in e]
    assert not real_errors, "; ".join(real_errors)
