"""Every equation of the HTML book rendered when the book is built (KaTeX, bookkit/katex.py).

Registered as Sphinx's HTML math renderer (``html_math_renderer: prerendered`` in
_config.yml). It writes the same markup around each equation as Sphinx's MathJax renderer
(``span.math`` inline, ``div.math`` with its ``id`` and numbered ``span.eqno`` for a
display, so ``{eq}`` references and the claim ledger's links land where they did), with
the TeX replaced by KaTeX's HTML and MathML. A page with math gets KaTeX's stylesheet
(``_static/vendor/katex/``, fonts beside it, shipped by ``make assets``) and no script.

TeX that KaTeX cannot render is a warning at the equation's source line, which fails the
book's build (``-W``), never a red box in a page.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from bookkit import katex

logger = logging.getLogger(__name__)

NAME = "prerendered"
STYLESHEETS = ["vendor/katex/katex.min.css"]
DISPLAY = '<span class="katex-display"'


def _render(self, node: nodes.Element, tex: str, display: bool) -> str:
    try:
        return katex.render(tex, display, self.builder.config.katex_macros)
    except katex.TeXError as error:
        logger.warning("KaTeX cannot render this equation: %s", error, location=node)
        return f'<span class="katex-error">{self.encode(tex)}</span>'


def display_tex(node: nodes.math_block) -> str:
    """The TeX of a display, arranged as Sphinx's MathJax renderer arranges it: paragraphs
    (blank-line separated) become aligned rows, a part with ``\\\\`` is a ``split``."""
    if node.get("nowrap"):
        return node.astext()
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    parts = [r"\begin{split}" + p + r"\end{split}" if r"\\" in p else p for p in parts]
    if len(parts) > 1:
        return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"
    return parts[0] if parts else ""


def visit_math(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_render(self, node, node.astext(), False) + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node.get("nowrap"):
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    # A display wider than its column scrolls in its own box; a keyboard reaches that box
    # too (as it reached every MathJax equation before), so it can be scrolled without a mouse.
    rendered = _render(self, node, display_tex(node), True)
    self.body.append(rendered.replace(DISPLAY, DISPLAY + ' tabindex="0"', 1))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def add_stylesheet(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """KaTeX's stylesheet on the pages that have math (its fonts load only where used)."""
    if app.builder.format != "html" or getattr(app.builder, "math_renderer_name", None) != NAME:
        return
    if app.env.get_domain("math").has_equations(pagename):
        for sheet in STYLESHEETS:
            app.add_css_file(sheet, priority=400)


def setup(app: Sphinx) -> dict:
    app.add_config_value("katex_macros", {}, "env", dict)
    app.add_html_math_renderer(NAME, (visit_math, None), (visit_displaymath, None))
    app.connect("html-page-context", add_stylesheet)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
