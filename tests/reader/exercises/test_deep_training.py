"""The deep-training chapter's checkers: each accepts the right answer and names the mistakes.

Right answers here are computed independently of the checkers: by hand-written formulas,
SymPy, and (where installed) PyTorch's own optimizers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from verdicts import refuse

from backprop_book.checkers import set_student
from backprop_book.exercises import deep_training as ex

pytestmark = pytest.mark.usefixtures("student")


def test_init_scale():
    n = ex.init_scale_numbers()
    n_in, n_out = n["n_in"], n["n_out"]
    assert n_in != n_out
    # Monte Carlo: with sd 1/sqrt(n_in), Var z of a linear(ised tanh) layer equals Var a
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.7, size=(n_in, 4000))
    z = rng.normal(0, 1 / math.sqrt(n_in), size=(200, n_in)) @ a
    assert z.var() == pytest.approx(a.var(), rel=0.05)
    assert ex.check_init_scale(1 / math.sqrt(n_in))
    assert not ex.check_init_scale(None)
    refuse(ex.check_init_scale, math.sqrt(2 / n_in), "He's scale")
    refuse(ex.check_init_scale, 1 / n_in, "the variance")
    refuse(ex.check_init_scale, 1 / math.sqrt(n_out), "n_out")
    refuse(ex.check_init_scale, math.sqrt(2 / (n_in + n_out)), "Glorot")


def test_lr_limit():
    lam = ex.lr_limit_numbers()["lambda_max"]
    # gradient descent on lam w^2 / 2: just below 2/lam it converges, just above it does not
    for eta, converges in ((0.999 * 2 / lam, True), (1.001 * 2 / lam, False)):
        w = 1.0
        for _ in range(20_000):
            w -= eta * lam * w
        assert (abs(w) < 1e-3) == converges
    assert ex.check_lr_limit(2 / lam)
    assert not ex.check_lr_limit(...)
    refuse(ex.check_lr_limit, 1 / lam, "1/lambda_max")
    refuse(ex.check_lr_limit, 2 * lam, "DIVIDED")
    refuse(ex.check_lr_limit, lam / 2, "lambda_max / 2")


def right_momentum(w, v, g, eta, beta):
    v = beta * v + g
    return w - eta * v, v


def test_momentum_step():
    assert ex.check_momentum_step(right_momentum)
    assert ex.check_momentum_step(lambda *a: list(right_momentum(*a)))
    assert not ex.check_momentum_step(None)

    def not_yet(w, v, g, eta, beta):
        raise NotImplementedError()

    assert not ex.check_momentum_step(not_yet)
    refuse(ex.check_momentum_step, lambda w, v, g, eta, beta: (w + eta * (beta * v + g), beta * v + g),
           "wrong sign")
    refuse(ex.check_momentum_step, lambda w, v, g, eta, beta: (w - eta * (beta * v - g), beta * v - g),
           "uphill")
    refuse(ex.check_momentum_step, lambda w, v, g, eta, beta: (w - eta * v, beta * v + g),
           "OLD velocity")
    refuse(ex.check_momentum_step, lambda w, v, g, eta, beta: (w - eta * (v + beta * g), v + beta * g),
           "beta multiplies the gradient")
    refuse(ex.check_momentum_step, lambda w, v, g, eta, beta: w - eta * g, "pair")
    refuse(ex.check_momentum_step, 3.0, "should be a function")


def test_momentum_matches_torch():
    torch = pytest.importorskip("torch")
    w0, g_fixed = np.array([0.3, -1.2]), np.array([0.5, 0.25])
    w_t = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w_t], lr=0.1, momentum=0.9)
    w, v = w0.copy(), np.zeros(2)
    for _ in range(3):
        opt.zero_grad()
        (w_t @ torch.tensor(g_fixed, dtype=torch.float64)).backward()  # gradient g_fixed
        opt.step()
        w, v = right_momentum(w, v, g_fixed, 0.1, 0.9)
    np.testing.assert_allclose(w, w_t.detach().numpy(), rtol=1e-14)


def torch_adam_step(nums):
    """The Adam weights after the last of the given gradients, by torch.optim.Adam."""
    torch = pytest.importorskip("torch")
    w = torch.tensor(nums["w"], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=nums["eta"], betas=(nums["beta1"], nums["beta2"]),
                           eps=nums["eps"])  # fmt: skip
    # Replay: the first t-1 steps move w, so run them on a copy and only keep the state.
    grads = [torch.tensor(g, dtype=torch.float64) for g in nums["grads"]]
    for g in grads[:-1]:
        w.grad = g.clone()
        opt.step()
    with torch.no_grad():
        w.copy_(torch.tensor(nums["w"], dtype=torch.float64))
    w.grad = grads[-1].clone()
    opt.step()
    return w.detach().numpy()


def hand_adam(nums, correct=True):
    state = ex.adam_state(nums)
    b1, b2, eta, eps, t = nums["beta1"], nums["beta2"], nums["eta"], nums["eps"], state["t"]
    m = b1 * state["m"] + (1 - b1) * state["g"]
    s = b2 * state["s"] + (1 - b2) * state["g"] ** 2
    if correct:
        m, s = m / (1 - b1**t), s / (1 - b2**t)
    return np.asarray(nums["w"]) - eta * m / (np.sqrt(s) + eps)


@pytest.mark.parametrize("mistake", [dict(correct=False), dict(shift=1), dict(eps_inside=True)])
def test_every_students_adam_numbers_tell_each_mistake_from_the_right_step(mistake):
    """For any student, each named Adam mistake gives a step the checker can tell apart.

    The checker names a mistake only if it differs from the right answer (rtol 1e-9); with
    numbers where it does not, the mistake passes as right. Students' numbers once had only
    gradients of about 0.5, where eps inside the square root changed w by 1e-10: that
    mistake was marked right for most students.
    """
    for k in range(200):
        set_student(f"class-{k}")
        nums = ex.adam_numbers()
        right, wrong = ex._adam_by_sums(nums), ex._adam_by_sums(nums, **mistake)
        assert not np.allclose(wrong, right, rtol=1e-9, atol=1e-12), (k, mistake, nums)


def test_adam_step():
    nums = ex.adam_numbers()
    right = hand_adam(nums)
    assert ex.check_adam_step(right)
    assert not ex.check_adam_step(None)
    refuse(ex.check_adam_step, hand_adam(nums, correct=False), "WITHOUT the bias correction")
    refuse(ex.check_adam_step, -right, "opposite sign")


def test_adam_step_matches_torch():
    nums = ex.adam_numbers()
    np.testing.assert_allclose(torch_adam_step(nums), hand_adam(nums), rtol=1e-12, atol=1e-15)
    assert ex.check_adam_step(torch_adam_step(nums))


def test_adam_state_is_the_running_means():
    nums = ex.adam_numbers()
    g, b1 = np.asarray(nums["grads"]), sp.nsimplify(nums["beta1"])
    t = len(g) - 1  # m after t steps, exactly: (1 - b1) sum_k b1^(t-k) g_k
    for j in range(g.shape[1]):
        terms = [b1 ** (t - k) * sp.nsimplify(g[k - 1, j]) for k in range(1, t + 1)]
        m_sum = (1 - b1) * sp.Add(*terms)
        assert float(m_sum) == pytest.approx(ex.adam_state(nums)["m"][j], rel=1e-12, abs=1e-15)


def test_choose_lambda():
    nums = ex.choose_lambda_numbers()
    lams = nums["lambdas"]
    by = {key: lams[min(range(len(lams)), key=nums[key].__getitem__)] for key in ("train", "validation", "test")}
    assert len(set(by.values())) == 3, "the three sets must disagree, or a mistake could pass"
    assert ex.check_choose_lambda(by["validation"])
    assert not ex.check_choose_lambda(None)
    refuse(ex.check_choose_lambda, by["test"], "TEST set")
    refuse(ex.check_choose_lambda, by["train"], "TRAINING loss")


def test_numbers_differ_per_student():
    set_student(None)
    book = ex.adam_numbers(), ex.init_scale_numbers(), ex.choose_lambda_numbers()
    set_student("someone-else")
    assert (ex.adam_numbers(), ex.init_scale_numbers(), ex.choose_lambda_numbers()) != book
    set_student(None)


def test_numbers_table_labels_every_given():
    text = ex.numbers_table(ex.choose_lambda_numbers())
    for key in ("lambdas =", "train =", "validation =", "test ="):
        assert key in text
