"""DepthSpread in Python: the grid is validated and carries exactly what spreads returned."""

from __future__ import annotations

import math

import numpy as np
import pytest
import traitlets

from backprop_book.widgets.depth_spread import DepthSpread, checked_grid, spread_grid


def spreads(activation, c):
    """A stand-in with the known answer of a ReLU net: spreads move by c per layer."""
    base = 1.0 if activation == "relu" else 0.5
    return {"z": [base * c**k for k in range(5)], "delta": [base * c ** (4 - k) for k in range(5)]}


def test_grid_holds_every_call():
    grid = spread_grid(spreads, scales=[0.5, 1.0, 2.0], activations=["relu", "tanh"])
    assert grid["depth"] == 5 and grid["scales"] == [0.5, 1.0, 2.0]
    assert grid["spreads"]["tanh"]["z"][2] == spreads("tanh", 2.0)["z"]
    w = DepthSpread(grid, activation="tanh", scale_index=2)
    assert w.selected["delta"] == spreads("tanh", 2.0)["delta"]
    w.activation, w.scale_index = "relu", 0
    assert w.selected == {"activation": "relu", "scale": 0.5, **spreads("relu", 0.5)}


def test_the_chapter_kind_of_spreads_vanish_and_explode():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 200))

    def relu_spreads(activation, c):
        a, zs = X, []
        for layer in range(8):
            W = np.random.default_rng(layer).normal(0, c * math.sqrt(2 / 50), size=(50, 50))
            z = W @ a
            zs.append(float(z.std()))
            a = np.maximum(z, 0)
        return {"z": zs, "delta": zs[::-1]}

    grid = spread_grid(relu_spreads, scales=[0.6, 1.0, 1.6], activations=["relu"])
    z = grid["spreads"]["relu"]["z"]
    assert z[0][-1] / z[0][0] < 0.05 and z[2][-1] / z[2][0] > 20 and 0.5 < z[1][-1] / z[1][0] < 2


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (lambda a, c: {"z": [1.0, 0.0], "delta": [1.0, 1.0]}, "at layer 2"),
        (lambda a, c: {"z": [1.0, math.inf], "delta": [1.0, 1.0]}, "positive finite"),
        (lambda a, c: {"z": [1.0]}, "missing: delta"),
        (lambda a, c: [1.0], "must give a dict"),
        (lambda a, c: {"z": [1.0, 2.0], "delta": [1.0]}, "z has 2 layers but delta 1"),
    ],
)
def test_bad_spreads_are_named(bad, says):
    with pytest.raises((ValueError, TypeError)) as info:
        spread_grid(bad, scales=[1.0, 2.0], activations=["relu"])
    assert says in str(info.value), str(info.value)


def test_bad_grid_and_selection_are_refused():
    grid = spread_grid(spreads, scales=[0.5, 1.0], activations=["relu"])
    with pytest.raises(ValueError, match="strictly increasing"):
        checked_grid({**grid, "scales": [1.0, 0.5]})
    with pytest.raises(ValueError, match="one entry per activation"):
        checked_grid({**grid, "activations": ["relu", "tanh"]})
    w = DepthSpread(grid)
    with pytest.raises(traitlets.TraitError, match="scale_index must be in 0..1"):
        w.scale_index = 2
    with pytest.raises(traitlets.TraitError, match="activation must be one of"):
        w.activation = "sigmoid"
