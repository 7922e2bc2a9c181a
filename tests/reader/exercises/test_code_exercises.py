"""The code exercises (issue 27): the reader writes a function; check_code judges its arrays.

For every code exercise, with the book's numbers and a student's: the book's own solution
(read from the chapter's solution cell) passes; the stub is "not done yet"; a result
copied from the page's example, an exception, an infinite loop and an input changed in
place are each reported as such; and each classic mistake, written as a student would
write it (an edit of the solution's text), gets its diagnosis. The right answers are not
taken on trust either: on every call check_code checks the reference against centered
differences of the cost (see test_codecheck.py).
"""

from __future__ import annotations

import copy
import json
import linecache
from dataclasses import dataclass

import numpy as np
import pytest
from chapter_engine import chapter_engine
from verdicts import refuse

import backprop_book as bb
from backprop_book import codecheck
from backprop_book.checkers import NotQuiteRight
from backprop_book.exercises import (
    any_width_any_depth,
    attention,
    autodiff,
    batched_backprop,
    deep_training,
    one_neuron_chain,
    softmax_four_layer,
    two_two_two,
)
from bookkit.paths import BOOK

pytestmark = pytest.mark.usefixtures("student")


@dataclass
class CodeExercise:
    module: object
    checker: str
    notebook: str
    cell: str  # the id of the solution cell
    function: str
    #: (an edit of the solution's text: old, new), and what the diagnosis must say
    mistakes: list[tuple[str, str, str]]

    def check(self, answer):
        return getattr(self.module, self.checker)(answer)

    def source(self) -> str:
        nb = json.loads((BOOK / f"{self.notebook}.ipynb").read_text())
        cell = next(c for c in nb["cells"] if c["id"] == self.cell)
        return "".join(cell["source"])

    def solution(self, old: str = "", new: str = ""):  # noqa: D401 - the function itself
        text = self.source()
        if old:
            assert old in text, f"{old!r} is not in the solution of {self.checker}"
            text = text.replace(old, new)
        ns = {"np": np, "bb": bb}
        name = f"<{self.cell}:{abs(hash(text))}>"  # as IPython does: the lines can be shown
        linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
        exec(compile(text, name, "exec"), ns)
        return ns[self.function]

    def example_args(self) -> list:
        example = {"backward_example": None, "adam_example": None, "rms_norm_example": None}
        for name in example:
            if hasattr(self.module, name) and (name != "backward_example"
                                               or self.checker != "check_adam_update"):
                return list(getattr(self.module, name)().values())
        raise AssertionError("no example")


