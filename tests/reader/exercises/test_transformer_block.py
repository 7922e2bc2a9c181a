"""The attention chapter's checkers: each accepts the right answer, says "not done yet" for
a stub, refuses a hard-coded answer and an exception with a one-line report, and names
each classic mistake.

Right answers here come from PyTorch's autograd (float64) and from written-out loops, not
from the checkers' own reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from optional import torch_or_skip

from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import attention as ex

torch = torch_or_skip()


pytestmark = pytest.mark.usefixtures("student")


def refuse(check, answer, says):
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    assert says in str(info.value), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------ 1. the embedding


def test_embedding():
    nums = ex.embedding_numbers()
    tokens, dX = np.array(nums["tokens"]), np.array(nums["dX"])
    assert len(set(tokens.tolist())) < len(tokens), "a token must repeat"
    E = torch.zeros(nums["V"], 3, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(tokens), E).backward(torch.tensor(dX))
    right = E.grad.numpy()
    assert ex.check_embedding(right)
    assert not ex.check_embedding(None)
    overwritten = np.zeros_like(right)
    overwritten[tokens] = dX
    refuse(ex.check_embedding, overwritten, "overwritten, not added")
    first = np.zeros_like(right)
    for t, row in reversed(list(zip(tokens, dX, strict=True))):
        first[t] = row
    refuse(ex.check_embedding, first, "only the first occurrence")
    refuse(ex.check_embedding, right.T, "transpose")
    refuse(ex.check_embedding, np.ones_like(right), "not it")


# ------------------------------------------------------------------ 2. the formula


@pytest.mark.parametrize("formula", [
    "p1 * p2 * (k1 - k2) / sqrt(d)",
    "p1*(1-p1)*(k1-k2)/d^(1/2)",
    "exp(q*k1/sqrt(d))*exp(q*k2/sqrt(d))*(k1-k2)/(sqrt(d)*(exp(q*k1/sqrt(d))+exp(q*k2/sqrt(d)))**2)",
])
def test_weight_derivative_right(formula):
    assert ex.check_weight_derivative(formula)


def test_weight_derivative_agrees_with_torch():
    q, k1, k2, d = 0.7, 1.3, -0.4, 4.0
    qt = torch.tensor(q, dtype=torch.float64, requires_grad=True)
    p = torch.softmax(torch.stack([qt * k1, qt * k2]) / d**0.5, dim=0)
    p[0].backward()
    p1, p2 = p.detach().numpy()
    assert np.isclose(qt.grad.item(), p1 * p2 * (k1 - k2) / d**0.5, rtol=1e-12)


@pytest.mark.parametrize("formula, says", [
    ("p1*(1-p1)*k1/sqrt(d)", "only the path through s1"),
    ("p1 p2 (k1 - k2)", "1/sqrt(d) is missing"),
    ("p1*p2/sqrt(d)", "k1 - k2 from ds_j/dq is missing"),
    ("p1*p2*(k2-k1)/sqrt(d)", "opposite sign"),
    ("p1 * x", "which the exercise does not define"),
    ("p1 * (k1", "could not read"),
    ("p1 * k1", "not equal to the right expression"),
])
def test_weight_derivative_mistakes(formula, says):
    refuse(ex.check_weight_derivative, formula, says)


def test_weight_derivative_wants_a_string():
    assert not ex.check_weight_derivative(None)
    refuse(ex.check_weight_derivative, 0.5, "as a string")


# ------------------------------------------------------------------ 3. the softmax's JVP


def jvp_by_loops(P, dP):
    """The Jacobian of every row, written out, times that row of dP."""
    out = np.zeros_like(P)
    for idx in np.ndindex(P.shape[:-1]):
        p = P[idx]
        J = np.array([[p[i] * ((i == j) - p[j]) for j in range(len(p))] for i in range(len(p))])
        out[idx] = J.T @ dP[idx]
    return out


def test_softmax_jvp_right_and_not_done():
    assert ex.check_softmax_jvp(jvp_by_loops)
    assert not ex.check_softmax_jvp(None)

    def stub(P, dP):
        raise NotImplementedError()

    assert not ex.check_softmax_jvp(stub)


@pytest.mark.parametrize("wrong, says", [
    (lambda P, dP: P * (dP - np.sum(dP * P, axis=0, keepdims=True)), "down the columns"),
    (lambda P, dP: P * (dP - np.sum(dP * P, axis=-2, keepdims=True)), "down the columns"),
    (lambda P, dP: P * (1 - P) * dP, "only the diagonal"),
    (lambda P, dP: dP - np.sum(dP * P, axis=-1, keepdims=True), "factor P in front"),
    (lambda P, dP: P * (dP - np.sum(dP, axis=-1, keepdims=True) * P), "of dP alone"),
    (lambda P, dP: np.swapaxes(jvp_by_loops(P, dP), -1, -2), "should have shape"),
    (lambda P, dP: np.full(P.shape, 0.1), "not a mistake we recognise"),  # hard-coded
    (lambda P, dP: np.ones((4, 4)), "should have shape (3, 5)"),  # the page's shape
    (lambda P, dP: P @ dP, "not a mistake we recognise"),
    (lambda P, dP: "dS", "expected a NumPy array"),
])
def test_softmax_jvp_mistakes(wrong, says):
    refuse(ex.check_softmax_jvp, wrong, says)


def test_softmax_jvp_exception_names_the_readers_line():
    def broken(P, dP):
        rows = P.sum(axis=-1)
        return P * (dP - rows[:, None, None])   # only fits 2-D inputs by luck

    message = refuse(ex.check_softmax_jvp, broken, "raised")
    assert "your line" in message and "rows[:, None, None]" in message
    assert "Traceback" not in message and "site-packages" not in message


# ------------------------------------------------------------------ 4. attention's backward


def torch_attention(Q, K, V, dO):
    leaves = [torch.tensor(a, requires_grad=True) for a in (Q, K, V)]
    out = torch.nn.functional.scaled_dot_product_attention(*leaves, is_causal=True)
    out.backward(torch.tensor(dO))
    return (out.detach().numpy(), *(t.grad.numpy() for t in leaves))


def test_attention_backward_right():
    assert ex.check_attention_backward(torch_attention)
    assert ex.check_attention_backward(lambda *a: list(torch_attention(*a)))


def test_attention_backward_stub_and_placeholder():
    def stub(Q, K, V, dO):
        raise NotImplementedError()

    assert not ex.check_attention_backward(stub)
    assert not ex.check_attention_backward(None)
    refuse(ex.check_attention_backward, 3.0, "should be a function")


def test_attention_backward_hard_coded_answer():
    Q = K = V = dO = np.random.default_rng(0).normal(size=(1, 4, 4))
    frozen = torch_attention(Q, K, V, dO)  # right for the page's numbers, not for fresh ones
    refuse(ex.check_attention_backward, lambda *a: frozen, "O should have shape (2, 5, 3)")
    refuse(ex.check_attention_backward,
           lambda Q, K, V, dO: tuple(np.full(Q.shape, 0.1) for _ in range(4)),
           "not a mistake we recognise")


def test_attention_backward_exception_is_one_line_with_the_readers_line():
    def broken(Q, K, V, dO):
        S = Q @ K  # K not transposed: fails as soon as T != d
        return S, S, S, S

    message = refuse(ex.check_attention_backward, broken, "raised ValueError")
    assert "your line" in message and "S = Q @ K" in message and "\n" not in message


def test_attention_backward_wrong_count_and_shape():
    refuse(ex.check_attention_backward, lambda Q, K, V, dO: Q, "should return 4 arrays")
    refuse(ex.check_attention_backward,
           lambda Q, K, V, dO: (*torch_attention(Q, K, V, dO)[:3], dO[..., :2]),
           "dV should have shape")


def bugged(**switch):
    """What a reader with one classic bug writes, in the reader's own words."""

    def causal_attention(Q, K, V, dO):
        T, d = Q.shape[-2], Q.shape[-1]
        scale = 1 / np.sqrt(d) if switch.get("scale", True) else 1.0
        S = Q @ np.swapaxes(K, -1, -2) * scale
        hide = np.triu(np.ones((T, T), dtype=bool), 1)
        if switch.get("mask") == "after":
            E = np.exp(S - S.max(-1, keepdims=True))
            P = np.where(hide, 0.0, E / E.sum(-1, keepdims=True))
        else:
            S = np.where(hide, -np.inf, S)
            E = np.exp(S - S.max(-1, keepdims=True))
            P = E / E.sum(-1, keepdims=True)
        dP = dO @ (V if switch.get("v_plain") else np.swapaxes(V, -1, -2))
        axis = -2 if switch.get("columns") else -1
        dS = P * (dP - np.sum(dP * P, axis=axis, keepdims=True))
        dK = (dS if switch.get("k_plain") else np.swapaxes(dS, -1, -2)) @ Q * scale
        dV = (P if switch.get("p_plain") else np.swapaxes(P, -1, -2)) @ dO
        return P @ V, dS @ K * scale, dK, dV

    return causal_attention


@pytest.mark.parametrize("switch, says", [
    ({"columns": True}, "column-wise"),
    ({"scale": False}, "1/sqrt(d) is missing (forward and backward)"),
    ({"mask": "after"}, "AFTER the softmax"),
    ({"k_plain": True}, "dK is missing a transpose"),
    ({"v_plain": True}, "transpose on V"),
    ({"p_plain": True}, "transpose on P"),
])
def test_attention_backward_names_each_classic_mistake(switch, says):
    refuse(ex.check_attention_backward, bugged(**switch), says)


def test_the_bug_free_reader_passes():
    assert ex.check_attention_backward(bugged())


def test_scale_forgotten_only_in_the_backward_pass():
    right = bugged()

    def half_scaled(Q, K, V, dO):
        out, dQ, dK, dV = right(Q, K, V, dO)
        c = np.sqrt(Q.shape[-1])
        return out, dQ * c, dK * c, dV

    refuse(ex.check_attention_backward, half_scaled, "missing in the backward pass")
