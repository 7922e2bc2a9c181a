"""A deep network of blocks, with or without residual connections and normalization.

Samples are columns. The network maps X (n_in, m) to logits (n_out, m)::

    H^(0) = W_in X + b_in                          (a linear embedding, width n)
    block l = 1..L:
        Z = W^(l) H^(l-1) + b^(l)
        U = norm(Z)  (batch norm, layer norm, or U = Z)
        A = f(U)
        H^(l) = H^(l-1) + A   (residual)    or    H^(l) = A   (plain)
    logits = W_out H^(L) + b_out,  C = mean cross-entropy of softmax(logits)

Backward through a block, with G = dC/dH^(l)::

    dA = G,  dU = f'(U) * dA,  dZ = norm_backward(dU),  dW^(l) = dZ H^(l-1)^T,
    dH^(l-1) = W^(l)^T dZ + G (residual)   or   W^(l)^T dZ (plain)

The "+ G" is the identity path: the gradient reaches every block at least as it left the
block above. :func:`backward` keeps every block's activations; :func:`checkpointed_backward`
keeps only every k-th block's input and recomputes the rest, block by block, during the
backward pass; both return the same gradients.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from . import layers
from .reference import ACTIVATIONS, log_softmax, softmax

NORMS = (None, "batch", "layer")


@dataclass(frozen=True)
class Design:
    """Which deep network: residual connections on or off, which norm, which activation."""

    residual: bool = False
    norm: str | None = None
    activation: str = "sigmoid"

    def __post_init__(self) -> None:
        if not isinstance(self.residual, bool):
            raise TypeError(f"residual must be True or False; got {self.residual!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}; got {self.norm!r}")
        if self.activation not in ACTIVATIONS or self.activation == "softmax":
            names = sorted(k for k in ACTIVATIONS if k != "softmax")
            raise ValueError(f"activation must be one of {names}; got {self.activation!r}")

    @property
    def name(self) -> str:
        parts = ["residual" if self.residual else "plain"]
        if self.norm:
            parts.append(f"{self.norm} norm")
        return " + ".join(parts)


@dataclass
class Net:
    """Parameters of the network: embedding, L blocks, output; plus batch norm's running stats.

    W[l], b[l], gamma[l], beta[l] belong to block l + 1 (lists of length L). gamma and beta
    are kept (ones and zeros) even without a norm, and then get no gradient.
    """

    W_in: np.ndarray
    b_in: np.ndarray
    W: list[np.ndarray]
    b: list[np.ndarray]
    gamma: list[np.ndarray]
    beta: list[np.ndarray]
    W_out: np.ndarray
    b_out: np.ndarray
    running: list[layers.RunningStats] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return len(self.W)

    @property
    def width(self) -> int:
        return self.W_in.shape[0]

    def arrays(self) -> list[np.ndarray]:
        """Every trainable array, in a fixed order (the order of :class:`Grads`.arrays)."""
        return [self.W_in, self.b_in, *self.W, *self.b, *self.gamma, *self.beta, self.W_out,
                self.b_out]  # fmt: skip


@dataclass
class Grads:
    """dC/d(every parameter), in the shapes of :class:`Net`; dC/dH^(0) and the norms
    ||dC/dH^(l)|| for l = 0..L (the arrays themselves are not kept: they would cost as much
    memory as the activations)."""

    W_in: np.ndarray
    b_in: np.ndarray
    W: list[np.ndarray]
    b: list[np.ndarray]
    gamma: list[np.ndarray]
    beta: list[np.ndarray]
    W_out: np.ndarray
    b_out: np.ndarray
    dH0: np.ndarray
    dH_norms: list[float]

    def arrays(self) -> list[np.ndarray]:
        return [self.W_in, self.b_in, *self.W, *self.b, *self.gamma, *self.beta, self.W_out,
                self.b_out]  # fmt: skip

    def block_norms(self) -> np.ndarray:
        """||dC/dW^(l)|| (Frobenius) for the blocks l = 1..L."""
        return np.array([float(np.linalg.norm(g)) for g in self.W])


def _whole(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}; got {value!r}")
    return int(value)


def init_net(n_in: int, width: int, depth: int, n_out: int, seed: int) -> Net:
    """Random weights at the book's default scale, sd 1/sqrt(fan-in); biases sd 0.1;
    gamma = 1, beta = 0 and fresh running statistics in every block."""
    n_in, width = _whole(n_in, "n_in"), _whole(width, "width", 2)
    depth, n_out = _whole(depth, "depth"), _whole(n_out, "n_out")
    rng = np.random.default_rng(check.seed(seed))

    def dense(n_to, n_from):
        return rng.normal(0, 1 / np.sqrt(n_from), (n_to, n_from)), rng.normal(0, 0.1, (n_to, 1))

    W_in, b_in = dense(width, n_in)
    blocks = [dense(width, width) for _ in range(depth)]
    W_out, b_out = dense(n_out, width)
    return Net(W_in, b_in, [w for w, _ in blocks], [b for _, b in blocks],
               [np.ones((width, 1)) for _ in range(depth)],
               [np.zeros((width, 1)) for _ in range(depth)], W_out, b_out,
               [layers.RunningStats.fresh(width) for _ in range(depth)])  # fmt: skip


# ------------------------------------------------------------------ one block


@dataclass
class BlockCache:
    """What one block keeps for the backward pass: its input, its pre-activation U and, with
    a norm, the norm's cache (which holds X_hat). Each array is (n, m)."""

    H_in: np.ndarray
    U: np.ndarray
    norm: layers.NormCache | None

    @property
    def nbytes(self) -> int:
        kept = self.H_in.nbytes + self.U.nbytes
        if self.norm is not None:
            kept += self.norm.x_hat.nbytes + self.norm.inv_std.nbytes
        return kept


