"""The kernel path of GradientFlow: live in a real JupyterLab driven by Chromium.

The notebook holds the chapter's widget cell and one cell that reports, from the kernel,
the traitlets and the package's own numbers (``flow.norms()``) whenever the reader changes
a control. Setting a traitlet in Python moves the widget (Python to page); moving the
slider and ticking the checkbox by keyboard reaches the kernel, whose answer must equal
what the page drew (page to Python), and both equal an independent NumPy computation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from gradient_flow_numpy import independent_norms
from lab_server import run_all_until

from bookkit.paths import ROOT

pytestmark = pytest.mark.kernel

NOTEBOOK = "deep-networks-that-train.ipynb"
REPORT = """\
import ipywidgets

report = ipywidgets.Output()


def tell(change=None):
    report.clear_output()
    with report:
        print(f"kernel: depth={flow.depth} residual={flow.residual} "
              f"norm={flow.norm} norms={flow.norms()!r}")


flow.observe(tell, names=["depth", "residual", "norm"])
flow.depth, flow.norm = 9, "batch"  # Python moves the widget
tell()
report
"""


def the_widget_of_the_chapter(folder: Path) -> Path:
    chapter = json.loads((ROOT / "book" / NOTEBOOK).read_text())
    cells = chapter["cells"]
    widget = next(c for c in cells if c["cell_type"] == "code" and "GradientFlow(" in "".join(c["source"]))
    imports = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
               "id": "gf-imports", "source": "from backprop_book.widgets import GradientFlow\n"}
    report = {**imports, "id": "gf-report", "source": REPORT}
    chapter["cells"] = [cells[0], imports, widget, report]
    path = folder / NOTEBOOK
    path.write_text(json.dumps(chapter))
    return path


def kernel_says(page):
    text = page.locator(".jp-OutputArea-output pre", has_text="kernel: depth=").last.inner_text()
    found = re.search(r"depth=(\d+) residual=(\w+) norm=(\w+) norms=(\[.*\])", text)
    assert found, text
    return int(found[1]), found[2] == "True", found[3], json.loads(found[4])


def test_gradient_flow_is_driven_by_the_kernel_in_jupyterlab(lab_tab, lab_folder, tmp_path):
    page = lab_tab.open(the_widget_of_the_chapter(lab_folder))
    widget = run_all_until(page, ".bp-gradient-flow")
    page.locator(".jp-OutputArea-output pre", has_text="kernel: depth=9").wait_for()
    page.wait_for_function("r => r.querySelector('[data-readout=depth]').dataset.value === '9'",
                           arg=widget.element_handle())
    shown = json.loads(widget.evaluate("r => r.dataset.norms"))
    depth, residual, norm, from_kernel = kernel_says(page)
    assert (depth, residual, norm) == (9, False, "batch")
    assert np.allclose(shown, from_kernel, rtol=1e-9, atol=0), "page and kernel agree"

    slider = widget.locator('input[data-param="depth"]')
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    widget.locator('input[data-param="residual"]').focus()
    page.keyboard.press("Space")
    page.locator(".jp-OutputArea-output pre",
                 has_text="kernel: depth=12 residual=True").wait_for()
    depth, residual, norm, from_kernel = kernel_says(page)
    shown = json.loads(widget.evaluate("r => r.dataset.norms"))
    assert (depth, residual, norm) == (12, True, "batch")
    assert np.allclose(shown, from_kernel, rtol=1e-9, atol=0)
    from backprop_book.widgets import GradientFlow

    setup = GradientFlow().setup  # the same seeded network the chapter's cell draws
    assert np.allclose(from_kernel, independent_norms(setup, 12, True, "batch"), rtol=1e-9)
    page.screenshot(path=str(tmp_path / "lab.png"))
    real_errors = [e for e in lab_tab.problems() if "favicon" not in e]
    assert not real_errors, "; ".join(real_errors)
