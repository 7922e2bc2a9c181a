"""The GradientFlow widget in the built page: live with no kernel, equal to NumPy.

The page's JavaScript runs the network itself; for every setting tried here the norms it
shows must equal an independent NumPy computation (tests/support/gradient_flow_numpy.py) of the
network saved in the page. It must work by keyboard, pass axe-core and load nothing beyond
127.0.0.1.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from browser import assert_readable_and_axe_clean, open_logged_page
from gradient_flow_numpy import independent_norms

from bookkit.paths import BUILD

pytestmark = pytest.mark.browser

PAGE = "book/deep-networks-that-train.html"
SET = """(root, [depth, residual, norm]) => {
  const slider = root.querySelector('input[data-param="depth"]');
  slider.value = String(depth);
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  const box = root.querySelector('input[data-param="residual"]');
  if (box.checked !== residual) box.click();
  root.querySelector(`input[type=radio][value="${norm}"]`).click();
  return JSON.parse(root.dataset.norms);
}"""


def saved_setup(built_book) -> dict:
    html = (built_book / PAGE).read_text()
    blob = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S)
    assert blob, f"{PAGE} carries no widget state"
    states = [s["state"] for s in json.loads(blob.group(1))["state"].values() if "setup" in s["state"]]
    assert len(states) == 1, "one GradientFlow on the page"
    return states[0]


@pytest.fixture(scope="module")
def page(built_book, book_server, worker_chromium):
    page, log = open_logged_page(worker_chromium, book_server, height=1400)
    page.goto(f"{book_server}/{PAGE}")
    page.wait_for_selector(".bp-gradient-flow[data-redraws]")
    yield page, log
    page.close()


def test_the_page_computes_what_numpy_computes(built_book, page):
    page, log = page
    state = saved_setup(built_book)
    setup = state["setup"]
    root = page.locator(".bp-gradient-flow").element_handle()
    shown = json.loads(root.evaluate("r => r.dataset.norms"))
    assert len(shown) == state["depth"]
    assert np.allclose(shown, independent_norms(setup, state["depth"], state["residual"],
                                                state["norm"]), rtol=1e-9, atol=0)
    for depth, residual, norm in ((1, False, "none"), (30, False, "none"), (30, True, "none"),
                                  (12, False, "batch"), (25, True, "layer"), (40, True, "batch")):
        shown = root.evaluate(SET, [depth, residual, norm])
        want = independent_norms(setup, depth, residual, norm)
        assert np.allclose(shown, want, rtol=1e-9, atol=0), (depth, residual, norm)
        first = float(page.locator('.bp-gradient-flow [data-readout="first"]').get_attribute("data-value"))
        assert first == pytest.approx(want[0], rel=1e-9)
    BUILD.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(BUILD / "screenshots" / "widget-gradient-flow.png"))
    assert not log.problems(), log.problems()


def test_the_controls_work_by_keyboard(built_book, page):
    page, _ = page
    root = page.locator(".bp-gradient-flow")
    root.element_handle().evaluate(SET, [10, False, "none"])
    root.locator('input[data-param="depth"]').focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert root.locator('[data-readout="depth"]').get_attribute("data-value") == "13"
    root.locator('input[data-param="residual"]').focus()
    page.keyboard.press("Space")
    shown = json.loads(root.element_handle().evaluate("r => r.dataset.norms"))
    want = independent_norms(saved_setup(built_book)["setup"], 13, True, "none")
    assert np.allclose(shown, want, rtol=1e-9, atol=0)


def test_the_widget_is_readable_and_passes_axe(page):
    page, _ = page
    assert_readable_and_axe_clean(page, ".bp-gradient-flow")
