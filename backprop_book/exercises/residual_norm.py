"""Exercises of the chapter on deep networks that train: the given numbers and the checkers.

1. ``ex-resnorm-bn-backward``: a function ``batch_norm_backward(dY, X, gamma, eps)`` that
   returns ``(dX, dgamma, dbeta)``. The checker calls it on fresh random batches (samples as
   columns; one of them square, so that a wrong axis keeps the right shape), compares each
   returned array with the package's backward and with centered differences, and names the
   classic mistakes: the mean treated as a constant, 1/(m - 1) in the variance, the wrong
   axis (layer norm's), dgamma or dbeta summed over the wrong axis, gamma left out of dX.
   An exception in the reader's code is reported with the reader's own line.
2. ``ex-resnorm-checkpoint``: the most bytes held at once by a checkpointed backward pass
   with k dividing L, (L/k + r k - 1) m n q: the top segment's first input is its checkpoint,
   held once (diagnoses: that array counted twice, no checkpoints counted, no recomputed
   segment, the plain count, float32's 4 bytes).
3. ``ex-resnorm-clip``: a gradient clipped to a global norm tau (diagnoses: each entry
   clipped to [-tau, tau], the unit vector without tau, tau / ||g||^2).

Right answers come from independent computations: the package's backward
(:func:`backprop_book.layers.norm_backward`, tested against torch) and centered differences
for the function; counting the arrays of a simulated checkpointed pass for the memory; and
scaling by min(1, tau/||g||) checked against the direction and length for the clipping.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import layers
from ..checkers import NotQuiteRight, Verdict, check_array, given, is_placeholder, not_done, right

BN_BACKWARD = "ex-resnorm-bn-backward"
CHECKPOINT = "ex-resnorm-checkpoint"
CLIP = "ex-resnorm-clip"
EPS = 1e-5
_PACKAGE = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ 1. batch norm's backward


def _inputs() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """Batches the chapter never shows: (dY, X, gamma, eps), shapes (3, 5), (4, 4) (square, so
    that a wrong axis keeps the right shape) and (2, 7). Seeded: the same verdict every run."""
    rng = np.random.default_rng(2028)
    cases = []
    for n, m in ((3, 5), (4, 4), (2, 7)):
        X = rng.normal(1.0, 2.0, size=(n, m))
        cases.append((rng.normal(size=(n, m)), X, rng.uniform(0.5, 2.0, size=(n, 1)), EPS))
    return cases


def _reference(dY, X, gamma, eps):
    _, cache = layers.batch_norm(X, gamma, np.zeros_like(gamma), eps=eps)
    return layers.norm_backward(dY, cache)


def _by_differences(dY, X, gamma, eps, h=1e-6):
    """dX, dgamma, dbeta of C = sum(dY * batch_norm(X)) by centered differences."""

    def cost(X_, gamma_, beta_):
        return float(np.sum(dY * layers.batch_norm(X_, gamma_, beta_, eps=eps)[0]))

    values = [np.array(X, dtype=float), np.array(gamma, dtype=float), np.zeros_like(gamma)]
    grads = []
    for v in values:
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            old = v[idx]
            v[idx] = old + h
            up = cost(*values)
            v[idx] = old - h
            down = cost(*values)
            v[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def _compact(dY, X, gamma, eps, axis=1, ddof=0, mean_term=True, with_gamma=True, sum_axis=1):
    """The compact backward with one of the classic mistakes switched on."""
    mean = X.mean(axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(X.var(axis=axis, ddof=ddof, keepdims=True) + eps)
    x_hat = (X - mean) * inv_std
    dx_hat = gamma * dY if with_gamma else dY
    centred = dx_hat - dx_hat.mean(axis=axis, keepdims=True) if mean_term else dx_hat
    dX = inv_std * (centred - x_hat * np.mean(dx_hat * x_hat, axis=axis, keepdims=True))
    x_hat_right = (X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + eps)
    dgamma = np.sum(dY * x_hat_right, axis=sum_axis, keepdims=True)
    dbeta = np.sum(dY, axis=sum_axis, keepdims=True)
    return dX, dgamma, dbeta


#: (which arrays the mistake changes, diagnosis, the wrong computation)
MISTAKES: list[tuple[tuple[int, ...], str, Callable]] = [
    ((0,), "dX treats the batch mean as a constant: the term -mean(dX_hat) is missing. The mean "
     "depends on every sample, so nudging one sample moves every x_hat of the batch; that "
     "path adds -(1/m) sum_k dX_hat_k to each entry.",
     lambda *a: _compact(*a, mean_term=False)),
    ((0,), "the variance uses 1/(m - 1). Batch norm normalizes with the batch's own variance, "
     "1/m (the unbiased 1/(m - 1) only goes into the running variance kept for evaluation).",
     lambda *a: _compact(*a, ddof=1)),
    ((0,), "dX normalizes over the wrong axis: over each sample's features (axis 0), which is "
     "layer norm. Batch norm normalizes each feature (row) over the batch (axis=1).",
     lambda *a: _compact(*a, axis=0)),
    ((1, 2), "dgamma and dbeta are summed over the features (axis 0). gamma and beta hold one "
     "number per feature, so their gradients sum over the samples: axis=1, keepdims=True, "
     "shape (n, 1).", lambda *a: _compact(*a, sum_axis=0)),
    ((0,), "dX is missing the factor gamma: Y = gamma * X_hat + beta, so dC/dX_hat = gamma * dY "
     "before the normalization's backward.", lambda *a: _compact(*a, with_gamma=False)),
]
NAMES = ("dX", "dgamma", "dbeta")


_LIBRARIES = tuple(
    os.path.realpath(p) + os.sep for p in {str(_PACKAGE), sys.prefix, sys.base_prefix,
                                           os.path.dirname(np.__file__)}
)  # fmt: skip


def _theirs(filename: str) -> bool:
    """Whether a traceback frame is the reader's code (not NumPy's, Python's or ours)."""
    real = os.path.realpath(filename)
    return not (real.startswith(_LIBRARIES) or "site-packages" in real)


