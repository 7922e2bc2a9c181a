"""Reference backpropagation for a fully connected network, written to be read.

Conventions (the whole book uses them):

* Samples are columns: a batch ``X`` has shape (n_0, m), one sample per column.
* Layer l = 1..L has weights W^(l) of shape (n_l, n_{l-1}), ``W[j, k]`` = weight to neuron j
  from neuron k, and a bias column b^(l) of shape (n_l, 1).
* z^(l) = W^(l) a^(l-1) + b^(l),   a^(l) = f_l(z^(l)),   a^(0) = x.
* The cost C is the MEAN over the batch of a per-sample loss.

``params`` is the list ``[(W1, b1), ..., (WL, bL)]``, so layer l sits at ``params[l - 1]``.
Everything the passes compute is indexed by the layer number itself: ``cache.zs[l]`` is
Z^(l), ``cache.as_[l]`` is A^(l) (``as_[0]`` is X) and ``deltas[l]`` is Delta^(l).

Where the 1/m of the mean lives: in the deltas. Delta^(l) = dC/dZ^(l) is the gradient of
the batch cost, so each column is that sample's delta divided by m. The parameter gradients
are then plain sums over the batch: dW^(l) = Delta^(l) A^(l-1)^T and db^(l) = the sum of
Delta^(l)'s columns.

Checked once, at the edge: every public function checks its inputs (shapes, names, NaN, dtype)
and then runs a private kernel (``_forward``, ``_backward``, ...) that does only the math, so
``loss_and_grads`` pays for one check of X, Y and the params, not one per step. Floating
dtypes are kept: float32 in, float32 out (integers become float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import _validate as check

Params = list[tuple[np.ndarray, np.ndarray]]

# ---------------------------------------------------------------- activations


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^{-z}), entry by entry, any shape.

    Uses e = e^{-|z|}, which never overflows: sigma(z) = 1 / (1 + e) for z >= 0 and, for z < 0,
    sigma(z) = e / (1 + e). The numerator, 1 or e, is max(e, [z >= 0]) since e <= 1: one
    branch-free pass (``np.where`` on a mask of mixed signs is several times slower). The
    steps work in place, so a large z costs two new arrays, not six.
    """
    z = check.real_array(z, "z")
    e = np.abs(z, out=np.empty_like(z))
    np.exp(np.negative(e, out=e), out=e)  # e = e^{-|z|}, in (0, 1]
    a = np.maximum(e, z >= 0)  # the numerator: 1 where z >= 0, e where z < 0
    e += 1.0
    a /= e
    return a


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """d sigma / dz = sigma(z) (1 - sigma(z)) = e^{-|z|} / (1 + e^{-|z|})^2, computed from z.

    The last form is the one computed: it is symmetric in z, costs one exponential, and keeps
    every digit for large |z|, where 1 - sigma(z) would subtract two numbers close to 1.
    """
    e = np.exp(-np.abs(check.real_array(z, "z")))
    return e / (1.0 + e) ** 2


def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z), entry by entry."""
    return np.tanh(check.real_array(z, "z"))


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """d tanh / dz = 1 - tanh(z)^2 = 4 e^{-2|z|} / (1 + e^{-2|z|})^2.

    The last form is the one computed: 1 - tanh(z)^2 is exactly 0 in floating point once
    |z| > 19, while the true slope is about 4 e^{-2|z|}; the exponential never overflows.
    """
    e = np.exp(-2.0 * np.abs(check.real_array(z, "z")))
    return 4.0 * e / (1.0 + e) ** 2


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0), entry by entry."""
    return np.maximum(check.real_array(z, "z"), 0.0)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """1 where z > 0, else 0. At the kink z = 0 we choose 0 (any value in [0, 1] is valid)."""
    z = check.real_array(z, "z")
    return (z > 0).astype(z.dtype)


def identity(z: np.ndarray) -> np.ndarray:
    """f(z) = z (a linear layer)."""
    return check.real_array(z, "z").copy()


def identity_prime(z: np.ndarray) -> np.ndarray:
    """f'(z) = 1."""
    return np.ones_like(check.real_array(z, "z"))


def softmax(z: np.ndarray) -> np.ndarray:
    """s_j = e^{z_j} / sum_k e^{z_k} down each column (axis 0), shape of z.

    The column maximum is subtracted first (s does not change), so the largest exponent is
    e^0 = 1: logits like 1000 or -1000 give no overflow and no NaN.
    """
    z = check.real_array(z, "z")
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log s_j = z_j - log sum_k e^{z_k} down each column, with the max-shifted log-sum-exp."""
    z = check.real_array(z, "z")
    shifted = z - z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def softmax_vjp(z: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dC/dz from g = dC/ds through s = softmax(z), column by column; z, g of one shape.

    The Jacobian is ds_i/dz_k = s_i (1[i = k] - s_k), so g^T J = s * (g - sum_i g_i s_i).
    """
    z = check.real_array(z, "z")
    return _softmax_vjp(softmax(z), check.same_shape_as_z(g, z, "s"))


