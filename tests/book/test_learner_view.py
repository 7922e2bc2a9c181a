"""What a learner meets, checked in the sources, before any build.

The two expert readings of the book (December 2026) found places where a reader met a
symbol before its definition, one letter with two meanings in a chapter, the delta
recursion without the parentheses that say its order, a check at a few sizes that did not
say which, and an in-place trick nobody explained. Each test below fails if such a place
comes back. The planted cases at the end show that the scans can fail.
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from bookkit.paths import ROOT


def cells(name: str) -> list[dict]:
    """The cells of book/<name>.ipynb, each with its joined source."""
    nb = json.loads((ROOT / "book" / f"{name}.ipynb").read_text())
    return [dict(c, source="".join(c["source"])) for c in nb["cells"]]


def index_of(cs: list[dict], needle: str) -> int:
    """The position of the first cell whose source contains ``needle``."""
    for i, c in enumerate(cs):
        if needle in c["source"]:
            return i
    raise AssertionError(f"no cell contains {needle!r}")


def notebooks() -> list[str]:
    return sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))


# ------------------------------------------------------------------ definitions before use


def test_partial_derivatives_are_defined_before_their_first_use():
    cs = cells("one-neuron-chain")
    first = min(i for i, c in enumerate(cs) if "partial" in c["source"])
    assert first == index_of(cs, "(def-partial-derivative)"), (
        f"cell {first} writes a partial derivative before the section that defines it"
    )


def test_the_chain_delta_is_defined_before_the_code_uses_it():
    cs = cells("one-neuron-chain")
    uses = re.compile(r"\bdelta[12]\b|\\delta_[12]")
    first = min(i for i, c in enumerate(cs) if uses.search(c["source"]))
    assert first >= index_of(cs, "(def-111-delta)"), f"delta used in cell {first} first"


def test_the_deltas_come_before_the_counting_that_uses_them():
    cs = cells("two-two-two")
    defined = index_of(cs, "(def-delta)")
    assert defined < index_of(cs, "(eq-222-mult-counts)")
    assert defined < index_of(cs, "class Counted")


def test_chapters_count_neurons_and_layers_the_same_way():
    intro = " ".join((ROOT / "book" / "intro.md").read_text().split())
    assert "two neurons in a row" in intro and "three neurons in a row" not in intro
    assert "exactly one new idea" not in intro
    assert "two neurons in a row" in " ".join(cells("one-neuron-chain")[0]["source"].split())
    title = " ".join(cells("softmax-four-layer")[0]["source"].split())
    assert "# The 4-3-3-3 network" in title and "$L = 3$ layers of weights" in title


def test_the_first_chapter_keeps_numerics_and_step_sizes_for_its_asides():
    """The network comes first; truncation error, curvature and the Hessian are folded
    asides at the end, which the rest of the book does not need."""
    cs = cells("one-neuron-chain")
    network, deeper = index_of(cs, "(sec-111-network)="), index_of(cs, "(sec-111-deeper)=")
    assert network < deeper
    for label in ("eq-centered-difference", "eq-parabola-step", "eq-curvature-limit",
                  "eq-hessian-limit", "beh-111-local-limit", "beh-111-ill-conditioned"):
        proof = index_of(cs, f"# proves: {label}")
        assert proof > deeper, label
        assert {"hide-cell"} & set(cs[proof].get("metadata", {}).get("tags", [])), label

def test_no_equation_is_called_by_a_bare_number():
    """The book numbers equations globally: 'equation 2' would be the chain rule."""
    bare = re.compile(r"\b[Ee]quation \d")
    for name in notebooks():
        for i, c in enumerate(cells(name)):
            if c["cell_type"] == "markdown":
                assert not bare.search(c["source"]), f"{name}, cell {i}"


# ------------------------------------------------------------------ one meaning per symbol


def test_making_deep_networks_train_gives_each_letter_one_meaning():
    cs = cells("making-deep-networks-train")
    prose = [(i, c["source"]) for i, c in enumerate(cs) if c["cell_type"] == "markdown"]
    depth = index_of(cs, "(sec-deep-depth)=")
    for i, text in prose:
        # m and s are Adam's running means here: no batch size m, no softmax s
        assert not re.search(r"/m\b|\\sum_\{i=1\}\^\{?m\b|\bs_j\b", text), f"cell {i}"
        # L counts layers: the largest curvature is lambda_max, never L
        assert not re.search(r"\$L = \\lambda|\\sqrt\s*L\b|\\eta\s*L\b", text), f"cell {i}"
        # mu is an input's mean, in the initialization section only
        assert "\\mu" not in text or i < depth, f"cell {i}"
        # lambda alone is a curvature: the L2 strength is lambda_{L2}
        assert not re.search(r"\\frac\{\\lambda\}\{2\}", text), f"cell {i}"
    # v is momentum's velocity; the code's flat parameter vector is w
    binds_v = set()
    for c in cs:
        if c["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(c["source"])):
            if isinstance(node, ast.arg) and node.arg == "v":
                binds_v.add(c["id"])
            if isinstance(node, ast.Name) and node.id == "v" and isinstance(node.ctx, ast.Store):
                binds_v.add(c["id"])
    assert binds_v <= {"deep-opt-rules", "deep-ex-mom-sol"}, binds_v


# ------------------------------------------------------------------ the recursion's order

RECURSION_WITHOUT_PARENTHESES = re.compile(
    r"\\mathsf\{T\}\s*\\(?:delta|Delta)\^\{\([^)]*\)\}\s*\\odot")


def recursion_without_parentheses(text: str) -> list[str]:
    return [m.group(0) for m in RECURSION_WITHOUT_PARENTHESES.finditer(text)]


def test_the_delta_recursion_is_written_with_its_parentheses():
    """W^T delta * f' reads two ways, and with equal widths both have the right shape."""
    found = []
    for name in notebooks():
        for i, c in enumerate(cells(name)):
            found += [f"{name}, cell {i}: {m}" for m in recursion_without_parentheses(c["source"])]
    for page in (ROOT / "book").glob("*.md"):
        found += [f"{page.name}: {m}" for m in recursion_without_parentheses(page.read_text())]
    assert not found, found


