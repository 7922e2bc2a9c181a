"""The built book loads nothing from the network: no remote script, stylesheet, font or image."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)


class _AssetCollector(HTMLParser):
    """Collect every URL a browser would fetch on its own while loading a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload")):
                self.urls.append((f"link rel={rel}", a["href"]))
        elif tag in ("img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.urls.append((tag, a["src"]))
        for name, value in attrs:
            # The widget manager fetches modules it cannot find from this prefix.
            if name == "data-jupyter-widgets-cdn" and value:
                self.urls.append((name, value))


def remote_assets_in_page(html: str) -> list[str]:
    parser = _AssetCollector()
    parser.feed(html)
    return [f"{kind}: {url}" for kind, url in parser.urls if REMOTE.match(url)]


def test_the_collector_sees_remote_assets():
    """The check itself can fail: a page with a CDN script, stylesheet or image is caught."""
    page = (
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        '<img src="http://img.example/a.png"><script src="_static/local.js"></script>'
    )
    assert len(remote_assets_in_page(page)) == 3


def test_no_page_loads_a_remote_asset(built_book: Path):
    pages = sorted(built_book.rglob("*.html"))
    assert pages, "the build produced no HTML pages"
    offenders = {}
    for page in pages:
        found = remote_assets_in_page(page.read_text(errors="replace"))
        if found:
            offenders[str(page.relative_to(built_book))] = found
    assert not offenders, f"pages that load from the network: {offenders}"


CSS_URL = re.compile(r"url\(\s*['\"]?(https?:)?//", re.IGNORECASE)
CSS_IMPORT = re.compile(r"@import\s+(url\()?\s*['\"]?(https?:)?//", re.IGNORECASE)


def test_no_stylesheet_pulls_a_remote_font_or_import(built_book: Path):
    offenders = [
        str(css.relative_to(built_book))
        for css in (built_book / "_static").rglob("*.css")
        if CSS_URL.search(css.read_text(errors="replace"))
        or CSS_IMPORT.search(css.read_text(errors="replace"))
    ]
    assert not offenders, f"stylesheets that fetch fonts or imports from the network: {offenders}"


@pytest.mark.parametrize(
    "asset",
    [
        "_static/vendor/katex/katex.min.css",
        "_static/vendor/static-widgets.js",
    ],
)
def test_offline_assets_are_shipped(built_book: Path, asset: str):
    assert (built_book / asset).is_file(), f"{asset} is missing from the build; run `make assets`"


def test_katex_ships_every_font_its_stylesheet_names(built_book: Path):
    """The math is rendered at build time; its look needs KaTeX's fonts, all of them local."""
    sheet = built_book / "_static/vendor/katex/katex.min.css"
    named = set(re.findall(r"url\(\s*['\"]?([^'\")]+)", sheet.read_text()))
    assert len(named) > 20, f"KaTeX's stylesheet names only {len(named)} font files"
    missing = sorted(u for u in named if not (sheet.parent / u).is_file())
    assert not missing, f"fonts KaTeX's stylesheet asks for but the book lacks: {missing[:5]}"


def test_widget_pages_load_the_book_runtime_and_no_widget_manager(built_book: Path):
    """Every page with a widget loads the book's own runtime, deferred; none loads require.js
    or the ipywidgets HTML manager (3.7 MB parsed before any widget could start)."""
    widget_pages = [p for p in (built_book / "book").glob("*.html")
                    if "widget-view+json" in p.read_text()]
    assert len(widget_pages) >= 6, [p.name for p in widget_pages]
    for page in widget_pages:
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"[^>]*>", page.read_text())
        runtime = [s for s in scripts if "static-widgets.js" in s]
        assert len(runtime) == 1, f"{page.name}: loads the widget runtime {len(runtime)} times"
        tag = re.search(r"<script[^>]*static-widgets\.js[^>]*>", page.read_text()).group(0)
        assert "defer" in tag, f"{page.name}: the widget runtime holds up the page: {tag}"
        managers = [s for s in scripts if re.search(r"require\.js|embed-amd|html-manager", s)]
        assert not managers, f"{page.name}: loads {managers}"
