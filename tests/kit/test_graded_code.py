"""A code exercise under the trust model, without nbgrader: the record the student's kernel
publishes, and the grader's verdict decided from it in another state (another id, another
mode, checkers untouched). The whole road through nbgrader is tests/class/test_grading.py
(``test_a_code_exercise_is_graded_per_array_by_the_graders_own_run``)."""

from __future__ import annotations

import json
import linecache

import numpy as np
import pytest
from chapter_engine import autodiff_notebook, engine_namespace

import backprop_book as bb
from backprop_book import checkers, grading
from backprop_book.classroom import STUDENT_ENV
from bookkit.nbgrader_hooks import FROM_RECORD, graded_call, judge
from bookkit.paths import BOOK

PATH = "two_two_two.check_backward_222"


def solution(old: str = "", new: str = ""):
    """The chapter's backward_222, as its solution cell writes it (with one edit)."""
    nb = json.loads((BOOK / "two-two-two.ipynb").read_text())
    text = "".join(next(c for c in nb["cells"] if c["id"] == "ex222-backward-sol")["source"])
    assert old in text
    text = text.replace(old, new)
    name = f"<ex222:{abs(hash(text))}>"
    linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
    ns = {"np": np, "bb": bb}
    exec(compile(text, name, "exec"), ns)
    return ns["backward_222"]


