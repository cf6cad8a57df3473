"""The ``simulation:`` section of a study: a population and survey model declared, not coded.

A study may declare how to simulate a finite population that answers its instrument, how a sample
of it responds, and what the known truth is. ``surveydata.simulate`` executes the declaration
(its module ``engine`` documents every step kind); this module checks it on load, so a mistake is
a one-line StudyError naming file, key and fix.

Expressions (``lp:``, ``value:``, ``when:`` ...) are numeric formulas over the population's
columns, the declared parameters and earlier ``let`` variables, in Python's syntax for
arithmetic: ``+ - * / **``, comparisons, ``x in [1, 2]``, ``& | ~`` on conditions,
``param[var]`` (a list parameter indexed by a variable's codes 1..K), ``[0.0, 0.3][var]`` and
the functions in ``FUNCTIONS``. The text is parsed by Python's ``ast`` module into a syntax tree
that is checked node by node (only the constructs above; names must exist) and walked by the
engine; nothing is compiled or executed.

Example:
    >>> e = parse_formula("0.3 * log(size) + slope[kind]", "<doc>", "lp")
    >>> sorted(e.names)
    ['kind', 'size', 'slope']
    >>> parse_formula("__import__('os')", "<doc>", "lp")
    Traceback (most recent call last):
    ...
    schemas.simulation.SimulationError: <doc>: lp: unknown function '__import__'; functions: abs, exp, float, int, log, maximum, mean, minimum, n_equal, n_less, n_not_equal, n_ticked, negative_binomial, normal, notna, poisson, rint, sqrt, standardize, uniform, valid_if, where
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import StudyError

__all__ = ["FUNCTIONS", "Formula", "SimulationError", "SimulationSpec", "parse_formula", "parse_simulation"]

#: function name -> number of arguments (None: any); the engine defines what each does
FUNCTIONS = {
    "abs": 1, "exp": 1, "float": 1, "int": 1, "log": 1, "maximum": 2, "mean": 1, "minimum": 2,
    "n_equal": None, "n_less": None, "n_not_equal": None, "n_ticked": None, "negative_binomial": 2,
    "normal": 0, "notna": 1, "poisson": 1, "rint": 1, "sqrt": 1, "standardize": 1, "uniform": 0,
    "valid_if": 2, "where": 3,
}
#: functions whose first argument names a group or a multi-choice item (not a value): they count
#: over its items (or option columns) those equal / not equal / less than a value, or ticked
#: (n_ticked); further text arguments name options left out: n_equal(sources, 1, 'none')
GROUP_FUNCTIONS = ("n_equal", "n_less", "n_not_equal", "n_ticked")

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.BitAnd, ast.BitOr)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
STEP_KINDS = ("let", "value", "ordinal", "categorical", "binary", "sequential", "multi", "main_choice",
              "detected_event", "text", "prior")


class SimulationError(StudyError):
    """A simulation declaration is invalid (one line: file, key, problem and fix)."""


@dataclass(frozen=True)
class Formula:
    """A checked expression: its text, syntax tree and the names it reads."""

    text: str
    tree: ast.AST = field(repr=False)
    names: frozenset


def parse_formula(text, source: str, key: str) -> Formula:
    """Parse and check one expression (numbers are accepted as constant expressions)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise SimulationError(f"{source}: {key}: must be a formula or a number, got {type(text).__name__}")
    src = str(text)
    try:
        tree = ast.parse(src.strip(), mode="eval").body
    except SyntaxError as e:
        raise SimulationError(f"{source}: {key}: cannot read formula {src!r} ({e.msg} at column "
                              f"{e.offset}); write it like 0.3 * log_size + slope[type]") from None
    names: set = set()
    _check(tree, source, key, names)
    return Formula(src, tree, frozenset(names))


