"""The nbgrader course, graded by nbgrader itself (from PyPI) on simulated submissions.

For every chapter: ``make course``'s writer builds the course in a temporary folder,
``nbgrader generate_assignment`` makes the release, and a class of simulated students
submits it:

* the release as fetched: in the grader's kernel below every test cell fails with Not
  done yet for its untouched answer (and ``nbgrader validate`` refuses the first chapter's);
* ``slip``: every exercise that has a classic mistake (``course_mistakes.py``) makes its
  first one, the others are right: exactly those tests lose their point, and the feedback
  HTML carries each diagnosis. Every classic mistake is run in one kernel with the
  grader's environment, each followed by its test cell, which must fail with its
  diagnosis, and so is each answer as released, which must fail with Not done yet (one
  kernel per chapter instead of one graded submission per mistake: Ada's, which also
  prints her answers for Cy to copy). Each answer that kernel recorded, Ada's right ones
  and every mistake, is then judged again by the grader's own verdict step
  (``VerifyAnswers``, which decides the score from the record in nbgrader's process): Right
  for Ada's, the mistake's diagnosis for each mistake;
* ``ada``: the chapter's solutions, graded by nbgrader on the first chapter and the code
  exercise's: full points (``nbgrader validate`` agrees). On the other chapters her right
  answers pass in the grader's kernel and its verdict step (above), and the slip's right
  answers, every exercise without a classic mistake, score their points in nbgrader;
* ``cy``: Ada's answers copied as numbers. In the same kernel, after Ada's run, under Cy's
  id: every exercise with per-student numbers fails, and the others (a SymPy expression, a
  function) pass. On the first chapter Cy is also graded by nbgrader, with the locked
  identity cell edited to claim to be Ada and every test cell edited to print "Right!":
  nbgrader restores both kinds of locked cell and the grader's student id decides, so she
  scores exactly as above. (Had nbgrader kept either edit, she would score full points:
  Ada's numbers pass as Ada's, and a ``print`` passes every test.) Every chapter's identity
  and test cells are locked, which is what that restoring goes by.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
from course_mistakes import MISTAKES
from nbclient import NotebookClient
from nbgrader_once import ask_once

from backprop_book.classroom import STUDENT_ENV
from bookkit.autograde import autograde, shares
from bookkit.course import (  # noqa: E402
    assignment_names,
    checked_names,
    names_bound,
    write_course,  # noqa: E402
)

CHAPTERS = list(MISTAKES)
#: each chapter's assignment (01-one-neuron-chain): its folders and notebook are named so
NAMES = assignment_names()
#: nbgrader's gradebook trips SQLAlchemy's autoflush warning on every submission it adds; on
#: the command line that went to its stderr, in this process it would fill the summary.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
ask_once()  # (alembic asked once, each metadata schema checked once: nbgrader_once.py)
#: Exercises whose answer does not depend on the student's numbers (copying it is fine).
SAME_FOR_ALL = {
    "check-ex-111-tanh", "check-ex-111-tanh-2", "check-ex-222-paths",
    "check-ex-softmax-jacobian2", "check-ex-autodiff-tanh-node",
    "check-ex-deep-momentum",  # a function: right for anyone's numbers
    "check-ex-attn-weight-derivative", "check-ex-attn-softmax-jvp", "check-ex-attn-backward",
    "check-ex-resnorm-bn-backward",  # a function, checked on the checker's own batches
    "check-ex-conv-input-grad", "check-ex-conv-kernel-grad",  # functions, likewise
    "check-ex-conv-maxpool-backward",
    # a typed formula: the same for everyone
    "check-ex-111-derive", "check-ex-111-derive-2", "check-ex-222-derive",
    "check-ex-softmax-derive", "check-ex-general-derive", "check-ex-batch-derive",
    "check-ex-deep-derive",
    # a function the checker calls on fresh inputs of its own: right for anyone
    "check-ex-autodiff-div-node", "check-ex-autodiff-backward",
} | {f"check-{label}-{part}" for label, parts in {
    "ex-111-backward": ["dC-dw1", "dC-db1", "dC-dw2", "dC-db2"],
    "ex-222-backward": ["dW1", "db1", "dW2", "db2"],
    "ex-softmax-backward": ["dW1", "db1", "dW2", "db2", "dW3", "db3"],
    "ex-general-backward": ["dW1", "db1", "dW2", "db2", "dW3", "db3", "dW4", "db4"],
    "ex-batch-backward": ["dW1", "db1", "dW2", "db2", "dW3", "db3"],
    "ex-deep-adam-code": ["w-new", "m-new", "s-new"],
    "ex-attn-rms-norm": ["dX", "dgamma"],
}.items() for part in parts}
@contextlib.contextmanager
def environment(**changes: str):
    """``os.environ`` with ``changes`` (the kernels started inside inherit it), put back after."""
    saved = dict(os.environ)
    os.environ.update(changes)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def as_on_the_command_line(course: Path):
    """In ``course``, with this venv's tools on PATH (nbgrader's gradebook runs ``alembic``).

    The environment, ``sys.path`` and working folder are put back afterwards: nbgrader adds
    the folder to ``sys.path`` and the autograde hook sets the student id in the environment.
    """
    saved_path = list(sys.path)
    tools = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    try:
        with environment(PATH=tools), contextlib.chdir(course):
            os.environ.pop("JUPYTERHUB_USER", None)
            yield
    finally:
        sys.path[:] = saved_path


def nbgrader(course: Path, *args: str, check: bool = True) -> str:
    """Run ``nbgrader <args>`` in ``course``, in this process; return what it logged and printed.

    In-process, as nbgrader's own test suite runs it: the same application, config files
    and converters as the command line, without a new Python that imports nbgrader (about
    2 s of CPU) for each of the suite's sixty or so runs. The class on JupyterHub
    (tests/class/test_hub.py) types one of them (collect) into a Lab terminal, and clicks
    the rest in the formgrader and the students' Assignment List.
    """
    from jupyter_core.application import NoStart
    from nbgrader.apps.nbgraderapp import NbGraderApp
    from nbgrader.validator import Validator

    # one stream, so nbgrader's log lines and its verdicts stay in the order it wrote them
    out, saved_stream = io.StringIO(), Validator.stream
    Validator.stream = out
    app = NbGraderApp.instance()
    try:
        with as_on_the_command_line(course), contextlib.redirect_stdout(out):
            app.initialize(list(args))
            app.init_logging(logging.StreamHandler, [out], color=False, subapps=True)
            app.start()
        code = 0
    except NoStart:  # what the top-level app raises once its subcommand has run
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    finally:
        app.reset()
        Validator.stream = saved_stream
    said = out.getvalue()
    assert "Exception while loading config" not in said, said
    if check and code != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed (exit {code}):\n{said}")
    return said


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def grade_ids(nb: dict, kind: str) -> list[str]:
    return [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get(kind)]


def with_solutions(release: dict, code: dict[str, str]) -> dict:
    """``release`` with the solution cells whose grade id is in ``code`` replaced."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in code:
            cell["source"] = code[grade_id]
    return nb


