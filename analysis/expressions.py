"""A small, safe arithmetic language with exact derivatives, for nonlinear contrasts.

R's ``svycontrast(stat, quote(exp(E - H)))`` differentiates the expression symbolically
(``deriv``) and applies the delta method. Here an expression text is parsed by a hand-written
recursive-descent parser (nothing reaches ``eval``; no attribute access, no calls except the
functions listed in FUNCTIONS) and evaluated in forward mode: every node gives its value and its
gradient with respect to the named estimates, exact to rounding. Nesting deeper than MAX_DEPTH
is an ExpressionError, never a RecursionError.

Grammar::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := atom ("^" unary)?               (right-associative, binds tighter than a
                                                   unary minus: -2^2 = -4, as R)
    atom       := NUMBER | NAME | `ANY TEXT` | FUNCTION "(" expression ")" | "(" expression ")"

Names are R-style (letters, digits, ``.`` and ``_``, not starting with a digit); a name in
backticks may hold any character but a backtick (R's `` `stypeE` ``, `` `api00:api00` ``).

Why a parser of its own: the declaration languages (schemas.conditions, schemas.expressions)
share one lexer in schemas/_lex.py, but analysis must not import schemas (layering: analysis
works on any data frame, without a study declaration), and this language differs where it counts:
R's dotted and backticked names, ``^``, and a gradient for every node.

Example
-------
>>> e = parse_expression("exp(E - H)")
>>> e.names
('E', 'H')
>>> value, grad = e.evaluate({"E": 1.0, "H": 0.5}, {"E": 0, "H": 1}, 2)
>>> round(value, 6), [round(float(g), 6) for g in grad]
(1.648721, [1.648721, -1.648721])
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .errors import AnalysisError

__all__ = ["FUNCTIONS", "MAX_DEPTH", "Expression", "ExpressionError", "parse_expression"]

MAX_DEPTH = 100
_MAX_LENGTH = 10_000


class ExpressionError(AnalysisError):
    """An expression that the grammar does not accept, or that names an unknown estimate."""


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _pnorm(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


#: name -> (function, derivative), both of one float
FUNCTIONS = {
    "exp": (math.exp, math.exp),
    "log": (math.log, lambda x: 1 / x),
    "log2": (math.log2, lambda x: 1 / (x * math.log(2))),
    "log10": (math.log10, lambda x: 1 / (x * math.log(10))),
    "log1p": (math.log1p, lambda x: 1 / (1 + x)),
    "expm1": (math.expm1, math.exp),
    "sqrt": (math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
    "tan": (math.tan, lambda x: 1 / math.cos(x) ** 2),
    "asin": (math.asin, lambda x: 1 / math.sqrt(1 - x * x)),
    "acos": (math.acos, lambda x: -1 / math.sqrt(1 - x * x)),
    "atan": (math.atan, lambda x: 1 / (1 + x * x)),
    "sinh": (math.sinh, math.cosh),
    "cosh": (math.cosh, math.sinh),
    "pnorm": (_pnorm, _phi),
    "dnorm": (_phi, lambda x: -x * _phi(x)),
}

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z.][A-Za-z0-9._]*)
    | `(?P<quoted>[^`]*)`
    | (?P<op>[-+*/^(),])
    )""", re.VERBOSE)


