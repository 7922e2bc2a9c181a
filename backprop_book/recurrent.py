"""A plain recurrent network (tanh) and backpropagation through time, samples as columns.

One step reads the input x_t and the previous hidden state h_{t-1}:

    h_t = tanh(W h_{t-1} + U x_t + b),   t = 1 .. T,

    X   (T, n_x, m)     the inputs, one (n_x, m) batch per time step
    h0  (n_h, m)        the starting state
    W   (n_h, n_h)      the recurrent matrix, the same at every step
    U   (n_h, n_x)      input weights;  b (n_h, 1) bias
    H   (T + 1, n_h, m) the states, H[0] = h0

Backward, given G[t] = the part of dC/dh_t that comes straight from the cost (the outputs
read at step t), the total gradient of each state collects what flows back from later steps:

    dh_T = G[T],   dz_t = dh_t * (1 - h_t^2),   dh_{t-1} = G[t-1] + W^T dz_t,

and the shared weights add up their contributions from every step:
dW = sum_t dz_t h_{t-1}^T, dU = sum_t dz_t x_t^T, db = sum_t dz_t 1.
"""

from __future__ import annotations

import numpy as np

from . import _validate as check

__all__ = ["rnn_forward", "rnn_backward"]


def _args(X, h0, W, U, b):
    X = check.finite_array(X, "X")
    if X.ndim != 3:
        raise ValueError(f"X must have 3 axes (T, n_x, m); got shape {X.shape}")
    T, n_x, m = X.shape
    h0 = check.finite_array(h0, "h0")
    if h0.ndim != 2 or h0.shape[1] != m:
        raise ValueError(f"h0 must have shape (n_h, {m}), one column per sample; got {h0.shape}")
    n_h = h0.shape[0]
    shapes = {"W": (n_h, n_h), "U": (n_h, n_x), "b": (n_h, 1)}
    out = []
    for name, value in (("W", W), ("U", U), ("b", b)):
        arr = check.finite_array(value, name)
        if arr.shape != shapes[name]:
            raise ValueError(
                f"{name} must have shape {shapes[name]} for n_h = {n_h} and n_x = {n_x}; "
                f"got {arr.shape}"
            )
        out.append(arr)
    return X, h0, *out


def _rnn_forward(X, h0, W, U, b) -> np.ndarray:
    H = np.empty((X.shape[0] + 1,) + h0.shape)
    H[0] = h0
    for t in range(1, X.shape[0] + 1):
        H[t] = np.tanh(W @ H[t - 1] + U @ X[t - 1] + b)
    return H


def _rnn_backward(G, X, H, W):
    dW, dU = np.zeros_like(W), np.zeros((W.shape[0], X.shape[1]))
    db = np.zeros((W.shape[0], 1))
    dh = G[-1].copy()
    for t in range(X.shape[0], 0, -1):
        dz = dh * (1 - H[t] ** 2)
        dW += dz @ H[t - 1].T
        dU += dz @ X[t - 1].T
        db += dz.sum(axis=1, keepdims=True)
        dh = G[t - 1] + W.T @ dz  # what flows back, plus the cost's own share at t - 1
    return dh, dW, dU, db


def rnn_forward(X, h0, W, U, b) -> np.ndarray:
    """The states H (T + 1, n_h, m) of h_t = tanh(W h_{t-1} + U x_t + b), H[0] = h0."""
    return _rnn_forward(*_args(X, h0, W, U, b))


def rnn_backward(G, X, h0, W, U, b):
    """Backpropagation through time: (dC/dh0, dC/dW, dC/dU, dC/db).

    ``G`` (T + 1, n_h, m) holds the cost's direct derivatives dC/dh_t (G[0] is usually 0);
    the forward pass is run again from ``X`` and ``h0``.
    """
    X, h0, W, U, b = _args(X, h0, W, U, b)
    G = check.finite_array(G, "G")
    want = (X.shape[0] + 1,) + h0.shape
    if G.shape != want:
        raise ValueError(f"G must have shape {want}, one dC/dh_t per state h_0..h_T; got {G.shape}")
    return _rnn_backward(G, X, _rnn_forward(X, h0, W, U, b), W)
