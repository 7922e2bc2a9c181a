"""The kernel path of the optimizer race: live in a real JupyterLab driven by Chromium.

The static book computes the race in JavaScript; in a notebook the chapter's own NumPy
update rules (``gd_step``, ``momentum_step``, ``adam_step`` through its ``race``) compute
it. This test runs those cells of the chapter in JupyterLab as a reader does (Run All
Cells), moves the learning-rate slider with the keyboard and waits until the widget shows,
labelled as the kernel's, the final points that an independent NumPy computation gives for
the new value.

Only the cells the race needs: the chapter's imports, its update rules and the race cell,
found by reading the code as the course finds an exercise's setup
(``lab_server.widget_notebook``). The rest of the chapter (trained networks, a quarter of a
minute) changes nothing here, and nbval and the build run it in full.
"""

from __future__ import annotations

import numpy as np
import pytest
from lab_server import run_all_until, widget_notebook

pytestmark = pytest.mark.kernel

NOTEBOOK = "making-deep-networks-train.ipynb"

STATE = """root => {
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  return out;
}"""


def race_final(eta: float, beta: float, steps: int = 60) -> dict[str, np.ndarray]:
    """The chapter's surface (curvatures 1 and 12 turned by 30 degrees, start (-4, 2.5)),
    the three update rules written here, independently of the book's code."""
    r = np.deg2rad(30)
    turn = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    H = turn @ np.diag([1.0, 12.0]) @ turn.T
    w = {k: np.array([-4.0, 2.5]) for k in ("gd", "momentum", "adam")}
    v = m = s = np.zeros(2)
    for t in range(1, steps + 1):
        w["gd"] = w["gd"] - eta * H @ w["gd"]
        v = beta * v + H @ w["momentum"]
        w["momentum"] = w["momentum"] - eta * v
        g = H @ w["adam"]
        m, s = beta * m + (1 - beta) * g, 0.999 * s + 0.001 * g**2
        w["adam"] = w["adam"] - eta * (m / (1 - beta**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return w


def test_race_is_driven_by_the_kernel_in_jupyterlab(lab_tab, lab_folder, tmp_path):
    notebook = widget_notebook(NOTEBOOK, "OptimizerRace(", lab_folder)
    page = lab_tab.open(notebook)
    widget = run_all_until(page, ".bp-optimizer-race")
    widget.locator('[data-readout="source"][data-value="kernel"]').wait_for()
    before = widget.evaluate(STATE)
    eta0, beta = float(before["eta"]), float(before["beta"])
    want0 = race_final(eta0, beta)
    assert float(before["gd_x"]) == pytest.approx(want0["gd"][0], rel=1e-12, abs=1e-14)

    slider = widget.locator('input[data-param="eta"]')
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    eta = round(eta0 + 4 * 0.005, 10)
    want = race_final(eta, beta)
    # Wait for the kernel's answer for the new learning rate, never a fixed sleep.
    page.wait_for_function(
        """([root, eta, x]) => {
          const v = k => root.querySelector(`[data-readout="${k}"]`).dataset.value;
          return v('source') === 'kernel' && Math.abs(Number(v('eta')) - eta) < 1e-12
            && Math.abs(Number(v('momentum_x')) - x) < 1e-9 * Math.max(1, Math.abs(x));
        }""",
        arg=[widget.element_handle(), eta, float(want["momentum"][0])]
    )
    after = widget.evaluate(STATE)
    for name, w in want.items():
        assert float(after[f"{name}_x"]) == pytest.approx(w[0], rel=1e-12, abs=1e-14), name
        assert float(after[f"{name}_y"]) == pytest.approx(w[1], rel=1e-12, abs=1e-14), name
    assert float(after["gd_x"]) != pytest.approx(float(before["gd_x"]), rel=1e-6)
    page.screenshot(path=str(tmp_path / "lab.png"))
    real_errors = [e for e in lab_tab.problems() if "favicon" not in e]
    assert not real_errors, "; ".join(real_errors)
