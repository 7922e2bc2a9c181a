"""NetworkNudge's Python side: the kernel path publishes the chapter's numbers, checked here
against the reference and finite differences; bad input gets a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_book import reference as ref
from backprop_book.gradcheck import numerical_gradient
from backprop_book.network_widget import NetworkNudge, activations, cost_name, param_names


def numpy_forward_backward(output):
    """A chapter-style forward_backward built on the reference (the widget's contract)."""
    def fb(params, x, y):
        acts = activations([params[0][0].shape[1]] + [W.shape[0] for W, _ in params], output)
        cache = ref.forward(params, x, acts)
        deltas = ref.backward_deltas(params, cache, y, acts, cost_name(output))
        grads = ref.backward(params, cache, y, acts, cost_name(output))
        return {"C": ref.cost_from_cache(cache, y, acts, cost_name(output)), "a": cache.as_,
                "delta": deltas, "dW": [None] + [g[0] for g in grads],
                "db": [None] + [g[1] for g in grads]}
    return fb


@pytest.fixture(params=["sigmoid-mse", "softmax-ce"])
def case(request):
    output = request.param
    sizes = [2, 2, 2] if output == "sigmoid-mse" else [4, 3, 3, 3]
    params = ref.init_params(sizes, seed=11, scale=1.0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=sizes[0])
    y = rng.uniform(0.1, 0.9, sizes[-1]) if output == "sigmoid-mse" else np.eye(sizes[-1])[1]
    return output, sizes, params, x, y


def test_param_names_follow_to_from_order():
    assert param_names([2, 3, 1])[:7] == ["W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]", "W1[3,1]",
                                          "W1[3,2]", "b1[1]"]
    assert len(param_names([2, 3, 1])) == 2 * 3 + 3 + 3 + 1


def test_kernel_numbers_equal_finite_differences(case):
    output, sizes, params, x, y = case
    w = NetworkNudge(numpy_forward_backward(output), params=params, x=x, y=y, output=output,
                     param=param_names(sizes)[-2], step=0.01)
    shown = w.readout()
    acts = activations(sizes, output)
    X, Y = x.reshape(-1, 1), y.reshape(-1, 1)
    flat = ref.flatten(params)

    def cost(v):
        return ref.loss(ref.unflatten(v, params), X, Y, acts, cost_name(output))

    fd = numerical_gradient(cost, flat.copy())
    assert np.allclose(shown["grad"], fd, rtol=1e-6, atol=1e-9)
    assert shown["gradient"] == pytest.approx(fd[w.param], rel=1e-6)
    moved = flat.copy()
    moved[w.param] += 0.01
    assert shown["actual_change"] == pytest.approx(cost(moved) - cost(flat), rel=1e-9)
    assert shown["predicted_change"] == pytest.approx(0.01 * shown["gradient"])


def test_moving_a_parameter_republishes(case):
    output, sizes, params, x, y = case
    w = NetworkNudge(numpy_forward_backward(output), params=params, x=x, y=y, output=output)
    before = w.readout()["C"]
    flat = list(w.flat)
    flat[0] += 1.0
    w.flat = flat
    assert w.readout()["C"] != before and w.kernel["inputs"]["flat"] == flat
    w.param = w.index_of("b1[1]", sizes)
    assert w.kernel["inputs"]["param"] == w.param and w.param_name == "b1[1]"


def test_without_a_kernel_function_nothing_is_published(case):
    output, sizes, params, x, y = case
    assert NetworkNudge(params=params, x=x, y=y, output=output).kernel == {}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"output": "tanh"}, "output must be one of"),
        ({"x": [1.0]}, "x must have 2 entries"),
        ({"y": [0.5, 0.5, 0.5]}, "y must have 2 entries"),
        ({"x": [np.nan, 1.0]}, "NaN"),
        ({"param": "W3[1,1]"}, "must name a weight or bias"),
        ({"param": 99}, "param index must be"),
    ],
)
def test_bad_input_is_refused_with_a_message(change, message):
    kwargs = {"params": ref.init_params([2, 2, 2], seed=1), "x": [0.2, -0.4], "y": [0.3, 0.7]}
    with pytest.raises((ValueError, TypeError), match=message):
        NetworkNudge(**{**kwargs, **change})


def test_softmax_target_must_be_a_distribution():
    with pytest.raises(ValueError):
        NetworkNudge(params=ref.init_params([2, 3], seed=1), x=[0.1, 0.2], y=[1, 1, 0],
                     output="softmax-ce")


def test_a_bad_forward_backward_is_named():
    params = ref.init_params([2, 2, 2], seed=1)
    with pytest.raises(ValueError, match="keys C, a, delta, dW, db"):
        NetworkNudge(lambda p, x, y: {"C": 1.0}, params=params, x=[0, 1], y=[0, 1])

    def wrong_shape(p, x, y):
        out = numpy_forward_backward("sigmoid-mse")(p, x, y)
        out["dW"][1] = out["dW"][1].T[:1]
        return out

    with pytest.raises(ValueError, match="dW1 of shape"):
        NetworkNudge(wrong_shape, params=params, x=[0, 1], y=[0, 1])
    with pytest.raises(TypeError, match="must be a function"):
        NetworkNudge(42, params=params, x=[0, 1], y=[0, 1])
