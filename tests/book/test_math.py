"""The book's math is rendered when the book is built (KaTeX, bookkit/katex.py), not in the page.

For every page of the built book: each equation Sphinx read (a math node of the page's
doctree: prose, summaries, a notebook's ``text/latex`` output) is in the HTML as KaTeX's
rendering with its MathML for screen readers, none as an error box, none left as TeX for a
browser to typeset, and no page loads a math script. Every link to an equation (``{eq}``,
the claim ledger's) or to a proving cell lands on an anchor that exists.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from docutils import nodes

from bookkit import toc
from bookkit.paths import BUILD

DOCTREES = BUILD / ".doctrees"

# Sphinx's math element: inline span, display div (a notebook's text/latex output adds its
# own classes in front: "output text_latex math notranslate nohighlight").
WRAPPER = re.compile(r'<(?:span|div) class="(?:[\w -]* )?math notranslate nohighlight"[^>]*>')
RENDERED = '<span class="katex">'
MATHML = '<span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"'
ERROR = re.compile(r'class="katex-error"|color:\s*#cc0000')
# TeX a browser would have to typeset: a wrapper that opens with a delimiter, not KaTeX.
LEFT_AS_TEX = re.compile(WRAPPER.pattern + r"\s*\\[(\[]")
# A script that would render math in the browser: a math library's file, or an inline
# configuration for one (``window.MathJax = {...}``).
MATH_SCRIPT = re.compile(r'<script[^>]*src="[^"]*(?:katex|mathjax|tex-chtml)[^"]*"'
                         r"|<script[^>]*>[^<]*(?:MathJax|renderMathInElement)", re.IGNORECASE)


def html_of(built: Path, entry: str) -> str:
    return (built / f"{entry}.html").read_text()


def doctree_math(entry: str) -> int:
    """How many equations Sphinx read on the page (before any renderer saw them)."""
    with (DOCTREES / f"{entry}.doctree").open("rb") as f:
        doctree = pickle.load(f)
    return sum(1 for _ in doctree.findall(lambda n: isinstance(n, (nodes.math,
                                                                    nodes.math_block))))


def math_count(html: str) -> dict:
    return {"wrappers": len(WRAPPER.findall(html)), "rendered": html.count(RENDERED),
            "mathml": html.count(MATHML), "errors": len(ERROR.findall(html)),
            "as_tex": len(LEFT_AS_TEX.findall(html))}


def test_the_counts_see_a_failure():
    """The checks can fail: TeX left for the browser and KaTeX's error box are both seen."""
    page = ('<span class="math notranslate nohighlight">\\(x\\)</span>'
            '<div class="math notranslate nohighlight" id="equation-a">\\[y\\]</div>'
            '<span class="math notranslate nohighlight"><span class="katex-error" '
            'title="ParseError" style="color:#cc0000">\\foo</span></span>')
    count = math_count(page)
    assert count == {"wrappers": 3, "rendered": 0, "mathml": 0, "errors": 2, "as_tex": 2}


@pytest.mark.parametrize("entry", toc.entries())
def test_every_equation_is_rendered_at_build_time(built_book: Path, entry: str):
    html = html_of(built_book, entry)
    count = math_count(html)
    read = doctree_math(entry)
    assert count["wrappers"] >= read, (
        f"{entry}: Sphinx read {read} equations, the page holds {count['wrappers']}")
    assert count["rendered"] == count["wrappers"], f"{entry}: not every equation rendered: {count}"
    assert count["mathml"] == count["wrappers"], f"{entry}: an equation without MathML: {count}"
    assert count["errors"] == 0, f"{entry}: {count['errors']} KaTeX error boxes"
    assert count["as_tex"] == 0, f"{entry}: {count['as_tex']} equations left as TeX"


def test_no_page_loads_a_math_script(built_book: Path):
    """No page's math needs rendering in the browser, so no page loads a math library."""
    pages = sorted(built_book.rglob("*.html"))
    loading = {str(p.relative_to(built_book)): MATH_SCRIPT.findall(p.read_text())[:3]
               for p in pages if MATH_SCRIPT.search(p.read_text())}
    assert not loading, f"pages that load a math script: {loading}"
    assert not (built_book / "_static/vendor/mathjax").exists(), "MathJax is still shipped"


def test_a_page_with_math_links_katex_stylesheet_and_one_without_does_not(built_book: Path):
    sheet = "vendor/katex/katex.min.css"
    assert sheet in html_of(built_book, "book/one-neuron-chain")
    assert sheet not in (built_book / "search.html").read_text()


def test_numbered_equations_keep_their_numbers_and_anchors(built_book: Path):
    """A labelled display keeps its id, its number and its permalink, as MathJax's did."""
    html = html_of(built_book, "book/one-neuron-chain")
    found = re.findall(r'<div class="math notranslate nohighlight" id="(equation-[^"]+)">'
                       r'\s*<span class="eqno">\((\d+)\)<a class="headerlink" href="#\1"', html)
    assert len(found) >= 3, found[:5]


ANCHOR_LINK = re.compile(r'href="([^"#]*)#((?:equation|proof)-[^"]+)"')


def test_every_link_to_an_equation_or_a_proof_lands(built_book: Path):
    """{eq} references, "checked in code", "This cell proves" and the ledger's table."""
    ids: dict[Path, set[str]] = {}

    def ids_of(page: Path) -> set[str]:
        if page not in ids:
            ids[page] = set(re.findall(r'id="([^"]+)"', page.read_text()))
        return ids[page]

    broken, seen = [], 0
    for page in sorted(built_book.rglob("*.html")):
        for target, anchor in ANCHOR_LINK.findall(page.read_text()):
            seen += 1
            where = (page.parent / target).resolve() if target else page
            if not where.exists() or anchor not in ids_of(where):
                broken.append(f"{page.relative_to(built_book)} -> {target}#{anchor}")
    assert seen > 100, f"only {seen} links to equations and proofs: the pattern is stale"
    assert not broken, f"{len(broken)} links land nowhere: {broken[:10]}"
