"""Tests of backprop_book.reference against independent references.

References used: direct textbook formulas, SymPy derivatives (symbolic, exact), mpmath at
high precision for extreme logits, centered differences (themselves tested in
test_gradcheck.py), per-sample loops, and PyTorch autograd when it is installed.
"""

from __future__ import annotations

import contextlib
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_book import (
    ACTIVATIONS,
    Cache,
    activate,
    activation_backward,
    backward,
    backward_deltas,
    cross_entropy,
    flatten,
    forward,
    init_params,
    log_softmax,
    loss,
    loss_and_grads,
    output_delta,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    softmax,
    softmax_vjp,
    squared_error,
    tanh_prime,
    unflatten,
)
from backprop_book.gradcheck import numerical_gradient, relative_error

ELEMENTWISE = ["sigmoid", "tanh", "relu", "identity"]
OUTPUTS = [(name, "squared_error") for name in ELEMENTWISE] + [
    ("softmax", "squared_error"),
    ("softmax", "cross_entropy"),
]


def make_problem(sizes, m, hidden, output, cost, seed):
    """Seeded params, X (n_0, m) and targets Y fitting the cost."""
    rng = np.random.default_rng(seed)
    params = init_params(sizes, seed)
    X = rng.normal(size=(sizes[0], m))
    if cost == "cross_entropy" and sizes[-1] == 1:
        Y = np.ones((1, m))  # the only probability vector of length 1 (C is then always 0)
    elif cost == "cross_entropy":
        Y = rng.dirichlet(np.ones(sizes[-1]), size=m).T  # soft labels, columns sum to 1
    else:
        Y = rng.uniform(-1, 1, size=(sizes[-1], m))
    return params, X, Y, [*hidden, output], cost


# ---------------------------------------------------------------- activations


def test_softmax_matches_direct_formula_at_moderate_logits():
    z = np.random.default_rng(0).normal(0, 3, size=(5, 4))
    direct = np.exp(z) / np.exp(z).sum(axis=0)
    np.testing.assert_allclose(softmax(z), direct, rtol=1e-13)
    np.testing.assert_allclose(log_softmax(z), np.log(direct), rtol=1e-12, atol=1e-14)


def test_softmax_works_on_a_single_sample_vector():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum(), rtol=1e-14)


def mp_softmax_column(column):
    """Softmax and log-softmax of one column with 50-digit mpmath arithmetic."""
    with mpmath.workdps(50):
        exps = [mpmath.exp(mpmath.mpf(float(v))) for v in column]
        total = mpmath.fsum(exps)
        return (
            [float(e / total) for e in exps],
            [float(mpmath.log(e / total)) for e in exps],
        )


@pytest.mark.parametrize(
    "column",
    [[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0], [-1000.0, 3.0]],
)
def test_softmax_and_log_softmax_at_extreme_logits_match_mpmath(column):
    z = np.array(column).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        s, log_s = softmax(z), log_softmax(z)
    expected_s, expected_log_s = mp_softmax_column(column)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(log_s))
    np.testing.assert_allclose(s.ravel(), expected_s, rtol=1e-14, atol=0)
    np.testing.assert_allclose(log_s.ravel(), expected_log_s, rtol=1e-14)


def test_cross_entropy_is_finite_and_exact_at_logits_of_plus_minus_1000():
    Z = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])  # sample 0 is wrong by 2000 nats, sample 1 right
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        C = cross_entropy(Z, Y)
    with mpmath.workdps(50):
        wrong = -(mpmath.mpf(-1000) - mpmath.log(mpmath.exp(1000) + mpmath.exp(-1000)))
        right = -(mpmath.mpf(1000) - mpmath.log(mpmath.exp(1000) + mpmath.exp(-1000)))
        expected = float((wrong + right) / 2)
    assert C == pytest.approx(expected, rel=1e-15)


def test_sigmoid_is_stable_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
    with mpmath.workdps(50):
        expected = [float(1 / (1 + mpmath.exp(-v))) for v in (-1000, -40, 0, 40, 1000)]
    np.testing.assert_allclose(s, expected, rtol=1e-15, atol=0)


POINTS = [-30.0, -4.0, -1.5, -0.25, 0.0, 0.3, 1.0, 2.5, 7.0, 30.0]


