"""The Python side of the NetworkNudge widget, driven without a browser.

The widget is given a NumPy ``forward_backward`` written here (sigmoid through tanh, the
backward pass spelled out layer by layer), not the widget's or a chapter's code. What it
publishes must equal ``backprop_book.reference.loss_and_grads`` to 1e-12, its gradients must
equal centered differences of its own published cost, and every bad input or bad result
must fail with a message that says what was expected and what came.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import traitlets

from backprop_book import reference as ref
from backprop_book.widgets._assets import stylesheet
from backprop_book.widgets.network_nudge import (
    NetworkNudge,
    activations,
    cost_name,
    param_index,
    param_names,
    shapes_like,
)

CASES = {  # name: (sizes, output)
    "2-2-2 sigmoid-mse": ([2, 2, 2], "sigmoid-mse"),
    "4-3-3-3 softmax-ce": ([4, 3, 3, 3], "softmax-ce"),
    "2-3-3-3 softmax-ce": ([2, 3, 3, 3], "softmax-ce"),
}


def sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def numpy_forward_backward(output: str):
    """A chapter-style ``forward_backward(params, x, y)`` for one sample, in plain NumPy."""

    def fb(params, x, y):
        L = len(params)
        a, z = [x], [None]
        for layer, (W, b) in enumerate(params, start=1):
            z.append(W @ a[-1] + b)
            if layer == L and output == "softmax-ce":
                e = np.exp(z[-1] - z[-1].max())
                a.append(e / e.sum())
            else:
                a.append(sig(z[-1]))
        delta = [None] * (L + 1)
        if output == "softmax-ce":
            C = -float(np.sum(y * (z[L] - z[L].max() - np.log(np.sum(np.exp(z[L] - z[L].max()))))))
            delta[L] = a[L] - y
        else:
            C = 0.5 * float(np.sum((a[L] - y) ** 2))
            delta[L] = (a[L] - y) * a[L] * (1 - a[L])
        for layer in range(L - 1, 0, -1):
            delta[layer] = (params[layer][0].T @ delta[layer + 1]) * a[layer] * (1 - a[layer])
        dW = [None] + [delta[k] @ a[k - 1].T for k in range(1, L + 1)]
        db = [None] + [delta[k].copy() for k in range(1, L + 1)]
        return {"C": C, "a": a, "z": z, "delta": delta, "dW": dW, "db": db}

    return fb


def make_case(name: str, seed: int = 5):
    sizes, output = CASES[name]
    rng = np.random.default_rng(seed)
    params = ref.init_params(sizes, seed=seed, scale=1.0)
    x = rng.normal(0, 1, sizes[0])
    if output == "softmax-ce":
        y = np.eye(sizes[-1])[int(rng.integers(sizes[-1]))]
    else:
        y = rng.uniform(0.05, 0.95, sizes[-1])
    return sizes, output, params, x, y


@pytest.fixture(params=list(CASES))
def case(request):
    return make_case(request.param)


def widget_for(case, **kw) -> NetworkNudge:
    sizes, output, params, x, y = case
    return NetworkNudge(
        numpy_forward_backward(output), params=params, x=x, y=y, output=output, **kw
    )


def reference_numbers(sizes, output, flat, x, y):
    """C, a, delta and the flat gradient from backprop_book.reference."""
    params = ref.unflatten(np.asarray(flat), shapes_like(sizes))
    X, Y = np.reshape(x, (-1, 1)), np.reshape(y, (-1, 1))
    acts, cost = activations(sizes, output), cost_name(output)
    C, grads = ref.loss_and_grads(params, X, Y, acts, cost)
    cache = ref.forward(params, X, acts)
    deltas = ref.backward_deltas(params, cache, Y, acts, cost)
    return C, cache.as_, deltas, ref.flatten(grads)


def close(a, b, tol=1e-12) -> bool:
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) <= tol * np.maximum(1.0, np.abs(b))))


# --- the numbers ------------------------------------------------------------------------


def test_param_names_are_one_based_to_from_in_flat_order():
    names = param_names([2, 3, 1])
    assert names[:7] == ["W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]", "W1[3,1]", "W1[3,2]", "b1[1]"]
    assert names[9:] == ["W2[1,1]", "W2[1,2]", "W2[1,3]", "b2[1]"]
    params = ref.init_params([2, 3, 1], seed=0)
    flat = ref.flatten(params)
    # "W2[1,3]" is NumPy's W2[0, 2]; "b1[2]" is b1[1, 0]
    assert flat[param_index("W2[1,3]", [2, 3, 1])] == params[1][0][0, 2]
    assert flat[param_index("b1[2]", [2, 3, 1])] == params[0][1][1, 0]
    assert param_index("W2[1, 3]", [2, 3, 1]) == 11


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_readout_equals_the_reference(case, seed):
    sizes, output, *_ = case
    w = widget_for(case)
    rng = np.random.default_rng(seed)
    names = param_names(sizes)
    w.flat = list(rng.normal(0, 1.5, len(names)))
    w.x = list(rng.uniform(-3, 3, sizes[0]))
    w.step = 0.37
    w.select(names[int(rng.integers(len(names)))])
    out = w.readout()
    C, a, deltas, grad = reference_numbers(sizes, output, w.flat, w.x, w.y)
    assert close(out["C"], C)
    assert close(out["grad"], grad)
    for layer in range(len(sizes)):
        assert close(out["a"][layer], a[layer].ravel())
        if layer:
            assert close(out["delta"][layer], deltas[layer].ravel())
    assert out["gradient"] == out["grad"][w.param] and out["param_name"] == w.param_name
    assert close(out["predicted_change"], grad[w.param] * 0.37)
    moved = np.array(w.flat)
    moved[w.param] += 0.37
    C_after = reference_numbers(sizes, output, moved, w.x, w.y)[0]
    assert close(out["actual_change"], C_after - C)
    assert w.kernel["inputs"] == {
        "flat": w.flat,
        "x": w.x,
        "y": w.y,
        "param": w.param,
        "step": 0.37,
    }


def test_gradients_equal_centered_differences_of_the_published_cost(case):
    """Nudge every parameter by ±h through the widget itself and compare the slope of its C."""
    w = widget_for(case)
    flat, grad, h = list(w.flat), w.readout()["grad"], 1e-5
    for i in range(len(flat)):
        w.flat = flat[:i] + [flat[i] + h] + flat[i + 1 :]
        c_plus = w.readout()["C"]
        w.flat = flat[:i] + [flat[i] - h] + flat[i + 1 :]
        c_minus = w.readout()["C"]
        numeric = (c_plus - c_minus) / (2 * h)
        assert abs(grad[i] - numeric) <= 1e-7 * max(abs(grad[i]), abs(numeric), 1e-3), (
            param_names(w.sizes)[i], grad[i], numeric)  # fmt: skip
    w.flat = flat


def test_predicted_change_misses_by_curvature(case):
    """actual − predicted ≈ C'' Δ²/2: halving the nudge shrinks the gap about four-fold."""
    w = widget_for(case, param="b1[1]")
    gaps = []
    for step in (0.1, 0.05, 0.025):
        w.step = step
        out = w.readout()
        gaps.append(out["actual_change"] - out["predicted_change"])
    assert 3.5 < gaps[0] / gaps[1] < 4.5 and 3.5 < gaps[1] / gaps[2] < 4.5, gaps


def test_every_change_republishes(case):
    sizes, *_ = case
    w = widget_for(case)
    for name, value in [("x", [0.5] * sizes[0]), ("flat", [0.3] * len(w.flat)), ("step", 0.2)]:
        before = dict(w.kernel)
        setattr(w, name, value)
        assert w.kernel["inputs"][name] == value and w.kernel != before, name
    for name in ("b1[1]", param_names(sizes)[-1], 0):
        w.param = name  # a name or an index
        assert w.readout()["gradient"] == w.readout()["grad"][w.param]
        assert w.kernel["inputs"]["param"] == param_index(name, sizes)


def test_front_end_update_path(case):
    """A slider move arrives as a state update from the front end; the kernel answers it."""
    sizes, output, *_ = case
    w = widget_for(case)
    flat = [0.25] * len(w.flat)
    w.set_state({"flat": flat, "param": 2})
    assert w.kernel["inputs"]["flat"] == flat and w.kernel["inputs"]["param"] == 2
    assert close(w.readout()["C"], reference_numbers(sizes, output, flat, w.x, w.y)[0])


def test_ping_is_answered(case, monkeypatch):
    w = widget_for(case)
    sent = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append(content))
    w._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"type": "ping"}}}, "buffers": []}
    )
    assert sent == [{"type": "pong"}]


def test_state_is_json_and_front_end_is_shipped(case):
    state = widget_for(case).get_state()
    json.dumps(state)
    assert {"sizes", "output", "flat", "x", "y", "param", "step", "kernel"} <= set(state)
    w = widget_for(case)
    assert "export default" in w._esm and "bp-network-nudge" in w._esm
    # the shared card, then rules scoped to this widget alone (none touches ChainNudge)
    own = stylesheet("network_nudge.css")
    assert w._css == stylesheet("card.css", "network_nudge.css")
    assert ".bp-network-nudge" in own and ".bp-chain-nudge" not in own


def test_without_forward_backward_the_front_end_computes_alone(case):
    sizes, output, params, x, y = case
    w = NetworkNudge(params=params, x=x, y=y, output=output, sizes=sizes)
    assert w.kernel == {} and w.readout() == {}
    w.step = 0.1
    assert w.kernel == {}


def test_forward_backward_gets_columns_and_the_nudged_params(case):
    sizes, output, params, x, y = case
    calls = []

    def spy(p, xx, yy):
        calls.append((ref.flatten(p), xx.shape, yy.shape))
        return numpy_forward_backward(output)(p, xx, yy)

    NetworkNudge(spy, params=params, x=x, y=y, output=output, param=3, step=0.5)
    (here, xs, ys), (after, *_) = calls
    assert xs == (sizes[0], 1) and ys == (sizes[-1], 1)
    assert np.array_equal(here, ref.flatten(params))
    assert after[3] == here[3] + 0.5 and np.array_equal(np.delete(after, 3), np.delete(here, 3))


# --- what goes wrong, and what the reader is told ---------------------------------------

GOOD = {"params": ref.init_params([2, 2, 2], seed=1), "x": [0.2, -0.4], "y": [0.3, 0.7]}


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"output": "tanh"}, ValueError, r"output must be one of sigmoid-mse, softmax-ce, got 'tanh'"),
        ({"x": [1.0]}, ValueError, r"x must have 2 entries \(the 2-2-2 network's inputs\), got 1"),
        ({"y": [0.5] * 3}, ValueError, r"y must have 2 entries \(the 2-2-2 network's outputs\), got 3"),
        ({"x": [np.nan, 1.0]}, ValueError, r"x contains NaN or inf"),
        ({"y": [0.1, np.inf]}, ValueError, r"y contains NaN or inf"),
        ({"x": [[1.0, 2.0]]}, ValueError, r"x must be one sample: a flat list of numbers or a column \(n, 1\), got shape \(1, 2\)"),
        ({"step": math.nan}, ValueError, r"step must be finite"),
        ({"sizes": [2, 3, 2]}, ValueError, r"sizes \[2, 3, 2\] do not match params, whose shapes give \[2, 2, 2\]"),
        ({"param": "W3[1,1]"}, ValueError, r"must name a weight or bias of this 2-2-2 network, from 'W1\[1,1\]' to 'b2\[2\]'"),
        ({"param": "W1[0,0]"}, ValueError, r"indices are 1-based as in the text"),
        ({"param": 12}, ValueError, r"param index must be in 0..11, got 12"),
        ({"param": 1.5}, TypeError, r"param must be a name such as 'W1\[1,1\]' or an index"),
        ({"params": [(np.ones((2, 2)), np.ones((2, 1))), (np.ones((2, 3)), np.ones((2, 1)))]},
         ValueError, r"layers 1 and 2 do not chain"),
        ({"params": [(np.ones((2, 2)), np.ones(2))]}, ValueError, r"b1 has shape \(2,\).*must be a column"),
        ({"params": [(np.full((2, 2), np.nan), np.ones((2, 1)))]}, ValueError, r"W1 contains NaN"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message(change, error, message):
    with pytest.raises(error, match=message):
        NetworkNudge(**{**GOOD, **change})


def test_softmax_target_must_be_one_hot():
    params = ref.init_params([2, 3], seed=1)
    with pytest.raises(
        ValueError, match=r"y must be one-hot for output 'softmax-ce'.*\[1.0, 1.0, 0.0\]"
    ):
        NetworkNudge(params=params, x=[0.1, 0.2], y=[1, 1, 0], output="softmax-ce")
    w = NetworkNudge(params=params, x=[0.1, 0.2], y=[0, 0, 1], output="softmax-ce")
    with pytest.raises(ValueError, match="one-hot"):
        w.y = [0.5, 0.5, 0.0]
    assert w.y == [0.0, 0.0, 1.0]


def test_shape_and_kind_are_fixed_once_drawn():
    w = NetworkNudge(**GOOD)
    with pytest.raises(
        ValueError, match=r"sizes are fixed once the widget is drawn \(\[2, 2, 2\]\)"
    ):
        w.sizes = [2, 3, 2]
    with pytest.raises(ValueError, match="output is fixed once the widget is drawn"):
        w.output = "softmax-ce"
    with pytest.raises(ValueError, match=r"flat must have 12 entries .*parameters\), got 3"):
        w.flat = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"param must name a weight or bias"):
        w.param = "b3[1]"
    with pytest.raises(traitlets.TraitError, match="read-only"):
        w.kernel = {"C": 0.0}
    assert w.param == 0 and len(w.flat) == 12


def test_forward_backward_must_be_callable():
    with pytest.raises(
        TypeError, match=r"must be a function f\(params, x, y\) -> dict, or None; got int"
    ):
        NetworkNudge(42, **GOOD)


def broken(edit):
    """The good forward_backward with one edit applied to what it returns."""

    def fb(p, x, y):
        out = numpy_forward_backward("sigmoid-mse")(p, x, y)
        edit(out)
        return out

    return fb


@pytest.mark.parametrize(
    "fb, error, message",
    [
        (lambda p, x, y: [1.0], TypeError, r"must return a dict with keys C, a, delta, dW, db; it returned list"),
        (lambda p, x, y: {"C": 1.0}, ValueError, r"keys C, a, delta, dW, db; missing: a, delta, dW, db$"),
        (broken(lambda o: o.update(C="high")), TypeError, r"returned C='high'; expected a float"),
        (broken(lambda o: o.update(C=math.nan)), ValueError, r"returned C=nan; expected a finite float"),
        (broken(lambda o: o.update(dW=o["dW"][1:])), ValueError, r"returned dW with 2 entries; expected a list of 3, one per layer 0..2 \(dW\[0\] = None\)"),
        (broken(lambda o: o.update(a=o["a"][1:])), ValueError, r"returned a with 2 entries; expected a list of 3.*\(a\[0\] = x\)"),
        (broken(lambda o: o["dW"].__setitem__(1, o["dW"][1].T[:1])), ValueError, r"returned dW1 of shape \(1, 2\); expected \(2, 2\), the shape of W1"),
        (broken(lambda o: o["db"].__setitem__(2, o["db"][2].ravel())), ValueError, r"returned db2 of shape \(2,\); expected \(2, 1\), the shape of b2"),
        (broken(lambda o: o["delta"].__setitem__(1, o["delta"][1][:1])), ValueError, r"returned delta1 of shape \(1, 1\); expected \(2, 1\)"),
        (broken(lambda o: o["a"].__setitem__(2, o["a"][2].T @ o["a"][2])), ValueError, r"returned a2 of shape \(1, 1\); expected \(2, 1\)"),
        (broken(lambda o: o["dW"][2].__setitem__((0, 0), np.inf)), ValueError, r"forward_backward's dW2 contains NaN or inf"),
    ],
)  # fmt: skip
def test_a_bad_forward_backward_result_is_named(fb, error, message):
    with pytest.raises(error, match=message):
        NetworkNudge(fb, **GOOD)


def test_a_chapter_forward_backward_with_extra_keys_and_mean_is_accepted():
    """The 2-2-2 chapter returns z too and divides by m = 1: both are fine."""
    fb = numpy_forward_backward("sigmoid-mse")
    w = NetworkNudge(lambda p, x, y: {**fb(p, x, y), "extra": "ignored"}, **GOOD)
    assert "extra" not in w.readout() and "z" not in w.readout()
