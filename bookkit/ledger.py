"""The claim ledger: which display equations are claims, and which cells prove them.

The book promises that nothing is taken on trust. This module turns the promise into rules a
machine can check, used by the Sphinx extension that links claims and proofs in the HTML
(``bookkit/sphinx/claim_ledger.py``) and by the source-level test (``tests/test_claims.py``).

A display equation is labelled with MyST's ``$$ ... $$ (label)``:

* ``eq-...``: a **claim**, a derivative, gradient, Jacobian, delta, update rule, bound or
  identity. Some code cell must prove it.
* ``def-...``: a **definition** (a forward pass, a cost). It needs no proof.
* ``sum-...``: a **restatement** of the claim ``eq-...`` of the same name, as summary boxes
  do; it is proved where that claim is.

A statement in prose about how something *behaves* (training, an optimizer, a check) is a
**behavioural claim**, ``beh-...``. It is labelled where it stands, either as an admonition
with ``:name: beh-<name>`` (the title says the claim, the body states it with its numbers) or
as a MyST target ``(beh-<name>)=`` on the line before the paragraph that states it. Its text
must state the conditions it was measured or holds under, in a part that starts with
``Conditions:`` (bold or not). Some code cell must prove it, like an ``eq-`` claim.

A code cell proves claims when its first line is ``# proves: eq-a, beh-b`` (a long list goes
on in comment lines while a line ends with a comma), and it must be able to fail: it
asserts, raises, or calls a ``check`` function.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = {"eq": "claim", "def": "definition", "sum": "restatement", "beh": "behaviour"}
PROVABLE = ("claim", "behaviour")  # the kinds a cell proves
_LABEL = re.compile(r"^(eq|def|sum|beh)-[a-z0-9]+(?:-[a-z0-9]+)*$")
_CONDITIONS = re.compile(r"(?:\*\*)?Conditions(?:\*\*)?\s*:|Conditions:\*\*", re.I)
_PROVES = re.compile(r"^\s*#\s*proves:\s*(?P<labels>.*?)\s*$")

# What makes a display equation a statement about derivatives (the ones that need a label).
_DERIVATIVE_MARKERS = (
    (re.compile(r"\\partial"), "a partial derivative (\\partial)"),
    (re.compile(r"\\[td]?frac\s*\{\s*d"), "a derivative (\\frac{d...})"),
    (re.compile(r"\\nabla"), "a gradient (\\nabla)"),
    (re.compile(r"\\diff\b"), "a partial derivative (\\diff)"),
    (re.compile(r"[A-Za-z)}\]]\s*(?:'|\\prime)"), "a derivative written with a prime"),
    (re.compile(r"\\leftarrow"), "an update rule (\\leftarrow)"),
)
_DELTA = re.compile(r"\\(?:delta|Delta)\b")

# How a proving cell proves: by the names it calls.
_SYMPY = re.compile(r"\bsp\.|\bsympy\b")
_FINITE_DIFFERENCES = re.compile(
    r"numerical_gradient|check_gradients|finite_diff|centered|\(2 \* h\)|/ \(2\*h\)|gradcheck"
)


@dataclass(frozen=True)
class Claim:
    """A labelled display equation, or a behavioural claim: where it stands, what it says.

    For a behavioural claim ``latex`` holds the statement's text (Markdown), not LaTeX.
    """

    label: str
    latex: str
    where: str  # a document name, such as "book/two-two-two"

    @property
    def kind(self) -> str:
        return label_kind(self.label)

    @property
    def conditions(self) -> str:
        """What a behavioural claim says it holds under ("" if it says nothing)."""
        return conditions_of(self.latex)


def conditions_of(text: str) -> str:
    """The part of a statement after ``Conditions:``, up to the end of its paragraph."""
    match = _CONDITIONS.search(text)
    if not match:
        return ""
    rest = text[match.end():].lstrip("* ").split("\n\n")[0]
    return " ".join(rest.split())


@dataclass(frozen=True)
class Proof:
    """A code cell whose first line names the claims it proves."""

    labels: tuple[str, ...]
    source: str
    where: str
    cell: int  # the cell's position in its notebook, counted from 0

    @property
    def method(self) -> str:
        return proof_method(self.source)


def label_kind(label: str) -> str:
    """``"claim"``, ``"definition"``, ``"restatement"`` or ``"behaviour"``; ValueError
    for any other label."""
    if not _LABEL.match(label):
        raise ValueError(
            f"label {label!r} does not follow the ledger's form: "
            "'eq-<name>' for a claim, 'def-<name>' for a definition, 'sum-<name>' for a "
            "summary's restatement of eq-<name>, 'beh-<name>' for a behavioural claim "
            "(lower case, words joined by '-')"
        )
    return KINDS[label.split("-", 1)[0]]


def proved_labels(source: str) -> tuple[str, ...]:
    """The labels a code cell's first line says it proves (empty if it proves none).

    A long list may go on in the comment lines below while a line ends with a comma::

        # proves: eq-a, eq-b,
        #   eq-c
    """
    lines = source.lstrip("\n").split("\n")
    match = _PROVES.match(lines[0])
    if not match:
        return ()
    text = match["labels"]
    for line in lines[1:]:
        if not text.endswith(",") or not line.lstrip().startswith("#"):
            break
        text += " " + line.lstrip().lstrip("#").strip()
    return tuple(label.strip() for label in text.split(",") if label.strip())


def derivative_marker(latex: str) -> str | None:
    """Why a display equation states something about a derivative, or None if it does not.

    Markers: ``\\partial``, ``\\frac{d``, ``\\nabla``, a prime, an update arrow, or a delta
    defined by an equation (``\\delta`` or ``\\Delta`` with an ``=``).
    """
    for pattern, reason in _DERIVATIVE_MARKERS:
        if pattern.search(latex):
            return reason
    if _DELTA.search(latex) and "=" in latex:
        return "a delta defined by an equation"
    return None


def can_fail(source: str) -> bool:
    """Whether a proving cell can fail: it asserts, raises, or calls a checker."""
    return bool(re.search(r"\bassert\b|\braise\b|\bcheck\w*\(", source))


def proof_method(source: str) -> str:
    """How a cell proves its claims, read off what it calls."""
    sympy = bool(_SYMPY.search(source))
    differences = bool(_FINITE_DIFFERENCES.search(source))
    if sympy and differences:
        return "SymPy and finite differences"
    if sympy:
        return "SymPy"
    if differences:
        return "NumPy against finite differences"
    return "NumPy"


def base_name(label: str) -> str:
    """``eq-hidden-delta``, ``sum-hidden-delta`` -> ``hidden-delta``."""
    return label.split("-", 1)[1]


def ledger_problems(claims: Iterable[Claim], proofs: Iterable[Proof]) -> list[str]:
    """Every way the ledger is broken, as sentences a reader can act on (empty: it holds)."""
    claims, proofs = list(claims), list(proofs)
    problems, by_label = [], {}
    for claim in claims:
        try:
            label_kind(claim.label)
        except ValueError as error:
            problems.append(f"{claim.where}: {error}")
            continue
        if claim.label in by_label:
            problems.append(f"{claim.where}: the label {claim.label!r} is used twice")
        by_label[claim.label] = claim
    proved: dict[str, list[Proof]] = {}
    for proof in proofs:
        if not can_fail(proof.source):
            problems.append(
                f"{proof.where}, cell {proof.cell}: proves {', '.join(proof.labels)} but can "
                "never fail (no assert, raise or check call)"
            )
        for weak in weak_proof_problems(proof.source):
            problems.append(
                f"{proof.where}, cell {proof.cell}: proves {', '.join(proof.labels)} with an "
                f"assertion that cannot fail: it {weak}"
            )
        for label in proof.labels:
            claim = by_label.get(label)
            if claim is None:
                problems.append(
                    f"{proof.where}, cell {proof.cell}: '# proves: {label}' names no "
                    "equation of the book"
                )
            elif claim.kind not in PROVABLE:
                problems.append(
                    f"{proof.where}, cell {proof.cell}: '# proves: {label}' names a "
                    f"{claim.kind}; a cell proves eq- and beh- labels only"
                )
            proved.setdefault(label, []).append(proof)
    for claim in by_label.values():
        if claim.kind in PROVABLE and claim.label not in proved:
            problems.append(
                f"{claim.where}: the {'claim' if claim.kind == 'claim' else 'behavioural claim'} "
                f"{claim.label} has no proving cell "
                f"(a code cell whose first line is '# proves: {claim.label}')"
            )
        if claim.kind == "behaviour" and not claim.conditions:
            problems.append(
                f"{claim.where}: the behavioural claim {claim.label} states no conditions "
                "(say what it holds under, in a part starting 'Conditions:')"
            )
        if claim.kind == "restatement" and "eq-" + base_name(claim.label) not in by_label:
            problems.append(
                f"{claim.where}: {claim.label} restates eq-{base_name(claim.label)}, which "
                "no page defines"
            )
    return problems


def proofs_by_label(proofs: Iterable[Proof]) -> Mapping[str, list[Proof]]:
    """Each claim label with the cells that prove it, in the order given."""
    found: dict[str, list[Proof]] = {}
    for proof in proofs:
        for label in proof.labels:
            found.setdefault(label, []).append(proof)
    return found


# --- reading sources (notebooks and Markdown pages) ------------------------------------

_DISPLAY = re.compile(r"\$\$(?P<latex>.+?)\$\$[ \t]*(?:\((?P<label>[^)\s]+)\))?", re.S)
_MATH_DIRECTIVE = re.compile(
    r"^(?P<fence>```|:::)\{math\}[^\n]*\n(?P<body>.*?)^(?P=fence)", re.S | re.M
)


def display_equations(markdown: str) -> list[tuple[str, str | None]]:
    """Each display equation of a Markdown text as ``(latex, label or None)``.

    Reads ``$$ ... $$ (label)`` and ``{math}`` directives with a ``:label:`` option.
    """
    found = [(m["latex"].strip(), m["label"]) for m in _DISPLAY.finditer(markdown)]
    for match in _MATH_DIRECTIVE.finditer(markdown):
        label, lines = None, []
        for line in match["body"].splitlines():
            option = re.match(r"^:label:\s*(\S+)", line)
            if option:
                label = option[1]
            elif not line.startswith(":"):
                lines.append(line)
        found.append(("\n".join(lines).strip(), label))
    return found


_BEH_TARGET = re.compile(r"^\((?P<label>beh-[^)\s]*)\)=[ \t]*$", re.M)
_BEH_NAME = re.compile(r"^:name:[ \t]*(?P<label>beh-\S*)[ \t]*$", re.M)
_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{[^}]+\}.*$", re.M)


def behaviour_statements(markdown: str) -> list[tuple[str, str]]:
    """Each behavioural claim of a Markdown text as ``(label, statement text)``.

    A target ``(beh-x)=`` labels the paragraph after it; ``:name: beh-x`` labels the
    directive (an admonition) it stands in, whose whole body is the statement.
    """
    found = []
    for match in _BEH_TARGET.finditer(markdown):
        after = markdown[match.end():].lstrip("\n")
        found.append((match["label"], after.split("\n\n")[0]))
    for match in _BEH_NAME.finditer(markdown):
        opening = None
        for fence in _FENCE_OPEN.finditer(markdown, 0, match.start()):
            opening = fence
        if opening is None:
            found.append((match["label"], ""))
            continue
        close = re.compile("^" + re.escape(opening["fence"]) + r"[ \t]*$", re.M)
        end = close.search(markdown, match.end())
        body = markdown[opening.end(): end.start() if end else len(markdown)]
        found.append((match["label"], body.strip()))
    return found


def read_notebook(nb: Mapping, where: str) -> tuple[list[Claim], list[Proof], list[str]]:
    """Claims, proofs and unlabelled derivative equations of a notebook (as loaded JSON)."""
    claims, proofs, unlabelled = [], [], []
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            c, u = _read_markdown(source, where, f"cell {index}")
            claims += c
            unlabelled += u
        elif cell["cell_type"] == "code" and proved_labels(source):
            proofs.append(Proof(proved_labels(source), source, where, index))
    return claims, proofs, unlabelled


def read_markdown_page(text: str, where: str) -> tuple[list[Claim], list[str]]:
    """Claims and unlabelled derivative equations of a Markdown page."""
    return _read_markdown(text, where, "page")


def _read_markdown(text: str, where: str, place: str) -> tuple[list[Claim], list[str]]:
    claims, unlabelled = [], []
    for label, statement in behaviour_statements(text):
        claims.append(Claim(label, statement, where))
    for latex, label in display_equations(text):
        if label:
            claims.append(Claim(label, latex, where))
        elif (reason := derivative_marker(latex)) is not None:
            short = " ".join(latex.split())[:70]
            unlabelled.append(
                f"{where}, {place}: the display equation '{short}' states {reason} but has "
                "no label; give it (eq-<name>) and a proving cell, or (def-<name>) if it "
                "only defines something"
            )
    return claims, unlabelled


# --- proofs that cannot fail -------------------------------------------------------------
#
# A proving cell must be able to fail. Three ways it cannot, that a syntax tree shows:
#
# * it compares an expression with itself: ``assert x == x``, ``simplify(a - a) == 0``,
#   ``np.allclose(g, g)``, also when a name assigned once in the cell stands for the same
#   expression (``b = a.T.T`` then ``allclose(a, b)``; ``.T.T`` is read as nothing);
# * it says a ratio is about 1 with a band so wide that it claims almost nothing:
#   ``lo < x < hi`` with number bounds on either side of 1, more than a factor 100 apart;
# * it bounds the book's relative error by 1 or more, which that error never exceeds.

_SAME_CALLS = {"allclose", "isclose", "array_equal", "array_equiv", "relative_error",
               "assert_allclose", "assert_array_equal", "equals"}
_WIDEST_BAND = 100.0


def _normal(node: ast.AST, names: Mapping[str, ast.AST]) -> str:
    """A text for ``node`` in which names assigned once are replaced by their value and
    double transposes are dropped, so that two spellings of one expression compare equal."""
    import copy

    class Expand(ast.NodeTransformer):
        depth = 0

        def visit_Name(self, name):
            if isinstance(name.ctx, ast.Load) and name.id in names and self.depth < 4:
                self.depth += 1
                value = self.visit(copy.deepcopy(names[name.id]))
                self.depth -= 1
                return value
            return name

        def visit_Attribute(self, attr):
            self.generic_visit(attr)
            inner = attr.value
            if attr.attr == "T" and isinstance(inner, ast.Attribute) and inner.attr == "T":
                return inner.value
            return attr

    return ast.unparse(Expand().visit(copy.deepcopy(node)))


def _single_assignments(tree: ast.AST) -> dict[str, ast.AST]:
    counts: dict[str, int] = {}
    values: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With)):
            targets = [getattr(node, "target", None)] if hasattr(node, "target") else []
        for target in targets:
            for name in ast.walk(target) if target is not None else ():
                if isinstance(name, ast.Name):
                    counts[name.id] = counts.get(name.id, 0) + 1
                    if isinstance(node, ast.Assign) and isinstance(target, ast.Name):
                        values[name.id] = node.value
    return {name: value for name, value in values.items() if counts.get(name) == 1}


def _number(node: ast.AST) -> float | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        try:  # 1 / 30, 2 ** -3: arithmetic on literals
            value = eval(compile(ast.Expression(node), "<bound>", "eval"), {"__builtins__": {}})
        except Exception:
            return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def weak_proof_problems(source: str) -> list[str]:
    """Why a proving cell's assertions cannot fail, one sentence each (empty: none found)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # a cell with IPython syntax: nothing to read
    names = _single_assignments(tree)
    problems = []
    for test in (node.test for node in ast.walk(tree) if isinstance(node, ast.Assert)):
        for node in ast.walk(test):
            if isinstance(node, ast.Compare) and len(node.ops) == 1:
                left, right = node.left, node.comparators[0]
                if _normal(left, names) == _normal(right, names):
                    problems.append(f"compares {ast.unparse(left)} with itself")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                if _normal(node.left, names) == _normal(node.right, names):
                    problems.append(f"subtracts {ast.unparse(node.left)} from itself")
            if isinstance(node, ast.Call) and len(node.args) >= 2:
                func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                    node.func, "id", "")
                if func in _SAME_CALLS and _normal(node.args[0], names) == _normal(
                    node.args[1], names
                ):
                    problems.append(f"{func}() of {ast.unparse(node.args[0])} with itself")
            if isinstance(node, ast.Compare) and len(node.ops) == 2:
                low, high = _number(node.left), _number(node.comparators[1])
                if low and high and 0 < low < 1 < high and high / low > _WIDEST_BAND:
                    problems.append(
                        f"puts a ratio about 1 in the band {ast.unparse(node)}, a factor "
                        f"{high / low:.0f} wide (more than {_WIDEST_BAND:.0f})"
                    )
            if (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Lt, ast.LtE))
                and isinstance(node.left, ast.Call)
                and getattr(node.left.func, "attr", getattr(node.left.func, "id", ""))
                == "relative_error"
                and (bound := _number(node.comparators[0])) is not None
                and bound >= 1
            ):
                problems.append(
                    f"bounds relative_error by {bound:g}, which it never exceeds"
                )
    return problems