@pytest.mark.parametrize(
    "ours, expression",
    [
        (sigmoid_prime, lambda z: 1 / (1 + sp.exp(-z))),
        (tanh_prime, sp.tanh),
        (ACTIVATIONS["identity"][1], lambda z: z),
    ],
    ids=["sigmoid", "tanh", "identity"],
)
def test_derivatives_match_sympy(ours, expression):
    z = sp.Symbol("z", real=True)
    derivative = sp.diff(expression(z), z)
    expected = [float(derivative.evalf(30, subs={z: p})) for p in POINTS]  # adaptive precision
    np.testing.assert_allclose(ours(np.array(POINTS)), expected, rtol=1e-12, atol=1e-300)


def test_relu_and_its_derivative_with_zero_at_the_kink():
    z = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0])
    np.testing.assert_array_equal(relu(z), [0, 0, 0, 1e-9, 3])
    np.testing.assert_array_equal(relu_prime(z), [0, 0, 0, 1, 1])


def test_registry_pairs_each_function_with_its_derivative():
    z = np.linspace(-2, 2, 9) + 0.05  # avoid the ReLU kink
    for name, (f, f_prime) in ACTIVATIONS.items():
        numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        np.testing.assert_allclose(f_prime(z), numeric, rtol=1e-8, atol=1e-10, err_msg=name)


def test_softmax_vjp_matches_the_sympy_jacobian():
    zs = sp.symbols("z0:3")
    s = sp.Matrix([sp.exp(zi) for zi in zs]) / sum(sp.exp(zi) for zi in zs)
    jacobian = s.jacobian(sp.Matrix(zs))  # J[i, k] = ds_i / dz_k
    z = np.array([[0.5, -1.0], [2.0, 0.0], [-0.3, 4.0]])
    g = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 3.0]])
    expected = np.column_stack(
        [
            np.array(jacobian.subs(dict(zip(zs, z[:, c], strict=True))).evalf(), dtype=float).T
            @ g[:, c]
            for c in range(2)
        ]
    )
    np.testing.assert_allclose(softmax_vjp(z, g), expected, rtol=1e-13)


# ---------------------------------------------------------------- costs


def test_squared_error_is_the_batch_mean_of_half_squared_norms():
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 4.0]])
    Y = np.array([[0.0, 2.0, 1.0], [2.0, 1.0, 4.0]])
    per_sample = [0.5 * (1 + 4), 0.5 * (0 + 4), 0.5 * (1 + 0)]  # by hand
    assert squared_error(A, Y) == pytest.approx(np.mean(per_sample), rel=1e-15)


@pytest.mark.parametrize("output, cost", OUTPUTS)
def test_batch_cost_is_the_mean_of_per_sample_costs(output, cost):
    params, X, Y, names, cost = make_problem([3, 4, 3], 5, ["tanh"], output, cost, seed=1)
    per_sample = [loss(params, X[:, i], Y[:, i], names, cost) for i in range(X.shape[1])]
    assert loss(params, X, Y, names, cost) == pytest.approx(np.mean(per_sample), rel=1e-13)


def test_cross_entropy_from_logits_equals_minus_log_of_the_right_probability():
    Z = np.array([[2.0, -1.0], [0.5, 3.0], [-1.0, 0.0]])
    Y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # one-hot: classes 0 and 2
    S = np.exp(Z) / np.exp(Z).sum(axis=0)
    assert cross_entropy(Z, Y) == pytest.approx(-(np.log(S[0, 0]) + np.log(S[2, 1])) / 2)


# ---------------------------------------------------------------- the network


def test_init_params_shapes_seed_and_scale():
    params = init_params([400, 300, 2], seed=7)
    assert [(W.shape, b.shape) for W, b in params] == [((300, 400), (300, 1)), ((2, 300), (2, 1))]
    again = init_params([400, 300, 2], seed=7)
    np.testing.assert_array_equal(flatten(params), flatten(again))
    assert np.std(params[0][0]) == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert np.all(params[0][1] != 0) and np.std(params[0][1]) == pytest.approx(0.1, rel=0.2)
    assert np.std(init_params([400, 300], seed=7, scale=0.5)[0][0]) == pytest.approx(0.5, rel=0.02)
    assert not np.array_equal(init_params([3, 2], seed=1)[0][0], init_params([3, 2], seed=2)[0][0])


