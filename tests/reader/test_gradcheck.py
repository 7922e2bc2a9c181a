"""Tests of backprop_book.gradcheck: the checker must pass right gradients and fail wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_book import init_params, reference
from backprop_book.gradcheck import (
    GradCheckReport,
    check_gradients,
    compare,
    numerical_gradient,
    relative_error,
)

# ---------------------------------------------------------------- numerical_gradient


def test_gradient_of_sum_of_cubes_has_error_exactly_h_squared():
    # For f(x) = sum x^3 the centered difference is ((x+h)^3 - (x-h)^3) / 2h = 3x^2 + h^2:
    # the O(h^2) error term, known exactly, so we can see it (not just bound it).
    x = np.array([[-1.5, 0.0, 0.5], [2.0, 1.0, -0.25]])
    for h in (1e-2, 1e-3):
        error = numerical_gradient(lambda v: np.sum(v**3), x, h=h) - 3 * x**2
        np.testing.assert_allclose(error, h**2, rtol=1e-4)


def test_gradient_of_known_functions_in_several_shapes():
    rng = np.random.default_rng(0)
    cases = [
        (lambda v: np.sum(np.sin(v)), np.cos),
        (lambda v: np.sum(np.exp(v)), np.exp),
        (lambda v: 0.5 * np.sum(v**2), lambda v: v),
    ]
    for shape in [(), (4,), (3, 2), (2, 3, 2)]:
        x = rng.normal(size=shape)
        for f, df in cases:
            np.testing.assert_allclose(numerical_gradient(f, x), df(x), rtol=1e-9, atol=1e-10)


def test_gradient_of_a_matrix_product_matches_the_textbook_formula():
    # f(W) = u^T W v has df/dW = u v^T.
    rng = np.random.default_rng(1)
    u, v, W = rng.normal(size=3), rng.normal(size=4), rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda M: u @ M @ v, W)
    np.testing.assert_allclose(grad, np.outer(u, v), rtol=1e-9)


def test_x_is_restored_exactly_even_when_f_fails():
    x = np.array([0.1, 0.2, 0.3])
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)

    def explodes(v):
        if v[1] != before[1]:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError):
        numerical_gradient(explodes, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_rejects_what_it_cannot_nudge():
    with pytest.raises(ValueError, match="float ndarray.*got int64"):
        numerical_gradient(np.sum, np.arange(3))
    with pytest.raises(ValueError, match="float ndarray.*got list"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match="positive step; got 0"):
        numerical_gradient(np.sum, np.ones(2), h=0)
    with pytest.raises(ValueError, match=r"scalar; got an array of shape \(2,\)"):
        numerical_gradient(lambda v: v * 2, np.ones(2))


# ---------------------------------------------------------------- relative_error


def test_relative_error_edge_cases():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([]), np.array([])) == 0.0
    assert relative_error(2.0, 2.0) == 0.0
    assert relative_error(1.0, -1.0) == 1.0  # opposite signs: the largest possible value
    assert relative_error(1.0, 0.0) == 1.0
    assert relative_error(3.0, 1.0) == pytest.approx(2 / 4)
    assert relative_error(1.0, 1.0 + 1e-10) == pytest.approx(1e-10 / 2, rel=1e-5)
    assert relative_error(1e-300, 0.0) == 1.0  # tiny numbers are not "equal to zero"


def test_relative_error_measures_the_largest_difference_against_the_array_size():
    a = np.array([1.0, -2.0, 1e-6])
    b = np.array([1.0, -2.0 + 4e-9, 2e-6])  # the 1e-6 entry is off by 100 %
    # max |a - b| = 1e-6 (third entry), max |a| + max |b| = 2 + (2 - 4e-9).
    assert relative_error(a, b) == pytest.approx(1e-6 / (4 - 4e-9), rel=1e-12)
    assert relative_error(a, b) == relative_error(b, a)


def test_relative_error_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"a has shape \(2, 3\) but b has shape \(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


# ---------------------------------------------------------------- check_gradients


@pytest.fixture
def problem():
    """A 3-4-3-2 network, tanh and sigmoid hidden layers, softmax and cross-entropy, m = 5."""
    rng = np.random.default_rng(3)
    params = init_params([3, 4, 3, 2], seed=3)
    X = rng.normal(size=(3, 5))
    Y = np.eye(2)[:, [0, 1, 1, 0, 1]]
    return params, X, Y, ["tanh", "sigmoid", "softmax"], "cross_entropy"


def test_check_gradients_passes_the_reference_backward(problem):
    report = check_gradients(*problem)
    assert isinstance(report, GradCheckReport)
    assert list(report.errors) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert report.ok and report.threshold == 1e-7
    assert max(report.errors.values()) < 1e-7
    assert report.worst == max(report.errors.items(), key=lambda item: item[1])


def test_check_gradients_on_squared_error_and_relu(problem):
    params, X, _, _, _ = problem
    Y = np.random.default_rng(4).uniform(size=(2, 5))
    report = check_gradients(params, X, Y, ["relu", "tanh", "identity"], "squared_error")
    assert report.ok, str(report)


def test_check_gradients_leaves_params_untouched(problem):
    params = problem[0]
    before = [(W.copy(), b.copy()) for W, b in params]
    check_gradients(*problem)
    for (W, b), (W0, b0) in zip(params, before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def broken(how):
    """A wrong backward, made from the right one, for the checker to catch."""
    right = reference.backward

    def wrong(*args, **kwargs):
        grads = right(*args, **kwargs)
        if how == "sign":  # y - a instead of a - y
            return [(-dW, -db) for dW, db in grads]
        if how == "no 1/m":  # sum over the batch instead of mean
            return [(5 * dW, 5 * db) for dW, db in grads]
        if how == "one bias":  # the largest entry of db2 off by 1 %
            dW2, db2 = grads[1][0], grads[1][1].copy()
            db2.flat[np.argmax(np.abs(db2))] *= 1.01
            return [grads[0], (dW2, db2), *grads[2:]]
        raise AssertionError(how)

    return wrong


@pytest.mark.parametrize("how, bad", [("sign", "W1"), ("no 1/m", "W1"), ("one bias", "b2")])
def test_check_gradients_fails_a_wrong_backward(monkeypatch, problem, how, bad):
    monkeypatch.setattr(reference, "backward", broken(how))
    report = check_gradients(*problem)
    assert not report.ok
    assert report.errors[bad] > 1e-3
    if how == "one bias":
        assert report.worst[0] == "b2"
        assert all(err < 1e-7 for name, err in report.errors.items() if name != "b2")
    assert "FAILED" in str(report)


def test_check_gradients_names_a_wrongly_shaped_gradient(monkeypatch, problem):
    right = reference.backward
    monkeypatch.setattr(
        reference,
        "backward",
        lambda *a, **k: [(dW.T, db) for dW, db in right(*a, **k)],  # forgot a transpose
    )
    with pytest.raises(ValueError, match=r"dW1 of shape \(3, 4\); W1 has \(4, 3\)"):
        check_gradients(*problem)


def test_threshold_is_an_argument(problem):
    report = check_gradients(*problem, threshold=1e-30)
    assert report.threshold == 1e-30 and not report.ok
    assert "FAILED" in str(report)


def test_report_table_reads_like_the_book():
    report = GradCheckReport({"W1": 3.2e-10, "b1": 4.0e-3, "W10": 0.0}, threshold=1e-7)
    lines = str(report).splitlines()
    assert lines[0] == "W1   rel.err 3.2e-10  ok"
    assert lines[1] == "b1   rel.err 4.0e-03  FAILED"
    assert lines[2] == "W10  rel.err 0.0e+00  ok"
    assert lines[3] == "worst: b1 4.0e-03 (threshold 1e-07): FAILED"
    assert not report.ok and report.worst == ("b1", 4.0e-3)


def test_nan_in_the_report_counts_as_failure():
    report = GradCheckReport({"W1": 1e-12, "b1": float("nan")})
    assert not report.ok and report.worst[0] == "b1"


def test_check_gradients_validates_its_inputs(problem):
    params, X, Y, names, cost = problem
    with pytest.raises(ValueError, match="X has 2 rows but layer 1 expects 3 inputs"):
        check_gradients(params, X[:2], Y, names, cost)
    with pytest.raises(ValueError, match="needs a softmax output layer"):
        check_gradients(params, X, Y, ["tanh", "sigmoid", "sigmoid"], "cross_entropy")


# ---------------------------------------------------------------- compare


def test_compare_prints_one_line_and_returns_close(capsys):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert compare("dW1", a, a.copy()) is True
    assert capsys.readouterr().out == "dW1 | exact: True | close: True | max diff: 0.0e+00\n"

    assert compare("db1", a, a + 1e-12) is True
    assert capsys.readouterr().out == "db1 | exact: False | close: True | max diff: 1.0e-12\n"

    assert compare("dz2", a, -a) is False
    assert capsys.readouterr().out == "dz2 | exact: False | close: False | max diff: 8.0e+00\n"


def test_compare_uses_rtol_1e_7_and_atol_1e_9(capsys):
    assert compare("relative", np.array([1e6]), np.array([1e6 * (1 + 5e-8)]))
    assert not compare("relative", np.array([1e6]), np.array([1e6 * (1 + 5e-7)]))
    assert compare("absolute", np.array([0.0]), np.array([5e-10]))
    assert not compare("absolute", np.array([0.0]), np.array([5e-9]))
    capsys.readouterr()


def test_compare_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"dW1: ours has shape \(2, 3\) but the reference has shape \(3, 2\)"
    ):
        compare("dW1", np.zeros((2, 3)), np.zeros((3, 2)))
