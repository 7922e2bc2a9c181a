"""`make handouts`: student notebooks without solutions, the instructor's with, and a zip.

Writes ``_build/handouts/student/*.ipynb`` (solutions replaced by placeholders, outputs
cleared), ``_build/handouts/instructor/*.ipynb`` (the book's notebooks as they are) and
``_build/handouts/backprop-book-handouts.zip`` with both folders and a short README.
Refuses to write a handout that still contains a line of a solution.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

from backprop_book.handouts import leaked_lines, make_handout

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "handouts"
README = """Backpropagation, nudge by nudge: class handouts

student/     the chapter notebooks with every exercise's solution replaced by a placeholder.
             Run a notebook top to bottom: it stops at the first exercise you have not done,
             and each checker says "not done yet" until you replace the placeholder.
instructor/  the same notebooks with the solutions (marked ### BEGIN SOLUTION / ### END
             SOLUTION, as nbgrader marks them, so `nbgrader generate_assignment` works too).

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


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "student").mkdir(parents=True)
    (OUT / "instructor").mkdir()
    total = 0
    for path in toc_notebooks():
        notebook = json.loads(path.read_text())
        handout = make_handout(notebook, path.name)
        leaks = leaked_lines(handout.notebook, handout.removed)
        if leaks:
            print(
                f"{path.name}: solution lines would leak into the handout: {leaks}", file=sys.stderr
            )
            return 1
        (OUT / "student" / path.name).write_text(json.dumps(handout.notebook, indent=1) + "\n")
        shutil.copy(path, OUT / "instructor" / path.name)
        total += handout.exercises
        print(
            f"{path.name}: {handout.exercises} exercises, {len(handout.removed)} solution lines removed"
        )
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
