"""The generic simulation engine: runs a study's declared ``simulation:`` section.

A study declares (YAML, beside the rest of the study; checked by ``schemas.simulation``)::

    simulation:
      parameters:                 # the generating model's effect sizes, overridable from Python
        margins: my_margins       #   (simulate_population(seed, params=...)); a list is one value
        slope_size: 0.3           #   per code 1..K of the variable it is indexed by: slope[type]
        slope_type: [0.0, 0.2, -0.1]
      frame:                      # the population: one row per unit of a population margin's cells
        cells: type_x_region      #   a margin of the population (counts of every cell)
        variables: [type, region] #   the items the cells are indexed by, in the margin's order
        id: unit_id               #   the id column (1..N)
        reassign: {var: form, from: 1, to: 4, share: share_form4}   # optional: a share moved
      groups: {measures: [m1, m2, m3]}   # named item lists for n_equal(), ordinal items: ...
      steps:                      # in causal order; each makes columns later steps may use
        - {let: size, value: "log(n_staff / 6.0)"}                  # a helper (latent) variable
        - {item: n_staff, value: "int(rint(exp(1.5 + 0.5 * normal())))", at_most: 500}
        - {let: u, value: "uniform()"}
        - item: n_sites           # a value with cases: each case on its rows, the rest `value`
          value: 1
          cases: [{when: "form == 2", value: "2 + poisson(0.3)"}]
        - {kind: ordinal, item: q1, lp: "0.5 * size", order: high_first, dont_know: "-0.8 * skill"}
        - {kind: categorical, item: q2, lp: {3: "0.8 * size"}}      # log-odds of code 3 vs the rest
        - {kind: binary, item: q3, yes_code: 1, no_code: 2, lp: "0.3 * size",
           fixed: {when: "type == 3", code: 2}, dont_know: uniform_first, max_share: 0.98}
        - kind: sequential        # continuation logits: codes [1, 2] vs 3, then 2 vs 1
          item: q4
          splits: [{codes: [1, 2], lp: "1.3 * aware"}, {codes: [2], lp: "1.2 * external"}]
        - {kind: multi, item: q5, lp: {"*": "0.6 * aware", none: "-1.5 * aware"}}
        - {kind: main_choice, item: q6, from: q5, options: {1: [a], 2: [b, c]}}
        - kind: detected_event    # a true event, reported only if detected
          item: q7                # yes_code: 1, no_code: 2 by default
          lp: "-0.5 * trained + 0.35 * size"
          detection: {rate: 0.75, lp: "0.8 * aware"}
          dont_know: "dk_lp"
          columns: {event: event_true, detected: event_detected, probability: p_detect}
          levels: {event: event_true, detection: event_detection, dont_know: event_dont_know}
        - {kind: text, item: comments, share: 0.05, texts: ["...", "..."]}
        - {kind: prior, item: q8}   # from the item's prior alone
      latent: [aware, event_true] # latent columns kept after the answers (never exported)
      response:                   # unit and item nonresponse of draw_sample (see sample.py)
        parameters: {r_aware: 0.5, item_nonresponse: 0.015}   # NonresponseModel(...) overrides
        ignorable: {r_aware: 0.0, item_nonresponse: 0.0}      # NonresponseModel.ignorable()
        propensity: "r_aware * aware + 0.2 * (type == 1)"      # logit; level solved to the rate
        item_nonresponse: {rate: item_nonresponse, lp: "0.3 * (3 - q1)", sensitive: [q7],
                           sensitive_factor: 2.0, unanswered_when: {q6: "q5__none == -9"}}
      truth:                      # the known truth (see truth.py)
        derived: [index1]         #   the instrument's derived variables (schemas.derive)
        variables: {event01: "valid_if(where(q7 == 1, 1.0, 0.0), q7 in [1, 2])"}
        key_values: {q7_yes: {share: q7, code: 1}, n: {count: rows}, idx: {mean: index1}}
        domains: [type]
        integer: [index1]
        models: {m1: {formula: "event01 ~ index1 + C(type)", family: binomial, fit: binomial,
                      subset: "q7 answered", rows: "notna(event01)"}}
        sample: {values: {q7_yes: {share: q7, code: 1}}, bias_direction: {q7_yes: up}}
        texts: {about: .., title: .., units: .., strata: .., nonresponse: ..}   # truth.json, README

Levels come from the instrument's priors: every intercept and ordinal threshold is solved so the
population share of each answer code equals the item's prior (``_draw``); a formula states only
slopes. Mechanisms:

- ``ordinal``: cumulative logit on ``lp`` (``high_first``: the first code is the highest latent);
  "don't know" (and every other missing code of the prior) is drawn first among the asked rows,
  logit ``dont_know`` with its level solved to the prior's share; ``items:`` draws several items
  (a group name or a list) on one ``lp``.
- ``categorical``: multinomial logit, ``lp`` per code (unlisted codes 0). With ``fixed``, rows
  meeting ``when`` answer ``code`` and the other rows' shares are set so the overall shares are the
  prior; missing codes are then drawn at random over all rows.
- ``binary``: a yes/no item (``yes_code``, ``no_code``; not yes:/no:, which YAML 1.1 reads as
  true/false), logit ``lp`` with its level solved so the share of ``yes_code`` among the asked
  rows is the prior. ``fixed`` rows answer ``code`` (and count towards the share); ``dont_know``:
  ``uniform_first`` (at random, before) or a logit among the non-fixed rows.
- ``sequential``: a chain of binary splits, each among the rows in the previous split's ``codes``.
- ``multi``: every option ticked with its prior share, slopes ``lp`` per option (``"*"``: every
  option not listed), an exclusive option alone (see `Builder.multi`).
- ``main_choice``: a single item naming one of the options ticked in ``from`` (``options`` maps
  each code to the options it stands for), shares solved to the prior.
- ``detected_event``: a true event (logit ``lp``) reported as ``yes`` only if detected
  (logit ``detection.lp`` with mean probability ``detection.rate``); the event's level is solved
  so the reported ``yes`` share is the prior.
- ``text``: a share of rows answer one of ``texts`` at random.
- ``prior``: the item drawn from its prior alone, as ``generic.simulate_responses`` draws any
  instrument (numbers, dates, free text, single and multi-choice; skip logic obeyed): for
  items with no part in the causal model.

Formulas (see ``schemas.simulation``) are walked node by node over numpy arrays in the order
Python evaluates them (left to right, the same operations), so random draws inside a formula
(``normal()``, ``uniform()``, ``poisson(mu)``, ``negative_binomial(k, p)``; size = the rows the
formula is evaluated on) happen in declaration order and a declared model reproduces coded
arithmetic bit for bit.

>>> import schemas
>>> spec = schemas.load_study().simulation
>>> list(parameters_class(spec)().to_dict()) == list(spec.parameters)
True
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, field, make_dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from schemas.simulation import SimulationError, parse_formula

from . import generic
from ._draw import draw_binary, draw_categorical, draw_ordinal, solve_intercept, standardize

# --------------------------------------------------------------------------- parameters


def _to_dict(self) -> dict:
    """Plain dict (tuples as lists) for JSON."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def parameters_class(spec, name: str = "TrueModel"):
    """A frozen dataclass whose fields are the declared parameters (defaults as declared)."""
    return _dataclass(name, spec.parameters, "Effect sizes of the declared generating model.")


