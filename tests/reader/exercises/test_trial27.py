"""Trial 27 (a tester playing a student, 427 attempts): each finding, the attempt that showed
it, and what the checker must say now. The wrong answers are written as a student writes
them; the right values come from the chapters' own solutions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from chapter_engine import chapter_engine
from verdicts import refuse

import backprop_book as bb
from backprop_book import checkers, codecheck
from backprop_book.checkers import NotQuiteRight, Verdict
from backprop_book.exercises import any_width_any_depth as ex_any
from backprop_book.exercises import autodiff as ex_ad
from backprop_book.exercises import batched_backprop as ex_batch
from backprop_book.exercises import deep_training as ex_deep
from backprop_book.exercises import one_neuron_chain as ex_111
from backprop_book.exercises import softmax_four_layer as ex_sm
from backprop_book.exercises import two_two_two as ex_222
from bookkit.paths import BOOK

pytestmark = pytest.mark.usefixtures("student")


def message(check, answer) -> str:
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    return str(info.value)


def shown(check, answer) -> str:
    """What IPython prints for a wrong answer (without the colour codes)."""
    with pytest.raises(NotQuiteRight) as info:
        check(answer)
    return "\n".join(info.value._render_traceback_()).replace("\x1b[1;31m", "").replace(
        "\x1b[0m", "")


# ------------------------------------------------------------------ F1: unknown functions

#: Every derivation checker, and a formula in its quantities that calls a function it
#: does not know, as students typed them.
DERIVATIONS = [
    (ex_111.check_derive_dw2, "2*(a2-y)*sigmoid(a2)*(1-sigmoid(a2))*a1", "sigmoid"),
    (ex_111.check_derive_dw2, "2*(a2-y)*σ(a2)*a1", "σ"),
    (ex_111.check_derive_dw2, "2*(a2-y)*a2*(1-a2)*a1*f(a2)", "f"),
    (ex_111.check_derive_dw1, "2*(a2-y)*a2*(1-a2)*w2*sigmoid(a1)*(1-sigmoid(a1))*x",
     "sigmoid"),
    (ex_222.check_derive_dw1_12, "(a2_1 - y_1)*sig(a1_1)*x_2", "sig"),
    (ex_sm.check_derive_ce_logit, "softmax(s_1) - y_1", "softmax"),
    (ex_any.check_derive_hidden_delta, "(W_11*d_1 + W_21*d_2)*tanh_prime(t_1)", "tanh_prime"),
    (ex_batch.check_derive_batch_bias, "Sum(a_1 - y_1, (a_1, 1, 2))/2", "Sum"),
    (ex_deep.check_derive_l2, "g + diff(lam/2*w**2, w)", "diff"),
]


@pytest.mark.parametrize(("check", "formula", "name"), DERIVATIONS)
def test_a_call_of_an_unknown_function_is_named_not_a_traceback(check, formula, name):
    text = message(check, formula)
    assert f"calls {name}(...), a function this exercise does not know" in text
    assert "exp, log, tanh, sqrt and sigma" in text


def test_what_each_unknown_function_is_called_instead():
    assert "the sigmoid is called sigma here" in message(ex_111.check_derive_dw2,
                                                         "2*(a2-y)*sigmoid(a2)*a1")
    assert "type the derivative itself" in message(ex_deep.check_derive_l2,
                                                   "g + diff(lam/2*w**2, w)")
    assert "write it out with the quantities" in message(
        ex_any.check_derive_hidden_delta, "(W_11*d_1 + W_21*d_2)*tanh_prime(t_1)")
    f = sp.Function("f")(sp.Symbol("a2"))  # a SymPy expression with an unknown function
    assert "calls f(...)" in message(ex_111.check_derive_dw2, f * sp.Symbol("a1"))


# ------------------------------------------------------------------ F2: the tanh node adds


def tanh_node(engine, body: str):
    """A tanh node as a student writes it, with ``body`` as its _backward's one line."""
    ns = {"math": __import__("math"), "Value": engine}
    exec("def tanh(self):\n"
         "    t = math.tanh(self.data)\n"
         "    out = Value(t, (self,), 'tanh')\n"
         "    def _backward():\n"
         f"        {body}\n"
         "    out._backward = _backward\n"
         "    return out\n", ns)
    engine.tanh = ns["tanh"]
    ns2 = {"Value": engine}
    exec("def grad_tanh_xw(x, w):\n"  # the page's own helper, in the reader's namespace
         "    xv, wv = Value(x, name='x'), Value(w, name='w')\n"
         "    ((xv * wv).tanh() ** 2).backward()\n"
         "    return [xv.grad, wv.grad]\n", ns2)
    return ns2["grad_tanh_xw"]


