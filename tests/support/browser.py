"""Drive Debian's Chromium with playwright, with every request beyond 127.0.0.1 refused.

Used by the browser tests. Never run ``playwright install``: the system Chromium is
what CI installs (``apt-get install chromium``) and what these helpers launch.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from bookkit import toc
from bookkit.browser import CHROMIUM, LAUNCH_ARGS, note_outside_requests
from bookkit.paths import WEB

#: How long any one wait in a browser test may last before the run is taken as hung. It
#: judges nothing about speed: a page that loads in 4 s on a quiet machine took more than
#: playwright's default 30 s on a busy one (two workers, the build, a hub and nbgrader on
#: two cores), and a JupyterLab Run All took more than 180 s with three test runs at once.
#: Tests wait for conditions (a selector, a function); this only ends a hang.
HANG_MS = 300_000


#: For the <head> of a page a test makes: an icon that is no file. Without a <link rel=icon>
#: the browser asks the server for /favicon.ico, and the 404 is a console error in the log.
NO_ICON = '<link rel="icon" href="data:,">'


@dataclass
class PageLog:
    """What a page did while it loaded: errors the reader would not see but should not happen."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.page_errors]
            + [f"HTTP {m}" for m in self.failed_responses]
            + [f"tried the network: {m}" for m in self.blocked_requests]
        )

    def clear(self) -> None:
        """Forget what was logged so far (a page shared by several tests: each its own)."""
        for problems in (self.console_errors, self.page_errors, self.failed_responses,
                         self.blocked_requests):
            problems.clear()


# Resolves once the page's fonts are in and what they changed has been laid out (the math
# arrives rendered at build time).
_SETTLED = """async () => {
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""


def settled(page) -> None:
    """Wait until ``page`` has loaded and its fonts and math are in place.

    Waits for what the tests read, not for the network to fall quiet ("networkidle"): on a
    busy machine a chapter's lazily loaded fonts kept the network busy past any bound.
    """
    page.wait_for_load_state("load")
    page.evaluate(_SETTLED)


# The book's widgets, by the class of their root element and the call that makes them.
WIDGET_ROOTS = (".bp-chain-nudge, .bp-network-nudge, .bp-training-curves, .bp-optimizer-race,"
                " .bp-depth-spread, .bp-gradient-flow, .bp-attention-nudge, .bp-receptive-field")
WIDGETS = ("Nudge(", "TrainingCurves(", "OptimizerRace(", "DepthSpread(", "GradientFlow(",
           "AttentionNudge(", "ReceptiveField(")


def chapters() -> list[str]:
    """The toc entries that are notebooks."""
    return [e for e in toc.entries() if toc.source_of(e).suffix == ".ipynb"]


def widget_chapters() -> list[str]:
    """The chapters that show at least one widget."""
    return [e for e in chapters() if any(w in toc.source_of(e).read_text() for w in WIDGETS)]


def chromium_or_skip():
    if not CHROMIUM.exists():
        if shutil.which("apt-get") and _ci():
            pytest.fail("Chromium is missing in CI: .ci/run must `apt-get install -y chromium`")
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


def _ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_logged_page(b, base_url: str, width: int = 1280, height: int = 900, **context):
    """A new page that records its errors and every request not served by ``base_url``
    (which the browser refuses: it resolves no host but 127.0.0.1).

    ``context`` (e.g. ``has_touch=True, is_mobile=True``) opens it in a context of its own.
    """
    viewport = {"width": width, "height": height}
    page = (b.new_context(viewport=viewport, **context).new_page() if context
            else b.new_page(viewport=viewport))
    page.set_default_timeout(HANG_MS)
    page.set_default_navigation_timeout(HANG_MS)
    log = PageLog()
    note_outside_requests(page, base_url, log.blocked_requests)
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on(
        "response", lambda r: r.status >= 400 and log.failed_responses.append(f"{r.status} {r.url}")
    )
    return page, log



def open_widget_page(chromium, base_url: str, path: str, root: str, height: int = 1400):
    """A logged page of the built book's ``path`` once its widget ``root`` (a selector) has
    drawn and the page's fonts and math are in place."""
    page, log = open_logged_page(chromium, base_url, height=height)
    page.goto(f"{base_url}/{path}")
    page.wait_for_selector(f"{root}[data-redraws]")
    settled(page)
    return page, log