def _block_forward(net: Net, i: int, H, design: Design, training: bool, update: bool):
    Z = net.W[i] @ H + net.b[i]
    cache = None
    if design.norm == "batch":
        running = net.running[i] if (update or not training) else None
        if training:
            U, cache = layers._norm(Z, net.gamma[i], net.beta[i], 1, 1e-5)
        else:
            U, cache = layers._norm_constant(Z, net.gamma[i], net.beta[i], running.mean,
                                             running.var, 1e-5)
        if training and update:
            layers._update_running(running, Z)
    elif design.norm == "layer":
        U, cache = layers._norm(Z, net.gamma[i], net.beta[i], 0, 1e-5)
    else:
        U = Z
    A = ACTIVATIONS[design.activation][0](U)
    return (H + A if design.residual else A), BlockCache(H, U, cache)


def _block_backward(net: Net, i: int, G, cache: BlockCache, design: Design):
    dU = ACTIVATIONS[design.activation][1](cache.U) * G
    if cache.norm is not None:
        dZ, dgamma, dbeta = layers._norm_backward(dU, cache.norm)
    else:
        dZ, dgamma, dbeta = dU, np.zeros_like(net.gamma[i]), np.zeros_like(net.beta[i])
    dW, db = dZ @ cache.H_in.T, dZ.sum(axis=1, keepdims=True)
    dH = net.W[i].T @ dZ
    if design.residual:
        dH = dH + G  # the identity path
    return dH, dW, db, dgamma, dbeta


# ------------------------------------------------------------------ the whole network


def _checked(net: Net, X, Y, design: Design):
    if not isinstance(net, Net):
        raise TypeError(f"net must be a Net (from init_net); got {type(net).__name__}")
    if not isinstance(design, Design):
        raise TypeError(f"design must be a Design(residual=..., norm=...); got {design!r:.60}")
    X = check.batch(X, "X")
    if X.shape[0] != net.W_in.shape[1]:
        raise ValueError(f"X must have {net.W_in.shape[1]} rows (features), one sample per "
                         f"column; got shape {X.shape}")
    if Y is not None:
        Y = check.batch(Y, "Y")
        if Y.shape != (net.W_out.shape[0], X.shape[1]):
            raise ValueError(f"Y must have shape {(net.W_out.shape[0], X.shape[1])}, one one-hot "
                             f"column per sample; got {Y.shape}")
    return X, Y


def logits(net: Net, X, design: Design, *, training: bool = False) -> np.ndarray:
    """The network's output (n_out, m); evaluation mode by default (running statistics)."""
    X, _ = _checked(net, X, None, design)
    H = net.W_in @ X + net.b_in
    for i in range(net.depth):
        H, _ = _block_forward(net, i, H, design, training, update=False)
    return net.W_out @ H + net.b_out


