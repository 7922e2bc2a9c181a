"""`make pdf`: the whole book as one PDF, read back with poppler-utils and pypdf.

The PDF is printed from the built book (the same script as `make pdf`) and checked against
the HTML pages it came from: every chapter in toc order, each with its own outline entry
and starting on the page the outline says, its sections under it as the page titles them,
each at the page that prints it; no TeX left untypeset outside code; as many
images on a chapter's pages as its page has figures; every font embedded; every widget
captioned; the solutions in the appendix and nowhere else. The page count and size are
written to ``_build/pdf/report.txt``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import chromium_or_skip
from pdf_tools import fonts, images_per_page, info, poppler_or_skip, text, words

from bookkit import print_edition as pe
from bookkit import toc
from bookkit.paths import BUILD, ROOT

pytestmark = pytest.mark.browser

RAW_TEX = re.compile(r"\$\$|\\frac|\\partial|\\begin\{|\\mathsf|\\sigma\b|\\mathbf|\\left")
CAPTION = "Interactive figure: live in the web and notebook versions"
APPENDIX = "Solutions to the exercises"


class Page(HTMLParser):
    """What a built page holds: its title, figures and code outside solutions, solutions,
    widgets, and its sections (each h2 and h3 heading a section, outside solutions)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, inside a solution)
        self.title, self.in_h1, self.in_pre = "", False, 0
        self.solutions = self.widgets = 0
        self.images: list[str] = []  # the src of every figure outside the solutions
        self.code: list[str] = []
        #: (level, title): a heading's words, its math as the MathML beside KaTeX's drawing
        #: read as a line of text (a fraction a/b, a root √x)
        self.sections: list[list] = []
        self.fractions: list[int] = []  # children seen of each open <mfrac>
        self.in_section_heading = False
        self.unread = 0  # inside a heading's "#" link, KaTeX's drawing or its TeX source

    def _in_solution(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        solution = self._in_solution() or (tag == "div" and "solution" in classes)
        if tag == "div" and "solution" in classes and not self._in_solution():
            self.solutions += 1
        if tag == "img" and not solution:
            self.images.append(a.get("src", ""))
        if tag == "script" and "widget-view" in (a.get("type") or ""):
            self.widgets += 1
        if tag == "h1" and not self.title:
            self.in_h1 = True
        if tag == "pre":
            self.in_pre += 1
            self.code.append("")
        if (tag in {"h2", "h3"} and not solution and self.stack
                and self.stack[-1][0] == "section"):
            self.in_section_heading = True
            self.sections.append([int(tag[1]), ""])
        if self.in_section_heading and (self.unread or tag == "annotation"
                                        or "headerlink" in classes or "katex-html" in classes):
            self.unread += 1
        elif self.in_section_heading:
            if self.stack and self.stack[-1][0] == "mfrac":
                self.fractions[-1] += 1
                if self.fractions[-1] == 2:
                    self.sections[-1][1] += "/"
            if tag == "mfrac":
                self.fractions.append(0)
            elif tag == "msqrt":
                self.sections[-1][1] += "√"
        if tag not in {"img", "br", "hr", "meta", "link", "input"}:
            self.stack.append((tag, solution))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
        if self.unread:
            self.unread -= 1
        elif tag == "mfrac" and self.in_section_heading:
            self.fractions.pop()
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
        if tag in {"h2", "h3"} and self.in_section_heading:
            self.in_section_heading = False
            self.sections[-1][1] = " ".join(self.sections[-1][1].split())
        if tag == "pre":
            self.in_pre -= 1

    def handle_data(self, data):
        if self.in_h1 and data.strip() not in {"#", "¶"}:
            self.title += data
        if self.in_pre:
            self.code[-1] += data
        if self.in_section_heading and not self.unread:
            self.sections[-1][1] += data


def read_page(built_book: Path, entry: str) -> Page:
    page = Page()
    page.feed((built_book / f"{entry}.html").read_text())
    page.title = " ".join(page.title.split())
    return page


@pytest.fixture(scope="module")
def pages(built_book) -> dict[str, Page]:
    return {entry: read_page(built_book, entry) for entry in toc.entries()}


@pytest.fixture(scope="module")
def pdf(built_book, tmp_path_factory) -> Path:
    chromium_or_skip()
    poppler_or_skip()
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "bookkit", "pdf", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def outline(pdf) -> list[tuple[str, int, list]]:
    """Top-level outline entries: (title, first page 1-based, children)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    entries: list[tuple[str, int, list]] = []
    for item in reader.outline:
        if isinstance(item, list):
            entries[-1][2].extend(item)
        else:
            entries.append((str(item.title), reader.get_destination_page_number(item) + 1, []))
    return entries


def chapter_ranges(outline, pages) -> dict[str, range]:
    """Each toc page's pages in the PDF (1-based), from its outline entry to the next."""
    starts = {title: first for title, first, _ in outline}
    ordered = [starts[p.title] for p in pages.values()] + [starts[APPENDIX]]
    return {e: range(a, b) for e, a, b in zip(pages, ordered, ordered[1:], strict=False)}


def test_report_page_count_and_size(pdf):
    pages = int(info(pdf)["Pages"])
    size = pdf.stat().st_size
    report = f"{pages} pages, {size / 1e6:.1f} MB ({size} bytes)\n"
    (BUILD / "pdf").mkdir(parents=True, exist_ok=True)
    (BUILD / "pdf" / "report.txt").write_text(report)
    print("\nprint edition:", report)
    assert pages > 3 * len(toc.entries()), report


def test_every_page_is_stored_compressed(pdf):
    """Each page's drawing (its content stream) is stored deflated. Stamping the page
    numbers on (pypdf's merge_page) once wrote every page out uncompressed: 37 MB, not 13."""
    from pypdf import PdfReader

    def filters(stream) -> list[str]:
        found = stream.get_object().get("/Filter")
        return [str(f) for f in (found if isinstance(found, list) else [found])]

    plain = []
    for number, page in enumerate(PdfReader(pdf).pages, 1):
        contents = page["/Contents"].get_object()
        streams = contents if isinstance(contents, list) else [contents]
        if not all("/FlateDecode" in filters(s) for s in streams):
            plain.append(number)
    assert not plain, f"{len(plain)} pages stored uncompressed, e.g. {plain[:5]}"


def test_outline_has_every_chapter_in_toc_order(outline, pages):
    titles = [t for t, _, _ in outline]
    want = ["Title page and contents", *(p.title for p in pages.values()), APPENDIX]
    assert titles == want
    firsts = [first for _, first, _ in outline]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts), firsts
    chapters = [children for t, _, children in outline if t not in (want[0], APPENDIX)]
    with_sections = sum(bool(c) for c in chapters)
    assert with_sections >= len(chapters) - 1, "chapters should have section bookmarks"


