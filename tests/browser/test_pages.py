"""Every page of the built book, as a reader's browser shows it, offline.

For each page in the toc: no console error, no failed or outside request, every
equation arrived rendered (KaTeX's HTML and MathML, made at build time) with no error box
and no math script in the page, every image loaded and described, no WCAG
A/AA problem that axe-core can see, no code cell wider than its column at 1280 px, nothing
that scrolls sideways once the window is as narrow as a phone (a chapter with widgets is
opened on an emulated phone instead: test_widget_chapters_on_a_slow_phone.py), every
chapter in the sidebar. Search finds the chain rule. A screenshot of the top of each page,
at 1280 px and at 390 px, is saved under ``_build/screenshots`` for a human to look at;
``make screenshots`` (tested here on one page) saves whole pages, as JPEG.
"""

from __future__ import annotations

import re

import pytest
from browser import (
    LAY_OUT_ALL,
    SIDEWAYS,
    UNFOLD,
    WIDE_CODE,
    open_logged_page,
    settled,
    widget_chapters,
)
from page_reading import CELLS, PROSE, unmeant_displays, unrendered_markdown

from bookkit import toc
from bookkit.paths import BUILD, ROOT

pytestmark = pytest.mark.browser

SCREENSHOTS = BUILD / "screenshots"

# Text a reader should never see: TeX left unrendered.
RAW_TEX = re.compile(r"\$\$|\\frac|\\partial|\\begin\{|\\mathsf|\\sigma\b")

