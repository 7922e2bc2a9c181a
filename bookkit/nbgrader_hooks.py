"""The course's one addition to nbgrader: tell the grading kernel whose work it grades.

``nbgrader autograde`` knows the student id of each submission but does not pass it to the
kernel that runs the notebook. :class:`StudentIdentity` runs first among the autograde
preprocessors and puts it in the environment the kernel inherits, where
:func:`backprop_book.classroom.class_student` reads it; the course's ``nbgrader_config.py``
installs it with :func:`autograde_preprocessors`.
"""

from __future__ import annotations

import os

from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import NbGraderPreprocessor

from backprop_book.classroom import STUDENT_ENV


class StudentIdentity(NbGraderPreprocessor):
    """Set ``STUDENT_ENV`` to the id of the submission about to be executed."""

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        if not student:
            raise ValueError("nbgrader gave no student id for this submission")
        os.environ[STUDENT_ENV] = str(student)
        return nb, resources


def autograde_preprocessors() -> list:
    """nbgrader's own autograde preprocessors, with :class:`StudentIdentity` first."""
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [StudentIdentity, *default]
