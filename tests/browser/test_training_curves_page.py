"""TrainingCurves in the built digits chapter: live with no kernel, showing Python's numbers.

The chapter precomputes training curves on the digits for a grid of learning rates and batch
sizes with the book's NumPy code; the page must show, for every pair the sliders select, the
final accuracy and losses of that pair's curves, with no kernel and no network.
"""

from __future__ import annotations

import json
import re

import pytest
from browser import open_logged_page

from bookkit.paths import BUILD

pytestmark = pytest.mark.browser

PAGE = "book/batched-backprop.html"
ROOT = ".bp-training-curves"

MOVE = """(root, [key, value]) => {
  const input = root.querySelector(`input[data-param="${key}"]`);
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  const out = {};
  root.querySelectorAll('[data-readout]').forEach(e => out[e.dataset.readout] = e.dataset.value);
  return out;
}"""


def saved_grid(built_book) -> dict:
    html = (built_book / PAGE).read_text()
    blob = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert blob, f"{PAGE} carries no widget state"
    grids = [s["state"]["grid"] for s in json.loads(blob.group(1))["state"].values()
             if "grid" in s["state"]]
    assert len(grids) == 1, f"{PAGE}: expected one TrainingCurves, found {len(grids)}"
    return grids[0]


def test_every_pair_shows_its_own_curves(chromium, built_book, book_server):
    grid = saved_grid(built_book)
    page, log = open_logged_page(chromium, book_server, height=1400)
    page.goto(f"{book_server}/{PAGE}")
    root = page.wait_for_selector(f"{ROOT}[data-redraws]")
    root.scroll_into_view_if_needed()
    shots = BUILD / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(shots / "widget-training-before.png"))
    for i in range(len(grid["learning_rates"])):
        root.evaluate(MOVE, ["lr_index", i])
        for j in range(len(grid["batch_sizes"])):
            shown = root.evaluate(MOVE, ["bs_index", j])
            where = f"eta = {grid['learning_rates'][i]}, m = {grid['batch_sizes'][j]}"
            for key, series in (("final_test_acc", "test_acc"), ("final_train_loss", "train_loss"),
                                ("final_test_loss", "test_loss")):
                want = grid[series][i][j][-1]
                assert float(shown[key]) == pytest.approx(want, rel=1e-12, abs=1e-15), (
                    f"{where}: {key} shows {shown[key]}, the grid says {want}"
                )
    root.screenshot(path=str(shots / "widget-training-after.png"))
    assert not log.problems(), log.problems()