def loss(net: Net, X, Y, design: Design, *, training: bool = True) -> float:
    """The mean cross-entropy; training mode (batch statistics) by default, as in a step."""
    X, Y = _checked(net, X, Y, design)
    return float(-np.sum(Y * log_softmax(logits(net, X, design, training=training))) / X.shape[1])


def _forward(net: Net, X, design: Design, update: bool, every: int | None):
    """every=None: keep every block's cache; every=k: keep H^(0), H^(k), H^(2k), ... only."""
    H = net.W_in @ X + net.b_in
    caches: dict[int, BlockCache] = {}
    checkpoints = {0: H}
    for i in range(net.depth):
        H_next, cache = _block_forward(net, i, H, design, True, update)
        if every is None:
            caches[i] = cache
        elif (i + 1) % every == 0 and i + 1 < net.depth:
            checkpoints[i + 1] = H_next
        H = H_next
    return H, caches, checkpoints


def _head(net: Net, H, Y):
    Zo = net.W_out @ H + net.b_out
    m = Y.shape[1]
    C = float(-np.sum(Y * log_softmax(Zo)) / m)
    dZo = (softmax(Zo) - Y) / m
    return C, dZo, dZo @ H.T, dZo.sum(axis=1, keepdims=True), net.W_out.T @ dZo


def _empty_grads(net: Net) -> dict:
    L = net.depth
    return {"W": [None] * L, "b": [None] * L, "gamma": [None] * L, "beta": [None] * L,
            "dH_norms": [None] * (L + 1)}  # fmt: skip


def _finish(net: Net, X, g: dict, dW_out, db_out) -> Grads:
    dH0 = g["dH0"]
    return Grads(dH0 @ X.T, dH0.sum(axis=1, keepdims=True), g["W"], g["b"], g["gamma"],
                 g["beta"], dW_out, db_out, dH0, g["dH_norms"])  # fmt: skip


def _store(g: dict, i: int, result) -> np.ndarray:
    dH, g["W"][i], g["b"][i], g["gamma"][i], g["beta"][i] = result
    g["dH_norms"][i] = float(np.linalg.norm(dH))
    if i == 0:
        g["dH0"] = dH
    return dH


def backward(net: Net, X, Y, design: Design, *, update_running: bool = False) -> tuple[float, Grads, int]:
    """Cost, gradients and the bytes of activations kept for the backward pass (every block).

    Training mode: batch norm uses the batch's statistics (and updates the running ones
    only if ``update_running``).
    """
    X, Y = _checked(net, X, Y, design)
    H, caches, _ = _forward(net, X, design, update_running, None)
    C, dZo, dW_out, db_out, G = _head(net, H, Y)
    g = _empty_grads(net)
    g["dH_norms"][net.depth] = float(np.linalg.norm(G))
    for i in range(net.depth - 1, -1, -1):
        G = _store(g, i, _block_backward(net, i, G, caches[i], design))
    kept = sum(c.nbytes for c in caches.values())
    return C, _finish(net, X, g, dW_out, db_out), kept


def checkpointed_backward(net: Net, X, Y, design: Design, k: int) -> tuple[float, Grads, int]:
    """As :func:`backward`, keeping only H^(0), H^(k), H^(2k), ... from the forward pass.

    During the backward pass each segment of k blocks is run forward again from its
    checkpoint, its caches kept just until the segment is done. Returns the cost, the
    gradients (the same as :func:`backward`'s) and the most bytes held at once: the
    checkpoints plus one segment's caches.
    """
    X, Y = _checked(net, X, Y, design)
    k = _whole(k, "k (keep every k-th activation)")
    H, _, checkpoints = _forward(net, X, design, False, k)
    C, dZo, dW_out, db_out, G = _head(net, H, Y)
    g = _empty_grads(net)
    g["dH_norms"][net.depth] = float(np.linalg.norm(G))
    stored = sum(c.nbytes for c in checkpoints.values())
    peak = stored
    for start in sorted(checkpoints, reverse=True):
        stop = min(start + k, net.depth)
        H, segment = checkpoints[start], []
        for i in range(start, stop):  # recompute this segment, keeping its caches
            H, cache = _block_forward(net, i, H, design, True, False)
            segment.append(cache)
        peak = max(peak, stored + sum(c.nbytes for c in segment))
        for i in range(stop - 1, start - 1, -1):
            G = _store(g, i, _block_backward(net, i, G, segment[i - start], design))
        stored -= checkpoints[start].nbytes
    return C, _finish(net, X, g, dW_out, db_out), peak