def test_a_tanh_node_that_overwrites_the_gradient_is_refused():
    engine = chapter_engine()
    right = tanh_node(engine, "self.grad += (1 - t**2) * out.grad")
    assert ex_ad.check_tanh_node(right, engine=engine)
    assert ex_ad.check_tanh_node(right)  # the engine found where the helper was written
    overwrites = tanh_node(engine, "self.grad = (1 - t**2) * out.grad")
    for check in (lambda f: ex_ad.check_tanh_node(f, engine=engine), ex_ad.check_tanh_node):
        refuse(check, overwrites, "overwrites its input's gradient (`=`) instead of adding")


# ------------------------------------------------------------------ F3: no answer stated


@pytest.mark.parametrize(("check", "wrong", "says", "never"), [
    (ex_sm.check_derive_ce_logit, "(s_1 - y_1)*s_1*(1 - s_1)", "counts it twice",
     "(s_1 - y_1) is already"),
    (ex_deep.check_derive_l2, "g + lam*w/2", "half the right size", "is lam w"),
    (ex_deep.check_derive_l2, "g - lam*w", "the sign of w", "+lam w"),
])
def test_a_named_wrong_form_does_not_state_the_answer(check, wrong, says, never):
    text = message(check, wrong)
    assert says in text and never not in text


def test_the_node_messages_do_not_write_the_solution_line():
    def no_upstream(x, w):
        t = np.tanh(x * w)
        return [(1 - t**2) * w, (1 - t**2) * x]

    text = message(ex_ad.check_tanh_node, no_upstream)
    assert "out.grad" in text and "self.grad +=" not in text


# ------------------------------------------------------------------ F20: verdicts on the page


def test_the_spot_the_bug_verdict_names_no_rule():
    rules = ex_222.update_rules()
    letter = next(k for k, rule in rules.items() if rule is ex_222.rule_correct)
    verdict = str(ex_222.check_update_rule(letter))
    assert "the rule you chose" in verdict and f"rule {letter}" not in verdict


# ------------------------------------------------------------------ F21: the page's column


def test_a_long_message_is_wrapped_to_the_column_and_keeps_its_indent():
    ex = ex_222
    text = shown(ex.check_backward_222, lambda params, cache, y: [
        (-dW, -db) for dW, db in bb.backward(params, cache, y, ["sigmoid"] * 2,
                                             "squared_error")])
    lines = text.splitlines()
    assert max(map(len, lines)) <= checkers.WIDTH, text
    assert lines[0].startswith("Not quite right. your backward_222")
    arrays = [k for k, line in enumerate(lines) if line.startswith("  dW")]
    assert arrays and lines[arrays[0] + 1].startswith("    "), text  # hanging indent


