"""Assemble the third-party browser assets the built book ships with.

The book must work with no network: in a classroom with bad Wi-Fi, or opened
from a USB stick. A default Jupyter Book page loads MathJax, require.js and the
ipywidgets HTML manager from CDNs; we render the math at build time (KaTeX's
stylesheet and fonts are all a page needs of it) and install the rest from the npm
registry (pinned by ``web/package-lock.json``) and copy what a page needs into
``web/dist/_static/vendor/``. Sphinx receives ``web/dist`` as
``html_extra_path``: its files are copied into the output, never injected into
pages, so only the scripts named in ``_config.yml`` load.

Run it through ``make assets`` (``python -m bookkit assets``); it is idempotent and fast when nothing changed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .paths import ROOT, VENDOR, WEB

MODULES = WEB / "node_modules"

# The book's math is rendered at build time by KaTeX (bookkit/katex.py); a page needs only
# KaTeX's stylesheet and the fonts it names (each loaded only where a glyph uses it). No
# math script is shipped: no page typesets in the browser.
KATEX_PARTS = ["katex.min.css", "fonts"]


def npm_install() -> None:
    """Install web/node_modules from the lock file unless it is already current."""
    stamp = MODULES / ".package-lock.json"
    lock = WEB / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm was not found: install Node.js 20 (it ships npm) to build the book's assets.")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=WEB, check=True)


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def named_anywidget(version: str) -> str:
    """anywidget's AMD bundle with its anonymous ``define`` given the name "anywidget".

    The widget manager asks require.js for the module "anywidget"; a named define
    loaded by a plain <script> tag answers that request locally, so the manager
    never falls back to fetching ``anywidget@~x.y.*`` from a CDN.
    """
    text = (MODULES / "anywidget" / "dist" / "index.js").read_text()
    anonymous = 'define(["@jupyter-widgets/base"]'
    if text.count(anonymous) != 1:
        sys.exit(
            f"anywidget {version}: expected one anonymous define in dist/index.js; the build step needs updating."
        )
    named = text.replace(anonymous, 'define("anywidget", ["@jupyter-widgets/base"]')
    return patient_runtime(named, version)


# anywidget 0.11's Runtime gives a model 2 s from its creation to load and bind its
# module, then rejects the model's ``ready`` for good ("[anywidget] Failed to initialize
# model."), even if the module arrives a moment later. The clock runs while the page's one
# thread is busy elsewhere: MathJax typesetting 200 equations (as pages did before their
# math was rendered at build time) on a slow laptop, a phone or a busy machine held it for
# longer than that, and the widget was dead on arrival (seen on the 2-2-2 page in a loaded
# CI run); a slow phone can still be that busy laying out a long chapter. The book's widget modules are inline strings that load
# in milliseconds once the thread is free, so the model waits as long as it takes, and
# ``ready`` fails only when loading the module really fails, with that error.
DEADLINE = """    AbortSignal.timeout(2e3).addEventListener("abort", () => {
      resolvers.reject(new Error("[anywidget] Failed to initialize model."));
    });
"""
LOAD_FAILED = """          if (controller.signal.aborted) return;
          setWidgetResult({ status: "error", error });
"""


def patient_runtime(text: str, version: str) -> str:
    """anywidget's bundle with the model's 2 s start-up deadline taken out (see above)."""
    for part in (DEADLINE, LOAD_FAILED):
        if text.count(part) != 1:
            sys.exit(f"anywidget {version}: its Runtime changed (expected once in dist/index.js:"
                     f"\n{part}); bookkit/assets.py's patient_runtime needs updating.")
    text = text.replace(DEADLINE, "")
    return text.replace(LOAD_FAILED, LOAD_FAILED + "          resolvers.reject(error);\n")


def installed_version(package: str) -> str:
    return json.loads((MODULES / package / "package.json").read_text())["version"]


def check_anywidget_matches_python() -> str:
    """The page records the Python anywidget's version; the shipped front end must match it."""
    version = installed_version("anywidget")
    try:
        from importlib.metadata import version as py_version

        python_side = py_version("anywidget")
    except Exception:  # anywidget not installed in this interpreter: nothing to compare
        return version
    major_minor = re.match(r"\d+\.\d+", python_side)
    if major_minor is None or not version.startswith(major_minor.group(0) + "."):
        sys.exit(
            f"anywidget front end {version} (web/package.json) does not match the Python "
            f"package {python_side} (requirements.txt): pin both to the same release."
        )
    return version


def main(argv: list[str] | None = None) -> int:
    npm_install()
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for part in KATEX_PARTS:
        copy(MODULES / "katex" / "dist" / part, VENDOR / "katex" / part)
    copy(MODULES / "requirejs" / "require.js", VENDOR / "require.js")
    manager = MODULES / "@jupyter-widgets" / "html-manager" / "dist"
    target = VENDOR / "jupyter-widgets" / "html-manager" / "dist"
    copy(manager / "embed-amd.js", target / "embed-amd.js")
    # The icon fonts are requested relative to the module's URL: html-manager/dist/ on most
    # pages, but one folder up (vendor/jupyter-widgets/) when the manager's stylesheet is
    # resolved against the "@jupyter-widgets" base instead (seen on the deep-training page in
    # a fresh clone). Ship them in both places, so no page asks for a font that is not there.
    for font in manager.iterdir():
        if font.suffix in {".woff2", ".woff", ".ttf", ".eot", ".svg"}:
            copy(font, target / font.name)
            copy(font, VENDOR / "jupyter-widgets" / font.name)
    version = check_anywidget_matches_python()
    (VENDOR / "anywidget.js").write_text(named_anywidget(version))
    copy(WEB / "src" / "widgets-config.js", VENDOR / "widgets-config.js")
    # The book's own stylesheet (phone width, print), named in _config.yml's html_css_files.
    copy(WEB / "src" / "book.css", VENDOR.parent / "book.css")
    size = sum(f.stat().st_size for f in VENDOR.rglob("*") if f.is_file())
    print(f"assets: {size / 1e6:.1f} MB in {VENDOR.relative_to(ROOT)}")
    return 0

