"""A small, safe arithmetic language for derived variables (`expr:` in a declaration).

Hand-written recursive-descent parser, evaluated column-wise with numpy; nothing is passed to
`eval`, there is no attribute access and no name beginning with an underscore, and the only calls
are the functions listed in FUNCTIONS. Nesting deeper than conditions.MAX_DEPTH (parentheses,
unary minus, function arguments) is an ExpressionError, never a RecursionError.

Grammar::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | NAME | FUNCTION "(" expression ("," expression)* ")"
                | "(" expression ")"
    FUNCTION   := log | exp | sqrt | abs | min | max

Values are floats; a missing value (NA) stays missing, and so does anything undefined (x / 0,
log of a number <= 0, sqrt of a negative number). min and max of several arguments are missing
when any argument is. Which values of an item count (missing codes become NA) is decided by the
caller: `schemas.derive` passes the valid answers of each item.

Example:
    >>> import numpy as np
    >>> e = parse_expression("(general_risk_high - own_risk_high) / 2")
    >>> e.variables
    ('general_risk_high', 'own_risk_high')
    >>> values = {"general_risk_high": np.array([4.0, 5.0, np.nan]), "own_risk_high": np.array([2.0, 5.0, 3.0])}
    >>> e.evaluate(values.__getitem__).tolist()
    [1.0, 0.0, nan]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._lex import Token, quote, scan
from .conditions import MAX_DEPTH
from .errors import DeclarationError

__all__ = ["FUNCTIONS", "Expression", "ExpressionError", "parse_expression"]


class ExpressionError(DeclarationError):
    """An expression text that the grammar does not accept (the message names the position)."""


def _log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(x > 0, x, np.nan))


def _sqrt(x):
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.where(x >= 0, x, np.nan))


#: name -> (function of float arrays, number of arguments: an int, or None for one or more)
FUNCTIONS: dict[str, tuple[Callable, int | None]] = {
    "log": (_log, 1),
    "exp": (np.exp, 1),
    "sqrt": (_sqrt, 1),
    "abs": (np.abs, 1),
    "min": (lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)), None),
    "max": (lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)), None),
}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[-+*/])
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_HINTS = {
    ".": "attribute access ('.') is not allowed",
    "=": "an expression computes a value; comparisons belong in a condition",
}


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = [*scan(text, _TOKEN, self.fail, hints=_HINTS), Token("end", "", len(text))]
        self.i = 0
        self.depth = 0

    def fail(self, problem: str, pos: int | None = None):
        if pos is None:
            pos = self.toks[self.i].pos
        where = "end of expression" if pos >= len(self.text) else f"position {pos}"
        raise ExpressionError(f"cannot parse expression {quote(self.text)}: {problem} at {where}")

    def peek(self) -> Token:
        return self.toks[self.i]

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind in ("op", "punct") and tok.text == text:
            self.i += 1
            return True
        return False

    def describe(self) -> str:
        tok = self.peek()
        return "nothing" if tok.kind == "end" else repr(tok.text)

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels (write it flatter)")

    def parse(self):
        if self.peek().kind == "end":
            self.fail("empty expression")
        node = self.expression()
        if self.peek().kind != "end":
            self.fail(f"unexpected {self.describe()}")
        if _depth(node) > MAX_TREE_DEPTH:
            self.fail(f"more than {MAX_TREE_DEPTH} operations deep (split it into several "
                      "derived variables, or use sum/mean over a list of items)", 0)
        return node

    def expression(self):
        node = self.term()
        while self.peek().text in ("+", "-") and self.peek().kind == "op":
            op = self.peek().text
            self.i += 1
            node = BinOp(op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek().text in ("*", "/") and self.peek().kind == "op":
            op = self.peek().text
            self.i += 1
            node = BinOp(op, node, self.unary())
        return node

    def unary(self):
        if self.accept("-"):
            self.nest()
            node = Neg(self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self):
        kind, tok, pos = self.peek().kind, self.peek().text, self.peek().pos
        if kind == "num":
            self.i += 1
            return Num(float(tok))
        if kind == "name":
            self.i += 1
            if self.accept("("):
                if tok not in FUNCTIONS:
                    self.fail(f"unknown function {tok!r} (functions: {', '.join(FUNCTIONS)})", pos)
                self.nest()
                args = [self.expression()]
                while self.accept(","):
                    args.append(self.expression())
                if not self.accept(")"):
                    self.fail(f"expected ')' or ',', found {self.describe()}")
                self.depth -= 1
                arity = FUNCTIONS[tok][1]
                if arity is not None and len(args) != arity:
                    self.fail(f"{tok}() takes {arity} argument(s), got {len(args)}", pos)
                return Call(tok, tuple(args))
            if tok in FUNCTIONS:
                self.fail(f"{tok} is a function: write {tok}(...)", pos)
            return Name(tok)
        if self.accept("("):
            self.nest()
            node = self.expression()
            if not self.accept(")"):
                self.fail(f"expected ')', found {self.describe()}")
            self.depth -= 1
            return node
        self.fail(f"expected a number, a variable or '(', found {self.describe()}")


#: Deepest syntax tree accepted (a chain a + b + c ... is as deep as it is long).
MAX_TREE_DEPTH = 400


def _children(n) -> tuple:
    if isinstance(n, Neg):
        return (n.operand,)
    if isinstance(n, BinOp):
        return (n.left, n.right)
    if isinstance(n, Call):
        return n.args
    return ()


def _depth(node) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in _children(n))
    return deepest


def _names(node, out: dict):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name):
            out.setdefault(n.name)
        elif isinstance(n, Neg):
            stack.append(n.operand)
        elif isinstance(n, BinOp):
            stack.extend([n.right, n.left])
        elif isinstance(n, Call):
            stack.extend(reversed(n.args))
    return out


def _eval(node, values: Callable[[str], np.ndarray]):
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        return np.asarray(values(node.name), dtype="float64")
    if isinstance(node, Neg):
        return -_eval(node.operand, values)
    if isinstance(node, Call):
        return FUNCTIONS[node.function][0](*(_eval(a, values) for a in node.args))
    a, b = _eval(node.left, values), _eval(node.right, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        return np.where(np.asarray(b) == 0, np.nan, a / np.where(np.asarray(b) == 0, 1.0, b))


@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression: `text` as written, `tree` its syntax tree."""

    text: str
    tree: object

    @property
    def variables(self) -> tuple[str, ...]:
        """Names the expression reads, in order of first appearance."""
        # walked depth-first left to right; the dict keeps the first appearance
        return tuple(_names(self.tree, {}))

    def evaluate(self, values: Callable[[str], np.ndarray], n: int | None = None) -> np.ndarray:
        """Float array: the expression computed from `values(name)` (float arrays, NaN = missing).

        `n` (the number of rows) makes a constant expression an array too.

        Example:
            >>> parse_expression("log(x)").evaluate(lambda name: [1.0, 0.0]).tolist()
            [0.0, nan]
        """
        out = np.asarray(_eval(self.tree, values), dtype="float64")
        out = np.where(np.isfinite(out), out, np.nan)
        if out.ndim == 0 and n is not None:
            out = np.full(n, float(out))
        return out

    def __str__(self) -> str:
        return self.text


def parse_expression(text: str) -> Expression:
    """Parse `text` or raise ExpressionError naming the problem and the position.

    Example:
        >>> parse_expression("tech_index / n_applicable").variables
        ('tech_index', 'n_applicable')
        >>> parse_expression("x.__class__")
        Traceback (most recent call last):
        ...
        schemas.expressions.ExpressionError: cannot parse expression 'x.__class__': attribute access ('.') is not allowed at position 1
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ExpressionError(f"an expression must be a string, got {type(text).__name__}: {text!r}")
    text = str(text)
    return Expression(text=" ".join(text.split()), tree=_Parser(text).parse())