EXERCISES = {
    "111": CodeExercise(one_neuron_chain, "check_backward_111", "one-neuron-chain",
                        "ex111-backward-sol", "backward_111", [
        ("delta2 = 2 * (a2 - y) * a2 * (1 - a2)",
         "delta2 = 2 * (a2 - y) * bb.sigmoid_prime(a2)", "sigma'(a2)"),
        ("delta2 * w2 * a1 * (1 - a1)", "delta2 * w2", "factor sigma'(z1) is missing"),
        ("delta2 * w2 * a1 * (1 - a1)", "delta2 * w2 * bb.sigmoid_prime(a1)",
         "hidden neuron's slope was taken at its activation"),
        ("2 * (a2 - y) * a2 * (1 - a2)", "2 * (a2 - y)", "factor sigma'(z2) is missing"),
        ("return delta1 * cache[\"x\"], delta1, delta2 * a1, delta2",
         "return delta1 * cache[\"x\"], delta1, delta2 * a2, delta2", "not a2"),
        ("return delta1 * cache[\"x\"], delta1,", "return delta1 * a1, delta1,",
         "dz1/dw1 is the input x"),
        ("2 * (a2 - y)", "2 * (y - a2)", "sign is flipped"),
        ("2 * (a2 - y)", "(a2 - y)", "half the right value"),
        ("a2 * (1 - a2)", "a2 * (1 - a2) * a2 * (1 - a2)", "sigma'(z2) is there twice"),
    ]),
    "222": CodeExercise(two_two_two, "check_backward_222", "two-two-two",
                        "ex222-backward-sol", "backward_222", [
        ("W2.T @ delta2", "W2 @ delta2", "the transpose is missing"),
        ("(delta2 @ a1.T, delta2)", "(delta2 @ a2.T, delta2)", "the wrong layer's activation"),
        ("(W2.T @ delta2) * a1 * (1 - a1)", "(W2.T @ delta2)", "f'(z^(l)) of the hidden"),
        ("(a2 - y) * a2 * (1 - a2)", "(a2 - y) * bb.sigmoid_prime(a2)",
         "at the output layer the slope"),
        ("(a2 - y) * a2 * (1 - a2)", "(a2 - y)", "output layer's slope f'(z^(L)) is missing"),
        ("(delta1 @ x.T, delta1)", "(x @ delta1.T, delta1)", "transpose of the right matrix"),
        ("(a2 - y)", "(y - a2)", "sign is flipped"),
        ("W2.T @ delta2)", "W2.T @ delta2).ravel()", "broadcasts to an (n, n) matrix"),
    ]),
    "softmax": CodeExercise(softmax_four_layer, "check_backward_4", "softmax-four-layer",
                            "exsm-backward-sol", "backward_4", [
        ("delta = a[3] - y", "delta = (a[3] - y) * a[3] * (1 - a[3])", "s(1 - s)"),
        ("delta = a[3] - y", "delta = -y * (1 - a[3])", "Jacobian's diagonal"),
        ("(W.T @ delta)", "(W @ delta)", "the transpose is missing"),
        ("a_prev * (1 - a_prev)", "bb.sigmoid_prime(a_prev)",
         "at the hidden layers the slope was taken at the activation"),
        ("delta = a[3] - y", "delta = y - a[3]", "sign is flipped"),
    ]),
    "any": CodeExercise(any_width_any_depth, "check_backward_any", "any-width-any-depth",
                        "exany-backward-sol", "backward_any", [
        ("slope[activations[layer - 2]]", "slope[activations[layer - 1]]",
         "the slope of the wrong layer's activation"),
        ("cache.zs[layer - 1])", "cache.as_[layer - 1])",
         "at the hidden layers the slope was taken at the activation"),
        ("(delta @ cache.as_[layer - 1].T, delta)", "(delta @ cache.as_[layer].T, delta)",
         "the wrong layer's activation"),
        ("W.T @ delta", "W @ delta", "Is a transpose missing"),
        ("delta = (W.T @ delta) * fprime", "delta = W.T @ delta", "f'(z^(l)) of the hidden"),
    ]),
    "batch": CodeExercise(batched_backprop, "check_backward_batch", "batched-backprop",
                          "exbatch-backward-sol", "backward_batch", [
        ("(A[L] - Y) / m", "(A[L] - Y)", "m times too large"),
        ("(A[L] - Y) / m", "(A[L] - Y) / m / m", "m times too small"),
        ("Delta.sum(axis=1, keepdims=True)", "Delta", "not summed over the batch"),
        ("Delta.sum(axis=1, keepdims=True)", "Delta.sum(axis=0, keepdims=True)",
         "summed over axis 0"),
        ("Delta.sum(axis=1, keepdims=True)", "Delta.sum(axis=1)", "It is 1-D"),
        ("Delta.sum(axis=1, keepdims=True)", "Delta.mean(axis=1, keepdims=True)",
         "m times too small"),
    ]),
    "adam": CodeExercise(deep_training, "check_adam_update", "making-deep-networks-train",
                         "deep-ex-adam-code-sol", "adam_update", [
        ("m_new / (1 - beta1**t), s_new / (1 - beta2**t)", "m_new, s_new",
         "bias correction is missing"),
        ("(np.sqrt(s_hat) + eps)", "np.sqrt(s_hat + eps)", "inside the square root"),
        ("(np.sqrt(s_hat) + eps)", "(s_hat + eps)", "square root of s_hat is missing"),
        ("m_hat, s_hat = m_new / (1 - beta1**t), s_new / (1 - beta2**t)",
         "m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)", "from before this step"),
        ("return w - eta", "return w + eta", "uphill"),
    ]),
    # the transfer exercise: a layer the book never shows
    "rms": CodeExercise(attention, "check_rms_norm_backward", "transformer-block",
                        "exattn-rms-sol", "rms_norm_backward", [
        ("(g - xhat * along_xhat) / r", "g / r", "treats r as a constant"),
        ("(g - xhat * along_xhat) / r",
         "(g - xhat * along_xhat - g.mean(axis=-1, keepdims=True)) / r",
         "layer norm's mean term"),
        ("np.mean(g * xhat, axis=-1, keepdims=True)", "np.sum(g * xhat, axis=-1, keepdims=True)",
         "1/d of the mean is missing"),
        ("np.mean(X**2, axis=-1, keepdims=True) + eps)",
         "np.mean(X**2, axis=-1, keepdims=True)) + eps", "outside the root"),
        ("g = gamma * dY", "g = dY", "gamma is missing from dX"),
        ("np.sum(dY * xhat, axis=0)", "np.sum(dY * X, axis=0)", "dgamma multiplies dY by x"),
        ("np.sum(dY * xhat, axis=0)", "dY * xhat", "gradient sums over the rows"),
        ("np.sum(dY * xhat, axis=0)", "np.sum(dY * xhat, axis=1)", "wrong shape"),
    ]),
}