def _check(node, source, key, names, depth=0):
    def fail(problem):
        raise SimulationError(f"{source}: {key}: {problem}")

    if depth > 60:
        fail("formula nested too deeply; split it with let steps")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
            fail(f"constant {node.value!r} not allowed; use numbers or quoted codes")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            fail(f"name {node.id!r} not allowed (names begin with a letter)")
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        _check(node.left, source, key, names, depth + 1)
        _check(node.right, source, key, names, depth + 1)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
        _check(node.operand, source, key, names, depth + 1)
        return
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], _CMPOPS):
            fail("compare two things at a time (a < b), with == != < <= > >= in 'not in'")
        _check(node.left, source, key, names, depth + 1)
        right = node.comparators[0]
        if isinstance(node.ops[0], (ast.In, ast.NotIn)) and not (
                isinstance(right, ast.List) and all(isinstance(e, ast.Constant) for e in right.elts)):
            fail("'in' needs a list of codes, e.g. x in [1, 2]")
        _check(right, source, key, names, depth + 1)
        return
    if isinstance(node, ast.List):
        for e in node.elts:
            if not isinstance(e, ast.Constant) and not (isinstance(e, ast.UnaryOp) and isinstance(e.operand, ast.Constant)):
                fail("a list holds numbers or codes only")
        return
    if isinstance(node, ast.Subscript):
        if not isinstance(node.value, (ast.Name, ast.List)):
            fail("only a list parameter or a list of numbers can be indexed: slope[var]")
        _check(node.value, source, key, names, depth + 1)
        _check(node.slice, source, key, names, depth + 1)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            fail(f"unknown function {what!r}; functions: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            fail(f"{node.func.id}() takes no keyword arguments")
        fn, want = node.func.id, FUNCTIONS[node.func.id]
        if want is not None and len(node.args) != want:
            fail(f"{fn}() takes {want} argument(s), got {len(node.args)}")
        args = node.args
        if fn in GROUP_FUNCTIONS:
            if not args or not isinstance(args[0], ast.Name):
                fail(f"{fn}() needs a group or multi-choice item name first")
            names.add(args[0].id)
            args = args[1:]
        for a in args:
            _check(a, source, key, names, depth + 1)
        return
    fail(f"{type(node).__name__} not allowed in a formula; use arithmetic, comparisons and functions")


# --------------------------------------------------------------------------- the declaration


@dataclass(frozen=True)
class SimulationSpec:
    """A checked ``simulation:`` section. Formulas are `Formula` objects; everything else is the
    declaration's plain data (mappings read-only)."""

    source: str
    parameters: Mapping          # name -> default (number, text, or tuple by code 1..K)
    frame: Mapping
    groups: Mapping              # name -> tuple of item names
    steps: tuple
    latent: tuple
    response: Mapping | None
    truth: Mapping | None


class _Checker:
    def __init__(self, source: str, inst, study_strata):
        self.source = source
        self.inst = inst
        self.strata = study_strata

    def fail(self, key, problem):
        raise SimulationError(f"{self.source}: {key}: {problem}")

    def mapping(self, key, value, allowed, required=()):
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a mapping (key: value), got {type(value).__name__}")
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), list(allowed), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.fail(f"{key}.{k}", f"unknown key; {hint}")
        for k in required:
            if value.get(k) is None:
                self.fail(f"{key}.{k}", "is required")
        return value

    def item(self, key, var, types=None):
        try:
            item = self.inst.item(var)
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(var), [i.var for i in self.inst.items], n=1)
            hint = f"did you mean {close[0]!r}?" if close else "name an item of the instrument"
            self.fail(key, f"{var!r} is not an item of instrument {self.inst.name!r}; {hint}")
        if types and item.type not in types:
            self.fail(key, f"item {var!r} is of type {item.type}; this step needs {' or '.join(types)}")
        return item

    def formula(self, key, text, known):
        f = parse_formula(text, self.source, key)
        for name in sorted(f.names):
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                hint = f"did you mean {close[0]!r}?" if close else \
                    "define it in an earlier step, as a parameter or a group"
                self.fail(key, f"unknown name {name!r} in {f.text!r}; {hint}")
        return f


