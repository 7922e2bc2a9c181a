"""The claim ledger: every claim the book states is proved in a cell the page links to.

Three layers: the rules (``bookkit.ledger``) on small made-up inputs, including every
way the ledger can break; the book's own sources, which must have no gap; and the built HTML,
where each claim links to its proving cell, each proving cell links back, and the appendix
"Every claim and its proof" lists them all.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from bs4 import BeautifulSoup

from bookkit import ledger as rules
from bookkit import toc

# --- the rules ---------------------------------------------------------------------------


def test_labels_name_their_kind():
    assert rules.label_kind("eq-hidden-delta") == "claim"
    assert rules.label_kind("def-softmax") == "definition"
    assert rules.label_kind("sum-hidden-delta") == "restatement"
    for bad in ("hidden-delta", "eq_hidden", "eq-Hidden", "eq-", "thm-x"):
        with pytest.raises(ValueError, match="eq-<name>"):
            rules.label_kind(bad)


def test_behavioural_claims_are_a_kind_of_their_own():
    assert rules.label_kind("beh-lr-local") == "behaviour"
    text = (
        "Prose.\n\n(beh-plain)=\nTraining at 2x the limit came back. Conditions: full batch.\n\n"
        "More prose.\n\n```{admonition} Adam under noise\n:class: behaviour\n:name: beh-boxed\n\n"
        "The step shrinks.\n\n**Conditions:** simulated gradients.\n```\n"
    )
    found = dict(rules.behaviour_statements(text))
    assert set(found) == {"beh-plain", "beh-boxed"}
    claims = [rules.Claim(label, statement, "book/a") for label, statement in found.items()]
    assert [c.conditions for c in claims] == ["full batch.", "simulated gradients."]
    proof = _proof("beh-plain", "beh-boxed")
    assert rules.ledger_problems(claims, [proof]) == []


@pytest.mark.parametrize(
    "statement, proofs, message",
    [
        ("Training came back. Conditions: full batch.", [], "no proving cell"),
        ("Training came back, always.", ["beh-x"], "states no conditions"),
    ],
)
def test_a_behavioural_claim_needs_its_conditions_and_a_proof(statement, proofs, message):
    claims = [rules.Claim("beh-x", statement, "book/a")]
    problems = rules.ledger_problems(claims, [_proof(*proofs)] if proofs else [])
    assert any(message in p for p in problems), problems


# Proving cells that cannot fail, each planted and rejected. The last is the book's own
# former proof of eq-row-layout-gradient: the "column formula" it compared with was the
# row formula again, spelled with .T.T.
CANNOT_FAIL = [
    ("assert x == x", "compares x with itself"),
    ("assert sp.simplify(by_chain - by_chain) == 0", "subtracts by_chain from itself"),
    ("g = bb.backward(p)\nh = g\nassert np.allclose(g, h)", "allclose() of"),
    ("assert 1 / 30 < h_best / eps ** (1 / 3) < 30", "a factor 900 wide"),
    ("assert bb.relative_error(dW, fd) < 1.0", "which it never exceeds"),
    (
        "by_rows = Delta_rows.T @ X_rows\nby_columns = Delta_rows.T @ X_rows.T.T\n"
        "fd = bb.numerical_gradient(f, W)\n"
        "assert bb.relative_error(by_rows, fd) < 1e-8 and np.allclose(by_rows, by_columns)",
        "allclose() of by_rows with itself",
    ),
]


@pytest.mark.parametrize("source, message", CANNOT_FAIL)
def test_a_proof_that_cannot_fail_is_rejected(source, message):
    problems = rules.ledger_problems([_claim("eq-a")], [_proof("eq-a", source=source)])
    assert any("cannot fail" in p and message in p for p in problems), problems


@pytest.mark.parametrize(
    "source",
    [
        "assert x == y",
        "assert sp.simplify(by_chain - by_sympy) == 0",
        "assert 0.5 < ratio < 2",
        "assert 1e-7 < best_h < 1e-3",  # where a minimum lies, not a ratio near 1
        "assert bb.relative_error(dW, fd) < 1e-7",
        "for l in range(3):\n    x = f(l)\nassert x == g(x)",
    ],
)
def test_a_proof_that_can_fail_is_accepted(source):
    assert rules.weak_proof_problems(source) == []


def test_a_proving_cell_names_its_claims_on_its_first_line():
    assert rules.proved_labels("# proves: eq-a, eq-b\nassert 1") == ("eq-a", "eq-b")
    assert rules.proved_labels("#proves:eq-a\n") == ("eq-a",)
    assert rules.proved_labels("x = 1\n# proves: eq-a") == ()
    assert rules.proved_labels("") == ()
    assert rules.proved_labels("# proves: eq-a,\n#   eq-b, eq-c\nassert 1") == ("eq-a", "eq-b", "eq-c")
    assert rules.proved_labels("# proves: eq-a\n# eq-b is not on the list\n") == ("eq-a",)


@pytest.mark.parametrize(
    "latex, needs",
    [
        (r"\frac{\partial C}{\partial w} = \delta a", True),
        (r"\frac{dc}{dw} = 2", True),
        (r"\nabla C = 0", True),
        (r"c'(w) \approx 1", True),
        (r"\sigma'\big(z\big)", True),
        (r"w \leftarrow w - \eta g", True),
        (r"\delta^{(2)} = (a - y)", True),
        (r"\Delta^{(l)} = D / m", True),
        (r"C = \tfrac12 (a - y)^2", False),
        (r"s_i = \frac{e^{z_i}}{\sum_k e^{z_k}}", False),
        (r"\delta", False),  # mentioned, not defined by an equation
    ],
)
def test_which_display_equations_state_a_derivative(latex, needs):
    assert (rules.derivative_marker(latex) is not None) is needs


def test_proof_methods_are_read_off_the_cell():
    assert rules.proof_method("assert sp.simplify(a - b) == 0") == "SymPy"
    assert rules.proof_method("err = bb.relative_error(g, bb.numerical_gradient(f, x))") == (
        "NumPy against finite differences"
    )
    both = "sp.diff(C, w)\nreport = bb.check_gradients(p, X, Y, acts, cost)"
    assert rules.proof_method(both) == "SymPy and finite differences"
    assert rules.proof_method("assert counts == [54, 16]") == "NumPy"


def test_display_equations_are_read_with_their_labels():
    text = (
        "Some prose $x$ and\n\n$$ a = b $$ (eq-one)\n\nthen $$c = d$$ and\n\n"
        "```{math}\n:label: eq-two\ne = f\n```\n"
    )
    assert rules.display_equations(text) == [
        ("a = b", "eq-one"),
        ("c = d", None),
        ("e = f", "eq-two"),
    ]


def _claim(label, where="book/a"):
    return rules.Claim(label, "x = y", where)


def _proof(*labels, source="assert True", where="book/a", cell=3):
    return rules.Proof(labels, f"# proves: {', '.join(labels)}\n{source}", where, cell)


def test_a_complete_ledger_has_no_problems():
    claims = [_claim("eq-a"), _claim("def-b"), _claim("sum-a", "book/c")]
    assert rules.ledger_problems(claims, [_proof("eq-a")]) == []


@pytest.mark.parametrize(
    "claims, proofs, message",
    [
        ([_claim("eq-a")], [], "the claim eq-a has no proving cell"),
        (
            [_claim("eq-a")],
            [_proof("eq-a"), _proof("eq-zz")],
            "'# proves: eq-zz' names no equation",
        ),
        ([_claim("eq-a")], [_proof("eq-a", source="print(1)")], "can never fail"),
        ([_claim("eq-a"), _claim("def-b")], [_proof("eq-a", "def-b")], "names a definition"),
        ([_claim("sum-x")], [], "restates eq-x, which no page defines"),
        ([_claim("eq-a"), _claim("eq-a", "book/b")], [_proof("eq-a")], "used twice"),
        ([_claim("theorem-1")], [], "does not follow the ledger's form"),
    ],
)
def test_every_way_the_ledger_breaks_is_reported(claims, proofs, message):
    problems = rules.ledger_problems(claims, proofs)
    assert any(message in p for p in problems), problems


def test_an_unlabelled_derivative_is_reported_with_its_place():
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "source": ["Hence\n", "$$ \\frac{\\partial C}{\\partial w} = 1 $$\n"],
            },
            {"cell_type": "code", "source": ["# proves: eq-x\n", "assert 1\n"]},
        ]
    }
    claims, proofs, unlabelled = rules.read_notebook(nb, "book/demo")
    assert claims == [] and [p.labels for p in proofs] == [("eq-x",)]
    assert len(unlabelled) == 1 and "book/demo, cell 0" in unlabelled[0]
    assert "partial derivative" in unlabelled[0]


# --- the book's sources ------------------------------------------------------------------


def read_book() -> tuple[list, list, list]:
    claims, proofs, unlabelled = [], [], []
    for entry in toc.entries():
        path = toc.source_of(entry)
        if path.suffix == ".ipynb":
            c, p, u = rules.read_notebook(json.loads(path.read_text()), entry)
            proofs += p
        else:
            c, u = rules.read_markdown_page(path.read_text(), entry)
        claims += c
        unlabelled += u
    return claims, proofs, unlabelled


def test_no_derivative_equation_goes_without_a_label():
    _, _, unlabelled = read_book()
    assert unlabelled == [], "\n".join(unlabelled)


def test_every_claim_of_the_book_has_a_proving_cell():
    claims, proofs, _ = read_book()
    assert len([c for c in claims if c.kind == "claim"]) >= 45
    problems = rules.ledger_problems(claims, proofs)
    assert problems == [], "\n".join(problems)


# --- the built book ----------------------------------------------------------------------


def _page(html: Path, relative: str) -> BeautifulSoup:
    return BeautifulSoup((html / relative).read_text(), "html.parser")


_KATEX_TAGS = re.compile(r'<span class="katex">|<span\b|</span>')


def _without_typeset_math(markup: str) -> str:
    """``markup`` with every KaTeX rendering emptied (its ``<span class="katex">`` kept).

    For a test that follows ids and links: no id or link lies inside KaTeX's output, which
    is over half of a chapter's bytes and most of its elements (the 18 pages: 11.1 MB ->
    4.9 MB, parsed in 2.8 s of CPU instead of 6.4 s)."""
    out, pos, depth, start = [], 0, 0, None
    for tag in _KATEX_TAGS.finditer(markup):
        if start is None:
            if tag.group() == '<span class="katex">':
                out.append(markup[pos:tag.end()])
                start, depth = tag.end(), 1
        elif tag.group() == "</span>":
            depth -= 1
            if depth == 0:
                pos, start = tag.start(), None
        else:
            depth += 1
    if start is not None:
        raise ValueError("a KaTeX rendering is not closed")
    out.append(markup[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _claims_page(html: Path) -> BeautifulSoup:
    """The appendix, parsed once for the two tests that read its tables."""
    return _page(html, "book/every-claim.html")


class _Pages:
    """The built pages one test reads, each parsed once (pages carry their widgets'
    state) without the inside of their typeset math, with its elements by id found in one
    pass: ``soup.find(id=...)`` walks the whole page each time, and the links ask hundreds
    of times."""

    def __init__(self, html: Path):
        self.html, self.parsed = html, {}

    def soup(self, page: str) -> BeautifulSoup:
        return self._parse(page)[0]

    def by_id(self, page: str, anchor: str):
        """The page's first element with id ``anchor``, or None (``soup.find(id=anchor)``)."""
        return self._parse(page)[1].get(anchor)

    def _parse(self, page: str) -> tuple[BeautifulSoup, dict]:
        if page not in self.parsed:
            markup = _without_typeset_math((self.html / page).read_text())
            soup, ids = BeautifulSoup(markup, "html.parser"), {}
            for tag in soup.find_all(id=True):
                ids.setdefault(tag["id"], tag)  # the first, as find() returns
            self.parsed[page] = soup, ids
        return self.parsed[page]