def dump_answers(source: dict) -> str:
    """A cell that prints every answer the checkers read, each as a Python literal (JSON)."""
    names = [n for c in source["cells"] if c["metadata"]["nbgrader"].get("grade")
             for n in checked_names(c)]
    return (
        "import json as _json\nimport numpy as np\n_out = {}\n"
        f"for _n in {names!r}:\n"
        "    _v = globals()[_n]\n"
        "    if isinstance(_v, str):\n        _out[_n] = repr(_v)\n"
        "    elif isinstance(_v, tuple):\n        _out[_n] = repr(tuple(int(i) for i in _v))\n"
        "    elif isinstance(_v, (int, float, np.ndarray, np.number)):\n"
        "        _out[_n] = f'np.array({np.asarray(_v, dtype=float).tolist()!r})'\n"
        "print(_json.dumps(_out))\n"
    )


def answers_as_literals(source: dict, literal: dict[str, str]) -> dict[str, str]:
    """Each solution cell rewritten to assign its numeric answers as literals (a copy)."""
    code = {}
    for cell in source["cells"]:
        meta = cell["metadata"]["nbgrader"]
        if meta.get("solution"):
            lines = "".join(cell["source"]).splitlines()
            names_here = [n for n in literal if any(ln.startswith(f"{n} = None") for ln in lines)]
            # (with its own numpy: an assignment imports only what its setup uses)
            code[meta["grade_id"]] = "\n".join(
                ["import numpy as np"] + [f"{n} = {literal[n]}" for n in names_here]
            ) if names_here else "".join(cell["source"])
    return code


