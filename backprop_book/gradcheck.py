"""Gradient checks: centered differences, relative error, and a backprop-ninja ``compare``.

The discipline from CS231n: never trust a hand-written gradient until it agrees with the
nudge-the-input-and-watch-the-output estimate

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h),   error O(h^2),

measured with a *relative* error, so the same threshold works for big and small gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from . import reference as backprop


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centered-difference estimate of the gradient of a scalar function f at x, shape of x.

    grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h) for every index i of x (any shape). Each
    entry of x is nudged IN PLACE and restored afterwards, so f may read x or anything that
    shares its memory (such as a weight matrix inside ``params``).
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"x must be a float ndarray (it is nudged in place); got {got}")
    if not h > 0:
        raise ValueError(f"h must be a positive step; got {h}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            f_plus = _scalar(f(x))
            x[i] = old - h
            f_minus = _scalar(f(x))
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def _scalar(value) -> float:
    value = np.asarray(value, dtype=float)
    if value.size != 1:
        raise ValueError(f"f must return a scalar; got an array of shape {value.shape}")
    return float(value.reshape(()))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max_i |a_i - b_i| / max(max_i |a_i| + max_i |b_i|, tiny), tiny = smallest positive float.

    The largest difference, measured against the size of the arrays: 0 when both are all
    zeros (or empty), at most 1 (reached when b = -a). For two numbers it is the familiar
    |a - b| / (|a| + |b|). The denominator is the size of the whole array, not of each entry,
    because centered differences are accurate to about 1e-11 *absolute*: an entry of 1e-6
    in a gradient whose other entries are near 1 would otherwise fail a 1e-7 check though
    nothing is wrong.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a has shape {a.shape} but b has shape {b.shape}; they must match")
    if a.size == 0:
        return 0.0
    size = np.max(np.abs(a)) + np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / max(size, np.finfo(float).tiny))


@dataclass
class GradCheckReport:
    """The result of ``check_gradients``: one relative error per parameter ("W1", "b1", ...).

    ``ok`` is True when every error is below ``threshold`` (NaN counts as a failure);
    ``worst`` is the pair (name, error) with the largest error.
    ``analytic`` and ``numerical`` keep both gradients, shaped like params, for a closer look.
    """

    errors: dict[str, float]
    threshold: float = 1e-7
    analytic: list = field(default_factory=list, repr=False)
    numerical: list = field(default_factory=list, repr=False)

    @property
    def worst(self) -> tuple[str, float]:
        return max(self.errors.items(), key=lambda item: np.nan_to_num(item[1], nan=np.inf))

    @property
    def ok(self) -> bool:
        return all(err < self.threshold for err in self.errors.values())

    def __str__(self) -> str:
        width = max(len(name) for name in self.errors)
        rows = [
            f"{name:<{width}}  rel.err {err:.1e}  {'ok' if err < self.threshold else 'FAILED'}"
            for name, err in self.errors.items()
        ]
        name, err = self.worst
        verdict = "ok" if self.ok else "FAILED"
        rows.append(f"worst: {name} {err:.1e} (threshold {self.threshold:.0e}): {verdict}")
        return "\n".join(rows)


def check_gradients(
    params: backprop.Params,
    X: np.ndarray,
    Y: np.ndarray,
    activations: Sequence[str],
    cost: str,
    h: float = 1e-5,
    threshold: float = 1e-7,
) -> GradCheckReport:
    """Compare ``reference.backward`` with centered differences of the cost, for every W and b.

    Each entry of a private copy of params is nudged by +-h and the batch cost re-evaluated
    (``numerical_gradient``); each parameter gets one ``relative_error``. A layer whose whole
    gradient has vanished (largest entry below about 1e-4, e.g. behind a deep chain of
    saturated sigmoids) is below what centered differences resolve to 1e-7 and may read
    FAILED though backward is right: compare ``report.analytic`` and ``report.numerical``.
    """
    work = [(W.copy(), b.copy()) for W, b in check.params(params)]  # private copies to nudge
    cache = backprop.forward(work, X, activations)
    analytic = backprop.backward(work, cache, Y, activations, cost)
    _same_shapes(analytic, work)

    def cost_now(_: np.ndarray) -> float:
        return backprop.loss(work, X, Y, activations, cost)

    errors, numerical = {}, []
    for layer, ((W, b), (dW, db)) in enumerate(zip(work, analytic, strict=True), start=1):
        numerical.append((numerical_gradient(cost_now, W, h), numerical_gradient(cost_now, b, h)))
        errors[f"W{layer}"] = relative_error(dW, numerical[-1][0])
        errors[f"b{layer}"] = relative_error(db, numerical[-1][1])
    return GradCheckReport(errors, threshold, analytic, numerical)


def _same_shapes(grads, params) -> None:
    """backward must return one (dW, db) per layer, shaped like (W, b)."""
    if len(grads) != len(params):
        raise ValueError(f"backward returned {len(grads)} (dW, db) pairs for {len(params)} layers")
    for layer, ((W, b), (dW, db)) in enumerate(zip(params, grads, strict=True), start=1):
        for name, p, g in ((f"W{layer}", W, dW), (f"b{layer}", b, db)):
            if np.shape(g) != p.shape:
                raise ValueError(
                    f"backward returned d{name} of shape {np.shape(g)}; {name} has {p.shape}"
                )


def compare(name: str, ours: np.ndarray, reference: np.ndarray) -> bool:
    """Print ``name | exact: ... | close: ... | max diff: ...`` and return whether close.

    exact = np.array_equal; close = np.allclose(ours, reference, rtol=1e-7, atol=1e-9);
    max diff = max |ours - reference|. (Pass a PyTorch tensor as ``t.detach().numpy()``.)
    """
    ours, reference = np.asarray(ours), np.asarray(reference)
    if ours.shape != reference.shape:
        raise ValueError(
            f"{name}: ours has shape {ours.shape} but the reference has shape "
            f"{reference.shape}; they must match"
        )
    exact = bool(np.array_equal(ours, reference))
    close = bool(np.allclose(ours, reference, rtol=1e-7, atol=1e-9))
    max_diff = (
        float(np.max(np.abs(np.subtract(ours, reference, dtype=float)))) if ours.size else 0.0
    )
    print(f"{name} | exact: {exact} | close: {close} | max diff: {max_diff:.1e}")
    return close
