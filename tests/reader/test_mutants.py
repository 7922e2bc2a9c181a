"""Mutation tests: every planted bug is caught, and the machinery itself can report a survivor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_book import mutants as M
from backprop_book import reference as ref
from bookkit.paths import ROOT


@pytest.fixture(scope="module")
def outcomes():
    return M.run_all(ROOT)


def test_every_mutant_is_caught(outcomes):
    assert M.survivors(outcomes) == [], "mutants no check caught"
    assert len(outcomes) == (len(M.REFERENCE_MUTANTS) + len(M.ATTENTION_MUTANTS)
                             + len(M.NOTEBOOK_MUTANTS))


def test_value_bugs_are_caught_by_the_values_not_by_luck(outcomes):
    by_name = {o.mutant: o for o in outcomes}
    for name in ("sign-flip", "transpose-dropped", "matmul-for-hadamard", "missing-1/m",
                 "softmax-diagonal", "overwrite-not-accumulate", "relu-kink", "slope-at-a"):
        assert by_name[name].caught_by.startswith("gradient check"), name
        assert by_name[name].relative_error > 1e-3, name
    assert "opposite sign" in by_name["sign-flip"].diagnosis
    assert "1/m of the mean is missing" in by_name["missing-1/m"].diagnosis
    for name in ("bias-not-summed", "bias-1d"):
        assert by_name[name].caught_by.startswith("shape error"), name


def test_the_attention_packages_bugs_are_caught_by_its_checks(outcomes):
    by_name = {o.mutant: o for o in outcomes}
    assert {m.name for m in M.ATTENTION_MUTANTS} == {
        "attn-softmax-columns", "attn-no-scale", "attn-mask-after", "attn-embed-overwrite",
        "attn-k-transpose"}
    for m in M.ATTENTION_MUTANTS:
        o = by_name[m.name]
        assert o.where.startswith("attention._"), o.where
        assert o.caught and o.relative_error > 1e-3, m.name
    assert by_name["attn-mask-after"].caught_by.startswith("causal check")
    assert by_name["attn-embed-overwrite"].caught_by.startswith("embedding gradient")
    for name in ("attn-softmax-columns", "attn-no-scale", "attn-k-transpose"):
        assert by_name[name].caught_by.startswith("attention gradients"), name
    # with d = 4, a forgotten 1/sqrt(d) doubles dQ and dK: relative error (2 - 1)/(2 + 1)
    assert abs(by_name["attn-no-scale"].relative_error - 1 / 3) < 1e-6


@pytest.mark.parametrize("mutant", M.ATTENTION_MUTANTS, ids=lambda m: m.name)
def test_the_whole_language_model_check_catches_each_attention_bug_too(mutant):
    with M.planted(mutant):
        error, _ = M.language_model_check()
    assert error > 1e-3, mutant.name
    assert M.language_model_check()[0] < M.ATTENTION_TOLERANCE  # and restored after


def test_the_attention_checks_pass_unmutated_and_a_harmless_patch_survives():
    for label, check, kind in M.ATTENTION_CHECKS:
        error, _ = check()
        assert error <= (0.0 if kind == "max difference" else M.ATTENTION_TOLERANCE), label
    same = M.Mutant("harmless", "no bug", "control",
                    {"_attention_backward": M.att._attention_backward}, module="attention")
    assert not M.run_attention_mutant(same).caught


def test_an_attention_patch_of_a_missing_kernel_is_an_error():
    ghost = M.Mutant("ghost", "x", "x", {"_no_such_kernel": lambda: None}, module="attention")
    with pytest.raises(ValueError, match="not functions of the attention"):
        M.run_attention_mutant(ghost)


def test_a_harmless_patch_survives_and_is_named():
    same = M.Mutant("harmless", "no bug at all", "control", {"_output_delta": ref._output_delta})
    outcome = M.run_reference_mutant(same)
    assert not outcome.caught and M.survivors([outcome]) == ["harmless (no bug at all)"]


def test_the_reference_is_restored_after_a_mutant():
    before = ref._output_delta
    M.run_reference_mutant(M.REFERENCE_MUTANTS[0])
    assert ref._output_delta is before
    _, X, Y, acts, cost = M.probe_networks()[0][1:]
    assert M.check_gradients(M.probe_networks()[0][1], X, Y, acts, cost).ok


def test_a_notebook_substitution_that_changes_nothing_survives():
    harmless = M.Mutant("nb-harmless", "a comment", "control", notebook="book/one-neuron-chain.ipynb",
                        old="# backward: start at the cost", new="# backward, from the cost")
    assert not M.run_notebook_mutant(harmless, ROOT).caught


def test_a_substitution_that_misses_the_cell_is_an_error():
    ghost = M.Mutant("ghost", "x", "x", notebook="book/one-neuron-chain.ipynb",
                     old="this text is not in the cell", new="")
    with pytest.raises(ValueError, match="is not in"):
        M.run_notebook_mutant(ghost, ROOT)


def test_the_hook_needs_one_target_and_a_check():
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["mutants:check"]}, "source": "1"}]}
    with pytest.raises(ValueError, match="exactly one cell tagged"):
        M.hooked_cells(nb)


def test_report_and_table(outcomes, tmp_path):
    path = tmp_path / "report.json"
    M.write_report(outcomes, path)
    rows = json.loads(path.read_text())
    assert {r["mutant"] for r in rows} == {o.mutant for o in outcomes}
    table = M.table(outcomes)
    assert table.count("\n") == len(outcomes) + 1 and "SURVIVED" not in table
    assert np.isfinite([r["relative_error"] for r in rows if r["relative_error"]]).all()


def test_the_hooked_cells_display_nothing_in_the_kernel_that_runs_them():
    # The page "What our checks catch" runs the hooks inside its own kernel; a setup cell's
    # display(...) must not become an output of that page (it once leaked SymPy displays).
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    cells = [
        "from IPython.display import Math, display\ndisplay(Math('x^2'))\nprint('quiet')",
        "assert False, 'the check fails'",
    ]
    with capture_output() as page:
        failure, first = M.run_cells(cells, ROOT)
    assert page.outputs == [] and page.stdout == ""
    assert failure.startswith("AssertionError: the check fails") and first.startswith("assert")