def response_class(spec, name: str = "NonresponseModel"):
    """A frozen dataclass of the declared response parameters, with ``ignorable()``."""
    r = spec.response
    cls = _dataclass(name, r["parameters"], "Response propensity slopes and item nonresponse rates.")
    ignorable = dict(r["ignorable"])

    def _ignorable(klass):
        """Response at random within strata and no item nonresponse (the declared ``ignorable``)."""
        return klass(**ignorable)

    cls.ignorable = classmethod(_ignorable)
    return cls


def _dataclass(name, defaults, doc):
    fields = [(k, type(v), field(default=v)) for k, v in defaults.items()]
    cls = make_dataclass(name, fields, frozen=True, namespace={"to_dict": _to_dict})
    cls.__doc__ = doc
    cls.__module__ = "surveydata.simulate"
    return cls


# --------------------------------------------------------------------------- formulas


class Evaluator:
    """Evaluates checked formulas over `values` (name -> array or scalar), on all rows or `rows`."""

    def __init__(self, values: dict, rng: np.random.Generator | None, n: int, groups=None, inst=None):
        self.values, self.rng, self.n = values, rng, n
        self.groups = groups or {}
        self.inst = inst

    def __call__(self, formula, rows=None, full=False):
        """The value of `formula`; `full`: a scalar result is broadcast to the rows."""
        size = self.n if rows is None else (int(rows.sum()) if rows.dtype == bool else len(rows))
        out = self._eval(formula.tree, rows, size)
        if full and np.ndim(out) == 0:
            out = np.full(size, out)
        return out

    def lookup(self, name, rows):
        v = self.values[name]
        if rows is not None and isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == self.n:
            return v[rows]
        return v

    def _columns(self, name, skip_args, rows, size):
        """The columns of a group (its items) or of a multi-choice item (its options but `skip_args`)."""
        if name in self.groups:
            return list(self.groups[name])
        skip = {self._eval(a, rows, size) for a in skip_args}
        return [f"{name}__{o.code}" for o in self.inst.item(name).options if o.code not in skip]

    def _eval(self, node, rows, size):
        ev = lambda x: self._eval(x, rows, size)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id, rows)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                return a / b
            if isinstance(op, ast.Pow):
                return a ** b
            if isinstance(op, ast.BitAnd):
                return a & b
            return a | b
        if isinstance(node, ast.UnaryOp):
            a = ev(node.operand)
            if isinstance(node.op, ast.USub):
                return -a
            if isinstance(node.op, ast.Invert):
                return ~a
            return +a
        if isinstance(node, ast.Compare):
            a = ev(node.left)
            op, right = node.ops[0], node.comparators[0]
            if isinstance(op, (ast.In, ast.NotIn)):
                hit = np.isin(a, [ev(e) for e in right.elts])
                return hit if isinstance(op, ast.In) else ~hit
            b = ev(right)
            return {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
                    ast.Gt: np.greater, ast.GtE: np.greater_equal}[type(op)](a, b)
        if isinstance(node, ast.List):
            return [ev(e) for e in node.elts]
        if isinstance(node, ast.Subscript):
            table = np.array(ev(node.value))
            return table[np.asarray(ev(node.slice)) - 1]       # codes 1..K -> elements 0..K-1
        if isinstance(node, ast.Call):
            return self._call(node.func.id, node.args, rows, size)
        raise TypeError(f"unexpected formula node {type(node).__name__}")   # checked on load

    def _call(self, fn, args, rows, size):
        ev = lambda x: self._eval(x, rows, size)
        rng = self.rng
        if fn == "normal":
            return rng.standard_normal(size)
        if fn == "uniform":
            return rng.random(size)
        if fn == "poisson":
            mu = ev(args[0])
            return rng.poisson(mu) if np.ndim(mu) else rng.poisson(mu, size)
        if fn == "negative_binomial":
            return rng.negative_binomial(ev(args[0]), ev(args[1]), size)
        if fn in ("n_equal", "n_not_equal", "n_less"):
            m = np.column_stack([self.lookup(c, rows) for c in self._columns(args[0].id, args[2:], rows, size)])
            code = ev(args[1])
            return {"n_equal": m == code, "n_not_equal": m != code, "n_less": m < code}[fn].sum(axis=1)
        if fn == "n_ticked":
            total = 0
            for c in self._columns(args[0].id, args[1:], rows, size):
                total = total + np.maximum(self.lookup(c, rows), 0)
            return total
        if fn == "valid_if":     # pandas' Series.where: values where the condition holds, else NaN
            return pd.Series(ev(args[0])).where(np.asarray(ev(args[1]), dtype=bool)).to_numpy()
        if fn == "notna":
            return pd.notna(ev(args[0]))
        x = [ev(a) for a in args]
        if fn == "where":
            return np.where(x[0], x[1], x[2])
        if fn == "float":
            return np.asarray(x[0]).astype(float)
        if fn == "int":
            return np.asarray(x[0]).astype(np.int64)
        if fn == "mean":
            return x[0].mean()
        if fn == "standardize":
            return standardize(x[0])
        if fn == "minimum":
            return np.minimum(x[0], x[1])
        if fn == "maximum":
            return np.maximum(x[0], x[1])
        return {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs, "rint": np.rint}[fn](x[0])


