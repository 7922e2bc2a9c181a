"""How ``make test`` runs the book's notebooks with nbval: a plugin tests/conftest.py registers.

The build already runs every notebook with the book's numbers, every cell, stopping at the
first error. So nbval's run of each chapter is made the run with a student's own numbers:
before the first cell, the kernel is given student ``NBVAL_STUDENT`` (every exercise then
draws numbers of its own, which its solution has never seen), and every checker cell must
say "Right!" once per check. A wrong answer raises, so nbval fails the cell; an answer left
at its placeholder says "Not done yet" without raising, and fails here.

A plugin, not hooks in tests/conftest.py: a conftest.py applies only to the folder it is in,
and nbval's items are under book/.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

#: nbval runs each chapter with this student's exercise numbers.
NBVAL_STUDENT = "ci-student-7"
SET_STUDENT = (
    "from backprop_book.checkers import set_student, student\n"
    f"set_student({NBVAL_STUDENT!r})\nprint(student())"
)


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_itemcollected(item: pytest.Item) -> None:
    """nbval's cells of one notebook run in one kernel, in order: one worker runs them all."""
    if _is_nbval_cell(item):
        item.add_marker(pytest.mark.xdist_group("nbval " + item.nodeid.split("::")[0]))


def _give_the_kernel_a_student(notebook) -> None:
    """Set the student id in the kernel nbval has just started for ``notebook``.

    A kernel that did not take the id fails here, loudly, instead of quietly running the
    book's numbers a second time.
    """
    kernel = notebook.kernel
    msg_id = kernel.execute_cell_input(SET_STUDENT, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=60)
    said = []
    while True:
        msg = kernel.get_message(stream="iopub", timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        said.append(msg["content"].get("text") or msg["content"].get("evalue") or "")
    if "".join(said).strip() != NBVAL_STUDENT:
        pytest.fail(f"{notebook.name}: the kernel did not take the student id: {said}",
                    pytrace=False)
    notebook.bp_student = NBVAL_STUDENT


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """The first cell's setup starts the notebook's kernel; the student is set right after."""
    result = yield
    if _is_nbval_cell(item) and not getattr(item.parent, "bp_student", None):
        _give_the_kernel_a_student(item.parent)
    return result


@functools.lru_cache
def checker_cells(path: Path) -> dict[str, int]:
    """A chapter's checker cells, found as the handouts find them: cell id -> checks made."""
    from bookkit.handouts import CHECK_TAG, make_handout

    text = path.read_text()
    if "{solution-start}" not in text:
        return {}
    cells = make_handout(json.loads(text), f"book/{path.stem}").notebook["cells"]
    return {c["id"]: max(1, "".join(c["source"]).count(".check_"))
            for c in cells if CHECK_TAG in c["metadata"].get("tags", [])}


def _text(outputs) -> str:
    return "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for o in outputs or [])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A checker cell nbval ran must say "Right!" once for each check it makes."""
    result = yield
    if _is_nbval_cell(item):
        checks = checker_cells(Path(item.parent.path)).get(item.cell.get("id"), 0)
        said = _text(item.test_outputs)
        if checks and (said.count("Right!") < checks or "Not done yet" in said):
            pytest.fail(f"{item.parent.name}: a checker cell with student {NBVAL_STUDENT}'s"
                        f" numbers did not say Right! {checks} time(s); it said:\n{said}",
                        pytrace=False)
    return result
