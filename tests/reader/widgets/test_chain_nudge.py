"""The Python side of the ChainNudge widget, driven without a browser.

The widget is given a NumPy reference written here (sigmoid through tanh, the chain rule
spelled out), not the widget's or the chapter's code. What it publishes must equal that
reference to 1e-12, its gradients must equal centered differences of its own cost, and
every bad input must fail with a message that says what was expected.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import traitlets

from backprop_book.widgets.chain_nudge import KEYS, PARAMS, ChainNudge

INPUTS = ("w1", "b1", "w2", "b2", "x", "y")
START = dict(w1=0.8, b1=-0.4, w2=-1.3, b2=0.6, x=1.5, y=0.2)


def reference(w1, b1, w2, b2, x, y) -> dict[str, float]:
    """The 1-1-1 chain, C = (a2 - y)^2, with sigmoid(z) = (1 + tanh(z/2)) / 2."""
    sig = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731
    z1 = np.float64(w1) * x + b1
    a1 = sig(z1)
    z2 = w2 * a1 + b2
    a2 = sig(z2)
    dC_da2 = 2.0 * (a2 - y)
    dC_dz2 = dC_da2 * a2 * (1.0 - a2)
    dC_da1 = dC_dz2 * w2
    dC_dz1 = dC_da1 * a1 * (1.0 - a1)
    return {
        "z1": z1,
        "a1": a1,
        "z2": z2,
        "a2": a2,
        "C": (a2 - y) ** 2,
        "dC_dw1": dC_dz1 * x,
        "dC_db1": dC_dz1,
        "dC_dw2": dC_dz2 * a1,
        "dC_db2": dC_dz2,
    }


def random_points(n: int, seed: int = 20261122):
    """Points inside the sliders' ranges where every gradient is clearly non-zero."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        p = dict(zip(INPUTS, rng.uniform([-4, -4, -4, -4, -3, 0], [4, 4, 4, 4, 3, 1]), strict=True))
        p = {k: float(v) for k, v in p.items()}
        if min(abs(reference(**p)[f"dC_d{q}"]) for q in PARAMS) > 1e-3:
            points.append(p)
    return points


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def relative_error(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


@pytest.fixture
def nudge() -> ChainNudge:
    return ChainNudge(reference, **START, param="w2", step=0.5)


def set_values(widget: ChainNudge, values: dict) -> None:
    with widget.hold_trait_notifications():
        for name, value in values.items():
            setattr(widget, name, value)


# --- the numbers ------------------------------------------------------------------------


def test_default_readout_is_the_reference(nudge):
    out, ref = nudge.readout(), reference(**START)
    for key in KEYS:
        assert close(out[key], ref[key]), key
    assert set(out) == {*KEYS, "gradient", "predicted_change", "actual_change"}
    assert out == {k: v for k, v in nudge.kernel.items() if k != "inputs"}


@pytest.mark.parametrize("point", random_points(6), ids=lambda p: f"w1={p['w1']:.2f}")
@pytest.mark.parametrize("param", PARAMS)
def test_readout_matches_reference_at_random_points(nudge, point, param):
    set_values(nudge, {**point, "param": param, "step": 0.37})
    out, ref = nudge.readout(), reference(**point)
    for key in KEYS:
        assert close(out[key], ref[key]), f"{key}: widget {out[key]!r}, reference {ref[key]!r}"
    assert close(out["gradient"], ref[f"dC_d{param}"])
    assert close(out["predicted_change"], ref[f"dC_d{param}"] * 0.37)
    nudged = reference(**{**point, param: point[param] + 0.37})
    assert close(out["actual_change"], nudged["C"] - ref["C"])
    assert nudge.kernel["inputs"] == {**point, "param": param, "step": 0.37}


@pytest.mark.parametrize("point", random_points(5, seed=7), ids=lambda p: f"w1={p['w1']:.2f}")
def test_gradients_equal_centered_differences(nudge, point):
    """Nudge each parameter by ±h through the widget itself and compare the slope of its C."""
    set_values(nudge, point)
    grads = nudge.readout()
    h = 1e-5
    for p in PARAMS:
        setattr(nudge, p, point[p] + h)
        c_plus = nudge.readout()["C"]
        setattr(nudge, p, point[p] - h)
        c_minus = nudge.readout()["C"]
        setattr(nudge, p, point[p])
        numeric = (c_plus - c_minus) / (2 * h)
        assert relative_error(grads[f"dC_d{p}"], numeric) < 1e-7, (p, grads[f"dC_d{p}"], numeric)


def test_predicted_change_misses_by_curvature(nudge):
    """actual - predicted ≈ C''(p) Δ²/2: halving the nudge shrinks the gap about four-fold."""
    set_values(nudge, {**START, "param": "w2"})
    gaps = []
    for step in (0.1, 0.05, 0.025):
        nudge.step = step
        out = nudge.readout()
        assert close(out["predicted_change"], out["gradient"] * step)
        gaps.append(out["actual_change"] - out["predicted_change"])
    h, f = 1e-4, lambda w2: reference(**{**START, "w2": w2})["C"]
    curvature = (f(START["w2"] + h) - 2 * f(START["w2"]) + f(START["w2"] - h)) / h**2
    assert abs(curvature) > 0.01, "pick a point where C curves"
    assert 3.5 < gaps[0] / gaps[1] < 4.5 and 3.5 < gaps[1] / gaps[2] < 4.5, gaps
    assert relative_error(gaps[2], curvature * 0.025**2 / 2) < 0.05


def test_every_trait_change_republishes(nudge):
    for name, value in [
        ("w1", 1.1),
        ("b1", 0.3),
        ("w2", 2.0),
        ("b2", -1.0),
        ("x", -2.5),
        ("y", 0.9),
        ("step", 0.2),
    ]:
        before = dict(nudge.kernel)
        setattr(nudge, name, value)
        assert nudge.kernel["inputs"][name] == value
        assert nudge.kernel != before, name
    for param in PARAMS:
        nudge.param = param
        assert nudge.readout()["gradient"] == nudge.readout()[f"dC_d{param}"]


def test_front_end_update_path(nudge):
    """A slider move arrives as a state update from the front end; the kernel answers it."""
    nudge.set_state({"w1": -0.75, "param": "b1"})
    assert nudge.kernel["inputs"]["w1"] == -0.75
    assert close(nudge.readout()["dC_db1"], reference(**{**START, "w1": -0.75})["dC_db1"])


def test_ping_is_answered(nudge, monkeypatch):
    """The front end pings; a kernel that answers is what switches it to the kernel's numbers."""
    sent = []
    monkeypatch.setattr(nudge, "send", lambda content, buffers=None: sent.append(content))
    message = {
        "content": {"data": {"method": "custom", "content": {"type": "ping"}}},
        "buffers": [],
    }
    nudge._handle_msg(message)
    assert sent == [{"type": "pong"}]


def test_state_is_json_and_front_end_is_shipped(nudge):
    state = nudge.get_state()
    json.dumps(state)
    assert {*INPUTS, "param", "step", "kernel"} <= set(state)
    assert "export default" in nudge._esm and "bp-chain-nudge" in nudge._esm
    assert ".bp-chain-nudge" in nudge._css


def test_without_forward_backward_the_front_end_computes_alone():
    nudge = ChainNudge(None, w1=1.0)
    assert nudge.kernel == {} and nudge.readout() == {}
    nudge.w2 = 3.0
    nudge.param = "b2"
    assert nudge.kernel == {}
    assert ChainNudge().w1 == 0.8


def test_calls_forward_backward_with_the_documented_argument_order():
    calls = []

    def spy(*args):
        calls.append(args)
        return reference(*args)

    ChainNudge(spy, w1=1.0, b1=2.0, w2=3.0, b2=-1.0, x=0.5, y=0.25, param="b1", step=0.5)
    assert calls == [(1.0, 2.0, 3.0, -1.0, 0.5, 0.25), (1.0, 2.5, 3.0, -1.0, 0.5, 0.25)]


# --- what goes wrong, and what the reader is told ---------------------------------------


def test_unknown_param_is_refused(nudge):
    with pytest.raises(ValueError, match=r"param must be one of w1, b1, w2, b2, got 'x'"):
        nudge.param = "x"
    assert nudge.param == "w2"
    with pytest.raises(ValueError, match="param must be one of"):
        ChainNudge(reference, param="w3")


@pytest.mark.parametrize("name", [*INPUTS, "step"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(nudge, name, bad):
    before = dict(nudge.kernel)
    with pytest.raises(ValueError, match=rf"^{name} must be finite, got"):
        setattr(nudge, name, bad)
    assert nudge.kernel == before


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0]])
def test_non_numbers_are_refused(nudge, bad):
    with pytest.raises(TypeError, match=r"^w1 must be a real number, got"):
        nudge.w1 = bad


