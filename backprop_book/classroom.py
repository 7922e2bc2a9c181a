"""Whose exercise numbers a kernel uses, in a class: the student's identity.

Each student works their own numbers (``checkers.set_student``). In a class they come from
who the student is, never from something the student types: the JupyterHub login
(``JUPYTERHUB_USER``) while they work, and nbgrader's student id while ``nbgrader autograde``
grades them (``STUDENT_ENV``, set in the grading kernel by the course's nbgrader hook), so
the numbers a student is given are the numbers the grader checks.
"""

from __future__ import annotations

import os
import sys

from .checkers import set_student

#: The environment variable through which the autograder tells the kernel whose work it is.
STUDENT_ENV = "BACKPROP_BOOK_STUDENT"
HUB_USER_ENV = "JUPYTERHUB_USER"


class IdentityError(RuntimeError):
    """The autograder ran without telling the kernel whose submission it grades."""


def class_student() -> str | None:
    """The student whose numbers this kernel should use, or ``None`` (the book's numbers).

    Under ``nbgrader autograde`` it is nbgrader's student id (``STUDENT_ENV``, set by the
    course's config); otherwise it is the JupyterHub login (``JUPYTERHUB_USER``), which
    the hub sets in every server it spawns, or ``None`` outside a hub.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        student = os.environ.get(STUDENT_ENV, "").strip()
        if not student:
            raise IdentityError(
                f"nbgrader autograde ran without {STUDENT_ENV}: grade with the course's "
                "nbgrader_config.py (it adds bookkit.nbgrader_hooks.StudentIdentity), "
                "or every student would be checked against someone else's numbers."
            )
        return student
    return os.environ.get(HUB_USER_ENV) or None


#: Exit status of a grading kernel that refuses to grade without the course's config.
REFUSED = 70


def use_class_identity(quiet: bool = False) -> str | None:
    """Set the exercises' numbers from :func:`class_student`; return the id used.

    Unless ``quiet``, says whose numbers the kernel now has: a student outside the class hub
    learns that they have the book's numbers, not the ones they will be graded on.

    Under ``nbgrader autograde`` without the course's config (no student id handed to the
    kernel), grading must not go on with the wrong numbers: the message goes to the
    grader's terminal and the kernel exits, so nbgrader reports the submission as failed
    instead of scoring it.
    """
    try:
        student = class_student()
    except IdentityError as error:
        print(f"backprop_book: refusing to grade. {error}", file=sys.__stderr__, flush=True)
        os._exit(REFUSED)
    set_student(student)
    if not quiet:
        if student is None:
            print("No class login found: these are the book's numbers, whose solutions are "
                  "published. Your course grades your answers with the numbers of your "
                  "login: work on the class hub, where this cell gives you your own.")
        elif os.environ.get("NBGRADER_EXECUTION") != "autograde":
            print(f"Your numbers are drawn for {student!r}, your login; the grader checks "
                  "your answers with the same numbers.")
    return student