def test_forward_follows_the_layer_equations():
    params = init_params([2, 3, 2], seed=0)
    X = np.array([[1.0, -2.0], [0.5, 3.0]])
    cache = forward(params, X, ["tanh", "softmax"])
    (W1, b1), (W2, b2) = params
    z1 = np.column_stack([W1 @ X[:, i] + b1[:, 0] for i in range(2)])  # one sample at a time
    a1 = np.tanh(z1)
    z2 = np.column_stack([W2 @ a1[:, i] + b2[:, 0] for i in range(2)])
    assert isinstance(cache, Cache) and cache.zs[0] is None and cache.as_[0] is not None
    np.testing.assert_array_equal(cache.as_[0], X)
    np.testing.assert_allclose(cache.zs[1], z1, rtol=1e-14)
    np.testing.assert_allclose(cache.as_[1], a1, rtol=1e-14)
    np.testing.assert_allclose(cache.zs[2], z2, rtol=1e-14)
    np.testing.assert_allclose(cache.as_[2], np.exp(z2) / np.exp(z2).sum(axis=0), rtol=1e-14)


def test_a_1d_sample_is_treated_as_one_column():
    params = init_params([3, 2], seed=0)
    x = np.array([0.1, -0.2, 0.3])
    one = forward(params, x, ["sigmoid"])
    column = forward(params, x.reshape(3, 1), ["sigmoid"])
    assert one.as_[0].shape == (3, 1)
    np.testing.assert_array_equal(one.as_[-1], column.as_[-1])


@pytest.mark.parametrize("output, cost", OUTPUTS)
def test_batch_gradient_is_the_mean_of_per_sample_gradients(output, cost):
    params, X, Y, names, cost = make_problem([3, 4, 2], 6, ["sigmoid"], output, cost, seed=2)
    batch = backward(params, forward(params, X, names), Y, names, cost)
    singles = [
        backward(params, forward(params, X[:, i], names), Y[:, i], names, cost) for i in range(6)
    ]
    for layer, (dW, db) in enumerate(batch):
        mean_dW = np.mean([s[layer][0] for s in singles], axis=0)
        mean_db = np.mean([s[layer][1] for s in singles], axis=0)
        np.testing.assert_allclose(dW, mean_dW, rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(db, mean_db, rtol=1e-12, atol=1e-16)


def test_deltas_carry_the_1_over_m_and_grads_sum_over_the_batch():
    params, X, Y, names, cost = make_problem([2, 3, 3], 4, ["tanh"], "softmax", "cross_entropy", 3)
    cache = forward(params, X, names)
    deltas = backward_deltas(params, cache, Y, names, cost)
    grads = backward(params, cache, Y, names, cost)
    assert deltas[0] is None
    # Output delta of softmax + cross-entropy, per sample s - y, divided by the batch size.
    S = np.exp(cache.zs[2]) / np.exp(cache.zs[2]).sum(axis=0)
    np.testing.assert_allclose(deltas[2], (S - Y) / 4, rtol=1e-13)
    for i in range(4):  # each column is that sample's own delta, divided by m
        single = backward_deltas(params, forward(params, X[:, i], names), Y[:, i], names, cost)
        for layer in (1, 2):
            np.testing.assert_allclose(deltas[layer][:, i], single[layer][:, 0] / 4, rtol=1e-13)
    for layer, (dW, db) in enumerate(grads, start=1):
        outer = sum(np.outer(deltas[layer][:, i], cache.as_[layer - 1][:, i]) for i in range(4))
        np.testing.assert_allclose(dW, outer, rtol=1e-13)
        np.testing.assert_allclose(db[:, 0], [sum(row) for row in deltas[layer]], rtol=1e-13)


def sympy_network_cost(sizes, hidden, output, cost, X, Y):
    """The batch cost of a 2-layer network written out in SymPy; returns (cost, symbols)."""
    W1 = sp.Matrix(sizes[1], sizes[0], lambda j, k: sp.Symbol(f"W1_{j}{k}"))
    b1 = sp.Matrix(sizes[1], 1, lambda j, _: sp.Symbol(f"b1_{j}"))
    W2 = sp.Matrix(sizes[2], sizes[1], lambda j, k: sp.Symbol(f"W2_{j}{k}"))
    b2 = sp.Matrix(sizes[2], 1, lambda j, _: sp.Symbol(f"b2_{j}"))
    f = {"sigmoid": lambda v: 1 / (1 + sp.exp(-v)), "tanh": sp.tanh, "identity": lambda v: v}
    total = 0
    for i in range(X.shape[1]):
        x, y = sp.Matrix(X[:, i]), sp.Matrix(Y[:, i])
        z2 = W2 * (W1 * x + b1).applyfunc(f[hidden]) + b2
        if output == "softmax":
            a2 = z2.applyfunc(sp.exp) / sum(z2.applyfunc(sp.exp))
        else:
            a2 = z2.applyfunc(f[output])
        if cost == "cross_entropy":
            total += -sum(y[j] * sp.log(a2[j]) for j in range(sizes[2]))
        else:
            total += sum((a2[j] - y[j]) ** 2 for j in range(sizes[2])) / 2
    return total / X.shape[1], [list(W1), list(b1), list(W2), list(b2)]


@pytest.mark.parametrize(
    "hidden, output, cost",
    [
        ("tanh", "softmax", "cross_entropy"),
        ("sigmoid", "sigmoid", "squared_error"),
        ("identity", "softmax", "squared_error"),
    ],
)
def test_backward_matches_sympy_derivatives_of_the_written_out_cost(hidden, output, cost):
    sizes = [2, 3, 2]
    params, X, Y, names, cost = make_problem(sizes, 2, [hidden], output, cost, seed=4)
    C, symbols = sympy_network_cost(sizes, hidden, output, cost, X, Y)
    flat_symbols = [s for group in symbols for s in group]  # W1, b1, W2, b2 row by row
    derivatives = [sp.diff(C, s) for s in flat_symbols]
    evaluate = sp.lambdify(flat_symbols, [C, *derivatives], modules="math", cse=True)
    C_sympy, *expected = evaluate(*flatten(params))
    C_ours, grads = loss_and_grads(params, X, Y, names, cost)
    assert C_ours == pytest.approx(C_sympy, rel=1e-12)
    np.testing.assert_allclose(flatten(grads), expected, rtol=1e-10, atol=1e-14)


@st.composite
def networks(draw):
    """Random layer sizes, batch size, activations, cost and seed."""
    n_layers = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(1, 6), min_size=n_layers + 1, max_size=n_layers + 1))
    hidden = draw(
        st.lists(st.sampled_from(ELEMENTWISE), min_size=n_layers - 1, max_size=n_layers - 1)
    )
    output, cost = draw(st.sampled_from(OUTPUTS))
    m = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_problem(sizes, m, hidden, output, cost, seed)