IDS = list(EXERCISES)


@pytest.fixture(params=IDS)
def ex(request) -> CodeExercise:
    return EXERCISES[request.param]


def test_the_books_solution_is_right(ex):
    verdict = ex.check(ex.solution())
    assert verdict, verdict
    assert "fresh inputs of your own" in str(verdict)


def test_the_stub_and_the_placeholder_are_not_done_yet(ex):
    def stub(*args):
        raise NotImplementedError("Exercise: write this part, then run the checker below.")

    for answer in (stub, None, lambda *args: None):
        verdict = ex.check(answer)
        assert not verdict and "Not done yet" in str(verdict)
    assert "returns None" in str(ex.check(lambda *args: None))


def test_a_result_copied_from_the_page_fails(ex):
    typed_in = ex.solution()(*copy.deepcopy(ex.example_args()))
    # the any-depth example is shallower than a fresh case: there the count of layers shows it
    says = ("should return a list of (dW, db) pairs" if ex is EXERCISES["any"]
            else "the same numbers whatever its input")
    refuse(ex.check, lambda *args: typed_in, says)


def test_an_exception_shows_the_readers_own_line(ex):
    def broken(*args):
        first = args[0]
        return first["no such key"] * 2  # the reader's line

    refuse(ex.check, broken, 'return first["no such key"] * 2')


def test_an_infinite_loop_is_stopped(ex, monkeypatch):
    # (the limit applies to the answer alone, which never returns: a short one stops it
    # as surely, and the loop spins a CPU until it does, in each of 14 runs)
    monkeypatch.setattr(codecheck, "TIME_LIMIT", 0.05)

    def forever(*args):
        k = 0
        while k < 1:
            pass
        return k

    refuse(ex.check, forever, "did not finish within 0.05 seconds")


def test_an_input_changed_in_place_is_named(ex):
    right = ex.solution()

    def careless(*args):
        result = right(*copy.deepcopy(args))
        leaves = [leaf for _, leaf in codecheck._paths(list(args), "args")
                  if isinstance(leaf, np.ndarray)]
        if leaves:
            leaves[0] *= 0.5
        else:  # the 1-1-1 cache holds plain numbers
            args[0]["a1"] = 0.5
        return result

    refuse(ex.check, careless, "in place")


def test_not_a_function(ex):
    refuse(ex.check, 3.0, "should be a function")


@pytest.mark.parametrize(("name", "k"), [(name, k) for name, ex in EXERCISES.items()
                                         for k in range(len(ex.mistakes))])
def test_each_classic_mistake_is_named(name, k):
    ex = EXERCISES[name]
    old, new, says = ex.mistakes[k]
    refuse(ex.check, ex.solution(old, new), says)


def test_an_exception_in_an_edited_solution_quotes_its_line():
    ex = EXERCISES["222"]
    refuse(ex.check, ex.solution("W2.T @ delta2)", "W2.T @ delta2).ravel()"),
           "(`return [(delta1 @ x.T, delta1), (delta2 @ a1.T, delta2)]`)")


def test_one_verdict_per_array_for_the_course(ex):
    """``part=``: the verdict on one array (the course's one graded test cell per array)."""
    checker = getattr(ex.module, ex.checker)
    parts = checker.parts
    for part in parts:
        verdict = checker(ex.solution(), part=part)
        assert verdict and verdict.what.startswith(part)
    old, new, says = ex.mistakes[0]
    wrong = ex.solution(old, new)
    verdicts = {}
    for part in parts:
        try:
            verdicts[part] = bool(checker(wrong, part=part))
        except NotQuiteRight as err:
            verdicts[part] = False
            assert str(err).count("\n") == 0 and f": {part}: " in str(err)
    assert not all(verdicts.values()), verdicts
    with pytest.raises(ValueError, match="no array called"):
        checker(ex.solution(), part="dZ9")


def test_what_stops_the_whole_answer_stops_every_part(monkeypatch):
    ex = EXERCISES["222"]
    checker = ex.module.check_backward_222
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    for part in checker.parts:
        refuse(lambda a, part=part: checker(a, part=part), None, "replace the placeholder")
        refuse(lambda a, part=part: checker(a, part=part), lambda *args: 1 / 0,
               "ZeroDivisionError")


# ------------------------------------------------------------------ the autodiff engine's code


