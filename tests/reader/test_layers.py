"""backprop_book.layers and backprop_book.deepnet against torch (float64, to 1e-10), against
centered differences, and the classic mistakes planted in the norm kernel caught."""

from __future__ import annotations

import numpy as np
import pytest
from optional import torch_or_skip

from backprop_book import deepnet as dn
from backprop_book import layers as ly

torch = torch_or_skip()
TOL = 1e-10


def close(a, b, tol=TOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max()))
    assert float(np.abs(a - b).max()) <= tol * scale, float(np.abs(a - b).max())


def numerical(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


SHAPES = [(3, 4), (5, 2), (7, 9), (1, 6)]


def random_case(n, m, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, m)) * 2 + 1, rng.normal(size=(n, 1)) + 1, rng.normal(size=(n, 1)),
            rng.normal(size=(n, m)))  # fmt: skip


def torch_norm(kind, X, gamma, beta, dY, training=True, running=None):
    """torch's BatchNorm1d / LayerNorm on rows = samples; returns Y, dX, dgamma, dbeta, stats."""
    n = X.shape[0]
    if kind == "batch":
        mod = torch.nn.BatchNorm1d(n, eps=1e-5, momentum=0.1, dtype=torch.float64)
        if running is not None:
            mod.running_mean.copy_(torch.tensor(running.mean[:, 0]))
            mod.running_var.copy_(torch.tensor(running.var[:, 0]))
        mod.train(training)
    else:
        mod = torch.nn.LayerNorm(n, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        mod.weight.copy_(torch.tensor(gamma[:, 0]))
        mod.bias.copy_(torch.tensor(beta[:, 0]))
    x = torch.tensor(X.T.copy(), requires_grad=True)
    y = mod(x)
    y.backward(torch.tensor(dY.T.copy()))
    stats = None
    if kind == "batch":
        stats = (mod.running_mean.detach().numpy()[:, None], mod.running_var.detach().numpy()[:, None])
    return (y.detach().numpy().T, x.grad.numpy().T, mod.weight.grad.numpy()[:, None],
            mod.bias.grad.numpy()[:, None], stats)  # fmt: skip


@pytest.mark.parametrize("n, m", [s for s in SHAPES if s[1] >= 2])
def test_batch_norm_training_equals_torch_per_array(n, m):
    X, gamma, beta, dY = random_case(n, m, seed=n * 10 + m)
    running = ly.RunningStats(np.linspace(-1, 1, n)[:, None], np.linspace(0.5, 2, n)[:, None])
    start = ly.RunningStats(running.mean.copy(), running.var.copy())
    Y, cache = ly.batch_norm(X, gamma, beta, running=running)
    dX, dgamma, dbeta = ly.norm_backward(dY, cache)
    tY, tdX, tdg, tdb, (rm, rv) = torch_norm("batch", X, gamma, beta, dY, True, start)
    for ours, theirs in ((Y, tY), (dX, tdX), (dgamma, tdg), (dbeta, tdb),
                         (running.mean, rm), (running.var, rv)):  # fmt: skip
        close(ours, theirs)


@pytest.mark.parametrize("n, m", SHAPES)
def test_batch_norm_evaluation_equals_torch_per_array(n, m):
    X, gamma, beta, dY = random_case(n, m, seed=n * 7 + m)
    running = ly.RunningStats(np.linspace(-1, 1, n)[:, None], np.linspace(0.5, 2, n)[:, None])
    Y, cache = ly.batch_norm(X, gamma, beta, training=False, running=running)
    dX, dgamma, dbeta = ly.norm_backward(dY, cache)
    tY, tdX, tdg, tdb, _ = torch_norm("batch", X, gamma, beta, dY, False, running)
    for ours, theirs in ((Y, tY), (dX, tdX), (dgamma, tdg), (dbeta, tdb)):
        close(ours, theirs)


@pytest.mark.parametrize("n, m", [s for s in SHAPES if s[0] >= 2])
def test_layer_norm_equals_torch_per_array(n, m):
    X, gamma, beta, dY = random_case(n, m, seed=n * 3 + m)
    Y, cache = ly.layer_norm(X, gamma, beta)
    dX, dgamma, dbeta = ly.norm_backward(dY, cache)
    tY, tdX, tdg, tdb, _ = torch_norm("layer", X, gamma, beta, dY)
    for ours, theirs in ((Y, tY), (dX, tdX), (dgamma, tdg), (dbeta, tdb)):
        close(ours, theirs)


@pytest.mark.parametrize("kind", ["batch", "layer", "batch-eval"])
def test_norm_backward_equals_centered_differences(kind):
    X, gamma, beta, dY = random_case(4, 5, seed=3)
    running = ly.RunningStats(np.full((4, 1), 0.3), np.full((4, 1), 1.7))

    def forward():
        if kind == "layer":
            return ly.layer_norm(X, gamma, beta)
        return ly.batch_norm(X, gamma, beta, training=kind == "batch", running=running
                             if kind == "batch-eval" else None)  # fmt: skip

    def cost():
        return float(np.sum(dY * forward()[0]))  # C = sum(R * Y): dC/dY = R

    dX, dgamma, dbeta = ly.norm_backward(dY, forward()[1])
    for ours, wrt in ((dX, X), (dgamma, gamma), (dbeta, beta)):
        close(ours, numerical(cost, wrt), tol=1e-7)


# ------------------------------------------------------------------ the classic mistakes


def _mean_as_constant(dY, cache):
    dx_hat = cache.gamma * dY
    dX = cache.inv_std * (dx_hat - cache.x_hat * np.mean(dx_hat * cache.x_hat, axis=1, keepdims=True))
    return dX, np.sum(dY * cache.x_hat, axis=1, keepdims=True), np.sum(dY, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "mistake",
    ["mean-as-constant", "unbiased-variance", "layer-norm-over-batch", "dgamma-wrong-axis"],
)
def test_each_classic_mistake_is_caught_by_torch(monkeypatch, mistake):
    X, gamma, beta, dY = random_case(5, 6, seed=8)
    kind = "layer" if mistake == "layer-norm-over-batch" else "batch"
    if mistake == "mean-as-constant":
        monkeypatch.setattr(ly, "_norm_backward", _mean_as_constant)
    elif mistake == "unbiased-variance":
        def unbiased(X, gamma, beta, axis, eps):  # 1/(N - 1) in the variance
            inv_std = 1 / np.sqrt(X.var(axis=axis, ddof=1, keepdims=True) + eps)
            x_hat = (X - X.mean(axis=axis, keepdims=True)) * inv_std
            return gamma * x_hat + beta, ly.NormCache(x_hat, inv_std, gamma, axis)

        monkeypatch.setattr(ly, "_norm", unbiased)
    elif mistake == "layer-norm-over-batch":
        monkeypatch.setitem(ly.AXES, "layer", 1)
    else:
        real_bw = ly._norm_backward

        def wrong_axis(dY, cache):
            dX, _, _ = real_bw(dY, cache)
            dgamma = np.sum(dY * cache.x_hat, axis=0, keepdims=True)  # over the features
            return dX, dgamma, np.sum(dY, axis=1, keepdims=True)

        monkeypatch.setattr(ly, "_norm_backward", wrong_axis)
    forward = ly.layer_norm if kind == "layer" else ly.batch_norm
    Y, cache = forward(X, gamma, beta)
    got = (Y, *ly.norm_backward(dY, cache))
    want = torch_norm(kind, X, gamma, beta, dY)[:4]
    with pytest.raises(AssertionError):
        for ours, theirs in zip(got, want, strict=True):
            close(ours, theirs)


def test_layer_axis_mutation_reaches_the_kernel():
    assert ly.AXES == {"batch": 1, "layer": 0}


# ------------------------------------------------------------------ dropout and clipping


def test_dropout_mask_scale_and_evaluation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 400))
    Y, mask = ly.dropout(X, 0.3, rng=np.random.default_rng(1))
    assert set(np.unique(mask)) == {0.0, 1.0}
    close(Y, X * mask / 0.7)
    assert abs(mask.mean() - 0.7) < 0.01
    dY = rng.normal(size=X.shape)
    Xs, dYs, masks = X[:3, :4].copy(), dY[:3, :4], mask[:3, :4]
    fd = numerical(lambda: float(np.sum(dYs * Xs * masks / 0.7)), Xs)
    close(ly.dropout_backward(dYs, masks, 0.3), fd, tol=1e-8)
    Y_eval, mask_eval = ly.dropout(X, 0.3, training=False)
    assert np.array_equal(Y_eval, X) and np.all(mask_eval == 1)


