"""The page as read: no Markdown left unrendered, no display a chapter did not mean to show.

A source can be correct and its page still wrong: a Markdown table that a renderer took
for plain text shows its `| --- |` rows, a cell's hidden machinery can print twenty SymPy
equations into a page about something else ("What our checks catch" did both). The browser
test of every page (tests/browser/test_pages.py) reads each page the way Chromium shows
it, offline, and fails on:

* Markdown syntax in the visible prose: a pipe-table row or separator, `**` around
  words, a line starting with `#`, `$$` or a TeX command outside typeset math, a MyST
  role such as `{glue:text}` or `{ref}` left as text;
* typeset math in a cell's output when the cell's source neither builds math (`Math(`,
  `Latex(`, `sympy`, `sp.`) nor calls on an object that displays as math: a display that
  leaked in from code the cell runs.

The detectors are plain functions, tested on planted text in
tests/browser/test_page_as_read.py; a planted page checks there that the browser-side
extraction feeds them what a reader sees.
"""

from __future__ import annotations

import re

# Markdown or MyST syntax that should have become formatting, in the text a reader sees.
UNRENDERED = [
    (re.compile(r"^\s*\|?\s*:?[-\u2013\u2014]{1,}:?\s*(?:\|\s*:?[-\u2013\u2014]{1,}:?\s*)+\|?\s*$", re.M),
     "a pipe-table separator row"),
    (re.compile(r"^\s*\|[^|\n]+\|[^|\n]*\|", re.M), "a pipe-table row"),
    (re.compile(r"\*\*[^*\s][^*\n]*\*\*"), "**bold** markers"),
    (re.compile(r"^\s{0,3}#{1,6}\s+\S", re.M), "a '#' heading"),
    (re.compile(r"\$\$|\\frac\b|\\partial\b|\\begin\{|\\(?:lambda|eta|beta|epsilon|sigma|"
                r"times|mathsf|operatorname|hat|sqrt|max)\b|\^\{"), "raw TeX"),
    (re.compile(r"\{(?:glue|glue:text|glue:any|ref|eq|doc|numref)\}`|\{glue:text\}"),
     "a MyST role left as text"),
    (re.compile(r"^\s*```"), "a code fence"),
]

# What a cell's source says when it means to display math.
MEANS_MATH = re.compile(r"\bMath\(|\bLatex\(|\bsympy\b|\bsp\.|display_latex|_repr_latex_")


def unrendered_markdown(text: str) -> list[str]:
    """Each piece of unrendered Markdown in ``text``, as 'what: the line'."""
    found = []
    for pattern, what in UNRENDERED:
        for match in pattern.finditer(text):
            line = text[text.rfind("\n", 0, match.start()) + 1:].split("\n", 1)[0]
            found.append(f"{what}: {line.strip()[:100]!r}")
    return found


def unmeant_displays(cells: list[dict]) -> list[str]:
    """Cells whose output holds typeset math their source never asks for.

    ``cells``: one dict per code cell, ``source`` (its code) and ``math`` (how many typeset
    equations its output holds).
    """
    return [
        f"cell {k} shows {cell['math']} equations, but its code builds no math: "
        f"{cell['source'].strip().splitlines()[0][:80]!r}"
        for k, cell in enumerate(cells)
        # a cell whose input the page removes (remove-input) shows what its author chose
        if cell["math"] and cell["source"].strip() and not MEANS_MATH.search(cell["source"])
    ]


# The prose as read: the main column without code, typeset math, scripts and styles.
PROSE = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, .katex, .math, '
      + '.cell_input, .widget-subarea, .jupyter-widgets')
       .forEach(n => n.remove());
  // a detached clone has no layout, so mark where each block ends: one line per block
  clone.querySelectorAll('p, li, div, h1, h2, h3, h4, h5, h6, tr, td, th, dt, dd, br, '
      + 'blockquote, section, table')
       .forEach(n => n.append(document.createTextNode('\\n')));
  return clone.textContent;
}"""

CELLS = """() => [...document.querySelectorAll('main div.cell')].map(cell => ({
  source: (cell.querySelector('.cell_input pre') || {innerText: ''}).innerText,
  math: cell.querySelectorAll('.cell_output .katex, .cell_output .math').length,
}))"""
