"""Handouts: solutions come out cleanly, placeholders run, nothing of a solution leaks."""

from __future__ import annotations

import pytest

from bookkit.handouts import (
    CHECK_TAG,
    FUNCTION_STUB,
    HandoutError,
    assigned_names,
    leaked_lines,
    make_handout,
    strip_code,
)


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text):
    return {
        "cell_type": "code",
        "metadata": {},
        "source": text,
        "outputs": [],
        "execution_count": None,
    }


def notebook(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


SOLUTION = (
    "answer = None  # your answer replaces None\n### BEGIN SOLUTION\n"
    "delta2 = 2 * (a2 - y) * a2 * (1 - a2)\nanswer = delta2 * a1\n### END SOLUTION\n"
)
EXERCISE = notebook(
    md("```{exercise} One gradient\n:label: ex-one\n\nCompute dC/dw2.\n```"),
    md("```{solution-start} ex-one\n:class: dropdown\n```"),
    md("The product of three factors."),
    code(SOLUTION),
    md("```{solution-end}\n```"),
    code("check_dC_dw2(answer)"),
)


def test_top_level_solution_keeps_its_placeholder_and_reveals_no_inner_name():
    out, removed = strip_code(SOLUTION, "cell")
    assert out == "answer = None  # your answer replaces None\n# YOUR CODE HERE\n"
    assert "delta2" not in out, "a name the solution uses on the way must not show"
    assert len(removed) == 2


def test_an_answer_without_a_placeholder_above_the_markers_is_refused():
    bare = notebook(
        md("```{exercise} One gradient\n:label: ex-one\n\nCompute it.\n```"),
        md("```{solution-start} ex-one\n```"),
        code("### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\n"),
        md("```{solution-end}\n```"),
        code("check_it(answer)"),
    )
    with pytest.raises(HandoutError, match="placeholder"):
        make_handout(bare, "ch1")


def test_a_placeholder_keeps_the_given_numbers():
    # ex-softmax-smoothing once had `nums = None` (from `y[nums["c"]] += ...`)
    src = (
        "y_s = None  # your answer replaces None\n### BEGIN SOLUTION\n"
        "y_s = np.zeros(3)\ny_s[nums['c']] += 1\n### END SOLUTION\n"
    )
    out, _ = strip_code(src, "cell")
    assert "nums" not in out


def test_solution_inside_a_function_becomes_a_friendly_stub():
    src = "def tanh_prime(z):\n    ### BEGIN SOLUTION\n    return 1 - np.tanh(z) ** 2\n    ### END SOLUTION\n"
    out, _ = strip_code(src, "cell")
    assert out == "def tanh_prime(z):\n    " + FUNCTION_STUB + "\n"
    compile(out, "handout", "exec")  # still valid Python


def test_code_around_the_markers_is_kept():
    src = "x = 1\n### BEGIN SOLUTION\nanswer = x + 1\n### END SOLUTION\nprint(answer)\n"
    out, _ = strip_code(src, "cell")
    assert out == "x = 1\n# YOUR CODE HERE\nprint(answer)\n"


@pytest.mark.parametrize(
    "src, message",
    [
        ("### BEGIN SOLUTION\nanswer = 1\n", "never closed"),
        ("answer = 1\n### END SOLUTION\n", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "second"),
    ],
)
def test_broken_markers_are_refused_with_a_reason(src, message):
    with pytest.raises(HandoutError, match=message):
        strip_code(src, "ch1, cell 3")


def test_handout_drops_the_gate_and_written_solution_and_keeps_the_checker():
    result = make_handout(EXERCISE, "ch1")
    sources = ["".join(c["source"]) for c in result.notebook["cells"]]
    assert result.exercises == 1
    assert not any("solution-start" in s or "solution-end" in s for s in sources)
    assert "The product of three factors." not in sources
    assert sources[-1] == "check_dC_dw2(answer)"
    assert sources[2].startswith("answer = None") and "delta2" not in sources[2]
    assert leaked_lines(result.notebook, result.removed) == []


def test_handout_starts_with_the_student_id_cell_and_tags_the_checker():
    cells = make_handout(EXERCISE, "ch1", student_id="ada").notebook["cells"]
    assert "student-id" in cells[1]["metadata"]["tags"]
    assert "STUDENT_ID = 'ada'" in cells[1]["source"]
    namespace = {}
    exec(compile(cells[1]["source"], "handout", "exec"), namespace)
    from backprop_book.checkers import set_student, student

    assert student() == "ada"
    set_student(None)
    assert cells[-1]["metadata"]["tags"] == [CHECK_TAG]
    no_exercises = make_handout(notebook(md("# Title"), code("x = 1")), "intro")
    assert len(no_exercises.notebook["cells"]) == 2, "no id cell where there is nothing to check"


def test_the_source_notebook_is_not_modified():
    before = repr(EXERCISE)
    make_handout(EXERCISE, "ch1")
    assert repr(EXERCISE) == before


def test_an_unmarked_code_cell_in_a_gate_is_refused():
    nb = notebook(
        md("```{solution-start} ex\n```"), code("answer = 42"), md("```{solution-end}\n```")
    )
    with pytest.raises(HandoutError, match="must mark its solution"):
        make_handout(nb, "ch1")


def test_an_unclosed_gate_is_refused():
    with pytest.raises(HandoutError, match="never closed"):
        make_handout(notebook(md("```{solution-start} ex\n```")), "ch1")


def test_the_leak_check_can_fail():
    removed = ["answer = delta2 * a1\n", "x = 1\n"]
    assert leaked_lines(notebook(code("answer = None\n")), removed) == []
    handout = notebook(code("answer = delta2 * a1  # copied back by mistake"))
    assert leaked_lines(handout, removed) == ["answer = delta2 * a1"]  # short lines are not telling


def test_assigned_names_reads_tuples_and_annotations():
    assert assigned_names("a, (b, c) = 1, (2, 3)\nd: int = 4\ne += 1\nprint(f)") == [
        "a",
        "b",
        "c",
        "d",
        "e",
    ]
    assert assigned_names("this is not python") == []


def test_a_line_the_chapter_also_teaches_is_not_a_leak_but_an_extra_copy_is():
    taught = "db = Delta.sum(axis=1, keepdims=True)"
    source = notebook(
        code(taught + "\n"),
        md("```{solution-start} ex\n```"),
        code("### BEGIN SOLUTION\n" + taught + "\n### END SOLUTION\n"),
        md("```{solution-end}\n```"),
    )
    result = make_handout(source, "ch")
    assert leaked_lines(result.notebook, result.removed, source=source) == []
    assert leaked_lines(result.notebook, result.removed) == [taught], "without the source: strict"
    leaky = notebook(*result.notebook["cells"], code(taught))
    assert leaked_lines(leaky, result.removed, source=source) == [taught]


def test_the_student_id_cell_has_a_cell_id_and_the_handout_validates():
    import json
    import warnings

    import nbformat

    result = make_handout(EXERCISE, "ch1", student_id="ada").notebook
    for index, cell in enumerate(result["cells"]):
        cell.setdefault("id", f"cell-{index}") if index != 1 else None
    assert result["cells"][1]["id"] == "student-id"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MissingIDFieldWarning included
        nbformat.validate(nbformat.reads(json.dumps(result), as_version=4))


def test_chapter_placeholders_name_only_the_answers_the_checkers_read():
    import json

    from bookkit.course import checked_names
    from bookkit.paths import ROOT

    for path in sorted((ROOT / "book").glob("*.ipynb")):
        source = json.loads(path.read_text())
        if "{solution-start}" not in path.read_text():
            continue
        cells = make_handout(source, path.name).notebook["cells"]
        answers = {n for c in cells if CHECK_TAG in c["metadata"].get("tags", [])
                   for n in checked_names(c)}
        for cell in cells:
            text = "".join(cell["source"])
            if cell["cell_type"] == "code" and "# YOUR CODE HERE" in text:
                shown = set(assigned_names(text))
                assert shown <= answers, f"{path.name}: {shown - answers} reveal the solution"


def test_the_students_zip_holds_no_solution_and_the_instructors_is_separate(tmp_path):
    import zipfile

    from bookkit.handouts import write_zips

    (tmp_path / "student" / "ada").mkdir(parents=True)
    (tmp_path / "student" / "ch.ipynb").write_text("{}")
    (tmp_path / "student" / "ada" / "ch.ipynb").write_text("{}")
    (tmp_path / "instructor").mkdir()
    (tmp_path / "instructor" / "ch.ipynb").write_text("### BEGIN SOLUTION")
    students, instructor = write_zips(tmp_path)
    names = zipfile.ZipFile(students).namelist()
    assert sorted(names) == ["README.txt", "student/ada/ch.ipynb", "student/ch.ipynb"]
    readme = zipfile.ZipFile(students).read("README.txt").decode()
    assert "instructor/" not in readme and "student/" in readme
    assert "instructor/ch.ipynb" in zipfile.ZipFile(instructor).namelist()
