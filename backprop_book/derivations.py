"""The fifth answer engine: a derivation's result, typed as a formula.

The reader types a formula, as a string like ``"2*(a2 - y)*a2*(1 - a2)*a1"`` or as a SymPy
expression, in the quantities the exercise names. :func:`check_derivation` reads it (a
string that is not a formula gets a message that says how to write one), proves it equal
to the right formula with SymPy, and when it is not, says what is off:

* a known wrong form of this exercise (sigma'(a) for sigma'(z), one path of two, ...);
* a factor missing or one too many, among the factors the exercise names (sigma'(z2), w2,
  the 2 of the square, the 1/m of the mean), or a constant factor (the sign, 2, 1/2);
* a wrong index: one quantity where another belongs (W2_12 for W2_21), or two swapped;
* otherwise "not a form we recognise", with the values of both at one point.

Every comparison is exact: SymPy's ``simplify`` first, then (when it cannot decide) both
formulas at random points, as :func:`backprop_book.checkers.check_expr` does.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import (
    convert_xor,
    parse_expr,
    standard_transformations,
)

from .checkers import NotQuiteRight, Verdict, a_kind, is_placeholder, not_done, right

#: Functions a formula may call, besides the exercise's own.
FUNCTIONS = {"exp": sp.exp, "log": sp.log, "tanh": sp.tanh, "sqrt": sp.sqrt,
             "sigma": lambda t: 1 / (1 + sp.exp(-t))}
#: What a formula sees besides its names: numbers and symbols, and none of SymPy's own names
#: (E, N, S, I, beta, zeta, ... would otherwise stand for SymPy's constants and functions).
_GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational,
            "Symbol": sp.Symbol, "Function": sp.Function, "__builtins__": {}}
_HOW = ("Write it as Python: * between factors, ** (or ^) for powers, parentheses around "
        "sums, for example (a2 - y)*a2*(1 - a2).")


def read_formula(answer: object, symbols: Mapping[str, sp.Symbol], what: str) -> sp.Expr:
    """The reader's formula as a SymPy expression in ``symbols``, or NotQuiteRight."""
    if isinstance(answer, str):
        return _parse(answer, symbols, what)
    if isinstance(answer, int | float | np.number) and not isinstance(answer, bool | np.bool_):
        return sp.sympify(float(answer) if isinstance(answer, np.floating) else answer)
    if not isinstance(answer, sp.Basic):
        raise NotQuiteRight(
            f"{what} should be a formula, a string such as \"(a2 - y)*a1\" or a SymPy "
            f"expression; you gave {a_kind(answer)}."
        )
    names = {s.name: symbols[s.name] for s in answer.free_symbols if s.name in symbols}
    answer = answer.subs({s: names[s.name] for s in answer.free_symbols if s.name in names})
    _only_known(answer, symbols, what)
    return answer


def _parse(text: str, symbols: Mapping[str, sp.Symbol], what: str) -> sp.Expr:
    if not text.strip():
        raise NotQuiteRight(f"{what} is an empty string. {_HOW}")
    if "__" in text:  # no formula has it; a way out of parse_expr's eval always does
        raise NotQuiteRight(f"{what}: could not read {text!r}: a formula has no __ in it. {_HOW}")
    _no_keywords(text, symbols, what)
    local = {**FUNCTIONS, **symbols}
    try:
        expr = parse_expr(text, local_dict=local, global_dict=dict(_GLOBALS),
                          transformations=standard_transformations + (convert_xor,))
    except TypeError as err:
        if "not callable" in str(err):
            raise NotQuiteRight(
                f"{what}: could not read {text!r}: a name followed by ( reads as a function "
                "call; write a product with *, as a2*(1 - a2)."
            ) from None
        raise NotQuiteRight(f"{what}: could not read {text!r} ({err}). {_HOW}") from None
    except (SyntaxError, sp.SympifyError, TokenError_, ValueError, AttributeError) as err:
        opening, closing = text.count("("), text.count(")")
        if opening != closing:
            detail = (f"it opens {opening} parenthes{'i' if opening == 1 else 'e'}s and "
                      f"closes {closing}")
        elif isinstance(err, TokenError_):
            detail = "is a quote or a bracket left open?"
        else:
            detail = getattr(err, "msg", None) or type(err).__name__
        raise NotQuiteRight(f"{what}: could not read {text!r} as a formula ({detail}). "
                            f"{_HOW}") from None
    if not isinstance(expr, sp.Expr):
        raise NotQuiteRight(f"{what}: {text!r} is not a formula. {_HOW}")
    _only_known(expr, symbols, what)
    return expr


