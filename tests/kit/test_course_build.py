"""The course builder's parts, without running nbgrader (that is tests/test_course.py)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from nbgrader_once import ask_once

from backprop_book import checkers
from backprop_book.classroom import STUDENT_ENV, IdentityError, class_student, use_class_identity
from bookkit.course import assignment, names_used, needed_cells
from bookkit.handouts import HandoutError
from bookkit.paths import ROOT

ask_once()  # (the hub's gradebooks: alembic asked once, nbgrader_once.py)


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


def test_an_assignment_drops_setup_that_only_serves_the_chapter():
    """A function nothing calls, a call that only configures a module nothing else uses, and
    an optional import nothing uses go; then so does the module's import (torch costs a
    grading kernel more than a second of CPU, per student)."""
    from bookkit.course import without_unneeded_statements, without_unused_imports

    code = ("import numpy as np\nimport torch\n\ntorch.set_num_threads(1)\ntry:\n"
            "    import sklearn\nexcept ImportError:\n    sklearn = None\n    print('no')\n\n\n"
            "def helper(a):\n    return a + 1\n\n\ndef show(a):\n    return torch.tensor(a)\n\n\n"
            "def used(a):\n    return helper(a)\n")
    lean = without_unused_imports(without_unneeded_statements(code, {"used"}), {"used"})
    assert lean == ("def helper(a):\n    return a + 1\n\n"
                    "def used(a):\n    return helper(a)\n"), lean
    kept = without_unneeded_statements(code, {"used", "torch", "sklearn"})
    assert "torch.set_num_threads(1)" in kept and "import sklearn" in kept
    # (a function that a statement above reads stays, and so does what it reads)
    above = "import torch\ndef f():\n    return g(torch)\ntorch.set_num_threads(1)\ndef g():\n    return 1\n"
    assert without_unneeded_statements(above, {"f"}) == above


def test_no_assignment_imports_matplotlib_or_torch_it_never_uses():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        if "{exercise}" not in path.read_text():
            continue
        lean, _ = assignment(nb, path.stem)
        code = "\n".join("".join(c["source"]) for c in lean["cells"] if c["cell_type"] == "code")
        if "plt." not in code:
            assert "matplotlib" not in code, f"{path.stem}: the assignment imports matplotlib"
        if "torch." not in code:
            assert "torch" not in code, f"{path.stem}: the assignment imports torch"


# ------------------------------------------------------------------ the teacher's course folder


def test_the_course_folder_is_outside_the_build_and_ignored_by_git():
    from bookkit.course import OUT
    from bookkit.paths import BUILD

    assert BUILD not in OUT.parents and OUT == ROOT / "course"
    assert "/course/" in (ROOT / ".gitignore").read_text().split()
    clean = [ln for ln in (ROOT / "Makefile").read_text().splitlines() if "rm -rf" in ln]
    assert clean and all("course" not in ln for ln in clean), clean


def test_rebuilding_never_overwrites_what_the_teacher_edited(tmp_path):
    from bookkit.course_folder import MANIFEST, update

    first = {"a.txt": b"one\n", "b.txt": b"two\n", "c.txt": b"three\n", "s/n.ipynb": b"{}"}
    update(tmp_path, first)
    (tmp_path / "a.txt").write_text("one, as the teacher put it\n")  # edited
    (tmp_path / "c.txt").unlink()  # deleted: an assignment the teacher dropped
    (tmp_path / "notes.md").write_text("mine")  # the teacher's own file
    (tmp_path / "gradebook.db").write_bytes(b"grades")
    report = update(tmp_path, {"a.txt": b"uno\n", "b.txt": b"dos\n", "c.txt": b"tres\n",
                               "s/n.ipynb": b"{}"})
    assert (tmp_path / "a.txt").read_text() == "one, as the teacher put it\n"
    assert (tmp_path / "updates" / "a.txt").read_text() == "uno\n"
    assert (tmp_path / "b.txt").read_text() == "dos\n", "untouched files take the new version"
    assert not (tmp_path / "c.txt").exists() and report.deleted == ["c.txt"]
    assert (tmp_path / "notes.md").read_text() == "mine"
    assert (tmp_path / "gradebook.db").read_bytes() == b"grades"
    assert "a.txt" in report.kept and "1 lines of yours differ" in report.kept["a.txt"]
    assert any("kept your version of a.txt" in line for line in report.lines())
    # and again: still the teacher's, still said
    assert "a.txt" in update(tmp_path, {"a.txt": b"uno\n"}).kept
    assert (tmp_path / MANIFEST).exists()


def test_make_course_twice_keeps_an_edited_assignment_and_says_what_differs(tmp_path, capsys):
    from bookkit.course import write_course

    write_course(tmp_path)
    nb_path = tmp_path / "source" / "01-one-neuron-chain" / "01-one-neuron-chain.ipynb"
    nb = json.loads(nb_path.read_text())
    test = next(c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade"))
    test["metadata"]["nbgrader"]["points"] = 3  # the teacher weights an exercise
    nb_path.write_text(json.dumps(nb))
    config = tmp_path / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    capsys.readouterr()
    write_course(tmp_path)
    said = capsys.readouterr().out
    assert json.loads(nb_path.read_text()) == nb and "penalty_method = 'zero'" in config.read_text()
    rel = "source/01-one-neuron-chain/01-one-neuron-chain.ipynb"
    assert f"kept your version of {rel}: cells {test['id']}" in said, said
    assert (tmp_path / "updates" / rel).exists()
    assert not list((tmp_path / "source").rglob("*.new")), "nothing extra for nbgrader to release"


def test_a_hub_restart_keeps_the_teachers_course(tmp_path, monkeypatch):
    from bookkit import hub

    hub.prepare(tmp_path)
    readme = tmp_path / "home" / "teacher" / "course" / "README.md"
    readme.write_text("the teacher's plan")
    hub.prepare(tmp_path)
    assert readme.read_text() == "the teacher's plan"


def test_the_demo_hubs_students_have_names_in_the_formgrader(tmp_path):
    """The trial's formgrader listed the demo's students as "None, None"."""
    from nbgrader.api import Gradebook

    from bookkit import hub

    hub.prepare(tmp_path)
    course = tmp_path / "home" / "teacher" / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        names = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
    assert names["ada"] == ("Ada", "Lovelace", "ada@example.org") and "bea" in names, names
    assert "ada,Ada,Lovelace" in (course / "roster.csv").read_text()
    hub.prepare(tmp_path)  # a restart enrols them again, once
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == ["ada", "bea"]


def test_the_demo_hubs_lab_never_asks_about_jupyter_news(tmp_path):
    """The trial saw JupyterLab's "official Jupyter news?" toast despite ``news_url=``: the
    question comes from a Lab setting, which each home now answers (valid by Lab's schema)."""
    import jsonschema

    from bookkit import hub
    from bookkit.paths import ROOT as root

    hub.prepare(tmp_path)
    schema = json.loads((root / ".venv" / "share" / "jupyter" / "lab" / "schemas" / "@jupyterlab" /
                         "apputils-extension" / "notification.json").read_text())
    for person in ("teacher", "ada", "bea"):
        settings = json.loads((tmp_path / "home" / person / hub.NOTIFICATION_SETTINGS).read_text())
        jsonschema.validate(settings, schema)
        assert settings["fetchNews"] == "false" and settings["checkForUpdates"] is False


def test_the_demo_hub_uses_jupyterhubs_shared_password_login(caplog):
    """The trial's hub log: DummyAuthenticator.password is deprecated. The class logs in with
    JupyterHub's SharedPasswordAuthenticator, names on the list only, no warning."""
    import asyncio
    import logging
    from concurrent.futures import ThreadPoolExecutor
    from importlib.metadata import entry_points

    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "hub")).load_config()
    name = config.JupyterHub.authenticator_class
    cls = entry_points(group="jupyterhub.authenticators")[name].load()
    with caplog.at_level(logging.WARNING):
        auth = cls(config=config)
    assert cls.__name__ == "SharedPasswordAuthenticator"
    assert not [r for r in caplog.records if "deprecat" in r.getMessage().lower()], caplog.text
    password = config.SharedPasswordAuthenticator.user_password

    def login(secret: str):
        # in a thread of its own: a browser test's playwright may hold this thread's loop
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, auth.authenticate(
                None, {"username": "ada", "password": secret})).result()

    assert login(password)
    assert not login("wrong-one")
    assert auth.check_allowed("teacher") and not auth.check_allowed("mallory")


