"""The course builder's parts, without running nbgrader (that is tests/test_course.py)."""

from __future__ import annotations

import json
import os

import pytest

from backprop_book import checkers
from backprop_book.classroom import STUDENT_ENV, IdentityError, class_student, use_class_identity
from bookkit.course import assignment, names_used, needed_cells
from bookkit.handouts import HandoutError
from bookkit.paths import ROOT


def code(text, cell_id="c"):
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "source": text,
            "outputs": [], "execution_count": None}


def md(text, cell_id="m"):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def test_free_names_leave_out_what_a_cell_binds_and_function_locals():
    used = names_used("def f(x, w):\n    return np.tanh(x * w) + k\n\ny = f(1, 2)\nprint(y)")
    assert {"np", "k", "print"} <= used
    assert not {"x", "w", "y", "f"} & used


def test_needed_cells_follow_names_back_and_keep_later_patches():
    cells = [
        code("import numpy as np", "imp"),
        code("plt.plot(np.arange(3))", "demo"),
        code("class Value:\n    pass", "cls"),
        code("big = np.ones(10**6).sum()", "heavy"),
        code("Value.tanh = lambda self: np.tanh(self)", "patch"),
    ]
    chosen = [cells[i]["id"] for i in needed_cells(cells, {"Value"})]
    assert chosen == ["imp", "cls", "patch"], "the demonstration and the heavy cell stay out"


def test_an_answer_without_a_placeholder_is_refused():
    nb = {"cells": [
        md("# Title"), code("import numpy as np"), md("## Exercises\n"),
        md("```{exercise} E\n:label: ex-e\n\nDo it.\n```"),
        md("```{solution-start} ex-e\n```"),
        code("### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\n", "sol")
        | {"metadata": {"nbgrader": {"grade_id": "ex-e"}}},
        md("```{solution-end}\n```"), code("ex.check_e(answer)", "chk"), md("## Summary")]}
    with pytest.raises(HandoutError, match="placeholder"):
        assignment(nb, "toy")


def test_the_chapter_assignments_are_lean_and_release_no_written_solution():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        if "{solution-start}" not in path.read_text():
            continue
        source = json.loads(path.read_text())
        nb, grade_ids = assignment(source, path.name)
        assert grade_ids and len(nb["cells"]) < len(source["cells"]) / 2, path.name
        text = "\n".join("".join(c["source"]) for c in nb["cells"])
        assert "{solution-start}" not in text and "{solution-end}" not in text
        for cell in source["cells"]:  # no Markdown of a solution gate
            if cell["cell_type"] == "markdown" and "{solution-start}" in "".join(cell["source"]):
                assert cell["id"] not in {c["id"] for c in nb["cells"]}
        assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"]), "cell ids are unique"


def test_class_identity_is_the_graders_student_then_the_hub_login(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert class_student() is None
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    assert class_student() == "ada"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.delenv(STUDENT_ENV, raising=False)
    with pytest.raises(IdentityError, match="nbgrader_config"):
        class_student()
    monkeypatch.setenv(STUDENT_ENV, "bea")
    assert use_class_identity() == "bea" and checkers.student() == "bea"
    checkers.set_student(None)


def test_not_done_is_friendly_while_working_and_fails_while_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not checkers.check_array(None, 1.0, what="x")
    for mode in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        with pytest.raises(checkers.NotDoneYet, match="replace the placeholder"):
            checkers.check_array(None, 1.0, what="x")


def test_the_autograde_hook_hands_the_student_id_to_the_kernel(monkeypatch):
    from backprop_book.classroom import STUDENT_ENV
    from bookkit.nbgrader_hooks import StudentIdentity, autograde_preprocessors

    steps = autograde_preprocessors()
    assert steps[0] is StudentIdentity and len(steps) > 3, steps
    monkeypatch.setenv(STUDENT_ENV, "nobody")  # so the variable is put back afterwards
    StudentIdentity().preprocess({}, {"nbgrader": {"student": "ada"}})
    assert os.environ[STUDENT_ENV] == "ada"


def test_an_assignment_keeps_only_the_imports_it_uses():
    from bookkit.course import without_unused_imports

    code = ("import matplotlib.pyplot as plt\nimport numpy as np\nimport sympy as sp\n"
            "from math import pi, tau\n\n# every random number comes from here\n"
            "rng = np.random.default_rng(1)\n")
    kept = without_unused_imports(code, needed={"sp", "tau"})
    assert kept == ("import numpy as np\nimport sympy as sp\nfrom math import pi, tau\n\n"
                    "# every random number comes from here\nrng = np.random.default_rng(1)\n")
    assert without_unused_imports(code, needed=set()).startswith("import numpy as np\n\n#")
    magic = "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
    assert without_unused_imports(magic, needed=set()) == magic  # IPython syntax: untouched


def test_no_assignment_imports_matplotlib_it_never_draws_with():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        if "{exercise}" not in path.read_text():
            continue
        lean, _ = assignment(nb, path.stem)
        code = "\n".join("".join(c["source"]) for c in lean["cells"] if c["cell_type"] == "code")
        if "plt." not in code:
            assert "matplotlib" not in code, f"{path.stem}: the assignment imports matplotlib"
