"""The print edition: the built HTML book printed by Chromium into one PDF.

Each page of the toc is opened in headless Chromium (Debian's, never a downloaded one),
served from 127.0.0.1 with every other request refused, and printed with print media
(``page.pdf``). The book's stylesheet (``web/src/book.css``) holds the print rules: no
widget, figure, equation or code box split across pages, a caption under each widget.
Before a page is printed, its solutions are lifted out and later printed in an appendix at
the end (their math was rendered when the book was built: the HTML moves as it is). :func:`merge` joins the pieces with
pypdf: a title page with the contents, page numbers (printed by Chromium as an overlay,
so their font is embedded too) and an outline with an entry per chapter and section.

The outline's sections are the page's own headings (``SECTIONS``), placed where Chromium
printed them: each heading is made the target of a hidden link, so the PDF names its place
(a named destination). Chromium's own outline (``page.pdf(outline=True)``) needs a tagged
PDF (``make pdf`` took 53 s instead of 44 s) and titled its entries from the tagged text:
a heading printed on two lines lost the space between them ("holdthe rest"), many were
doubled ("SummarySummary"), the math in a heading was left out, and the in-page
"Contents" box got an entry of its own in every chapter.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from pathlib import Path

#: Page margins of every printed page; the page number sits in the bottom margin.
MARGIN = {"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}
APPENDIX_TITLE = "Solutions to the exercises"

# Resolves once the page's fonts (KaTeX's among them) are in and every saved widget view is
# drawn. The math needs no waiting: it was rendered when the book was built.
READY = """async () => {
  await document.fonts.ready;
  const views = [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')];
  const drawn = views.filter(s => {
    const out = s.closest('.cell_output') || s.parentElement;
    return out.querySelector('.widget-subarea *, .jupyter-widgets *');
  });
  return {views: views.length, drawn: drawn.length};
}"""

# Takes the solutions out of the page (their math is HTML already, so it moves as it is),
# leaves a one-line note where each was, and unlinks links to the other HTML pages.
PREPARE = """(note) => {
  const solutions = [];
  document.querySelectorAll('main .solution').forEach(sol => {
    sol.querySelectorAll('.toggle-button').forEach(b => b.remove());
    sol.querySelectorAll('a[href]').forEach(a => a.replaceWith(...a.childNodes));
    sol.classList.remove('dropdown', 'toggle', 'toggle-hidden');
    solutions.push(sol.outerHTML);
    const p = document.createElement('p');
    p.className = 'bp-print-note';
    p.textContent = note;
    sol.replaceWith(p);
  });
  document.querySelectorAll('a[href]').forEach(a => {
    const url = new URL(a.href, location.href);
    if (url.origin === location.origin && url.pathname !== location.pathname) {
      a.removeAttribute('href');
    }
  });
  document.querySelectorAll('details.above-input, details.below-input').forEach(d => {
    d.open = false;
  });
  return solutions;
}"""

# Replaces the article of a book page with the appendix (KaTeX's stylesheet linked if that
# page had no math of its own, its own title printed) and waits for its fonts.
APPENDIX = """async (body) => {
  const article = document.querySelector('main article') || document.querySelector('main');
  article.innerHTML = body;
  document.title = 'Solutions';
  // The theme prints a page's title and contents from a print-only header, and hides the
  // article's own h1: that header is the host page's (the introduction), not the appendix's.
  document.querySelectorAll('.onlyprint').forEach(e => e.remove());
  article.querySelector('#bp-solutions > h1').style.setProperty('display', 'block', 'important');
  if (!document.querySelector('link[href*="vendor/katex/katex.min.css"]')) {
    const book = document.querySelector('link[href*="book.css"]');
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('vendor/katex/katex.min.css', book.href).href;
    await new Promise((done, failed) => {
      link.onload = done; link.onerror = failed; document.head.append(link);
    });
  }
  await document.fonts.ready;
}"""


@dataclass
class Piece:
    """One printed part of the book: a toc page, the title page or the appendix."""

    title: str
    pdf: Path
    part: str = ""
    solutions: list[str] = field(default_factory=list)
    pages: int = 0
    #: What the paper cut of this piece: boxes wider than the column (see ``CUT``).
    cut: list[str] = field(default_factory=list)
    #: Its printed sections, in order: (level, id, title), see ``SECTIONS``.
    sections: list[tuple[int, str, str]] = field(default_factory=list)

    @functools.cached_property
    def reader(self):
        """The printed piece, parsed once for its page count, its outline and the merge."""
        from pypdf import PdfReader

        return PdfReader(self.pdf)


#: Resolves after two animation frames: whatever changed before it has been laid out and
#: painted (a fixed pause of a few hundred milliseconds did the same, 0.5 s per page).
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def next_frames(page) -> None:
    page.evaluate(NEXT_FRAMES)


def wait_ready(page, timeout_s: float = 30.0) -> dict:
    """Wait until the fonts are in and every widget view is drawn; return the counts."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate(READY)
        if state["drawn"] >= state["views"] or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    if state["drawn"] < state["views"]:
        raise RuntimeError(f"{page.url}: only {state['drawn']} of {state['views']} widgets drew")
    next_frames(page)  # a widget's first layout pass after its DOM appears
    return state


# Shrinks a widget taller than the printable height so that it prints on one page.
FIT_WIDGETS = """(maxPx) => {
  const widgets = [...document.querySelectorAll('main .widget-subarea')];
  widgets.forEach(w => { w.style.zoom = ''; });
  const heights = widgets.map(w => w.getBoundingClientRect().height);  // one layout for all
  widgets.forEach((w, i) => { if (heights[i] > maxPx) w.style.zoom = String(maxPx / heights[i]); });
  return heights.map(Math.round);
}"""

#: The printable area of an A4 page inside MARGIN, in CSS pixels (96 per inch).
PRINT_WIDTH_PX, PRINT_HEIGHT_PX = round(180 / 25.4 * 96), round(263 / 25.4 * 96)


# Shrinks what is wider than the printed column so that it prints whole (on screen it
# scrolls in its own box; paper does not scroll): a display equation, or a table too wide
# even with its cells wrapped (the batch chapter's nine columns of timings). Returns how
# many it shrank; shrinking one can narrow a table's column, so call it again until none
# is left. Nothing is shrunk below half its size.
FIT_WIDE = """() => {
  let shrunk = 0;
  const shrink = (el, have, want) => {
    const zoom = parseFloat(el.style.zoom || '1');
    if (have <= want + 1 || zoom <= 0.5) return;
    el.style.zoom = String(Math.max(0.5, zoom * (want - 2) / have));
    shrunk += 1;
  };
  // every width read first, then every zoom set: a read after a write would lay the page
  // out again, once per equation (seconds on a long chapter)
  const sizes = [];
  for (const d of document.querySelectorAll('main .katex-display')) {
    sizes.push([d.querySelector(':scope > .katex'), d.scrollWidth, d.clientWidth]);
  }
  for (const t of document.querySelectorAll('main table')) {
    sizes.push([t, t.getBoundingClientRect().width, t.parentElement.getBoundingClientRect().width]);
  }
  sizes.forEach(([el, have, want]) => shrink(el, have, want));
  return shrunk;
}"""

# What the printed page would cut: a box whose content is wider than the box and hidden or
# scrolled (paper shows only what fits), or anything that reaches past the column.
CUT = """() => {
  const column = document.documentElement.clientWidth;
  const say = e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '') + ': "'
    + (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60) + '"';
  const cut = [];
  for (const e of document.querySelectorAll('main article *, main .bd-article *')) {
    // (text for screen readers only, an equation's MathML among it, sits in a 1 px box)
    if (!e.checkVisibility() || e.clientWidth <= 1 && e.clientHeight <= 1
        || e.closest('.katex-mathml, mjx-assistive-mml, math, .bp-sr-only, .sr-only')) continue;
    const style = getComputedStyle(e);
    const clips = style.overflowX !== 'visible';
    // (a glyph's italic overhang of a px or three past an inline equation's box cuts nothing)
    const slack = e.matches('span.math') ? 4 : 1;
    if (clips && e.scrollWidth > e.clientWidth + slack && (e.innerText || '').trim()) {
      cut.push(`${say(e)} is ${e.scrollWidth - e.clientWidth} px wider than its box`);
    } else if (!clips && e.childElementCount === 0 && (e.textContent || '').trim()
               && e.getBoundingClientRect().right > column + 1) {
      cut.push(`${say(e)} reaches ${Math.round(e.getBoundingClientRect().right - column)} px`
               + ' past the column');
    }
  }
  return [...new Set(cut)];
}"""


# The sections of the page as printed, (level, id, title) for each visible h2 and h3 in
# order; each heading gets an id and a hidden link, so the PDF names where it was printed
# (Chromium writes a named destination only for an element some link points to). A title
# is the heading's text without its "#" link; its math, as the MathML KaTeX keeps beside
# the drawing, read as a line of text (a fraction a/b, a root √x).
SECTIONS = """() => {
  const linear = n => n.nodeType === 3 ? n.textContent
    : n.localName === 'annotation' ? ''
    : n.localName === 'mfrac' ? [...n.children].map(linear).join('/')
    : (n.localName === 'msqrt' ? '√' : '') + [...n.childNodes].map(linear).join('');
  const found = [];
  const links = document.createElement('div');
  links.hidden = true;
  for (const h of document.querySelectorAll('main section > :is(h2, h3)')) {
    const section = h.parentElement;
    if (!section.id || !h.checkVisibility()) continue;
    // the heading's own place: a section can begin at the foot of a page whose last
    // lines the heading is kept off (it moves to the next page with its first paragraph)
    h.id ||= section.id + '-heading';
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink, .katex-html').forEach(e => e.remove());
    found.push([Number(h.tagName[1]), h.id, linear(copy).replace(/\\s+/g, ' ').trim()]);
    const a = document.createElement('a');
    a.href = '#' + h.id;
    links.append(a);
  }
  document.body.append(links);
  return found;
}"""


def print_to_pdf(page, path: Path) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Print the current page with print media, A4 and backgrounds; return what the paper
    would cut (see ``CUT``: nothing, in a well-made page) and its sections (``SECTIONS``).

    The viewport is first set to the printable width, so that a widget's height measured
    here is its height on paper; one taller than a page is shrunk to fit it, and so is a
    display equation or a table wider than the column (``FIT_WIDE``).
    """
    page.emulate_media(media="print")
    page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": PRINT_HEIGHT_PX})
    next_frames(page)  # laid out at the new width, with print media
    page.evaluate(FIT_WIDGETS, PRINT_HEIGHT_PX * 0.85)
    for _ in range(6):
        if not page.evaluate(FIT_WIDE):
            break
        next_frames(page)
    cut = page.evaluate(CUT)
    sections = [tuple(s) for s in page.evaluate(SECTIONS)]
    page.pdf(path=str(path), format="A4", print_background=True, margin=MARGIN)
    return cut, sections


def print_book_page(page, url: str, path: Path, note: str
                    ) -> tuple[list[str], list[str], list[tuple[int, str, str]]]:
    """Print one book page to ``path``; return its solutions' HTML (taken out of the page),
    what the paper cut of it and its sections (:func:`print_to_pdf`)."""
    page.goto(url, wait_until="load", timeout=120_000)
    wait_ready(page, timeout_s=90)
    solutions = page.evaluate(PREPARE, note)
    return (solutions, *print_to_pdf(page, path))


def appendix_html(pieces: list[Piece]) -> str:
    """The appendix: every chapter's solutions under the chapter's title, in book order."""
    parts = [f'<section id="bp-solutions"><h1>{html.escape(APPENDIX_TITLE)}</h1>']
    for index, piece in enumerate(pieces):
        if piece.solutions:
            parts.append(f'<section id="bp-solutions-{index}"><h2>{html.escape(piece.title)}</h2>')
            parts += piece.solutions
            parts.append("</section>")
    return "\n".join(parts + ["</section>"])


def print_appendix(page, url: str, path: Path, pieces: list[Piece]
                   ) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Print the appendix on a book page (its styles) whose article is replaced; return
    what the paper cut of it and its sections."""
    page.emulate_media(media="screen")
    page.goto(url, wait_until="load", timeout=120_000)
    wait_ready(page, timeout_s=90)
    page.evaluate(APPENDIX, appendix_html(pieces))
    return print_to_pdf(page, path)


# ------------------------------------------------------------------ title page and numbers

TITLE_CSS = """
@page { size: A4; margin: 0; }
body { font-family: "DejaVu Sans", sans-serif; margin: 0; color: #222; }
.sheet { padding: 60mm 24mm 0; height: 230mm; break-after: page; }
h1 { font-size: 30pt; margin: 0 0 6mm; }
.by { font-size: 13pt; color: #444; }
.about { margin-top: 18mm; font-size: 11pt; line-height: 1.5; max-width: 140mm; }
.contents { padding: 24mm 24mm 0; }
.contents h2 { font-size: 20pt; margin: 0 0 8mm; }
.contents h3 { font-size: 11pt; margin: 6mm 0 2mm; color: #555; text-transform: uppercase;
               letter-spacing: 0.05em; }
.contents p { display: flex; margin: 1.5mm 0; font-size: 11.5pt; }
.contents .t { flex: none; max-width: 145mm; }
.contents .dots { flex: 1; border-bottom: 1px dotted #888; margin: 0 2mm 1.2mm; }
.contents .n { flex: none; }
"""

NUMBERS_CSS = """
@page { size: A4; margin: 0; }
body { margin: 0; font-family: "DejaVu Sans", sans-serif; }
.p { height: 290mm; position: relative; break-after: page; }
.p:last-child { break-after: auto; }
.n { position: absolute; bottom: 1mm; width: 100%; text-align: center; font-size: 9pt;
     color: #444; }
"""


def title_html(title: str, author: str, about: str, entries: list[tuple[str, str, int]]) -> str:
    """The title page and the contents: ``entries`` are (part, title, first page)."""
    rows, part = [], None
    for caption, name, number in entries:
        if caption != part:
            part = caption
            rows.append(f"<h3>{html.escape(caption)}</h3>" if caption else "")
        rows.append(
            f'<p><span class="t">{html.escape(name)}</span><span class="dots"></span>'
            f'<span class="n">{number}</span></p>'
        )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title><style>{TITLE_CSS}</style></head><body>"
        f'<div class="sheet"><h1>{html.escape(title)}</h1><p class="by">{html.escape(author)}'
        f'</p><p class="about">{html.escape(about)}</p></div>'
        f'<div class="contents"><h2>Contents</h2>{"".join(rows)}</div></body></html>'
    )