# ------------------------------------------------------------------ checks at a few sizes

#: Claims checked at a few sizes or cases, not proved: the prose beside each says what it
#: was checked at, with the numbers pasted from the proving cell.
CHECKED_AT = [
    ("making-deep-networks-train", "eq-init-var-backward"),
    ("making-deep-networks-train", "eq-lr-hvp"),
    ("autodiff", "eq-accumulate-rule"),
]
GLUED = re.compile(r"\{glue:text\}`([^`:]+)")
GLUE_CALL = re.compile(r"""glue\(\s*(f?)(["'])(.+?)\2""")


def glue_patterns(source: str) -> list[re.Pattern]:
    """The keys a cell glues, as patterns (an f-string's {...} matches anything)."""
    patterns = []
    for is_f, _, key in GLUE_CALL.findall(source):
        parts = re.split(r"\{[^}]*\}", key) if is_f else [key]
        patterns.append(re.compile(".+".join(map(re.escape, parts)) + "$"))
    return patterns


def unchecked_numbers(cs: list[dict], label: str) -> list[str]:
    """What is wrong with the prose of ``label``: no 'checked', or numbers not glued by
    a cell that proves it."""
    cell = next(c["source"] for c in cs if c["cell_type"] == "markdown"
                and f"({label})" in c["source"])
    # the paragraphs of the claim's cell that say what it was checked at
    prose = "\n\n".join(p for p in cell.split("\n\n") if "checked" in p)
    problems = [] if prose else [f"{label}: the prose does not say 'checked'"]
    keys = GLUED.findall(prose)
    if not keys:
        problems.append(f"{label}: no number glued from its proving cell")
    proving = [c["source"] for c in cs if c["cell_type"] == "code"
               and re.match(rf"#\s*proves:.*\b{re.escape(label)}\b", c["source"])]
    patterns = [p for source in proving for p in glue_patterns(source)]
    problems += [f"{label}: {key!r} is not glued by a cell that proves it"
                 for key in keys if not any(p.match(key) for p in patterns)]
    return problems


@pytest.mark.parametrize("notebook, label", CHECKED_AT)
def test_a_claim_checked_at_a_few_cases_says_which(notebook, label):
    assert unchecked_numbers(cells(notebook), label) == []


# ------------------------------------------------------------------ the in-place nudge

IGNORES_ITS_ARGUMENT = re.compile(r"numerical_gradient\(\s*lambda _\b|def \w+\(_\)")


def test_a_cost_that_ignores_its_argument_says_why():
    """`numerical_gradient(lambda _: cost(params), W)` works because W is nudged in
    place inside params; a reader is told so where it first happens."""
    for name in notebooks():
        cs = cells(name)
        said = False
        for i, c in enumerate(cs):
            said = said or "in place" in c["source"]
            if c["cell_type"] == "code" and IGNORES_ITS_ARGUMENT.search(c["source"]):
                assert said, f"{name}, cell {i}: the in-place nudge is not explained"


# ------------------------------------------------------------------ honest prerequisites


def test_the_prerequisites_name_what_the_chapters_use():
    page = (ROOT / "book" / "how-to-use.md").read_text()
    section = page.split("(sec-how-to-use-prerequisites)=", 1)[1]
    for needed in ("matrix products", "transposes", "variance", "independence",
                   "eigenvalues", "Hessian", "condition number", "Taylor series",
                   "machine", "classes", "closures", "operator overloading", "recursion"):
        assert needed in section, needed


# ------------------------------------------------------------------ timings are not claims

