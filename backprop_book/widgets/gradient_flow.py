"""GradientFlow: ||dC/dW^(l)|| per block as depth, residual connections and the norm change.

The widget of the chapter on deep networks that train. The Python side draws one network
of sigmoid blocks (width n, up to ``max_depth`` blocks, the book's default scale), one
batch ``H0`` (n x m) and the coefficients ``R`` of the cost C = sum(R * H^(L)) / m, and
sends them to the front end (``gradient_flow.js``), which runs the forward and backward
passes itself for whatever the reader picks, so the widget stays live in the static book.
:meth:`GradientFlow.norms` computes the same numbers with the package
(:func:`backprop_book.deepnet.block_gradients`), so tests can hold the two against each
other.
"""

from __future__ import annotations

import numbers

import anywidget
import numpy as np
import traitlets

from .. import deepnet as dn
from ._assets import script, stylesheet

NORMS = ("none", "batch", "layer")


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}")
    return int(value)


def flow_setup(width: int, batch: int, max_depth: int, seed: int) -> dict:
    """The network and batch the widget shows, as plain lists (row-major), ready to sync."""
    width = _whole(width, "width", 2, 64)
    batch = _whole(batch, "batch", 2, 256)
    max_depth = _whole(max_depth, "max_depth", 1, 100)
    net = dn.init_net(width, width, max_depth, width, seed=seed)
    rng = np.random.default_rng(seed + 1)
    H0, R = rng.normal(size=(width, batch)), rng.normal(size=(width, batch))
    return {"width": width, "batch": batch, "max_depth": max_depth, "seed": seed,
            "W": [W.ravel().tolist() for W in net.W], "b": [b.ravel().tolist() for b in net.b],
            "H0": H0.ravel().tolist(), "R": R.ravel().tolist()}  # fmt: skip


class GradientFlow(anywidget.AnyWidget):
    """Choose the depth, the residual connection and the norm; see ||dC/dW^(l)|| per block.

    Args:
        depth: blocks shown first (1..max_depth).
        residual: residual connections on or off.
        norm: "none", "batch" or "layer".
        width, batch, max_depth, seed: the network and batch (small: the browser computes).
    """

    _esm = script("gradient_flow")
    _css = stylesheet("card.css", "chart.css", "gradient_flow.css")

    setup = traitlets.Dict().tag(sync=True)
    depth = traitlets.Int(20).tag(sync=True)
    residual = traitlets.Bool(False).tag(sync=True)
    norm = traitlets.Unicode("none").tag(sync=True)

    def __init__(self, *, depth: int = 20, residual: bool = False, norm: str = "none",
                 width: int = 16, batch: int = 32, max_depth: int = 40, seed: int = 0) -> None:
        super().__init__(setup=flow_setup(width, batch, max_depth, seed))
        self.depth, self.residual, self.norm = depth, residual, norm

    @traitlets.validate("depth")
    def _valid_depth(self, proposal: dict) -> int:
        top = self.setup["max_depth"]
        try:
            return _whole(proposal["value"], "depth", 1, top)
        except ValueError as err:
            raise traitlets.TraitError(str(err)) from None

    @traitlets.validate("norm")
    def _valid_norm(self, proposal: dict) -> str:
        if proposal["value"] not in NORMS:
            raise traitlets.TraitError(f"norm must be one of {NORMS}; got {proposal['value']!r}")
        return proposal["value"]

    @property
    def design(self) -> dn.Design:
        return dn.Design(residual=self.residual, norm=None if self.norm == "none" else self.norm)

    def norms(self) -> list[float]:
        """||dC/dW^(l)|| for blocks 1..depth, computed by the package in NumPy."""
        s = self.setup
        n, m = s["width"], s["batch"]
        net = dn.init_net(n, n, s["max_depth"], n, seed=s["seed"])
        net.W = [np.asarray(W).reshape(n, n) for W in s["W"]]
        net.b = [np.asarray(b).reshape(n, 1) for b in s["b"]]
        H0, R = np.asarray(s["H0"]).reshape(n, m), np.asarray(s["R"]).reshape(n, m)
        grads = dn.block_gradients(net, H0, R, self.design, self.depth)
        return [float(np.linalg.norm(g)) for g in grads]
