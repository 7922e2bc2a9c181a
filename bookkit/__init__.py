"""bookkit: what makes, prints, hands out, grades and audits the book.

The book has two packages, and the dependency goes one way:

* ``backprop_book`` is what a chapter, or a student's kernel, imports: the reference
  backprop, gradient checks, plots, widgets, exercises and their checkers, the mutants.
* ``bookkit`` (this package) is everything else, the machinery around the book. It may
  import ``backprop_book``; ``backprop_book`` never imports it (a test checks).

One entry point, ``python -m bookkit <verb>`` (``--help`` lists the verbs), is what the
Makefile calls. The map:

==================  =====================================================================
``paths``           where things are (ROOT, BUILD, HTML, WEB, ...)
``toc``             the book's shape, read from ``_toc.yml``
``anatomy``         the markers of a chapter notebook (exercises, solutions, checks) and
                    the reading of its code; every tool below reads chapters through it
``roster``          a class roster: the ids handouts, worksheets and the course are for
``browser``         Debian's Chromium, offline, and a quiet local server (tests use it too)
``build``           the HTML book (``make book``); ``assets``: its offline browser assets
``handouts``        notebooks without solutions (``make handouts``)
``course``          the nbgrader course (``make course``); ``nbgrader_hooks``: its grader side
``worksheets``      paper worksheets and their key (``make worksheets``)
``print_edition``   printing pages with Chromium; ``pdf``: the whole book (``make pdf``)
``screenshots``     every page, whole (``make screenshots``)
``ledger``          the claim ledger's rules; ``sphinx/``: the Sphinx extensions
``hub``             the demo JupyterHub (``make hub``; its config is ``hub/``)
``bench*``          benchmarks: timings are reported, never asserted by a test
==================  =====================================================================
"""