def test_numpy_numbers_are_accepted(nudge):
    nudge.w1 = np.float32(0.5)
    nudge.b1 = np.int64(1)
    assert type(nudge.w1) is float and nudge.w1 == 0.5 and nudge.b1 == 1.0


def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match="w3"):
        ChainNudge(reference, w3=1.0)


def test_forward_backward_must_be_callable():
    with pytest.raises(
        TypeError,
        match=r"must be a function f\(w1, b1, w2, b2, x, y\) -> dict, or None; got dict",
    ):
        ChainNudge({"C": 1.0})


def test_missing_keys_are_named_with_the_expected_ones():
    def partial(*args):
        out = reference(*args)
        del out["dC_db2"], out["z1"]
        return out

    expected = "z1, a1, z2, a2, C, dC_dw1, dC_db1, dC_dw2, dC_db2"
    with pytest.raises(ValueError, match=rf"keys {expected}; missing: z1, dC_db2$"):
        ChainNudge(partial)


def test_non_dict_result_is_refused():
    with pytest.raises(
        TypeError,
        match=r"must return a dict with float values for the keys z1, .*; it returned tuple",
    ):
        ChainNudge(lambda *args: tuple(reference(*args).values()))


def test_bad_values_in_the_result_are_refused():
    with pytest.raises(TypeError, match=r"returned C='high'; expected a float"):
        ChainNudge(lambda *args: {**reference(*args), "C": "high"})
    with pytest.raises(ValueError, match=r"returned dC_dw1=nan; expected a finite float"):
        ChainNudge(lambda *args: {**reference(*args), "dC_dw1": math.nan})


def test_kernel_is_read_only(nudge):
    with pytest.raises(traitlets.TraitError, match="read-only"):
        nudge.kernel = {"C": 0.0}