def flat(items, level: int = 2):
    """An outline entry's children as (level, title, destination), depth first."""
    for item in items:
        if isinstance(item, list):
            yield from flat(item, level + 1)
        else:
            yield level, str(item.title), item


def letters(words: str) -> str:
    return re.sub(r"[\W_]+", "", words).lower()


def test_every_section_is_in_the_outline_where_it_is_printed(pdf, outline, pages):
    """Under each chapter, an outline entry per section (its h2, and each h3 under its h2),
    titled as the page titles it (its math as text), at the page that prints that title.

    Chromium's own outline (of a tagged PDF) failed this: "Partial derivatives: nudge one,
    holdthe rest", "SummarySummary", a "Contents" entry in every chapter, math left out.
    """
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    checked = 0
    for (title, _, children), page in zip(outline[1:], pages.values(), strict=False):
        assert title == page.title
        got = list(flat(children))
        assert [(lv, t) for lv, t, _ in got] == [tuple(s) for s in page.sections], title
        for _, section, place in got:
            n = reader.get_destination_page_number(place) + 1
            assert letters(section)[:24] in letters(text(pdf, n, n)), (
                f"{title}: the outline puts {section!r} on page {n}, which does not print it")
            checked += 1
    assert checked > 5 * len(pages), f"only {checked} sections in the outline"  # 172 today


def test_each_chapter_starts_where_the_outline_says(pdf, outline, pages):
    for entry, span in chapter_ranges(outline, pages).items():
        first = " ".join(text(pdf, span.start, span.start).split())
        assert pages[entry].title in first, f"page {span.start} does not open {entry}"


def test_contents_lists_the_chapters_with_their_pages(pdf, outline, pages):
    contents = " ".join(text(pdf, 1, outline[1][1] - 1).split())
    for title, first, _ in outline[1:]:
        assert re.search(re.escape(title) + rf"\W*{first}\b", contents), (title, first)


def test_no_raw_tex_outside_code(pdf, pages):
    code = " ".join(" ".join(line.split()) for p in pages.values() for line in p.code)
    code = " ".join(code.split())
    leftover = [
        line for line in text(pdf).splitlines()
        if RAW_TEX.search(line) and " ".join(line.split()) not in code
    ]
    assert not leftover, f"raw TeX in the PDF's text: {leftover[:5]}"


#: Points per millimetre; a word may end this close past the margin (rounding, italics).
MM, SLACK_PT = 72 / 25.4, 1.0


