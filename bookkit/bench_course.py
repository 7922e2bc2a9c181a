"""Time nbgrader autograde on the course: seconds per student, per chapter, and a class.

Builds the course in a temporary folder, generates each chapter's release, submits the
chapter's solutions as ``--students`` students (each with their own numbers) and times
one ``nbgrader autograde`` of them all. Prints wall and CPU seconds per student and the
wall time for a class of ``--class-size``, graded one student after another (nbgrader's
way). Then, for the first chapter, students per minute graded one at a time and with
``--jobs`` processes at once (``python -m bookkit autograde``). On a shared machine the
wall time grows with the load; the CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .autograde import autograde
from .course import write_course


def cpu_seconds() -> float:
    """CPU time of this process's finished children (nbgrader and its kernels)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def solved(release: dict, source: dict) -> dict:
    """The release with every solution cell as the source has it (the chapter's solution)."""
    answers = {c["id"]: c["source"] for c in source["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        if cell["id"] in answers:
            cell["source"] = answers[cell["id"]]
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--class-size", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", help="one assignment (default: every chapter)")
    args = parser.parse_args(argv)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("JUPYTERHUB_USER", None)
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        grades = write_course(course)
        print(f"{'assignment':20} {'checks':>6} {'s/student':>10} {'CPU s':>8} "
              f"{'class of ' + str(args.class_size):>14}")
        for stem, ids in grades.items():
            if args.only and stem != args.only:
                continue
            run = [nbgrader, "generate_assignment", stem, "--force"]
            subprocess.run(run, cwd=course, env=env, check=True, capture_output=True)
            release = json.loads((course / "release" / stem / f"{stem}.ipynb").read_text())
            source = json.loads((course / "source" / stem / f"{stem}.ipynb").read_text())
            for k in range(args.students):
                folder = course / "submitted" / f"student-{k:03d}" / stem
                folder.mkdir(parents=True)
                (folder / f"{stem}.ipynb").write_text(json.dumps(solved(release, source)))
            start, cpu = time.perf_counter(), cpu_seconds()
            subprocess.run([nbgrader, "autograde", stem, "--force"], cwd=course, env=env,
                           check=True, capture_output=True)
            per = (time.perf_counter() - start) / args.students
            per_cpu = (cpu_seconds() - cpu) / args.students
            minutes = per * args.class_size / 60
            print(f"{stem:20} {len(ids):6d} {per:10.2f} {per_cpu:8.2f} {minutes:11.1f} min",
                  flush=True)
        stem = args.only or next(iter(grades))
        print(f"\n{stem}, {args.students} students: students per minute")
        for jobs in sorted({1, args.jobs}):
            start = time.perf_counter()
            code = autograde(course, stem, jobs, ["--force"], quiet=True)
            rate = args.students / (time.perf_counter() - start) * 60
            print(f"  {jobs} process{'es' if jobs > 1 else ''} at once: {rate:5.1f} students/min"
                  f"{'' if code == 0 else ' (some failed)'}", flush=True)
    return 0

