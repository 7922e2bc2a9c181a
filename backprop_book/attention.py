"""A transformer block by hand: embeddings, attention, layer norm, a tiny language model.

Every piece has a forward function that returns its output and a cache, and a backward
function that takes the gradient of the cost with respect to the output (``dY``, same shape
as ``Y``) and returns the gradients with respect to the inputs and the parameters.

Layout: one token per ROW, as in the transformer literature and in PyTorch (the rest of the
book stores samples as columns). A batch of ``B`` sequences of ``T`` tokens of width ``d`` is
an array of shape ``(B, T, d)``; a linear map is ``X @ W`` with ``W`` of shape
``(d_in, d_out)``. A single sequence may be passed as ``(T, d)``.

    embedding        X = E[tokens]                          E: (V, d)
    attention        S = Q K^T / sqrt(d_k), causal mask, P = softmax(S) row by row, O = P V
    multi-head       Q = X Wq, K = X Wk, V = X Wv split into h heads, Y = concat(O) Wo
    layer norm       Y = gamma * (X - mean) / sqrt(var + eps) + beta, over the last axis
    pre-norm block   H = X + MHA(LN1(X)),  Y = H + MLP(LN2(H)),  MLP(A) = relu(A W1 + b1) W2 + b2
    language model   logits = LN_f(blocks(E[tokens] + pos)) W_out + b_out, cross-entropy

The public functions check their inputs once, at the edge, and run private kernels (``_...``)
that call each other; bugs planted for the mutation tests go into the kernels.

The layer norm here (``layer_norm``, ``layer_norm_backward``) is this chapter's own small
version, not the package's shared normalisation; batch and layer norm for the whole book are
to come in their own module, which may later replace it (same maths, same shapes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from . import _validate as check

Params = dict[str, np.ndarray]

#: The parameters of one block, in the order a reader meets them.
BLOCK_KEYS = ("ln1_g", "ln1_b", "Wq", "Wk", "Wv", "Wo", "ln2_g", "ln2_b", "W1", "b1", "W2", "b2")


# ------------------------------------------------------------------ input checks


def _tokens(tokens, vocab: int, name: str = "tokens") -> np.ndarray:
    """Integer token ids in [0, vocab), as an int array (1-D or 2-D)."""
    arr = np.asarray(tokens)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
            hint = " (they look like whole numbers: use .astype(int))"
        else:
            hint = ""
        raise TypeError(
            f"{name} must be integer token ids (0 .. {vocab - 1}); got dtype {arr.dtype}{hint}"
        )
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(
            f"{name} must have shape (T,) for one sequence or (B, T) for a batch; "
            f"got shape {arr.shape}"
        )
    if arr.min() < 0 or arr.max() >= vocab:
        bad = arr[(arr < 0) | (arr >= vocab)][0]
        raise ValueError(
            f"{name} must lie in 0 .. {vocab - 1} (the vocabulary has {vocab} tokens); "
            f"found {int(bad)}"
        )
    return arr.astype(np.intp)


def _matrix(W, name: str, shape: tuple[int | None, int | None]) -> np.ndarray:
    """A finite 2-D float array whose shape matches ``shape`` (None: any length)."""
    W = check.finite_array(W, name)
    want = tuple("any" if s is None else s for s in shape)
    if W.ndim != len(shape) or any(s is not None and s != w for s, w in zip(shape, W.shape, strict=True)):
        hint = " (is it transposed?)" if W.ndim == 2 and W.shape[::-1] == shape else ""
        raise ValueError(f"{name} must have shape {want}; got shape {W.shape}{hint}")
    return W


def _sequence(X, name: str = "X", width: int | None = None) -> np.ndarray:
    """A finite (T, d) or (B, T, d) float array."""
    X = check.finite_array(X, name)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (T, d), one token per row, or (B, T, d) for a batch; "
            f"got shape {X.shape}"
        )
    if width is not None and X.shape[-1] != width:
        raise ValueError(
            f"{name} has rows of width {X.shape[-1]}; expected width {width} (shape (..., T, "
            f"{width}))"
        )
    return X


def _same_shape(dY, Y_shape: tuple, name: str) -> np.ndarray:
    dY = check.finite_array(dY, name)
    if dY.shape != tuple(Y_shape):
        raise ValueError(
            f"{name} must have the shape of the forward output, {tuple(Y_shape)}; "
            f"got {dY.shape}"
        )
    return dY


def _cache(cache, kind: str) -> dict:
    if not isinstance(cache, dict) or cache.get("kind") != kind:
        got = cache.get("kind") if isinstance(cache, dict) else type(cache).__name__
        raise ValueError(
            f"expected the cache returned by the matching {kind} forward function; got {got!r}"
        )
    return cache


# ------------------------------------------------------------------ embedding


def embed(E, tokens) -> np.ndarray:
    """X = E[tokens]: row t of X is row tokens[t] of the table E (V, d). Shape tokens.shape + (d,)."""
    E = _matrix(E, "E", (None, None))
    return E[_tokens(tokens, E.shape[0])]


def embed_backward(dX, tokens, vocab: int) -> np.ndarray:
    """dC/dE (vocab, d) from dX = dC/dX: a scatter-add, row tokens[t] += dX[t].

    A token that occurs twice receives the SUM of its rows' gradients (``np.add.at``);
    fancy-index assignment ``dE[tokens] = dX`` would keep only the last one.
    """
    tokens = _tokens(tokens, int(vocab))
    dX = _sequence(dX, "dX")
    if dX.shape[:-1] != tokens.shape:
        raise ValueError(
            f"dX must have shape tokens.shape + (d,) = {tokens.shape} + (d,); got {dX.shape}"
        )
    return _embed_backward(dX, tokens, int(vocab))


def _embed_backward(dX: np.ndarray, tokens: np.ndarray, vocab: int) -> np.ndarray:
    dE = np.zeros((vocab, dX.shape[-1]))
    np.add.at(dE, tokens.reshape(-1), dX.reshape(-1, dX.shape[-1]))
    return dE


# ------------------------------------------------------------------ softmax and cross-entropy


def softmax_rows(S) -> np.ndarray:
    """P = softmax of each row (last axis) of S, max-shifted; -inf entries give 0."""
    S = check.real_array(S, "S")
    return _softmax_rows(S)


def _softmax_rows(S: np.ndarray) -> np.ndarray:
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_rows_backward(P, dP) -> np.ndarray:
    """dS from dP through P = softmax_rows(S), without forming the Jacobian:

    dS = P * (dP - rowsum(dP * P)), each row the product of that row's softmax Jacobian
    diag(p) - p p^T with dP's row.
    """
    P = check.finite_array(P, "P")
    dP = _same_shape(dP, P.shape, "dP")
    return _softmax_rows_backward(P, dP)


def _softmax_rows_backward(P: np.ndarray, dP: np.ndarray) -> np.ndarray:
    return P * (dP - np.sum(dP * P, axis=-1, keepdims=True))


def cross_entropy(logits, targets) -> float:
    """C = mean over positions of -log softmax(logits)[target]; logits (..., V), targets (...)."""
    Z, t = _logits_and_targets(logits, targets)
    return _cross_entropy(Z, t)


def cross_entropy_backward(logits, targets) -> np.ndarray:
    """dC/dlogits = (softmax(logits) - onehot(targets)) / N, N the number of positions."""
    Z, t = _logits_and_targets(logits, targets)
    return _cross_entropy_backward(Z, t)


def _logits_and_targets(logits, targets) -> tuple[np.ndarray, np.ndarray]:
    Z = check.finite_array(logits, "logits")
    if Z.ndim < 2:
        raise ValueError(
            f"logits must have one row of V scores per position, shape (N, V) or (B, T, V); "
            f"got shape {Z.shape}"
        )
    t = np.asarray(targets)
    if t.shape != Z.shape[:-1]:
        raise ValueError(
            f"targets must have one class per row of logits, shape {Z.shape[:-1]}; got shape "
            f"{t.shape}"
        )
    return Z, _tokens(t.reshape(-1), Z.shape[-1], "targets").reshape(t.shape)


def _log_softmax_rows(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cross_entropy(Z: np.ndarray, t: np.ndarray) -> float:
    logp = _log_softmax_rows(Z).reshape(-1, Z.shape[-1])
    return float(-logp[np.arange(logp.shape[0]), t.reshape(-1)].mean())


def _cross_entropy_backward(Z: np.ndarray, t: np.ndarray) -> np.ndarray:
    P = _softmax_rows(Z).reshape(-1, Z.shape[-1])
    N = P.shape[0]
    P[np.arange(N), t.reshape(-1)] -= 1.0
    return (P / N).reshape(Z.shape)


# ------------------------------------------------------------------ scaled dot-product attention


def causal_mask(T: int) -> np.ndarray:
    """A (T, T) boolean array, True where position i may NOT look: key j after query i."""
    return np.triu(np.ones((T, T), dtype=bool), k=1)


def attention(Q, K, V, causal: bool = True) -> tuple[np.ndarray, dict]:
    """O = softmax(Q K^T / sqrt(d_k) [masked]) V, rows of the scores softmaxed.

    Q, K: (..., T, d_k); V: (..., T, d_v); O: (..., T, d_v). The mask sets the scores of
    future keys to -inf BEFORE the softmax, so their weights are exactly 0.
    """
    Q = _sequence(Q, "Q")
    K = _sequence(K, "K", width=Q.shape[-1])
    V = _sequence(V, "V")
    if K.shape[:-1] != Q.shape[:-1] or V.shape[:-1] != Q.shape[:-1]:
        raise ValueError(
            f"Q, K and V must have the same leading shape (..., T); got {Q.shape}, {K.shape} "
            f"and {V.shape}"
        )
    return _attention(Q, K, V, bool(causal))


def _attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, causal: bool) -> tuple[np.ndarray, dict]:
    scale = 1.0 / math.sqrt(Q.shape[-1])
    S = (Q @ K.swapaxes(-1, -2)) * scale
    if causal:
        S = np.where(causal_mask(S.shape[-1]), -np.inf, S)
    P = _softmax_rows(S)
    return P @ V, {"kind": "attention", "Q": Q, "K": K, "V": V, "P": P, "scale": scale}


def attention_backward(dO, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dQ, dK, dV) from dO = dC/dO:

    dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dP * P)),
    dQ = dS K / sqrt(d_k),  dK = dS^T Q / sqrt(d_k).
    """
    cache = _cache(cache, "attention")
    dO = _same_shape(dO, cache["P"].shape[:-1] + cache["V"].shape[-1:], "dO")
    return _attention_backward(dO, cache)