@dataclass(frozen=True)
class _Node:
    kind: str            # "num", "name", "neg", "op", "call"
    value: object = None
    args: tuple = ()


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"expression {text!r}: cannot read {text[pos:pos + 10]!r} at "
                                  f"position {pos + 1}")
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None, len(self.text))

    def _fail(self, what: str):
        _, tok, pos = self._peek()
        found = "the end" if tok is None else repr(tok)
        raise ExpressionError(f"expression {self.text!r}: expected {what} at position {pos + 1}, "
                              f"found {found}")

    def _enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression {self.text[:60]!r}...: nested deeper than "
                                  f"{MAX_DEPTH} levels")

    def parse(self) -> _Node:
        node = self.expression()
        if self.i != len(self.toks):
            self._fail("an operator or the end")
        # a long chain a + b + c + ... is a deep (left-nested) tree: bound its depth too, so
        # that evaluating it cannot exhaust the stack
        if _tree_depth(node) > 2 * MAX_DEPTH:
            raise ExpressionError(f"expression {self.text[:60]!r}...: more than {2 * MAX_DEPTH} "
                                  "nested operations; split it into several contrasts")
        return node

    def expression(self) -> _Node:
        node = self.term()
        while self._peek()[1] in ("+", "-"):
            op = self.toks[self.i][1]
            self.i += 1
            node = _Node("op", op, (node, self.term()))
        return node

    def term(self) -> _Node:
        node = self.unary()
        while self._peek()[1] in ("*", "/"):
            op = self.toks[self.i][1]
            self.i += 1
            node = _Node("op", op, (node, self.unary()))
        return node

    def unary(self) -> _Node:
        kind, tok, _ = self._peek()
        if kind == "op" and tok in ("-", "+"):
            self.i += 1
            self._enter()
            inner = self.unary()
            self.depth -= 1
            return _Node("neg", None, (inner,)) if tok == "-" else inner
        return self.power()

    def power(self) -> _Node:
        base = self.atom()
        if self._peek()[1] == "^":
            self.i += 1
            self._enter()
            exponent = self.unary()     # right-associative: 2^3^2 = 2^9, 2^-1 = 0.5
            self.depth -= 1
            return _Node("op", "^", (base, exponent))
        return base

    def atom(self) -> _Node:
        kind, tok, _ = self._peek()
        if kind == "number":
            self.i += 1
            return _Node("num", float(tok))
        if kind == "quoted":
            self.i += 1
            return _Node("name", tok)
        if kind == "name":
            self.i += 1
            if self._peek()[1] == "(":
                if tok not in FUNCTIONS:
                    raise ExpressionError(
                        f"expression {self.text!r}: unknown function {tok!r}; functions are "
                        f"{', '.join(sorted(FUNCTIONS))}")
                self.i += 1
                self._enter()
                arg = self.expression()
                self.depth -= 1
                if self._peek()[1] != ")":
                    self._fail(f"')' closing {tok}(")
                self.i += 1
                return _Node("call", tok, (arg,))
            return _Node("name", tok)
        if tok == "(":
            self.i += 1
            self._enter()
            node = self.expression()
            self.depth -= 1
            if self._peek()[1] != ")":
                self._fail("')'")
            self.i += 1
            return node
        self._fail("a number, a name, a function or '('")


def _tree_depth(node: _Node) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        nd, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((a, d + 1) for a in nd.args)
    return deepest


def _names(node: _Node, out: list) -> None:
    stack = [node]
    while stack:
        nd = stack.pop()
        if nd.kind == "name" and nd.value not in out:
            out.append(nd.value)
        stack.extend(reversed(nd.args))


@dataclass(frozen=True)
class Expression:
    """A parsed expression: ``names`` it uses (in order of appearance) and ``evaluate``."""

    text: str
    root: _Node
    names: tuple

    def evaluate(self, values, position, k: int) -> tuple[float, np.ndarray]:
        """Value and gradient (k,) at ``values[name]``; ``position[name]`` is the name's index
        in the gradient. Undefined values (log of a negative number, x / 0) are NaN."""
        return _evaluate(self.root, values, position, k)

    def value(self, values) -> float:
        """The value alone (for replicate estimates)."""
        return _evaluate(self.root, values, None, 0)[0]


def _evaluate(node: _Node, values, position, k: int):
    """Forward-mode evaluation: (value, gradient). Iterative over the tree's depth is not
    needed: the parser bounds the depth by MAX_DEPTH."""
    nan = float("nan")
    if node.kind == "num":
        return float(node.value), np.zeros(k)
    if node.kind == "name":
        g = np.zeros(k)
        if position is not None:
            g[position[node.value]] = 1.0
        return float(values[node.value]), g
    if node.kind == "neg":
        v, g = _evaluate(node.args[0], values, position, k)
        return -v, -g
    if node.kind == "call":
        f, df = FUNCTIONS[node.value]
        v, g = _evaluate(node.args[0], values, position, k)
        try:
            return f(v), df(v) * g
        except (ValueError, ZeroDivisionError, OverflowError):
            return nan, np.full(k, nan)
    a, ga = _evaluate(node.args[0], values, position, k)
    b, gb = _evaluate(node.args[1], values, position, k)
    op = node.value
    try:
        if op == "+":
            return a + b, ga + gb
        if op == "-":
            return a - b, ga - gb
        if op == "*":
            return a * b, b * ga + a * gb
        if op == "/":
            return a / b, (ga * b - a * gb) / (b * b)
        # a ^ b: d = b a^(b-1) da + a^b log(a) db (the second term only where b varies)
        val = a**b
        if isinstance(val, complex):
            return nan, np.full(k, nan)
        grad = b * a ** (b - 1) * ga
        if np.any(gb != 0):
            grad = grad + val * math.log(a) * gb
        return val, grad
    except (ValueError, ZeroDivisionError, OverflowError):
        return nan, np.full(k, nan)


def parse_expression(text: str) -> Expression:
    """Parse an expression text (see the module docstring for the grammar).

    >>> parse_expression("`api00:api00`^0.5").names
    ('api00:api00',)
    >>> parse_expression("log(")
    Traceback (most recent call last):
    ...
    analysis.expressions.ExpressionError: expression 'log(': expected a number, a name, a function or '(' at position 5, found the end
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"expression of {len(text)} characters: at most {_MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("empty expression")
    root = _Parser(text).parse()
    names: list = []
    _names(root, names)
    return Expression(text, root, tuple(names))
