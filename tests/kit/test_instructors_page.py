"""The page *For instructors*: every command it shows exists, as written.

The round itself (generate, release, collect, autograde, feedback, export) runs in
tests/class/test_grading.py and, on a hub, in tests/class/test_hub.py (collect typed into a
Lab terminal, the rest clicked in the formgrader and the students' Assignment List).
"""

from __future__ import annotations

import re
import shlex

from bookkit.__main__ import VERBS
from bookkit.paths import BOOK, ROOT

PAGE = (BOOK / "for-instructors.md").read_text()


def commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", PAGE, re.S)
    lines = [ln.split("#")[0].strip() for b in blocks for ln in b.splitlines()]
    return [shlex.split(ln) for ln in lines if ln]


def test_every_nbgrader_command_on_the_page_is_one_nbgrader_has():
    from nbgrader.apps.dbapp import DbApp, DbAssignmentApp, DbStudentApp
    from nbgrader.apps.nbgraderapp import NbGraderApp

    seen = [c for c in commands() if c[0] in ("nbgrader", ".venv/bin/nbgrader")]
    assert {c[1] for c in seen} >= {"generate_assignment", "release_assignment", "collect",
                                     "autograde", "generate_feedback", "release_feedback",
                                     "export"}, seen
    for c in seen:
        assert c[1] in NbGraderApp.subcommands, c
        if c[1] == "db":
            assert c[2] in DbApp.subcommands, c
            sub = {"student": DbStudentApp, "assignment": DbAssignmentApp}[c[2]]
            assert c[3] in sub.subcommands, c


def test_every_bookkit_verb_on_the_page_exists_and_make_targets_too():
    makefile = (ROOT / "Makefile").read_text()
    for c in commands():
        if c[:3] in (["python", "-m", "bookkit"], [".venv/bin/python", "-m", "bookkit"]):
            assert c[3] in VERBS, c
        if c[0] == "make":
            assert re.search(rf"^{c[1]}:", makefile, re.M), c


def test_the_page_says_how_to_reach_nbgrader_and_names_the_late_plugin_truly():
    from nbgrader.plugins import LateSubmissionPlugin

    assert "source .venv/bin/activate" in PAGE and ".venv/bin/nbgrader" in PAGE
    assert "zero" in LateSubmissionPlugin.class_traits()["penalty_method"].values
    assert "LateSubmissionPlugin" in PAGE and "--force" in PAGE
    assert "backprop-book-handouts.zip" not in PAGE and "scripts/" not in PAGE


def test_the_generic_messages_are_the_ones_the_page_describes():
    """The page says what a sign flip and a factor of 2 get where no (a - y) and no
    cost's 1/2 are in sight: the learning-rate limit."""
    import pytest

    from backprop_book.checkers import NotQuiteRight
    from backprop_book.exercises import deep_training as ex

    text = " ".join(PAGE.split())
    assert "it asks to check the sign of each factor and the order of each difference" in text
    assert "a factor of 2 has another cause and the message still asks" in text
    lam = ex.lr_limit_numbers()["lambda_max"]
    with pytest.raises(NotQuiteRight) as flipped:
        ex.check_lr_limit(-2 / lam)
    assert "check the sign of each factor" in str(flipped.value)
    assert "(a - y)" not in str(flipped.value)
    with pytest.raises(NotQuiteRight) as doubled:
        ex.check_lr_limit(4 / lam)
    assert "factor 2 from a cost" in str(doubled.value)
