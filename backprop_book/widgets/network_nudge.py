"""NetworkNudge: nudge any weight or bias of a small network and watch every number move.

The widget of the 2-2-2 and softmax chapters. For one sample x (n_0 numbers) with target y
(n_L numbers), a fully connected network with sigmoid hidden layers and either

* ``output="sigmoid-mse"``: sigmoid output, C = 1/2 sum_j (a_j - y_j)^2, or
* ``output="softmax-ce"``:  softmax output s, C = -sum_j y_j log s_j, y one-hot,

the same costs as :func:`backprop_book.reference.loss_and_grads` with ``"squared_error"`` and
``"cross_entropy"`` (the reference's mean over a batch of one sample is that sample's cost).

As for :class:`backprop_book.widgets.ChainNudge`, the front end (``network_nudge.js``)
computes the forward and backward pass itself, so the widget is live in the static book; in
a kernel, this class calls the chapter's own ``forward_backward(params, x, y)`` on every
change and publishes its numbers in the ``kernel`` trait, which the front end then shows.

Parameter names. The parameters travel as one flat list in the reference's order
(:func:`reference.flatten`: W1 row by row, b1, W2, b2, ...); ``param`` is an index into it.
Readers name a parameter as the text does, 1-based: ``"W2[1,3]"`` is the weight to neuron 1
of layer 2 from neuron 3 of layer 1 (NumPy's ``W2[0, 2]``), ``"b1[2]"`` the bias of neuron 2
of layer 1 (NumPy's ``b1[1, 0]``). :func:`param_names` lists them in flat order.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from .. import _validate as check
from .. import reference as ref
from ._assets import script, stylesheet
from .chain_nudge import FiniteFloat

#: The two kinds of output layer and cost.
OUTPUTS = ("sigmoid-mse", "softmax-ce")
#: What ``forward_backward`` must return (lists indexed by layer l = 0..L, entry 0 unused
#: except ``a[0]`` = x).
RESULT_KEYS = ("C", "a", "delta", "dW", "db")

Params = list[tuple[np.ndarray, np.ndarray]]
ForwardBackward = Callable[[Params, np.ndarray, np.ndarray], Mapping[str, Any]]


def param_names(sizes: Sequence[int]) -> list[str]:
    """Names of the flat parameters in order: ``W1[1,1], W1[1,2], ..., b1[1], ..., W2[1,1]``.

    ``W{l}[j,k]`` (1-based) is the weight to neuron j of layer l from neuron k of layer l-1.
    """
    names = []
    for layer in range(1, len(sizes)):
        n, n_prev = sizes[layer], sizes[layer - 1]
        names += [f"W{layer}[{j},{k}]" for j in range(1, n + 1) for k in range(1, n_prev + 1)]
        names += [f"b{layer}[{j}]" for j in range(1, n + 1)]
    return names


def param_index(param: str | int, sizes: Sequence[int]) -> int:
    """The flat index of ``param``: a name such as ``"W2[1,3]"`` (1-based) or an index."""
    names = param_names(sizes)
    if isinstance(param, numbers.Integral) and not isinstance(param, bool):
        if 0 <= param < len(names):
            return int(param)
        raise ValueError(f"param index must be in 0..{len(names) - 1}, got {param}")
    if not isinstance(param, str):
        raise TypeError(f"param must be a name such as 'W1[1,1]' or an index, got {param!r}")
    compact = re.sub(r"\s+", "", param)
    if compact in names:
        return names.index(compact)
    hint = ""
    if re.fullmatch(r"[Wb]\d+\[[\d,]+\]", compact) and re.search(r"[\[,]0[\],]", compact):
        hint = " (indices are 1-based as in the text: NumPy's W1[0, 0] is 'W1[1,1]')"
    network = "-".join(map(str, sizes))
    raise ValueError(
        f"param must name a weight or bias of this {network} network, from {names[0]!r} to "
        f"{names[-1]!r}; got {param!r}{hint}"
    )


def activations(sizes: Sequence[int], output: str) -> list[str]:
    """The reference's activation names for this network: sigmoid, then the output's."""
    return ["sigmoid"] * (len(sizes) - 2) + ["softmax" if output == "softmax-ce" else "sigmoid"]


def cost_name(output: str) -> str:
    """The reference's cost name for ``output``."""
    return "cross_entropy" if output == "softmax-ce" else "squared_error"