VISIBLE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, .katex-mathml')
       .forEach(n => n.remove());
  return clone.innerText;
}"""

# Every math element of the page holds KaTeX's rendering, drawn (it has a size) and with its
# MathML; no error box; and no math library was loaded to do it in the page.
MATH_STATE = """() => {
  const sources = [...document.querySelectorAll('main span.math, main div.math')];
  const rendered = sources.filter(m => {
    const k = m.querySelector(':scope > .katex, :scope > .katex-display > .katex');
    // drawn (dropdowns are unfolded), unless the page never shows it (the print-only toc)
    return k && k.querySelector('.katex-mathml math')
      && (k.getBoundingClientRect().width > 0 || !m.checkVisibility());
  });
  const errors = document.querySelectorAll('main .katex-error').length;
  const scripts = [...document.scripts].filter(s => /katex|mathjax|tex-/i.test(s.src)).length;
  return {sources: sources.length, rendered: rendered.length, errors,
          runtime: !!(window.MathJax || window.katex || window.renderMathInElement) || scripts > 0};
}"""

IMAGES = """() => Array.from(document.querySelectorAll('main img')).map(img => ({
  src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0, alt: img.getAttribute('alt') || ''
}))"""


AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# axe-core's colour-contrast rule judges each element that holds text, one by one: on a
# chapter some 9,000, nearly all of them the spans of highlighted code and of typeset math,
# half of its 8 s of CPU. Spans that are drawn alike (same colour, font size and weight,
# text effects, and the same backgrounds, opacities and stacking all the way up) get the
# same verdict, so axe is handed the first three visible ones of each kind (a few hundred
# on a chapter) and the rest are marked as twins it skips. Every other rule sees them all.
# A planted light-grey token colour is still reported (axe then names the three spans).
CONTRAST_TWINS = """() => {
  const chainOf = new Map();
  const chain = el => {
    if (!el || el.nodeType !== 1) return '';
    if (!chainOf.has(el)) {
      const s = getComputedStyle(el);
      chainOf.set(el, chain(el.parentElement) + '>' + [s.backgroundColor, s.backgroundImage,
        s.opacity, s.filter, s.mixBlendMode, s.position, s.zIndex, s.visibility, s.overflow,
        s.clipPath].join('|'));
    }
    return chainOf.get(el);
  };
  const kinds = new Map();
  for (const el of document.querySelectorAll('main pre *, main .katex *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el);
    const kind = [el.namespaceURI, s.color, s.fontSize, s.fontWeight, s.textShadow,
                  s.webkitTextFillColor, s.webkitTextStrokeWidth, s.webkitTextStrokeColor,
                  chain(el)].join('|');
    const judged = kinds.get(kind) || 0;
    if (judged < 3 && el.checkVisibility()) kinds.set(kind, judged + 1);
    else el.setAttribute('data-contrast-twin', '');
  }
  axe.configure({rules: [{id: 'color-contrast', selector: '*:not([data-contrast-twin])'}]});
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
                                          resultTypes: ['violations']});
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.length} element(s), e.g. ${v.nodes[0].target.join(' ')}`);
}"""


PHONE = {"width": 390, "height": 844}


def page_url(entry: str) -> str:
    return entry + ".html"



@pytest.mark.parametrize("entry", toc.entries())
def test_page_reads_cleanly_offline(chromium, book_server, entry):
    page, log = open_logged_page(chromium, book_server)
    page.goto(f"{book_server}/{page_url(entry)}")
    settled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The top of the page: a whole chapter (some 40,000 px) took 2-3 s of CPU to draw,
    # as much as the rest of this test; `make screenshots` draws whole pages.
    shot = SCREENSHOTS / entry.replace("/", "__")
    page.screenshot(path=f"{shot}.png")
    # The page lays out what is off screen only when scrolled near (content-visibility in
    # book.css), and a folded dropdown keeps its content at zero height: lay out all of
    # it and unfold every dropdown, so that every check below sees the whole page.
    page.add_style_tag(content=LAY_OUT_ALL)
    page.evaluate(UNFOLD)
    math = page.evaluate(MATH_STATE)

    assert not log.problems(), f"{entry}: " + "; ".join(log.problems())
    assert not math["runtime"], f"{entry}: a math library runs in the page: {math}"
    assert math["rendered"] == math["sources"], (
        f"{entry}: only {math['rendered']} of {math['sources']} equations arrived rendered")
    assert math["errors"] == 0, f"{entry}: {math['errors']} equations show KaTeX's error box"
    leftover = RAW_TEX.findall(page.evaluate(VISIBLE_TEXT))
    assert not leftover, f"{entry}: raw TeX visible in the page: {sorted(set(leftover))}"
    # The page as read: no Markdown left unrendered, no display the chapter did not mean.
    unread = unrendered_markdown(page.evaluate(PROSE)) + unmeant_displays(page.evaluate(CELLS))
    assert not unread, f"{entry}:\n" + "\n".join(unread)
    for img in page.evaluate(IMAGES):
        assert img["ok"], f"{entry}: image {img['src']} did not load"
        assert img["alt"].strip(), f"{entry}: image {img['src']} has no alt text"
    wide = page.evaluate(WIDE_CODE)  # the page is 1280 px wide (open_logged_page)
    assert not wide, f"{entry}: {len(wide)} code cells scroll sideways at 1280 px: {wide[:5]}"
    page.add_script_tag(path=str(AXE))
    page.evaluate(CONTRAST_TWINS)
    violations = page.evaluate(AXE_RUN)
    assert not violations, f"{entry}: WCAG A/AA problems found by axe-core: {violations}"
    # As narrow as a phone (390 px), nothing may scroll sideways. Measured against the
    # document's client width, so a scroll bar cannot hide an overflow of its own width.
    # A widget chapter is opened on an emulated phone instead, which checks the same and
    # saves its picture (test_widget_chapters_on_a_slow_phone.py).
    if entry not in widget_chapters():
        page.set_viewport_size(PHONE)
        sizes = page.evaluate(SIDEWAYS)
        page.screenshot(path=f"{shot}-phone.png")
        assert max(sizes["page"], sizes["body"]) <= sizes["view"], f"{entry} at 390 px: {sizes}"
        assert not log.problems(), f"{entry} at 390 px: " + "; ".join(log.problems())
    page.close()


def test_sidebar_lists_every_chapter(chromium, book_server):
    page, log = open_logged_page(chromium, book_server)
    page.goto(f"{book_server}/{page_url(toc.entries()[0])}")
    hrefs = page.eval_on_selector_all(
        "nav.bd-links a", "links => links.map(a => a.getAttribute('href'))"
    )
    listed = {re.sub(r"^(\.\./)+|#.*$", "", h) for h in hrefs}
    missing = [
        e
        for e in toc.entries()[1:]
        if not any(h.endswith(e.split("/")[-1] + ".html") for h in listed)
    ]
    assert not missing, f"chapters missing from the sidebar: {missing}"
    assert not log.problems(), "; ".join(log.problems())
    page.close()


def test_search_finds_the_chain_rule(chromium, book_server):
    page, log = open_logged_page(chromium, book_server)
    page.goto(f"{book_server}/search.html?q=chain+rule")
    page.wait_for_selector("#search-results ul.search li")
    results = page.locator("#search-results ul.search li").count()
    assert results > 0, "searching for 'chain rule' returned nothing"
    assert not log.problems(), "; ".join(log.problems())
    page.close()


def test_make_screenshots_draws_a_whole_page(built_book, tmp_path):
    """`make screenshots`' script, on one page: a JPEG 1280 px wide and as tall as the page."""
    import subprocess
    import sys

    from PIL import Image

    entry = "book/notation"
    result = subprocess.run([sys.executable, "-m", "bookkit", "screenshots",
                             "--pages", entry, "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    with Image.open(tmp_path / "book__notation.jpg") as shot:
        assert shot.format == "JPEG" and shot.width == 1280, (shot.format, shot.size)
        assert shot.height > 2 * 900, f"{entry}: only {shot.height} px, not the whole page"
    wrong = subprocess.run([sys.executable, "-m", "bookkit", "screenshots",
                            "--pages", "notation", "--out", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "Not in _toc.yml: notation" in wrong.stderr, wrong.stderr
