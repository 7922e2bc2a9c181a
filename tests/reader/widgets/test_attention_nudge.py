"""AttentionNudge in Python: its numbers are the package's, equal NumPy's and centered
differences, and bad input is refused with a message that says what was expected."""

from __future__ import annotations

import math

import numpy as np
import pytest
import traitlets

from backprop_book import attention as ba
from backprop_book.widgets import AttentionNudge, attention_numbers
from backprop_book.widgets.attention_nudge import DEFAULT_KEYS

KEYS = np.array(DEFAULT_KEYS)


def numpy_reference(q, K, c):
    """Written out here, independently of the package: scores, weights, -log p_c, dC/dq."""
    s = K @ np.asarray(q, dtype=float) / math.sqrt(2)
    p = np.exp(s - s.max())
    p /= p.sum()
    y = np.eye(len(K))[c]
    return s, p, -math.log(p[c]), (p - y) @ K / math.sqrt(2)


@pytest.mark.parametrize(("q", "c"), [((-1.0, -0.5), 0), ((2.5, 1.0), 1), ((0.0, 0.0), 2),
                                      ((-3.0, 3.0), 2)])
def test_numbers_equal_numpy_and_centered_differences(q, c):
    got = attention_numbers(q, KEYS, c)
    s, p, C, dq = numpy_reference(q, KEYS, c)
    np.testing.assert_allclose(got["s"], s, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(got["p"], p, rtol=1e-13)
    np.testing.assert_allclose(got["dC_ds"], p - np.eye(3)[c], atol=1e-15)
    assert got["C"] == pytest.approx(C, rel=1e-13)
    np.testing.assert_allclose(got["dC_dq"], dq, rtol=1e-12, atol=1e-15)

    def cost(qv):
        return numpy_reference(qv, KEYS, c)[2]

    h = 1e-6
    fd = [(cost(np.add(q, h * e)) - cost(np.subtract(q, h * e))) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(got["dC_dq"], fd, rtol=1e-7, atol=1e-9)


def test_the_numbers_are_the_packages():
    q, c = np.array([0.7, -1.2]), 1
    S = (q @ KEYS.T / math.sqrt(2))[None]
    got = attention_numbers(q, KEYS, c)
    assert got["p"] == ba.softmax_rows(S)[0].tolist()
    assert got["C"] == ba.cross_entropy(S, [c])
    # the same gradient as the package's attention backward for one query, one head:
    # dC/dq = dS K / sqrt(d) with dS = softmax_rows_backward(P, dP), dP = -1/p_c at c
    P = ba.softmax_rows(S)
    dP = np.zeros_like(P)
    dP[0, c] = -1 / P[0, c]
    dq = ba.softmax_rows_backward(P, dP) @ KEYS / math.sqrt(2)
    np.testing.assert_allclose(got["dC_dq"], dq[0], rtol=1e-12)


def test_the_widget_publishes_the_numbers_for_what_is_on_screen():
    w = AttentionNudge(q1=-1.0, q2=-0.5, target=0)
    assert w.readout() == attention_numbers([-1.0, -0.5], KEYS, 0)
    w.q1, w.target = 2.0, 2
    assert w.readout() == attention_numbers([2.0, -0.5], KEYS, 2)
    assert w.kernel["inputs"] == {"key_points": KEYS.tolist(), "q1": 2.0, "q2": -0.5, "target": 2}


def test_the_gradient_points_away_from_the_target_key():
    # -dC/dq is the way a step moves q; it must raise q . k_c relative to the other scores
    w = AttentionNudge(q1=0.0, q2=0.0, target=1)
    g = np.array(w.readout()["dC_dq"])
    moved = attention_numbers(-0.1 * g, KEYS, 1)
    assert moved["p"][1] > w.readout()["p"][1] and moved["C"] < w.readout()["C"]


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"keys": [[1.0, 2.0, 3.0]]}, ValueError, "shape (n, 2)"),
        ({"keys": [[1.0, 2.0]]}, ValueError, "2 <= n <= 4"),
        ({"keys": [[1.0, 2.0], [9.0, 0.0]]}, ValueError, "in [-3, 3]"),
        ({"keys": [[1.0, math.nan], [0.0, 0.0]]}, ValueError, "finite"),
        ({"keys": "abc"}, TypeError, "list of points"),
        ({"target": 3}, traitlets.TraitError, "target must be in 0 .. 2"),
        ({"target": "1"}, traitlets.TraitError, "int"),
        ({"q1": 4.0}, traitlets.TraitError, "q1 must be in [-3, 3]"),
        ({"q2": math.inf}, ValueError, "q2 must be finite"),
        ({"q1": "1"}, TypeError, "q1 must be a real number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs, error, says):
    with pytest.raises(error, match=None) as info:
        AttentionNudge(**kwargs)
    assert says in str(info.value)


def test_attention_numbers_refuses_a_bad_query_and_target():
    with pytest.raises(ValueError, match=r"q must be two finite numbers"):
        attention_numbers([1.0, 2.0, 3.0], KEYS, 0)
    with pytest.raises(TypeError, match="whole number"):
        attention_numbers([1.0, 2.0], KEYS, True)
    with pytest.raises(ValueError, match=r"target must be in 0 \.\. 2"):
        attention_numbers([1.0, 2.0], KEYS, -1)


def test_a_ping_gets_a_pong():
    w = AttentionNudge()
    sent = []
    w.send = sent.append
    w._answer_ping(w, {"type": "ping"}, [])
    assert sent == [{"type": "pong"}]