def test_the_graders_kernel_keeps_a_diagnosis_on_one_line(monkeypatch):
    """nbgrader's feedback is HTML, where the page wraps; its tests read a diagnosis's
    words together."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    text = shown(ex_deep.check_derive_l2, "g - lam*w")
    assert "\n" not in text and len(text) > checkers.WIDTH


def test_short_code_in_backticks_and_short_groups_are_never_split():
    text = checkers.wrap("x" * 60 + " `x *= ...` and more words after it")
    assert "`x *= ...`" in text.replace("\n", " ") and "`x *=\n" not in text
    for k in range(50, 75):
        text = checkers.wrap("x" * k + " slope s_1(1 - s_1), which is already inside")
        assert "s_1(1 - s_1)" in text, text


def test_numpy_gufunc_jargon_becomes_the_shapes():
    def raising(params, cache, y, activations):
        return [(params[0][0] @ params[1][0], None)]

    text = message(ex_any.check_backward_any, raising)
    assert "gufunc" not in text and "core dimension" not in text
    assert "A @ B do not fit: A has" in text and "Is a transpose missing" in text


def test_the_verdicts_repr_is_wrapped_and_its_str_is_not():
    verdict = Verdict(True, "x", "word " * 40)
    assert "\n" in repr(verdict) and "\n" not in str(verdict)


# ------------------------------------------------------------------ F4, F5, F6, F14: order, shape


#: The dense code exercises: checker, activations (None: passed as the fourth argument), cost.
DENSE = {
    "222": (ex_222.check_backward_222, ex_222.ACTIVATIONS, "squared_error"),
    "4": (ex_sm.check_backward_4, ex_sm.ACTIVATIONS, "cross_entropy"),
    "any": (ex_any.check_backward_any, None, "squared_error"),
    "batch": (ex_batch.check_backward_batch, ex_batch.ACTIVATIONS, "squared_error"),
}


def edited(which: str, edit):
    """A student's backward pass for exercise ``which``: the reference's pairs, edited."""
    _, acts, cost = DENSE[which]

    def backward(params, cache, y, *activations):
        return edit(bb.backward(params, cache, y, list(activations[0]) if activations
                                else acts, cost))

    return backward


def test_a_row_shaped_bias_gradient_is_not_said_to_be_summed_over_axis_0():
    def rows(params, cache, Y):
        return [(dW, db.T) for dW, db in bb.backward(params, cache, Y, ex_batch.ACTIVATIONS,
                                                     "squared_error")]

    text = message(ex_batch.check_backward_batch, rows)
    assert "summed over axis 0" not in text and "right numbers as a row" in text

    def flat(params, cache, Y):
        return [(dW, db.ravel()) for dW, db in bb.backward(params, cache, Y,
                                                           ex_batch.ACTIVATIONS,
                                                           "squared_error")]

    text = message(ex_batch.check_backward_batch, flat)
    assert "check the axis" not in text and "It is 1-D" in text


@pytest.mark.parametrize("which", list(DENSE))
def test_pairs_returned_as_db_dw_and_layers_reversed_are_named(which):
    check = DENSE[which][0]
    text = message(check, edited(which, lambda grads: [(db, dW) for dW, db in grads]))
    assert "dW1 and db1 are swapped" in text and "Each pair is (dW, db)" in text
    assert "broadcast" not in text and "One column per sample" not in text
    text = message(check, edited(which, lambda grads: grads[::-1]))
    assert "in reverse order, the last first" in text and "not a mistake we" not in text


def right_111(cache, w2, y):
    a1, a2 = cache["a1"], cache["a2"]
    d2 = 2 * (a2 - y) * a2 * (1 - a2)
    d1 = d2 * w2 * a1 * (1 - a1)
    return d1 * cache["x"], d1, d2 * a1, d2


def test_four_numbers_in_the_wrong_order_and_a_dict_read_by_its_keys():
    text = message(ex_111.check_backward_111, lambda *a: right_111(*a)[2:] + right_111(*a)[:2])
    assert "dC_dw1 and dC_dw2 are swapped" in text
    assert "Return the tuple (dC_dw1, dC_db1, dC_dw2, dC_db2)" in text

    def as_dict(*args):
        g = right_111(*args)
        return {"dC_dw2": g[2], "dC_db2": g[3], "dC_dw1": g[0], "dC_db1": g[1]}

    assert ex_111.check_backward_111(as_dict)


def test_adams_results_in_the_wrong_order():
    def m_s_w(*args):
        w, m, s = ex_deep._adam(*args)
        return m, s, w

    text = message(ex_deep.check_adam_update, m_s_w)
    assert "in the wrong order" in text and "Return the tuple (w_new, m_new, s_new)" in text


# ------------------------------------------------------------------ F7, F8: one layer, z(1 - z)


@pytest.mark.parametrize(("bug", "says"), [
    ({"no_slope": {1}}, "the factor f'(z^(1)) of layer 1 is missing"),
    ({"slope_at_a": {1}}, "at layer 1 the slope was taken at the activation"),
    ({"no_slope": {2}}, "fix layer 2 first"),
    ({"z_for_a": True}, "z(1 - z)"),
])
@pytest.mark.parametrize("which", ["4", "any", "batch"])
def test_a_slope_mistake_at_one_layer_names_that_layer(which, bug, says):
    from backprop_book.exercises import _dense

    check, acts, cost = DENSE[which]

    def backward(params, cache, y, *activations):
        return _dense.buggy_backward(params, cache, y, activations[0] if activations else acts,
                                     cost, **bug)

    text = message(check, backward)
    assert says in text and "not a mistake we recognise" not in text
    if bug.get("no_slope") == {2}:  # the arrays of layer 1 inherit it: named the same
        assert "dW1, db1, dW2, db2: wrong: the factor f'(z^(2))" in text


def test_backward_any_ignoring_activations_or_off_by_one():
    from backprop_book.exercises import _dense

    def sigmoid_everywhere(params, cache, y, activations):
        return _dense.buggy_backward(params, cache, y, ["sigmoid"] * len(params),
                                     "squared_error")

    def previous_layers(params, cache, y, activations):
        acts = [activations[0]] + list(activations[:-1])  # activations[l - 2] for layer l
        return _dense.buggy_backward(params, cache, y, acts, "squared_error")

    assert "every layer's slope is the sigmoid's" in message(ex_any.check_backward_any,
                                                             sigmoid_everywhere)
    assert "not the previous layer's" in message(ex_any.check_backward_any, previous_layers)


# ------------------------------------------------------------------ F10, F11, F17: Adam, signatures


def test_adam_with_the_arguments_in_exercise_34s_old_order():
    def adam_update(w, m, s, g, t, eta, beta1, beta2, eps):
        return ex_deep._adam(w, g, m, s, t, eta, beta1, beta2, eps)

    text = message(ex_deep.check_adam_update, adam_update)
    assert "takes its arguments in another order" in text
    assert "adam_update(w, g, m, s, t, eta, beta1, beta2, eps)" in text
    assert "your m receives g" in text and "NaN" not in text
    statement = json.loads((BOOK / "making-deep-networks-train.ipynb").read_text())
    md = next("".join(c["source"]) for c in statement["cells"] if c["id"] == "deep-ex-adam-md")
    assert "`w`, `g`, `m`, `s`, `t`" in md


@pytest.mark.parametrize(("bug", "says"), [
    ({"shift": -1}, "uses t - 1"),
    ({"shift": 1}, "uses t + 1"),
    ({"correct_s": False}, "only m is bias-corrected"),
    ({"hat_state": True}, "the new state holds the bias-corrected means"),
])
def test_adams_classic_mistakes(bug, says):
    assert says in message(ex_deep.check_adam_update,
                           lambda *args: ex_deep._adam(*args, **bug))


def test_a_wrong_signature_says_how_the_checker_calls():
    text = message(ex_111.check_backward_111, lambda cache, y: 0.0)
    assert "takes (cache, y); the checker calls it as backward_111(cache, w2, y)" in text

    def kw(w, g, m, s, t, *, eta=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        return w, m, s

    assert "by position" in message(ex_deep.check_adam_update, kw)


# ------------------------------------------------------------------ F9: the slope at a


@pytest.mark.parametrize(("check", "wrong"), [
    (ex_111.check_derive_dw1, "2*(a2 - y)*a2*(1 - a2)*w2*sigma(a1)*(1 - sigma(a1))*x"),
    (ex_222.check_derive_dw1_12, "((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11 + (a2_2 - y_2)*a2_2*"
     "(1 - a2_2)*W2_21)*sigma(a1_1)*(1 - sigma(a1_1))*x_2"),
    (ex_batch.check_derive_batch_bias, "((a_1 - y_1)*sigma(a_1)*(1 - sigma(a_1)) + "
     "(a_2 - y_2)*sigma(a_2)*(1 - sigma(a_2)))/2"),
    (ex_any.check_derive_hidden_delta, "(1 - tanh(t_1)**2)*(W_11*d_1 + W_21*d_2)"),
])
def test_the_slope_taken_at_the_activation_is_named_in_every_derivation(check, wrong):
    text = message(check, wrong)
    assert "taken at" in text and "activation" in text
    assert "not a form we recognise" not in text


# ------------------------------------------------------------------ F12, F19: autodiff plumbing


def div_node(engine, body: str, tail: str = "    out._backward = _backward\n    return out\n",
             head: str = "    out = Value(self.data / other.data, (self, other), '/')\n"):
    ns = {"Value": engine}
    exec("def div(self, other):\n" + head + "    def _backward():\n" + body + tail, ns)
    return ns["div"]


RIGHT_DIV = ("        self.grad += out.grad / other.data\n"
             "        other.grad += -self.data / other.data**2 * out.grad\n")


@pytest.mark.parametrize(("edit", "says"), [
    ({"body": "        self.grad += out.grad / other\n"
              "        other.grad += -self.data / other.data**2 * out.grad\n"},
     "an input's .grad is a Value, not a number"),
    ({"body": RIGHT_DIV, "tail": "    out._backward = _backward\n"},
     "returned None: is `return out` missing?"),
    ({"body": RIGHT_DIV, "tail": "    return out\n"}, "is `out._backward = _backward` set"),
    ({"body": RIGHT_DIV, "head": "    out = Value(self.data / other.data)\n"},
     "its _prev"),
    ({"body": RIGHT_DIV, "tail": "    out._backward = _backward\n    return out.data\n"},
     "returned a float, not a Value"),
])
def test_the_div_nodes_plumbing_is_named(edit, says):
    engine = chapter_engine()
    refuse(lambda d: ex_ad.check_div_node(d, engine=engine), div_node(engine, **edit), says)


def test_a_div_of_two_nodes_and_a_topo_that_calls_backward_are_refused():
    engine = chapter_engine()
    refuse(lambda d: ex_ad.check_div_node(d, engine=engine),
           lambda self, other: self * other**-1, "built from several nodes")
    refuse(lambda b: ex_ad.check_backward_topo(b, engine=engine),
           lambda root: root.backward(), "calls the chapter's backward()")
    assert engine.backward is not None  # put back after the check
    assert ex_ad.check_div_node(div_node(engine, RIGHT_DIV), engine=engine)


def test_the_tanh_node_returning_none_or_a_float():
    engine = chapter_engine()
    ns = {"Value": engine, "math": __import__("math")}
    exec("def tanh(self):\n    t = math.tanh(self.data)\n", ns)  # no return
    engine.tanh = ns["tanh"]
    refuse(lambda f: ex_ad.check_tanh_node(f, engine=engine), lambda x, w: [0.0, 0.0],
           "your tanh node returned None")


def test_check_div_node_without_engine_finds_value_or_says_how():
    engine = chapter_engine()
    div = div_node(engine, RIGHT_DIV)
    assert ex_ad.check_div_node(div)  # Value is found where div was written
    refuse(ex_ad.check_div_node, lambda self, other: self, "engine=Value")


# ------------------------------------------------------------------ F13, F15, F16: reading formulas


def test_lambda_and_unbalanced_parentheses():
    assert "this exercise calls the quantity lam" in message(ex_deep.check_derive_l2,
                                                              "g + lambda*w")
    text = message(ex_111.check_derive_dw2, "2*(a2-y*a2*(1-a2)*a1")
    assert "it opens 2 parentheses and closes 1" in text and "lambda" not in text


@pytest.mark.parametrize("number", [0.1, "0.1234", np.float64(0.3), 3])
def test_a_number_where_a_formula_belongs(number):
    text = message(ex_111.check_derive_dw2, number)
    assert "is a number; type the formula itself" in text
    assert "0.100000000000000" not in text


def test_the_formula_is_echoed_as_typed():
    typed = "-s_1*y_2 - s_1*y_3 - y_1*(1 - s_1)"
    text = message(ex_sm.check_derive_ce_logit, typed)
    assert typed in text and "1 - y_1 - y_2" not in text and "-y_1 - y_2 + 1" not in text


# ------------------------------------------------------------------ F18: wording


def test_wording():
    assert "you gave an int" in message(ex_any.check_found_bug, 3)
    right = str(ex_111.check_backward_111(right_111))
    assert "all 4 numbers" in right and "arrays" not in right

    def minus(self, other):
        out = self.__class__(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad -= out.grad / other.data
            other.grad -= -self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    engine = chapter_engine()
    assert "a - y" not in message(lambda d: ex_ad.check_div_node(d, engine=engine), minus)


def test_a_transposed_state_is_not_told_about_neurons():
    def transposed(*args):
        w, m, s = ex_deep._adam(*args)
        return w.T, m, s

    text = message(ex_deep.check_adam_update, transposed)
    if "looks transposed" in text:  # square states are judged by their numbers
        assert "'to' neurons" not in text


# ------------------------------------------------------------------ F23: the hint


def test_the_hint_of_the_111_derivations_leaves_the_factors_to_derive():
    nb = json.loads((BOOK / "one-neuron-chain.ipynb").read_text())
    hint = next("".join(c["source"]) for c in nb["cells"] if c["id"] == "ex111-derive-hint")
    assert "2(a_2 - y)" not in hint and "first $w_2$, then $x$" not in hint


# ------------------------------------------------------------------ the engine's pieces


def test_check_code_reads_a_dict_by_key_only_when_its_keys_are_the_names():
    cases = [{"x": np.array([1.0, 2.0])}]

    def reference(x):
        return x, 2 * x

    verdict = codecheck.check_code(lambda x: {"b": 2 * x, "a": x}, reference, what="your f",
                                   cases=cases, names=["a", "b"], returns="(a, b)")
    assert verdict
