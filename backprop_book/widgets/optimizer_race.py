"""OptimizerRace: gradient descent, momentum and Adam from one start on a 2-D quadratic.

The widget of the chapter on making deep networks train. The cost surface is

    C(w) = 1/2 w^T H w,   w = (x, y),   gradient H w,   minimum at w* = 0,

with H a symmetric positive definite 2 x 2 matrix (``hessian``). From ``start`` each
optimizer takes ``steps`` steps with the learning rate ``eta``:

* gradient descent:  w <- w - eta g
* momentum:          v <- beta v + g,  w <- w - eta v                  (v_0 = 0)
* Adam:              m <- beta m + (1 - beta) g,  s <- 0.999 s + 0.001 g*g,
                     w <- w - eta (m / (1 - beta^t)) / (sqrt(s / (1 - 0.999^t)) + 1e-8)

(``beta`` is the momentum and Adam's beta_1). The front end (``optimizer_race.js``)
computes the three paths itself, so the widget is live in the static book; in a kernel,
this class calls the chapter's own ``race(eta, beta, start, steps)`` on every change and
publishes its paths in the ``kernel`` trait, which the front end then draws and reports.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from ._assets import script, stylesheet

#: The three optimizers, in the order the widget lists them.
OPTIMIZERS = ("gd", "momentum", "adam")
#: Slider ranges: learning rate (0, 1], momentum [0, 1), steps 1..100.
ETA_RANGE, BETA_RANGE, MAX_STEPS = (0.0, 1.0), (0.0, 1.0), 100

#: ``race(eta, beta, start, steps) -> {"gd": [[x, y], ...], "momentum": ..., "adam": ...}``
Race = Callable[[float, float, list[float], int], Mapping[str, Any]]


def checked_hessian(value: object) -> list[list[float]]:
    """H as a 2 x 2 list: finite, symmetric and positive definite, or a clear error."""
    try:
        H = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"hessian must be a 2 x 2 matrix of numbers; got {value!r:.80}") from None
    if H.shape != (2, 2):
        raise ValueError(f"hessian must be a 2 x 2 matrix; got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError(f"hessian must be finite; got {H.tolist()}")
    if H[0, 1] != H[1, 0]:
        raise ValueError(f"hessian must be symmetric (H[0,1] == H[1,0]); got {H.tolist()}")
    if np.linalg.eigvalsh(H)[0] <= 0:
        raise ValueError(
            f"hessian must be positive definite (a bowl with one minimum); its eigenvalues "
            f"are {np.linalg.eigvalsh(H).round(6).tolist()}"
        )
    return H.tolist()


def checked_point(value: object, name: str) -> list[float]:
    """A point (x, y): two finite numbers."""
    try:
        w = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be two numbers [x, y]; got {value!r:.80}") from None
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be two finite numbers [x, y]; got {np.asarray(value).tolist()}")
    return [float(v) for v in w]


def checked_paths(result: object, steps: int) -> dict[str, list[list[float]]]:
    """``race``'s dict as plain lists: each optimizer's steps + 1 points, all finite."""
    expected = f"a dict with keys {', '.join(OPTIMIZERS)}, each a list of {steps + 1} points [x, y]"
    if not isinstance(result, Mapping):
        raise TypeError(f"race must return {expected}; it returned {type(result).__name__}")
    missing = [k for k in OPTIMIZERS if k not in result]
    if missing:
        raise ValueError(f"race must return {expected}; missing: {', '.join(missing)}")
    out = {}
    for name in OPTIMIZERS:
        try:
            path = np.asarray(result[name], dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"race's {name} path must be numbers; got {result[name]!r:.80}") from None
        if path.shape != (steps + 1, 2):
            raise ValueError(f"race's {name} path has shape {path.shape}; expected ({steps + 1}, 2)")
        bad = np.flatnonzero(~np.all(np.isfinite(path), axis=1))
        if bad.size:
            raise ValueError(
                f"race's {name} path is not finite at step {bad[0]}: it diverged past what a "
                "float holds; lower the learning rate or the number of steps"
            )
        out[name] = path.tolist()
    return out


class _Range(traitlets.Float):
    """A float in [low, high) or (low, high], refused with the range in the message."""

    def __init__(self, default: float, low: float, high: float, closed: str, **kw: Any) -> None:
        super().__init__(default, **kw)
        self.low, self.high, self.closed = low, high, closed

    def validate(self, obj: Any, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise traitlets.TraitError(f"{self.name} must be a number; got {value!r}")
        v = float(value)
        ok = math.isfinite(v) and (
            self.low < v <= self.high if self.closed == "right" else self.low <= v < self.high
        )
        if not ok:
            span = f"({self.low}, {self.high}]" if self.closed == "right" else f"[{self.low}, {self.high})"
            raise traitlets.TraitError(f"{self.name} must lie in {span}; got {value!r}")
        return v


class OptimizerRace(anywidget.AnyWidget):
    """Race gradient descent, momentum and Adam on C(w) = 1/2 w^T H w; sliders for eta, beta.

    Args:
        race: the chapter's ``race(eta, beta, start, steps) -> dict`` of three paths (each
            ``steps + 1`` points [x, y], the start first), or ``None``: then only the front
            end computes.
        hessian: H, 2 x 2, symmetric positive definite. start: the first point [x, y].
        eta: learning rate in (0, 1]. beta: momentum (and Adam's beta_1) in [0, 1).
        steps: how many steps each optimizer takes, 1..100.

    The ``kernel`` trait holds ``{"inputs": {...}, "paths": {...}}``: what ``race`` returned
    and the values it was computed for, so the front end shows it only while it is current.
    """

    _esm = script("optimizer_race")
    _css = stylesheet("card.css", "chart.css", "optimizer_race.css")

    hessian = traitlets.List().tag(sync=True)
    start = traitlets.List().tag(sync=True)
    eta = _Range(0.05, *ETA_RANGE, "right").tag(sync=True)
    beta = _Range(0.9, *BETA_RANGE, "left").tag(sync=True)
    steps = traitlets.Int(60).tag(sync=True)
    kernel = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(
        self, race: Race | None = None, *, hessian: Sequence[Sequence[float]],
        start: Sequence[float], eta: float = 0.05, beta: float = 0.9, steps: int = 60,
    ) -> None:
        if race is not None and not callable(race):
            raise TypeError(
                "race must be a function race(eta, beta, start, steps) -> dict, or None; "
                f"got {type(race).__name__}"
            )
        self._race = race
        self._ready = False
        super().__init__(hessian=checked_hessian(hessian), start=checked_point(start, "start"),
                         eta=eta, beta=beta, steps=steps)  # fmt: skip
        self._ready = True
        self._publish()
        self.on_msg(self._answer_ping)

    @traitlets.validate("hessian")
    def _valid_hessian(self, proposal: dict) -> list[list[float]]:
        return checked_hessian(proposal["value"])

    @traitlets.validate("start")
    def _valid_start(self, proposal: dict) -> list[float]:
        return checked_point(proposal["value"], "start")

    @traitlets.validate("steps")
    def _valid_steps(self, proposal: dict) -> int:
        value = proposal["value"]
        if not 1 <= value <= MAX_STEPS:
            raise traitlets.TraitError(f"steps must be in 1..{MAX_STEPS}; got {value}")
        return value

    @traitlets.observe("hessian", "start", "eta", "beta", "steps")
    def _inputs_changed(self, _change: dict) -> None:
        if self._ready:
            self._publish()

    @property
    def inputs(self) -> dict[str, Any]:
        """The values the paths depend on (besides ``hessian``, which ``race`` closes over)."""
        return {"eta": self.eta, "beta": self.beta, "start": list(self.start), "steps": self.steps}

    def _publish(self) -> None:
        if self._race is None:
            self.set_trait("kernel", {})
            return
        result = self._race(self.eta, self.beta, list(self.start), self.steps)
        self.set_trait("kernel", {"inputs": self.inputs, "paths": checked_paths(result, self.steps)})

    def _answer_ping(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """The front end asks whether a kernel listens; in the static book nobody answers."""
        if isinstance(content, dict) and content.get("type") == "ping":
            self.send({"type": "pong"})
