"""NetworkNudge: nudge any weight or bias of a small network and watch every number move.

The widget of the 2-2-2 and softmax chapters. For one sample x with target y, a network
with sigmoid hidden layers and either a sigmoid output with C = 1/2 sum_j (a_j - y_j)^2
(``output="sigmoid-mse"``) or a softmax output with C = -sum_j y_j log s_j
(``output="softmax-ce"``): the same costs as :mod:`backprop_book.reference`.

As for :class:`backprop_book.widgets.ChainNudge`, the front end (``static/network_nudge.js``)
computes the forward and backward pass itself, so the widget is live in the static book; in
a kernel, this class calls the chapter's own ``forward_backward(params, x, y)`` on every
change and publishes its numbers in the ``kernel`` trait, which the front end then shows.

Parameters travel as one flat list in the reference's order (:func:`reference.flatten`: W1
row by row, b1, W2, b2, ...); ``param`` is an index into it, named like ``"W2[1,3]"`` (the
weight to neuron 1 of layer 2 from neuron 3 of layer 1, 1-based as in the text) or
``"b1[2]"``.
"""

from __future__ import annotations

import math
import pathlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from . import _validate as check
from . import reference as ref
from .widgets import FiniteFloat

STATIC = pathlib.Path(__file__).parent / "static"
OUTPUTS = ("sigmoid-mse", "softmax-ce")
ForwardBackward = Callable[[list, np.ndarray, np.ndarray], Mapping[str, Any]]


def param_names(sizes: Sequence[int]) -> list[str]:
    """Names of the flat parameters, in order: ``W1[1,1], W1[1,2], ..., b1[1], ..., W2[1,1]``."""
    names = []
    for layer in range(1, len(sizes)):
        n, n_prev = sizes[layer], sizes[layer - 1]
        names += [f"W{layer}[{j},{k}]" for j in range(1, n + 1) for k in range(1, n_prev + 1)]
        names += [f"b{layer}[{j}]" for j in range(1, n + 1)]
    return names


def activations(sizes: Sequence[int], output: str) -> list[str]:
    """The reference's activation names for this widget's network."""
    return ["sigmoid"] * (len(sizes) - 2) + ["softmax" if output == "softmax-ce" else "sigmoid"]


def cost_name(output: str) -> str:
    return "cross_entropy" if output == "softmax-ce" else "squared_error"


def _finite_list(trait_name: str):
    class FiniteList(traitlets.List):
        def validate(self, obj, value):
            value = super().validate(obj, value)
            arr = check.finite_array(value, trait_name)
            if arr.ndim != 1:
                raise ValueError(f"{trait_name} must be a flat list of numbers, got shape {arr.shape}")
            return [float(v) for v in arr]

    return FiniteList(traitlets.Float())