def test_dropout_backward_equals_torch_with_the_same_mask():
    rng = np.random.default_rng(2)
    X, dY = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    Y, mask = ly.dropout(X, 0.25, rng=np.random.default_rng(3))
    x = torch.tensor(X, requires_grad=True)
    y = x * torch.tensor(mask) / 0.75  # torch's dropout with this mask
    y.backward(torch.tensor(dY))
    close(Y, y.detach().numpy())
    close(ly.dropout_backward(dY, mask, 0.25), x.grad.numpy())


def test_clipping_keeps_the_direction_and_caps_the_norm_like_torch():
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(3, 4)) * 5, rng.normal(size=(3, 1)) * 5]
    clipped, total = ly.clip_by_global_norm(grads, 1.0)
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.tensor(g)
    t_total = torch.nn.utils.clip_grad_norm_(params, 1.0)
    assert abs(total - float(t_total)) < 1e-12 * total
    for ours, p in zip(clipped, params, strict=True):
        close(ours, p.grad.numpy(), tol=1e-6)  # torch divides by norm + 1e-6
    small, total_small = ly.clip_by_global_norm(clipped, 5.0)
    assert all(np.array_equal(a, b) for a, b in zip(small, clipped, strict=True))
    assert abs(total_small - 1.0) < 1e-12


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ly.batch_norm(np.ones((3, 4)), np.ones((4, 1)), np.zeros((3, 1))), r"gamma must be a column of shape \(3, 1\)"),
        (lambda: ly.batch_norm(np.ones((3, 1)), np.ones((3, 1)), np.zeros((3, 1))), "at least 2 samples"),
        (lambda: ly.batch_norm(np.ones((3, 4)), np.ones((3, 1)), np.zeros((3, 1)), training=False), "running statistics"),
        (lambda: ly.layer_norm(np.ones((1, 4)), np.ones((1, 1)), np.zeros((1, 1))), "at least 2 features"),
        (lambda: ly.norm_backward(np.ones((3, 4)), "cache"), "NormCache"),
        (lambda: ly.norm_backward(np.ones((4, 3)), ly.layer_norm(np.arange(12.0).reshape(3, 4), np.ones((3, 1)), np.zeros((3, 1)))[1]), r"shape of the forward pass' output, \(3, 4\)"),
        (lambda: ly.dropout(np.ones((2, 2)), 1.0, rng=np.random.default_rng(0)), r"in \[0, 1\)"),
        (lambda: ly.dropout(np.ones((2, 2)), 0.5), "rng=np.random.default_rng"),
        (lambda: ly.clip_by_global_norm([np.ones(3)], 0), "positive"),
        (lambda: ly.batch_norm(np.ones((3, 4)), np.ones((3, 1)), np.zeros((3, 1)), eps=-1), "eps must be"),
    ],
)
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ------------------------------------------------------------------ the deep network