def away_from_relu_kinks(params, X, names, margin=1e-3):
    """True if no ReLU layer has a pre-activation within ``margin`` of its kink at 0."""
    cache = forward(params, X, names)
    return all(
        np.min(np.abs(cache.zs[layer])) > margin
        for layer, name in enumerate(names, start=1)
        if name == "relu"
    )


def agree(ours, numerical):
    """Relative error below 1e-7, or both at the noise floor of centered differences.

    With h = 1e-5 in float64 the numerical gradient is accurate to about 1e-11 absolute
    (roundoff eps * C / h plus truncation of order h^2). A layer whose whole gradient has
    vanished to 1e-5 (deep chains of sigmoids) cannot be resolved to 1e-7 relative, so there
    we ask for agreement to 1e-9 absolute: a wrong sign or factor would still differ by
    about the size of the gradient itself.
    """
    return relative_error(ours, numerical) < 1e-7 or np.max(np.abs(ours - numerical)) < 1e-9


@settings(deadline=None, max_examples=40, derandomize=True)
@given(networks())
def test_backward_equals_the_numerical_gradient(problem):
    params, X, Y, names, cost = problem
    assume(away_from_relu_kinks(params, X, names))
    grads = backward(params, forward(params, X, names), Y, names, cost)

    def cost_now(_):
        return loss(params, X, Y, names, cost)

    for layer, ((W, b), (dW, db)) in enumerate(zip(params, grads, strict=True), start=1):
        assert dW.shape == W.shape and db.shape == b.shape
        assert agree(dW, numerical_gradient(cost_now, W)), f"W{layer}"
        assert agree(db, numerical_gradient(cost_now, b)), f"b{layer}"


def test_a_hidden_softmax_layer_goes_back_through_its_jacobian():
    params, X, Y, names, cost = make_problem([3, 4, 2], 5, ["softmax"], "tanh", "squared_error", 8)
    grads = backward(params, forward(params, X, names), Y, names, cost)

    def cost_now(_):
        return loss(params, X, Y, names, cost)

    for (W, b), (dW, db) in zip(params, grads, strict=True):
        assert relative_error(dW, numerical_gradient(cost_now, W)) < 1e-7
        assert relative_error(db, numerical_gradient(cost_now, b)) < 1e-7


