"""backprop_book.conv and backprop_book.recurrent against independent references.

References: PyTorch autograd (float64, random shapes, strides and paddings, 1e-10), centered
differences, a direct loop over every output position (the definition written out), a
scatter-add of each window's gradient (col2im) for the input gradient, and SciPy-free
textbook identities (the full convolution with a flipped kernel).
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_book import conv, numerical_gradient, recurrent


def random_case(rng, max_side=7):
    N, C, n_out = (int(v) for v in rng.integers(1, 4, size=3))
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    s = tuple(int(v) for v in rng.integers(1, 4, size=2))
    p = tuple(int(v) for v in rng.integers(0, 3, size=2))
    H, W = int(rng.integers(kh, kh + max_side)), int(rng.integers(kw, kw + max_side))
    x, k = rng.normal(size=(N, C, H, W)), rng.normal(size=(n_out, C, kh, kw))
    return x, k, rng.normal(size=n_out), s, p


def loop_conv2d(x, k, b, s, p):
    """The definition, one output entry at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    n_out, _, kh, kw = k.shape
    Ho, Wo = (xp.shape[2] - kh) // s[0] + 1, (xp.shape[3] - kw) // s[1] + 1
    y = np.zeros((x.shape[0], n_out, Ho, Wo))
    for n, o, i, j in np.ndindex(y.shape):
        patch = xp[n, :, s[0] * i : s[0] * i + kh, s[1] * j : s[1] * j + kw]
        y[n, o, i, j] = b[o] + np.sum(patch * k[o])
    return y


def scatter_input_grad(dy, x, k, s, p):
    """dC/dx the other way: each output's gradient times the kernel, added onto its window."""
    kh, kw = k.shape[2:]
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1]))
    for n, o, i, j in np.ndindex(dy.shape):
        dxp[n, :, s[0] * i : s[0] * i + kh, s[1] * j : s[1] * j + kw] += dy[n, o, i, j] * k[o]
    return dxp[:, :, p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]]


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_matches_torch_and_the_definition(torch, seed):
    rng = np.random.default_rng(seed)
    x, k, b, s, p = random_case(rng)
    y = conv.conv2d(x, k, b, s, p)
    xt, kt, bt = (torch.tensor(a, requires_grad=True) for a in (x, k, b))
    yt = torch.nn.functional.conv2d(xt, kt, bt, stride=s, padding=p)
    dy = rng.normal(size=y.shape)
    yt.backward(torch.tensor(dy))
    dx, dk, db = conv.conv2d_backward(dy, x, k, s, p)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(y, loop_conv2d(x, k, b, s, p), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, scatter_input_grad(dy, x, k, s, p), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=0, atol=1e-10)


def test_conv2d_backward_matches_centered_differences():
    rng = np.random.default_rng(40)
    x, k = rng.normal(size=(2, 2, 6, 5)), rng.normal(size=(3, 2, 3, 2))
    b, s, p = rng.normal(size=3), (2, 1), (1, 2)
    G = rng.normal(size=conv.conv2d(x, k, b, s, p).shape)  # C = sum(G * y)
    dx, dk, db = conv.conv2d_backward(G, x, k, s, p)
    for got, arr in ((dx, x), (dk, k), (db, b)):
        fd = numerical_gradient(lambda _: float(np.sum(G * conv.conv2d(x, k, b, s, p))), arr)
        np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_conv1d_matches_torch(torch, seed):
    rng = np.random.default_rng(100 + seed)
    N, C, n_out, kl = (int(v) for v in rng.integers(1, 4, size=4))
    s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    x, k, b = rng.normal(size=(N, C, kl + int(rng.integers(0, 8)))), rng.normal(size=(n_out, C, kl)), rng.normal(size=n_out)
    y = conv.conv1d(x, k, b, s, p)
    xt, kt, bt = (torch.tensor(a, requires_grad=True) for a in (x, k, b))
    yt = torch.nn.functional.conv1d(xt, kt, bt, stride=s, padding=p)
    dy = rng.normal(size=y.shape)
    yt.backward(torch.tensor(dy))
    for got, want in zip((y, *conv.conv1d_backward(dy, x, k, s, p)),
                         (yt.detach(), xt.grad, kt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-10)


def test_single_channel_gradients_are_a_full_convolution_and_a_correlation():
    rng = np.random.default_rng(7)
    x, k = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    g = rng.normal(size=(4, 6))
    dx, dk, _ = conv.conv2d_backward(g[None, None], x[None, None], k[None, None])
    np.testing.assert_allclose(dx[0, 0], conv.convolve(g, k, "full"), atol=1e-12)
    np.testing.assert_allclose(dx[0, 0], conv.correlate(g, k[::-1, ::-1], "full"), atol=1e-12)
    np.testing.assert_allclose(dk[0, 0], conv.correlate(x, g), atol=1e-12)
    # and the unflipped kernel is NOT the input gradient
    assert np.abs(conv.correlate(g, k, "full") - dx[0, 0]).max() > 0.1


@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, 2), (2, 1), (3, 3), ((2, 3), (1, 2))])
def test_maxpool_matches_torch_with_ties(torch, size, stride):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(float)  # many ties
    y = conv.maxpool2d(x, size, stride)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, size, stride)
    dy = rng.normal(size=y.shape)
    yt.backward(torch.tensor(dy))
    dx = conv.maxpool2d_backward(dy, x, size, stride)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx.sum(), dy.sum(), atol=1e-10)  # nothing lost, nothing made