def _own_line(err: BaseException) -> str:
    """The last line of the reader's code in the traceback (not NumPy's, not ours)."""
    frames = traceback.extract_tb(err.__traceback__)
    mine = [f for f in frames if _theirs(f.filename)]
    frame = mine[-1] if mine else None
    if frame is None or not frame.line:
        return ""
    return f" Your line {frame.lineno}: {frame.line.strip()}"


def _call(answer: Callable, args: tuple) -> tuple[np.ndarray, ...]:
    n, m = args[1].shape
    try:
        result = answer(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))
    except NotImplementedError:
        raise
    except Exception as err:  # the reader's code: one line, theirs
        raise NotQuiteRight(
            f"calling batch_norm_backward(dY, X, gamma, eps) with X of shape {(n, m)} raised "
            f"{type(err).__name__}: {err}.{_own_line(err)}"
        ) from None
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise NotQuiteRight(
            "batch_norm_backward must return three arrays, (dX, dgamma, dbeta); it returned "
            f"{type(result).__name__}" + (f" of length {len(result)}" if hasattr(result, "__len__") else "")
        )
    out = []
    for name, value in zip(NAMES, result, strict=True):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise NotQuiteRight(f"{name} should be an array of numbers; got {type(value).__name__}") from None
        out.append(arr)
    return tuple(out)


def _same(a: np.ndarray, b: np.ndarray, tol: float = 1e-7) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.size != b.size:
        return False
    return bool(np.allclose(a.reshape(-1), np.asarray(b).reshape(-1), rtol=tol, atol=tol))


def check_bn_backward(answer: object) -> Verdict:
    """``batch_norm_backward(dY, X, gamma, eps) -> (dX, dgamma, dbeta)`` on fresh batches."""
    what = "batch_norm_backward"
    if is_placeholder(answer):
        return not_done(what)
    if not callable(answer):
        raise NotQuiteRight(f"{what} should be a function (def ...); you gave a {type(answer).__name__}.")
    cases = _inputs()
    try:
        got = [_call(answer, args) for args in cases]
    except NotImplementedError:
        return not_done(what)
    want = [_reference(*args) for args in cases]
    for (dY, X, gamma, eps), g, w in zip(cases, got, want, strict=True):
        for which, (name, a, b) in enumerate(zip(NAMES, g, w, strict=True)):
            if _same(a, b) and a.shape != b.shape:
                raise NotQuiteRight(
                    f"{name} has the right numbers but shape {a.shape}; expected {b.shape} "
                    f"(X of shape {X.shape}: {'n x m, like X' if which == 0 else 'a column, one number per feature (keepdims=True)'})."
                )
        for arrays, diagnosis, wrong in MISTAKES:
            bad = wrong(dY, X, gamma, eps)
            if all(_same(g[i], bad[i]) and not _same(bad[i], w[i]) for i in arrays):
                raise NotQuiteRight(f"{what}: {diagnosis}")
        for name, a, b in zip(NAMES, g, w, strict=True):
            if a.shape != b.shape:
                raise NotQuiteRight(
                    f"{name} should have shape {b.shape} for X of shape {X.shape}; yours has "
                    f"shape {a.shape}."
                )
    fd = [_by_differences(*args) for args in cases]
    for (_, X, _, _), g, w, f in zip(cases, got, want, fd, strict=True):
        ok = [_same(a, b) and _same(b, c, 1e-5) for a, b, c in zip(g, w, f, strict=True)]
        if not all(ok):
            wrong_names = [name for name, good in zip(NAMES, ok, strict=True) if not good]
            right_names = [name for name, good in zip(NAMES, ok, strict=True) if good]
            a, b = g[ok.index(False)], w[ok.index(False)]
            off = int((~np.isclose(a, b, rtol=1e-7, atol=1e-7)).sum())
            raise NotQuiteRight(
                f"{', '.join(wrong_names)} {'is' if len(wrong_names) == 1 else 'are'} not right "
                f"for X of shape {X.shape} ({off} of {a.size} entries of {wrong_names[0]} differ "
                "from centered differences)"
                + (f"; {', '.join(right_names)} {'is' if len(right_names) == 1 else 'are'} right." if right_names else ".")
            )
    return right(what, f"(dX, dgamma and dbeta agree with centered differences on "
                       f"{len(cases)} fresh random batches.)")  # fmt: skip


