"""nbgrader in the test process, without two costs it pays again and again for the same answer.

* When it creates a gradebook, nbgrader runs the ``alembic heads`` command to learn its
  schema's version (a new Python, about 1.3 s of CPU), the same answer every time; the
  tests create a dozen gradebooks.
* For every cell of every notebook it reads or writes, nbgrader checks the cell's metadata
  with ``jsonschema.validate(metadata, schema)``, which first checks the schema itself
  against JSON Schema's metaschema (2-3 ms; some three thousand times in the grading
  tests). The schema is nbgrader's own file, the same every time.

:func:`ask_once` makes nbgrader ask alembic once per process and check each schema once,
then each cell's metadata with that schema's validator: the same checks, the same errors.
Everything else nbgrader does is as on the command line.
"""

from __future__ import annotations

import functools


def ask_once() -> None:
    import jsonschema
    import nbgrader.api
    import nbgrader.nbgraderformat.common as common

    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.cache(nbgrader.api.get_alembic_version)
    if getattr(common, "jsonschema", None) is jsonschema:
        common.jsonschema = _CheckedSchemas()


class _CheckedSchemas:
    """``jsonschema`` as nbgrader's metadata check uses it, each schema checked once."""

    def __init__(self):
        import jsonschema

        self._validators: dict[str, object] = {}
        self._jsonschema = jsonschema

    def validate(self, instance, schema) -> None:
        import json

        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[key] = cls(schema)
        error = self._jsonschema.exceptions.best_match(
            self._validators[key].iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)