# ------------------------------------------------------------------ graded checks


def test_a_student_outside_the_hub_is_told_whose_numbers_they_have(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert use_class_identity() is None
    assert "the book's numbers" in capsys.readouterr().out
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    assert use_class_identity() == "ada"
    assert "drawn for 'ada'" in capsys.readouterr().out
    checkers.set_student(None)


def test_an_answer_record_round_trips_every_kind_of_answer():
    import numpy as np
    import sympy as sp

    from backprop_book.grading import Opaque, Recorder, decode, encode

    z = sp.Symbol("z")
    for value in [None, 1.5, 3, True, "p1 * p2", (2, 3), np.arange(6.0).reshape(2, 3),
                  np.array([np.nan, 1.0]), sp.tanh(z) ** 2, sp.Matrix([[z, 1]])]:
        back = decode(json.loads(json.dumps(encode(value))))
        if isinstance(value, np.ndarray):
            assert back.shape == value.shape and np.array_equal(back, value, equal_nan=True)
        else:
            assert back == value, (value, back)
    assert isinstance(decode(encode(object())), Opaque)
    recorded = Recorder(lambda x, w: [x * w, x + w])
    recorded(2.0, 3.0)
    replay = decode(json.loads(json.dumps(encode(recorded))))
    assert replay(2.0, 3.0) == [6.0, 5.0]
    with pytest.raises(RuntimeError, match="not called with the grader's inputs"):
        replay(1.0, 1.0)


def test_the_grader_reads_every_cell_a_student_wrote_for_a_way_into_the_checkers():
    from bookkit.nbgrader_hooks import audit

    mods = {"ex", "bb", "backprop_book"}
    for cheat in ['ex.check_grad_w1 = lambda *a: "Right!"', "k = ex", "getattr(ex, 'check_x')",
                  "from backprop_book.checkers import set_student", "import os",
                  "import backprop_book.exercises.one_neuron_chain as k", "bb.__dict__",
                  "import sys; sys.modules", "x = vars(ex)", "__import__('backprop_book')"]:
        assert audit(cheat, mods), cheat
    for honest in ['nums = ex.chain_numbers()', "s = bb.sigmoid(z)\nslope = s * (1 - s)",
                   "# ex.check_x in a comment is fine\nx = 1", "rules = ex.update_rules()"]:
        assert audit(honest, mods) is None, honest


def test_no_solution_of_the_book_trips_the_graders_reading():
    from bookkit.course import chapters, exercise_modules
    from bookkit.nbgrader_hooks import audit

    for path, notebook in chapters():
        nb, _ = assignment(notebook, path.name)
        mods = set(exercise_modules(notebook["cells"])) | {"bb", "backprop_book"}
        for cell in nb["cells"]:
            meta = cell["metadata"]["nbgrader"]
            if cell["cell_type"] == "code" and meta.get("solution"):
                assert audit("".join(cell["source"]), mods) is None, (path.stem, cell["source"])


# ------------------------------------------------------------------ readable everywhere


def test_myst_becomes_plain_markdown_that_every_viewer_shows():
    from bookkit.plain_markdown import plain

    src = ("(sec-x)=\n# Title\n\n```{figure} images/a.svg\n:name: fig-a\n:alt: A chain.\n\n"
           "The caption.\n```\n\n```{exercise} Slope\n:label: ex-a\n\nCompute $\\frac{d}{dz}"
           "\\sigma$, see {ref}`the chain <sec-x>` and {doc}`notation`.\n```\n\n"
           "$$ a = b $$ (eq-a)\n\n:::{note}\nMind the sign.\n:::\n")
    assert plain(src) == (
        "# Title\n\n![A chain.](images/a.svg)\n\n*The caption.*\n\n**Exercise: Slope**\n\n"
        "Compute $\\frac{d}{dz}\\sigma$, see the chain and notation.\n\n$$ a = b $$\n\n"
        "> **Note.**\n>\n> Mind the sign.\n")


def test_no_assignment_keeps_myst_a_viewer_would_show_raw():
    import re

    from bookkit.course import chapters

    left = re.compile(r"\{[\w:-]+\}`|^\s*\([\w:.-]+\)=\s*$|^\s*[`:]{3,}\{", re.M)
    for path, notebook in chapters():
        nb, _ = assignment(notebook, path.name)
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                assert not left.search(text), (path.stem, left.search(text).group(0))
                for image in re.findall(r"images/[\w./-]+", text):
                    assert f"]({image})" in text, (path.stem, image)  # shown as an image


def test_a_diagnosis_wraps_instead_of_running_off_the_edge():
    from backprop_book.checkers import NotQuiteRight

    message = "dC/dw1 has the opposite sign. " * 6
    lines = "\n".join(NotQuiteRight(message)._render_traceback_()).splitlines()
    assert len(lines) > 1 and all(len(line) <= 77 + 11 for line in lines)
    assert " ".join(" ".join(lines).split()).endswith(" ".join(message.split()))


def test_assignments_are_named_in_the_books_order():
    from bookkit.course import assignment_names, course_files

    names = list(assignment_names().values())
    assert names[0] == "01-one-neuron-chain" and names == sorted(names), names
    files, grades = course_files()
    assert list(grades) == names
    assert all(f"source/{n}/{n}.ipynb" in files for n in names)


def test_the_grades_commands_mean_the_course_folder_they_run_in(tmp_path, monkeypatch):
    from bookkit.course import OUT
    from bookkit.grades import default_course

    monkeypatch.chdir(tmp_path)
    assert default_course() == OUT
    (tmp_path / "source").mkdir()
    (tmp_path / "nbgrader_config.py").write_text("")
    assert default_course() == tmp_path


# ------------------------------------------------------------------ the teacher's trial, 2026-12-05


def test_reading_a_name_inside_an_assignment_target_does_not_extend_it():
    """``d[sp.latex(f)] = v`` sets an item of ``d``; it does not change ``sp``. (Read as
    changing ``sp``, it pulled a chapter's proof cells into the first assignment.)"""
    from bookkit.anatomy import names_bound

    bound, extended = names_bound("at[sp.latex(f)] = v\nValue.tanh = g\na, (b, *c) = x\n")
    assert bound == {"a", "b", "c"} and extended == {"at", "Value"}


def setup_cells(nb: dict) -> list[str]:
    """The code cells an assignment runs before its first exercise."""
    cells = []
    for cell in nb["cells"][3:]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "**Exercise:" in text:
            break
        if cell["cell_type"] == "code":
            cells.append(text)
    return cells


def test_an_assignments_setup_is_what_its_exercises_use_and_says_so():
    """The trial saw a SymPy display, ``c'(w) = ...``, kept only for the ``z`` it defines, and
    the chapter's colours in the batched chapter: shown to students with no context."""
    from bookkit.course import chapters

    for path, notebook in chapters():
        nb, _ = assignment(notebook, path.name)
        setup = setup_cells(nb)
        for code in setup:
            assert "display(" not in code and "glue(" not in code, (path.stem, code)
            assert "BLUE" not in code and "# proves:" not in code, (path.stem, code)
        note = [c for c in nb["cells"] if c["id"] == "course-setup"]
        assert len(note) == (1 if setup else 0), path.stem
    first, _ = assignment(json.loads((ROOT / "book" / "one-neuron-chain.ipynb").read_text()),
                          "one-neuron-chain.ipynb")
    assert setup_cells(first)[-1] == 'z = sp.Symbol("z", real=True)\n', setup_cells(first)
    assert "`z`" in "".join(next(c for c in first["cells"] if c["id"] == "course-setup")["source"])


def test_an_assignment_speaks_of_the_course_not_of_handouts_or_the_web_page():
    from bookkit.course import chapters

    said = []
    for path, notebook in chapters():
        nb, _ = assignment(notebook, path.name)
        text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        text = " ".join(text.split())
        assert "handout" not in text and "web page" not in text, path.stem
        said += [s for s in ("drawn for your login", "bug may sit in another array")
                 if s in text]
    assert said.count("drawn for your login") >= 4 and "bug may sit in another array" in said


def test_an_answer_cell_is_right_whatever_ran_before_it(monkeypatch):
    """Every exercise calls its numbers ``nums``: the trial's out-of-order trap. Here the
    third exercise's given cell runs after the second's, then the second answer: still right."""
    from bookkit.course import OUT  # noqa: F401 (the module under test)

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb, _ = assignment(json.loads((ROOT / "book" / "one-neuron-chain.ipynb").read_text()),
                       "one-neuron-chain.ipynb")
    by_id = {c["id"]: "".join(c["source"]) for c in nb["cells"]}
    answer = next(c for c in nb["cells"]
                  if c["metadata"]["nbgrader"].get("grade_id") == "ex-111-grad-w1")
    code = "".join(answer["source"])
    assert code.startswith("# this exercise's given numbers, again"), code
    checkers.set_student("ada")
    try:
        space: dict = {}
        for setup in setup_cells(nb):
            exec(setup, space)
        exec(by_id["cell-058"], space)  # dC/dw1's given numbers
        exec(by_id["cell-065"], space)  # then the next exercise's, out of order
        exec(code, space)
        assert space["ex"].check_grad_w1(space["dC_dw1"]).ok
        # the same answer without its numbers drawn again: checked against the wrong ones
        exec(by_id["cell-065"], space)
        exec(code.split("dC_dw1 = None")[1], space)
        with pytest.raises(checkers.NotQuiteRight, match="that is not it"):
            space["ex"].check_grad_w1(space["dC_dw1"])
    finally:
        checkers.set_student(None)


def released(stem: str) -> dict:
    """The students' version of a chapter's assignment, as the course's config generates it
    (its ClearSolutions step, without nbgrader's gradebook)."""
    import nbformat
    from traitlets.config import Config

    from bookkit.nbgrader_hooks import generate_preprocessors

    nb, _ = assignment(json.loads((ROOT / "book" / f"{stem}.ipynb").read_text()), f"{stem}.ipynb")
    node = nbformat.reads(json.dumps(nb), as_version=4)  # as nbgrader reads it
    steps = generate_preprocessors()
    clear = next(s for s in steps if s.__name__ == "ClearSolutionsKeepRunning")
    clear(config=Config()).preprocess(node, {})
    return node


def test_run_all_runs_a_whole_release_and_every_check_says_not_done_yet(tmp_path, monkeypatch):
    """nbgrader's stub raised NotImplementedError in every answer cell, so Run All stopped at
    the first exercise and the later given numbers never printed (the trial)."""
    from nbclient import NotebookClient

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    nb = released("one-neuron-chain")
    answers = [c for c in nb.cells if c.metadata["nbgrader"].get("solution")]
    top = [c for c in answers if not c.source.startswith(("def ", "class "))]
    assert top and all("raise" not in c.source and "# YOUR CODE HERE" in c.source for c in top)
    assert all("raise NotImplementedError()" in c.source for c in answers if c not in top)
    (tmp_path / "images").mkdir()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # no error
    said = [" ".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for o in c.outputs) for c in nb.cells if c.metadata["nbgrader"].get("grade")]
    assert said and all("Not done yet" in s for s in said), said
    givens = [c for c in nb.cells if c.cell_type == "code" and "given:" in c.source]
    assert len(givens) >= 3 and all(c.outputs for c in givens)