def _no_keywords(text: str, symbols: Mapping[str, sp.Symbol], what: str) -> None:
    """A Python keyword (lambda, in, is, ...) typed as a name: say so, before Python's
    "invalid syntax" does."""
    words = [w for w in re.findall(r"[^\W\d]\w*", text)
             if keyword.iskeyword(w) and w not in ("True", "False", "None")]
    if not words:
        return
    word = words[0]
    near = [n for n in symbols if n.lower().startswith(word.lower()[:3])]
    instead = (f"this exercise calls the quantity {near[0]}" if near else
               f"its quantities are: {', '.join(symbols)}")
    raise NotQuiteRight(f"{what}: `{word}` is a Python keyword, so a formula cannot use it "
                        f"as a name; {instead}.")


try:  # the tokenizer's error, raised for unbalanced parentheses
    from tokenize import TokenError as TokenError_
except ImportError:  # pragma: no cover
    TokenError_ = SyntaxError


#: What to say of a function the formula calls that the exercise does not know.
_CALLS = {
    "sigmoid": "the sigmoid is called sigma here",
    "sig": "the sigmoid is called sigma here",
    "σ": "the sigmoid is called sigma here",
    "diff": "diff asks SymPy for the derivative; type the derivative itself, worked out by "
            "hand",
    "Derivative": "type the derivative itself, worked out by hand",
}


def _known_calls(expr: sp.Expr, symbols: Mapping[str, sp.Symbol], what: str) -> None:
    """A call of a function no exercise defines (sigmoid(a2), f(a2), tanh_prime(t)):
    named, instead of SymPy failing on it later."""
    calls = sorted({type(f).__name__ for f in expr.atoms(AppliedUndef)})
    if not calls:
        return
    name = calls[0]
    why = _CALLS.get(name)
    if why is None and ("prime" in name.lower() or name.lower().startswith("d")):
        why = "a slope has no function of its own here: write it out with the quantities"
    allowed = ", ".join(list(FUNCTIONS)[:-1]) + " and " + list(FUNCTIONS)[-1]
    raise NotQuiteRight(
        f"{what} calls {name}(...), a function this exercise does not know"
        f"{' (' + why + ')' if why else ''}. A formula may call {allowed}, and use the "
        f"quantities {', '.join(symbols)}."
    )


def _only_known(expr: sp.Expr, symbols: Mapping[str, sp.Symbol], what: str) -> None:
    _known_calls(expr, symbols, what)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in symbols)
    if unknown:
        raise NotQuiteRight(
            f"{what} uses {', '.join(unknown)}, which this exercise does not have. Its "
            f"quantities are: {', '.join(symbols)}."
        )


# ------------------------------------------------------------------ comparing formulas


def _points(symbols, k: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{s: sp.Float(round(float(rng.uniform(0.1, 0.9)), 3)) for s in symbols}
            for _ in range(k)]


def _numeric_same(a: sp.Expr, b: sp.Expr, points: list[dict]) -> bool:
    for at in points:
        try:
            va, vb = complex(a.evalf(subs=at)), complex(b.evalf(subs=at))
        except (TypeError, ValueError):
            return False
        if not abs(va - vb) <= 1e-9 * (1 + abs(vb)):
            return False
    return True


def _same(a: sp.Expr, b: sp.Expr, points: list[dict]) -> str | None:
    """How the two were found equal (None: they differ): by SymPy, or at random points
    when SymPy cannot simplify the difference to 0."""
    if not _numeric_same(a, b, points):
        return None
    try:
        if sp.simplify(a - b) == 0:
            return "(SymPy agrees after simplification.)"
    except (TypeError, ValueError):  # pragma: no cover - simplify gave up
        pass
    return (f"(equal at {len(points)} random points; SymPy could not simplify the "
            "difference to 0.)")