def _resolve(html: Path, page: str, href: str) -> tuple[str, str]:
    target, anchor = urldefrag(href)
    target_page = (
        str((html / Path(page).parent / target).resolve().relative_to(html.resolve()))
        if target
        else page
    )
    return target_page, anchor


@pytest.mark.build
def test_each_claim_links_to_its_proof_and_back(built_book):
    claims, proofs, _ = read_book()
    pages = _Pages(built_book)
    by_page: dict[str, list] = {}
    for claim in claims:
        by_page.setdefault(claim.where + ".html", []).append(claim)
    for page, page_claims in by_page.items():
        for claim in page_claims:
            if claim.kind == "behaviour":
                box = pages.by_id(page, claim.label)
                assert box is not None, f"{page}: no element with id {claim.label}"
                note = box.find("p", class_="claim-proof") or box.find_next_sibling(
                    "p", class_="claim-proof"
                )
                assert note is not None, f"{page}: no 'checked in code' link at {claim.label}"
                for link in note.find_all("a"):
                    target, anchor = _resolve(built_book, page, link["href"])
                    assert pages.by_id(target, anchor) is not None, link["href"]
                continue
            block = pages.by_id(page, f"equation-{claim.label}")
            assert block is not None, f"{page}: no equation with id equation-{claim.label}"
            if claim.kind == "definition":
                continue
            note = block.find_next_sibling("p")
            assert note is not None and "claim-proof" in note.get("class", []), (
                f"{page}: no 'checked in code' link under {claim.label}"
            )
            for link in note.find_all("a"):
                target, anchor = _resolve(built_book, page, link["href"])
                assert pages.by_id(target, anchor) is not None, (
                    f"{page}: the link under {claim.label} points at {link['href']}, which does not exist"
                )
    proving_cells: dict[str, list] = {}
    for proof in sorted(proofs, key=lambda p: (p.where, p.cell)):
        page = proof.where + ".html"
        soup = pages.soup(page)
        if page not in proving_cells:  # the page's proving cells, in reading order
            proving_cells[page] = [
                div
                for div in soup.find_all("div", class_="cell")
                if div.get("id", "").startswith("proof-")
            ]
        assert proving_cells[page], f"{page}: no proving cell has an anchor"
        cell = proving_cells[page].pop(0)
        assert cell["id"].startswith("proof-" + proof.labels[0]), (
            f"{page}: cell {proof.cell} proves {proof.labels}, but the next anchored cell is {cell['id']}"
        )
        back = cell.find("p", class_="proof-backlink")
        assert back is not None, f"{page}: the cell proving {proof.labels} does not link back"
        hrefs = [a["href"] for a in back.find_all("a")]
        assert len(hrefs) == len(proof.labels)
        for link in back.find_all("a"):
            target, anchor = _resolve(built_book, page, link["href"])
            assert pages.by_id(target, anchor) is not None, (
                f"{page}: {link['href']} does not exist"
            )
            if anchor.startswith("beh-"):
                continue  # a behaviour has no equation number to agree with
            shown = pages.by_id(target, anchor).find(class_="eqno")
            assert shown is not None and shown.get_text().startswith(link.get_text().split()[-1]), (
                f"{page}: the link says {link.get_text()!r}, the equation shows {shown and shown.get_text()!r}"
            )


