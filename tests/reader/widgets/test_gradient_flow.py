"""GradientFlow in Python: its numbers equal an independent NumPy network, and bad settings
are refused with a message that says what was expected."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from gradient_flow_numpy import independent_norms

from backprop_book.widgets import GradientFlow
from backprop_book.widgets.gradient_flow import flow_setup


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("depth", [1, 7, 30])
def test_norms_equal_an_independent_network(depth, residual, norm):
    w = GradientFlow(depth=depth, residual=residual, norm=norm)
    want = independent_norms(w.setup, depth, residual, norm)
    assert np.allclose(w.norms(), want, rtol=1e-9, atol=0)


def test_the_story_the_chapter_tells():
    w = GradientFlow(depth=30)
    plain = w.norms()
    w.residual = True
    residual = w.norms()
    assert plain[0] < 1e-12 * plain[-1], "30 plain sigmoid blocks: the gradient vanishes"
    assert residual[0] > 0.1 * residual[-1], "the identity path carries it"


def test_state_is_plain_json_and_seeded():
    a, b = flow_setup(16, 32, 40, 0), flow_setup(16, 32, 40, 0)
    assert a == b and len(a["W"]) == 40 and len(a["W"][0]) == 256
    assert all(isinstance(v, float) for v in a["H0"])
    assert flow_setup(16, 32, 40, 1)["W"] != a["W"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"depth": 0}, "depth must be a whole number from 1 to 40"),
        ({"depth": 41}, "from 1 to 40"),
        ({"norm": "group"}, "norm must be one of"),
    ],
)
def test_bad_settings_are_refused(change, message):
    w = GradientFlow()
    with pytest.raises(traitlets.TraitError, match=message):
        for key, value in change.items():
            setattr(w, key, value)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="width must be a whole number from 2 to 64"):
        GradientFlow(width=100)