# --------------------------------------------------------------------------- item mechanisms


@dataclass
class Builder:
    """Holds the columns drawn so far and draws instrument items from their priors and ask_if."""

    inst: object
    rng: np.random.Generator
    n: int
    col: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)

    def __post_init__(self):
        self.na, self.dk = self.inst.not_applicable, self.inst.dont_know   # e.g. -7 and -8

    def frame(self, names) -> pd.DataFrame:
        return pd.DataFrame({c: self.col[c] for c in names})

    def asked(self, var: str) -> np.ndarray:
        cond = self.inst.item(var).ask_if
        if cond is None:
            return np.ones(self.n, dtype=bool)
        return cond.evaluate(self.frame(cond.variables)).to_numpy()

    def prior(self, var: str):
        """(substantive codes, their shares renormalised, {missing code: share}) from the prior."""
        item = self.inst.item(var)
        prior = item.prior
        missing = {c for c in item.missing if isinstance(c, int)}
        subs = [c for c in prior if c not in missing]
        miss = {c: prior[c] / 100.0 for c in prior if c in missing}
        w = np.array([prior[c] for c in subs], dtype=float)
        return subs, w / w.sum(), miss

    def _missing(self, var, mask, competence_lp):
        """Draw 'don't know' (and a labelled -9) among the asked rows; returns the codes or 0."""
        out = np.zeros(self.n, dtype=np.int64)
        _, _, miss = self.prior(var)
        free = mask.copy()
        for code, share in miss.items():
            lp = competence_lp[free] if code == self.dk else np.zeros(free.sum())
            hit, c = draw_binary(self.rng, lp, share * mask.sum() / free.sum())
            self.levels[f"{var}:{code}"] = c
            rows = np.flatnonzero(free)[hit]
            out[rows] = code
            free[rows] = False
        return out, free

    def ordinal(self, var, lp, high_first=True, competence_lp=None, mask=None):
        """Ordered item: codes ordered by the latent (`high_first`: the first code is the highest)."""
        mask = self.asked(var) if mask is None else mask
        competence_lp = np.zeros(self.n) if competence_lp is None else competence_lp
        out, free = self._missing(var, mask, competence_lp)
        subs, w, _ = self.prior(var)
        order = list(range(len(subs)))[::-1] if high_first else list(range(len(subs)))
        codes, theta = draw_ordinal(self.rng, np.asarray(lp, float)[free], [subs[i] for i in order], w[order])
        self.levels[var] = theta.tolist()
        out[free] = codes
        out[~mask] = self.na
        self.col[var] = out
        return out

    def categorical(self, var, lp=None, competence_lp=None):
        mask = self.asked(var)
        competence_lp = np.zeros(self.n) if competence_lp is None else competence_lp
        out, free = self._missing(var, mask, competence_lp)
        subs, w, _ = self.prior(var)
        lp = np.zeros((self.n, len(subs))) if lp is None else lp
        if isinstance(subs[0], str):
            out = out.astype(object)
        codes, alpha = draw_categorical(self.rng, lp[free], subs, w)
        self.levels[var] = alpha.tolist()
        out[free] = codes
        out[~mask] = self.na
        self.col[var] = out
        return out

    def categorical_fixed(self, var, fixed, code, lp=None):
        """Rows where `fixed` answer `code`; the others' shares are set so the overall shares are
        the prior; missing codes then at random over all rows."""
        mask = self.asked(var)
        subs, w, miss = self.prior(var)
        target = w * (1 - sum(miss.values()))
        out = np.full(self.n, code, dtype=np.int64)
        t_rest = (target * self.n - np.where(np.array(subs) == code, fixed.sum(), 0)) / (~fixed).sum()
        lp = np.zeros(((~fixed).sum(), len(subs))) if lp is None else lp[~fixed]
        out[~fixed], _ = draw_categorical(self.rng, lp, subs, t_rest / t_rest.sum())
        for mcode, share in miss.items():
            out[self.rng.random(self.n) < share] = mcode
        out[~mask] = self.na
        self.col[var] = out
        return out

    def binary(self, var, yes, no, lp, fixed=None, fixed_code=None, dont_know=None, max_share=None):
        """A yes/no item; the level is solved so the share of `yes` among the asked rows is the prior."""
        subs, w, miss = self.prior(var)
        asked = self.asked(var)
        n_asked = int(asked.sum())
        fixed = np.zeros(self.n, dtype=bool) if fixed is None else fixed & asked
        m_dk = miss.get(self.dk, 0.0)
        if isinstance(dont_know, str) or dont_know is None:      # at random, first
            dk = (self.rng.random(self.n) < m_dk) & asked
            sel = asked & ~fixed & ~dk
        else:                                                     # a logit among the other rows
            rest = asked & ~fixed
            dk_rest, _ = draw_binary(self.rng, dont_know[rest], m_dk * n_asked / rest.sum())
            dk = np.zeros(self.n, dtype=bool)
            dk[np.flatnonzero(rest)[dk_rest]] = True
            sel = rest & ~dk
        n_fixed_yes = (fixed & (fixed_code == yes)).sum() if fixed_code is not None else 0
        target = (w[subs.index(yes)] * (1 - m_dk) * n_asked - n_fixed_yes) / sel.sum()
        if max_share is not None:
            target = min(target, max_share)
        hit, _ = draw_binary(self.rng, lp[sel], target)
        out = np.full(self.n, no, dtype=np.int64)
        if fixed_code is not None:
            out[fixed] = fixed_code
        out[np.flatnonzero(sel)[hit]] = yes
        out[dk] = self.dk
        out[~asked] = self.na
        self.col[var] = out
        return out

    def prior_only(self, var):
        """An item drawn from its prior alone (as `generic` draws any instrument): no slopes."""
        item = self.inst.item(var)
        asked = self.asked(var)
        na = item.not_applicable
        if item.type == "multi":
            for col, v in generic._multi(item, self.n, self.rng).items():
                self.col[col] = np.where(asked, v, na)
            return
        if item.type == "text":
            v = generic._texts(item, self.n, self.rng)
            self.col[var] = np.where(asked & (v != ""), v, None)
            return
        if item.type in ("integer", "number"):
            v = generic._with_missing(item, generic._numbers(item, self.n, self.rng), self.n, self.rng)
        elif item.type in ("date", "datetime"):
            v = generic._with_missing(item, generic._dates(item, self.n, self.rng), self.n, self.rng)
        else:
            v = generic._categorical(item, self.n, self.rng)
        self.col[var] = np.where(asked, v, str(na) if v.dtype == object else na)

    def sequential(self, var, splits, competence_lp):
        """Continuation logits: among the answering rows, codes in split 1's ``yes`` set vs the
        other code, then split 2 within that set, ...; each level solved to the prior."""
        subs, w, _ = self.prior(var)
        out, free = self._missing(var, self.asked(var), competence_lp)
        current = list(subs)
        rows = np.arange(int(free.sum()))
        leaf = [c for c in current if c not in splits[0][0]]
        codes = np.full(int(free.sum()), leaf[0], dtype=np.int64)
        levels = []
        for j, (yes_codes, lp) in enumerate(splits):
            share = sum(w[subs.index(c)] for c in yes_codes)
            if j > 0:
                share = share / sum(w[subs.index(c)] for c in current)
            hit, c = draw_binary(self.rng, lp[free][rows], float(share))
            levels.append(c)
            no_code = [c for c in current if c not in yes_codes]
            codes[rows[~hit]] = no_code[0]
            rows = rows[hit]
            current = list(yes_codes)
        codes[rows] = current[0]
        out[free] = codes
        out[~self.asked(var)] = self.na
        self.col[var] = out
        self.levels[var] = levels
        return out

    def multi(self, var, lp=None):
        """Multi-choice item among the asked rows, with every option's share equal to its prior.

        Mechanism: the exclusive option (if any) is ticked alone with P = expit(a_x + lp_x);
        otherwise each option is ticked with P = expit(a_o + lp_o); an empty answer ticks the
        exclusive option (or, without one, the option closest to being ticked); over
        `max_select`, the options closest to being ticked are kept. The intercepts a are solved
        by fixed-point iteration on common random numbers, so the realised shares equal the
        priors (up to 2e-4) while the slopes `lp` keep their meaning.
        """
        item = self.inst.item(var)
        mask = self.asked(var)
        opts = [o.code for o in item.options]
        excl = [j for j, o in enumerate(item.options) if o.exclusive]
        lp = {} if lp is None else lp
        lps = np.column_stack([np.asarray(lp.get(o, np.zeros(self.n)), float)[mask] for o in opts])
        target = np.array([item.prior[o] / 100.0 for o in opts])
        uni = self.rng.random(lps.shape)
        a = np.log(target / (1 - target))
        for _ in range(40):
            ticks = _multi_ticks(a, lps, uni, excl, item.max_select)
            share = np.clip(ticks.mean(axis=0), 1e-9, 1 - 1e-9)
            step = np.log(target / (1 - target)) - np.log(share / (1 - share))
            a += step
            if np.abs(share - target).max() < 2e-4:  # a tenth of the sampling sd at N = 141,655
                break
        self.levels[var] = a.tolist()
        for j, o in enumerate(opts):
            c = np.full(self.n, self.na, dtype=np.int64)
            c[mask] = ticks[:, j]
            self.col[f"{var}__{o}"] = c
        return {o: self.col[f"{var}__{o}"] for o in opts}

    def main_choice(self, var, source, options):
        """One of the options ticked in `source` as the main one, in proportion to the prior."""
        main_item = self.inst.item(var)
        main_codes = list(main_item.prior)
        ticked = np.column_stack([np.maximum.reduce([self.col[f"{source}__{o}"] == 1 for o in options[c]])
                                  for c in main_codes])
        asked_main = self.asked(var)
        target = np.array([main_item.prior[c] / 100.0 for c in main_codes])
        u_main = self.rng.random(self.n)[asked_main]
        wts = target.copy()
        for _ in range(200):  # weights solved so that the shares of the main choice are the prior
            weight = ticked[asked_main] * wts
            cum = weight.cumsum(axis=1)
            pick = (cum < (u_main * cum[:, -1])[:, None]).sum(axis=1)
            share = np.bincount(pick, minlength=len(main_codes)) / len(pick)
            if np.abs(share - target).max() < 1e-4:
                break
            wts *= (target / np.maximum(share, 1e-9)) ** 0.7
        main = np.full(self.n, self.na, dtype=np.int64)
        main[asked_main] = np.array(main_codes)[pick]
        self.levels[var] = wts.tolist()
        self.col[var] = main
        return main

    def detected_event(self, var, yes, no, event_lp, rate, det_lp, dk_lp, columns, levels):
        """A true event reported only when detected: the detection level is solved so the mean
        detection probability is `rate`, the event's so the reported ``yes`` share is the prior."""
        c_det = solve_intercept(det_lp, rate)
        p_det = expit(c_det + det_lp)
        subs, w, miss = self.prior(var)
        dk, c_dk = draw_binary(self.rng, dk_lp, miss[self.dk])
        yes_target = w[subs.index(yes)] * (1 - miss[self.dk])
        w_obs = p_det * (1 - expit(c_dk + dk_lp))
        c_ev = _solve_weighted(event_lp, w_obs, yes_target)
        event = self.rng.random(self.n) < expit(c_ev + event_lp)
        detected = event & (self.rng.random(self.n) < p_det)
        out = np.where(detected, yes, no)
        out[dk] = self.dk
        self.col.update({var: out, columns["event"]: event, columns["detected"]: detected,
                         columns["probability"]: p_det})
        self.levels.update({levels["event"]: c_ev, levels["detection"]: c_det, levels["dont_know"]: c_dk})
        return out

    def text(self, var, share, texts):
        has = self.rng.random(self.n) < share
        values = np.full(self.n, None, dtype=object)
        values[has] = np.array(texts, dtype=object)[self.rng.integers(0, len(texts), has.sum())]
        self.col[var] = values
        return values