def test_flatten_and_unflatten_round_trip():
    params = init_params([3, 4, 2], seed=5)
    vector = flatten(params)
    assert vector.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vector[:12], params[0][0].ravel())
    back = unflatten(vector, like=params)
    for (W, b), (W2, b2) in zip(params, back, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_matches_torch_autograd(torch):
    params, X, Y, names, _ = make_problem([3, 5, 4, 3], 4, ["tanh", "sigmoid"], "softmax", "", 6)
    Y = np.eye(3)[:, [0, 2, 1, 2]]
    tensors = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in params
    ]
    (W1, b1), (W2, b2), (W3, b3) = tensors
    A1 = torch.tanh(W1 @ torch.tensor(X) + b1)
    A2 = torch.sigmoid(W2 @ A1 + b2)
    Z3 = W3 @ A2 + b3
    C = -(torch.tensor(Y) * torch.log_softmax(Z3, dim=0)).sum() / X.shape[1]
    C.backward()
    C_ours, grads = loss_and_grads(params, X, Y, names, "cross_entropy")
    assert C_ours == pytest.approx(C.item(), rel=1e-12)
    for (dW, db), (W, b) in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- errors say what and why


@pytest.fixture
def net():
    """A 2-4-3 network with tanh and softmax, and a fitting batch of 5."""
    params = init_params([2, 4, 3], seed=0)
    X = np.zeros((2, 5))
    Y = np.eye(3)[:, [0, 1, 2, 0, 1]]
    return params, X, Y, ["tanh", "softmax"]


@contextlib.contextmanager
def raises(*fragments):
    """Expect a ValueError whose message contains every fragment (what came, what was expected)."""
    with pytest.raises(ValueError) as info:
        yield
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_x_with_wrong_rows_says_what_layer_1_expects(net):
    params, _, _, names = net
    with raises("X has 3 rows", "layer 1 expects 2 inputs", "(4, 2)", "shape (2, m)"):
        forward(params, np.zeros((3, 5)), names)


def test_x_with_samples_in_rows_gets_a_hint(net):
    params, _, _, names = net
    with raises("X has 5 rows", "shape (2, m)", "X.T would fit"):
        forward(params, np.zeros((5, 2)), names)


@pytest.mark.parametrize("shape", [(2, 5, 1), ()])
def test_x_not_2d(net, shape):
    params, _, _, names = net
    with raises("X must be 2-D", "(n, m)", f"{len(shape)}-D", str(shape)):
        forward(params, np.zeros(shape), names)


def test_x_without_samples(net):
    params, _, _, names = net
    with raises("X has shape (2, 0)", "at least one column"):
        forward(params, np.zeros((2, 0)), names)


def test_y_with_wrong_shape(net):
    params, X, Y, names = net
    cache = forward(params, X, names)
    with raises("Y has shape (5, 3)", "(n_L, m) = (3, 5)"):
        backward(params, cache, Y.T, names, "cross_entropy")
    with raises("Y has shape (2, 5)", "(n_L, m) = (3, 5)"):
        loss(params, X, np.zeros((2, 5)), names, "squared_error")


def test_params_that_do_not_chain_name_the_layer():
    params = init_params([2, 4, 3], seed=0)
    params[1] = (np.zeros((3, 5)), np.zeros((3, 1)))
    with raises("layers 1 and 2 do not chain", "W1 has shape (4, 2)", "(3, 5)", "shape (3, 4)"):
        forward(params, np.zeros((2, 1)), ["tanh", "tanh"])


def test_bias_that_is_not_a_column():
    params = init_params([2, 4], seed=0)
    params[0] = (params[0][0], np.zeros(4))
    with raises("b1 has shape (4,)", "shape (4, 1)"):
        forward(params, np.zeros((2, 1)), ["tanh"])


def test_malformed_params_messages():
    with raises("non-empty list of (W, b) pairs"):
        forward([], np.zeros((2, 1)), ["tanh"])
    with raises("params[0] must be the pair (W1, b1)"):
        forward([(np.zeros((2, 2)),)], np.zeros((2, 1)), ["tanh"])
    with raises("params[0] must be the pair (W1, b1)", "got 'W'"):
        forward("W", np.zeros((2, 1)), ["tanh"])
    with raises("W1 must be 2-D", "got shape (2,)"):
        forward([(np.zeros(2), np.zeros((2, 1)))], np.zeros((2, 1)), ["tanh"])


