"""The one YAML loader for declarations (instruments, studies, population files): safe and bounded.

A declaration is data written by people and sometimes received from others, so reading it must
neither execute anything nor be turned into a denial of service:

* **no tags that construct objects**: PyYAML's safe constructor only (``!!python/...`` refused);
* **a size limit** (``MAX_BYTES``, 5 MB: the practice instrument is 60 kB);
* **a nesting-depth limit** (``MAX_DEPTH``, 64 levels), checked on the event stream before
  any recursive step, so 10,000 nested brackets are a message, not a RecursionError;
* **an alias budget**: the size of the document with every alias expanded may not exceed
  ``MAX_NODES`` (200,000 nodes). A "billion laughs" block (9 aliases per level, 9 levels) is
  refused in milliseconds: its expanded size is counted from the events, never built.
  A recursive alias (an anchor used inside itself) is refused too;
* **duplicate keys** in a mapping are an error (PyYAML silently keeps the last one);
* **booleans are strict (YAML 1.2 rule)**: only ``true``/``false`` (also ``True``/``TRUE``/
  ``False``/``FALSE``) are booleans. The YAML 1.1 words ``yes``/``no``/``on``/``off``/``y``/``n``
  stay strings, so a code ``NO`` (Norway) is the string "NO", and ``required: no`` reaches the
  declaration's checks as the string "no", where `strict_bool` refuses it with a message naming
  the key (``required: 'no'`` likewise). Sexagesimal numbers (``1:30`` = 90 in YAML 1.1) stay
  strings too.

Every problem is one line ``<file>: line L, column C: <problem>`` raised as the caller's
`DeclarationError` subclass.

Example:
    >>> load_yaml("a: [1, 2]\\nb: yes\\nc: true", source="x.yaml")
    {'a': [1, 2], 'b': 'yes', 'c': True}
    >>> bomb = "a: &a [x, x]\\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\\n" + "".join(
    ...     f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9) + "]\\n" for p, k in zip("bcdefgh", "cdefghi"))
    >>> load_yaml(bomb, source="bomb.yaml")
    Traceback (most recent call last):
    ...
    schemas.errors.DeclarationError: bomb.yaml: line 6, column 40: aliases expand the document beyond 200000 nodes (a YAML alias bomb?); write the repeated parts out or use fewer aliases
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import DeclarationError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml", "read_yaml", "strict_bool"]

MAX_BYTES = 5_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, no sexagesimal numbers and no duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0[0-7_]+
            |[-+]?(?:0|[1-9][0-9_]*)
            |[-+]?0x[0-9a-fA-F_]+)$""",
        re.VERBOSE,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
            |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key].line + 1}); keep one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: _construct_yaml_map(loader, node))


def _construct_yaml_map(loader, node):
    data: dict = {}
    yield data
    data.update(_construct_mapping(loader, node))


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"


