"""The one lexer of the declaration languages: conditions (`ask_if`, rules) and expressions (`expr:`).

Each language gives its token pattern (named groups; a group `ws` is skipped), its keywords and
hints for characters its pattern does not accept. What both languages refuse is refused here, with
the same words: a character outside the grammar, and a name beginning with an underscore.

`scan` yields the tokens one by one, so a language can add a check of its own (conditions refuse
arithmetic) and still report the first problem from the left.

analysis/expressions.py (row filters over a data frame) has a parser of its own: analysis must not
import schemas (layering), so it cannot use this one.

Example:
    >>> import re
    >>> pattern = re.compile(r"(?P<ws>\\s+)|(?P<name>[A-Za-z_]\\w*)|(?P<op>[+])")
    >>> def fail(problem, pos):
    ...     raise ValueError(f"{problem} at position {pos}")
    >>> [t.text for t in scan("a + b", pattern, fail)]
    ['a', '+', 'b']
    >>> list(scan("a + _b", pattern, fail))
    Traceback (most recent call last):
    ...
    ValueError: names starting with '_' are not allowed: '_b' at position 4
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

__all__ = ["Token", "quote", "scan"]


@dataclass(frozen=True)
class Token:
    kind: str  # a group name of the pattern, "kw" for a keyword, "end" after the last token
    text: str
    pos: int


def quote(text: str, limit: int = 80) -> str:
    """`text` quoted for a message, shortened in the middle when longer than `limit`.

    >>> quote("x" * 100, limit=8)
    "'xxxx ... xx'"
    """
    if len(text) > limit:
        text = f"{text[: limit // 2]} ... {text[-limit // 4:]}"
    return repr(text)


def scan(
    text: str,
    pattern: re.Pattern,
    fail: Callable[[str, int], NoReturn],
    *,
    keywords: frozenset[str] = frozenset(),
    hints: Mapping[str, str] | None = None,
) -> Iterator[Token]:
    """The tokens of `text` from the left (whitespace dropped); `fail(problem, position)` raises.

    A name in `keywords` becomes a token of kind "kw"; `hints` explains a character the pattern
    does not accept (e.g. "." -> attribute access).
    """
    hints = hints or {}
    pos = 0
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            ch = text[pos]
            fail(hints.get(ch, f"unexpected character {ch!r}"), pos)
        kind, tok = m.lastgroup, m.group()
        if kind == "name":
            if tok.startswith("_"):
                fail(f"names starting with '_' are not allowed: {tok!r}", pos)
            if tok in keywords:
                kind = "kw"
        if kind != "ws":
            yield Token(kind, tok, pos)
        pos = m.end()
