"""The learner trial of 2026-12-05 (shared/reviews): each finding, the attempt, and what the
checker says now. Right values come from the reference or SymPy, never from the checkers.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

import backprop_book as bb
from backprop_book.checkers import NotQuiteRight, check_function
from backprop_book.exercises import any_width_any_depth as ex_any
from backprop_book.exercises import batched_backprop as ex_batch
from backprop_book.exercises import one_neuron_chain as ex_111
from backprop_book.exercises import two_two_two as ex_222

pytestmark = pytest.mark.usefixtures("student")


def sig(t):
    return float(bb.sigmoid(np.array(t)))


def slope(t):
    return float(bb.sigmoid_prime(np.array(t)))


def chain():
    n = ex_111.chain_numbers()
    z1 = n["w1"] * n["x"] + n["b1"]
    a1 = sig(z1)
    z2 = n["w2"] * a1 + n["b2"]
    return n, z1, a1, z2, sig(z2)


def says_not(check, answer, text):
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    assert text not in str(info.value), str(info.value)


# ------------------------------------------------------------------ named where it can occur


def test_grad_w1_names_the_classic_mistakes():
    n, z1, a1, z2, a2 = chain()
    d = 2 * (a2 - n["y"])
    w2, x = n["w2"], n["x"]
    refuse(ex_111.check_grad_w1, d * slope(z2) * w2 * x, "the factor sigma'(z1) is missing")
    refuse(ex_111.check_grad_w1, d * w2 * slope(z1) * x, "the factor sigma'(z2) is missing")
    refuse(ex_111.check_grad_w1, d * slope(z2) * w2 * slope(a1) * x, "sigma'(a1)")
    refuse(ex_111.check_grad_w1, d * slope(a2) * w2 * slope(z1) * x, "sigma'(a2)")
    refuse(ex_111.check_grad_w1, d * slope(z2) ** 2 * w2 * slope(z1) * x, "there twice")
    refuse(ex_111.check_grad_w1, d * slope(z2) * n["w1"] * slope(z1) * x, "w1 where w2")
    refuse(ex_111.check_grad_w1, d * slope(z2) * w2 * slope(z1) * a1, "a1 where x belongs")
    refuse(ex_111.check_grad_w1, -d * slope(z2) * w2 * slope(z1) * x, "order in (a - y)")


def test_sensitivity_names_the_output_slope_mistakes():
    n = ex_111.chain_numbers(ex_111.SENSITIVITY)
    a1 = sig(n["w1"] * n["x"] + n["b1"])
    z2 = n["w2"] * a1 + n["b2"]
    a2 = sig(z2)
    refuse(ex_111.check_sensitivity, 2 * (a2 - n["y"]) * n["w2"], "sigma'(z2) is missing")
    refuse(ex_111.check_sensitivity, 2 * (a2 - n["y"]) * slope(a2) * n["w2"], "sigma'(a2)")


def test_tanh_chain_names_the_copied_sigmoid_slope_and_a_missing_return():
    def with_slope(s):
        def grad(w1, b1, w2, b2, x, y):
            t = np.tanh(w1 * x + b1)
            a2 = 1 / (1 + np.exp(-(w2 * t + b2)))
            return 2 * (a2 - y) * a2 * (1 - a2) * w2 * s(t) * x
        return grad

    refuse(ex_111.check_tanh_chain, with_slope(lambda t: t * (1 - t)), "a1(1 - a1), now with")
    refuse(ex_111.check_tanh_chain, with_slope(lambda t: 1 - np.tanh(t) ** 2), "tanh'(a1)")
    refuse(ex_111.check_tanh_chain, with_slope(lambda t: 1.0), "slope is missing")
    refuse(ex_111.check_tanh_chain, lambda *args: None, "is its `return` missing?")
    right = with_slope(lambda t: 1 - t**2)
    assert ex_111.check_tanh_chain(lambda *args: [right(*args)])  # a size-1 list counts
    refuse(ex_111.check_tanh_chain, lambda *args: right(*args) / 2, "half the right value")
    says_not(ex_111.check_tanh_chain, lambda *args: right(*args) + 0.3, "expected")


def test_delta1_names_z_one_minus_z_and_the_inner_product():
    n = ex_222.delta1_numbers()
    W2, d2 = np.array(n["W2"]), np.array(n["delta2"]).reshape(-1, 1)
    z1 = np.array(n["z1"]).reshape(-1, 1)
    g = W2.T @ d2
    refuse(ex_222.check_delta1, g * z1 * (1 - z1), "at a = z^(1)")
    inner = np.full((2, 1), (bb.sigmoid_prime(z1).T @ g).item())
    refuse(ex_222.check_delta1, inner, "the inner product")


def test_wide_step_names_the_sigmoid_slope_and_the_missing_square():
    n = ex_any.wide_step_numbers()
    W, d = np.array(n["W_next"]), np.array(n["delta_next"]).reshape(-1, 1)
    z = np.array(n["z"]).reshape(-1, 1)
    refuse(ex_any.check_wide_step, (W.T @ d) * bb.sigmoid_prime(z), "the sigmoid's slope")
    refuse(ex_any.check_wide_step, (W.T @ d) * (1 - np.tanh(z)), "with the square")


def test_weight_grad_names_the_untransposed_square_activations():
    n = ex_batch.weight_grad_numbers()
    D, A = np.array(n["D"]), np.array(n["A_prev"])
    refuse(ex_batch.check_weight_grad, D @ A / D.shape[1], "A_prev is not transposed")


def test_bias_grad_names_the_first_column_only():
    Delta = np.array(ex_batch.bias_grad_numbers()["Delta"])
    refuse(ex_batch.check_bias_grad, Delta[:, [0]], "the first sample's column only")


def test_no_half_names_the_sigmoid_slope_and_the_mean_over_outputs():
    n = ex_any.no_half_numbers()
    a, y = np.array(n["a"]).reshape(-1, 1), np.array(n["y"]).reshape(-1, 1)
    refuse(ex_any.check_no_half, 2 * (a - y) * a * (1 - a), "a(1 - a)")
    refuse(ex_any.check_no_half, 2 * (a - y) / a.shape[0], "SUMS over the outputs")


# ------------------------------------------------------------------ messages fit the exercise


def test_the_sign_message_names_a_minus_y_only_where_the_exercise_has_it():
    z = ex_111.sigmoid_slope_numbers()["z"]
    says_not(ex_111.check_sigmoid_slope, -slope(z), "(a - y)")
    refuse(ex_111.check_sigmoid_slope, -slope(z), "opposite sign")
    n = ex_222.delta1_numbers()
    right = (np.array(n["W2"]).T @ np.array(n["delta2"]).reshape(-1, 1)) * bb.sigmoid_prime(
        np.array(n["z1"]).reshape(-1, 1))
    says_not(ex_222.check_delta1, -right, "(a - y)")
    Delta = np.array(ex_batch.bias_grad_numbers()["Delta"])
    says_not(ex_batch.check_bias_grad, -Delta.sum(axis=1, keepdims=True), "(a - y)")


def test_an_n_by_n_answer_for_one_sample_is_not_sent_to_the_batch():
    n = ex_222.delta1_numbers()
    g = (np.array(n["W2"]).T @ np.array(n["delta2"]).reshape(-1, 1)).ravel()  # 1-D
    broadcast = g * bb.sigmoid_prime(np.array(n["z1"]).reshape(-1, 1))  # (2, 1) * (2,)
    assert broadcast.shape == (2, 2)
    refuse(ex_222.check_delta1, broadcast, "broadcast against an (n, 1) column")
    says_not(ex_222.check_delta1, broadcast, "bias")


def test_rounded_answers_are_close_and_the_digits_needed_are_said():
    z = ex_111.sigmoid_slope_numbers()["z"]
    right = float(sp.diff(1 / (1 + sp.exp(-sp.Symbol("t"))), "t").subs("t", z))
    for digits in (2, 3, 4):
        rounded = float(f"{right:.{digits}g}")
        if rounded != right:
            refuse(ex_111.check_sigmoid_slope, rounded, "needs 6 significant digits")
    n = ex_any.wide_step_numbers()
    W, d = np.array(n["W_next"]), np.array(n["delta_next"]).reshape(-1, 1)
    z_l = np.array(n["z"]).reshape(-1, 1)
    exact = (W.T @ d) * (1 - np.tanh(z_l) ** 2)
    refuse(ex_any.check_wide_step, np.round(exact, 4), "rounded to 4 decimal places")
    refuse(ex_any.check_wide_step, exact * (1 + 3e-4), "close: right to about 4 significant")
    refuse(ex_any.check_wide_step, exact * 1.2, "that is not it")


def test_no_one_line_solution_in_the_messages():
    Delta = np.array(ex_batch.bias_grad_numbers()["Delta"])
    for wrong in (Delta, Delta.sum(axis=0)):
        says_not(ex_batch.check_bias_grad, wrong, "keepdims=True")
        says_not(ex_batch.check_bias_grad, wrong, ".sum(axis=1")
    n = ex_batch.weight_grad_numbers()
    D, A = np.array(n["D"]), np.array(n["A_prev"])
    says_not(ex_batch.check_weight_grad, np.outer(D.mean(axis=1), A.mean(axis=1)), "@ A_prev.T")


def test_a_symbol_overwritten_by_a_number_is_named():
    refuse(ex_111.check_tanh_derivative, sp.Float(0.6347), "has no z left in it")


def test_check_function_calls_are_written_plainly():
    refuse(lambda f: check_function(f, lambda n, L: n ** (L - 1), what="paths(n, L)",
                                    inputs=[(1, 2), (2, 3)]),
           lambda n, L: n + L, "paths(n, L), called with 1, 2, returned 3; that is not it.")


def test_a_shape_is_read_as_a_shape():
    n = ex_batch.grad_shape_numbers()
    sz, layer = n["sizes"], n["layer"]
    refuse(ex_batch.check_grad_shape, str((sz[layer], sz[layer - 1])), "not a string")
    if layer + 1 < len(sz):
        refuse(ex_batch.check_grad_shape, (sz[layer + 1], sz[layer]), "the next layer's")
    refuse(ex_batch.check_grad_shape, (sz[layer - 1], sz[layer - 2]) if layer >= 2 else (1, 1),
           "that is")
    refuse(ex_batch.check_grad_shape, (n["m"] + 1, sz[layer - 1]), "is not it. A gradient has")
