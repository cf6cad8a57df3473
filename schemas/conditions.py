"""A small, safe condition language for skip logic (`ask_if`) and cross-item rules.

Conditions are parsed by a hand-written recursive-descent parser and evaluated column-wise on a
pandas frame of raw codes. Nothing is ever passed to `eval`, and the grammar has no attribute
access, no calls, no arithmetic and no names beginning with an underscore.

Grammar::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | comparison
    comparison := operand ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
                | NAME ["not"] "in" "[" literal ("," literal)* "]"
                | STRING ["not"] "in" NAME            # option ticked in a multi-choice item
    operand    := NAME | literal
    literal    := INTEGER | STRING                    # -8, 3, 'BW', "none"

Conditions nest at most MAX_DEPTH (100) levels of parentheses and `not`; deeper nesting is a
ConditionError, not a RecursionError.

NAME is an item variable or a multi-choice column `<var>__<option>`. `'none' in info_sources` is
shorthand for `info_sources__none == 1` (and `not in` for `!= 1`).

Missing values (an empty cell, NA) make a comparison *unknown*; `and`, `or`, `not` follow
three-valued (Kleene) logic and an unknown result counts as false in the end. Codes -7/-8/-9 are
ordinary integers here: write them into the condition where they matter.

Example:
    >>> import pandas as pd
    >>> c = parse_condition("practice_type in [2, 5] and not n_physicians > 3")
    >>> c.variables
    ('practice_type', 'n_physicians')
    >>> frame = pd.DataFrame({"practice_type": [2, 5, 1], "n_physicians": [1, 4, 1]})
    >>> c.evaluate(frame).tolist()
    [True, False, False]
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._lex import Token, quote, scan
from .errors import DeclarationError

__all__ = ["MAX_DEPTH", "Condition", "ConditionError", "parse_condition"]

#: Deepest nesting of parentheses and `not` a condition (or an expression) may have.
MAX_DEPTH = 100


class ConditionError(DeclarationError):
    """A condition text that the grammar does not accept (the message names the position)."""


# --------------------------------------------------------------------------- syntax tree

Literal = int | str


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Lit:
    value: Literal


@dataclass(frozen=True)
class Compare:
    op: str
    left: Var | Lit
    right: Var | Lit


@dataclass(frozen=True)
class In:
    var: Var
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | In | Not | And | Or

# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<int>-?\d+)
  | (?P<str>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in"})
_HINTS = {
    ".": "attribute access ('.') is not allowed",
    "=": "'=' is not a comparison (use '==')",
    "'": "unterminated string",
    '"': "unterminated string",
}


def _tokenize(text: str) -> list[Token]:
    def fail(problem: str, pos: int):
        raise ConditionError(f"cannot parse condition {quote(text)}: {problem} at position {pos}")

    tokens: list[Token] = []
    for tok in scan(text, _TOKEN, fail, keywords=_KEYWORDS, hints=_HINTS):
        if tok.kind == "int" and tokens and tokens[-1].kind in ("name", "int", "str"):
            fail("arithmetic is not allowed", tok.pos)
        tokens.append(tok)
    for a, b in itertools.pairwise(tokens):
        if a.kind == "name" and b.text == "(":
            fail(f"function calls are not allowed: {a.text!r}", a.pos)
    tokens.append(Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def fail(self, problem: str, tok: Token | None = None):
        tok = tok or self.peek()
        where = "end of condition" if tok.kind == "end" else f"position {tok.pos}"
        raise ConditionError(f"cannot parse condition {quote(self.text)}: {problem} at {where}")

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.peek().text == text and self.peek().kind in ("kw", "op", "punct"):
            self.i += 1
            return True
        return False

    def expect(self, text: str):
        if not self.accept(text):
            self.fail(f"expected {text!r}, found {self.describe(self.peek())}")

    @staticmethod
    def describe(tok: Token) -> str:
        return "nothing" if tok.kind == "end" else repr(tok.text)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            self.fail("empty condition")
        node = self.or_expr()
        if self.peek().kind != "end":
            self.fail(f"unexpected {self.describe(self.peek())}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.accept("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.accept("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels of parentheses and 'not' "
                      "(write it flatter)")

    def not_expr(self) -> Node:
        if self.accept("not"):
            self.nest()
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        if self.accept("("):
            self.nest()
            node = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return node
        return self.comparison()

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind == "int":
            return int(tok.text)
        if tok.kind == "str":
            return tok.text[1:-1]
        self.fail(f"expected a number or a quoted string, found {self.describe(tok)}", tok)

    def operand(self) -> Var | Lit:
        tok = self.peek()
        if tok.kind == "name":
            self.take()
            return Var(tok.text)
        if tok.kind in ("int", "str"):
            return Lit(self.literal())
        self.fail(f"expected a variable or a literal, found {self.describe(tok)}")

    def comparison(self) -> Node:
        left = self.operand()
        negated = False
        if self.peek().text == "not" and self.toks[self.i + 1].text == "in":
            self.take()
            negated = True
        if self.accept("in"):
            if isinstance(left, Lit):
                # 'option' in multi_var  ->  multi_var__option == 1
                if not isinstance(left.value, str):
                    self.fail(
                        "only a quoted option name can be tested with 'in <multi-choice item>'"
                    )
                tok = self.take()
                if tok.kind != "name":
                    self.fail(
                        f"expected a multi-choice item after 'in', found {self.describe(tok)}", tok
                    )
                column = Var(f"{tok.text}__{left.value}")
                return Compare("!=" if negated else "==", column, Lit(1))
            self.expect("[")
            values = [self.literal()]
            while self.accept(","):
                values.append(self.literal())
            self.expect("]")
            return In(left, tuple(values), negated)
        tok = self.peek()
        if tok.kind != "op":
            self.fail(f"expected a comparison operator or 'in', found {self.describe(tok)}")
        self.take()
        right = self.operand()
        if isinstance(left, Lit) and isinstance(right, Lit):
            self.fail("a comparison needs at least one variable", tok)
        return Compare(tok.text, left, right)


# --------------------------------------------------------------------------- evaluation


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        raise KeyError(f"condition refers to column {name!r}, which the frame does not have")
    return frame[name]


def _kleene(values, na: np.ndarray) -> pd.arrays.BooleanArray:
    """Boolean array with NA where any input of the comparison was missing."""
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.asarray(na, dtype=bool))


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _eval(node: Node, frame: pd.DataFrame) -> pd.arrays.BooleanArray:
    if isinstance(node, Compare):
        na = np.zeros(len(frame), dtype=bool)
        sides = []
        for side in (node.left, node.right):
            if isinstance(side, Var):
                s = _column(frame, side.name)
                na |= s.isna().to_numpy()
                sides.append(s)
            else:
                sides.append(side.value)
        result = _COMPARE[node.op](*sides)
        values = pd.Series(result).fillna(False).to_numpy(dtype=bool)
        return _kleene(values, na)
    if isinstance(node, In):
        s = _column(frame, node.var.name)
        hit = s.isin(list(node.values)).to_numpy(dtype=bool)
        return _kleene(~hit if node.negated else hit, s.isna().to_numpy())
    if isinstance(node, Not):
        return ~_eval(node.operand, frame)
    if isinstance(node, And):
        out = _eval(node.operands[0], frame)
        for op in node.operands[1:]:
            out = out & _eval(op, frame)
        return out
    if isinstance(node, Or):
        out = _eval(node.operands[0], frame)
        for op in node.operands[1:]:
            out = out | _eval(op, frame)
        return out
    raise TypeError(f"unknown condition node {node!r}")  # unreachable for parsed trees


def _walk(node: Node):
    yield node
    if isinstance(node, Not):
        yield from _walk(node.operand)
    elif isinstance(node, (And, Or)):
        for op in node.operands:
            yield from _walk(op)


# --------------------------------------------------------------------------- public


@dataclass(frozen=True)
class Condition:
    """A parsed condition: `text` as written, `tree` its syntax tree.

    Example:
        >>> c = parse_condition("'none' not in info_sources")
        >>> c.variables
        ('info_sources__none',)
    """

    text: str
    tree: Node

    @property
    def variables(self) -> tuple[str, ...]:
        """Columns the condition reads, in order of first appearance."""
        seen: dict[str, None] = {}
        for node in _walk(self.tree):
            if isinstance(node, Compare):
                for side in (node.left, node.right):
                    if isinstance(side, Var):
                        seen.setdefault(side.name)
            elif isinstance(node, In):
                seen.setdefault(node.var.name)
        return tuple(seen)

    def literals(self) -> dict[str, tuple[Literal, ...]]:
        """Literal values each variable is compared with (for checking them against codes).

        >>> parse_condition("size == 2 and type != 1").literals()  # doctest: +SKIP
        {'size': (2,), 'type': (1,)}
        """
        out: dict[str, list[Literal]] = {}
        for node in _walk(self.tree):
            if isinstance(node, Compare):
                left, right = node.left, node.right
                if isinstance(left, Var) and isinstance(right, Lit):
                    out.setdefault(left.name, []).append(right.value)
                elif isinstance(right, Var) and isinstance(left, Lit):
                    out.setdefault(right.name, []).append(left.value)
            elif isinstance(node, In):
                out.setdefault(node.var.name, []).extend(node.values)
        return {k: tuple(v) for k, v in out.items()}

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Boolean Series (index of `frame`): True where the condition holds.

        Unknown results (a missing value decided the outcome) are False.

        Example:
            >>> import pandas as pd
            >>> parse_condition("x >= 2").evaluate(pd.DataFrame({"x": [1, 2, None]})).tolist()
            [False, True, False]
        """
        result = _eval(self.tree, frame)
        return pd.Series(result.fillna(False).to_numpy(dtype=bool), index=frame.index)

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Parse `text` into a Condition or raise ConditionError naming the problem and position.

    Example:
        >>> parse_condition("incident_12m == 1").variables
        ('incident_12m',)
        >>> parse_condition("__import__('os')")
        Traceback (most recent call last):
        ...
        schemas.conditions.ConditionError: cannot parse condition "__import__('os')": names starting with '_' are not allowed: '__import__' at position 0
    """
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be a string, got {type(text).__name__}: {text!r}")
    return Condition(text=" ".join(text.split()), tree=_Parser(text).parse())
