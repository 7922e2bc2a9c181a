"""``python -m bookkit <verb> [options]``: the one entry point the Makefile calls."""

from __future__ import annotations

import importlib
import sys

#: verb -> (module with a ``main(argv) -> int``, what it does)
VERBS = {
    "book": ("bookkit.build", "build the HTML book into _build/html"),
    "assets": ("bookkit.assets", "fetch and assemble the offline browser assets (web/dist)"),
    "handouts": ("bookkit.handouts", "student and instructor notebooks, and their two zips"),
    "course": ("bookkit.course", "the nbgrader course"),
    "autograde": ("bookkit.autograde", "nbgrader autograde, several submissions at once"),
    "grades": ("bookkit.grades", "export grades (a row per student); list answers alike"),
    "hub": ("bookkit.hub", "a demo JupyterHub class on 127.0.0.1"),
    "pdf": ("bookkit.pdf", "the whole book as one PDF"),
    "screenshots": ("bookkit.screenshots", "every page of the built book, whole, as JPEG"),
    "worksheets": ("bookkit.worksheets", "worksheet PDFs per student and per chapter, the key"),
    "mutants": ("backprop_book.mutants", "plant the classic backprop bugs; show what catches each"),
    "bench": ("bookkit.bench", "time the book's backprop against loops, matmuls and torch"),
    "bench-course": ("bookkit.bench_course", "time nbgrader autograding per student"),
    "bench-pages": ("bookkit.bench_pages", "time each page to settled math and a live widget"),
}


def usage() -> str:
    width = max(map(len, VERBS))
    lines = [f"  {verb:{width}}  {what}" for verb, (_, what) in VERBS.items()]
    return "usage: python -m bookkit <verb> [options]\n\nverbs:\n" + "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(f"unknown verb {verb!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[verb][0])
    code = module.main(rest) if verb != "mutants" else module.main()
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
