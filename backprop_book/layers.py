"""Layers that make deep networks train: batch norm, layer norm, dropout, gradient clipping.

Samples are columns, as everywhere in the book: a batch ``X`` is (n, m), n features and m
samples. Each layer has a forward function that returns its output and what its backward
pass needs (a small cache), and a backward function that turns dC/d(output) into
dC/d(input) and the gradients of its own parameters.

Batch norm normalizes each feature (row) over the batch, layer norm each sample (column)
over its features; both then scale and shift each feature by gamma and beta, columns of
shape (n, 1)::

    mean, var over the normalized axis (var with 1/N, N the axis' length)
    X_hat = (X - mean) / sqrt(var + eps)
    Y     = gamma * X_hat + beta

and both share one backward kernel, :func:`norm_backward`::

    dX_hat = gamma * dY
    dX     = (dX_hat - mean(dX_hat) - X_hat * mean(dX_hat * X_hat)) / sqrt(var + eps)
    dgamma = sum over samples of dY * X_hat,   dbeta = sum over samples of dY   (n, 1)

In evaluation mode batch norm uses running statistics, constants, so dX = gamma * dY /
sqrt(running_var + eps). Public functions check their inputs once; the kernels (``_...``)
run plain NumPy.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _validate as check

#: Which axis of an (n, m) batch each norm averages over.
AXES = {"batch": 1, "layer": 0}


@dataclass
class RunningStats:
    """Batch norm's running mean and variance per feature, (n, 1) each, as torch keeps them.

    After each training batch: mean <- (1 - momentum) mean + momentum * batch mean, and the
    same for the variance with the batch's *unbiased* variance (1/(m - 1)), while the batch
    itself is normalized with the biased one (1/m).
    """

    mean: np.ndarray
    var: np.ndarray
    momentum: float = 0.1

    @classmethod
    def fresh(cls, n: int, momentum: float = 0.1) -> RunningStats:
        """Mean 0 and variance 1 for n features (torch's start)."""
        return cls(np.zeros((n, 1)), np.ones((n, 1)), momentum)


@dataclass
class NormCache:
    """What a norm's forward pass keeps for its backward pass."""

    x_hat: np.ndarray  # (n, m), the normalized input
    inv_std: np.ndarray  # 1 / sqrt(var + eps): (n, 1) for batch norm, (1, m) for layer norm
    gamma: np.ndarray  # (n, 1)
    axis: int | None  # the axis the statistics came from; None: constants (evaluation mode)


# ------------------------------------------------------------------ input checks


def _eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a number >= 0 (torch's default is 1e-5); got {eps!r}")
    return float(eps)


def _affine(gamma, beta, n: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, v in (("gamma", gamma), ("beta", beta)):
        arr = check.finite_array(v, name)
        if arr.shape == (n,):
            arr = arr.reshape(n, 1)
        if arr.shape != (n, 1):
            raise ValueError(
                f"{name} must be a column of shape ({n}, 1), one value per feature (row) of X; "
                f"got shape {arr.shape}"
            )
        out.append(arr)
    return out[0], out[1]


def _upstream(dY, cache: NormCache) -> np.ndarray:
    if not isinstance(cache, NormCache):
        raise TypeError(
            f"cache must be the NormCache that batch_norm or layer_norm returned; got "
            f"{type(cache).__name__}"
        )
    dY = check.finite_array(dY, "dY")
    if dY.shape != cache.x_hat.shape:
        raise ValueError(
            f"dY must have the shape of the forward pass' output, {cache.x_hat.shape}; got "
            f"{dY.shape}"
        )
    return dY


# ------------------------------------------------------------------ batch norm and layer norm


def batch_norm(
    X,
    gamma,
    beta,
    *,
    eps: float = 1e-5,
    training: bool = True,
    running: RunningStats | None = None,
) -> tuple[np.ndarray, NormCache]:
    """Batch norm of X (n, m): each feature (row) normalized over the batch.

    training=True: the batch's own mean and (1/m) variance; ``running``, if given, is
    updated in place (torch's rule, see :class:`RunningStats`). training=False: ``running``
    is required and its mean and variance are used instead (constants: nothing is learned
    from the batch). Returns Y (n, m) and the cache for :func:`norm_backward`.
    """
    X, eps = check.batch(X, "X"), _eps(eps)
    gamma, beta = _affine(gamma, beta, X.shape[0])
    if running is not None and not isinstance(running, RunningStats):
        raise TypeError(f"running must be a RunningStats; got {type(running).__name__}")
    if not training:
        if running is None:
            raise ValueError(
                "batch_norm in evaluation mode (training=False) needs running statistics: "
                "pass running=RunningStats(...) kept during training"
            )
        return _norm_constant(X, gamma, beta, running.mean, running.var, eps)
    if X.shape[1] < 2:
        raise ValueError(
            f"batch norm in training mode needs at least 2 samples per batch (a batch of one "
            f"has variance 0); X has shape {X.shape}"
        )
    Y, cache = _norm(X, gamma, beta, AXES["batch"], eps)
    if running is not None:
        _update_running(running, X)
    return Y, cache


def layer_norm(X, gamma, beta, *, eps: float = 1e-5) -> tuple[np.ndarray, NormCache]:
    """Layer norm of X (n, m): each sample (column) normalized over its n features.

    The same in training and evaluation (no batch statistics), so it works with a batch of
    one. Returns Y (n, m) and the cache for :func:`norm_backward`.
    """
    X, eps = check.batch(X, "X"), _eps(eps)
    gamma, beta = _affine(gamma, beta, X.shape[0])
    if X.shape[0] < 2:
        raise ValueError(f"layer norm needs at least 2 features per sample; X has shape {X.shape}")
    return _norm(X, gamma, beta, AXES["layer"], eps)


def norm_backward(dY, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dX (n, m), dgamma (n, 1), dbeta (n, 1) from dY = dC/dY (n, m), for either norm."""
    return _norm_backward(_upstream(dY, cache), cache)


def _norm(X, gamma, beta, axis: int, eps: float) -> tuple[np.ndarray, NormCache]:
    mean = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, keepdims=True)  # 1/N: the statistics of this batch, not an estimate
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (X - mean) * inv_std
    return gamma * x_hat + beta, NormCache(x_hat, inv_std, gamma, axis)


def _norm_constant(X, gamma, beta, mean, var, eps: float) -> tuple[np.ndarray, NormCache]:
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (X - mean) * inv_std
    return gamma * x_hat + beta, NormCache(x_hat, inv_std, gamma, None)


def _update_running(running: RunningStats, X: np.ndarray) -> None:
    mom = running.momentum
    running.mean = (1 - mom) * running.mean + mom * X.mean(axis=1, keepdims=True)
    running.var = (1 - mom) * running.var + mom * X.var(axis=1, ddof=1, keepdims=True)


def _norm_backward(dY, cache: NormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x_hat, inv_std, axis = cache.x_hat, cache.inv_std, cache.axis
    dgamma = np.sum(dY * x_hat, axis=1, keepdims=True)  # gamma is per feature: sum over samples
    dbeta = np.sum(dY, axis=1, keepdims=True)
    dx_hat = cache.gamma * dY
    if axis is None:  # evaluation mode: mean and variance are constants
        return dx_hat * inv_std, dgamma, dbeta
    centred = dx_hat - dx_hat.mean(axis=axis, keepdims=True)
    dX = inv_std * (centred - x_hat * np.mean(dx_hat * x_hat, axis=axis, keepdims=True))
    return dX, dgamma, dbeta


# ------------------------------------------------------------------ dropout


def dropout(
    X, p: float, *, rng: np.random.Generator | None = None, training: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout: each entry kept with probability 1 - p and scaled by 1/(1 - p).

    Returns Y and the mask (1.0 kept, 0.0 dropped; all ones in evaluation, where Y = X).
    The scale keeps E[Y] = X, so evaluation needs no correction.
    """
    X = check.finite_array(X, "X")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"p, the probability of dropping, must be in [0, 1); got {p!r}")
    if not training or p == 0:
        return X.copy(), np.ones_like(X)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "dropout in training needs rng=np.random.default_rng(seed), so that the same "
            f"units drop on every run; got {type(rng).__name__}"
        )
    mask = (rng.random(X.shape) >= p).astype(X.dtype)
    return X * mask / (1 - p), mask


def dropout_backward(dY, mask, p: float) -> np.ndarray:
    """dX = dY * mask / (1 - p): the same units that were dropped get no gradient."""
    dY, mask = check.finite_array(dY, "dY"), check.finite_array(mask, "mask")
    if dY.shape != mask.shape:
        raise ValueError(f"dY has shape {dY.shape} but the mask {mask.shape}; expected the same")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1); got {p!r}")
    return dY * mask / (1 - p)


# ------------------------------------------------------------------ gradient clipping


def clip_by_global_norm(
    grads: Sequence[np.ndarray], max_norm: float
) -> tuple[list[np.ndarray], float]:
    """All gradients scaled by min(1, max_norm / ||g||), ||g|| the norm of all of them as one
    vector; returns the clipped list and ||g|| before clipping.

    The direction is kept; only the length is capped at max_norm. (torch's
    ``clip_grad_norm_`` divides by ||g|| + 1e-6, a difference below 1e-6 relative.)
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}")
    if isinstance(grads, np.ndarray) or not isinstance(grads, Sequence) or not grads:
        raise TypeError("grads must be a non-empty list of arrays (one per parameter)")
    arrays = [check.finite_array(g, f"grads[{i}]") for i, g in enumerate(grads)]
    total = float(np.sqrt(sum(float(np.sum(g * g)) for g in arrays)))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return [g * factor for g in arrays], total


__all__ = [
    "AXES",
    "RunningStats",
    "NormCache",
    "batch_norm",
    "layer_norm",
    "norm_backward",
    "dropout",
    "dropout_backward",
    "clip_by_global_norm",
]