def test_the_feedback_lists_each_check_by_its_exercise():
    """nbgrader's feedback page listed "Test cell", "Test cell", "Comment"... (the trial)."""
    import nbformat
    import nbgrader
    from nbconvert import HTMLExporter

    from bookkit.nbgrader_hooks import (
        FEEDBACK_TEMPLATE,
        ExerciseTitles,
        feedback_template_dirs,
    )

    nb, _ = assignment(json.loads((ROOT / "book" / "one-neuron-chain.ipynb").read_text()),
                       "one-neuron-chain.ipynb")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    for cell in node.cells:
        meta = cell.metadata["nbgrader"]
        if meta.get("grade"):
            meta.update(score=0.0, points=1.0)
        if meta.get("solution"):
            meta["comment"] = "No response."
    ExerciseTitles().preprocess(node, {})
    css = (Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static" /
           "node_modules" / "bootstrap" / "dist" / "css")
    exporter = HTMLExporter(template_name="feedback", template_file=FEEDBACK_TEMPLATE,
                            extra_template_basedirs=feedback_template_dirs(),
                            extra_template_paths=[str(css)])
    html, _ = exporter.from_notebook_node(node, resources={"nbgrader": {
        "notebook": "01-one-neuron-chain", "score": 0, "max_score": 11, "late_penalty": 0}})
    toc = re.sub(r"<[^>]+>", " ", html[html.index('<div id="toc">'):html.index("</ol>")])
    toc = " ".join(toc.split())
    assert "Test cell" not in toc and "Comment" not in toc, toc
    for name in ("The sigmoid's slope (Score: 0.0 / 1.0)",
                 "A new activation: tanh: grad_w1_tanh (Score",
                 "All four gradients, as code: dC_db2 (Score",
                 "One gradient by hand: No response."):
        assert name.replace("'", "&#39;") in toc or name in toc, (name, toc)


