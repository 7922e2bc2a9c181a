"""``python -m bookkit autograde <assignment> --jobs N``: nbgrader autograde on N cores.

nbgrader grades one submission after another, in one process. This runs ``--jobs``
``nbgrader autograde`` processes at once in the course folder, each on its share of the
submitted students (the others excluded with nbgrader's own
``--CourseDirectory.student_id_exclude``), all writing into the same gradebook (SQLite
serializes their short writes). Each process is nbgrader as the command line runs it, with
the course's ``nbgrader_config.py``. Extra arguments (``--force``) go to every process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .grades import default_course


def submitted(course: Path, assignment: str) -> list[str]:
    """The students with a submission of ``assignment`` in ``course/submitted/``."""
    return sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}")
                  if p.is_dir())


def shares(students: list[str], jobs: int) -> list[list[str]]:
    """``students`` dealt round-robin into at most ``jobs`` non-empty shares."""
    jobs = max(1, min(jobs, len(students)))
    return [students[k::jobs] for k in range(jobs)]


def autograde(course: Path, assignment: str, jobs: int, extra: list[str] | None = None,
              quiet: bool = False) -> int:
    """Autograde every submission of ``assignment`` in ``jobs`` processes; 0 if all passed."""
    students = submitted(course, assignment)
    if not students:
        print(f"no submissions of {assignment} in {course / 'submitted'}", file=sys.stderr)
        return 1
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("JUPYTERHUB_USER", None)
    running = []
    for share in shares(students, jobs):
        others = sorted(set(students) - set(share))
        command = [nbgrader, "autograde", assignment, *(extra or [])]
        if others:
            command.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
        out = subprocess.DEVNULL if quiet else None
        running.append(subprocess.Popen(command, cwd=course, env=env, stdout=out, stderr=out))
    codes = [p.wait() for p in running]
    return max(codes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=None,
                        help="default: this folder if it is a course, else course/")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes at once (default: the machine's cores)")
    args, extra = parser.parse_known_args(argv)
    return autograde(args.course or default_course(), args.assignment, args.jobs, extra)