def kernel_record(monkeypatch, student, answer, mode="autograde", **keywords) -> dict:
    """What ``graded(PATH, answer, ...)`` publishes in a kernel run with this environment."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.extend(a))
    monkeypatch.setenv(STUDENT_ENV, student)
    if mode:
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    try:
        grading.graded(PATH, answer, **keywords)
    except checkers.NotQuiteRight:
        pass
    finally:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
        checkers.set_student(None)
    records = [o[grading.RECORD_MIME] for o in shown
               if isinstance(o, dict) and grading.RECORD_MIME in o]
    assert len(records) == 1
    return json.loads(json.dumps(records[0]))  # as it travels in the notebook


def grade(record: dict, student: str, cell: str) -> list[dict]:
    path, keywords = graded_call(cell)
    return judge(path, record["answers"], student, keywords, record.get("keywords"))


def said(outputs: list[dict]) -> str:
    return " ".join(o.get("evalue", "") + o.get("data", {}).get("text/plain", "")
                    for o in outputs)


def test_the_graders_verdict_per_array_comes_from_the_graders_own_inputs(monkeypatch):
    right = kernel_record(monkeypatch, "ada", solution(), part="dW1")
    calls = right["answers"][0]["calls"]
    assert len(calls) == 3 and all("returned" in c for c in calls)  # check_code's 3 inputs
    for part in ("dW1", "db1", "dW2", "db2"):
        out = grade(right, "ada", f'graded("{PATH}", backward_222, part="{part}")')
        assert out[0]["output_type"] == "display_data", out
        assert f"{part} of your backward_222 is correct" in said(out)
    # no transpose: the hidden layer's arrays are wrong, the output layer's right
    bug = kernel_record(monkeypatch, "ada", solution("W2.T @ delta2", "W2 @ delta2"))
    verdicts = {p: grade(bug, "ada", f'graded("{PATH}", backward_222, part="{p}")')
                for p in ("dW1", "db1", "dW2", "db2")}
    assert [v[0]["output_type"] for v in verdicts.values()] == [
        "error", "error", "display_data", "display_data"], verdicts
    assert "the transpose is missing" in said(verdicts["dW1"])


def test_a_record_made_on_other_inputs_earns_nothing(monkeypatch):
    cell = f'graded("{PATH}", backward_222, part="dW2")'
    # while working (the "hidden" inputs), or as another student: not the grader's inputs
    for student, mode in (("ada", None), ("bea", "autograde")):
        record = kernel_record(monkeypatch, student, solution(), mode=mode)
        out = grade(record, "ada", cell)
        assert out[0]["output_type"] == "error", (student, mode, out)
        assert "not called with the grader's inputs" in said(out)


def test_a_kernel_whose_checker_says_right_does_not_decide(monkeypatch):
    """The kernel's NumPy patched so every comparison is equal: the kernel says right, the
    record still holds what the function returned, and the grader decides."""
    bug = solution("W2.T @ delta2", "W2 @ delta2")
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    record = kernel_record(monkeypatch, "ada", bug, part="dW1")
    monkeypatch.undo()
    out = grade(record, "ada", f'graded("{PATH}", backward_222, part="dW1")')
    assert out[0]["output_type"] == "error" and "transpose" in said(out), out


def test_the_part_is_the_cells_own_not_the_records(monkeypatch):
    bug = kernel_record(monkeypatch, "ada", solution("W2.T @ delta2", "W2 @ delta2"))
    bug["keywords"] = {"part": grading.encode("dW2")}  # a record edited to ask for dW2
    out = grade(bug, "ada", f'graded("{PATH}", backward_222, part="dW1")')
    assert out[0]["output_type"] == "error", out
    assert graded_call('graded("a.check_b", f, engine=Value)')[1] == {"engine": FROM_RECORD}


def test_an_input_changed_in_place_is_named_by_the_grader_too(monkeypatch):




    def backward_222(params, cache, y):
        right = solution()(params, cache, y)
        cache.as_[0][...] = 0.0  # the forward pass's cache, overwritten
        return right

    record = kernel_record(monkeypatch, "ada", backward_222)
    out = grade(record, "ada", f'graded("{PATH}", backward_222, part="dW1")')
    assert out[0]["output_type"] == "error" and "in place" in said(out), out


@pytest.mark.parametrize("formula", ["x_2*a1_1*(1 - a1_1)*((a2_1 - y_1)*a2_1*(1 - a2_1)*W2_11"
                                     " + (a2_2 - y_2)*a2_2*(1 - a2_2)*W2_21)", "sympy"])
def test_a_derivation_round_trips_through_the_record_and_is_checked_again(monkeypatch,
                                                                          formula):
    from backprop_book.exercises import two_two_two as e

    s = e.derive_symbols()
    if formula == "sympy":
        d2 = [(s[f"a2_{j}"] - s[f"y_{j}"]) * s[f"a2_{j}"] * (1 - s[f"a2_{j}"]) for j in (1, 2)]
        formula = (d2[0] * s["W2_11"] + d2[1] * s["W2_21"]) * s["a1_1"] * (1 - s["a1_1"]) * s["x_2"]
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.extend(a))
    grading.graded("two_two_two.check_derive_dw1_12", formula)
    record = json.loads(json.dumps(next(o for o in shown if grading.RECORD_MIME in o)
                                   [grading.RECORD_MIME]))
    assert grading.decode(record["answers"][0]) == formula
    out = judge("two_two_two.check_derive_dw1_12", record["answers"], "ada")
    assert out[0]["output_type"] == "display_data", out
    record["answers"][0] = grading.encode(formula * 2)
    assert judge("two_two_two.check_derive_dw1_12", record["answers"], "ada")[0][
        "output_type"] == "error"


def test_a_forged_sympy_record_runs_no_code_in_the_grader():
    for forged in ["__import__('os').system('true')", "Symbol('x').__class__",
                   "Poly('__import__(\"os\")')", "eval('1')", "Symbol('x')[0]"]:
        with pytest.raises(ValueError):
            grading.from_srepr(forged)
        out = judge("one_neuron_chain.check_tanh_derivative", [{"t": "sympy", "v": forged}],
                    "ada")
        assert out[0]["output_type"] == "error", forged
    with pytest.raises(checkers.NotQuiteRight, match="no __"):
        from backprop_book.exercises import two_two_two as e

        e.check_derive_dw1_12("().__class__")


def _engine_and_div(old: str = "", new: str = ""):
    """The autodiff chapter's Value class and its div solution (with one edit)."""
    nb = autodiff_notebook()
    ns = engine_namespace(nb)
    text = "".join(next(c for c in nb["cells"] if c["id"] == "ex-ad-div-sol")["source"])
    assert old in text
    exec(text.replace(old, new), ns)
    return ns["Value"], ns["div"]


def test_an_engine_node_is_graded_from_numbers_without_the_students_class(monkeypatch):
    """``graded("autodiff.check_div_node", div, engine=Value)``: the grader has no Value;
    the record holds the numbers check_code saw, and the classic bug's name from the kernel."""
    cell = 'graded("autodiff.check_div_node", div, engine=Value)'
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.extend(a))
    monkeypatch.setenv(STUDENT_ENV, "ada")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    outs = []
    for edit in [("", ""), ("self.grad +=", "self.grad =")]:
        engine, div = _engine_and_div(*edit)
        shown.clear()
        try:
            grading.graded("autodiff.check_div_node", div, engine=engine)
        except checkers.NotQuiteRight:
            pass
        record = json.loads(json.dumps(next(o for o in shown if isinstance(o, dict)
                                            and grading.RECORD_MIME in o)[grading.RECORD_MIME]))
        outs.append(grade(record, "ada", cell))
    monkeypatch.delenv("NBGRADER_EXECUTION")
    checkers.set_student(None)
    assert outs[0][0]["output_type"] == "display_data", outs[0]
    assert outs[1][0]["output_type"] == "error" and "instead of adding" in said(outs[1]), outs[1]