ENGINE = chapter_engine()
DIV = CodeExercise(autodiff, "check_div_node", "autodiff", "ex-ad-div-sol", "div", [])
TOPO = CodeExercise(autodiff, "check_backward_topo", "autodiff", "ex-ad-topo-sol",
                    "backward_topo", [])


def _with_engine(ex: CodeExercise, **edit):
    ns_solution = ex.solution(**edit)
    ns_solution.__globals__["Value"] = ENGINE
    return ns_solution


def check_div(answer):
    return autodiff.check_div_node(answer, engine=ENGINE)


def check_topo(answer):
    return autodiff.check_backward_topo(answer, engine=ENGINE)


def test_the_div_node():
    assert check_div(_with_engine(DIV))
    in_other_order = _with_engine(
        DIV, old="self.grad += out.grad / other.data\n        other.grad += -self.data",
        new="other.grad += 0.0\n        self.grad += out.grad / other.data\n"
            "        other.grad += -self.data")
    assert check_div(in_other_order)
    assert not check_div(None)
    for old, new, says in [
        ("self.grad += out.grad / other.data", "self.grad = out.grad / other.data", "`=`"),
        ("other.grad += -self.data", "other.grad = -self.data", "`=`"),
        ("other.grad += -self.data / other.data**2 * out.grad",
         "other.grad += self.data / other.data**2 * out.grad", "wrong sign"),
        ("self.grad += out.grad / other.data", "self.grad += 1 / other.data",
         "not multiplied by out.grad"),
        ("self.grad += out.grad / other.data", "self.grad += out.grad * other.data",
         "not a mistake we recognise"),
    ]:
        refuse(check_div, _with_engine(DIV, old=old, new=new), says)


def test_the_div_node_stub_exception_and_loop(monkeypatch):
    stub = _with_engine(DIV, old="self.grad += out.grad / other.data",
                        new="raise NotImplementedError()")
    assert "Not done yet" in str(check_div(stub))
    broken = _with_engine(DIV, old="self.grad += out.grad / other.data",
                          new="self.grad += out.grad / other.value")
    refuse(check_div, broken, "(`self.grad += out.grad / other.value`)")
    monkeypatch.setattr(codecheck, "TIME_LIMIT", 0.3)
    looping = _with_engine(DIV, old="self.grad += out.grad / other.data",
                           new="while self.data == self.data:\n            pass")
    refuse(check_div, looping, "did not finish")

    def constant(self, other):  # a node that ignores its inputs' values
        out = ENGINE(0.5, (self, other), "/")

        def _backward():
            self.grad += 0.1 * out.grad
            other.grad += 0.1 * out.grad

        out._backward = _backward
        return out

    refuse(check_div, constant, "not a mistake we recognise")
    refuse(check_div, constant, "centered differences say")
    refuse(check_div, lambda self, other: ENGINE(self.data / other.data), "its _prev")


def test_backward_topo():
    assert check_topo(_with_engine(TOPO))
    assert not check_topo(None)
    for old, new, says in [
        ("if v not in seen:", "if True:", "visited more than once"),
        ("for v in reversed(order):", "for v in order:", "order of the forward pass"),
        ("    root.grad = 1.0\n", "", "root.grad = 1"),
    ]:
        refuse(check_topo, _with_engine(TOPO, old=old, new=new), says)

    def eager(root):  # the natural first try: recurse, no sort
        root.grad = 1.0

        def down(v):
            v._backward()
            for parent in v._prev:
                down(parent)

        down(root)

    refuse(check_topo, eager, "depth first")


def test_backward_topo_stub_exception_and_loop(monkeypatch):
    def stub(root):
        raise NotImplementedError("Exercise: write this part, then run the checker below.")

    assert "Not done yet" in str(check_topo(stub))

    def broken(root):
        return root._children  # the reader's line

    refuse(check_topo, broken, "(`return root._children  # the reader's line`)")
    monkeypatch.setattr(codecheck, "TIME_LIMIT", 0.3)

    def forever(root):
        stack = [root]
        while stack:
            v = stack[-1]
            stack.extend(v._prev)  # never pops

    refuse(check_topo, forever, "did not finish")
    refuse(check_topo, "backward", "should be a function")


def test_no_message_shows_the_reference_code_or_a_traceback():
    for ex in EXERCISES.values():
        answers = [ex.solution(old, new) for old, new, _ in ex.mistakes]
        answers += [lambda *args: args[0]["no such key"], lambda *args: 3, "x"]
        for answer in answers:
            with pytest.raises(NotQuiteRight) as info:
                ex.check(answer)
            message = str(info.value)
            for code in ("Traceback", "def _", "_dense", "codecheck", "reference.py",
                         "buggy_backward", "ref.", "site-packages"):
                assert code not in message, (code, message)