# ------------------------------------------------------------------ 2. checkpointing's memory


def checkpoint_numbers() -> dict:
    """Batch m, width n, depth L, arrays kept per block r (one of them the block's input),
    spacing k, bytes per number q (``bytes_per_number``)."""

    def draw(rng: np.random.Generator) -> dict:
        k = int(rng.integers(3, 9))
        L = k * int(rng.integers(4, 9))  # k divides L
        return {"m": int(rng.choice([32, 64, 128, 256, 512])),
                "n": int(rng.choice([16, 32, 64, 128, 256])),
                "L": L, "r": int(rng.integers(2, 4)), "k": k, "bytes_per_number": 8}  # fmt: skip

    return given(CHECKPOINT, {"m": 128, "n": 64, "L": 30, "r": 2, "k": 5, "bytes_per_number": 8}, draw)


def _simulated_peak(m: int, n: int, L: int, r: int, k: int, q: int) -> int:
    """Walk a checkpointed backward pass and record the most bytes held at once."""
    array = m * n * q
    held = [array for start in range(0, L, k)]  # H^(0), H^(k), ... kept by the forward pass
    peak = sum(held)
    for start in reversed(range(0, L, k)):
        # the recomputed segment's caches, r arrays per block; its first block's input is
        # the checkpoint already held, so one array fewer
        segment = (min(k, L - start) * r - 1) * array
        peak = max(peak, sum(held) + segment)
        held.pop()
    return peak


def check_checkpoint(answer: object) -> Verdict:
    """The most bytes a checkpointed backward pass holds at once."""
    nums = checkpoint_numbers()
    m, n, L, r, k, q = (nums[key] for key in ("m", "n", "L", "r", "k", "bytes_per_number"))
    expected = _simulated_peak(m, n, L, r, k, q)
    array = m * n * q
    return check_array(
        answer,
        expected,
        what="the peak bytes",
        mistakes={
            "that counts the top segment's first input twice: it *is* the checkpoint H^(L-k), "
            "the same array, so the peak is one array less than L/k + r k.": (L // k + r * k) * array,
            "that counts the recomputed segment but not the checkpoints kept from the forward "
            "pass: L/k of them, and the first ones stay until the end of the backward pass.": r * k * array,
            "that counts the checkpoints but not the segment recomputed between two of them: "
            "its k blocks keep r arrays each while their backward runs.": (L // k) * array,
            "that is the plain backward pass, which keeps every block's arrays (r L of them); "
            "checkpointing keeps far fewer.": r * L * array,
            "that counts 4 bytes per number (float32); the book's arrays are float64, 8 bytes.":
            (L // k + r * k - 1) * m * n * 4,
        },  # fmt: skip
        rtol=0.0,
        atol=0.5,
    )


# ------------------------------------------------------------------ 3. clipping


def clip_numbers() -> dict:
    """A gradient g (longer than tau) and the clipping threshold tau."""

    def draw(rng: np.random.Generator) -> dict:
        g = np.round(rng.normal(0, 3, size=4), 2)
        tau = round(float(rng.uniform(0.2, 0.8) * np.linalg.norm(g)), 2)
        return {"g": g.tolist(), "tau": tau}

    return given(CLIP, {"g": [3.0, -4.0, 0.5, 2.0], "tau": 2.5}, draw)


def check_clip(answer: object) -> Verdict:
    """g clipped to global norm tau: g * min(1, tau / ||g||)."""
    if is_placeholder(answer):
        return not_done("the clipped gradient")
    nums = clip_numbers()
    g, tau = np.asarray(nums["g"], dtype=float), nums["tau"]
    norm = float(np.linalg.norm(g))
    expected = g * (tau / norm)  # ||g|| > tau: same direction, length tau
    assert abs(np.linalg.norm(expected) - tau) < 1e-12 and norm > tau
    return check_array(
        answer,
        expected,
        what="the clipped gradient",
        mistakes={
            "each entry was clipped to [-tau, tau] (clipping by value). That changes the "
            "direction; clipping by the global norm scales the whole vector by tau / ||g||.":
            np.clip(g, -tau, tau),
            "that is the unit vector g / ||g||: its length is 1, not tau. Multiply by tau.":
            g / norm,
            "that divides by ||g||^2: the factor is tau / ||g||.": g * tau / norm**2,
        },  # fmt: skip
        rtol=1e-9,
        atol=1e-12,
    )


def numbers_table(numbers: dict) -> str:
    """The given numbers, one labelled line each."""
    lines = []
    for key, value in numbers.items():
        arr = np.asarray(value)
        lines.append(f"{key} = " + (np.array2string(arr, precision=4) if arr.ndim else str(value)))
    return "\n".join(lines)


__all__ = [
    "check_bn_backward",
    "checkpoint_numbers",
    "check_checkpoint",
    "clip_numbers",
    "check_clip",
    "numbers_table",
]
