"""Derived variables computed from the RAW coded frame, as declared (never coded per study).

A derived variable is declared in the instrument's ``derived:`` section or in a study's
``derived:`` section with a ``compute:`` mapping. The mapping names exactly one registered
computation (the key) with its main argument (the value) and that computation's options (the
other keys), as pandera's registered checks::

    - var: tech_index
      type: integer
      compute: {count: [tm_antivirus, tm_patching], codes: [1], invalid: [-7, -9]}

Computations (REGISTRY; "valid" = an answer: not a missing code, a code of the item, in range)::

    indicator: ITEM, codes: [..]      1 where the answer is one of codes, 0 for another answer,
               or indicator: "COND"   NA when not answered (a missing code or empty); with a
                                      condition: NA when any item it reads is not answered
    count: [ITEM | "COND", ..]        number of entries whose code is in `codes` (or whose
           codes, invalid, min_valid  condition holds); an entry is valid unless its code is
                                      NA or in `invalid` (default: every missing code);
                                      NA when fewer than `min_valid` entries are valid
                                      (default 1; "all" = every entry)
    count_valid: [..], invalid,       number of valid entries (NA below min_valid)
           min_valid
    n_ticked: MULTI, except: [opt]    options ticked (except the listed ones); NA unless the
                                      item was answered (every option column 0 or 1)
    sum | mean: [ITEM, ..],           sum / mean of the valid answers, `reverse` items (and
           min_valid, reverse         items the instrument declares `reverse: true`) reversed
                                      first; NA when fewer than min_valid are valid (default
                                      all): scale scores
    reverse: ITEM                     min + max - answer over the item's codes (reverse-keyed);
                                      labels follow the codes unless declared
    recode: ITEM, map: {from: to},    answers mapped; unmapped answers become `other` (default
           other                      NA; "keep" keeps them); missing codes become NA
    bins: ITEM, breaks: [b0, .., bk], code i for b(i-1) <= x < b(i) (right: true: b(i-1) < x <=
           right                      b(i)); outside the breaks NA
    cases: [{when: COND, value: v}],  value of the first condition that holds, else `other`
           other                      (default NA); conditions see raw codes (-9 is a number)
    zmean: [component, ..]            mean of the z-scores of the components (an expression or
                                      a nested compute mapping), each standardised by its mean
                                      and sd (ddof 1) in the frame; sd 0 -> 0; NA if any is NA
    ratio: [numerator, denominator]   numerator / denominator; NA where the denominator is 0
    expr: "EXPRESSION"                arithmetic on valid answers (schemas.expressions)

Where: an instrument's entries keep ``compute:`` in ``Derived.extra["compute"]`` (beside their
``rule`` text, codes and labels) and describe the questionnaire's own indices; a study's
``derived:`` entries (keys var, compute, and optionally type, label, codes, ordered, note) are its
analysis variables and may read the instrument's. ``derive(frame, instrument)`` computes the
instrument's, ``derive(frame, study)`` both (instrument's first).

Names are item variables, option columns ``<multi>__<option>``, metadata columns and other
derived variables (in any order; a cycle is an error). The declared ``type`` sets the column:
``number`` -> float64 (NaN), anything else -> Int64 (or str for string codes); a non-whole
result of a non-number variable is an error. With ``lang``, variables declaring ``codes`` become
labelled categoricals. An entry without ``compute:`` (or ``computed_by`` other than
schemas.derive, e.g. the weight) is documentation only: nothing is computed for it, so an
instrument without compute entries derives nothing.

Example:
    >>> import pandas as pd, schemas
    >>> inst = schemas.load_instrument()
    >>> raw = pd.DataFrame({"general_risk_high": [4, 5, -9], "own_risk_high": [2, 5, 3]})
    >>> gap = compile_entries([{"var": "gap", "type": "integer",
    ...                         "compute": {"expr": "general_risk_high - own_risk_high"}}], inst)
    >>> derive(raw, (inst, gap)).gap.tolist()
    [2, 0, <NA>]
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .conditions import ConditionError, parse_condition
from .errors import DeclarationError
from .expressions import ExpressionError, parse_expression
from .instrument import Instrument, Label

__all__ = [
    "REGISTRY",
    "DerivedError",
    "DerivedVariable",
    "compile_entries",
    "compile_instrument",
    "derive",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NUMBER_TYPES = ("number", "decimal", "float")
_NUMERIC_ITEMS = ("integer", "number", "decimal")
_FREE_ITEMS = ("text", "date", "datetime")


class DerivedError(DeclarationError):
    """A `compute:` declaration that cannot work (the message names the variable and the fix)."""


# --------------------------------------------------------------------------- what names mean


@dataclass(frozen=True)
class _Names:
    """The variables a computation may read: items, option columns, metadata, derived."""

    inst: Instrument
    derived: Mapping[str, Any]  # var -> entry (declared codes) of every derived variable

    def kind(self, name: str) -> str:
        if name in self.derived:
            return "derived"
        try:
            item = self.inst.item(name)
        except KeyError:
            item = None
        if item is not None:
            return "multi" if item.type == "multi" else "item"
        for item in self.inst.items:
            if item.type == "multi" and name in item.columns:
                return "option"
        if name in {m.var for m in self.inst.metadata}:
            return "meta"
        return "unknown"

    def all(self) -> list[str]:
        out = list(self.derived) + [m.var for m in self.inst.metadata]
        for item in self.inst.items:
            out.append(item.var)
            if item.type == "multi":
                out.extend(item.columns)
        return out


class _Ctx:
    """Compile context: where we are (for messages) and what names exist."""

    def __init__(self, where: str, names: _Names):
        self.where = where
        self.names = names
        self.inputs: dict[str, None] = {}

    def fail(self, problem: str):
        raise DerivedError(f"{self.where}: {problem}")

    def name(self, key: str, value, *, allow=("item", "option", "meta", "derived")) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            self.fail(f"{key} must be a variable name, got {value!r}")
        kind = self.names.kind(value)
        if kind == "unknown":
            close = difflib.get_close_matches(value, self.names.all(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(f"{key} names {value!r}, which is not an item, option column or derived "
                      f"variable of instrument {self.names.inst.name!r}{hint}")
        if kind not in allow:
            if kind == "multi":
                self.fail(f"{key}: {value!r} is a multi-choice item; name one option column "
                          f"({value}__<option>) or use n_ticked")
            what = {"item": "an item with one answer", "option": "an option column",
                    "meta": "a metadata column", "derived": "a derived variable"}
            need = "a multi-choice item" if allow == ("multi",) else \
                " or ".join(what[a] for a in allow)
            self.fail(f"{key}: {value!r} is {what[kind]}, not {need}")
        self.inputs.setdefault(value)
        return value

    def numeric(self, key: str, var: str) -> str:
        """`var` must have numeric answers: arithmetic on a text, date or string-coded item (or
        an id/datetime metadata column) would only ever give missing values."""
        if var in self.names.derived:
            return var
        kind = self.names.kind(var)
        what = None
        if kind == "item":
            item = self.names.inst.item(var)
            if item.type in _FREE_ITEMS:
                what = f"a {item.type} item"
            elif item.string_codes:
                what = "an item with text codes"
        elif kind == "meta":
            meta = next(m for m in self.names.inst.metadata if m.var == var)
            if meta.type != "number":
                what = f"a {meta.type} metadata column"
        if what:
            self.fail(f"{key}: {var!r} is {what}, not numeric; use numeric items (or a condition, "
                      "e.g. indicator, for codes)")
        return var

    def names_list(self, key: str, value, *, at_least: int = 1) -> list[str]:
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) < at_least:
            self.fail(f"{key} must be a list of at least {at_least} variable name(s), got {value!r}")
        return [self.name(f"{key}[{i}]", v) for i, v in enumerate(value)]

    def condition(self, key: str, text):
        try:
            cond = parse_condition(text)
        except ConditionError as err:
            self.fail(f"{key}: {err}")
        for v in cond.variables:
            self.name(key, v)
        return cond

    def expression(self, key: str, text):
        try:
            expr = parse_expression(text)
        except ExpressionError as err:
            self.fail(f"{key}: {err}")
        for v in expr.variables:
            self.numeric(key, self.name(key, v))
        return expr

    def codes(self, key: str, value) -> list:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, Sequence) or not value or any(
                isinstance(v, bool) or not isinstance(v, (int, str)) for v in value):
            self.fail(f"{key} must be a list of codes (numbers or strings), got {value!r}")
        return list(value)

    def item_codes(self, key: str, var: str, codes: list):
        """`codes` must be answer codes (or missing codes) of `var` when it declares codes."""
        if var in self.names.derived:
            known = list(self.names.derived[var].get("codes") or {})
        else:
            try:
                item = self.names.inst.item(var)
            except KeyError:
                return
            known = list(item.substantive_codes) if item.type not in (
                "multi", *_NUMERIC_ITEMS, *_FREE_ITEMS) else []
        if not known:
            return
        unknown = [c for c in codes if c not in known and c not in self.names.inst.missing_codes]
        if unknown:
            self.fail(f"{key}: {unknown[0]!r} is not a code of {var!r} (codes: "
                      f"{', '.join(map(str, known))})")

    def integer(self, key: str, value, *, allow_all=False):
        if allow_all and value == "all":
            return "all"
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            extra = ' or "all"' if allow_all else ""
            self.fail(f"{key} must be a whole number >= 0{extra}, got {value!r}")
        return value


# --------------------------------------------------------------------------- values at run time


class _Env:
    """The frame being derived, the instrument, and the derived columns computed so far."""

    def __init__(self, frame: pd.DataFrame, inst: Instrument, entries: Mapping[str, Any]):
        self.frame = frame
        self.inst = inst
        self.entries = entries
        self.computed: dict[str, pd.Series] = {}
        self.missing = set(inst.missing_codes)

    @property
    def n(self) -> int:
        return len(self.frame)

    def raw(self, name: str) -> pd.Series:
        """The column as it is: codes including missing codes (or a computed derived column)."""
        if name in self.computed:
            return self.computed[name]
        if name not in self.frame.columns:
            raise DerivedError(f"derived variables need column {name!r}, which the data do not "
                               f"have (export columns of instrument {self.inst.name!r} expected)")
        return self.frame[name]

    def valid(self, name: str) -> pd.Series:
        """Valid answers only (missing codes, codes not of the item, out of range -> NA)."""
        s = self.raw(name)
        if name in self.computed:
            return s
        try:
            item = self.inst.item(name)
        except KeyError:
            item = None
        if item is None:  # option column (0/1) or metadata
            if "__" in name and name not in {m.var for m in self.inst.metadata}:
                return s.where(s.isin([0, 1]))
            return s
        ok = ~s.isin(list(self.missing | set(item.missing or ()))) & s.notna()
        if item.type in _NUMERIC_ITEMS:
            num = pd.to_numeric(s, errors="coerce")
            if isinstance(getattr(item, "min", None), (int, float)):
                ok &= num >= item.min
            if isinstance(getattr(item, "max", None), (int, float)):
                ok &= num <= item.max
        elif item.substantive_codes and item.type not in _FREE_ITEMS:
            return s.where(s.isin(list(item.substantive_codes)))
        return s.where(ok.fillna(False).astype(bool))

    def number(self, name: str) -> np.ndarray:
        """Valid answers as float64 (NaN = missing); string codes are an error."""
        s = self.valid(name)
        try:
            return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise DerivedError(f"{name!r} has non-numeric values ({s.dropna().iloc[:3].tolist()}); "
                               "arithmetic needs a numeric item") from None

    def sub(self, names) -> pd.DataFrame:
        """The raw columns `names` (for evaluating a condition)."""
        return pd.DataFrame({v: self.raw(v) for v in names}, index=self.frame.index)

    def answered(self, name: str, invalid) -> np.ndarray:
        s = self.raw(name)
        return (~(s.isna() | s.isin(list(invalid)))).to_numpy(dtype=bool)


# --------------------------------------------------------------------------- computations


@dataclass(frozen=True)
class Computation:
    """A compiled `compute:` entry: `name` (registry key), `inputs` (names read), `run(env)`."""

    name: str
    inputs: tuple[str, ...]
    run: Callable[[_Env], Any]
    default_type: str
    codes: Mapping | None = None  # labels the computation supplies (reverse of an item)


def _indicator(spec, ctx: _Ctx):
    target = spec["indicator"]
    if isinstance(target, str) and _NAME.match(target):
        var = ctx.name("indicator", target)
        if "codes" not in spec:
            ctx.fail(f"indicator of {var!r} needs codes: [...] (the answers counted as 1)")
        codes = ctx.codes("codes", spec["codes"])
        ctx.item_codes("codes", var, codes)

        def run(env: _Env):
            s = env.valid(var)
            return np.where(s.isna(), np.nan, s.isin(codes).astype(float))
        return run, "number"
    if "codes" in spec:
        ctx.fail("codes: applies to an indicator of one item, not of a condition")
    cond = ctx.condition("indicator", target)

    def run_condition(env: _Env):
        ok = np.ones(env.n, dtype=bool)
        for v in cond.variables:
            ok &= env.answered(v, env.missing)
        return np.where(ok, cond.evaluate(env.sub(cond.variables)).astype(float), np.nan)
    return run_condition, "number"


def _entries(key, value, ctx: _Ctx, codes):
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        ctx.fail(f"{key} must be a list of items or conditions, got {value!r}")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, str) and _NAME.match(v):
            if codes is None and key == "count":
                ctx.fail(f"count over items needs codes: [...] (the answers counted), for {v!r}")
            out.append(("name", ctx.name(f"{key}[{i}]", v), None))
            if codes is not None:
                ctx.item_codes("codes", v, codes)
        else:
            cond = ctx.condition(f"{key}[{i}]", v)
            out.append(("cond", cond.variables, cond))
    return out


def _count(spec, ctx: _Ctx, *, counting: bool):
    key = "count" if counting else "count_valid"
    codes = ctx.codes("codes", spec["codes"]) if "codes" in spec else None
    if not counting and codes is not None:
        ctx.fail("count_valid counts valid entries; codes: belongs to count")
    entries = _entries(key, spec[key], ctx, codes)
    invalid = ctx.codes("invalid", spec["invalid"]) if "invalid" in spec else None
    min_valid = _min_valid(ctx, spec.get("min_valid", 1), len(entries), key)

    def run(env: _Env):
        bad = env.missing if invalid is None else invalid
        n_valid = np.zeros(env.n, dtype="int64")
        hits = np.zeros(env.n, dtype="int64")
        for kind, names, cond in entries:
            if kind == "name":
                ok = env.answered(names, bad)
                hit = env.raw(names).isin(codes or []).to_numpy(dtype=bool)
            else:
                ok = np.ones(env.n, dtype=bool)
                for v in names:
                    ok &= env.answered(v, bad)
                hit = cond.evaluate(env.sub(names)).to_numpy(dtype=bool)
            n_valid += ok
            hits += ok & hit
        need = len(entries) if min_valid == "all" else min_valid
        na = n_valid < max(need, 0)
        return pd.arrays.IntegerArray(hits if counting else n_valid, na)
    return run, "integer"


def _min_valid(ctx: _Ctx, value, n_entries: int, key: str):
    """min_valid: a whole number up to the number of entries (more would make the variable
    missing for every respondent), or "all"."""
    value = ctx.integer("min_valid", value, allow_all=True)
    if value != "all" and value > n_entries:
        ctx.fail(f"min_valid {value} is more than the {n_entries} entries of {key} (the variable "
                 f"would always be missing); use at most {n_entries} or \"all\"")
    return value


def _n_ticked(spec, ctx: _Ctx):
    var = ctx.name("n_ticked", spec["n_ticked"], allow=("multi",))
    item = ctx.names.inst.item(var)
    skip = spec.get("except", [])
    skip = ctx.codes("except", skip) if skip else []
    options = [getattr(o, "code", o) for o in item.options]
    unknown = [o for o in skip if o not in options]
    if unknown:
        ctx.fail(f"except names option(s) {unknown} that {var!r} does not have "
                 f"(options: {', '.join(map(str, options))})")
    cols = [f"{var}__{o}" for o in options]
    counted = [o not in skip for o in options]

    def run(env: _Env):
        m = np.vstack([env.raw(c).to_numpy(dtype="int64", na_value=-1) for c in cols]) \
            if cols else np.zeros((0, env.n), dtype="int64")
        answered = ((m == 0) | (m == 1)).all(axis=0)
        n = (m[np.array(counted, dtype=bool)] == 1).sum(axis=0)
        return pd.arrays.IntegerArray(n.astype("int64"), ~answered)
    return run, "integer"


def _scale(spec, ctx: _Ctx, how: str):
    names = ctx.names_list(how, spec[how])
    for i, v in enumerate(names):
        ctx.numeric(f"{how}[{i}]", v)
    reverse = spec.get("reverse", [])
    reverse = ctx.names_list("reverse", reverse) if reverse else []
    stray = [r for r in reverse if r not in names]
    if stray:
        ctx.fail(f"reverse lists {stray}, which are not among the {how}'s items")
    keyed = [v for v in names if v not in ctx.names.derived and ctx.names.kind(v) == "item"
             and getattr(ctx.names.inst.item(v), "reverse", False)]
    twice = [v for v in reverse if v in keyed]
    if twice:
        ctx.fail(f"reverse lists {twice[0]!r}, which the instrument already declares reverse-keyed "
                 "(it is reversed once automatically); remove it from reverse")
    bounds = {r: _code_range(ctx, r) for r in [*reverse, *keyed]}
    min_valid = _min_valid(ctx, spec.get("min_valid", "all"), len(names), how)

    def run(env: _Env):
        cols = []
        for v in names:
            x = env.number(v)
            if v in bounds:
                lo, hi = bounds[v]
                x = lo + hi - x
            cols.append(x)
        m = np.vstack(cols)
        n_valid = (~np.isnan(m)).sum(axis=0)
        need = len(names) if min_valid == "all" else min_valid
        total = np.nansum(m, axis=0)
        value = total if how == "sum" else total / np.maximum(n_valid, 1)
        return np.where((n_valid >= max(need, 1)), value, np.nan)
    return run, "number"


def _code_range(ctx: _Ctx, var: str) -> tuple[int, int]:
    if var in ctx.names.derived:
        codes = [c for c in (ctx.names.derived[var].get("codes") or {}) if isinstance(c, int)]
    else:
        try:
            item = ctx.names.inst.item(var)
        except KeyError:
            item = None
        codes = [c for c in (item.substantive_codes if item is not None else ())
                 if isinstance(c, int) and not isinstance(c, bool)]
    if len(codes) < 2:
        ctx.fail(f"{var!r} cannot be reversed: it needs numeric answer codes (at least two)")
    return min(codes), max(codes)


def _reverse(spec, ctx: _Ctx):
    var = ctx.name("reverse", spec["reverse"])
    lo, hi = _code_range(ctx, var)

    def run(env: _Env):
        x = env.number(var)
        return lo + hi - x
    labels = None
    if var not in ctx.names.derived:
        item = ctx.names.inst.item(var)
        labels = {lo + hi - c: item.codes[c] for c in reversed(item.substantive_codes)}
    return run, "integer", labels


def _recode(spec, ctx: _Ctx):
    var = ctx.name("recode", spec["recode"])
    mapping = spec.get("map")
    if not isinstance(mapping, Mapping) or not mapping:
        ctx.fail("recode needs map: {from: to, ...}")
    ctx.item_codes("map", var, list(mapping))
    other = spec.get("other")

    def run(env: _Env):
        s = env.valid(var).astype(object)
        out = s.map(lambda v: mapping.get(v, other) if not pd.isna(v) else None)
        if other == "keep":
            keep = ~s.isin(list(mapping)) & s.notna()
            out = out.where(~keep, s)
        return out.where(s.notna(), None)
    return run, "single"


def _bins(spec, ctx: _Ctx):
    var = ctx.numeric("bins", ctx.name("bins", spec["bins"]))
    breaks = spec.get("breaks")
    if (not isinstance(breaks, Sequence) or isinstance(breaks, str) or len(breaks) < 2
            or any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in breaks)
            or any(a >= b for a, b in itertools.pairwise(breaks))):
        ctx.fail(f"breaks must be at least two increasing numbers, got {breaks!r}")
    right = spec.get("right", False)
    if not isinstance(right, bool):
        ctx.fail(f"right must be true or false, got {right!r}")
    edges = np.asarray(breaks, dtype=float)

    def run(env: _Env):
        x = env.number(var)
        side = "left" if right else "right"
        code = np.searchsorted(edges, x, side=side)
        inside = (code >= 1) & (code < len(edges)) & ~np.isnan(x)
        return pd.arrays.IntegerArray(np.where(inside, code, 0).astype("int64"), ~inside)
    return run, "integer"


def _cases(spec, ctx: _Ctx):
    cases = spec["cases"]
    if isinstance(cases, str) or not isinstance(cases, Sequence) or not cases:
        ctx.fail("cases must be a list of {when: CONDITION, value: VALUE}")
    compiled = []
    for i, case in enumerate(cases):
        if not isinstance(case, Mapping) or set(case) != {"when", "value"}:
            ctx.fail(f"cases[{i}] must be {{when: CONDITION, value: VALUE}}, got {case!r}")
        compiled.append((ctx.condition(f"cases[{i}].when", case["when"]), case["value"]))
    other = spec.get("other")

    def run(env: _Env):
        out = np.full(env.n, None, dtype=object)
        done = np.zeros(env.n, dtype=bool)
        for cond, value in compiled:
            hit = cond.evaluate(env.sub(cond.variables)).to_numpy(dtype=bool) & ~done
            out[hit] = value
            done |= hit
        out[~done] = other
        return pd.Series(out, index=env.frame.index)
    return run, "single"


def _component(key, value, ctx: _Ctx):
    """A zmean component: an expression string or a nested compute mapping -> float array."""
    if isinstance(value, Mapping):
        comp = _compile(value, _Ctx(f"{ctx.where}: {key}", ctx.names), outer=ctx)
        return lambda env: _as_float(comp.run(env))
    expr = ctx.expression(key, value)
    return lambda env: expr.evaluate(env.number, n=env.n)


def _as_float(values) -> np.ndarray:
    return pd.array(values, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan) \
        if not isinstance(values, np.ndarray) else values.astype("float64")


def _zmean(spec, ctx: _Ctx):
    parts = spec["zmean"]
    if isinstance(parts, str) or not isinstance(parts, Sequence) or len(parts) < 1:
        ctx.fail("zmean must be a list of components (expressions or compute mappings)")
    comps = [_component(f"zmean[{i}]", p, ctx) for i, p in enumerate(parts)]

    def run(env: _Env):
        z = []
        for comp in comps:
            c = pd.Series(comp(env), index=env.frame.index, dtype="float64")
            sd = c.std(ddof=1)
            # a component without variation in the frame carries no information: z = 0
            z.append((c - c.mean()) / sd if sd > 0 else c * 0.0)
        return (sum(z) / len(z)).to_numpy(dtype="float64")
    return run, "number"


def _ratio(spec, ctx: _Ctx):
    pair = spec["ratio"]
    if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
        ctx.fail(f"ratio must be [numerator, denominator], got {pair!r}")
    num, den = (ctx.expression(f"ratio[{i}]", p) for i, p in enumerate(pair))

    def run(env: _Env):
        a, b = num.evaluate(env.number, n=env.n), den.evaluate(env.number, n=env.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((b == 0) | np.isnan(b), np.nan, a / np.where(b == 0, 1.0, b))
    return run, "number"


def _expr(spec, ctx: _Ctx):
    expr = ctx.expression("expr", spec["expr"])
    return (lambda env: expr.evaluate(env.number, n=env.n)), "number"


#: computation name -> (compiler, allowed option keys)
REGISTRY: dict[str, tuple[Callable, frozenset]] = {
    "indicator": (_indicator, frozenset({"codes"})),
    "count": (lambda s, c: _count(s, c, counting=True),
              frozenset({"codes", "invalid", "min_valid"})),
    "count_valid": (lambda s, c: _count(s, c, counting=False),
                    frozenset({"invalid", "min_valid"})),
    "n_ticked": (_n_ticked, frozenset({"except"})),
    "sum": (lambda s, c: _scale(s, c, "sum"), frozenset({"min_valid", "reverse"})),
    "mean": (lambda s, c: _scale(s, c, "mean"), frozenset({"min_valid", "reverse"})),
    "reverse": (_reverse, frozenset()),
    "recode": (_recode, frozenset({"map", "other"})),
    "bins": (_bins, frozenset({"breaks", "right"})),
    "cases": (_cases, frozenset({"other"})),
    "zmean": (_zmean, frozenset()),
    "ratio": (_ratio, frozenset()),
    "expr": (_expr, frozenset()),
}


def _plain(value):
    """A frozen declaration (MappingProxyType / tuple) as plain dict / list."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _compile(spec, ctx: _Ctx, outer: _Ctx | None = None) -> Computation:
    if not isinstance(spec, Mapping):
        ctx.fail(f"compute must be a mapping {{<computation>: <argument>, ...}}, got {spec!r}")
    spec = _plain(spec)
    names = [k for k in spec if k in REGISTRY]
    if len(names) > 1:  # an option named like a computation (mean's reverse:) is an option
        names = [k for k in names if not any(k in REGISTRY[o][1] for o in names if o != k)]
    if len(names) != 1:
        if not names:
            unknown = [k for k in spec if k not in REGISTRY]
            close = difflib.get_close_matches(str(unknown[0]), REGISTRY, n=1) if unknown else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            ctx.fail(f"compute names no computation{': ' + repr(unknown[0]) if unknown else ''}"
                     f"{hint}; one of {', '.join(REGISTRY)}")
        ctx.fail(f"compute names several computations {names}; use one per variable")
    name = names[0]
    compiler, allowed = REGISTRY[name]
    extra = [k for k in spec if k != name and k not in allowed]
    if extra:
        opts = ", ".join(sorted(allowed)) or "none"
        ctx.fail(f"compute.{name}: unknown option {extra[0]!r} (options of {name}: {opts})")
    ctx.where = f"{ctx.where}: compute.{name}"
    result = compiler(spec, ctx)
    run, default_type = result[0], result[1]
    codes = result[2] if len(result) > 2 else None
    if outer is not None:
        for v in ctx.inputs:
            outer.inputs.setdefault(v)
    return Computation(name, tuple(ctx.inputs), run, default_type, codes)