def _softmax_vjp(s: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The product of ``softmax_vjp``, from s = softmax(z)."""
    return s * (g - np.sum(g * s, axis=0, keepdims=True))


# Elementwise activations: name -> (f, f'). "softmax" mixes a whole column, so it has no f'
# and goes back through ``softmax_vjp``; it is meant for the output layer (any layer works).
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "identity": (identity, identity_prime),
}
ACTIVATION_NAMES = (*ACTIVATIONS, "softmax")
COSTS = ("squared_error", "cross_entropy")


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """a = f(z) for the activation called ``name`` (one of ``ACTIVATION_NAMES``), shape of z."""
    check.activation(name, ACTIVATION_NAMES)
    return _activate(name, check.real_array(z, "z"))


def activation_backward(name: str, z: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dC/dz from g = dC/da: g * f'(z) (Hadamard), or the softmax vector-Jacobian product.

    z and g have one shape; so has the result.
    """
    check.activation(name, ACTIVATION_NAMES)
    z = check.real_array(z, "z")
    g = check.same_shape_as_z(g, z, "a")
    return _activation_backward(name, z, _activate(name, z), g)


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    return softmax(z) if name == "softmax" else ACTIVATIONS[name][0](z)


# f'(z) read off a = f(z), as the chapters write it: sigma' = a(1 - a), tanh' = 1 - a^2,
# relu' = [a > 0]. The backward pass multiplies the slope by g and adds the products up, so
# what counts is the slope's error measured against 1, about one rounding (1e-16), and these
# forms have it; they cost no exponential and no second pass over z. (``sigmoid_prime(z)``
# keeps every digit of a tiny slope, for a reader who wants the slope itself.)
_SLOPE_FROM_A = {
    "sigmoid": lambda a: a * (1.0 - a),
    "tanh": lambda a: 1.0 - a * a,
    "relu": lambda a: a > 0,  # booleans: g * [a > 0] keeps g's dtype
    "identity": lambda a: np.ones_like(a),
}


def _activation_backward(name: str, z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dC/dz from g = dC/da, for a = f(z) of the forward pass."""
    return _softmax_vjp(a, g) if name == "softmax" else g * _SLOPE_FROM_A[name](a)


# ---------------------------------------------------------------- costs


def squared_error(A: np.ndarray, Y: np.ndarray) -> float:
    """C = (1/m) sum_i 1/2 ||a_i - y_i||^2 for A, Y of shape (n_L, m)."""
    A, Y = check.batch(A, "A"), check.batch(Y, "Y")
    check.same_shape(A, Y, "A")
    return float(0.5 * np.sum((A - Y) ** 2) / A.shape[1])


def cross_entropy(Z_last: np.ndarray, Y: np.ndarray) -> float:
    """C = -(1/m) sum_i sum_j y_ji log s_ji with s = softmax(Z_last), from the LOGITS Z_last.

    Computed as -sum Y * log_softmax(Z_last), never log(softmax(...)): a probability that
    underflows to 0 would give log 0 = -inf, while log_softmax stays finite at logits of
    +-1000. Each column of Y (n_L, m) must be a probability vector (one-hot or soft).
    """
    Z, Y = check.batch(Z_last, "Z_last"), check.batch(Y, "Y")
    check.same_shape(Z, Y, "Z_last")
    check.probability_columns(Y)
    return float(-np.sum(Y * log_softmax(Z)) / Z.shape[1])


# ---------------------------------------------------------------- the network


def init_params(sizes: Sequence[int], seed: int, scale: float | None = None) -> Params:
    """Random ``[(W1, b1), ...]`` for layer widths ``sizes = [n_0, n_1, ..., n_L]``.

    W^(l) ~ Normal(0, scale^2), shape (n_l, n_{l-1}), with scale = 1/sqrt(n_{l-1}) by default;
    b^(l) ~ Normal(0, 0.1^2), shape (n_l, 1): small but not zero, since zero biases would hide
    a wrong factor in db. Uses ``np.random.default_rng(seed)``; float64.
    """
    sizes, seed, scale = check.sizes(sizes), check.seed(seed), check.scale(scale)
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        std = 1.0 / np.sqrt(n_in) if scale is None else scale
        params.append((rng.normal(0.0, std, (n_out, n_in)), rng.normal(0.0, 0.1, (n_out, 1))))
    return params


class Cache(NamedTuple):
    """What the forward pass keeps for the backward pass, indexed by layer number l.

    zs[l]  = Z^(l) = W^(l) A^(l-1) + b^(l), shape (n_l, m), l = 1..L; zs[0] is None.
    as_[l] = A^(l) = f_l(Z^(l)),            shape (n_l, m), l = 0..L; as_[0] is X.
    (``as`` is a Python keyword, hence the underscore.)
    """

    zs: list[np.ndarray | None]
    as_: list[np.ndarray]


def forward(params: Params, X: np.ndarray, activations: Sequence[str]) -> Cache:
    """Run X (n_0, m), or one sample x (n_0,), through the layers; keep every Z and A."""
    params, names = _network(params, activations)
    return _forward(params, check.inputs(X, params[0][0]), names)


def output_delta(cache: Cache, Y: np.ndarray, name: str, cost: str) -> np.ndarray:
    """Delta^(L) = dC/dZ^(L), shape (n_L, m), with the 1/m of the mean included.

    softmax + cross-entropy:  (S - Y) / m, no division by probabilities.
    squared error:            dC/dA^(L) = (A^(L) - Y) / m, then back through f_L.
    ``name`` is the output layer's activation; Y has the shape (n_L, m) of A^(L).
    """
    A, L = _output_of(cache), len(cache.as_) - 1
    cost = check.cost(cost, [check.activation(name, ACTIVATION_NAMES)], COSTS, layers=L)
    return _output_delta(cache, _targets(Y, A, cost), name, cost)


def backward_deltas(
    params: Params, cache: Cache, Y: np.ndarray, activations: Sequence[str], cost: str
) -> list[np.ndarray | None]:
    """``deltas[l]`` = Delta^(l) = dC/dZ^(l), shape (n_l, m), l = 1..L; deltas[0] is None.

    Delta^(L) from ``output_delta``, then Delta^(l) = (W^(l+1))^T Delta^(l+1) * f_l'(Z^(l)).
    """
    params, names, cost, Y = _backward_inputs(params, cache, Y, activations, cost)
    return _backward_deltas(params, cache, Y, names, cost)


def backward(
    params: Params, cache: Cache, Y: np.ndarray, activations: Sequence[str], cost: str
) -> Params:
    """``[(dW1, db1), ..., (dWL, dbL)]``, the gradient of the batch cost, shaped like params.

    dC/dW^(l) = Delta^(l) (A^(l-1))^T  and  dC/db^(l) = sum of Delta^(l)'s columns, (n_l, 1).
    """
    params, names, cost, Y = _backward_inputs(params, cache, Y, activations, cost)
    return _backward(params, cache, Y, names, cost)


def cost_from_cache(cache: Cache, Y: np.ndarray, activations: Sequence[str], cost: str) -> float:
    """The batch cost of a forward pass: squared error of A^(L), or cross-entropy of Z^(L)."""
    A = _output_of(cache)
    names = check.activations(activations, len(cache.zs) - 1, ACTIVATION_NAMES)
    cost = check.cost(cost, names, COSTS)
    return _cost(cache, _targets(Y, A, cost), cost)


def loss(
    params: Params, X: np.ndarray, Y: np.ndarray, activations: Sequence[str], cost: str
) -> float:
    """The batch cost C (a float) of the network on X (n_0, m) with targets Y (n_L, m)."""
    params, names = _network(params, activations)
    cost = check.cost(cost, names, COSTS)
    cache = _forward(params, check.inputs(X, params[0][0]), names)
    return _cost(cache, _targets(Y, cache.as_[-1], cost), cost)


def loss_and_grads(
    params: Params, X: np.ndarray, Y: np.ndarray, activations: Sequence[str], cost: str
) -> tuple[float, Params]:
    """``(C, [(dW1, db1), ...])``: one forward pass, then the backward pass.

    The inputs are checked once, here (:func:`check_inputs`); the passes are the plain
    kernels below.
    """
    params, names, cost, X, Y = check_inputs(params, X, Y, activations, cost)
    cache = _forward(params, X, names)
    Y = Y.astype(cache.as_[-1].dtype, copy=False)  # float32 stays float32
    return _cost(cache, Y, cost), _backward(params, cache, Y, names, cost)


def check_inputs(
    params: Params, X: np.ndarray, Y: np.ndarray, activations: Sequence[str], cost: str
) -> tuple[Params, list[str], str, np.ndarray, np.ndarray]:
    """Exactly the checks :func:`loss_and_grads` makes of its inputs, and nothing else.

    Returns the checked ``(params, activation names, cost, X, Y)``; raises a ``ValueError``
    or ``TypeError`` that says what was expected when an input is wrong (shapes, names,
    dtypes, NaN). The batched chapter times it on its own: what checking costs.
    """
    params, names = _network(params, activations)
    cost = check.cost(cost, names, COSTS)
    X = check.inputs(X, params[0][0])
    Y = check.targets(Y, params[-1][0].shape[0], X.shape[1], cost)
    return params, names, cost, X, Y


# ---------------------------------------------------------------- the checks at the edge


def _network(params, activations) -> tuple[Params, list[str]]:
    """Checked params and one checked activation name per layer."""
    params = check.params(params)
    return params, check.activations(activations, len(params), ACTIVATION_NAMES)


def _output_of(cache) -> np.ndarray:
    """A^(L) of a cache made by ``forward``."""
    if not isinstance(getattr(cache, "as_", None), Sequence) or not cache.as_:
        raise ValueError(f"cache must be the Cache returned by forward; got {type(cache).__name__}")
    return cache.as_[-1]


def _targets(Y, A: np.ndarray, cost: str) -> np.ndarray:
    """Y checked against the output A (n_L, m), in A's dtype (float32 stays float32)."""
    Y = check.targets(Y, A.shape[0], A.shape[1], cost)
    return Y.astype(A.dtype, copy=False)


def _backward_inputs(params, cache, Y, activations, cost):
    """What ``backward`` and ``backward_deltas`` need, checked: params, names, cost, Y."""
    params, names = _network(params, activations)
    cost = check.cost(cost, names, COSTS)
    check.cache(cache, params)
    return params, names, cost, _targets(Y, cache.as_[-1], cost)


# ---------------------------------------------------------------- the kernels: math only


def _forward(params: Params, X: np.ndarray, names: list[str]) -> Cache:
    zs, as_ = [None], [X]
    for (W, b), name in zip(params, names, strict=True):
        z = W @ as_[-1]
        z += b  # in place: no second (n_l, m) array
        zs.append(z)
        as_.append(_activate(name, z))
    return Cache(zs, as_)


def _cost(cache: Cache, Y: np.ndarray, cost: str) -> float:
    m = Y.shape[1]
    if cost == "cross_entropy":
        return float(-np.sum(Y * log_softmax(cache.zs[-1])) / m)
    return float(0.5 * np.sum((cache.as_[-1] - Y) ** 2) / m)


def _output_delta(cache: Cache, Y: np.ndarray, name: str, cost: str) -> np.ndarray:
    A, m = cache.as_[-1], Y.shape[1]
    if cost == "cross_entropy":
        return (A - Y) / m
    return _activation_backward(name, cache.zs[-1], A, (A - Y) / m)


def _backward_deltas(
    params: Params, cache: Cache, Y: np.ndarray, names: list[str], cost: str
) -> list[np.ndarray | None]:
    L = len(params)
    deltas: list[np.ndarray | None] = [None] * (L + 1)
    deltas[L] = _output_delta(cache, Y, names[-1], cost)
    for layer in range(L - 1, 0, -1):
        W_next = params[layer][0]  # W^(layer+1) sits at params[layer]
        g = W_next.T @ deltas[layer + 1]  # dC/dA^(layer)
        z, a = cache.zs[layer], cache.as_[layer]
        deltas[layer] = _activation_backward(names[layer - 1], z, a, g)
    return deltas


def _backward(params: Params, cache: Cache, Y: np.ndarray, names: list[str], cost: str) -> Params:
    deltas = _backward_deltas(params, cache, Y, names, cost)
    return [
        (delta @ a_prev.T, delta.sum(axis=1, keepdims=True))
        for delta, a_prev in zip(deltas[1:], cache.as_[:-1], strict=True)
    ]


# ---------------------------------------------------------------- flat vectors


def flatten(params: Params) -> np.ndarray:
    """All entries of W1, b1, W2, b2, ... in one 1-D vector (row-major), a copy."""
    return np.concatenate([np.ravel(p) for pair in check.params(params) for p in pair])


def unflatten(vector: np.ndarray, like: Params) -> Params:
    """The inverse of ``flatten``: cut ``vector`` into arrays shaped like ``like``'s (W, b)."""
    shapes = [p.shape for pair in check.params(like) for p in pair]
    vector = check.real_array(vector, "vector")
    sizes = [int(np.prod(s)) for s in shapes]
    if vector.shape != (sum(sizes),):
        raise ValueError(
            f"vector has shape {vector.shape} but params like these need a 1-D vector of "
            f"{sum(sizes)} entries (shapes {shapes})"
        )
    pieces = np.split(vector, np.cumsum(sizes)[:-1])
    arrays = [piece.reshape(shape).copy() for piece, shape in zip(pieces, shapes, strict=True)]
    return list(zip(arrays[0::2], arrays[1::2], strict=True))
