"""The detectors of Markdown left unrendered and of unmeant displays, on planted input.

The detectors (tests/support/page_reading.py) run on every page of the built book in
tests/browser/test_pages.py; here they must find what is planted, and let clean text be.
"""

from __future__ import annotations

import pytest
from page_reading import CELLS, PROSE, unmeant_displays, unrendered_markdown

pytestmark = pytest.mark.browser


def test_the_detectors_find_planted_markdown():
    planted = {
        "| --- | --- |": "separator",
        "| \u2014 | \u2014 |": "separator",
        "| bug | planted in | caught by |": "pipe-table row",
        "a **bold** word": "bold",
        "## A heading": "heading",
        "before $$ x $$ after": "raw TeX",
        "then \\frac{a}{b}": "raw TeX",
        "with \\lambda_{L2} = 10^{-3}, 150 steps": "raw TeX",
        "Z^{(1)} of the pass": "raw TeX",
        "pasted {glue:text}`deep-lr-start:.4f` here": "MyST role",
        "see {ref}`sec-deep` there": "MyST role",
    }
    for text, what in planted.items():
        assert unrendered_markdown("Some prose.\n" + text + "\nMore."), (text, what)
    clean = "A sentence with a | in it, 2 ** 3 in words, and C# or #hash tags.\n"
    assert unrendered_markdown(clean) == []


def test_the_detector_finds_a_display_nobody_asked_for():
    cells = [
        {"source": "display(Math(r'x^2'))", "math": 1},
        {"source": "sp.diff(C, w)", "math": 1},
        {"source": "outcomes = mutants.run_all(ROOT)\ndisplay(Markdown(t))", "math": 20},
        {"source": "print(1)", "math": 0},
    ]
    problems = unmeant_displays(cells)
    assert len(problems) == 1 and "cell 2 shows 20 equations" in problems[0]


def test_the_browser_reads_a_planted_page_as_a_reader_would(chromium):
    page = chromium.new_page()
    page.set_content(
        "<main><p>| --- | --- |</p><p>fine <code>**kept in code**</code></p>"
        "<div class='cell'><div class='cell_input'><pre>run_all()</pre></div>"
        "<div class='cell_output'><span class='katex'>x</span></div></div>"
        "<div class='cell'><div class='cell_input'><pre>display(Math('x'))</pre></div>"
        "<div class='cell_output'><span class='katex'>x</span></div></div></main>"
    )
    prose = page.evaluate(PROSE)
    kinds = {p.split(":")[0] for p in unrendered_markdown(prose)}
    assert kinds == {"a pipe-table separator row", "a pipe-table row"}, kinds
    problems = unmeant_displays(page.evaluate(CELLS))
    assert len(problems) == 1 and problems[0].startswith("cell 0")
    page.close()