def test_the_syllabus_names_every_assignment_with_its_exercises_checks_and_reading_time():
    """The syllabus is the week plan the trial asked for; its table must name the course's
    assignments as they are (it named three by old numbers and missed two chapters), with
    each one's exercises and graded checks, and its reading time at 120 words a minute."""
    from bookkit.course import assignment_names, chapters, course_files

    text = (ROOT / "book" / "syllabus.md").read_text()
    rows = re.findall(r"^\| [\d–]+ \| .*? \| `(\d\d-[\w-]+)` \| (\d+), (\d+) \| (\d+) min",
                      text, re.M)
    names = assignment_names()
    assert sorted(r[0] for r in rows) == sorted(names.values()), rows
    notebooks = {names[path.stem]: nb for path, nb in chapters()}
    _, grades = course_files()
    for name, exercises, checks, minutes in rows:
        prose = " ".join("".join(c["source"]) for c in notebooks[name]["cells"]
                         if c["cell_type"] == "markdown")
        assert int(exercises) == len(re.findall(r"```\{exercise\}", prose)), name
        assert int(checks) == len(grades[name]), name
        words = len(re.findall(r"[A-Za-z][A-Za-z'-]*", re.sub(r"```.*?```", " ", prose,
                                                             flags=re.S)))
        assert abs(int(minutes) - words / 120) <= 5, (name, minutes, words / 120)