class _Budget:
    """Accounting on the event stream as the composer consumes it (one pass, no recursion of
    its own): depth, recursive aliases and the expanded size of the document."""

    def __init__(self, source: str, error, max_depth: int, max_nodes: int):
        self.source, self.error = source, error
        self.max_depth, self.max_nodes = max_depth, max_nodes
        self.sizes: dict[str, int] = {}  # anchor -> expanded node count
        self.stack: list[list] = []  # [anchor, expanded count so far] per open collection
        self.total = 0  # expanded nodes of the closed top-level parts
        self.open = 0  # expanded nodes inside the open collections

    def check(self, event) -> None:
        if self.total + self.open > self.max_nodes:
            raise self.error(
                f"{self.source}: {_where(event.start_mark)}: aliases expand the document beyond "
                f"{self.max_nodes} nodes (a YAML alias bomb?); write the repeated parts out or "
                "use fewer aliases"
            )

    def add(self, n: int, event) -> None:
        """`n` more (expanded) nodes in the innermost open collection, or at the top."""
        if self.stack:
            self.stack[-1][1] += n
            self.open += n
        else:
            self.total += n
        self.check(event)

    def see(self, event) -> None:
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(self.stack) >= self.max_depth:
                raise self.error(
                    f"{self.source}: {_where(event.start_mark)}: nested deeper than "
                    f"{self.max_depth} levels"
                )
            self.stack.append([event.anchor, 1])  # the collection node itself
            self.open += 1
            self.check(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = self.stack.pop()
            if anchor is not None:
                self.sizes[anchor] = size
            if self.stack:  # still inside an open collection: open stays the same
                self.stack[-1][1] += size
            else:
                self.open -= size
                self.total += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                self.sizes[event.anchor] = 1
            self.add(1, event)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in self.sizes:
                self.add(self.sizes[event.anchor], event)
            elif any(a == event.anchor for a, _ in self.stack):
                raise self.error(
                    f"{self.source}: {_where(event.start_mark)}: alias *{event.anchor} is used "
                    "inside its own anchor (a recursive structure); remove it"
                )


class _BoundedLoader(_Loader):
    budget: _Budget

    def get_event(self):
        event = super().get_event()
        self.budget.see(event)
        return event


def _raise_yaml(exc: yaml.YAMLError, source: str, error) -> None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, yaml.constructor.ConstructorError) and "could not determine a constructor" in str(
        exc
    ):
        tag = str(exc).split("tag '", 1)[-1].split("'", 1)[0]
        problem = f"the tag {tag} is not allowed (declarations are plain data)"
    problem = " ".join(str(problem).split())
    raise error(f"{source}: {_where(mark)}: not valid YAML: {problem}") from None


def load_yaml(
    text: str | bytes,
    source: str = "<string>",
    *,
    error: type[DeclarationError] = DeclarationError,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> Any:
    """Parse declaration YAML safely (see the module docstring); problems raise `error`.

    Example:
        >>> load_yaml("x: !!python/object/apply:os.system [ls]", source="evil.yaml")
        Traceback (most recent call last):
        ...
        schemas.errors.DeclarationError: evil.yaml: line 1, column 4: not valid YAML: the tag tag:yaml.org,2002:python/object/apply:os.system is not allowed (declarations are plain data)
    """
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise error(f"{source}: {len(text):,} bytes is larger than the limit of {max_bytes:,}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if len(text) > max_bytes:
        raise error(f"{source}: {len(text):,} characters is larger than the limit of {max_bytes:,}")
    loader = _BoundedLoader(text)
    loader.budget = _Budget(source, error, max_depth, max_nodes)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        _raise_yaml(exc, source, error)
    except DeclarationError:  # a budget exceeded (raised while the composer reads events)
        raise
    except (ValueError, OverflowError) as exc:  # e.g. a date 2020-13-01 that does not exist
        raise error(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise error(f"{source}: nested too deeply") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path, *, error: type[DeclarationError] = DeclarationError, **limits) -> Any:
    """Read and parse a declaration file; the size is checked before the file is read.

    Example:
        >>> read_yaml("/nonexistent/study.yaml")
        Traceback (most recent call last):
        ...
        schemas.errors.DeclarationError: /nonexistent/study.yaml: file not found
    """
    path = Path(path)
    max_bytes = limits.get("max_bytes", MAX_BYTES)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{path}: {size:,} bytes is larger than the limit of {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a YAML file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    return load_yaml(data, source=str(path), error=error, **limits)


def strict_bool(value: Any, where: str, key: str, error: type[DeclarationError] = DeclarationError) -> bool:
    """`value` if it is a real YAML boolean; anything else (``'no'``, ``yes``, 1) is an error
    naming `where` and `key`.

    Example:
        >>> strict_bool(True, "x.yaml: item 'a'", "required")
        True
        >>> strict_bool("no", "x.yaml: item 'a'", "required")
        Traceback (most recent call last):
        ...
        schemas.errors.DeclarationError: x.yaml: item 'a': required must be true or false (unquoted), got 'no'
    """
    if isinstance(value, bool):
        return value
    raise error(f"{where}: {key} must be true or false (unquoted), got {value!r}")