def shapes_like(sizes: Sequence[int]) -> Params:
    """Zero ``[(W1, b1), ...]`` for ``sizes``: the template of :func:`reference.unflatten`."""
    return [
        (np.zeros((n, m)), np.zeros((n, 1))) for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]


class ParamIndex(traitlets.Int):
    """The flat index of the nudged parameter; a name such as ``"b1[2]"`` is accepted too."""

    def validate(self, obj: Any, value: Any) -> int:
        if isinstance(value, str):
            value = param_index(value, obj.sizes)
        return super().validate(obj, value)


class FiniteList(traitlets.List):
    """A list of finite floats; NaN, inf or a nested list is refused, naming the trait."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(traitlets.Float(), **kwargs)

    def validate(self, obj: Any, value: Any) -> list[float]:
        arr = check.finite_array(value, self.name)
        if arr.ndim != 1:
            raise ValueError(f"{self.name} must be a flat list of numbers, got shape {arr.shape}")
        return super().validate(obj, [float(v) for v in arr])


def _vector(value: Any, name: str) -> list[float]:
    """One sample as a list: from n numbers or a column of shape (n, 1)."""
    arr = check.finite_array(value, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one sample: a flat list of numbers or a column (n, 1), got shape "
            f"{arr.shape}"
        )
    return arr.tolist()


def _one_hot(y: np.ndarray) -> None:
    if not (np.isin(y, (0.0, 1.0)).all() and y.sum() == 1.0):
        raise ValueError(
            f"y must be one-hot for output 'softmax-ce' (one 1, the rest 0), got {y.tolist()}"
        )


class NetworkNudge(anywidget.AnyWidget):
    """Nudge one weight or bias of a small network; watch C, every a, δ and gradient move.

    Args:
        forward_backward: the chapter's ``f(params, x, y) -> dict`` for one sample, with
            ``x`` of shape (n_0, 1) and ``y`` of shape (n_L, 1); the dict holds ``C`` (a
            float), ``a`` = [a0, ..., aL] (a0 = x), ``delta`` = [None, δ1, ..., δL] and
            ``dW``, ``db`` = [None, dW1, ...], [None, db1, ...] shaped like W^(l), b^(l).
            Or ``None``: then only the front end computes.
        sizes: ``[n_0, ..., n_L]``; optional, since ``params`` fixes it; checked if given.
        params: ``[(W1, b1), ..., (WL, bL)]`` as in :mod:`backprop_book.reference`.
        x: the input, n_0 numbers. y: the target, n_L numbers (one-hot for softmax-ce).
        output: ``"sigmoid-mse"`` or ``"softmax-ce"``.
        param: the parameter to nudge, by 1-based name (``"W1[1,1]"``, ``"b3[2]"``) or index.
        step: the size of the nudge, Δ.

    The ``kernel`` trait holds what ``forward_backward`` returned (``C``, ``a``, ``delta``,
    and ``grad``: dW and db flattened in :func:`param_names` order), plus ``gradient``
    (dC/d param), ``predicted_change`` (gradient × step), ``actual_change`` (C after the
    nudge − C, from a second call), ``param_name`` and ``inputs`` (the values they are for).
    """

    _esm = script("network_nudge")
    _css = stylesheet("card.css", "network_nudge.css")

    sizes = traitlets.List(traitlets.Int()).tag(sync=True)
    output = traitlets.Unicode("sigmoid-mse").tag(sync=True)
    flat = FiniteList().tag(sync=True)
    x = FiniteList().tag(sync=True)
    y = FiniteList().tag(sync=True)
    param = ParamIndex(0).tag(sync=True)
    step = FiniteFloat(0.5).tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self,
        forward_backward: ForwardBackward | None = None,
        *,
        params: Sequence[tuple[np.ndarray, np.ndarray]],
        x: Sequence[float],
        y: Sequence[float],
        sizes: Sequence[int] | None = None,
        output: str = "sigmoid-mse",
        param: str | int = "W1[1,1]",
        step: float = 0.5,
    ) -> None:
        if forward_backward is not None and not callable(forward_backward):
            raise TypeError(
                "forward_backward must be a function f(params, x, y) -> dict, or None; "
                f"got {type(forward_backward).__name__}"
            )
        layers = check.params(params)
        shape = [layers[0][0].shape[1]] + [W.shape[0] for W, _ in layers]
        if sizes is not None and list(sizes) != shape:
            raise ValueError(
                f"sizes {list(sizes)} do not match params, whose shapes give {shape} "
                f"(W1 is {layers[0][0].shape}, ..., W{len(layers)} is {layers[-1][0].shape})"
            )
        self._forward_backward = forward_backward
        self._ready = False  # compute once, after every trait has its value
        super().__init__(
            sizes=shape, output=output, flat=list(ref.flatten(layers)),
            x=_vector(x, "x"), y=_vector(y, "y"),
            param=param_index(param, shape), step=step,
        )  # fmt: skip
        self._ready = True
        self._publish()
        self.on_msg(self._answer_ping)

    # --- validation: the front end draws the network once, so its shape is fixed ----------

    @traitlets.validate("sizes")
    def _valid_sizes(self, proposal: dict) -> list[int]:
        value = list(proposal["value"])
        if self.sizes and value != self.sizes:
            raise ValueError(
                f"sizes are fixed once the widget is drawn ({self.sizes}); got {value}: "
                "make a new NetworkNudge for another network"
            )
        if len(value) < 2 or min(value) < 1:
            raise ValueError(f"sizes must list >= 2 positive layer widths, got {value}")
        return value

    @traitlets.validate("output")
    def _valid_output(self, proposal: dict) -> str:
        value = proposal["value"]
        if value not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {value!r}")
        if self._ready and value != self.output:
            raise ValueError("output is fixed once the widget is drawn; make a new NetworkNudge")
        return value

    @traitlets.validate("flat", "x", "y")
    def _valid_length(self, proposal: dict) -> list[float]:
        name, value = proposal["trait"].name, proposal["value"]
        want = {"flat": len(param_names(self.sizes)), "x": self.sizes[0], "y": self.sizes[-1]}
        what = {"flat": "parameters", "x": "inputs", "y": "outputs"}[name]
        if len(value) != want[name]:
            raise ValueError(
                f"{name} must have {want[name]} entries (the {'-'.join(map(str, self.sizes))} "
                f"network's {what}), got {len(value)}"
            )
        if name == "y" and self.output == "softmax-ce":
            _one_hot(np.array(value))
        return value

    @traitlets.validate("param")
    def _valid_param(self, proposal: dict) -> int:
        return param_index(proposal["value"], self.sizes)

    @traitlets.observe("flat", "x", "y", "param", "step")
    def _inputs_changed(self, change: dict) -> None:
        if self._ready:
            self._publish()

    # --- the kernel's numbers -----------------------------------------------------------

    @property
    def param_name(self) -> str:
        """The 1-based name of the parameter being nudged, e.g. ``"W1[1,1]"``."""
        return param_names(self.sizes)[self.param]

    def select(self, name: str | int) -> None:
        """Nudge the parameter called ``name`` (``"W2[1,3]"``, ``"b1[2]"``) or with this index."""
        self.param = param_index(name, self.sizes)

    def params(self, flat: Sequence[float] | None = None) -> Params:
        """The parameters as ``[(W1, b1), ...]``, from ``flat`` (default: the current ones)."""
        return ref.unflatten(
            np.asarray(self.flat if flat is None else flat), shapes_like(self.sizes)
        )

    def _evaluate(self, flat: Sequence[float]) -> dict[str, Any]:
        params = self.params(flat)
        x, y = np.array(self.x).reshape(-1, 1), np.array(self.y).reshape(-1, 1)
        return checked(self._forward_backward(params, x, y), self.sizes)

    def _publish(self) -> None:
        """Recompute the kernel's numbers for the current values and send them to the front end."""
        if self._forward_backward is None:
            self.set_trait("kernel", {})
            return
        here = self._evaluate(self.flat)
        moved = list(self.flat)
        moved[self.param] += self.step
        after = self._evaluate(moved)
        gradient = here["grad"][self.param]
        inputs = {"flat": list(self.flat), "x": list(self.x), "y": list(self.y),
                  "param": self.param, "step": self.step}  # fmt: skip
        self.set_trait("kernel", {
            **here, "gradient": gradient, "predicted_change": gradient * self.step,
            "actual_change": after["C"] - here["C"], "param_name": self.param_name,
            "inputs": inputs,
        })  # fmt: skip

    def _answer_ping(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The front end asks whether a kernel is listening; in the static book nobody answers."""
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send({"type": "pong"})

    def readout(self) -> dict[str, Any]:
        """What the widget shows in a live kernel: ``kernel`` without ``inputs``.

        Keys ``C``, ``a``, ``delta``, ``grad`` (flat), ``gradient``, ``predicted_change``,
        ``actual_change``, ``param_name``; empty when there is no ``forward_backward``.
        """
        return {key: value for key, value in self.kernel.items() if key != "inputs"}


def _layer_list(result: Mapping, key: str, L: int) -> Sequence:
    value = result[key]
    if not isinstance(value, Sequence) or len(value) != L + 1:
        got = f"{len(value)} entries" if isinstance(value, Sequence) else type(value).__name__
        first = "x" if key == "a" else "None"
        raise ValueError(
            f"forward_backward returned {key} with {got}; expected a list of {L + 1}, one per "
            f"layer 0..{L} ({key}[0] = {first})"
        )
    return value


def _column(value: Any, name: str, n: int) -> list[float]:
    arr = check.finite_array(value, f"forward_backward's {name}")
    if arr.size != n or (arr.ndim == 2 and arr.shape != (n, 1)) or arr.ndim > 2:
        raise ValueError(
            f"forward_backward returned {name} of shape {arr.shape}; expected ({n}, 1), "
            f"one entry per neuron"
        )
    return arr.ravel().tolist()


def checked(result: object, sizes: Sequence[int]) -> dict[str, Any]:
    """``forward_backward``'s dict as plain lists for the front end, or a clear error.

    Returns ``C``, ``a`` (L+1 lists), ``delta`` ([None] + L lists) and ``grad`` (dW, db
    flattened in :func:`param_names` order).
    """
    expected = f"a dict with keys {', '.join(RESULT_KEYS)}"
    if not isinstance(result, Mapping):
        raise TypeError(
            f"forward_backward must return {expected}; it returned {type(result).__name__}"
        )
    missing = [key for key in RESULT_KEYS if key not in result]
    if missing:
        raise ValueError(f"forward_backward must return {expected}; missing: {', '.join(missing)}")
    try:
        C = float(result["C"])
    except (TypeError, ValueError):
        raise TypeError(f"forward_backward returned C={result['C']!r}; expected a float") from None
    if not math.isfinite(C):
        raise ValueError(f"forward_backward returned C={C}; expected a finite float")
    L = len(sizes) - 1
    a, delta, dW, db = (_layer_list(result, key, L) for key in ("a", "delta", "dW", "db"))
    grads = []
    for layer in range(1, L + 1):
        for name, g, shape in ((f"dW{layer}", dW[layer], (sizes[layer], sizes[layer - 1])),
                               (f"db{layer}", db[layer], (sizes[layer], 1))):  # fmt: skip
            arr = check.finite_array(g, f"forward_backward's {name}")
            if arr.shape != shape:
                raise ValueError(
                    f"forward_backward returned {name} of shape {arr.shape}; expected {shape}, "
                    f"the shape of {name[1:]}"
                )
            grads += arr.ravel().tolist()
    return {
        "C": C,
        "a": [_column(a[layer], f"a{layer}", sizes[layer]) for layer in range(L + 1)],
        "delta": [None]
        + [_column(delta[layer], f"delta{layer}", sizes[layer]) for layer in range(1, L + 1)],
        "grad": grads,
    }