def test_the_feedback_shows_math_without_the_web():
    """nbgrader's feedback page loads MathJax from the web: offline the trial saw raw
    ``$\\partial C/\\partial w_1$``. With the book's KaTeX every formula is MathML, which
    the browser lays out itself; a dollar in code stays a dollar."""
    import nbformat

    from bookkit.nbgrader_hooks import MATH_IS_MATHML, OfflineMath, with_mathml

    nb, _ = assignment(json.loads((ROOT / "book" / "one-neuron-chain.ipynb").read_text()),
                       "one-neuron-chain.ipynb")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    node.cells.append(nbformat.v4.new_code_cell("tanh_slope", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/latex": "$\\displaystyle 1 - \\tanh^{2}{\\left(z \\right)}$",
                                "text/plain": "1 - tanh(z)**2"}, execution_count=1)]))
    resources = {}
    OfflineMath().preprocess(node, resources)
    assert resources[MATH_IS_MATHML]  # the page's template leaves MathJax's script out
    markdown = " ".join(c.source for c in node.cells if c.cell_type == "markdown")
    shown = re.sub(r"<annotation[^>]*>.*?</annotation>", "", markdown)  # MathML's own TeX
    assert "\\partial" not in shown, shown
    assert markdown.count("<math") > 20 and "$" not in re.sub(r"`[^`]*`", "", markdown)
    latex = node.cells[-1].outputs[0]["data"]
    assert latex["text/html"].count("<math") == 1
    shown = with_mathml("costs $5 and $6, `x = \"$y$\"`, and $a_1$", lambda t, d: "<math/>")
    assert shown == "costs $5 and $6, `x = \"$y$\"`, and <math/>"


def test_the_course_readme_says_where_the_solutions_are_and_what_each_assignment_is_worth(
        tmp_path, capsys):
    """The trial: "graded checks" meant points but nothing said so; nothing said that
    ``source/`` holds the solutions and students get ``release/``; no overview."""
    from bookkit.course import write_course

    grades = write_course(tmp_path)
    said = capsys.readouterr().out
    readme = " ".join((tmp_path / "README.md").read_text().split())
    assert "**with their solutions** (never give these out)" in readme and "`release/`" in readme
    for k, (name, ids) in enumerate(grades.items(), start=1):
        assert f"| {k} | `{name}` | {len(ids)} | {len(ids)} |" in readme, name
        assert f"{name}: {len(ids)} graded checks, {len(ids)} points" in said, name