def test_nothing_is_printed_past_the_right_margin(pdf):
    """Tables and code fit the printed column or wrap: no word ends in the right margin.

    Paper does not scroll: a table or a code line wider than the column was cut at the
    paper's edge (the notation page's "Reading other texts" table, issue 32).
    """
    margin = float(pe.MARGIN["right"].removesuffix("mm")) * MM
    drawn = words(pdf)
    assert len(drawn) > 10_000, f"only {len(drawn)} words read from the PDF"
    past = [w for w in drawn if w["x1"] > w["width"] - margin + SLACK_PT]
    assert not past, f"{len(past)} words past the right margin, e.g. " + "; ".join(
        f"page {w['page']}: {w['text']!r} ends at {w['x1']:.0f} pt of {w['width']:.0f}"
        for w in past[:8])


def test_the_paper_cuts_nothing(pdf):
    """No box of a printed page is wider than the column: a table takes the column's width
    and wraps, code wraps, a display equation too wide is shrunk to fit. Chromium leaves out
    what a box cuts, so the PDF's words alone cannot show it: the print step measures each
    page as laid out for paper (print_edition.CUT) and lists what would be cut."""
    from bookkit.pdf import cut_report

    cut = json.loads(cut_report(pdf).read_text())
    assert not cut, "the paper cuts " + "; ".join(
        f"{title}: {len(boxes)} boxes, e.g. {boxes[:2]}" for title, boxes in cut.items())


def svg_words(built_book: Path, entry: str, src: str) -> list[str]:
    """The words an SVG figure writes (Chromium prints SVG as vector text, not an image)."""
    svg = ((built_book / entry).parent / src).read_text()
    return [w for t in re.findall(r"<text[^>]*>([^<]+)<", svg) for w in t.split() if len(w) > 3]


def test_every_figure_is_printed(pdf, outline, pages, built_book):
    """Raster figures are counted as images on the chapter's pages; SVG ones by their words."""
    per_page = images_per_page(pdf)
    for entry, span in chapter_ranges(outline, pages).items():
        raster = [src for src in pages[entry].images if not src.endswith(".svg")]
        printed = sum(per_page.get(n, 0) for n in span)
        assert printed >= len(raster), (
            f"{entry}: the page has {len(raster)} raster images, pages {span.start}-"
            f"{span.stop - 1} of the PDF draw {printed}"
        )
        chapter = text(pdf, span.start, span.stop - 1)
        for src in pages[entry].images:
            if src.endswith(".svg"):
                words = svg_words(built_book, entry, src)
                assert words and all(w in chapter for w in words), f"{entry}: {src} is missing"


def test_fonts_are_embedded(pdf):
    rows = fonts(pdf)
    assert rows, "the PDF has no fonts"
    loose = [r["row"] for r in rows if r["emb"] != "yes"]
    assert not loose, f"fonts not embedded: {loose}"


def test_every_widget_has_its_caption(pdf, outline, pages):
    for entry, span in chapter_ranges(outline, pages).items():
        chapter = " ".join(text(pdf, span.start, span.stop - 1).split())
        assert chapter.count(CAPTION) == pages[entry].widgets, entry


def test_solutions_are_in_the_appendix_only(pdf, outline, pages):
    start = dict((t, f) for t, f, _ in outline)[APPENDIX]
    body = " ".join(text(pdf, 1, start - 1).split())
    appendix = " ".join(text(pdf, start).split())
    assert "Solution to Exercise" not in body
    assert appendix.count("Solution to") == sum(p.solutions for p in pages.values())
    assert body.count("Solution: see the appendix") == sum(p.solutions for p in pages.values())
    assert "BEGIN SOLUTION" in appendix  # the code, not just the titles


def widget_titles() -> list[str]:
    """The title line each widget draws first (from its front end's source)."""
    found = []
    for js in sorted((ROOT / "backprop_book" / "widgets").glob("*.js")):
        found += re.findall(r'class: "bp-title" \}, \w+, "([^"]+)"', js.read_text())
        # a template literal: its fixed text up to the first ${...}
        found += [t for t in re.findall(r'class: "bp-title" \}, \w+, `([^`$]+)', js.read_text())]
    # compare plain text only: the PDF's text layer may spell "½" or "ᵀ" another way
    return [re.split(r"[^\x20-\x7e]", t)[0] for t in found]


def test_no_widget_is_split_across_pages(pdf):
    """A widget's title (its first line) and its caption (after its last) share a page."""
    titles = widget_titles()
    assert len(titles) >= 3, titles
    captioned = 0
    for n in range(1, int(info(pdf)["Pages"]) + 1):
        page = " ".join(text(pdf, n, n).split())
        for _ in range(page.count(CAPTION)):
            captioned += 1
            assert any(t in page for t in titles), f"page {n}: a widget's caption without its top"
    assert captioned >= 3