def block_gradients(net: Net, H0, R, design: Design, depth: int | None = None) -> list[np.ndarray]:
    """dC/dW^(l) of the first ``depth`` blocks alone (no embedding, no output layer), for the
    linear cost C = sum(R * H^(depth)) / m: the blocks' own effect on the gradient.

    H0 and R are (n, m); training mode. The widget GradientFlow draws the norms of these.
    """
    depth = net.depth if depth is None else _whole(depth, "depth")
    if depth > net.depth:
        raise ValueError(f"depth must be at most the net's {net.depth} blocks; got {depth}")
    H0, R = check.batch(H0, "H0"), check.batch(R, "R")
    if H0.shape[0] != net.width or R.shape != (net.width, H0.shape[1]):
        raise ValueError(f"H0 and R must both have shape ({net.width}, m); got {H0.shape} and "
                         f"{R.shape}")
    H, caches = H0, []
    for i in range(depth):
        H, cache = _block_forward(net, i, H, design, True, False)
        caches.append(cache)
    G, grads = R / H0.shape[1], [None] * depth
    for i in range(depth - 1, -1, -1):
        G, grads[i], _, _, _ = _block_backward(net, i, G, caches[i], design)
    return grads


# ------------------------------------------------------------------ training


def accuracy(net: Net, X, labels, design: Design) -> float:
    """The fraction of samples whose largest logit is their label (evaluation mode)."""
    labels = np.asarray(labels)
    return float(np.mean(np.argmax(logits(net, X, design), axis=0) == labels))


def train(net: Net, X, Y, design: Design, *, epochs: int, batch_size: int, eta: float,
          beta: float = 0.9, clip: float | None = None, seed: int = 0) -> dict:
    """Minibatch SGD with momentum (v <- beta v + g, w <- w - eta v), in place on ``net``.

    ``clip``: if given, the gradient is first clipped to that global norm
    (:func:`backprop_book.layers.clip_by_global_norm`). Returns per-step lists: the cost,
    the gradient's global norm before clipping, and ||dC/dW^(l)|| per block (steps x L).
    """
    X, Y = _checked(net, X, Y, design)
    epochs, batch_size = _whole(epochs, "epochs"), _whole(batch_size, "batch_size", 2)
    rng = np.random.default_rng(check.seed(seed))
    velocity = [np.zeros_like(p) for p in net.arrays()]
    history: dict[str, list] = {"cost": [], "grad_norm": [], "block_norms": []}
    for _ in range(epochs):
        order = rng.permutation(X.shape[1])
        for start in range(0, X.shape[1] - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            C, grads, _ = backward(net, X[:, idx], Y[:, idx], design, update_running=True)
            arrays = grads.arrays()
            if clip is not None:
                arrays, total = layers.clip_by_global_norm(arrays, clip)
            else:
                total = float(np.sqrt(sum(np.sum(a * a) for a in arrays)))
            for p, v, gr in zip(net.arrays(), velocity, arrays, strict=True):
                v *= beta
                v += gr
                p -= eta * v  # in place: the Net's arrays are updated
            history["cost"].append(C)
            history["grad_norm"].append(total)
            history["block_norms"].append(grads.block_norms())
    history["block_norms"] = np.array(history["block_norms"])
    return history


def activation_bytes(batch: int, width: int, depth: int, arrays_per_block: int,
                     itemsize: int = 8) -> int:
    """Bytes of activations kept for backprop: batch x width x depth x arrays x dtype size."""
    for value, name in ((batch, "batch"), (width, "width"), (depth, "depth"),
                        (arrays_per_block, "arrays_per_block"), (itemsize, "itemsize")):
        _whole(value, name, 0)
    return batch * width * depth * arrays_per_block * itemsize


__all__ = [
    "NORMS",
    "Design",
    "Net",
    "Grads",
    "BlockCache",
    "init_net",
    "logits",
    "loss",
    "backward",
    "checkpointed_backward",
    "block_gradients",
    "accuracy",
    "train",
    "activation_bytes",
]