def _factor_diagnosis(got, want, factors, points) -> str | None:
    for name, f in factors.items():
        if _numeric_same(got * f, want, points):
            return f"the factor {name} is missing."
        if _numeric_same(got, want * f, points):
            return f"it has an extra factor {name}."
        if _numeric_same(-got * f, want, points):
            return f"the factor {name} is missing, and the sign is flipped."
    for c, text in ((-1, "the sign is flipped."), (2, "it is twice the right formula: an "
                    "extra factor 2."), (sp.Rational(1, 2), "it is half the right formula: "
                    "a factor 2 is missing.")):
        if _numeric_same(got, want * c, points):
            return text
    return None


def _index_diagnosis(got, want, symbols, points) -> str | None:
    syms = list(symbols.values())
    for s, t in itertools.permutations(syms, 2):
        if got.has(s) and _numeric_same(got.subs(s, t), want, points):
            return f"you used {s} where {t} belongs: check the index."
    for s, t in itertools.combinations(syms, 2):
        if got.has(s) and got.has(t) and _numeric_same(
                got.subs({s: t, t: s}, simultaneous=True), want, points):
            return f"{s} and {t} are swapped: check which index is which."
    return None


def check_derivation(
    answer: object,
    expected: sp.Expr,
    *,
    what: str,
    symbols: Mapping[str, sp.Symbol],
    factors: Mapping[str, Any] | None = None,
    mistakes: Mapping[str, Any] | None = None,
    given: Mapping[sp.Symbol, Any] | None = None,
    seed: int = 0,
) -> Verdict:
    """Check a formula the reader derived.

    Args:
        answer: a string (``"2*(a2 - y)*a1"``) or a SymPy expression.
        expected: the right formula, in ``symbols``.
        what: how to name it in feedback ("dC/dw2").
        symbols: the quantities the formula may use, by the names the reader types.
        factors: ``{name: factor}``: the factors the right formula is made of, so that a
            missing or extra one is named ("sigma'(z2) = a2 (1 - a2)": a2 * (1 - a2)).
        mistakes: ``{diagnosis: wrong formula}``, checked first.
        given: facts the quantities obey, as substitutions (y3 = 1 - y1 - y2 for a one-hot
            y): both formulas are compared after them.
    """
    if is_placeholder(answer):
        return not_done(what)
    got = read_formula(answer, symbols, what)
    typed = (answer.strip() if isinstance(answer, str) else
             f"{float(answer):g}" if isinstance(answer, int | float | np.number) else str(got))
    subs = dict(given or {})
    want = sp.sympify(expected).subs(subs)
    if not got.free_symbols and want.free_symbols:
        raise NotQuiteRight(
            f"{what}: {typed} is a number; type the formula itself, in the quantities "
            f"{', '.join(symbols)} (the checker compares formulas, not values at one point)."
        )
    got = got.subs(subs)
    free = [s for s in symbols.values() if s not in subs]
    points = _points(free, 5, seed)
    how = _same(got, want, points)
    if how:
        return right(what, how)
    for text, wrong in (mistakes or {}).items():
        if _numeric_same(got, sp.sympify(wrong).subs(subs), points):
            raise NotQuiteRight(f"{what}: {text}")
    found = (_factor_diagnosis(got, want, {k: sp.sympify(v).subs(subs) for k, v in
                                           (factors or {}).items()}, points)
             or _index_diagnosis(got, want, {k: v for k, v in symbols.items()
                                             if v not in subs}, points))
    if found:
        raise NotQuiteRight(f"{what}: {found}")
    at = points[0]
    where = ", ".join(f"{s} = {float(v):.3g}" for s, v in at.items() if got.has(s) or
                      want.has(s))
    raise NotQuiteRight(
        f"{what} = {typed} is not the derivative, and not a form we recognise. At {where} "
        f"yours is {_number(got, at)}, the derivative {_number(want, at)}: recompute it "
        "one factor at a time."
    )


def _number(expr: sp.Expr, at: dict) -> str:
    """The formula's value at a point, as text (never an exception)."""
    try:
        return f"{float(sp.re(expr.evalf(subs=at))):.6g}"
    except (TypeError, ValueError):
        return "not a number"