def test_maxpool_ties_go_to_the_first_maximum_only():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    dx = conv.maxpool2d_backward(np.array([[[[2.0]]]]), x)
    np.testing.assert_array_equal(dx, [[[[0.0, 2.0], [0.0, 0.0]]]])


def test_maxpool_backward_matches_centered_differences_without_ties():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 2, 6, 6))
    G = rng.normal(size=conv.maxpool2d(x, 3, 1).shape)
    dx = conv.maxpool2d_backward(G, x, 3, 1)
    fd = numerical_gradient(lambda _: float(np.sum(G * conv.maxpool2d(x, 3, 1))), x)
    np.testing.assert_allclose(dx, fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: conv.conv2d(np.ones((1, 2, 4, 4)), np.ones((1, 3, 2, 2))), "input channels"),
        (lambda: conv.conv2d(np.ones((2, 4, 4)), np.ones((1, 2, 2, 2))), "(N, C_in, H, W)"),
        (lambda: conv.conv2d(np.ones((1, 1, 2, 4)), np.ones((1, 1, 3, 3))), "along the rows"),
        (lambda: conv.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=0), "stride"),
        (lambda: conv.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), padding=-1), "padding"),
        (lambda: conv.conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), b=np.ones(3)), "one entry per"),
        (lambda: conv.conv2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))),
         "(1, 1, 2, 2)"),
        (lambda: conv.conv2d(np.full((1, 1, 4, 4), np.nan), np.ones((1, 1, 3, 3))), "NaN"),
        (lambda: conv.maxpool2d(np.ones((1, 1, 1, 4)), 2), "does not fit"),
        (lambda: conv.maxpool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 4, 4))), "(1, 1, 2, 2)"),
        (lambda: conv.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 2)), stride=(1, 2)), "one stride"),
        (lambda: conv.correlate(np.ones((2, 2)), np.ones((3, 3))), "at least as large"),
        (lambda: conv.correlate(np.ones((4, 4)), np.ones((3, 3)), "same"), "'valid' or 'full'"),
    ],
)
def test_bad_input_says_what_was_expected(call, says):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert says in str(info.value), str(info.value)


# ------------------------------------------------------------------ the recurrent network


def rnn_problem(seed, T=5, n_x=3, n_h=4, m=2):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, n_x, m)), rng.normal(size=(n_h, m)) * 0.5,
            rng.normal(size=(n_h, n_h)) * 0.6, rng.normal(size=(n_h, n_x)) * 0.6,
            rng.normal(size=(n_h, 1)) * 0.3, rng.normal(size=(T + 1, n_h, m)))


def test_bptt_matches_torch(torch):
    X, h0, W, U, b, G = rnn_problem(0)
    dh0, dW, dU, db = recurrent.rnn_backward(G, X, h0, W, U, b)
    Xt, h0t, Wt, Ut, bt = (torch.tensor(a, requires_grad=True) for a in (X, h0, W, U, b))
    h, C = h0t, (torch.tensor(G[0]) * h0t).sum()
    for t in range(X.shape[0]):
        h = torch.tanh(Wt @ h + Ut @ Xt[t] + bt)
        C = C + (torch.tensor(G[t + 1]) * h).sum()
    C.backward()
    for got, want in ((dh0, h0t), (dW, Wt), (dU, Ut), (db, bt)):
        np.testing.assert_allclose(got, want.grad.numpy(), rtol=0, atol=1e-10)
    # and torch's own nn.RNN (one sample per row there; its second bias set to 0)
    rnn = torch.nn.RNN(3, 4, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor(W))
        rnn.weight_ih_l0.copy_(torch.tensor(U))
        rnn.bias_ih_l0.copy_(torch.tensor(b[:, 0]))
        rnn.bias_hh_l0.zero_()
    out, _ = rnn(torch.tensor(X.transpose(0, 2, 1)), torch.tensor(h0.T)[None])
    H = recurrent.rnn_forward(X, h0, W, U, b)
    np.testing.assert_allclose(H[1:], out.detach().numpy().transpose(0, 2, 1), atol=1e-12)


def test_bptt_matches_centered_differences():
    X, h0, W, U, b, G = rnn_problem(1, T=4)

    def cost(_):
        return float(np.sum(G * recurrent.rnn_forward(X, h0, W, U, b)))

    for got, arr in zip(recurrent.rnn_backward(G, X, h0, W, U, b), (h0, W, U, b), strict=True):
        np.testing.assert_allclose(got, numerical_gradient(cost, arr), rtol=1e-7, atol=1e-9)


def test_rnn_bad_input():
    X, h0, W, U, b, G = rnn_problem(2)
    with pytest.raises(ValueError, match=r"W must have shape \(4, 4\)"):
        recurrent.rnn_forward(X, h0, W[:3], U, b)
    with pytest.raises(ValueError, match="X must have 3 axes"):
        recurrent.rnn_forward(X[0], h0, W, U, b)
    with pytest.raises(ValueError, match="one dC/dh_t per state"):
        recurrent.rnn_backward(G[1:], X, h0, W, U, b)
