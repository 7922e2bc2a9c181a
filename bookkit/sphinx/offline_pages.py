"""Keep pages free of scripts the offline book cannot use.

Jupyter Book 1 always loads sphinx-thebe, whose setup registers an inline
configuration script on every ``env-before-read-docs`` event. A build that
executes notebooks fires that event more than once, so each page declares
``const THEBE_JS_URL`` twice and the browser reports a SyntaxError. Thebe
itself needs a remote kernel (Binder) the offline book does not have, so we
drop its scripts from every page rather than silencing the error.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or ""
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe(s)]


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
