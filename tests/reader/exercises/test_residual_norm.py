"""The residual/normalization chapter's checkers: each accepts the right answer and names the
mistakes. Right answers here come from torch (batch norm's backward), from simulating a
checkpointed pass block by block, and from the length and direction of the clipped vector."""

from __future__ import annotations

import linecache
import math

import numpy as np
import pytest
from optional import torch_or_skip

from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import residual_norm as ex

torch = torch_or_skip()


pytestmark = pytest.mark.usefixtures("student")


def refuse(check, answer, says):
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    assert says in str(info.value), str(info.value)
    return str(info.value)


def by_torch(dY, X, gamma, eps):
    """batch norm's backward by torch autograd (samples as rows there)."""
    x = torch.tensor(X.T, requires_grad=True)
    g = torch.tensor(gamma[:, 0], requires_grad=True)
    b = torch.zeros(X.shape[0], dtype=torch.float64, requires_grad=True)
    mean = x.mean(0)
    var = x.var(0, unbiased=False)
    y = g * (x - mean) / torch.sqrt(var + eps) + b
    y.backward(torch.tensor(dY.T))
    return x.grad.numpy().T, g.grad.numpy()[:, None], b.grad.numpy()[:, None]


def variant(axis=1, ddof=0, mean_term=True, with_gamma=True, sum_axis=1, keepdims=True):
    def batch_norm_backward(dY, X, gamma, eps):
        mean = X.mean(axis=axis, keepdims=True)
        inv = 1 / np.sqrt(X.var(axis=axis, ddof=ddof, keepdims=True) + eps)
        x_hat = (X - mean) * inv
        g = gamma * dY if with_gamma else dY
        c = g - g.mean(axis=axis, keepdims=True) if mean_term else g
        dX = inv * (c - x_hat * (g * x_hat).mean(axis=axis, keepdims=True))
        right_hat = (X - X.mean(1, keepdims=True)) / np.sqrt(X.var(1, keepdims=True) + eps)
        return (dX, (dY * right_hat).sum(axis=sum_axis, keepdims=keepdims),
                dY.sum(axis=sum_axis, keepdims=keepdims))

    return batch_norm_backward


def test_bn_backward_right_answers_agree_with_torch():
    rng = np.random.default_rng(3)
    dY, X, gamma = rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.uniform(1, 2, (3, 1))
    for ours, theirs in zip(variant()(dY, X, gamma, 1e-5), by_torch(dY, X, gamma, 1e-5), strict=True):
        assert np.allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert ex.check_bn_backward(variant())
    assert ex.check_bn_backward(lambda dY, X, gamma, eps: by_torch(dY, X, gamma, eps))


def test_bn_backward_not_done():
    assert not ex.check_bn_backward(None)

    def stub(dY, X, gamma, eps):
        raise NotImplementedError()

    assert not ex.check_bn_backward(stub)


@pytest.mark.parametrize(
    "answer, says",
    [
        (variant(mean_term=False), "treats the batch mean as a constant"),
        (variant(ddof=1), "1/(m - 1)"),
        (variant(axis=0), "wrong axis"),
        (variant(sum_axis=0), "summed over the features"),
        (variant(with_gamma=False), "missing the factor gamma"),
        (variant(keepdims=False), "expected (3, 1)"),
    ],
)
def test_bn_backward_names_each_classic_mistake(answer, says):
    message = refuse(ex.check_bn_backward, answer, says)
    assert "def " not in message and "x_hat * (" not in message, "never the reference's code"


def test_bn_backward_reports_a_wrong_shape_with_the_expected_one():
    def transposed(dY, X, gamma, eps):
        dX, dg, db = variant()(dY, X, gamma, eps)
        return dX.T, dg, db

    refuse(ex.check_bn_backward, transposed, "should have shape (3, 5)")
    refuse(ex.check_bn_backward, lambda dY, X, gamma, eps: (dY, gamma), "three arrays")


def test_an_exception_shows_the_readers_own_line():
    source = (
        "def batch_norm_backward(dY, X, gamma, eps):\n"
        "    mean = X.mean(axis=1)\n"
        "    return X - mean, gamma, gamma\n"
    )
    filename = "<ipython-input-7-readers-cell>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    message = refuse(ex.check_bn_backward, namespace["batch_norm_backward"], "raised ValueError")
    assert "Your line 3: return X - mean, gamma, gamma" in message


def test_the_readers_line_not_numpys_when_numpy_raises():
    source = (
        "def batch_norm_backward(dY, X, gamma, eps):\n"
        "    mean = np.mean(X, axis=5)\n"
        "    return mean, gamma, gamma\n"
    )
    filename = "/tmp/ipykernel_4242/1234567.py"  # where IPython keeps a cell's code
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    message = refuse(ex.check_bn_backward, namespace["batch_norm_backward"], "AxisError")
    assert "Your line 2: mean = np.mean(X, axis=5)" in message


def test_any_other_wrong_answer_says_which_array_is_off():
    def scaled(dY, X, gamma, eps):
        dX, dg, db = variant()(dY, X, gamma, eps)
        return 1.01 * dX, dg, db

    message = refuse(ex.check_bn_backward, scaled, "dX is not right")
    assert "dgamma, dbeta are right" in message


def peak_by_walking(m, n, L, c, k, s):
    """Independent: count the arrays alive at every moment of a checkpointed backward pass."""
    alive, peak = set(range(0, L, k)), 0  # checkpoints by their block index
    for start in sorted(alive, reverse=True):
        for recomputed in range(1, k + 1):  # the segment's caches grow block by block
            peak = max(peak, len(alive) + c * recomputed)
        alive.discard(start)
    return peak * m * n * s


def test_checkpoint():
    n = ex.checkpoint_numbers()
    m, w, L, c, k, s = (n[key] for key in ("m", "n", "L", "c", "k", "bytes_per_number"))
    assert L % k == 0
    right = peak_by_walking(m, w, L, c, k, s)
    assert right == (L // k + c * k) * m * w * s
    assert ex.check_checkpoint(right)
    assert not ex.check_checkpoint(None)
    refuse(ex.check_checkpoint, c * k * m * w * s, "not the checkpoints")
    refuse(ex.check_checkpoint, (L // k) * m * w * s, "recomputed between two")
    refuse(ex.check_checkpoint, c * L * m * w * s, "plain backward")
    refuse(ex.check_checkpoint, (L // k + c * k) * m * w * 4, "float32")


def test_clip():
    n = ex.clip_numbers()
    g, tau = np.asarray(n["g"]), n["tau"]
    assert np.linalg.norm(g) > tau
    unit = g / np.linalg.norm(g)
    assert ex.check_clip(tau * unit)
    assert not ex.check_clip(None)
    refuse(ex.check_clip, np.clip(g, -tau, tau), "clipping by value")
    refuse(ex.check_clip, unit, "unit vector")
    refuse(ex.check_clip, g * tau / np.linalg.norm(g) ** 2, "||g||^2")
    assert math.isclose(np.linalg.norm(tau * unit), tau)