def _number_or_list(checker, key, value):
    if isinstance(value, bool):
        checker.fail(key, "must be a number, a text or a list of numbers")
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return tuple(value)
    checker.fail(key, f"must be a number, a text or a list of numbers (one per code 1..K), got {value!r}")


def parse_simulation(data, source: str, inst, strata=()) -> SimulationSpec:
    """Check a ``simulation:`` section against the instrument `inst` (see surveydata.simulate.engine)."""
    c = _Checker(source, inst, strata)
    top = c.mapping("simulation", data, ("parameters", "frame", "groups", "steps", "latent", "response", "truth"),
                    required=("parameters", "frame", "steps"))
    params = {}
    for k, v in c.mapping("simulation.parameters", top["parameters"], _AnyName()).items():
        params[str(k)] = _number_or_list(c, f"simulation.parameters.{k}", v)
    frame = c.mapping("simulation.frame", top["frame"], ("cells", "variables", "id", "reassign"),
                      required=("cells", "variables", "id"))
    known = dict.fromkeys(params, "parameter")
    margin_vars = list(_names(c, "simulation.frame.variables", frame["variables"], allow_empty=False))
    if not isinstance(frame["cells"], str) or not isinstance(frame["id"], str):
        c.fail("simulation.frame", "cells: must name a population margin and id: the id column")
    for i, var in enumerate(margin_vars):
        c.item(f"simulation.frame.variables[{i}]", var)
    groups = {}
    for g, members in c.mapping("simulation.groups", top.get("groups") or {}, _AnyName()).items():
        if not isinstance(members, list) or not members:
            c.fail(f"simulation.groups.{g}", "must be a list of item names")
        for i, m in enumerate(members):
            c.item(f"simulation.groups.{g}[{i}]", m)
        groups[str(g)] = tuple(members)
        known[str(g)] = "group"
    for var in margin_vars:   # the cells' margin is indexed by these items, in this order
        known[var] = "frame"
    if frame.get("reassign") is not None:
        ra = c.mapping("simulation.frame.reassign", frame["reassign"], ("var", "from", "to", "share"),
                       required=("var", "from", "to", "share"))
        c.formula("simulation.frame.reassign.share", ra["share"], known)
    steps = []
    raw_steps = top["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        c.fail("simulation.steps", "must be a list of steps")
    produced = set()
    for i, step in enumerate(raw_steps):
        steps.append(_step(c, f"simulation.steps[{i}]", step, known, groups, produced))
    latent = _names(c, "simulation.latent", top.get("latent"))
    for i, v in enumerate(latent):
        if v not in known:
            c.fail(f"simulation.latent[{i}]", f"{v!r} is not made by any step; name a let variable")
    missing = [col for col in inst.columns if col not in known and col not in {m.var for m in inst.metadata}]
    if missing:
        c.fail("simulation.steps", f"no step draws the instrument column(s) {', '.join(missing[:5])}; "
                                   "add a step for each item")
    response = _response(c, top.get("response"), known) if top.get("response") is not None else None
    truth = _truth(c, top.get("truth"), known, latent) if top.get("truth") is not None else None
    return SimulationSpec(source=source, parameters=MappingProxyType(params), frame=_freeze(frame),
                          groups=MappingProxyType(groups), steps=tuple(steps), latent=latent,
                          response=response, truth=truth)


class _AnyCode:
    def __contains__(self, key) -> bool:
        return isinstance(key, (int, str)) and not isinstance(key, bool)

    def __iter__(self):
        return iter(("<answer code>",))


class _AnyName:
    def __contains__(self, key) -> bool:
        return isinstance(key, str) and key[:1].isalpha()

    def __iter__(self):
        return iter(("<name>",))


_STEP_KEYS = {
    "let": ("let", "value", "cases", "at_most"),
    "value": ("item", "value", "cases", "at_most"),
    "ordinal": ("kind", "item", "items", "lp", "order", "dont_know"),
    "categorical": ("kind", "item", "lp", "dont_know", "fixed"),
    "binary": ("kind", "item", "yes_code", "no_code", "lp", "fixed", "dont_know", "max_share"),
    "sequential": ("kind", "item", "splits", "dont_know"),
    "multi": ("kind", "item", "lp"),
    "main_choice": ("kind", "item", "from", "options"),
    "detected_event": ("kind", "item", "yes_code", "no_code", "lp", "detection", "dont_know", "columns", "levels"),
    "text": ("kind", "item", "share", "texts"),
    "prior": ("kind", "item"),
}


def _step(c: _Checker, key, step, known, groups, produced):
    if not isinstance(step, Mapping):
        c.fail(key, "must be a mapping (kind: ..., item: ...)")
    kind = "let" if "let" in step else step.get("kind", "value" if "value" in step else None)
    if not isinstance(kind, str) or kind not in _STEP_KEYS:
        c.fail(f"{key}.kind", f"unknown step kind {kind!r}; kinds: {', '.join(STEP_KINDS)}")
    c.mapping(key, step, _STEP_KEYS[kind])
    out = {"kind": kind}
    f = lambda k, text: c.formula(f"{key}.{k}", text, known)
    if kind in ("let", "value"):
        name = step["let"] if kind == "let" else step.get("item")
        if kind == "value":
            c.item(f"{key}.item", name)
        elif not isinstance(name, str) or not name[:1].isalpha():
            c.fail(f"{key}.let", "must be a name")
        if step.get("value") is None:
            c.fail(f"{key}.value", "is required")
        at_most = step.get("at_most")
        if at_most is not None and (isinstance(at_most, bool) or not isinstance(at_most, (int, float))):
            c.fail(f"{key}.at_most", f"must be a number, got {at_most!r}")
        out.update(name=name, value=f("value", step["value"]), at_most=at_most)
        cases = []
        if not isinstance(step.get("cases") or [], list):
            c.fail(f"{key}.cases", "must be a list of {when: condition, value: formula}")
        for j, case in enumerate(step.get("cases") or ()):
            c.mapping(f"{key}.cases[{j}]", case, ("when", "value"), required=("when", "value"))
            cases.append((f(f"cases[{j}].when", case["when"]), f(f"cases[{j}].value", case["value"])))
        out["cases"] = tuple(cases)
        known[name] = kind
        produced.add(name)
        return MappingProxyType(out)
    items = step.get("items")
    if kind == "ordinal" and items is not None:
        names = groups.get(items) if isinstance(items, str) else items
        if not names or not isinstance(names, (list, tuple)) or not all(isinstance(v, str) for v in names):
            c.fail(f"{key}.items", "must be a group name or a list of items")
        out["items"] = tuple(names)
    elif step.get("item") is None:
        c.fail(f"{key}.item", "is required")
    else:
        out["items"] = (step["item"],)
    types = {"multi": ("multi",), "text": ("text",), "prior": None}.get(kind, ("single", "likert5", "scale"))
    for j, var in enumerate(out["items"]):
        c.item(f"{key}.item", var, types)
        if c.inst.item(var).prior is None and kind not in ("text", "main_choice", "prior"):
            c.fail(f"{key}.item", f"item {var!r} has no prior; the simulation takes its shares from the prior")
    item = c.inst.item(out["items"][0])
    if kind in ("ordinal", "categorical", "binary", "sequential", "detected_event") and step.get("dont_know") is not None:
        dk = step["dont_know"]
        out["dont_know"] = dk if dk in ("uniform_first", "uniform_last") else f("dont_know", dk)
    if kind == "ordinal":
        out["lp"] = f("lp", step.get("lp", 0))
        order = step.get("order", "high_first")
        if order not in ("high_first", "low_first"):
            c.fail(f"{key}.order", "must be high_first (the first code is the highest latent) or low_first")
        out["high_first"] = order == "high_first"
    elif kind == "categorical":
        lp = c.mapping(f"{key}.lp", step.get("lp") or {}, _AnyCode())
        codes = [k for k in item.prior if not (isinstance(k, int) and k < 0)]
        for code in lp:
            if code not in codes:
                c.fail(f"{key}.lp.{code}", f"not an answer code of {item.var} with a prior ({codes})")
        out["lp"] = tuple((code, f(f"lp.{code}", text)) for code, text in lp.items())
        out["fixed"] = _fixed(c, f"{key}.fixed", step.get("fixed"), f)
    elif kind == "binary":
        for k in ("yes_code", "no_code"):   # not yes:/no: which YAML 1.1 reads as true/false
            if not isinstance(step.get(k), (int, str)) or step.get(k) not in item.prior:
                c.fail(f"{key}.{k}", f"must be an answer code of {item.var} with a prior")
        out.update(yes=step["yes_code"], no=step["no_code"], lp=f("lp", step.get("lp", 0)),
                   fixed=_fixed(c, f"{key}.fixed", step.get("fixed"), f), max_share=step.get("max_share"))
    elif kind == "sequential":
        splits = step.get("splits")
        if not isinstance(splits, list) or not splits:
            c.fail(f"{key}.splits", "must be a list of {codes: [codes on the yes side], lp: formula}")
        for j, sp in enumerate(splits):
            c.mapping(f"{key}.splits[{j}]", sp, ("codes", "lp"), required=("codes",))
        out["splits"] = tuple((_codes(c, f"{key}.splits[{j}].codes", sp["codes"]), f(f"splits[{j}].lp", sp.get("lp", 0))) for j, sp in enumerate(splits))
    elif kind == "multi":
        lp = c.mapping(f"{key}.lp", step.get("lp") or {}, _AnyCode())
        opts = [o.code for o in item.options] + ["*"]
        for o in lp:
            if o not in opts:
                c.fail(f"{key}.lp.{o}", f"not an option of {item.var} (options: {', '.join(map(str, opts))})")
        out["lp"] = tuple((o, f(f"lp.{o}", text)) for o, text in lp.items())
        for o in item.options:
            known[f"{item.var}__{o.code}"] = "column"
    elif kind == "main_choice":
        src = c.item(f"{key}.from", step.get("from"), ("multi",))
        opts = {o.code for o in src.options}
        options = c.mapping(f"{key}.options", step.get("options") or {}, list(item.prior))
        for code, members in options.items():
            if not isinstance(members, list) or not members:
                c.fail(f"{key}.options.{code}", "must be a list of options of the multi-choice item")
            for o in members:
                if not isinstance(o, str) or o not in opts:
                    c.fail(f"{key}.options.{code}", f"{o!r} is not an option of {src.var}")
        out.update(source=src.var, options=MappingProxyType({k: tuple(v) for k, v in options.items()}))
    elif kind == "detected_event":
        det = c.mapping(f"{key}.detection", step.get("detection"), ("rate", "lp"), required=("rate",))
        cols = c.mapping(f"{key}.columns", step.get("columns"), ("event", "detected", "probability"),
                         required=("event", "detected", "probability"))
        levels = c.mapping(f"{key}.levels", step.get("levels"), ("event", "detection", "dont_know"),
                           required=("event", "detection", "dont_know"))
        for part, names in (("columns", cols), ("levels", levels)):
            for k, v in names.items():
                if not isinstance(v, str) or not v[:1].isalpha():
                    c.fail(f"{key}.{part}.{k}", f"must be a name, got {v!r}")
        out.update(yes=step.get("yes_code", 1), no=step.get("no_code", 2), lp=f("lp", step.get("lp", 0)),
                   rate=f("detection.rate", det["rate"]), detection_lp=f("detection.lp", det.get("lp", 0)),
                   columns=MappingProxyType(dict(cols)), levels=MappingProxyType(dict(levels)))
        for v in cols.values():
            known[v] = "latent"
    elif kind == "text":
        texts = step.get("texts")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            c.fail(f"{key}.texts", "must be a list of texts")
        out.update(share=f("share", step.get("share", 0)), texts=tuple(texts))
    elif kind == "prior" and item.type == "multi":
        for o in item.options:
            known[f"{item.var}__{o.code}"] = "column"
    for var in out["items"]:
        known[var] = "item"
        produced.add(var)
    return MappingProxyType(out)


def _names(c, key, value, allow_empty=True) -> tuple:
    """A list of names (texts beginning with a letter)."""
    if value is None and allow_empty:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v[:1].isalpha() for v in value) \
            or (not value and not allow_empty):
        c.fail(key, f"must be a list of names, got {value!r}")
    return tuple(value)