def answer_cells(release: dict) -> dict[str, dict]:
    """For each test cell (by grade id), the answer cell it checks.

    The last answer cell before it that binds a name the checker reads; when the checker
    reads a name a given cell binds (a function that calls the answer), the last answer cell
    before it.
    """
    found, answers = {}, []
    for cell in release["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            answers.append(cell)
        elif meta.get("grade"):
            checked = set(checked_names(cell))
            binders = [a for a in answers if checked & names_bound("".join(a["source"]))[0]]
            found[meta["grade_id"]] = (binders or answers)[-1]
    return found


PROBE = """\
try:
{test}
except Exception as _error:
    print(f"{{type(_error).__name__}}: {{_error}}")
else:
    print("no error")
"""


def every_mistake_in_one_kernel(course: Path, stem: str, source: dict, solutions: dict,
                                by_cell: dict
                                ) -> tuple[dict[str, str], dict, dict[str, str], dict]:
    """Run every classic mistake in one kernel, as ``nbgrader autograde`` runs a submission.

    The kernel has the grader's environment (``NBGRADER_EXECUTION``), so a placeholder
    raises exactly as when grading. First as Ada: the solved assignment runs top to bottom;
    before each test cell, the answer it checks is put back as released
    (``"<answer cell>/untouched"``), then each of its mistakes, each followed by that test
    cell, then the right answer again; a last cell prints Ada's right answers as literals.
    Then, in the same kernel, as Cy: the assignment from the top, with Ada's literals for
    answers, each test cell probed (Cy's notebook once nbgrader has restored its locked
    cells; the graded Cy of the first chapter shows that nbgrader does).

    Returns what each test cell raised, by (``"<answer cell>/<k>"`` or
    ``"<answer cell>/untouched"``, the test cell's grade id); Cy's notebook (the release
    with Ada's answers as literals); what each test cell raised for Cy, by grade id; and
    the grader's verdict (:func:`graders_verdicts`) on each answer Ada's run recorded, by
    (``"ada"`` or ``"<answer cell>/<k>"``, the test cell's grade id).
    """
    release = read(course / "release" / stem / f"{stem}.ipynb")
    solved = with_solutions(release, solutions)
    tests = {}
    for test, answer in answer_cells(release).items():
        # as released, an answer cell sets None, then raises NotImplementedError
        untouched = PROBE.format(test=textwrap.indent("".join(answer["source"]), "    "))
        tests[test] = [(f"{answer['metadata']['nbgrader']['grade_id']}/untouched", untouched,
                        answer["metadata"]["nbgrader"]["grade_id"])]
    for cell_id, mistakes in by_cell.items():
        for k, (test_id, code, _) in enumerate(mistakes):
            tests[test_id].append((f"{cell_id}/{k}", code, cell_id))
    cells = []
    for cell in solved["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        for key, code, cell_id in tests.get(grade_id, []):
            probe = PROBE.format(test=textwrap.indent("".join(cell["source"]), "    "))
            cells += [nbformat.v4.new_code_cell(code),
                      nbformat.v4.new_code_cell(probe, metadata={"key": key, "test": grade_id}),
                      nbformat.v4.new_code_cell(solutions[cell_id])]
        if cell["cell_type"] == "code":
            mark = {"key": "ada", "test": grade_id} if grade_id in tests else {}
            cells.append(nbformat.v4.new_code_cell("".join(cell["source"]), metadata=mark))
    cells.append(nbformat.v4.new_code_cell(dump_answers(source)))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=solved["metadata"])
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={
        "metadata": {"path": str(course / "source" / stem)}})
    with environment(NBGRADER_EXECUTION="autograde", **{STUDENT_ENV: "ada"}), \
            client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        literal = json.loads(nb.cells[-1].outputs[0]["text"])
        copied = with_solutions(release, answers_as_literals(source, literal))
        cy = [nbformat.v4.new_code_cell(f"import os\nos.environ[{STUDENT_ENV!r}] = 'cy'")]
        for cell in copied["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade"):
                probe = PROBE.format(test=textwrap.indent("".join(cell["source"]), "    "))
                cy.append(nbformat.v4.new_code_cell(probe, metadata={"cy": meta["grade_id"]}))
            elif cell["cell_type"] == "code":
                cy.append(nbformat.v4.new_code_cell("".join(cell["source"])))
        for cell in cy:
            nb.cells.append(cell)
            client.execute_cell(cell, len(nb.cells) - 1)

    def printed(cell) -> str:
        return "".join(o.get("text", "") for o in cell.outputs).strip()

    said = {(c.metadata["key"], c.metadata["test"]): printed(c)
            for c in nb.cells if "key" in c.metadata and c.metadata["key"] != "ada"}
    judged = graders_verdicts(release, [c for c in nb.cells if "key" in c.metadata
                                        and not c.metadata["key"].endswith("/untouched")])
    return (said, copied, {c.metadata["cy"]: printed(c) for c in cy if "cy" in c.metadata},
            judged)


def graders_verdicts(release: dict, ran: list) -> dict[tuple[str, str], str]:
    """The grader's own verdict step on answers recorded in the grader's kernel.

    ``nbgrader autograde`` runs a submission, then ``VerifyAnswers`` (bookkit's nbgrader
    hook) replaces each test cell's outputs with the verdict it reaches in nbgrader's
    process from the answer the cell recorded, and nbgrader scores that. Here each cell of
    ``ran`` (a test cell's run, its metadata naming the answer and the test) is handed to
    VerifyAnswers as that test cell, with the outputs it had; returns what each verdict
    raised ("NotQuiteRight: ...") or "no error", by (key, grade id).
    """
    from bookkit.nbgrader_hooks import VerifyAnswers

    tests = {c["metadata"]["nbgrader"]["grade_id"]: c for c in release["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade")}
    cells = []
    for cell in ran:
        test = tests[cell.metadata["test"]]
        copy = nbformat.v4.new_code_cell("".join(test["source"]), metadata={
            "nbgrader": dict(test["metadata"]["nbgrader"]), "key": cell.metadata["key"]})
        copy.outputs = [nbformat.from_dict(o) for o in cell.outputs]
        cells.append(copy)
    nb = nbformat.v4.new_notebook(cells=cells)
    VerifyAnswers().preprocess(nb, {"nbgrader": {"student": "ada"}})
    verdicts = {}
    for cell in nb.cells:
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        verdicts[cell.metadata["key"], cell.metadata["nbgrader"]["grade_id"]] = (
            f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else "no error")
    return verdicts


def gradebook(course: Path, stem: str, students: list[str]) -> dict:
    """Each student's score per test cell, read from nbgrader's gradebook by nbgrader's API."""
    from nbgrader.api import Gradebook

    with as_on_the_command_line(course), Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {s: {g.name: (g.score, g.max_score)
                    for g in gb.find_submission_notebook(stem, stem, s).grades}
                for s in students}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("course")
    write_course(folder)
    return folder