# --------------------------------------------------------------------------- declared variables


@dataclass(frozen=True)
class DerivedVariable:
    """A compiled derived variable: declaration (var, type, label, codes, ordered, compute as
    written) and how it is computed (`computation`). `origin` is "instrument" or "study"."""

    var: str
    type: str
    label: Label | None
    codes: Mapping[Any, Label]
    ordered: bool
    compute: Mapping[str, Any]
    computation: Computation = field(repr=False)
    origin: str = "instrument"
    short_label: Label | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.computation.inputs

    @property
    def frame_dependent(self) -> bool:
        """True when a row's value depends on the other rows of the frame (zmean standardises
        within the frame): such a variable must be computed on the whole data at once. (A
        variable reading one is not flagged here: check its inputs.)"""
        return "zmean" in self.compute or _nested_zmean(self.compute)


def _nested_zmean(spec) -> bool:
    if isinstance(spec, Mapping):
        return "zmean" in spec or any(_nested_zmean(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(_nested_zmean(v) for v in spec)
    return False


def _label(value, where: str, ctx_fail) -> Label | None:
    if value is None:
        return None
    if isinstance(value, Label):
        return value
    if isinstance(value, str):
        return Label(value, value)
    if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
        de = value.get("de", value.get("en"))
        en = value.get("en", value.get("de"))
        if de is None:
            ctx_fail(f"{where} needs de and/or en texts, got keys {sorted(value)}")
        return Label(de, en)
    ctx_fail(f"{where} must be a text or {{de: ..., en: ...}}, got {value!r}")


def compile_entries(entries: Sequence[Mapping], inst: Instrument, *, origin: str = "study",
                    where: str = "derived", before: Sequence[DerivedVariable] = ()
                    ) -> tuple[DerivedVariable, ...]:
    """Compile declared derived variables (dicts as in YAML) against `inst`.

    `before` are derived variables already compiled (the instrument's), which the entries may
    read. Raises DerivedError (one line: `where`, variable, problem, fix) for an unknown
    computation or option, a name that is not an item or derived variable, a duplicate, a cycle.
    Returns every variable of `before` and `entries`, in declaration order.
    """
    def fail(problem):
        raise DerivedError(f"{where}: {problem}")

    if isinstance(entries, (str, Mapping)) or not isinstance(entries, Sequence):
        fail(f"must be a list of derived variables, got {type(entries).__name__}")
    declared: dict[str, Mapping] = {d.var: {"codes": d.codes} for d in before}
    items = set(inst.variables) | set(inst.columns)
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("var"), str):
            fail(f"entry {i} needs var: <name>")
        var = entry["var"]
        if not _NAME.match(var) or "__" in var:
            fail(f"{var!r} is not a valid variable name (letters, digits, single underscores)")
        if var in declared or var in items:
            fail(f"{var!r} is declared twice (already an item or derived variable); rename it")
        declared[var] = entry
    names = _Names(inst, declared)
    out = list(before)
    allowed = {"var", "type", "label", "short_label", "codes", "ordered", "compute", "note", "source"}
    for entry in entries:
        var = entry["var"]
        at = f"{where} {var!r}"
        if origin == "study":
            stray = sorted(set(entry) - allowed)
            if stray:
                close = difflib.get_close_matches(str(stray[0]), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DerivedError(f"{at}: unknown key {stray[0]!r}{hint}; keys: "
                                   f"{', '.join(sorted(allowed))}")
        if "compute" not in entry:
            raise DerivedError(f"{at}: needs compute: {{<computation>: ...}} "
                               f"(one of {', '.join(REGISTRY)})")
        out.append(_variable(entry, names, at, origin))
    _order(out, where)
    return tuple(out)


def _variable(entry: Mapping, names: _Names, at: str, origin: str) -> DerivedVariable:
    ctx = _Ctx(at, names)
    comp = _compile(entry["compute"], ctx)
    if entry["var"] in comp.inputs:
        raise DerivedError(f"{at}: reads itself; a derived variable cannot be its own input")

    def fail(problem):
        raise DerivedError(f"{at}: {problem}")

    typ = entry.get("type", comp.default_type)
    if not isinstance(typ, str):
        fail(f"type must be a text (number, integer, single), got {typ!r}")
    ordered = entry.get("ordered", False)
    if not isinstance(ordered, bool):
        fail(f"ordered must be true or false, got {ordered!r}")
    codes = entry.get("codes")
    if isinstance(codes, Mapping):
        codes = {c: (lab if isinstance(lab, Label) else _code_label(lab, f"codes[{c!r}]", fail))
                 for c, lab in codes.items()}
    elif codes is None or codes == {}:
        codes = dict(comp.codes or {})
        ordered = ordered or bool(comp.codes)
    else:
        fail(f"codes must be a mapping code -> label, got {codes!r}")
    label = entry.get("label", entry.get("text"))
    return DerivedVariable(var=entry["var"], type=typ, label=_label(label, "label", fail),
                           codes=MappingProxyType(codes), ordered=ordered,
                           compute=MappingProxyType(_plain(entry["compute"])), computation=comp,
                           origin=origin,
                           short_label=_label(entry.get("short_label"), "short_label", fail))


def _code_label(value, where, fail) -> Label:
    if isinstance(value, Mapping) and ("label_de" in value or "label_en" in value):
        value = {"de": value.get("label_de"), "en": value.get("label_en")}
        value = {k: v for k, v in value.items() if v is not None}
    return _label(value, where, fail)


def _order(variables: Sequence[DerivedVariable], where: str) -> list[DerivedVariable]:
    """Evaluation order (inputs first); a cycle is a DerivedError naming it."""
    by_name = {d.var: d for d in variables}
    order, state = [], {}
    for start in variables:
        if start.var in state:
            continue
        stack = [(start.var, iter(d for d in by_name[start.var].inputs if d in by_name))]
        state[start.var] = "open"
        path = [start.var]
        while stack:
            var, deps = stack[-1]
            nxt = next(deps, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[var] = "done"
                order.append(by_name[var])
            elif state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                raise DerivedError(f"{where}: derived variables form a cycle "
                                   f"{' -> '.join(cycle)}; one of them must be computed from items")
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                stack.append((nxt, iter(d for d in by_name[nxt].inputs if d in by_name)))
    return order


def compile_instrument(inst: Instrument, where: str | None = None) -> tuple[DerivedVariable, ...]:
    """The instrument's derived variables that declare `compute:` (others are documentation).

    >>> import schemas
    >>> [d.var for d in compile_instrument(schemas.load_instrument())][:3]
    ['kbv_size_class', 'tech_index', 'n_applicable']
    """
    where = where or f"{inst.source}: derived"
    entries = []
    for d in inst.derived:
        compute = (d.extra or {}).get("compute")
        if compute is None or d.computed_by != "schemas.derive":
            continue
        entries.append({"var": d.var, "type": d.type, "label": d.text, "codes": dict(d.codes),
                        "ordered": d.ordered, "compute": compute, "short_label": d.short_label})
    return compile_entries(entries, inst, origin="instrument", where=where)


# --------------------------------------------------------------------------- derive


def _finish(var: DerivedVariable, values, index) -> pd.Series:
    """The column in its declared type: number -> float64, else Int64 (or str for text codes)."""
    if var.type in _NUMBER_TYPES:
        return pd.Series(_as_float(values), index=index, name=var.var)
    s = pd.Series(values, index=index)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        obj = s.astype(object)
        present = obj[obj.notna()]
        if present.map(lambda v: isinstance(v, str)).all() and len(present):
            return pd.Series(obj.where(obj.notna(), None), index=index, dtype="str", name=var.var)
        s = pd.to_numeric(obj, errors="coerce")
    x = _as_float(s.to_numpy()) if not isinstance(s.dtype, pd.Int64Dtype) else None
    if x is not None:
        whole = np.isnan(x) | (x == np.round(x))
        if not whole.all():
            bad = x[~whole][0]
            raise DerivedError(f"derived variable {var.var!r} is declared {var.type} but computes "
                               f"{bad:g}, not a whole number; declare type: number")
        s = pd.Series(pd.array(np.where(np.isnan(x), 0, x).astype("int64"), dtype="Int64"),
                      index=index).mask(np.isnan(x))
    return s.rename(var.var)


def _declared(decl) -> tuple[Instrument, tuple[DerivedVariable, ...]]:
    if isinstance(decl, Instrument):
        return decl, compile_instrument(decl)
    inst = getattr(decl, "instrument", None)
    if isinstance(inst, Instrument):  # a Study: its compiled derived variables
        return inst, tuple(decl.derived)
    if (isinstance(decl, tuple) and len(decl) == 2 and isinstance(decl[0], Instrument)
            and all(isinstance(d, DerivedVariable) for d in decl[1])):
        return decl[0], tuple(decl[1])
    raise TypeError(f"derive() needs an Instrument or a Study, got {type(decl).__name__}")


def derive(frame: pd.DataFrame, decl, lang: str | None = None,
           variables: Sequence[str] | None = None) -> pd.DataFrame:
    """The derived variables declared by `decl` (an Instrument, a Study, or a pair
    (instrument, variables from `compile_entries`)), computed from a raw coded frame. Columns in declaration order, index of `frame`.

    Codes stay codes unless `lang` ("de"/"en") is given: then variables declaring codes become
    labelled categoricals (ordered when declared so). `variables` limits the result to these
    derived variables (computing only them and what they read).

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> dtypes = schemas.raw_dtypes(inst)
        >>> empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in dtypes.items()})
        >>> list(derive(empty, inst).columns)
        ['kbv_size_class', 'tech_index', 'n_applicable', 'tech_share', 'org_index', 'info_index', 'risk_gap', 'east_west']
    """
    inst, declared = _declared(decl)
    by_name = {d.var: d for d in declared}
    wanted = declared
    if variables is not None:
        unknown = [v for v in variables if v not in by_name]
        if unknown:
            raise DerivedError(f"{unknown[0]!r} is not a computed derived variable of "
                               f"{inst.name!r} ({', '.join(by_name) or 'none declared'})")
        needed, todo = set(), list(variables)
        while todo:
            v = todo.pop()
            if v not in needed:
                needed.add(v)
                todo.extend(i for i in by_name[v].inputs if i in by_name)
        declared = tuple(d for d in declared if d.var in needed)
        wanted = tuple(by_name[v] for v in variables)
    env = _Env(frame, inst, by_name)
    for var in _order(declared, "derive"):
        env.computed[var.var] = _finish(var, var.computation.run(env), frame.index)
    out = pd.DataFrame({d.var: env.computed[d.var] for d in wanted}, index=frame.index)
    if lang is not None:
        for d in wanted:
            if not d.codes:
                continue
            codes = list(d.codes)
            cat = pd.Categorical(out[d.var].astype(object), categories=codes, ordered=d.ordered)
            out[d.var] = cat.rename_categories([d.codes[c].get(lang) for c in codes])
    return out
