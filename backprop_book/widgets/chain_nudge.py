"""The 1-1-1 chapter's nudge widget: one source, live in the static HTML book and in a kernel.

:class:`ChainNudge` is the "nudge" widget of the 1-1-1 chapter. The chain is

    z1 = w1 x + b1,   a1 = sigmoid(z1),   z2 = w2 a1 + b2,   a2 = sigmoid(z2),   C = (a2 - y)^2

Its front end (``chain_nudge.js``, beside this module) computes the forward and backward pass
itself in JavaScript, so the widget stays live in the built book, where no kernel runs. In a live
kernel this class calls the chapter's own NumPy ``forward_backward`` on every change and
publishes the numbers in the ``kernel`` trait; the front end shows those instead and says so.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import anywidget
import traitlets

from ._assets import script, stylesheet

#: What ``forward_backward`` must return: the forward values, the cost and the four gradients.
KEYS = ("z1", "a1", "z2", "a2", "C", "dC_dw1", "dC_db1", "dC_dw2", "dC_db2")
#: The parameters one can study (nudge), and every input of ``forward_backward``, in order.
PARAMS = ("w1", "b1", "w2", "b2")
INPUTS = ("w1", "b1", "w2", "b2", "x", "y")

ForwardBackward = Callable[[float, float, float, float, float, float], Mapping[str, float]]


class FiniteFloat(traitlets.Float):
    """A float trait that refuses NaN, infinities and non-numbers, naming the trait."""

    def validate(self, obj: Any, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{self.name} must be a real number, got {type(value).__name__}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be finite, got {value}")
        return value


def checked(result: object) -> dict[str, float]:
    """What ``forward_backward`` returned as finite floats, or an error saying what was expected."""
    expected = "a dict with float values for the keys " + ", ".join(KEYS)
    if not isinstance(result, Mapping):
        raise TypeError(
            f"forward_backward must return {expected}; it returned {type(result).__name__}"
        )
    missing = [key for key in KEYS if key not in result]
    if missing:
        raise ValueError(f"forward_backward must return {expected}; missing: {', '.join(missing)}")
    out = {}
    for key in KEYS:
        try:
            out[key] = float(result[key])
        except (TypeError, ValueError):
            raise TypeError(
                f"forward_backward returned {key}={result[key]!r}; expected a float"
            ) from None
        if not math.isfinite(out[key]):
            raise ValueError(f"forward_backward returned {key}={out[key]}; expected a finite float")
    return out


class ChainNudge(anywidget.AnyWidget):
    """Nudge one parameter of the chain x -> neuron 1 -> neuron 2 -> C and watch the cost.

    Args:
        forward_backward: ``f(w1, b1, w2, b2, x, y) -> dict`` with the keys in :data:`KEYS`
            (the chapter's NumPy code), or ``None``: then only the front end computes.
        w1, b1, w2, b2: the parameters; x: the input; y: the target.
        param: which parameter to study, one of ``w1``, ``b1``, ``w2``, ``b2``.
        step: the size of the nudge, Δ.

    The ``kernel`` trait holds what ``forward_backward`` returned for the current values, plus
    ``gradient`` (dC/d param), ``predicted_change`` (gradient × step), ``actual_change``
    (C(param + step) − C(param), from a second call) and ``inputs`` (the values they are for).
    """

    _esm = script("chain_nudge")
    _css = stylesheet("card.css", "chain_nudge.css")

    w1 = FiniteFloat().tag(sync=True)
    b1 = FiniteFloat().tag(sync=True)
    w2 = FiniteFloat().tag(sync=True)
    b2 = FiniteFloat().tag(sync=True)
    x = FiniteFloat().tag(sync=True)
    y = FiniteFloat().tag(sync=True)
    param = traitlets.Unicode("w2").tag(sync=True)
    step = FiniteFloat().tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self,
        forward_backward: ForwardBackward | None = None,
        *,
        w1: float = 0.8,
        b1: float = -0.4,
        w2: float = -1.3,
        b2: float = 0.6,
        x: float = 1.5,
        y: float = 0.2,
        param: str = "w2",
        step: float = 0.5,
    ) -> None:
        if forward_backward is not None and not callable(forward_backward):
            raise TypeError(
                "forward_backward must be a function f(w1, b1, w2, b2, x, y) -> dict, or None; "
                f"got {type(forward_backward).__name__}"
            )
        self._forward_backward = forward_backward
        self._ready = False  # compute once, after every trait has its value
        super().__init__(w1=w1, b1=b1, w2=w2, b2=b2, x=x, y=y, param=param, step=step)
        self._ready = True
        self._publish()
        self.on_msg(self._answer_ping)

    @traitlets.validate("param")
    def _valid_param(self, proposal: dict) -> str:
        if proposal["value"] not in PARAMS:
            raise ValueError(f"param must be one of {', '.join(PARAMS)}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe(*INPUTS, "param", "step")
    def _inputs_changed(self, change: dict) -> None:
        if self._ready:
            self._publish()

    def _evaluate(self, **override: float) -> dict[str, float]:
        """``forward_backward`` at the current values (one of them possibly overridden), checked."""
        values = {name: getattr(self, name) for name in INPUTS} | override
        return checked(self._forward_backward(*(values[name] for name in INPUTS)))

    def _publish(self) -> None:
        """Recompute the kernel's numbers for the current values and send them to the front end."""
        if self._forward_backward is None:
            self.set_trait("kernel", {})
            return
        here = self._evaluate()
        nudged = self._evaluate(**{self.param: getattr(self, self.param) + self.step})
        gradient = here[f"dC_d{self.param}"]
        inputs = {name: getattr(self, name) for name in (*INPUTS, "param", "step")}
        self.set_trait(
            "kernel",
            {
                **here,
                "gradient": gradient,
                "predicted_change": gradient * self.step,
                "actual_change": nudged["C"] - here["C"],
                "inputs": inputs,
            },
        )

    def _answer_ping(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The front end asks whether a kernel is listening; in the static book nobody answers."""
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send({"type": "pong"})

    def readout(self) -> dict[str, float]:
        """The numbers the widget shows in a live kernel (``kernel`` without ``inputs``).

        Keys: those of :data:`KEYS` plus ``gradient``, ``predicted_change``, ``actual_change``;
        empty when there is no ``forward_backward``.
        """
        return {key: value for key, value in self.kernel.items() if key != "inputs"}