@pytest.fixture(scope="module", params=CHAPTERS)
def graded(request, course):
    """Generate, submit for the whole simulated class, autograde, generate the feedback the
    tests read (the slip's; on the code exercise's chapter, also that exercise's class's,
    below)."""
    stem = request.param
    name = NAMES[stem]
    nbgrader(course, "generate_assignment", name, "--force")
    release = read(course / "release" / name / f"{name}.ipynb")
    source = read(course / "source" / name / f"{name}.ipynb")
    solutions = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
                 for c in source["cells"] if c["metadata"]["nbgrader"].get("solution")}
    # Ada through nbgrader where a test reads her graded notebook (the docstring says why
    # not on every chapter)
    submissions = ({"ada": with_solutions(release, solutions)}
                   if stem in (CHAPTERS[0], CODE_CHAPTER) else {})
    by_cell: dict[str, list[tuple[str, str, str]]] = {}
    for cell_id, test_id, code, says in MISTAKES[stem]:
        by_cell.setdefault(cell_id, []).append((test_id, code, says))
    # Slip: every exercise with a classic mistake makes its first one; the other mistakes
    # are each diagnosed in one grading kernel (every_mistake_in_one_kernel).
    code, slips = dict(solutions), []
    for cell_id, mistakes in by_cell.items():
        test_id, code[cell_id], says = mistakes[0]
        slips.append((test_id, says))
    submissions["slip"] = with_solutions(release, code)
    diagnoses, cy_notebook, copied, judged = every_mistake_in_one_kernel(
        course, name, source, solutions, by_cell)
    if stem == CHAPTERS[0]:  # nbgrader restores the locked cells Cy edited (graded once)
        tampered = json.loads(json.dumps(cy_notebook))
        for cell in tampered["cells"]:
            if cell["id"] == "course-identity":
                cell["source"] = ('from backprop_book.checkers import set_student\n'
                                  'set_student("ada")')
            elif cell["metadata"].get("nbgrader", {}).get("grade"):
                cell["source"] = 'print("Right!")'
        submissions["cy"] = tampered
    # the feedback the tests read: the slip's (the diagnoses), and on the code exercise's
    # chapter its own class's (below)
    readers = ["slip"]
    if stem == CODE_CHAPTER:
        code_class = code_exercise_class(release, solutions)
        submissions.update(code_class)
        readers += ["ada", *code_class]
    for student, nb in submissions.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    nbgrader(course, "autograde", name, "--force")
    for student in readers:
        nbgrader(course, "generate_feedback", name, "--force", "--student", student)
    scores = gradebook(course, name, list(submissions))
    feedback = {s: (course / "feedback" / s / name / f"{name}.html").read_text() for s in readers}
    tests = grade_ids(release, "grade")
    return {"stem": stem, "scores": scores, "feedback": feedback, "slips": slips,
            "diagnoses": diagnoses, "judged": judged, "mistakes": by_cell, "copied": copied,
            "tests": tests, "release": course / "release" / name / f"{name}.ipynb",
            "course": course, "ada": course / "submitted" / "ada" / name / f"{name}.ipynb",
            "autograded": {s: read(course / "autograded" / s / name / f"{name}.ipynb")
                           for s in readers if s != "slip"}}