class NetworkNudge(anywidget.AnyWidget):
    """Nudge one parameter of a small network; see the module docstring.

    Args:
        forward_backward: the chapter's ``f(params, x, y) -> dict`` with keys ``C`` (float),
            ``a`` (list of activation columns, a[0] = x), ``delta`` ([None, delta1, ...]),
            ``dW`` and ``db`` ([None, dW1, ...], shaped like W and b); or ``None``.
        params: ``[(W1, b1), ..., (WL, bL)]`` as in :mod:`backprop_book.reference`.
        x: the input, n_0 numbers. y: the target, n_L numbers (one-hot for softmax-ce).
        output: ``"sigmoid-mse"`` or ``"softmax-ce"``.
        param: the parameter to nudge, by name (``"W1[1,1]"``) or flat index.
        step: the size of the nudge, Δ.
    """

    _esm = STATIC / "network_nudge.js"
    _css = STATIC / "network_nudge.css"

    sizes = traitlets.List(traitlets.Int()).tag(sync=True)
    flat = _finite_list("flat").tag(sync=True)
    x = _finite_list("x").tag(sync=True)
    y = _finite_list("y").tag(sync=True)
    output = traitlets.Unicode("sigmoid-mse").tag(sync=True)
    param = traitlets.Int(0).tag(sync=True)
    step = FiniteFloat(0.5).tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self,
        forward_backward: ForwardBackward | None = None,
        *,
        params: Sequence[tuple[np.ndarray, np.ndarray]],
        x: Sequence[float],
        y: Sequence[float],
        output: str = "sigmoid-mse",
        param: str | int = "W1[1,1]",
        step: float = 0.5,
    ) -> None:
        if forward_backward is not None and not callable(forward_backward):
            raise TypeError(
                "forward_backward must be a function f(params, x, y) -> dict, or None; "
                f"got {type(forward_backward).__name__}"
            )
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        layers = check.params(params)
        sizes = [layers[0][0].shape[1]] + [W.shape[0] for W, _ in layers]
        x_arr = check.finite_array(x, "x").ravel()
        y_arr = check.finite_array(y, "y").ravel()
        if x_arr.size != sizes[0]:
            raise ValueError(f"x must have {sizes[0]} entries (the network's inputs), got {x_arr.size}")
        if y_arr.size != sizes[-1]:
            raise ValueError(f"y must have {sizes[-1]} entries (the network's outputs), got {y_arr.size}")
        if output == "softmax-ce":
            check.probability_columns(y_arr.reshape(-1, 1))
        self._forward_backward = forward_backward
        self._ready = False
        super().__init__(
            sizes=sizes, flat=list(ref.flatten(layers)), x=list(x_arr), y=list(y_arr),
            output=output, param=self.index_of(param, sizes), step=step,
        )
        self._ready = True
        self._publish()
        self.on_msg(self._answer_ping)

    @staticmethod
    def index_of(param: str | int, sizes: Sequence[int]) -> int:
        """The flat index of ``param`` (a name such as ``"W2[1,3]"`` or an index)."""
        names = param_names(sizes)
        if isinstance(param, int) and not isinstance(param, bool):
            if 0 <= param < len(names):
                return param
            raise ValueError(f"param index must be 0..{len(names) - 1}, got {param}")
        compact = re.sub(r"\s+", "", str(param))
        if compact not in names:
            raise ValueError(
                f"param must name a weight or bias of this {'-'.join(map(str, sizes))} network, "
                f"such as {names[0]!r} or {names[-1]!r}; got {param!r}"
            )
        return names.index(compact)

    @property
    def param_name(self) -> str:
        return param_names(self.sizes)[self.param]

    @traitlets.validate("param")
    def _valid_param(self, proposal: dict) -> int:
        count = len(param_names(self.sizes)) if self.sizes else 0
        if count and not 0 <= proposal["value"] < count:
            raise ValueError(f"param must be 0..{count - 1}, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("flat", "x", "y", "param", "step")
    def _inputs_changed(self, change: dict) -> None:
        if self._ready:
            self._publish()

    def params(self, flat: Sequence[float] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """The parameters as ``[(W1, b1), ...]`` (from ``flat``, default the current ones)."""
        like = [(np.zeros((n, m)), np.zeros((n, 1))) for m, n in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        return ref.unflatten(np.asarray(self.flat if flat is None else flat, float), like)

    def _evaluate(self, flat: Sequence[float]) -> dict[str, Any]:
        params = self.params(flat)
        x = np.array(self.x).reshape(-1, 1)
        y = np.array(self.y).reshape(-1, 1)
        return checked(self._forward_backward(params, x, y), params)

    def _publish(self) -> None:
        if self._forward_backward is None:
            self.set_trait("kernel", {})
            return
        here = self._evaluate(self.flat)
        moved = list(self.flat)
        moved[self.param] += self.step
        after = self._evaluate(moved)
        gradient = here["grad"][self.param]
        inputs = {"flat": list(self.flat), "x": list(self.x), "y": list(self.y),
                  "param": self.param, "step": self.step}
        self.set_trait("kernel", {
            **here, "gradient": gradient, "predicted_change": gradient * self.step,
            "actual_change": after["C"] - here["C"], "inputs": inputs,
        })

    def _answer_ping(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send({"type": "pong"})

    def readout(self) -> dict[str, Any]:
        """What the widget shows in a live kernel (``kernel`` without ``inputs``)."""
        return {key: value for key, value in self.kernel.items() if key != "inputs"}


def checked(result: object, params: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """``forward_backward``'s dict as plain lists (for the front end), or a clear error."""
    keys = ("C", "a", "delta", "dW", "db")
    if not isinstance(result, Mapping) or any(k not in result for k in keys):
        got = sorted(result) if isinstance(result, Mapping) else type(result).__name__
        raise ValueError(
            f"forward_backward must return a dict with keys {', '.join(keys)} "
            f"(dW and db as [None, dW1, ...]); got {got}"
        )
    C = float(result["C"])
    if not math.isfinite(C):
        raise ValueError(f"forward_backward returned C = {C}; expected a finite float")
    L = len(params)
    grads = []
    for layer, (W, b) in enumerate(params, start=1):
        for name, p in ((f"dW{layer}", W), (f"db{layer}", b)):
            g = np.asarray(result[name[:2]][layer], dtype=float)
            if g.shape != p.shape:
                raise ValueError(f"forward_backward returned {name} of shape {g.shape}; expected {p.shape}")
            grads.append(check.finite_array(g, name).ravel())
    column = lambda v: [float(t) for t in np.asarray(v, float).ravel()]  # noqa: E731
    return {
        "C": C,
        "a": [column(result["a"][layer]) for layer in range(L + 1)],
        "delta": [None] + [column(result["delta"][layer]) for layer in range(1, L + 1)],
        "grad": [float(g) for g in np.concatenate(grads)],
    }