def torch_deep(net, X, Y, design):
    """The same network written in torch; returns the cost and the block weights' gradients."""
    t = lambda a: torch.tensor(a, requires_grad=True)  # noqa: E731
    W_in, b_in, W_out, b_out = t(net.W_in), t(net.b_in), t(net.W_out), t(net.b_out)
    Ws, bs = [t(w) for w in net.W], [t(b) for b in net.b]
    gs, betas = [t(g) for g in net.gamma], [t(b) for b in net.beta]
    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[design.activation]
    H = W_in @ torch.tensor(X) + b_in
    for W, b, g, be in zip(Ws, bs, gs, betas, strict=True):
        Z = W @ H + b
        if design.norm == "batch":
            Z = g * (Z - Z.mean(1, keepdim=True)) / torch.sqrt(Z.var(1, unbiased=False, keepdim=True) + 1e-5) + be
        elif design.norm == "layer":
            Z = g * (Z - Z.mean(0, keepdim=True)) / torch.sqrt(Z.var(0, unbiased=False, keepdim=True) + 1e-5) + be
        H = H + f(Z) if design.residual else f(Z)
    logits = W_out @ H + b_out
    C = -(torch.tensor(Y) * torch.log_softmax(logits, 0)).sum() / X.shape[1]
    C.backward()
    tg = [g.grad.numpy() if g.grad is not None else None for g in gs]
    return float(C.detach()), [w.grad.numpy() for w in Ws], tg, W_in.grad.numpy()