def test_every_test_cell_is_a_locked_graded_check_worth_a_point(graded):
    release = read(graded["release"])
    tests = [c for c in release["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert tests and len(tests) == len(graded["tests"])
    for cell in tests:
        meta = cell["metadata"]["nbgrader"]
        assert meta["locked"] and meta["points"] == 1 and not meta["solution"]
        assert "".join(cell["source"]).startswith("graded(")


def test_the_solutions_pass_the_graders_verdict(graded):
    """Each solution, run in the grader's kernel (no test cell raises there: the kernel's
    run would stop), then judged again by the grader's verdict step from the answer it
    recorded: Right. Graded by nbgrader (the first chapter and the code exercise's): full
    points; on every chapter the slip's right answers score theirs (below)."""
    verdicts = {test: said for (key, test), said in graded["judged"].items() if key == "ada"}
    assert set(verdicts) == set(graded["tests"]), verdicts
    wrong = {test: said for test, said in verdicts.items() if said != "no error"}
    assert not wrong, f"{graded['stem']}: the grader's verdict on the solutions: {wrong}"
    if graded["stem"] in (CHAPTERS[0], CODE_CHAPTER):
        scores = graded["scores"]["ada"]
        assert set(scores) == set(graded["tests"]), scores
        assert all(s == m == 1 for s, m in scores.values()), scores


def test_every_answer_as_released_fails_its_test_with_not_done_yet(graded):
    """In the grader's kernel, each test cell with its answer untouched: Not done yet.

    (nbgrader scores a failing test 0, as the slip shows; ``nbgrader validate`` refuses the
    whole release, below; and the class on JupyterHub reads Not done yet in its feedback.)
    """
    untouched = {test: said for (key, test), said in graded["diagnoses"].items()
                 if key.endswith("/untouched")}
    assert set(untouched) == set(graded["tests"]), untouched
    for test, said in untouched.items():
        assert said.startswith("NotDoneYet: "), f"{graded['stem']}, {test}: {said!r}"


def test_a_classic_mistake_loses_exactly_its_exercise_with_its_diagnosis(graded):
    """Through nbgrader: one mistake in every exercise that has one (the first listed)."""
    wrong = {test_id for test_id, _ in graded["slips"]}
    got = {t: s for t, (s, _) in graded["scores"]["slip"].items()}
    assert got == {t: 0 if t in wrong else 1 for t in graded["tests"]}, graded["slips"]
    html = " ".join(graded["feedback"]["slip"].split())  # a diagnosis wraps at any space
    for _, says in graded["slips"]:
        says = " ".join(says.split())
        assert says.replace("'", "&#39;") in html or says in html, (
            f"{graded['stem']}: the feedback lacks the diagnosis {says!r}")
    assert "Traceback (most recent call last)" not in html


#: What makes a browser fetch something as it shows a page: a script, a stylesheet, an
#: image, a frame, a font or an import in CSS (a link a reader may click is not fetched).
FETCHED = re.compile(r"<(?:script|img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)"
                     r"|<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)"
                     r"|url\(\s*[\"']?([^\"')]+)|@import\s+[\"']([^\"']+)", re.I)


def test_the_feedback_pages_ask_nothing_of_the_web(graded):
    """A student opens the feedback on a class hub that is often offline: nbgrader's page
    asked a CDN for MathJax (the JupyterHub test's browser saw the request), which offline
    fails or hangs. The math is MathML (OfflineMath): nothing the page fetches is remote,
    and no TeX is left for a script to typeset."""
    for student, html in graded["feedback"].items():
        fetched = [next(filter(None, m.groups())) for m in FETCHED.finditer(html)]
        remote = [u for u in fetched if re.match(r"(https?:)?//", u)]
        assert not remote, f"{graded['stem']}, {student}'s feedback fetches {remote}"
        assert "<math" in html, f"{graded['stem']}, {student}: no MathML in the feedback"
        assert not re.search(r"<script[^>]*mathjax|init_mathjax", html, re.I), (
            f"{graded['stem']}, {student}'s feedback still sets up MathJax")


def test_every_classic_mistake_is_diagnosed_as_the_grader_runs_it(graded):
    """Each mistake, in the assignment's kernel under autograde: its test cell fails with a
    Not quite right (no traceback) that names the mistake, and so does the grader's verdict
    step on the answer it recorded (what the score goes by); the right answer then passes."""
    for cell_id, mistakes in graded["mistakes"].items():
        for k, (test_id, _, says) in enumerate(mistakes):
            for where, said in (("kernel", graded["diagnoses"][f"{cell_id}/{k}", test_id]),
                                ("verdict", graded["judged"][f"{cell_id}/{k}", test_id])):
                assert said.startswith("NotQuiteRight: ") and says in said, (
                    f"{graded['stem']}, {cell_id} mistake {k + 1} ({test_id}), in the grader's"
                    f" {where}: wanted a diagnosis with {says!r}, got {said!r}")


def test_a_neighbours_numbers_lose_their_points(graded):
    """Cy hands in Ada's right answers as numbers: in the grader's kernel, under Cy's id,
    every exercise with numbers of its own fails; the others (a SymPy expression, a
    function) pass."""
    want = {t: "no error" if t in SAME_FOR_ALL else "NotQuiteRight" for t in graded["tests"]}
    got = {t: "no error" if said == "no error" else said.split(":")[0]
           for t, said in graded["copied"].items()}
    assert got == want, f"{graded['stem']}: Cy, with Ada's numbers: {graded['copied']}"


def test_nbgrader_restores_the_locked_cells_a_student_edited(graded):
    """The first chapter's Cy also edits the locked identity cell to claim to be Ada, and
    every test cell to print "Right!". Had nbgrader kept either edit she would score full
    points (Ada's numbers pass as Ada's; a ``print`` passes every test): she scores as the
    student above. Every chapter's identity and test cells are locked, which is what
    nbgrader restores them by."""
    release = read(graded["release"])
    identity = [c for c in release["cells"] if c["id"] == "course-identity"]
    assert len(identity) == 1 and identity[0]["metadata"]["nbgrader"]["locked"], identity
    assert graded["stem"] != CHAPTERS[0] or "cy" in graded["scores"], "Cy was not graded"
    if "cy" not in graded["scores"]:
        return
    got = {t: s for t, (s, _) in graded["scores"]["cy"].items()}
    want = {t: 1 if t in SAME_FOR_ALL else 0 for t in graded["tests"]}
    full = [t for t, s in got.items() if s == 1 and t not in SAME_FOR_ALL]
    assert got == want, (
        f"{graded['stem']}: Cy (Ada's numbers, locked cells edited) scored {got}; wanted {want}"
        + (f". {full} passed: nbgrader kept an edited locked cell, or the grader used Ada's"
           " numbers" if full else ""))


@pytest.mark.parametrize("graded", [CHAPTERS[0]], indirect=True)
def test_validate_passes_the_solutions_and_refuses_an_untouched_release(graded):
    """``nbgrader validate``, as a student's Validate button runs it: the solved assignment
    passes and the release as fetched is refused, in one call (each notebook in a kernel of
    its own).

    On the first chapter only. Validate runs the same notebooks as grading does, in a kernel
    that differs from the grader's in one way, the same for every chapter: nbgrader's mode
    (``NBGRADER_EXECUTION=validate``: the student's login, or the book's numbers, instead of
    the grader's student id; an untouched answer raises, as when graded). Every chapter's
    solved assignment already passes in the grader's kernel and verdict (Ada), and every
    chapter's untouched answers are refused there one test cell at a time (above) and, in
    a student's kernel, by each handout's checkers (tests/class/test_handout_run.py).
    """
    solved = os.path.realpath(graded["ada"])
    notebooks = [os.path.realpath(graded["release"]), solved]
    out = nbgrader(graded["course"], "validate", *notebooks, check=False)
    # nbgrader logs "Validating '<path>'" before each notebook's verdict
    verdicts = {os.path.realpath(path): said for path, said in
                re.findall(r"Validating '([^']+)'(.*?)(?=Validating '|\Z)", out, re.S)}
    assert set(verdicts) == set(notebooks), out
    assert "Success!" in verdicts[solved] and "FAILED" not in verdicts[solved], verdicts[solved]
    for untouched in notebooks[:-1]:
        assert "VALIDATION FAILED" in verdicts[untouched], verdicts[untouched]


# ------------------------------------------------------------------ a class of cheats
#
# One chapter, graded by nbgrader with the course's config, for students who try every way
# around the grade that a student's notebook allows. Each must score what the work deserves:
# the grader re-checks every answer in its own process (bookkit.nbgrader_hooks.VerifyAnswers)
# with nbgrader's student id, and a cell that reaches into the checkers or the identity
# scores 0 on every check after it.

FIRST = NAMES[CHAPTERS[0]]  # the first chapter's assignment
#: one_neuron_chain: which answer cell each check reads, in order
SLOPE, GRAD, SENS, TANH, CHAIN = ("ex-111-sigmoid-slope", "ex-111-grad-w1", "ex-111-sensitivity",
                                  "ex-111-tanh-slope", "ex-111-tanh-chain")
OWN_SLOPE = ('slope = None  # your answer replaces None\n'
             'e = np.exp(-nums["z"])\nslope = e / (1 + e) ** 2\n')


def book_numbers() -> dict[str, dict]:
    """The numbers the book prints (no student id): its published answers use them."""
    from backprop_book import checkers
    from backprop_book.exercises import one_neuron_chain as e

    saved = checkers.student()
    checkers.set_student(None)
    try:
        return {SLOPE: e.sigmoid_slope_numbers(), GRAD: e.chain_numbers(),
                SENS: e.chain_numbers(e.SENSITIVITY)}
    finally:
        checkers.set_student(saved)


def right_numbers_of(student: str) -> dict[str, float]:
    """The first three answers, right for ``student``'s numbers, computed here from the
    formulas (the sigmoid's slope, then the chain's factors), as typed-in numbers."""
    from backprop_book import checkers
    from backprop_book.exercises import one_neuron_chain as e

    def sig(t):
        return 1 / (1 + np.exp(-t))

    saved = checkers.student()
    checkers.set_student(student)
    try:
        z = e.sigmoid_slope_numbers()["z"]
        chain, sens = e.chain_numbers(), e.chain_numbers(e.SENSITIVITY)
    finally:
        checkers.set_student(saved)

    def delta2_w2(n):  # 2 (a2 - y) a2 (1 - a2) w2, and a1
        a1 = sig(n["w1"] * n["x"] + n["b1"])
        a2 = sig(n["w2"] * a1 + n["b2"])
        return 2 * (a2 - n["y"]) * a2 * (1 - a2) * n["w2"], a1

    d, a1 = delta2_w2(chain)
    return {SLOPE: float(sig(z) * (1 - sig(z))), GRAD: float(d * a1 * (1 - a1) * chain["x"]),
            SENS: float(delta2_w2(sens)[0])}


TRANSPORT = ("from ipykernel.kernelapp import IPKernelApp as _App\n"
             "print('kernel transport:', _App.instance().transport, _App.instance().ip)\n")


@pytest.fixture(scope="module")
def cheats(tmp_path_factory):
    course = tmp_path_factory.mktemp("cheats")
    write_course(course)
    # the page's round: a roster with names, a due date, then generate
    names = ["hon", "nick", "paula", "mal", "nina", "bookish", "otto", "forger", "quinn",
             "copier"]
    (course / "roster.csv").write_text("id,first_name,last_name,email\n" + "".join(
        f"{n},{n.title()},Student,{n}@example.org\n" for n in names))
    nbgrader(course, "db", "student", "import", str(course / "roster.csv"))
    nbgrader(course, "db", "assignment", "add", FIRST, "--duedate=2099-01-01 00:00:00 UTC")
    nbgrader(course, "generate_assignment", FIRST, "--force")
    release = read(course / "release" / FIRST / f"{FIRST}.ipynb")
    source = read(course / "source" / FIRST / f"{FIRST}.ipynb")
    book = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
            for c in source["cells"] if c["metadata"]["nbgrader"].get("solution")}
    # (the chapter's later exercises, a function and typed formulas, follow these five)
    assert list(book)[:5] == [SLOPE, GRAD, SENS, TANH, CHAIN], list(book)
    published = book_numbers()
    redefine = "".join(f"ex.{name} = lambda *a: 'Right!'\n" for name in
                       ("check_sigmoid_slope", "check_grad_w1", "check_sensitivity",
                        "check_tanh_derivative", "check_tanh_chain"))
    students = {
        # her own code for the first answer, the book's way for the others
        "hon": dict(book, **{SLOPE: OWN_SLOPE}),
        # a neighbour's code, copied
        "nick": dict(book, **{SLOPE: OWN_SLOPE}),
        # the book's published solutions, pasted
        "paula": dict(book),
        # redefines every checker (the trial's stu29), then answers with garbage
        "mal": {SLOPE: redefine + "slope = 3.0\n"},
        # resets the identity to the book's (the trial's stu30), then the book's solutions
        "nina": dict(book, **{SLOPE: "from backprop_book.checkers import set_student\n"
                                    "set_student(None)\n" + book[SLOPE]}),
        # the book's published numbers, put where the given ones were (after the answer
        # cell draws its own again), then the solutions
        "bookish": {k: (v.replace("### BEGIN SOLUTION", f"nums = {published[k]!r}\n"
                                  "### BEGIN SOLUTION") if k in published else v)
                    for k, v in book.items()},
        # patches NumPy so every comparison is equal, then a wrong first answer
        "otto": dict(book, **{SLOPE: "np.allclose = lambda *a, **k: True\n"
                                    "np.isclose = lambda *a, **k: True\nslope = 3.0\n"}),
        # replaces the test cells' own function so they print Right! and record nothing
        # (and prints how its kernel talks to the grader)
        "forger": dict(book, **{SLOPE: TRANSPORT + "def graded(*a):\n    print('Right!')\n"
                                      "slope = 3.0\n"}),
        # types in Hon's right answers as numbers (the trial's stu26)
        "copier": {k: f"{n} = {v!r}\n" for (k, v), n in zip(
            right_numbers_of("hon").items(), ("slope", "dC_dw1", "dC_da1"), strict=True)},
        # reads the answer key out of the installed package
        "quinn": dict(book, **{SLOPE: "import backprop_book.exercises.one_neuron_chain as k\n"
                                     "slope = None\n" + book[SLOPE]}),
    }
    for student, code in students.items():
        folder = course / "submitted" / student / FIRST
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{FIRST}.ipynb").write_text(json.dumps(with_solutions(release, code)))
    # two nbgrader processes at once, each on its share (python -m bookkit autograde --jobs 2)
    assert autograde(course, FIRST, jobs=2, quiet=True) == 0
    scores = gradebook(course, FIRST, list(students))
    order = [f"check-{SLOPE}", f"check-{GRAD}", f"check-{SENS}", "check-ex-111-tanh",
             "check-ex-111-tanh-2"]
    return {"course": course, "scores": {s: [scores[s][t][0] for t in order] for s in scores},
            "points": len(grade_ids(release, "grade"))}


@pytest.mark.parametrize("student, deserved", [
    ("hon", [1, 1, 1, 1, 1]),
    ("nick", [1, 1, 1, 1, 1]),  # code copied from a neighbour: right for her numbers, listed
    ("paula", [1, 1, 1, 1, 1]),  # the book's solution pasted: the same, listed (below)
    ("mal", [0, 0, 0, 0, 0]),
    ("nina", [0, 0, 0, 0, 0]),
    ("bookish", [0, 0, 0, 1, 1]),  # a SymPy expression and a function are the same for all
    ("otto", [0, 1, 1, 1, 1]),
    ("forger", [0, 0, 0, 0, 0]),  # no answer reached the grader: the checks are forfeit
    ("quinn", [0, 0, 0, 0, 0]),
    ("copier", [0, 0, 0, 0, 0]),  # Hon's numbers are wrong for hers; listed (below)
])
def test_each_cheat_scores_what_the_work_deserves(cheats, student, deserved):
    assert cheats["scores"][student] == deserved, cheats["scores"]


def test_two_graders_at_once_give_their_kernels_local_sockets_of_their_own(cheats):
    """The class above was graded by two nbgrader processes at once (``autograde --jobs
    2``). Their kernels talk to them over local sockets named after each process (the
    course's ``nbgrader_config.py``), not over TCP: a TCP port picked free for one
    grader's kernel could be taken by the other's before it was bound, and the kernel died
    ("Address already in use"; the suite's own grading kernels lost seven submissions to it
    in one run before they got ports of their own, tests/support/kernel_ports.py)."""
    nb = read(cheats["course"] / "autograded" / "forger" / FIRST / f"{FIRST}.ipynb")
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    found = re.search(r"kernel transport: (\S+) (\S+)", printed)
    assert found, f"the forger's answer cell did not run: {printed[:500]!r}"
    assert found[1] == "ipc" and re.fullmatch(r".*/nbgrader-kernel-\d+", found[2]), found[0]


def test_copied_code_and_the_books_solution_are_listed_for_the_teacher(cheats):
    from bookkit.grades import similar

    lines = similar(cheats["course"], FIRST)
    assert f"{SLOPE}: hon, nick: identical" in lines, lines
    assert any(ln.startswith(f"{SLOPE}: ") and "paula" in ln and "book's solution" in ln
               for ln in lines), lines


def test_a_number_right_for_someone_elses_numbers_is_listed_for_the_teacher(cheats):
    """The trial's stu26 typed in stu01's answers and lost the points, but nothing said whose
    they were. The grader notes it, and ``grades similar`` lists it; the feedback never does."""
    from bookkit.grades import similar

    lines = similar(cheats["course"], FIRST)
    for check in (SLOPE, GRAD, SENS):
        assert f"check-{check}: copier: wrong for copier's numbers, right for hon's" in lines, lines
        assert f"check-{check}: bookish: wrong for bookish's numbers, right for the book's" in lines
    assert not [ln for ln in lines if ln.startswith(("check-", )) and ": hon:" in ln], lines
    nbgrader(cheats["course"], "generate_feedback", FIRST, "--student", "copier", "--force")
    feedback = cheats["course"] / "feedback" / "copier" / FIRST / f"{FIRST}.html"
    words = set(re.findall(r"[A-Za-z_']+", re.sub(r"<[^>]+>", " ", feedback.read_text())))
    assert "quite" in words and not {"hon", "hon's", "right_for"} & words


def test_the_grades_export_has_a_row_per_student(cheats, tmp_path):
    import csv

    from bookkit.grades import export

    with as_on_the_command_line(cheats["course"]):
        assert export(cheats["course"], tmp_path / "wide.csv") == len(cheats["scores"])
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "wide.csv").open())}
    points = str(cheats["points"])  # a point per test cell: Hon answered every one
    assert rows["hon"][FIRST] == points and rows["mal"][FIRST] == "0", rows
    assert rows["hon"]["first_name"] == "Hon" and rows["hon"]["email"] == "hon@example.org"
    assert rows["(max)"]["total"] == points