def numbers_html(total: int, first: int = 1) -> str:
    """``total`` blank A4 pages, each with its page number at the foot (an overlay)."""
    pages = "".join(
        f'<div class="p"><span class="n">{n}</span></div>' for n in range(first, first + total)
    )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><style>{NUMBERS_CSS}</style>"
        f"</head><body>{pages}</body></html>"
    )


def print_html(page, markup: str, path: Path) -> int:
    """Print a self-contained HTML string (no margins: its CSS sets them); return its pages."""
    from pypdf import PdfReader

    page.set_content(markup)
    page.emulate_media(media="print")
    page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
    return len(PdfReader(path).pages)


# ------------------------------------------------------------------ merging


@dataclass
class Heading:
    """A section of one printed piece: its level (2 for h2), title and place."""

    level: int
    title: str
    page: int
    top: float | None


def headings(piece: Piece) -> list[Heading]:
    """Each of ``piece``'s sections where its PDF says it was printed (0-based page)."""
    places = piece.reader.named_destinations
    found = []
    for level, section_id, title in piece.sections:
        place = places.get(f"/{section_id}")
        if place is None:
            raise RuntimeError(f"{piece.title}: the PDF does not say where the section"
                               f" {title!r} (#{section_id}) was printed")
        top = place.get("/Top")
        found.append(Heading(level, title, piece.reader.get_destination_page_number(place),
                             float(top) if top is not None else None))
    return found