def test_wrong_number_of_activations(net):
    params, X, _, _ = net
    with raises("got 1 activation name(s)", "for 2 layer(s)", "one name per layer"):
        forward(params, X, ["tanh"])
    with raises("list of names", "'relu'", "['relu', 'relu']"):
        forward(params, X, "relu")


def test_unknown_activation_lists_the_valid_names(net):
    params, X, _, _ = net
    with raises("unknown activation 'sigmod' for layer 1", "sigmoid", "tanh", "relu", "identity"):
        forward(params, X, ["sigmod", "softmax"])


def test_unknown_cost_lists_the_valid_costs(net):
    params, X, Y, names = net
    with raises("unknown cost 'mse'", "squared_error", "cross_entropy"):
        loss(params, X, Y, names, "mse")
    with raises("unknown cost 'mse'", "squared_error", "cross_entropy"):
        backward(params, forward(params, X, names), Y, names, "mse")


@pytest.mark.parametrize("where", ["X", "Y", "W2", "b1"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_is_named(net, where, value):
    params, X, Y, names = net
    X, Y = X.copy(), Y.copy()
    params = [(W.copy(), b.copy()) for W, b in params]
    target = {"X": X, "Y": Y, "W2": params[1][0], "b1": params[0][1]}[where]
    target[1, 0] = value
    with raises(f"{where} contains NaN or inf", "(1, 0)", "finite"):
        loss(params, X, Y, names, "squared_error")


def test_cross_entropy_needs_a_softmax_output(net):
    params, X, Y, _ = net
    with raises("'cross_entropy' needs a softmax output", "layer 2", "'sigmoid'"):
        loss(params, X, Y, ["tanh", "sigmoid"], "cross_entropy")


def test_cross_entropy_needs_probability_columns(net):
    params, X, Y, names = net
    Y = Y.copy()
    Y[:, 3] = [0.5, 0.0, 0.0]
    with raises("column 3 sums to 0.5", "sum to 1", "within 1e-09"):
        loss(params, X, Y, names, "cross_entropy")
    with raises("column 3 sums to 0.5"):
        cross_entropy(np.zeros((3, 5)), Y)
    Y[:, 3] = [1.5, -0.5, 0.0]
    with raises("column 3 has a negative entry", "probability vector"):
        loss(params, X, Y, names, "cross_entropy")


def test_cost_functions_name_both_shapes():
    with raises("A has shape (2, 3)", "Y has shape (3, 2)"):
        squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with raises("Z_last has shape (2, 3)", "Y has shape (3, 2)"):
        cross_entropy(np.zeros((2, 3)), np.full((3, 2), 1 / 3))


def test_cache_from_other_params(net):
    params, X, Y, names = net
    other = init_params([2, 5, 3], seed=1)
    with raises("cache does not fit layer 1", "W1 has shape (4, 2)", "(5, 5)"):
        backward(params, forward(other, X, names), Y, names, "cross_entropy")
    with raises("cache must be the Cache returned by forward"):
        backward(params, {"zs": []}, Y, names, "cross_entropy")


def test_init_params_and_unflatten_validate():
    with raises("positive integers", "[3, 0, 2]"):
        init_params([3, 0, 2], seed=0)
    with raises("vector has shape (5,)", "10 entries"):
        unflatten(np.zeros(5), like=init_params([1, 2, 2], seed=0))


# ---------------------------------------------------------------- the building blocks check too


@contextlib.contextmanager
def raises_type(*fragments):
    """Expect a TypeError whose message contains every fragment."""
    with pytest.raises(TypeError) as info:
        yield
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_output_delta_refuses_a_y_that_would_broadcast(net):
    params, X, Y, names = net
    cache = forward(params, X, names)
    with raises("Y has shape (3, 1)", "(n_L, m) = (3, 5)"):
        output_delta(cache, Y[:, :1], "softmax", "cross_entropy")
    right = output_delta(cache, Y, "softmax", "cross_entropy")
    np.testing.assert_allclose(right, (softmax(cache.zs[-1]) - Y) / 5, rtol=1e-14)


def test_output_delta_refuses_cross_entropy_on_a_sigmoid_output(net):
    params, X, Y, names = net
    cache = forward(params, X, names)
    with raises("'cross_entropy' needs a softmax output", "layer 2", "'sigmoid'"):
        output_delta(cache, Y, "sigmoid", "cross_entropy")
    with raises("unknown cost 'mse'"):
        output_delta(cache, Y, "softmax", "mse")
    with raises("cache must be the Cache returned by forward"):
        output_delta({"as_": []}, Y, "softmax", "cross_entropy")


@pytest.mark.parametrize("call", ["activate", "activation_backward", "output_delta"])
def test_an_unknown_activation_name_lists_the_valid_ones(net, call):
    params, X, Y, names = net
    cache = forward(params, X, names)
    z = np.zeros((3, 5))
    run = {
        "activate": lambda: activate("sigmod", z),
        "activation_backward": lambda: activation_backward("sigmod", z, z),
        "output_delta": lambda: output_delta(cache, Y, "sigmod", "squared_error"),
    }[call]
    with raises("unknown activation 'sigmod'", "sigmoid", "tanh", "relu", "identity", "softmax"):
        run()


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_a_gradient_of_the_wrong_shape_is_named(name):
    z = np.zeros((3, 5))
    with raises("g has shape (3, 1)", "z has shape (3, 5)", "must have the shape of z"):
        activation_backward(name, z, np.ones((3, 1)))
    with raises("g has shape (5, 3)", "z has shape (3, 5)"):
        softmax_vjp(z, np.ones((5, 3)))


def test_activations_none_or_not_a_list(net):
    params, X, Y, _ = net
    with raises_type("activations must be a list of names", "got None"):
        forward(params, X, None)
    with raises_type("activations must be a list of names", "got 3"):
        loss(params, X, Y, 3, "squared_error")


@pytest.mark.parametrize("where", ["X", "Y", "W1", "z"])
def test_complex_input_is_refused_not_truncated(net, where):
    params, X, Y, names = net
    if where == "z":
        with raises_type("z must be real", "complex"):
            sigmoid(np.array([1 + 2j]))
        return
    X, Y = X.astype(complex), Y.astype(complex)
    params = [
        (W.astype(complex) if where == "W1" and i == 0 else W, b) for i, (W, b) in enumerate(params)
    ]
    X, Y = (X if where == "X" else X.real), (Y if where == "Y" else Y.real)
    with raises_type(f"{where} must be real", "complex"):
        loss(params, X, Y, names, "cross_entropy")


def test_none_is_named_as_none_not_as_nan(net):
    params, X, Y, names = net
    with raises_type("X must be an array of real numbers", "got None"):
        forward(params, None, names)
    with raises_type("Y must be an array of real numbers", "got None"):
        loss(params, X, None, names, "squared_error")
    with raises_type("X must be an array of real numbers", "contains None"):
        forward(params, [[0.0, None]] * 2, names)


@pytest.mark.parametrize(
    "kwargs, error, fragments",
    [
        ({"scale": -1.0}, ValueError, ["scale must be None or a finite number >= 0", "-1.0"]),
        ({"scale": float("nan")}, ValueError, ["finite number >= 0", "nan"]),
        ({"scale": float("inf")}, ValueError, ["finite number >= 0", "inf"]),
        ({"scale": "big"}, TypeError, ["scale must be None or a number", "'big'"]),
        ({"sizes": [3, 2.5, 2]}, TypeError, ["positive integers", "2.5", "float"]),
        ({"sizes": [3, True]}, TypeError, ["positive integers", "bool"]),
        ({"sizes": 3}, TypeError, ["positive integers", "got 3"]),
        ({"sizes": [3]}, ValueError, ["positive integers", "[3]"]),
        ({"seed": -1}, TypeError, ["seed must be a non-negative integer", "-1"]),
        ({"seed": None}, TypeError, ["seed must be a non-negative integer", "None"]),
    ],
)
def test_init_params_says_what_it_expected(kwargs, error, fragments):
    args = {"sizes": [3, 4, 2], "seed": 0} | kwargs
    with pytest.raises(error) as info:
        init_params(**args)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_init_params_accepts_zero_scale_and_numpy_integers():
    ((W, b),) = init_params(np.array([3, 2]), seed=np.int64(4), scale=0.0)
    assert W.shape == (2, 3) and not W.any() and b.shape == (2, 1)


def test_a_transposed_weight_is_blamed_on_the_weight(net):
    params, X, _, names = net
    (W1, b1), (W2, b2) = params
    with raises("W1 has shape (2, 4)", "b1 has shape (4, 1)", "W1 must have shape (4, 2)", "W1.T"):
        forward([(W1.T, b1), (W2, b2)], X, names)
    with raises("layers 1 and 2 do not chain", "W2 has shape (4, 3)", "shape (3, 4)", "W2.T"):
        forward([(W1, b1), (W2.T, b2)], X, names)


# ---------------------------------------------------------------- dtypes are kept


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_in_float32_out_and_equal_to_float64(dtype):
    params, X, Y, names, cost = make_problem(
        [4, 5, 3], 6, ["sigmoid"], "softmax", "cross_entropy", 9
    )
    ours = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
    C, grads = loss_and_grads(ours, X.astype(dtype), Y, names, cost)  # Y stays float64
    cache = forward(ours, X.astype(dtype), names)
    assert all(a.dtype == dtype for a in cache.as_) and all(z.dtype == dtype for z in cache.zs[1:])
    assert all(dW.dtype == dtype and db.dtype == dtype for dW, db in grads)
    C64, grads64 = loss_and_grads(params, X, Y, names, cost)
    rtol = 1e-5 if dtype == np.float32 else 1e-15
    assert C == pytest.approx(C64, rel=rtol)
    for (dW, db), (dW64, db64) in zip(grads, grads64, strict=True):
        np.testing.assert_allclose(dW, dW64, rtol=rtol * 10, atol=rtol * 1e-2)
        np.testing.assert_allclose(db, db64, rtol=rtol * 10, atol=rtol * 1e-2)
    for f in (sigmoid, softmax, relu, relu_prime, sigmoid_prime, tanh_prime):
        assert f(np.ones((2, 2), dtype)).dtype == dtype, f.__name__
    assert sigmoid(np.array([1, 2])).dtype == np.float64  # integers become float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extremes_stay_finite_and_exact_in_both_dtypes(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-800.0, 800.0], dtype))
        p = softmax(np.array([[1e5], [0.0], [-1e5]], dtype))
        lp = log_softmax(np.array([[1e5], [0.0]], dtype))
    np.testing.assert_array_equal(s, [0.0, 1.0])  # e^-800 underflows in both; 1 is exact
    np.testing.assert_array_equal(p[:, 0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(lp[:, 0], [0.0, -1e5])
    assert s.dtype == p.dtype == lp.dtype == dtype


def test_loss_and_grads_checks_each_input_once(net, monkeypatch):
    from backprop_book import _validate

    params, X, Y, names = net
    seen = []
    original = _validate.finite_array

    def counting(x, name):
        seen.append(name)
        return original(x, name)

    monkeypatch.setattr(_validate, "finite_array", counting)
    loss_and_grads(params, X, Y, names, "cross_entropy")
    assert sorted(seen) == sorted(["W1", "b1", "W2", "b2", "X", "Y"])


def test_check_inputs_makes_exactly_the_checks_of_loss_and_grads(net, monkeypatch):
    """The batched chapter times the checks alone: they must be the very same checks."""
    from backprop_book import _validate
    from backprop_book.reference import check_inputs

    params, X, Y, names = net
    calls: dict[str, list] = {"loss_and_grads": [], "check_inputs": []}
    for name in dir(_validate):
        fn = getattr(_validate, name)
        if callable(fn) and not name.startswith("_") and getattr(fn, "__module__", "") == _validate.__name__:
            def spy(*args, _fn=fn, _name=name, **kwargs):
                calls[current].append(_name)
                return _fn(*args, **kwargs)
            monkeypatch.setattr(_validate, name, spy)
    current = "loss_and_grads"
    loss_and_grads(params, X, Y, names, "cross_entropy")
    current = "check_inputs"
    checked = check_inputs(params, X, Y, names, "cross_entropy")
    # loss_and_grads makes the same edge checks first; inside the pass, each activation only
    # guards its own argument (real_array), which is part of computing it
    n = len(calls["check_inputs"])
    assert n and calls["loss_and_grads"][:n] == calls["check_inputs"], calls
    assert set(calls["loss_and_grads"][n:]) <= {"real_array"}, calls
    assert [p.shape for pair in checked[0] for p in pair] == [p.shape for pair in params for p in pair]
    assert checked[1:3] == (list(names), "cross_entropy")
    for bad in (X[:-1], np.full_like(X, np.nan)):
        with pytest.raises(ValueError) as ours:
            check_inputs(params, bad, Y, names, "cross_entropy")
        with pytest.raises(ValueError) as theirs:
            loss_and_grads(params, bad, Y, names, "cross_entropy")
        assert str(ours.value) == str(theirs.value)