def _multi_ticks(a, lps, uni, excl, max_select):
    """Ticks (0/1, rows x options) of the multi-choice mechanism described in `Builder.multi`."""
    margin = expit(a + lps) - uni            # > 0: ticked; larger: more decidedly ticked
    ticks = margin > 0
    if excl:
        alone = ticks[:, excl[0]].copy()
        ticks[:, excl[0]] = False
        ticks[alone] = False
        empty = ~ticks.any(axis=1)
        ticks[:, excl[0]] = empty              # alone or nothing else ticked
    else:
        empty = ~ticks.any(axis=1)
        ticks[np.flatnonzero(empty), np.argmax(margin[empty], axis=1)] = True
    if max_select:
        over = ticks.sum(axis=1) > max_select
        if over.any():
            m = np.where(ticks[over], margin[over], -np.inf)
            keep = np.argsort(-m, axis=1, kind="stable")[:, :max_select]
            sub = np.zeros(m.shape, dtype=bool)
            np.put_along_axis(sub, keep, True, axis=1)
            ticks[over] = sub
    return ticks.astype(np.int64)


def _solve_weighted(lp, w, target):
    """The c with mean(w * expit(c + lp)) == target (Newton)."""
    c = 0.0
    for _ in range(60):
        q = expit(c + lp)
        f = (w * q).mean() - target
        if abs(f) < 1e-12:
            return c
        c -= f / max((w * q * (1 - q)).mean(), 1e-12)
    raise RuntimeError(f"event level did not converge (gap {f:.3g})")


