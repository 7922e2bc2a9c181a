"""The course's grades for a teacher: a one-row-per-student export, and answers to look at.

``python -m bookkit grades export [--course course] [--out grades-wide.csv]``: from
nbgrader's gradebook, one row per student (id, names, e-mail, the score of each
assignment in the course's order, the total), the shape a learning platform imports.

``python -m bookkit grades similar <assignment> [--course course]``: answer cells in the
submissions that are the same code, token for token (comments and spacing aside), as
another student's or as the book's published solution; and, from the autograded
notebooks, each wrong number that the grader found right for another student's numbers or
for the book's (a copied answer). Points are never taken for it (a one-line answer is
often written the same way by two people who did the work); it is a list for the teacher
to look at.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tokenize
from collections import defaultdict
from pathlib import Path

from .course import OUT


def default_course() -> Path:
    """The course folder a command means: the current folder when it is one (it has
    ``nbgrader_config.py`` and ``source/``), else ``course/`` at the repository's root."""
    here = Path.cwd()
    return here if (here / "nbgrader_config.py").exists() and (here / "source").is_dir() else OUT


def assignments_in_order(course: Path) -> list[str]:
    """The assignments of ``course``'s ``source/``, in the order of its README (the book's)."""
    names = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    readme = course / "README.md"
    if readme.exists():
        text = readme.read_text()
        names.sort(key=lambda n: (text.find(f"`{n}`") if f"`{n}`" in text else 10**9, n))
    return names


def export(course: Path, out: Path) -> int:
    """Write the wide CSV; return the number of students."""
    from nbgrader.api import Gradebook, MissingEntry

    order = assignments_in_order(course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        known = {a.name for a in gb.assignments}
        order = [a for a in order if a in known] + sorted(known - set(order))
        rows = []
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"student_id": student.id, "last_name": student.last_name or "",
                   "first_name": student.first_name or "", "email": student.email or ""}
            total = 0.0
            for name in order:
                try:
                    score = gb.find_submission(name, student.id).score
                except MissingEntry:
                    score = 0.0
                row[name] = f"{score:g}"
                total += score
            row["total"] = f"{total:g}"
            rows.append(row)
        maximum = {a: gb.find_assignment(a).max_score for a in order}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["student_id", "last_name", "first_name", "email", *order,
                                    "total"])
        writer.writeheader()
        writer.writerows(rows)
        writer.writerow({"student_id": "(max)", **{a: f"{m:g}" for a, m in maximum.items()},
                         "total": f"{sum(maximum.values()):g}"})
    return len(rows)


def normal_form(code: str) -> str:
    """``code`` as its tokens, without comments, spacing or the placeholder line."""
    lines = [ln for ln in code.splitlines()
             if not ln.rstrip().endswith("# your answer replaces None")
             and "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln]
    try:
        tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
        return " ".join(t.string for t in tokens if t.type not in (
            tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return " ".join(code.split())


def answers(nb: dict) -> dict[str, str]:
    return {c["metadata"]["nbgrader"]["grade_id"]: normal_form("".join(c["source"]))
            for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}


def similar(course: Path, assignment: str) -> list[str]:
    """One line per group of identical answers (two students or more, or the book's)."""
    source = json.loads((course / "source" / assignment / f"{assignment}.ipynb").read_text())
    book = answers(source)
    release = course / "release" / assignment / f"{assignment}.ipynb"
    untouched = answers(json.loads(release.read_text())) if release.exists() else {}
    by_cell: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted((course / "submitted").glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        for cell, code in answers(json.loads(path.read_text())).items():
            by_cell[cell][code].append(student)
    lines = []
    for cell, groups in by_cell.items():
        for code, students in groups.items():
            if not code.strip() or code == untouched.get(cell):
                continue
            same_as_book = code == book.get(cell)
            if len(students) > 1 or same_as_book:
                what = "the book's solution, token for token" if same_as_book else "identical"
                lines.append(f"{cell}: {', '.join(students)}: {what}")
    return lines + borrowed_numbers(course, assignment)


def borrowed_numbers(course: Path, assignment: str) -> list[str]:
    """One line per wrong answer that the grader found right for someone else's numbers
    (another student's, or the book's): what a copied number, or the book's, looks like."""
    from .nbgrader_hooks import RIGHT_FOR

    lines = []
    for path in sorted((course / "autograded").glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        for cell in json.loads(path.read_text())["cells"]:
            found = cell.get("metadata", {}).get("backprop_book", {}).get(RIGHT_FOR)
            if found:
                whose = ", ".join("the book's" if o is None else f"{o}'s" for o in found)
                check = cell["metadata"].get("nbgrader", {}).get("grade_id", cell.get("id"))
                lines.append(f"{check}: {student}: wrong for {student}'s numbers, right for "
                             f"{whose}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    ex = sub.add_parser("export", help="one row per student, a column per assignment")
    ex.add_argument("--course", type=Path, default=None, help="default: this folder if it "
                    "is a course, else course/ at the repository's root")
    ex.add_argument("--out", type=Path, default=None, help="default: <course>/grades-wide.csv")
    si = sub.add_parser("similar", help="answers identical to another's or to the book's")
    si.add_argument("assignment")
    si.add_argument("--course", type=Path, default=None)
    args = parser.parse_args(argv)
    args.course = args.course or default_course()
    if args.what == "export":
        out = args.out or args.course / "grades-wide.csv"
        print(f"{export(args.course, out)} students written to {out}")
    else:
        lines = similar(args.course, args.assignment)
        print("\n".join(lines) if lines else "no two answers alike, none the book's")
    return 0
