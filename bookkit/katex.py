"""TeX to HTML at build time, with KaTeX: the one renderer of the book's math.

Every equation of the book (the prose's, the claim ledger's, a notebook's ``text/latex``
output, a worksheet's) becomes HTML when the book is built, so a reader's browser only
lays it out: no math library runs in the page. KaTeX's output is the visible HTML plus
MathML (``output: htmlAndMathml``), which screen readers read.

KaTeX is the npm package pinned by ``web/package-lock.json`` (``make assets`` installs it
into ``web/node_modules``), run by Node in one long-lived process
(``bookkit/katex-render.js``) that answers one JSON line per equation.
:func:`render` raises :class:`TeXError` on TeX that KaTeX cannot render, so an
unsupported construct fails the build instead of showing a red error box in a page.

Why this route and not sphinxcontrib-katex's ``katex_prerender``: in that mode (0.9.11) it
renders with fixed options, without the book's macros and with ``throwOnError`` off, and
its stylesheet defaults to a CDN; what it adds over this module is a socket protocol.
Why not MathJax's own server-side rendering (``mathjax-full`` in Node): it works too, but
its CHTML output needs a stylesheet generated for each page's glyphs, where KaTeX's
``renderToString`` pairs with one static stylesheet and font folder; and KaTeX renders
every one of the book's 1804 equations (``tests/book/test_math.py`` checks that none came
out as an error or as TeX).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

from .paths import ROOT, WEB

KATEX = WEB / "node_modules" / "katex"
SCRIPT = Path(__file__).with_name("katex-render.js")
CONFIG = ROOT / "_config.yml"


class TeXError(ValueError):
    """KaTeX could not render a TeX source (unknown command, bad syntax)."""


def book_macros() -> dict[str, str]:
    """The book's TeX macros (``\\R``, ``\\diff``), as _config.yml names them for Sphinx."""
    import yaml

    config = yaml.safe_load(CONFIG.read_text())
    return dict(config["sphinx"]["config"]["katex_macros"])


def options(macros: dict[str, str], output: str = "htmlAndMathml") -> dict:
    """KaTeX's options for the book: errors raise; HTML for the eye, MathML for the ear
    (``output="mathml"``: MathML alone, which a browser lays out with no stylesheet)."""
    return {"macros": macros, "throwOnError": True, "output": output,
            "strict": "warn", "trust": False}


class Renderer:
    """One Node process running KaTeX with fixed options; :meth:`render` is thread-safe."""

    def __init__(self, macros: dict[str, str], output: str = "htmlAndMathml"):
        if not (KATEX / "package.json").exists():
            raise RuntimeError(f"KaTeX is missing from {KATEX}: run `make assets` first.")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node was not found: install Node.js 20 to build the book's math.")
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [node, str(SCRIPT), str(KATEX), json.dumps(options(macros, output))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
            bufsize=1)
        atexit.register(self.close)

    def render(self, tex: str, display: bool = False) -> str:
        """``tex`` as KaTeX's HTML (with its MathML); :class:`TeXError` if it cannot."""
        with self.lock:
            self.process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the KaTeX process ended (exit {self.process.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise TeXError(answer["error"])
        return answer["html"]

    def close(self) -> None:
        if self.process.poll() is None and self.pid == os.getpid():
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


_renderers: dict[tuple, Renderer] = {}


def renderer(macros: dict[str, str] | None = None, output: str = "htmlAndMathml") -> Renderer:
    """The running renderer for these macros (the book's by default), started once per process.

    A forked process (Sphinx's parallel writers) starts its own: two processes must never
    share one pipe.
    """
    macros = book_macros() if macros is None else macros
    key = (os.getpid(), json.dumps(macros, sort_keys=True), output)
    if key not in _renderers:
        _renderers[key] = Renderer(macros, output)
    return _renderers[key]


def render(tex: str, display: bool = False, macros: dict[str, str] | None = None) -> str:
    """``tex`` as HTML and MathML, rendered by KaTeX with the book's macros."""
    return renderer(macros).render(tex, display)
