"""Whose exercise numbers a kernel uses, in a class: the student's identity.

Each student works their own numbers (``checkers.set_student``). In a class they come from
who the student is, never from something the student types: the JupyterHub login
(``JUPYTERHUB_USER``) while they work, and nbgrader's student id while ``nbgrader autograde``
grades them (``STUDENT_ENV``, set in the grading kernel by the course's nbgrader hook), so
the numbers a student is given are the numbers the grader checks.
"""

from __future__ import annotations

import os

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


def use_class_identity() -> str | None:
    """Set the exercises' numbers from :func:`class_student`; return the id used."""
    student = class_student()
    set_student(student)
    return student