def add_outline(writer, piece: Piece, start: int, parent=None, max_level: int = 3) -> None:
    """An entry for ``piece`` at its first page; its sections (h2, h3) nested under it."""
    from pypdf.generic import Fit

    top = writer.add_outline_item(piece.title, start, parent=parent)
    stack = {1: top}
    for h in headings(piece):
        if h.level < 2 or h.level > max_level:
            continue
        fit = Fit.xyz(top=h.top) if h.top is not None else Fit.fit()
        under = stack.get(h.level - 1, top)
        stack[h.level] = writer.add_outline_item(h.title, start + h.page, parent=under, fit=fit)
        for deeper in [k for k in stack if k > h.level]:
            del stack[deeper]


def merge(front: Path, pieces: list[Piece], numbers: Path, out: Path, title: str) -> int:
    """Join the title page and the pieces, stamp page numbers, write the outline; page count."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(front), import_outline=False)
    starts = []
    for piece in pieces:
        starts.append(len(writer.pages))
        writer.append(piece.reader, import_outline=False)
    stamps = PdfReader(numbers)
    if len(stamps.pages) != len(writer.pages):
        raise RuntimeError(f"{len(stamps.pages)} page numbers for {len(writer.pages)} pages")
    for page, stamp in zip(writer.pages, stamps.pages, strict=True):
        page.merge_page(stamp)
        page.compress_content_streams()  # merge_page wrote the page's content uncompressed
    writer.add_outline_item("Title page and contents", 0)
    for piece, start in zip(pieces, starts, strict=True):
        add_outline(writer, piece, start)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": title})
    with out.open("wb") as f:
        writer.write(f)
    return len(writer.pages)
