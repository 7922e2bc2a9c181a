"""GradientFlow's network written out independently of the package, for the widget's tests
(Python side, the built page, and JupyterLab): sigmoid blocks, norm without gamma or beta."""

from __future__ import annotations

import numpy as np


def independent_norms(setup, depth, residual, norm):
    """The widget's network written out here: sigmoid blocks, norm without gamma/beta."""
    n, m = setup["width"], setup["batch"]
    H = np.asarray(setup["H0"]).reshape(n, m)
    cache = []
    for layer in range(depth):
        W = np.asarray(setup["W"][layer]).reshape(n, n)
        Z = W @ H + np.asarray(setup["b"][layer]).reshape(n, 1)
        axis = {"batch": 1, "layer": 0}.get(norm)
        if axis is None:
            U, inv = Z, None
        else:
            inv = 1 / np.sqrt(Z.var(axis=axis, keepdims=True) + 1e-5)
            U = (Z - Z.mean(axis=axis, keepdims=True)) * inv
        A = 1 / (1 + np.exp(-U))
        cache.append((W, H, U, A, inv, axis))
        H = H + A if residual else A
    G = np.asarray(setup["R"]).reshape(n, m) / m
    norms = []
    for W, H_in, U, A, inv, axis in reversed(cache):
        dU = G * A * (1 - A)
        if axis is None:
            dZ = dU
        else:
            dZ = inv * (dU - dU.mean(axis=axis, keepdims=True)
                        - U * (dU * U).mean(axis=axis, keepdims=True))
        norms.append(float(np.linalg.norm(dZ @ H_in.T)))
        G = W.T @ dZ + (G if residual else 0)
    return norms[::-1]