def test_grading_without_the_courses_config_refuses(tmp_path, capfd):
    """A teacher who drops ``source/`` into a course of their own, whose config lacks the
    book's hooks: nbgrader fails each submission with the reason on the terminal, instead of
    grading everyone against the book's numbers."""
    course = tmp_path / "plain"
    write_course(course)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'backprop-book'\n"
        f"c.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    nbgrader(course, "generate_assignment", FIRST, "--force")
    release = read(course / "release" / FIRST / f"{FIRST}.ipynb")
    folder = course / "submitted" / "ada" / FIRST
    folder.mkdir(parents=True)
    (folder / f"{FIRST}.ipynb").write_text(json.dumps(release))
    said = nbgrader(course, "autograde", FIRST, "--force", check=False)
    assert "There was an error processing assignment" in said, said
    assert not (course / "autograded" / "ada" / FIRST).exists()
    assert "refusing to grade" in capfd.readouterr().err


def test_parallel_grading_deals_every_student_to_exactly_one_process():
    students = [f"s{k:02d}" for k in range(7)]
    dealt = shares(students, 3)
    assert len(dealt) == 3 and sorted(sum(dealt, [])) == students
    assert shares(students[:1], 4) == [["s00"]]


# ------------------------------------------------------------------ a code exercise, per array
#
# The 2-2-2 chapter's backward_222, graded by nbgrader with the course's config: one test
# cell per returned array, each decided in nbgrader's process from the record the kernel
# made on the grader's own inputs (backprop_book.grading, codecheck.fresh_rngs). These
# students hand in the chapter with its class above (one generate, one autograde).