def shared_widget_page(path: str, root: str, as_loaded: str = "root => null"):
    """The fixtures ``chapter`` and ``widget`` of a test module about the widget ``root`` on
    the page ``path``: ``chapter, widget = shared_widget_page(PAGE, ROOT, READ)``.

    A chapter is long (a full page load costs seconds), and a test that only needs a live
    widget moves it from wherever the last one left it: ``chapter`` is one page for the
    module, (page, log, what ``as_loaded`` read from the widget's root as the page opened,
    before any test moved it). ``widget`` is (page, log, the widget's root locator), and
    fails the test if the page logged a problem while it ran.
    """

    @pytest.fixture(scope="module")
    def chapter(worker_chromium, book_server):
        page, log = open_widget_page(worker_chromium, book_server, path, root)
        yield page, log, page.locator(root).first.evaluate(as_loaded)
        page.close()

    @pytest.fixture
    def widget(chapter):
        page, log, _ = chapter
        seen = len(log.problems())
        yield page, log, page.locator(root).first
        assert not log.problems()[seen:], "; ".join(log.problems()[seen:])

    return chapter, widget

# Unfold every dropdown as a reader's click does (togglebutton.js drops the class that
# keeps a folded dropdown's content hidden, at zero height).
UNFOLD = """() => document.querySelectorAll('main .toggle-hidden')
  .forEach(n => n.classList.remove('toggle-hidden'))"""

# How wide the page is and how wide it shows: wider is a page that scrolls sideways.
# Against the document's client width: an emulated phone widens innerWidth to fit a page
# that overflows (innerWidth let a 14 px overflow through), and a scroll bar cannot hide an
# overflow of its own width.
SIDEWAYS = """() => ({page: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                     view: document.documentElement.clientWidth})"""

# A stylesheet that lays out the whole page: the book's pages lay out what is off screen
# only when scrolled near (content-visibility in web/src/book.css), and a check of the
# page's width or of its code cells must see all of it.
LAY_OUT_ALL = ".bd-article * { content-visibility: visible !important; }"


# Code cells wider than their column at the page's width (a reader would scroll sideways).
WIDE_CODE = """() => [...document.querySelectorAll('main .cell_input pre')]
  .filter(pre => pre.checkVisibility() && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => {
    const lines = pre.textContent.split('\\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    return `${pre.scrollWidth - pre.clientWidth} px too wide: ${longest}`;
  })"""


# Page snippets shared by the widget tests (run with element_handle.evaluate).

# A widget's slider ``name`` (its data-param) set to ``value``, as dragging it sets it.
MOVE_SLIDER = """(root, [name, value]) => {
  const input = root.querySelector(`input[data-param="${name}"]`);
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
}"""

# Every piece of text in a widget, with its size in CSS pixels as drawn on screen.
TEXT_SIZES = """root => {
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || e.closest('.bp-sr-only, title, option, details:not([open]) table')) continue;
    let px = parseFloat(getComputedStyle(e).fontSize);
    const svg = e.closest('svg');
    if (svg) px *= svg.getScreenCTM().a;
    out.push([n.textContent.trim().slice(0, 30), px]);
  }
  return out;
}"""

AXE_ON_ELEMENT = """async root => {
  // only the violations are read: passes would each be described, for nothing
  const rules = {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, resultTypes: ['violations']};
  const result = await axe.run(root, rules);
  return result.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
}"""


#: axe-core, installed with the book's web assets (web/node_modules).
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"


def assert_readable_and_axe_clean(page, *selectors: str) -> None:
    """The widgets ``selectors`` on ``page``: no text below 12 px, a visible label on every
    input, and no WCAG 2 A/AA violation that axe-core finds in them (skipped without
    axe-core). One axe run for them all: each run walks the whole chapter (some 30,000
    elements) to lay out its grid for colour contrast, whatever part it judges."""
    roots = [page.locator(selector).element_handle() for selector in selectors]
    for selector, root in zip(selectors, roots, strict=True):
        small = [(t, round(px, 1)) for t, px in root.evaluate(TEXT_SIZES) if px < 12]
        assert not small, f"{selector}: text below 12 px: {small}"
        for control in root.query_selector_all("input"):
            assert control.evaluate("i => i.labels.length > 0"), (
                f"{selector}: every control has a visible label")
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make assets)")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(f"roots => ({AXE_ON_ELEMENT})({{include: roots}})", roots)
    assert not violations, violations
