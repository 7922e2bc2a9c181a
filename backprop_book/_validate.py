"""Input checks for the public functions: each error says what was expected and what came.

The public functions of :mod:`backprop_book.reference` call these once, at their edge, and
then run plain private kernels: a wrong shape, type or name fails at the reader's own call
with one readable message, not deep inside NumPy, and a correct call pays for one check.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np


def real_array(x, name: str) -> np.ndarray:
    """``x`` as a real floating-point array; float32 stays float32 (no copy if it already is one).

    Integers and booleans become float64. None, complex numbers and non-numbers are errors:
    NumPy would turn None into NaN and silently drop an imaginary part.
    """
    if x is None:
        raise TypeError(f"{name} must be an array of real numbers; got None")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:  # e.g. ragged nested lists
        raise ValueError(
            f"{name} must be an array of numbers; got {type(x).__name__} ({err})"
        ) from None
    if arr.dtype.kind == "c":
        raise TypeError(
            f"{name} must be real; got complex numbers (dtype {arr.dtype}); the book's networks "
            f"are real-valued (pass {name}.real if the imaginary part is meant to be dropped)"
        )
    if arr.dtype.kind == "O" and any(v is None for v in arr.flat):
        raise TypeError(f"{name} must be an array of real numbers; it contains None")
    if arr.dtype.kind != "f":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{name} must be an array of numbers; got {type(x).__name__} ({err})"
            ) from None
    return arr


def finite_array(x, name: str) -> np.ndarray:
    """``x`` as a real float array (see :func:`real_array`); NaN or inf is an error."""
    arr = real_array(x, name)
    if not _all_finite(arr):
        bad = ~np.isfinite(arr)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains NaN or inf ({int(bad.sum())} of {arr.size} entries, first at index "
            f"{first}); expected finite numbers"
        )
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    """Whether every entry is finite, cheaply for a large array.

    x . x is finite exactly when every entry is (squares cannot cancel), unless it overflows:
    one BLAS pass with no temporary array, so the entry-by-entry look is the rare case.
    """
    if arr.size > 65536:  # below this, np.errstate costs more than the dot saves
        flat = arr.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(arr).all())


def batch(x, name: str) -> np.ndarray:
    """``x`` as an (n, m) batch, samples as columns; a 1-D ``x`` of length n becomes (n, 1)."""
    arr = finite_array(x, name)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n, m), one sample per column (or 1-D for a single "
            f"sample); got {arr.ndim}-D with shape {arr.shape}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}, no samples; expected at least one column")
    return arr


def params(params) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check ``[(W1, b1), ..., (WL, bL)]``: W^(l) is (n_l, n_{l-1}), b^(l) is (n_l, 1)."""
    if not isinstance(params, Sequence) or len(params) == 0:
        raise ValueError(
            f"params must be a non-empty list of (W, b) pairs, one per layer; got {params!r:.60}"
        )
    checked: list[tuple[np.ndarray, np.ndarray]] = []
    for layer, pair in enumerate(params, start=1):
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(
                f"params[{layer - 1}] must be the pair (W{layer}, b{layer}); got {pair!r:.60}"
            )
        W, b = finite_array(pair[0], f"W{layer}"), finite_array(pair[1], f"b{layer}")
        if W.ndim != 2:
            raise ValueError(
                f"W{layer} must be 2-D with shape (n_{layer}, n_{layer - 1}); got shape {W.shape}"
            )
        if checked and W.shape[1] != checked[-1][0].shape[0]:
            W_prev, k = checked[-1][0], layer - 1
            n = b.shape[0] if b.ndim == 2 and b.shape[1] == 1 else W.shape[0]
            hint = (
                f" (W{layer}.T would fit: is it transposed?)"
                if W.shape == (W_prev.shape[0], n)
                else ""
            )
            raise ValueError(
                f"layers {k} and {layer} do not chain: layer {k} has {W_prev.shape[0]} neurons "
                f"(W{k} has shape {W_prev.shape}) but W{layer} has shape {W.shape}, i.e. "
                f"{W.shape[1]} inputs; W{layer} must have shape ({n}, {W_prev.shape[0]}) "
                f"since W[j, k] is the weight to neuron j from neuron k{hint}"
            )
        if b.shape != (W.shape[0], 1) and b.shape == (W.shape[1], 1):
            raise ValueError(
                f"W{layer} has shape {W.shape} but b{layer} has shape {b.shape}, so layer {layer} "
                f"has {b.shape[0]} neurons and W{layer} must have shape "
                f"({b.shape[0]}, {W.shape[0]}) (W{layer}.T would fit: is it transposed? "
                f"W[j, k] is the weight to neuron j from neuron k)"
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(
                f"b{layer} has shape {b.shape} but layer {layer} has {W.shape[0]} neurons "
                f"(W{layer} has shape {W.shape}); b{layer} must be a column of shape "
                f"({W.shape[0]}, 1)"
            )
        checked.append((W, b))
    return checked


def activations(names, n_layers: int, valid: Sequence[str]) -> list[str]:
    """One known activation name per layer."""
    if isinstance(names, str):
        raise ValueError(
            f"activations must be a list of names, one per layer; got the string {names!r} "
            f"(for {n_layers} layer(s) pass e.g. {[names] * n_layers})"
        )
    if not isinstance(names, Sequence):
        raise TypeError(
            f"activations must be a list of names, one per layer (e.g. "
            f"{['sigmoid'] * n_layers}); got {names!r:.60}"
        )
    names = list(names)
    if len(names) != n_layers:
        raise ValueError(
            f"got {len(names)} activation name(s) {names} for {n_layers} layer(s); "
            f"pass one name per layer, layers 1..{n_layers}"
        )
    for layer, name in enumerate(names, start=1):
        activation(name, valid, f" for layer {layer}")
    return names


def activation(name, valid: Sequence[str], where: str = "") -> str:
    """One known activation name."""
    if not isinstance(name, str) or name not in valid:
        raise ValueError(f"unknown activation {name!r}{where}; valid names: {', '.join(valid)}")
    return name


def cost(cost: str, names: list[str], valid: Sequence[str], layers: int | None = None) -> str:
    """A known cost name; cross-entropy only on top of a softmax output layer.

    ``names[-1]`` is the output layer's activation; ``layers`` (default ``len(names)``) is
    the output layer's number, for the message.
    """
    if not isinstance(cost, str) or cost not in valid:
        raise ValueError(f"unknown cost {cost!r}; valid costs: {', '.join(valid)}")
    if cost == "cross_entropy" and names[-1] != "softmax":
        raise ValueError(
            f"cost 'cross_entropy' needs a softmax output layer, but layer {layers or len(names)} "
            f"(the output) uses {names[-1]!r}; make the last activation 'softmax' or use "
            f"cost 'squared_error'"
        )
    return cost


def inputs(X, W1: np.ndarray) -> np.ndarray:
    """X as an (n_0, m) batch that layer 1 can take."""
    X = batch(X, "X")
    n_0 = W1.shape[1]
    if X.shape[0] != n_0:
        hint = " (X.T would fit: are the samples in rows?)" if X.shape[1] == n_0 else ""
        raise ValueError(
            f"X has {X.shape[0]} rows but layer 1 expects {n_0} inputs (W1 has shape "
            f"{W1.shape}); samples are columns: pass X with shape ({n_0}, m){hint}"
        )
    return X


def targets(Y, n_out: int, m: int, cost: str) -> np.ndarray:
    """Y as an (n_L, m) batch matching the network's output; probabilities for cross-entropy."""
    Y = batch(Y, "Y")
    if Y.shape != (n_out, m):
        raise ValueError(
            f"Y has shape {Y.shape} but the network outputs shape ({n_out}, {m}) for this X; "
            f"Y must have shape (n_L, m) = ({n_out}, {m}), one column per sample"
        )
    if cost == "cross_entropy":
        probability_columns(Y)
    return Y


def probability_columns(Y: np.ndarray, tol: float | None = None) -> None:
    """Every column of Y is non-negative and sums to 1 within ``tol`` (one-hot or soft label).

    The tolerance is tight because the output delta s - y is the gradient only when the
    column sums to exactly 1; a column summing to 1 + e adds e * s to the true gradient.
    By default it is 1e-9, or 64 rounding units for a coarser dtype (float32: about 8e-6).
    """
    if tol is None:
        tol = max(1e-9, 64 * float(np.finfo(Y.dtype).eps))
    if Y.min() < 0:
        j = int(np.argwhere(Y < 0)[0][1])
        raise ValueError(
            f"cross_entropy expects each column of Y to be a probability vector; column {j} "
            f"has a negative entry"
        )
    sums = Y.sum(axis=0)
    if np.abs(sums - 1).max() > tol:
        j = int(np.flatnonzero(np.abs(sums - 1) > tol)[0])
        raise ValueError(
            f"cross_entropy expects each column of Y to sum to 1 (a one-hot or soft label, "
            f"within {tol:g}); column {j} sums to {sums[j]:.12g}"
        )


def same_shape(A: np.ndarray, Y: np.ndarray, a_name: str) -> None:
    """A prediction and its target must have the same (n_L, m) shape."""
    if A.shape != Y.shape:
        raise ValueError(
            f"{a_name} has shape {A.shape} but Y has shape {Y.shape}; both must be (n_L, m), "
            f"one column per sample"
        )


def cache(cache, layers: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """The cache has one z and one a per layer, made by ``forward`` with these params."""
    L = len(layers)
    zs, as_ = getattr(cache, "zs", None), getattr(cache, "as_", None)
    if zs is None or as_ is None:
        raise ValueError(f"cache must be the Cache returned by forward; got {type(cache).__name__}")
    if len(zs) != L + 1 or len(as_) != L + 1:
        raise ValueError(
            f"cache has {len(as_)} activations a^(0..{len(as_) - 1}) but params have {L} "
            f"layer(s), so expected {L + 1}; make the cache with forward and these params"
        )
    for layer, (W, _) in enumerate(layers, start=1):
        a_prev, a = as_[layer - 1], as_[layer]
        if a.shape[0] != W.shape[0] or a_prev.shape[0] != W.shape[1]:
            raise ValueError(
                f"cache does not fit layer {layer}: a^({layer - 1}) has shape {a_prev.shape} and "
                f"a^({layer}) has shape {a.shape} but W{layer} has shape {W.shape}; make the "
                f"cache with forward and these params"
            )


def same_shape_as_z(g, z: np.ndarray, what: str) -> np.ndarray:
    """An upstream gradient g = dC/da must have the shape of z (one entry per entry of a)."""
    g = real_array(g, "g")
    if g.shape != z.shape:
        raise ValueError(
            f"g has shape {g.shape} but z has shape {z.shape}; g = dC/d{what} must have the "
            f"shape of z, one entry per entry of {what}"
        )
    return g


def sizes(sizes) -> list[int]:
    """Layer widths [n_0, n_1, ..., n_L]: at least two positive integers."""
    expected = "sizes must list >= 2 positive integers [n_0, ..., n_L]"
    if isinstance(sizes, str) or not isinstance(sizes, Sequence | np.ndarray):
        raise TypeError(f"{expected}; got {sizes!r:.60}")
    sizes = list(sizes)
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{expected}; got {sizes} (entry {n!r} is a {type(n).__name__})")
    if len(sizes) < 2 or min(sizes) <= 0:
        raise ValueError(f"{expected}; got {sizes}")
    return [int(n) for n in sizes]


def seed(seed) -> int:
    """A random seed: a non-negative integer (the book's randomness is always seeded)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer (e.g. seed=0); got {seed!r:.40}")
    return int(seed)


def scale(scale) -> float | None:
    """None (the default 1/sqrt(n_in)) or a standard deviation: a finite number >= 0."""
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(
            f"scale must be None or a number >= 0 (a standard deviation); got {scale!r:.40}"
        )
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(
            f"scale must be None or a finite number >= 0 (the standard deviation of the "
            f"weights); got {scale}"
        )
    return float(scale)