def _attention_backward(dO: np.ndarray, cache: dict):
    Q, K, V, P, scale = cache["Q"], cache["K"], cache["V"], cache["P"], cache["scale"]
    dV = P.swapaxes(-1, -2) @ dO
    dP = dO @ V.swapaxes(-1, -2)
    dS = _softmax_rows_backward(P, dP)
    dQ = (dS @ K) * scale
    dK = (dS.swapaxes(-1, -2) @ Q) * scale
    return dQ, dK, dV


# ------------------------------------------------------------------ multi-head self-attention


def _split(X: np.ndarray, h: int) -> np.ndarray:
    """(..., T, d) -> (..., h, T, d/h): head k takes columns k d/h .. (k+1) d/h."""
    *lead, T, d = X.shape
    return X.reshape(*lead, T, h, d // h).swapaxes(-3, -2)


def _merge(X: np.ndarray) -> np.ndarray:
    """(..., h, T, d_h) -> (..., T, h d_h), the inverse of ``_split``."""
    *lead, h, T, dh = X.shape
    return X.swapaxes(-3, -2).reshape(*lead, T, h * dh)


def multi_head_attention(X, Wq, Wk, Wv, Wo, n_heads: int, causal: bool = True):
    """Y = concat_k(attention(X Wq_k, X Wk_k, X Wv_k)) Wo with n_heads heads of width d/h.

    X: (..., T, d); Wq, Wk, Wv, Wo: (d, d). Returns (Y, cache).
    """
    X = _sequence(X, "X")
    d = X.shape[-1]
    Ws = [_matrix(W, name, (d, d)) for W, name in ((Wq, "Wq"), (Wk, "Wk"), (Wv, "Wv"), (Wo, "Wo"))]
    h = _heads(n_heads, d)
    return _mha(X, *Ws, h, bool(causal))


def _heads(n_heads, d: int) -> int:
    if isinstance(n_heads, bool) or not isinstance(n_heads, int | np.integer) or n_heads < 1:
        raise ValueError(f"n_heads must be a positive integer; got {n_heads!r}")
    if d % n_heads:
        raise ValueError(
            f"the width d = {d} must be divisible by n_heads = {n_heads} (each head gets "
            f"d / n_heads columns)"
        )
    return int(n_heads)


def _mha(X, Wq, Wk, Wv, Wo, h: int, causal: bool):
    Q, K, V = _split(X @ Wq, h), _split(X @ Wk, h), _split(X @ Wv, h)
    out, att = _attention(Q, K, V, causal)
    M = _merge(out)
    return M @ Wo, {"kind": "mha", "X": X, "W": (Wq, Wk, Wv, Wo), "h": h, "att": att, "M": M}


def multi_head_attention_backward(dY, cache: dict) -> tuple[np.ndarray, dict]:
    """(dX, {"Wq": ..., "Wk": ..., "Wv": ..., "Wo": ...}) from dY = dC/dY.

    dX = dQ Wq^T + dK Wk^T + dV Wv^T: X reaches Y along three paths, and their gradients add.
    """
    cache = _cache(cache, "mha")
    dY = _same_shape(dY, cache["X"].shape, "dY")
    return _mha_backward(dY, cache)


def _weight_grad(A: np.ndarray, dZ: np.ndarray) -> np.ndarray:
    """dC/dW for Z = A @ W, summed over every leading (batch, time) axis: A^T dZ."""
    return A.reshape(-1, A.shape[-1]).T @ dZ.reshape(-1, dZ.shape[-1])


def _mha_backward(dY: np.ndarray, cache: dict):
    X, (Wq, Wk, Wv, Wo) = cache["X"], cache["W"]
    dM = dY @ Wo.T
    dQ, dK, dV = _attention_backward(_split(dM, cache["h"]), cache["att"])
    dQ, dK, dV = _merge(dQ), _merge(dK), _merge(dV)
    grads = {"Wq": _weight_grad(X, dQ), "Wk": _weight_grad(X, dK), "Wv": _weight_grad(X, dV),
             "Wo": _weight_grad(cache["M"], dY)}
    return dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T, grads


# ------------------------------------------------------------------ layer norm

LN_EPS = 1e-5


def layer_norm(X, gamma, beta, eps: float = LN_EPS) -> tuple[np.ndarray, dict]:
    """Y = gamma * (X - mean) / sqrt(var + eps) + beta, mean and (biased) var over each row.

    The attention chapter's own layer norm, kept small for that chapter; it is not the
    package's general normalisation layer (batch and layer norm for every chapter are to come
    in their own module, which may then replace this one: same maths, same shapes).
    X: (..., T, d); gamma, beta: (d,). Returns (Y, cache) for ``layer_norm_backward``.
    """
    X = _sequence(X, "X")
    d = X.shape[-1]
    gamma, beta = _matrix(gamma, "gamma", (d,)), _matrix(beta, "beta", (d,))
    if not eps > 0:
        raise ValueError(f"eps must be a small positive number; got {eps}")
    return _layer_norm(X, gamma, beta, float(eps))


def _layer_norm(X, gamma, beta, eps):
    mu = X.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(((X - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    Xhat = (X - mu) * inv
    return gamma * Xhat + beta, {"kind": "ln", "Xhat": Xhat, "inv": inv, "gamma": gamma}


def layer_norm_backward(dY, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dX, dgamma, dbeta): dX = inv * (g - mean(g) - Xhat * mean(g * Xhat)), g = gamma * dY.

    The backward pass of the attention chapter's own ``layer_norm`` (see there).
    """
    cache = _cache(cache, "ln")
    dY = _same_shape(dY, cache["Xhat"].shape, "dY")
    return _layer_norm_backward(dY, cache)


def _layer_norm_backward(dY, cache):
    Xhat, inv = cache["Xhat"], cache["inv"]
    g = dY * cache["gamma"]
    dX = inv * (g - g.mean(axis=-1, keepdims=True)
                - Xhat * (g * Xhat).mean(axis=-1, keepdims=True))
    lead = tuple(range(dY.ndim - 1))
    return dX, (dY * Xhat).sum(axis=lead), dY.sum(axis=lead)


# ------------------------------------------------------------------ the pre-norm block


def init_block(d: int, d_ff: int, seed: int) -> Params:
    """Random parameters of one block: weights N(0, 1/fan_in), layer norms gamma 1, beta 0."""
    rng = np.random.default_rng(check.seed(seed))
    d, d_ff = _positive(d, "d"), _positive(d_ff, "d_ff")
    p = {"ln1_g": np.ones(d), "ln1_b": np.zeros(d), "ln2_g": np.ones(d), "ln2_b": np.zeros(d)}
    for name in ("Wq", "Wk", "Wv", "Wo"):
        p[name] = rng.normal(0, 1 / math.sqrt(d), (d, d))
    p["W1"], p["b1"] = rng.normal(0, 1 / math.sqrt(d), (d, d_ff)), np.zeros(d_ff)
    p["W2"], p["b2"] = rng.normal(0, 1 / math.sqrt(d_ff), (d_ff, d)), np.zeros(d)
    return {k: p[k] for k in BLOCK_KEYS}


def _positive(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {n!r}")
    return int(n)


def _block_params(p: Mapping, d: int) -> Params:
    if not isinstance(p, Mapping):
        raise TypeError(f"block parameters must be a dict with keys {BLOCK_KEYS}; got "
                        f"{type(p).__name__}")
    missing = [k for k in BLOCK_KEYS if k not in p]
    if missing:
        raise ValueError(f"block parameters are missing {missing} (expected keys {BLOCK_KEYS})")
    d_ff = np.shape(p["W1"])[-1] if np.ndim(p["W1"]) == 2 else None
    shapes = {"ln1_g": (d,), "ln1_b": (d,), "ln2_g": (d,), "ln2_b": (d,), "Wq": (d, d),
              "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, d_ff), "b1": (d_ff,),
              "W2": (d_ff, d), "b2": (d,)}
    return {k: _matrix(p[k], k, shapes[k]) for k in BLOCK_KEYS}


def block(X, p: Mapping, n_heads: int, causal: bool = True) -> tuple[np.ndarray, dict]:
    """One pre-norm transformer block, X (..., T, d) -> Y of the same shape:

    A1 = LN1(X), H = X + MHA(A1), A2 = LN2(H), U = A2 W1 + b1, R = relu(U), Y = H + R W2 + b2.
    """
    X = _sequence(X, "X")
    p = _block_params(p, X.shape[-1])
    return _block(X, p, _heads(n_heads, X.shape[-1]), bool(causal))


def _block(X, p, h, causal):
    A1, ln1 = _layer_norm(X, p["ln1_g"], p["ln1_b"], LN_EPS)
    att, mha = _mha(A1, p["Wq"], p["Wk"], p["Wv"], p["Wo"], h, causal)
    H = X + att
    A2, ln2 = _layer_norm(H, p["ln2_g"], p["ln2_b"], LN_EPS)
    U = A2 @ p["W1"] + p["b1"]
    R = np.maximum(U, 0.0)
    Y = H + R @ p["W2"] + p["b2"]
    cache = {"kind": "block", "p": p, "ln1": ln1, "mha": mha, "ln2": ln2, "A2": A2, "U": U,
             "R": R, "shape": X.shape}
    return Y, cache


def block_backward(dY, cache: dict) -> tuple[np.ndarray, Params]:
    """(dX, grads) of one block, grads keyed like the parameters; see ``block`` for the names.

    Each residual passes its gradient through unchanged and adds the branch's: dH = dY +
    (branch through LN2 and the MLP), dX = dH + (branch through LN1 and attention).
    """
    cache = _cache(cache, "block")
    dY = _same_shape(dY, cache["shape"], "dY")
    return _block_backward(dY, cache)


def _block_backward(dY, cache):
    p, g = cache["p"], {}
    g["W2"], g["b2"] = _weight_grad(cache["R"], dY), dY.reshape(-1, dY.shape[-1]).sum(axis=0)
    dU = (dY @ p["W2"].T) * (cache["U"] > 0)
    g["W1"], g["b1"] = _weight_grad(cache["A2"], dU), dU.reshape(-1, dU.shape[-1]).sum(axis=0)
    dA2 = dU @ p["W1"].T
    dH_branch, g["ln2_g"], g["ln2_b"] = _layer_norm_backward(dA2, cache["ln2"])
    dH = dY + dH_branch
    dA1, g_att = _mha_backward(dH, cache["mha"])
    g.update(g_att)
    dX_branch, g["ln1_g"], g["ln1_b"] = _layer_norm_backward(dA1, cache["ln1"])
    return dH + dX_branch, {k: g[k] for k in BLOCK_KEYS}


# ------------------------------------------------------------------ a tiny language model


def init_lm(vocab: int, d: int, context: int, n_layers: int, d_ff: int, seed: int) -> Params:
    """A flat dict: "E" (V, d), "pos" (context, d), "<l>.<key>" per block l, "lnf_g",
    "lnf_b" (d,), "W_out" (d, V), "b_out" (V,)."""
    vocab, d = _positive(vocab, "vocab"), _positive(d, "d")
    context, n_layers = _positive(context, "context"), _positive(n_layers, "n_layers")
    rng = np.random.default_rng(check.seed(seed))
    p = {"E": rng.normal(0, 1, (vocab, d)), "pos": rng.normal(0, 1, (context, d))}
    for layer in range(n_layers):
        seed_l = int(rng.integers(2**31))
        p.update({f"{layer}.{k}": v for k, v in init_block(d, d_ff, seed_l).items()})
    p["lnf_g"], p["lnf_b"] = np.ones(d), np.zeros(d)
    p["W_out"], p["b_out"] = rng.normal(0, 1 / math.sqrt(d), (d, vocab)), np.zeros(vocab)
    return p


def _n_layers(p: Mapping) -> int:
    return len({k.split(".")[0] for k in p if "." in k})


def _lm_params(p) -> Params:
    if not isinstance(p, Mapping) or "E" not in p:
        raise TypeError("params must be the dict made by init_lm (keys 'E', 'pos', '0.Wq', ...)")
    E = _matrix(p["E"], "E", (None, None))
    V, d = E.shape
    checked = {"E": E, "pos": _matrix(p["pos"], "pos", (None, d))}
    for layer in range(_n_layers(p)):
        sub = _block_params({k: p.get(f"{layer}.{k}") for k in BLOCK_KEYS
                             if f"{layer}.{k}" in p}, d)
        checked.update({f"{layer}.{k}": v for k, v in sub.items()})
    for k, shape in (("lnf_g", (d,)), ("lnf_b", (d,)), ("W_out", (d, V)), ("b_out", (V,))):
        checked[k] = _matrix(p[k], k, shape)
    return checked


def lm_forward(p, tokens, n_heads: int) -> tuple[np.ndarray, dict]:
    """Logits (..., T, V) for tokens (..., T) with T <= context, and the cache."""
    p = _lm_params(p)
    tokens = _tokens(tokens, p["E"].shape[0])
    if tokens.shape[-1] > p["pos"].shape[0]:
        raise ValueError(
            f"sequences of {tokens.shape[-1]} tokens are longer than the context "
            f"{p['pos'].shape[0]} the position table was made for"
        )
    return _lm_forward(p, tokens, _heads(n_heads, p["E"].shape[1]))


def _lm_forward(p, tokens, h):
    T = tokens.shape[-1]
    X = p["E"][tokens] + p["pos"][:T]
    caches = []
    for layer in range(_n_layers(p)):
        X, c = _block(X, {k: p[f"{layer}.{k}"] for k in BLOCK_KEYS}, h, True)
        caches.append(c)
    A, lnf = _layer_norm(X, p["lnf_g"], p["lnf_b"], LN_EPS)
    logits = A @ p["W_out"] + p["b_out"]
    return logits, {"kind": "lm", "tokens": tokens, "blocks": caches, "lnf": lnf, "A": A,
                    "p": p}


def lm_loss_and_grads(p, tokens, targets, n_heads: int) -> tuple[float, Params]:
    """The mean cross-entropy of predicting ``targets`` (same shape as tokens), and its
    gradient with respect to every parameter (a dict keyed like ``p``)."""
    logits, cache = lm_forward(p, tokens, n_heads)
    Z, t = _logits_and_targets(logits, targets)
    return _cross_entropy(Z, t), _lm_backward(_cross_entropy_backward(Z, t), cache)


def _lm_backward(dlogits, cache):
    p, g = cache["p"], {}
    g["W_out"] = _weight_grad(cache["A"], dlogits)
    g["b_out"] = dlogits.reshape(-1, dlogits.shape[-1]).sum(axis=0)
    dX, g["lnf_g"], g["lnf_b"] = _layer_norm_backward(dlogits @ p["W_out"].T, cache["lnf"])
    for layer in reversed(range(len(cache["blocks"]))):
        dX, gb = _block_backward(dX, cache["blocks"][layer])
        g.update({f"{layer}.{k}": v for k, v in gb.items()})
    tokens, T = cache["tokens"], cache["tokens"].shape[-1]
    g["E"] = _embed_backward(dX, tokens, p["E"].shape[0])
    g["pos"] = np.zeros_like(p["pos"])
    g["pos"][:T] = dX.reshape(-1, T, dX.shape[-1]).sum(axis=0)
    return {k: g[k] for k in p}


def lm_sample(p, prompt, n_new: int, n_heads: int, seed: int, temperature: float = 1.0):
    """``prompt`` (a 1-D list of token ids) followed by ``n_new`` sampled tokens.

    Each new token is drawn from softmax(logits / temperature) at the last position, looking
    back at most ``context`` tokens.
    """
    p = _lm_params(p)
    ids = list(_tokens(np.asarray(prompt), p["E"].shape[0], "prompt").reshape(-1))
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    rng = np.random.default_rng(check.seed(seed))
    h, context = _heads(n_heads, p["E"].shape[1]), p["pos"].shape[0]
    for _ in range(_positive(n_new, "n_new")):
        logits, _ = _lm_forward(p, np.array(ids[-context:]), h)
        probs = _softmax_rows(logits[-1] / temperature)
        ids.append(int(rng.choice(len(probs), p=probs)))
    return ids