# --------------------------------------------------------------------------- the population


def run_population(spec, inst, margins: dict, seed: int, params) -> pd.DataFrame:
    """Execute the declaration: one row per unit of the frame, every instrument column, the
    stratum key (`strata` of the study's design), the latent columns; ``attrs`` seed, params,
    levels, instrument."""
    p = params
    rng = np.random.default_rng(seed)
    frame = spec.frame
    cells = margins[frame["cells"]]
    n = int(cells.sum())
    b = Builder(inst, rng, n)
    col = b.col
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in p.to_dict().items()}
    ev = Evaluator(values, rng, n, dict(spec.groups), inst)

    keys = cells.index.to_frame(index=False)
    rep = np.repeat(np.arange(len(cells)), cells.to_numpy())
    for var in frame["variables"]:
        raw = keys[var].to_numpy()[rep]
        col[var] = raw.astype(object) if inst.item(var).string_codes else raw.astype(np.int64)
    ra = frame.get("reassign")
    if ra is not None:
        share = ev(parse_formula(ra["share"], spec.source, "frame.reassign.share"))
        pool = np.flatnonzero(col[ra["var"]] == ra["from"])
        col[ra["var"]][rng.choice(pool, round(share * n), replace=False)] = ra["to"]

    def sync():
        values.update(col)

    sync()
    for i, step in enumerate(spec.steps):
        try:
            _run_step(step, b, ev, values, n)
        except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as e:
            # a declaration that reads well but cannot run (a list parameter shorter than the
            # codes it is indexed by, a level that cannot reach its prior, ...): one line
            what = step.get("name") or ", ".join(step.get("items", ()))
            raise SimulationError(f"{spec.source}: simulation.steps[{i}] ({step['kind']} {what}): cannot run: "
                                  f"{type(e).__name__}: {e}; check its formulas and the parameters") from None
        sync()

    texts = [i.var for i in inst.items if i.type == "text" and i.var in col]
    answers = {c: col[c] for c in inst.columns if c in col}
    missing = [c for c in inst.columns if c not in col and c not in {m.var for m in inst.metadata}]
    if missing:
        raise RuntimeError(f"the simulation did not generate instrument columns {missing}")
    pop = pd.DataFrame({frame["id"]: np.arange(1, n + 1), **answers})
    for var in frame["variables"]:
        if inst.item(var).string_codes:
            pop[var] = pop[var].astype("str")
    for var in texts:
        pop[var] = pd.Series(col[var], dtype="str").where(pd.notna(pd.Series(col[var])).to_numpy())
    return pop, values, b.levels


