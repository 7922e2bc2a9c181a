"""The checker engine: right answers pass, classic mistakes get their diagnosis, bad input a message."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from backprop_book import checkers
from backprop_book.checkers import (
    NotQuiteRight,
    Verdict,
    check_array,
    check_expr,
    check_function,
    given,
    set_student,
)

RIGHT = np.array([[0.31, -1.2, 0.05], [2.4, 0.77, -0.6]])


@pytest.fixture(autouse=True)
def no_student():
    set_student(None)
    yield
    set_student(None)


def wrong(answer, expected=RIGHT, **kw) -> str:
    with pytest.raises(NotQuiteRight) as info:
        check_array(answer, expected, what="dC/dW", **kw)
    return str(info.value)


def test_right_answer_is_a_true_verdict():
    verdict = check_array(RIGHT.copy(), RIGHT, what="dC/dW")
    assert isinstance(verdict, Verdict) and verdict.ok
    assert "Right" in str(verdict) and "Right" in verdict._repr_html_()


def test_lists_and_sympy_numbers_are_accepted():
    assert check_array(RIGHT.tolist(), RIGHT, what="g")
    assert check_array(sp.Rational(1, 3), 1 / 3, what="g")
    assert check_array(sp.Matrix(RIGHT), RIGHT, what="g")


@pytest.mark.parametrize("placeholder", [None, ...])
def test_placeholder_is_not_done_and_does_not_raise(placeholder):
    verdict = check_array(placeholder, RIGHT, what="dC/dW")
    assert not verdict.ok and "Not done yet" in str(verdict)


def test_sign_flip_is_diagnosed():
    assert "opposite sign" in wrong(-RIGHT)


def test_missing_and_doubled_one_over_m():
    assert "1/m of the mean is missing" in wrong(4 * RIGHT, m=4)
    assert "applied twice" in wrong(RIGHT / 4, m=4)


def test_transposed_shape_and_square_transpose():
    assert "transposed" in wrong(RIGHT.T)
    square = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert "transpose" in wrong(square.T, square)


def test_bias_not_summed_over_batch():
    db = np.array([[0.2], [-0.4]])
    per_sample = np.hstack([db / 3, db / 3, db / 3])
    assert "summed over the batch" in wrong(per_sample, db, m=3)
    # without the batch size: one column per sample is still the likeliest reading
    assert "summed over the batch" in wrong(per_sample, db)
    # a square array is not read as samples when the exercise has no batch
    assert "batch" not in wrong(np.ones((2, 2)), db)


def test_one_d_where_column_expected():
    assert "reshape(-1, 1)" in wrong(np.array([0.2, -0.4]), np.array([[0.2], [-0.4]]))


def test_custom_mistake_wins_over_generic():
    message = wrong(RIGHT * 0.25, mistakes={"slope at a, not z": RIGHT * 0.25})
    assert message.endswith("slope at a, not z")


def test_a_mistake_equal_to_the_right_answer_is_never_reported():
    assert check_array(RIGHT, RIGHT, what="g", mistakes={"never": RIGHT})


@pytest.mark.parametrize(
    "bad, says",
    [
        ("0.5", "you gave a str"),
        (True, "you gave a bool"),
        ({"a": 1}, "you gave a dict"),
        (np.array([np.nan, 1.0]), "NaN or infinity"),
        (float("inf"), "NaN or infinity"),
        (sp.Symbol("w") + 1, "still contains w"),
        (object(), "could not read"),
    ],
)
def test_bad_input_gets_a_message(bad, says):
    assert says in wrong(bad, np.array([0.5, 1.0]) if isinstance(bad, np.ndarray) else 0.5)


def test_unrecognised_wrong_answer_points_at_entries():
    off = RIGHT.copy()
    off[1, 2] += 1
    message = wrong(off)
    assert "1 of 6 entries are off" in message and "(1, 2)" in message


def test_wrong_answer_renders_without_traceback():
    err = NotQuiteRight("dC/dw is off")
    lines = err._render_traceback_()
    assert len(lines) == 1 and "dC/dw is off" in lines[0]


# ------------------------------------------------------------------ SymPy

z = sp.Symbol("z", real=True)
sig = 1 / (1 + sp.exp(-z))


def test_expr_equal_after_simplification():
    assert check_expr(sig * (1 - sig), sp.diff(sig, z), what="σ'")
    assert check_expr(sp.sech(z) ** 2, 1 - sp.tanh(z) ** 2, what="tanh'")


def test_expr_wrong_sign_and_mistake():
    with pytest.raises(NotQuiteRight, match="opposite sign"):
        check_expr(-sig * (1 - sig), sp.diff(sig, z), what="σ'")
    with pytest.raises(NotQuiteRight, match="diagonal"):
        check_expr(sig, sp.diff(sig, z), what="σ'", mistakes={"only the diagonal": sig})


def test_expr_bad_inputs():
    with pytest.raises(NotQuiteRight, match="not a string"):
        check_expr("1 - tanh(z)**2", 1 - sp.tanh(z) ** 2, what="tanh'")
    with pytest.raises(NotQuiteRight, match="also contains w"):
        check_expr(sp.Symbol("w") * z, z, what="e")
    assert not check_expr(None, z, what="e")


# ------------------------------------------------------------------ functions


def test_function_right_wrong_and_unfinished():
    inputs = [(0.3,), (-1.2,), (np.array([0.5, 2.0]),)]
    assert check_function(lambda t: 1 - np.tanh(t) ** 2, lambda t: 1 / np.cosh(t) ** 2,
                          what="tanh'", inputs=inputs)
    with pytest.raises(NotQuiteRight, match="returned"):
        check_function(np.tanh, lambda t: 1 / np.cosh(t) ** 2, what="tanh'", inputs=inputs)

    def unfinished(t):
        raise NotImplementedError("Exercise: write this part")

    assert not check_function(unfinished, np.tanh, what="tanh'", inputs=inputs)


def test_function_that_crashes_is_reported_in_one_line():
    with pytest.raises(NotQuiteRight, match=r"raised ZeroDivisionError"):
        check_function(lambda t: 1 / 0, np.tanh, what="f", inputs=[(0.5,)])
    with pytest.raises(NotQuiteRight, match="should be a function"):
        check_function(3.0, np.tanh, what="f", inputs=[(0.5,)])


def test_function_mistake_is_diagnosed():
    with pytest.raises(NotQuiteRight, match="square is missing"):
        check_function(lambda t: 1 - np.tanh(t), lambda t: 1 - np.tanh(t) ** 2, what="f",
                       inputs=[(0.4,), (1.1,)],
                       mistakes={"the square is missing": lambda t: 1 - np.tanh(t)})


# ------------------------------------------------------------------ numbers per student


def draw(rng):
    return {"x": float(rng.uniform())}


def test_given_defaults_without_student_and_draws_with_one():
    assert given("ex-a", {"x": 0.5}, draw) == {"x": 0.5}
    set_student("ada")
    first = given("ex-a", {"x": 0.5}, draw)
    assert first != {"x": 0.5} and given("ex-a", {"x": 0.5}, draw) == first
    assert given("ex-b", {"x": 0.5}, draw) != first, "each exercise its own numbers"
    set_student("grace")
    assert given("ex-a", {"x": 0.5}, draw) != first, "each student their own numbers"
    set_student("")
    assert checkers.student() is None


def test_student_id_must_be_text_or_number():
    with pytest.raises(TypeError, match="string or an integer"):
        set_student(["ada"])


def test_as_numbers_reads_numbers_and_says_the_callers_words_otherwise():
    from backprop_book.checkers import NotQuiteRight, as_numbers

    assert as_numbers([[1, 2]], "", "").tolist() == [[1.0, 2.0]]
    with pytest.raises(NotQuiteRight, match=r"^dC/dW_\{1\} is a str, a str\.$"):
        as_numbers("abc", "dC/dW_{1} is {kind}, a {type}.", "")
    with pytest.raises(NotQuiteRight, match="^has a NaN$"):
        as_numbers([1.0, float("nan")], "", "has a NaN")
    assert as_numbers([], "", "never").size == 0  # an empty array has nothing infinite in it
