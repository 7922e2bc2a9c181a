"""Numbers in prose come from cells: none that a cell computes is typed by hand.

A number a sentence states is true when the page is built and may be false after the next
change to a cell. So every number a cell computes and the prose repeats is pasted in with
myst-nb's glue ({glue:text}`key:.4f`). This test executes nothing of its own: it reads the
book's executed notebooks (``_build/jupyter_execute``), collects every number their outputs
print and their glued values hold, and fails when a Markdown cell of the same notebook
types one of them by hand, to the precision it shows.

Only numbers with at least three significant digits are compared (2.47, 0.3659, 1,347):
shorter ones (0.1, 10^-7, 64) match by accident too often to mean anything. A typed
number matches a computed one when the computed one, rounded to the typed number's
decimals, is the typed number.

Some numbers are definitions, not results: a size the chapter chooses, a learning rate it
sets. When a cell prints such a number too, it is allowed below, with its reason, and it
must appear in a code cell of that notebook, so the prose and the code cannot drift apart
silently.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

# The chapters this test guards: every notebook of the book.
CHAPTERS = [
    "one-neuron-chain",
    "two-two-two",
    "softmax-four-layer",
    "any-width-any-depth",
    "batched-backprop",
    "making-deep-networks-train",
    "deep-networks-that-train",
    "convolution",
    "autodiff",
    "transformer-block",
    "checking-gradients",
    "what-our-checks-catch",
]

# Numbers typed in prose that are definitions. Each must appear in a code cell as written
# (digits only, without the thousands comma).
ALLOWED = {
    "softmax-four-layer": {
        "709.1": "ln(max/2), typed in equation eq-softmax-overflow; its proving cell asserts it",
        "744.0": "ln(2/(3 tiny)), typed in eq-softmax-overflow; its proving cell asserts it",
    },
    "batched-backprop": {
        "1347": "the size of the training split, set by the split and asserted in code",
        "1797": "the size of the digits data set, asserted in code",
        "1024": "a batch size the chapter chooses",
        "784": "the input width of the MNIST-sized network it times",
        "128": "a hidden width of that network",
        "256": "a batch size the chapter chooses",
    },
    "making-deep-networks-train": {
        "1347": "the size of the training split",
        "100": "a width and a curvature ratio the chapter chooses",
        "256": "the number of random inputs of the depth experiment",
        "347": "the size of the validation split",
        "200": "the number of training images of the validation experiment",
        "800": "the number of steps of that experiment",
        "2000": "the number of coordinates and steps of the Adam simulation",
        "1000": "a number of steps the chapter chooses",
        "0.999": "Adam's beta_2, set in code",
    },
    "autodiff": {
        "784": "the input width of the batch chapter's benchmark network",
        "128": "a hidden width of that network",
        "709": "where math.exp overflows, asserted in code (710 overflows, 709 does not)",
    },
    "checking-gradients": {},
    "what-our-checks-catch": {},
}
ALLOWED.update({chapter: {} for chapter in CHAPTERS if chapter not in ALLOWED})

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])")
_ROLE = re.compile(r"\{[a-z:-]+\}`[^`]*`")  # {glue:text}`key:.4f`, {ref}`...`, {eq}`...`
_CODE = re.compile(r"`[^`]*`")
_LABEL = re.compile(r"\((?:eq|def|sum|beh|sec|ex|appendix|chapter)-[^)]*\)=?|:name:.*|:label:.*")


def significant_digits(text: str) -> int:
    """Significant digits of a number as written: 0.3659 has 4, 1,347 has 4, 2000 has 1."""
    mantissa = re.split(r"[eE]", text.replace(",", ""))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0")
    return len(digits)


def numbers_in(text: str) -> list[str]:
    """The numbers written in ``text``, as written."""
    return _NUMBER.findall(text)


def prose_numbers(markdown: str) -> list[str]:
    """Numbers typed in a Markdown cell's prose (not in roles, code spans or labels),
    with at least three significant digits."""
    text = _LABEL.sub(" ", _CODE.sub(" ", _ROLE.sub(" ", markdown)))
    return [n for n in numbers_in(text) if significant_digits(n) >= 3]


def computed_numbers(nb: dict) -> set[Decimal]:
    """Every number an executed notebook's outputs print or its glued values hold."""
    found: set[Decimal] = set()
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")]
            for mime in ("text/plain", "text/markdown", "text/html"):
                texts.append(output.get("data", {}).get(mime, ""))
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                found |= {Decimal(n.replace(",", "")) for n in numbers_in(text)}
    return found


