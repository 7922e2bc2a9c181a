"""`make course`: an nbgrader course with one lean assignment per chapter, in _build/course.

Writes ``_build/course/nbgrader_config.py`` and ``_build/course/source/<chapter>/
<chapter>.ipynb`` (with the images it shows), built by :mod:`backprop_book.course` from the
chapter notebooks. Then, in ``_build/course``: ``nbgrader generate_assignment <chapter>``
makes the student release, ``nbgrader autograde <chapter>`` grades the submissions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from make_handouts import toc_notebooks

from backprop_book.course import assignment, images

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "course"
CONFIG = '''\
"""nbgrader configuration of the backprop book's course (written by `make course`)."""

import os

from backprop_book.nbgrader_hooks import autograde_preprocessors

c = get_config()  # noqa: F821 (nbgrader provides it)
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.course_id = "backprop-book"
# Tell each grading kernel whose submission it runs: the per-student numbers depend on it.
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.Execute.timeout = 120
# Where releases and submissions meet; a hub points every server at the same folder.
c.Exchange.root = os.environ.get(
    "BACKPROP_BOOK_EXCHANGE", os.path.join(os.path.dirname(here), "exchange")
)
'''


def write_course(out: Path = OUT) -> dict[str, list[str]]:
    """Write the course into ``out``; return each assignment's test-cell grade ids."""
    shutil.rmtree(out / "source", ignore_errors=True)
    (out / "source").mkdir(parents=True)
    (out / "nbgrader_config.py").write_text(CONFIG)
    grades = {}
    for path in toc_notebooks():
        notebook = json.loads(path.read_text())
        if "{solution-start}" not in path.read_text():
            continue
        nb, grade_ids = assignment(notebook, path.name)
        folder = out / "source" / path.stem
        folder.mkdir()
        (folder / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        for image in images(nb):
            (folder / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path.parent / image, folder / image)
        grades[path.stem] = grade_ids
        print(f"{path.stem}: {len(nb['cells'])} cells, {len(grade_ids)} graded checks")
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the course folder")
    args = parser.parse_args(argv)
    write_course(args.out)
    print(f"course in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