CODE_CHAPTER = "two-two-two"
NO_TRANSPOSE = ("W2.T @ delta2", "W2 @ delta2")
PARTS = [f"check-ex-222-backward-{p}" for p in ("dW1", "db1", "dW2", "db2")]


def code_exercise_class(release: dict, book: dict[str, str]) -> dict[str, dict]:
    """Three students of the code exercise (Ada, the chapter's solutions, is the fourth)."""
    cell = next(k for k, v in book.items() if "def backward_222" in v)
    assert NO_TRANSPOSE[0] in book[cell]
    buggy = book[cell].replace(*NO_TRANSPOSE)
    students = {
        "tess": dict(book, **{cell: buggy}),  # the transpose dropped: dW1, db1 wrong
        # the same bug, and NumPy patched so the kernel's every comparison is equal
        "otto": dict(book, **{cell: "np.allclose = lambda *a, **k: True\n" + buggy}),
        # the same bug, and the checker redefined to say Right!
        "mal": dict(book, **{cell: buggy + "\nex.check_backward_222 = "
                                           "lambda *a, **k: 'Right!'\n"}),
    }
    return {student: with_solutions(release, code) for student, code in students.items()}


@pytest.mark.parametrize("graded", [CODE_CHAPTER], indirect=True)
def test_a_code_exercise_is_graded_per_array_by_the_graders_own_run(graded):
    scores = {s: [graded["scores"][s][t][0] for t in PARTS] for s in ("ada", "tess", "otto", "mal")}
    feedback = {s: " ".join(html.split()) for s, html in graded["feedback"].items()}
    assert scores["ada"] == [1, 1, 1, 1], scores
    assert scores["tess"] == [0, 0, 1, 1], scores  # the output layer's arrays are right
    assert "the transpose is missing" in feedback["tess"]
    assert "fresh inputs of your own" in feedback["ada"]
    # the kernel said right to Otto (its NumPy patched); the grader's own run did not
    assert scores["otto"] == scores["tess"], scores
    assert "the transpose is missing" in feedback["otto"]
    # a redefined checker earns nothing: the grader checks again, and names why
    assert scores["mal"] == [0, 0, 0, 0], scores
    assert "not graded: a cell above this check" in feedback["mal"]
    for nb in graded["autograded"].values():  # the records served; none is kept
        assert "application/vnd.backprop-book.answer+json" not in json.dumps(nb)