def typed_by_hand(nb: dict, allowed: dict[str, str]) -> list[str]:
    """Numbers typed in the notebook's Markdown that one of its cells computes."""
    computed = computed_numbers(nb)
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    problems = []
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for typed in prose_numbers("".join(cell["source"])):
            plain = typed.replace(",", "")
            value = Decimal(plain)
            exponent = value.as_tuple().exponent
            if not any(c.quantize(Decimal(1).scaleb(exponent)) == value for c in computed
                       if abs(c) < Decimal(10) ** 30):
                continue  # no cell prints it: a number of the prose's own
            if plain not in allowed:
                problems.append(
                    f"cell {k}: {typed} is typed by hand, and a cell computes it; glue it "
                    "({glue:text}`<chapter>-<what>:<format>`)"
                )
            elif not re.search(rf"(?<![\w.]){re.escape(plain)}(?![\w])", code):
                problems.append(
                    f"cell {k}: {typed} is allowed as a definition ({allowed[plain]}), "
                    "but no code cell uses it"
                )
    return problems


# --- the detector on planted notebooks ----------------------------------------------------


def _nb(markdown: str, printed: str, code: str = "print(x)") -> dict:
    return {
        "cells": [
            {"cell_type": "code", "source": [code],
             "outputs": [{"output_type": "stream", "text": [printed]}]},
            {"cell_type": "markdown", "source": [markdown]},
        ]
    }


def test_significant_digits_as_written():
    assert [significant_digits(n) for n in ("0.3659", "1,347", "2000", "1.4e-07", "97.1",
                                            "0.05", "2410")] == [4, 4, 1, 2, 3, 1, 3]


def test_a_typed_copy_of_a_computed_number_fails():
    nb = _nb("The cost ends at 0.3532 after the spike.", "last 0.3531727873704735")
    assert typed_by_hand(nb, {}) == [
        "cell 1: 0.3532 is typed by hand, and a cell computes it; glue it "
        "({glue:text}`<chapter>-<what>:<format>`)"
    ]
    # a percentage, and a count with a thousands comma
    assert typed_by_hand(_nb("It reaches 97.1% here.", "test accuracy 97.1%"), {})
    assert typed_by_hand(_nb("It took 2,410 steps.", "2410 steps"), {})


def test_a_glued_number_a_short_number_and_a_different_number_pass():
    printed = "cost 0.3531727873704735, eta 0.1"
    assert typed_by_hand(_nb("Ends at {glue:text}`deep-lr-last:.4f`.", printed), {}) == []
    assert typed_by_hand(_nb("At eta = 0.1 the cost falls.", printed), {}) == []
    assert typed_by_hand(_nb("A different cost, 0.3600.", printed), {}) == []
    assert typed_by_hand(_nb("See `0.3532` in code, (eq-x-0.3532)=", printed), {}) == []


def test_an_allowed_definition_must_be_the_code_s():
    printed = "X_train (64, 1347)"
    allowed = {"1347": "the training split"}
    code_with = "assert X_train.shape == (64, 1347)"
    assert typed_by_hand(_nb("On 1,347 images.", printed, code_with), allowed) == []
    problems = typed_by_hand(_nb("On 1,347 images.", printed, "print(X_train.shape)"), allowed)
    assert problems and "no code cell uses it" in problems[0]


# --- the book -----------------------------------------------------------------------------


@pytest.mark.build
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_computed_number_is_typed_in_the_prose(built_book, chapter):
    """Every chapter notebook of the toc is guarded (a new one joins by being listed)."""
    executed = built_book.parent / "jupyter_execute" / "book" / f"{chapter}.ipynb"
    nb = json.loads(executed.read_text())
    problems = typed_by_hand(nb, ALLOWED[chapter])
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


def test_every_chapter_notebook_is_guarded():
    from bookkit import toc

    notebooks = {e.split("/")[-1] for e in toc.entries() if toc.source_of(e).suffix == ".ipynb"}
    assert notebooks == set(CHAPTERS), (
        f"list these chapters in CHAPTERS: {sorted(notebooks - set(CHAPTERS))}; "
        f"not in the toc: {sorted(set(CHAPTERS) - notebooks)}")