CLOCK_READS = {"perf_counter", "perf_counter_ns", "process_time", "monotonic"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _reads_a_clock(node: ast.AST, helpers: set[str]) -> bool:
    """Whether ``node`` calls a clock: time.perf_counter() and its kin, time.time(),
    timeit.timeit() or timeit.repeat(), or a helper of the notebook that does."""
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        f = call.func
        if isinstance(f, ast.Attribute):
            owner = f.value.id if isinstance(f.value, ast.Name) else ""
            if (f.attr in CLOCK_READS or (owner, f.attr) == ("time", "time")
                    or (owner == "timeit" and f.attr in {"timeit", "repeat"})):
                return True
        elif isinstance(f, ast.Name) and f.id in helpers:
            return True
    return False


def _targets(target: ast.AST) -> set[str]:
    """The names an assignment binds or fills (x, x[i], x.y, tuples of them)."""
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_targets(t) for t in target.elts)) if target.elts else set()
    return set()


def timed_asserts(sources: list[str]) -> list[str]:
    """Assertions, in a notebook's code cells, that read a value measured by a clock.

    A name is timed when it is assigned from a clock (or from a function of the notebook
    that reads one), or from an expression of timed names, or filled (`x.append(...)`,
    `x[k] = ...`) with one; the taint follows the cells in order. (Loop variables are not
    followed: a loop over timings usually prints them.)
    """
    timed, helpers, found = set(), set(), []
    for source in sources:
        tree = ast.parse(source)
        for _ in range(3):  # until the taint stops spreading inside the cell
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and _reads_a_clock(node, helpers):
                    helpers.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    value = node.value
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if value is not None and (_reads_a_clock(value, helpers)
                                              or _names(value) & timed):
                        for t in targets:
                            timed |= _targets(t)
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr in {"append", "extend", "update", "insert"}
                      and any(_reads_a_clock(a, helpers) or _names(a) & timed
                              for a in node.args)):
                    timed |= _targets(node.func.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and (_names(node.test) & timed
                                                 or _reads_a_clock(node.test, helpers)):
                found.append(ast.unparse(node)[:80])
    return found


#: Asserts the scan flags that read no time, each with its reason.
NOT_TIMES = {
    "deep-networks-that-train": (
        # sweep[k] = (counted bytes, traced bytes, seconds): these read the bytes
        "assert best in (4, 6)",
        "assert max(overhead) - min(overhead) < array_bytes / 2",
        "assert sweep[L_m][0] == kept",
        "assert abs(sweep[L_m][1] - peak_plain) < array_bytes / 2",
    ),
}


def test_no_cell_asserts_on_a_measured_time():
    """A timing is a measurement of one machine, quoted, never a claim a cell asserts:
    Run All must not stop on a slow or busy machine."""
    found = {}
    for name in notebooks():
        sources = [c["source"] for c in cells(name) if c["cell_type"] == "code"]
        flagged = [a for a in timed_asserts(sources)
                   if not a.startswith(NOT_TIMES.get(name, ()))]
        if flagged:
            found[name] = flagged
    assert not found, found


# ------------------------------------------------------------------ the scans can fail


def test_planted_slips_are_found():
    assert recursion_without_parentheses(r"\delta^{(l)} = (W^{(l+1)})^\mathsf{T} "
                                         r"\delta^{(l+1)} \odot f'(z^{(l)})")
    assert not recursion_without_parentheses(
        r"\Big(\big(W^{(l+1)}\big)^\mathsf{T} \delta^{(l+1)}\Big) \odot f'")
    said = [{"cell_type": "markdown", "source": "$$ x $$ (eq-x)\nchecked at "
             "{glue:text}`x-n` and {glue:text}`x-size:.1f`"},
            {"cell_type": "code", "source": "# proves: eq-x\nglue('x-n', 3)\n"
             "for k in (1, 2):\n    glue(f'x-{k}', k)"}]
    assert unchecked_numbers(said, "eq-x") == []  # x-size matches the f-string x-{k}
    silent = [dict(said[0], source="$$ x $$ (eq-x)\nverified"), said[1]]
    assert len(unchecked_numbers(silent, "eq-x")) == 2
    foreign = [said[0], dict(said[1], source="# proves: eq-y\nglue('x-n', 3)")]
    assert len(unchecked_numbers(foreign, "eq-x")) == 2
    timed = ["start = time.perf_counter()\nrun()\nelapsed = time.perf_counter() - start",
             "ratio = elapsed / 2\nassert ratio < 20"]
    assert timed_asserts(timed) == ["assert ratio < 20"]
    filled = ["seconds = []\nfor k in range(3):\n    seconds.append(timeit.timeit(f))",
              "assert min(seconds) > 0"]
    assert len(timed_asserts(filled)) == 1
    assert timed_asserts(["x = 2\nassert x > 1"]) == []
