"""`make handouts`: student notebooks without solutions, the instructor's with, and a zip.

Writes ``_build/handouts/student/*.ipynb`` (solutions replaced by placeholders, outputs
cleared), ``_build/handouts/instructor/*.ipynb`` (the book's notebooks as they are) and
``_build/handouts/backprop-book-handouts.zip`` with both folders and a short README.
Refuses to write a handout that still contains a line of a solution.

``--students roster.txt`` (one id per line) also writes ``student/<id>/*.ipynb`` with each
student's id already set, so neighbours work the same exercises with different numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from pathlib import Path

from backprop_book.handouts import leaked_lines, make_handout

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "handouts"
README = """Backpropagation, nudge by nudge: class handouts

student/     the chapter notebooks (and student/<id>/ per student, when a roster was given) with every exercise's solution replaced by a placeholder.
             Run a notebook top to bottom: it stops at the first exercise you have not done,
             and each checker says "not done yet" until you replace the placeholder.
instructor/  the same notebooks with the solutions (marked ### BEGIN SOLUTION / ### END
             SOLUTION, as nbgrader marks them). For nbgrader on a JupyterHub, do not copy
             these: `make course` in the book's repository writes a course whose
             assignments nbgrader grades right (see the book's page For instructors).

The notebooks import the book's helper package `backprop_book`; install it with the book's
requirements.txt (see the README of the book's repository).
"""


def toc_notebooks() -> list[Path]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                files.append(item["file"])
            walk(item.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [ROOT / (f + ".ipynb") for f in files if (ROOT / (f + ".ipynb")).exists()]


def read_roster(path: Path) -> list[str]:
    """Student ids, one per line; blank lines and # comments are skipped."""
    ids = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    ids = [i for i in ids if i]
    bad = [i for i in ids if not all(ch.isalnum() or ch in "-_." for ch in i)]
    if bad:
        raise SystemExit(f"{path}: ids may use letters, digits, '-', '_' and '.', not {bad}")
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=Path, help="a roster: one student id per line")
    args = parser.parse_args(argv)
    roster = read_roster(args.students) if args.students else []
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "student").mkdir(parents=True)
    (OUT / "instructor").mkdir()
    total = 0
    for path in toc_notebooks():
        notebook = json.loads(path.read_text())
        handout = make_handout(notebook, path.name)
        leaks = leaked_lines(handout.notebook, handout.removed, source=notebook)
        if leaks:
            print(
                f"{path.name}: solution lines would leak into the handout: {leaks}", file=sys.stderr
            )
            return 1
        (OUT / "student" / path.name).write_text(json.dumps(handout.notebook, indent=1) + "\n")
        for student_id in roster:
            own = make_handout(notebook, path.name, student_id=student_id).notebook
            (OUT / "student" / student_id).mkdir(exist_ok=True)
            (OUT / "student" / student_id / path.name).write_text(json.dumps(own, indent=1) + "\n")
        shutil.copy(path, OUT / "instructor" / path.name)
        total += handout.exercises
        print(
            f"{path.name}: {handout.exercises} exercises, {len(handout.removed)} solution lines removed"
        )
    folders = ["student", "instructor", *(f"student/{s}" for s in roster)]
    for folder in folders:  # the figures the notebooks show, beside every notebook
        shutil.copytree(ROOT / "book" / "images", OUT / folder / "images")
    (OUT / "README.txt").write_text(README)
    archive = OUT / "backprop-book-handouts.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(OUT.rglob("*")):
            if file.is_file() and file != archive:
                z.write(file, file.relative_to(OUT))
    print(
        f"{total} exercises; handouts in {OUT.relative_to(ROOT)}, zip: {archive.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
