"""backprop_book.attention against PyTorch autograd (float64, 1e-10) and centered differences.

The torch side is written with torch's own functions (F.embedding, F.layer_norm,
F.scaled_dot_product_attention, F.cross_entropy), not by copying our formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
from optional import torch_or_skip

from backprop_book import attention as at
from backprop_book.gradcheck import numerical_gradient

torch = torch_or_skip()
F = torch.nn.functional
TOL = 1e-10


def close(ours, theirs, tol=TOL):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert np.max(np.abs(ours - theirs)) <= tol * scale, np.max(np.abs(ours - theirs))


def leaf(a):
    return torch.tensor(np.asarray(a, dtype=float), requires_grad=True)


SHAPES = [(1, 5, 4, 1), (2, 7, 8, 2), (3, 4, 6, 3), (2, 9, 12, 4)]  # (B, T, d, heads)


# ------------------------------------------------------------------ embedding and CE


def test_embedding_backward_adds_repeated_tokens():
    rng = np.random.default_rng(0)
    tokens = np.array([[3, 1, 3, 3], [0, 1, 4, 3]])
    E, dX = rng.normal(size=(6, 5)), rng.normal(size=(2, 4, 5))
    X = at.embed(E, tokens)
    E_t = leaf(E)
    F.embedding(torch.tensor(tokens), E_t).backward(torch.tensor(dX))
    close(X, E_t.detach()[torch.tensor(tokens)])
    dE = at.embed_backward(dX, tokens, 6)
    close(dE, E_t.grad)
    assert np.allclose(dE[3], dX[0, 0] + dX[0, 2] + dX[0, 3] + dX[1, 3])
    assert np.all(dE[[2, 5]] == 0)
    overwritten = np.zeros_like(E)
    overwritten[tokens.reshape(-1)] = dX.reshape(-1, 5)
    assert not np.allclose(overwritten, dE)


@pytest.mark.parametrize("shape", [(7, 11), (2, 5, 13)])
def test_cross_entropy_and_its_fused_gradient(shape):
    rng = np.random.default_rng(len(shape))
    Z = rng.normal(0, 3, size=shape)
    t = rng.integers(0, shape[-1], size=shape[:-1])
    Z_t = leaf(Z)
    C_t = F.cross_entropy(Z_t.reshape(-1, shape[-1]), torch.tensor(t.reshape(-1)))
    C_t.backward()
    assert abs(at.cross_entropy(Z, t) - C_t.item()) < TOL
    close(at.cross_entropy_backward(Z, t), Z_t.grad)


def test_cross_entropy_survives_huge_logits():
    Z = np.array([[1000.0, -1000.0, 0.0], [0.0, 800.0, 800.0]])
    C = at.cross_entropy(Z, np.array([1, 2]))
    assert np.isclose(C, (2000.0 + np.log(2)) / 2)
    assert np.isfinite(at.cross_entropy_backward(Z, np.array([1, 2]))).all()


# ------------------------------------------------------------------ softmax and attention


def test_softmax_rows_backward_is_the_jacobian_product():
    rng = np.random.default_rng(1)
    S, dP = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))
    P = at.softmax_rows(S)
    dS = at.softmax_rows_backward(P, dP)
    for idx in np.ndindex(3, 4):
        p = P[idx]
        J = np.diag(p) - np.outer(p, p)
        assert np.allclose(dS[idx], J.T @ dP[idx], atol=1e-14)
    S_t = leaf(S)
    torch.softmax(S_t, dim=-1).backward(torch.tensor(dP))
    close(dS, S_t.grad)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("B, T, d, h", SHAPES)
def test_attention_matches_torch(B, T, d, h, causal):
    rng = np.random.default_rng(B * 100 + T * 10 + d)
    Q, K, V = (rng.normal(size=(B, T, d)) for _ in range(3))
    dO = rng.normal(size=(B, T, d))
    out, cache = at.attention(Q, K, V, causal=causal)
    Qt, Kt, Vt = leaf(Q), leaf(K), leaf(V)
    Ot = F.scaled_dot_product_attention(Qt, Kt, Vt, is_causal=causal)
    Ot.backward(torch.tensor(dO))
    close(out, Ot)
    for ours, t in zip(at.attention_backward(dO, cache), (Qt, Kt, Vt), strict=True):
        close(ours, t.grad)


def test_causal_weights_are_zero_above_the_diagonal_and_rows_sum_to_one():
    rng = np.random.default_rng(2)
    _, cache = at.attention(*(rng.normal(size=(6, 4)) for _ in range(3)))
    P = cache["P"]
    assert np.all(P[at.causal_mask(6)] == 0) and np.allclose(P.sum(axis=-1), 1)
    assert P[0, 0] == 1.0


def torch_mha(X, Wq, Wk, Wv, Wo, h):
    *lead, T, d = X.shape

    def split(Z):
        return Z.reshape(*lead, T, h, d // h).transpose(-3, -2)

    out = F.scaled_dot_product_attention(split(X @ Wq), split(X @ Wk), split(X @ Wv),
                                       is_causal=True)
    return out.transpose(-3, -2).reshape(*lead, T, d) @ Wo


@pytest.mark.parametrize("B, T, d, h", SHAPES)
def test_multi_head_attention_matches_torch(B, T, d, h):
    rng = np.random.default_rng(7 + B + T + d + h)
    X, dY = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))
    Ws = [rng.normal(0, d**-0.5, size=(d, d)) for _ in range(4)]
    Y, cache = at.multi_head_attention(X, *Ws, n_heads=h)
    dX, grads = at.multi_head_attention_backward(dY, cache)
    Xt, Wts = leaf(X), [leaf(W) for W in Ws]
    Yt = torch_mha(Xt, *Wts, h)
    Yt.backward(torch.tensor(dY))
    close(Y, Yt)
    close(dX, Xt.grad)
    for name, Wt in zip(("Wq", "Wk", "Wv", "Wo"), Wts, strict=True):
        close(grads[name], Wt.grad)


# ------------------------------------------------------------------ layer norm and the block


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 8)])
def test_layer_norm_matches_torch(shape):
    rng = np.random.default_rng(shape[-1])
    X, dY = rng.normal(2, 3, size=shape), rng.normal(size=shape)
    g, b = rng.normal(1, 0.3, size=shape[-1]), rng.normal(size=shape[-1])
    Y, cache = at.layer_norm(X, g, b)
    Xt, gt, bt = leaf(X), leaf(g), leaf(b)
    Yt = F.layer_norm(Xt, (shape[-1],), gt, bt, eps=at.LN_EPS)
    Yt.backward(torch.tensor(dY))
    close(Y, Yt)
    for ours, t in zip(at.layer_norm_backward(dY, cache), (Xt, gt, bt), strict=True):
        close(ours, t.grad)


def torch_block(X, p, h):
    d = X.shape[-1]
    A1 = F.layer_norm(X, (d,), p["ln1_g"], p["ln1_b"], eps=at.LN_EPS)
    H = X + torch_mha(A1, p["Wq"], p["Wk"], p["Wv"], p["Wo"], h)
    A2 = F.layer_norm(H, (d,), p["ln2_g"], p["ln2_b"], eps=at.LN_EPS)
    return H + torch.relu(A2 @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def random_block(d, d_ff, seed):
    p = at.init_block(d, d_ff, seed)
    rng = np.random.default_rng(seed + 1)
    for k in ("ln1_g", "ln2_g"):
        p[k] = rng.normal(1, 0.2, size=d)
    for k in ("ln1_b", "ln2_b", "b1", "b2"):
        p[k] = rng.normal(0, 0.2, size=p[k].shape)
    return p


@pytest.mark.parametrize("B, T, d, h", SHAPES)
def test_block_matches_torch_array_by_array(B, T, d, h):
    rng = np.random.default_rng(B + 2 * T + 3 * d)
    p = random_block(d, 3 * d, seed=d + h)
    X, dY = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))
    Y, cache = at.block(X, p, n_heads=h)
    dX, grads = at.block_backward(dY, cache)
    Xt, pt = leaf(X), {k: leaf(v) for k, v in p.items()}
    Yt = torch_block(Xt, pt, h)
    Yt.backward(torch.tensor(dY))
    close(Y, Yt)
    close(dX, Xt.grad)
    assert list(grads) == list(at.BLOCK_KEYS)
    for k in at.BLOCK_KEYS:
        close(grads[k], pt[k].grad)


def torch_lm_loss(p, tokens, targets, h):
    T = tokens.shape[-1]
    X = F.embedding(torch.tensor(tokens), p["E"]) + p["pos"][:T]
    for layer in range(at._n_layers(p)):
        X = torch_block(X, {k: p[f"{layer}.{k}"] for k in at.BLOCK_KEYS}, h)
    A = F.layer_norm(X, (X.shape[-1],), p["lnf_g"], p["lnf_b"], eps=at.LN_EPS)
    logits = A @ p["W_out"] + p["b_out"]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           torch.tensor(targets.reshape(-1)))


@pytest.mark.parametrize("n_layers, B, T, h", [(1, 2, 6, 2), (2, 3, 8, 4)])
def test_language_model_gradients_match_torch(n_layers, B, T, h):
    V, d = 11, 8
    p = at.init_lm(V, d, context=10, n_layers=n_layers, d_ff=16, seed=n_layers)
    rng = np.random.default_rng(n_layers + 10)
    tokens = rng.integers(0, V, size=(B, T))
    targets = rng.integers(0, V, size=(B, T))
    tokens[0, :3] = 4  # a repeated token: its embedding gradients must add
    C, grads = at.lm_loss_and_grads(p, tokens, targets, n_heads=h)
    pt = {k: leaf(v) for k, v in p.items()}
    C_t = torch_lm_loss(pt, tokens, targets, h)
    C_t.backward()
    assert abs(C - C_t.item()) < TOL
    assert list(grads) == list(p)
    for k in p:
        close(grads[k], pt[k].grad)


def test_language_model_gradient_against_centered_differences():
    V, d = 5, 4
    p = at.init_lm(V, d, context=4, n_layers=1, d_ff=6, seed=3)
    tokens, targets = np.array([[1, 2, 1, 0]]), np.array([[2, 1, 0, 4]])
    _, grads = at.lm_loss_and_grads(p, tokens, targets, n_heads=2)
    for k in ("E", "0.Wq", "0.ln1_g", "W_out"):
        fd = numerical_gradient(lambda _: at.lm_loss_and_grads(p, tokens, targets, 2)[0], p[k])
        assert np.max(np.abs(fd - grads[k])) < 1e-8, k


def test_sampling_is_seeded_and_stays_in_the_vocabulary():
    p = at.init_lm(7, 4, context=5, n_layers=1, d_ff=8, seed=0)
    a = at.lm_sample(p, [1, 2], 12, n_heads=2, seed=5)
    assert a == at.lm_sample(p, [1, 2], 12, n_heads=2, seed=5)
    assert len(a) == 14 and a[:2] == [1, 2] and all(0 <= t < 7 for t in a)


# ------------------------------------------------------------------ bad input, clear messages


@pytest.mark.parametrize("call, message", [
    (lambda: at.embed(np.zeros((4, 3)), np.array([0.0, 1.0])), "use .astype(int)"),
    (lambda: at.embed(np.zeros((4, 3)), [0, 4]), "must lie in 0 .. 3"),
    (lambda: at.embed_backward(np.zeros((3, 2)), [0, 1], 4), "tokens.shape + (d,)"),
    (lambda: at.attention(np.zeros((3, 4)), np.zeros((3, 5)), np.zeros((3, 4))),
     "expected width 4"),
    (lambda: at.attention(np.zeros(4), np.zeros(4), np.zeros(4)), "one token per row"),
    (lambda: at.multi_head_attention(np.zeros((3, 6)), *[np.eye(6)] * 4, n_heads=4),
     "divisible by n_heads"),
    (lambda: at.multi_head_attention(np.zeros((3, 6)), np.zeros((6, 5)), *[np.eye(6)] * 3,
                                     n_heads=2), "Wq must have shape (6, 6)"),
    (lambda: at.cross_entropy(np.zeros((3, 4)), np.array([0, 1])), "one class per row"),
    (lambda: at.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 9])), "must lie in 0 .. 3"),
    (lambda: at.layer_norm(np.zeros((2, 3)), np.ones(4), np.zeros(3)), "gamma must have shape"),
    (lambda: at.attention_backward(np.zeros((2, 2)), {"kind": "ln"}), "matching attention"),
    (lambda: at.softmax_rows_backward(np.ones((2, 3)) / 3, np.zeros((3, 2))),
     "shape of the forward output"),
    (lambda: at.lm_forward(at.init_lm(5, 4, 3, 1, 4, 0), [[1, 2, 3, 4]], 2),
     "longer than the context"),
    (lambda: at.block(np.zeros((2, 4)), {"Wq": np.eye(4)}, 2), "missing"),
])
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value), str(info.value)
