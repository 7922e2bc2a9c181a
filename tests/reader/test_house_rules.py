"""The house rules a machine can check (CONTRIBUTING.md says why each exists).

* ``backprop_book`` (what chapters import) never imports ``bookkit`` (what makes the book);
* neither package has an import cycle;
* every third-party package either one imports is declared in ``pyproject.toml``;
* a widget's Python, script and stylesheet sit together;
* ``book/`` holds only what the book shows: pages, notebooks, images and data.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

from bookkit.paths import BOOK, ROOT

PACKAGES = ("backprop_book", "bookkit")
#: Distribution names that differ from the module a package imports.
DISTRIBUTION_OF = {"yaml": "pyyaml", "IPython": "ipython", "markdown_it": "markdown-it-py",
                   "mdit_py_plugins": "mdit-py-plugins"}
#: Imported only inside a try/except ImportError, with a message when missing.
OPTIONAL = {"torch"}


def modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` by dotted name."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """The absolute names a module imports, anywhere in it (functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            out.add(module)
            out |= {f"{module}.{alias.name}" for alias in node.names}
    return out


def test_backprop_book_never_imports_bookkit():
    wrong = [f"{name} imports {dep}" for name, path in modules("backprop_book").items()
             for dep in imports(name, path) if dep.split(".")[0] == "bookkit"]
    assert not wrong, (
        "backprop_book is what chapters and students' kernels import; the machinery that "
        f"makes the book (bookkit) may use it, never the other way: {wrong}")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    found = modules(package)
    graph = {name: {d for dep in imports(name, path) for d in (dep, dep.rpartition(".")[0])
                    if d in found and d != name} for name, path in found.items()}
    # A package imports its own submodules on purpose (its __init__); that is not a cycle.
    graph = {n: {d for d in deps if not n.startswith(d + ".")} for n, deps in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, trail):
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(trail[trail.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, trail + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, f"import cycles in {package}: {cycles}"


def declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(specs):
        return {re.split(r"[<>=\[ ;]", spec)[0].lower().replace("_", "-") for spec in specs}

    core = names(project["dependencies"])
    return {"backprop_book": core, "bookkit": core | names(project["optional-dependencies"]["kit"])}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_third_party_import_is_declared(package):
    third_party = {dep.split(".")[0] for name, path in modules(package).items()
                   for dep in imports(name, path)} - set(sys.stdlib_module_names) - set(PACKAGES)
    wanted = {DISTRIBUTION_OF.get(m, m).lower().replace("_", "-") for m in third_party - OPTIONAL}
    missing = sorted(wanted - declared()[package])
    assert not missing, f"{package} imports {missing}, which pyproject.toml does not declare for it"


def test_each_widget_has_its_script_and_stylesheet_beside_it():
    folder = ROOT / "backprop_book" / "widgets"
    widgets = [p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")]
    assert widgets
    missing = [f"{w}.{ext}" for w in widgets for ext in ("js", "css")
               if not (folder / f"{w}.{ext}").exists()]
    assert not missing, f"a widget's .py, .js and .css sit together; missing: {missing}"


def test_book_holds_only_what_the_book_shows():
    allowed = {".ipynb", ".md", ".svg", ".png", ".jpg", ".txt", ".csv", ".json"}
    strays = [str(p.relative_to(ROOT)) for p in BOOK.rglob("*")
              if p.is_file() and ".ipynb_checkpoints" not in p.parts
              and "__pycache__" not in p.parts and p.suffix not in allowed]
    assert not strays, f"book/ holds pages, notebooks, images and data only: {strays}"


def chapter_code() -> dict[str, str]:
    """Every chapter notebook's code, joined, by file name."""
    import json

    return {p.name: "\n".join("".join(c["source"]) for c in json.loads(p.read_text())["cells"]
                              if c["cell_type"] == "code")
            for p in sorted(BOOK.glob("*.ipynb"))}


def test_chapters_speak_one_dialect_of_the_package():
    """``import backprop_book as bb`` in every chapter, and only its public names."""
    aliases, private = {}, []
    for name, code in chapter_code().items():
        for alias in re.findall(r"^\s*import backprop_book as (\w+)", code, re.M):
            aliases.setdefault(alias, []).append(name)
        private += [f"{name}: {m}" for m in
                    re.findall(r"backprop_book(?:\.\w+)*\._\w+|from backprop_book(?:\.\w+)* "
                               r"import [^\n]*\b_\w+", code)]
    assert set(aliases) <= {"bb"}, f"chapters import the package as bb, not: {aliases}"
    assert not private, f"chapters use only public names of the package: {private}"