DESIGNS = [dn.Design(r, n, a) for r in (False, True) for n in dn.NORMS for a in ("sigmoid", "tanh")]


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: f"{d.name}-{d.activation}")
def test_deep_backward_equals_torch_and_checkpointing_changes_nothing(design):
    rng = np.random.default_rng(5)
    net = dn.init_net(6, 5, 7, 3, seed=9)
    for g in net.gamma:
        g += rng.normal(scale=0.2, size=g.shape)
    X, Y = rng.normal(size=(6, 8)), np.eye(3)[:, rng.integers(0, 3, size=8)]
    C, grads, kept = dn.backward(net, X, Y, design)
    tC, tW, tg, tWin = torch_deep(net, X, Y, design)
    assert abs(C - tC) < TOL
    for ours, theirs in zip(grads.W, tW, strict=True):
        close(ours, theirs)
    close(grads.W_in, tWin)
    if design.norm:
        for ours, theirs in zip(grads.gamma, tg, strict=True):
            close(ours, theirs)
    for k in (1, 2, 3, 7, 10):
        Ck, gk, peak = dn.checkpointed_backward(net, X, Y, design, k)
        assert Ck == C
        for a, b in zip(gk.arrays(), grads.arrays(), strict=True):
            assert np.array_equal(a, b), k
        if 1 < k < net.depth:
            assert peak < kept, k


def test_memory_counts_are_the_arrays_kept():
    net = dn.init_net(64, 32, 20, 10, seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(64, 50)), np.eye(10)[:, rng.integers(0, 10, size=50)]
    for design, arrays in ((dn.Design(), 2), (dn.Design(norm="batch"), 3)):
        _, _, kept = dn.backward(net, X, Y, design)
        extra = 0 if design.norm is None else 20 * 32 * 8  # inv_std, (n, 1) per block
        assert kept == dn.activation_bytes(50, 32, 20, arrays) + extra
        for k in (2, 4, 5, 10):
            _, _, peak = dn.checkpointed_backward(net, X, Y, design, k)
            checkpoints = -(-20 // k)
            per_block = arrays * 50 * 32 * 8 + (extra // 20)
            assert peak == checkpoints * 50 * 32 * 8 + k * per_block, k


def test_train_is_seeded_and_clipping_caps_every_step():
    rng = np.random.default_rng(1)
    X, labels = rng.normal(size=(5, 40)), rng.integers(0, 3, size=40)
    Y = np.eye(3)[:, labels]
    runs = []
    for _ in range(2):
        net = dn.init_net(5, 4, 3, 3, seed=2)
        runs.append(dn.train(net, X, Y, dn.Design(residual=True), epochs=2, batch_size=10, eta=0.1))
    assert runs[0]["cost"] == runs[1]["cost"]
    net = dn.init_net(5, 4, 3, 3, seed=2)
    before = [a.copy() for a in net.arrays()]
    dn.train(net, X, Y, dn.Design(residual=True), epochs=1, batch_size=40, eta=0.1, beta=0.0, clip=1e-3)
    step = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(net.arrays(), before, strict=True)))
    assert abs(step - 0.1 * 1e-3) < 1e-12


def test_deep_net_bad_input():
    net = dn.init_net(4, 3, 2, 2, seed=0)
    with pytest.raises(ValueError, match="norm must be one of"):
        dn.Design(norm="group")
    with pytest.raises(ValueError, match="X must have 4 rows"):
        dn.backward(net, np.ones((3, 5)), np.ones((2, 5)), dn.Design())
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 5\)"):
        dn.backward(net, np.ones((4, 5)), np.ones((5, 2)), dn.Design())
    with pytest.raises(ValueError, match="k .keep every k-th activation. must be a whole number"):
        dn.checkpointed_backward(net, np.ones((4, 5)), np.eye(2)[:, [0, 1, 0, 1, 0]], dn.Design(), 0)
