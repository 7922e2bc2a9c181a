"""nbgrader's gradebook, created without asking ``alembic`` each time.

When it creates a gradebook, nbgrader runs the ``alembic heads`` command to learn its
schema's version (a new Python, about 1.3 s of CPU), the same answer every time. The
tests create a dozen gradebooks; :func:`ask_alembic_once` makes nbgrader ask once per
process and reuse the answer. Everything else nbgrader does is as on the command line.
"""

from __future__ import annotations

import functools


def ask_alembic_once() -> None:
    import nbgrader.api

    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.cache(nbgrader.api.get_alembic_version)