def _codes(c, key, value) -> tuple:
    """A non-empty list of answer codes (numbers or texts)."""
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, str)) and not isinstance(v, bool) for v in value):
        c.fail(key, f"must be a list of answer codes, got {value!r}")
    return tuple(value)


def _number(c, key, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        c.fail(key, f"must be a number, got {value!r}")
    return float(value)


def _fixed(c, key, value, f):
    if value is None:
        return None
    c.mapping(key, value, ("when", "code"), required=("when", "code"))
    return (f("fixed.when", value["when"]), value["code"])


def _response(c: _Checker, value, known):
    r = c.mapping("simulation.response", value, ("parameters", "ignorable", "propensity", "item_nonresponse"),
                  required=("parameters", "propensity"))
    rparams = {str(k): _number_or_list(c, f"simulation.response.parameters.{k}", v)
               for k, v in c.mapping("simulation.response.parameters", r["parameters"], _AnyName()).items()}
    ign = dict(c.mapping("simulation.response.ignorable", r.get("ignorable") or {}, list(rparams)))
    names = {**known, **dict.fromkeys(rparams, "parameter")}
    for col in c.inst.columns:
        names.setdefault(col, "column")
    out = {"parameters": MappingProxyType(rparams),
           "ignorable": MappingProxyType({k: _number_or_list(c, f"simulation.response.ignorable.{k}", v)
                                          for k, v in ign.items()}),
           "propensity": c.formula("simulation.response.propensity", r["propensity"], names)}
    inr = r.get("item_nonresponse")
    if inr is not None:
        inr = c.mapping("simulation.response.item_nonresponse", inr,
                        ("rate", "lp", "sensitive", "sensitive_factor", "unanswered_when"), required=("rate",))
        for j, v in enumerate(_names(c, "simulation.response.item_nonresponse.sensitive", inr.get("sensitive"))):
            c.item(f"simulation.response.item_nonresponse.sensitive[{j}]", v)
        unanswered = {}
        for v, cond in c.mapping("simulation.response.item_nonresponse.unanswered_when",
                                 inr.get("unanswered_when") or {}, _AnyName()).items():
            c.item(f"simulation.response.item_nonresponse.unanswered_when.{v}", v)
            unanswered[v] = c.formula(f"simulation.response.item_nonresponse.unanswered_when.{v}", cond, names)
        out["item_nonresponse"] = MappingProxyType({
            "rate": c.formula("simulation.response.item_nonresponse.rate", inr["rate"], names),
            "lp": c.formula("simulation.response.item_nonresponse.lp", inr.get("lp", 0), names),
            "sensitive": tuple(inr.get("sensitive") or ()),
            "sensitive_factor": _number(c, "simulation.response.item_nonresponse.sensitive_factor",
                                        inr.get("sensitive_factor", 1.0)),
            "unanswered_when": MappingProxyType(unanswered)})
    return MappingProxyType(out)


def _truth(c: _Checker, value, known, latent):
    """The truth: analysis variables, key values (overall and by domain), census models, the
    sample's comparison values and texts (see surveydata.simulate.truth)."""
    key = "simulation.truth"
    t = c.mapping(key, value, ("derived", "variables", "integer", "key_values", "domains", "models", "sample", "texts"))
    names = {col: "column" for col in c.inst.columns}
    names.update({i.var: "item" for i in c.inst.items})
    names.update({g: "group" for g, kind in known.items() if kind == "group"})
    names.update(dict.fromkeys(latent, "latent"))
    derived = _names(c, f"{key}.derived", t.get("derived"))
    for i, var in enumerate(derived):
        try:
            c.inst.derived_variable(var)
        except (KeyError, TypeError):
            c.fail(f"{key}.derived[{i}]", f"{var!r} is not a derived variable of instrument {c.inst.name!r}")
        names[var] = "derived"
    variables = {}
    for var, text in c.mapping(f"{key}.variables", t.get("variables") or {}, _AnyName()).items():
        variables[var] = c.formula(f"{key}.variables.{var}", text, names)
    names.update(dict.fromkeys(variables, "variable"))
    out = {"derived": derived, "variables": MappingProxyType(variables),
           "key_values": _values(c, f"{key}.key_values", t.get("key_values") or {}, names),
           "domains": _names(c, f"{key}.domains", t.get("domains")),
           "integer": _names(c, f"{key}.integer", t.get("integer"))}
    for part in ("domains", "integer"):
        for i, var in enumerate(out[part]):
            if var not in names:
                c.fail(f"{key}.{part}[{i}]", f"{var!r} is neither an item nor a derived or truth variable")
    models = {}
    for name, m in c.mapping(f"{key}.models", t.get("models") or {}, _AnyName()).items():
        at = f"{key}.models.{name}"
        c.mapping(at, m, ("formula", "family", "offset", "subset", "fit", "rows"),
                  required=("formula", "family", "fit", "rows"))
        if m["fit"] not in ("binomial", "poisson", "polr"):
            c.fail(f"{at}.fit", "must be binomial, poisson or polr")
        models[name] = MappingProxyType({
            "stored": MappingProxyType({k: m[k] for k in ("formula", "family", "offset", "subset") if k in m}),
            "fit": m["fit"], "rows": c.formula(f"{at}.rows", m["rows"], names),
            "offset": c.formula(f"{at}.offset", m["offset"], names) if m.get("offset") else None})
    out["models"] = MappingProxyType(models)
    sample = c.mapping(f"{key}.sample", t.get("sample") or {}, ("values", "bias_direction"))
    out["sample"] = MappingProxyType({
        "values": _values(c, f"{key}.sample.values", sample.get("values") or {}, names),
        "bias_direction": _freeze(dict(c.mapping(f"{key}.sample.bias_direction", sample.get("bias_direction") or {},
                                                 _AnyName())))})
    out["texts"] = _freeze(dict(c.mapping(f"{key}.texts", t.get("texts") or {},
                                          ("about", "title", "units", "strata", "nonresponse"))))
    return MappingProxyType(out)


def _values(c: _Checker, key, value, names):
    """Named quantities: {count: rows} | {mean: formula} | {ratio: [formula, formula]} |
    {share: item or group, code: c} (among the rows asked the item), optionally optional: true."""
    out = {}
    for name, v in c.mapping(key, value, _AnyName()).items():
        at = f"{key}.{name}"
        c.mapping(at, v, ("count", "mean", "ratio", "share", "code", "optional"))
        q = {"optional": bool(v.get("optional", False))}
        if "count" in v:
            q["kind"] = "count"
        elif "mean" in v:
            q.update(kind="mean", formula=c.formula(f"{at}.mean", v["mean"], names))
        elif "ratio" in v:
            if not isinstance(v["ratio"], list) or len(v["ratio"]) != 2:
                c.fail(f"{at}.ratio", "must be [numerator formula, denominator formula]")
            q.update(kind="ratio", formula=tuple(c.formula(f"{at}.ratio[{j}]", x, names)
                                                 for j, x in enumerate(v["ratio"])))
        elif "share" in v:
            if not isinstance(v["share"], str) or v["share"] not in names or "code" not in v:
                c.fail(at, "share: needs an item or group and code: the answer code counted")
            q.update(kind="share", var=v["share"], code=v["code"])
        else:
            c.fail(at, "say count: rows, mean: formula, ratio: [formula, formula] or share: item with code:")
        out[name] = MappingProxyType(q)
    return MappingProxyType(out)


def _freeze(value):
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