def stratum_key(col: dict, strata) -> pd.Series:
    """The stratum key: raw codes of the strata items joined with "-"."""
    key = pd.Series(np.asarray(col[strata[0]]).astype(str), dtype="str")
    for var in strata[1:]:
        key = key + "-" + pd.Series(np.asarray(col[var]).astype(str), dtype="str")
    return key


def _run_step(step, b: Builder, ev: Evaluator, values: dict, n: int):
    kind = step["kind"]
    if kind in ("let", "value"):
        x = ev(step["value"], full=True)
        if step["cases"]:
            x = np.array(x)
            for when, value in step["cases"]:
                rows = np.asarray(ev(when), dtype=bool)
                x[rows] = ev(value, rows=rows)
        if step["at_most"] is not None:
            x = np.minimum(x, step["at_most"])
        if kind == "value":
            b.col[step["name"]] = x
        else:
            values[step["name"]] = x
        return
    dk = step.get("dont_know")
    dk_lp = ev(dk, full=True) if dk is not None and not isinstance(dk, str) else None
    if kind == "ordinal":
        lp = ev(step["lp"], full=True)
        for var in step["items"]:
            b.ordinal(var, lp, high_first=step["high_first"], competence_lp=dk_lp)
        return
    var = step["items"][0]
    if kind == "categorical":
        subs, _, _ = b.prior(var)
        lp = None
        if step["lp"]:
            lp = np.zeros((n, len(subs)))
            for code, formula in step["lp"]:
                lp[:, subs.index(code)] += ev(formula, full=True)
        if step["fixed"] is not None:
            b.categorical_fixed(var, np.asarray(ev(step["fixed"][0]), bool), step["fixed"][1], lp)
        else:
            b.categorical(var, lp, competence_lp=dk_lp)
    elif kind == "binary":
        fixed, code = (None, None) if step["fixed"] is None else \
            (np.asarray(ev(step["fixed"][0]), bool), step["fixed"][1])
        b.binary(var, step["yes"], step["no"], ev(step["lp"], full=True), fixed, code,
                 dont_know=dk_lp if dk_lp is not None else dk, max_share=step["max_share"])
    elif kind == "sequential":
        splits = [(codes, ev(lp, full=True)) for codes, lp in step["splits"]]
        b.sequential(var, splits, np.zeros(n) if dk_lp is None else dk_lp)
    elif kind == "multi":
        item = b.inst.item(var)
        given = dict(step["lp"])
        lp = {}
        for o in item.options:
            formula = given.get(o.code, given.get("*") if not o.exclusive else None)
            if formula is not None:
                lp[o.code] = ev(formula, full=True)
        b.multi(var, lp)
    elif kind == "main_choice":
        b.main_choice(var, step["source"], step["options"])
    elif kind == "detected_event":
        b.detected_event(var, step["yes"], step["no"], ev(step["lp"], full=True), ev(step["rate"]),
                         ev(step["detection_lp"], full=True), np.zeros(n) if dk_lp is None else dk_lp,
                         step["columns"], step["levels"])
    elif kind == "text":
        b.text(var, ev(step["share"]), step["texts"])
    elif kind == "prior":
        b.prior_only(var)
    else:  # pragma: no cover - the declaration is checked on load
        raise ValueError(f"unknown step kind {kind!r}")


def jsonable_levels(levels: dict) -> dict:
    return {k: (float(v) if np.isscalar(v) else [float(x) for x in v]) for k, v in levels.items()}