@pytest.mark.build
def test_the_claims_page_lists_every_claim(built_book):
    claims, _, _ = read_book()
    expected = sorted(c.label for c in claims if c.kind == "claim")
    soup = _claims_page(built_book)
    table = soup.find("table", class_="claim-ledger")
    assert table is not None, "the appendix has no ledger table"
    rows = table.find("tbody").find_all("tr")
    listed = []
    for row in rows:
        where, proved, how = row.find_all("td")[1:]
        anchor = urldefrag(where.find("a")["href"])[1]
        listed.append(anchor.removeprefix("equation-"))
        assert proved.find("a") is not None, f"{anchor}: no proving cell listed"
        assert how.get_text(strip=True), f"{anchor}: how it is proved is not said"
    assert sorted(listed) == expected


@pytest.mark.build
def test_the_claims_page_lists_every_behaviour(built_book):
    claims, _, _ = read_book()
    expected = sorted(c.label for c in claims if c.kind == "behaviour")
    assert expected, "the book states no behavioural claim"
    soup = _claims_page(built_book)
    table = soup.find("table", class_="behaviour-ledger")
    assert table is not None, "the appendix has no table of behavioural claims"
    listed = []
    for row in table.find("tbody").find_all("tr"):
        what, conditions, proved, how = row.find_all("td")
        listed.append(urldefrag(what.find("a")["href"])[1])
        assert conditions.get_text(strip=True) not in ("", "(none stated)"), listed[-1]
        assert proved.find("a") is not None and how.get_text(strip=True), listed[-1]
    assert sorted(listed) == expected
