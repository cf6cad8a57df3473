"""Nonlinear contrasts of estimates by the delta method (R: svycontrast with expressions).

``nonlinear_contrast(est, "exp(E - H)")`` evaluates the expression at the estimates and gives
the variance J V J' with J the exact gradient (analysis.expressions: R's ``deriv``). When the
estimates carry their replicate estimates (``return_replicates=True`` on a replicate design, or
``with_replicates``), the expression is evaluated on every replicate and the replicate variance
formula is used instead, as R's svycontrast.svrepstat does.

Names in an expression refer to rows of the estimates: a label as printed (``api00``), a
multi-part label joined by ``:`` (``E:api00``, R's svyby names) or run together (``stypeE``, R's
names of factor levels), or only the part that differs between rows (``E`` when one variable was
estimated by domain). Names with other characters go in backticks: `` `C(stype)[T.H]` ``.

Example
-------
>>> res = d.by("stype").mean("api00")
>>> nonlinear_contrast(res, {"ratio": "E / H", "log_diff": "log(E) - log(H)"})
          estimate        se    ci_low   ci_high
contrast
ratio     1.077674  0.032452  1.014070  1.141278
log_diff  0.074805  0.030113  0.015785  0.133825
[nlcon; 95% CI: normal; design df = 197]
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.expressions import ExpressionError, parse_expression
from analysis.replicates import replicate_variance
from analysis.results import SurveyEstimate, make_estimate

__all__ = ["estimate_names", "nonlinear_contrast"]


def _label_parts(label) -> tuple[str, ...]:
    if isinstance(label, tuple):
        return tuple("" if p is None else str(p) for p in label)
    return (str(label),)


def estimate_names(index: pd.Index) -> dict[str, int]:
    """Every name a row of the estimates can be called by in an expression -> row position
    (names that would fit several rows are left out).

    >>> idx = pd.MultiIndex.from_tuples([("E", "api00"), ("H", "api00")])
    >>> sorted(estimate_names(idx))
    ['E', 'E.api00', 'E:api00', 'Eapi00', 'H', 'H.api00', 'H:api00', 'Hapi00']
    """
    parts = [_label_parts(lab) for lab in index]
    width = max(len(p) for p in parts)
    varying = [j for j in range(width)
               if len({p[j] if j < len(p) else "" for p in parts}) > 1]
    found: dict[str, set] = {}
    for i, p in enumerate(parts):
        nonempty = [x for x in p if x != ""]
        short = [p[j] for j in varying if j < len(p) and p[j] != ""]
        cands = {":".join(nonempty), "".join(nonempty), ".".join(nonempty), ":".join(p)}
        if short:
            cands |= {":".join(short), "".join(short)}
        for c in cands:
            found.setdefault(c, set()).add(i)
    return {name: next(iter(rows)) for name, rows in found.items() if len(rows) == 1}


def _source(est):
    """(index, estimates, covariance, replicate info or None, design df) of an estimate
    frame or of a model's results."""
    if isinstance(est, pd.DataFrame) and "estimate" in est.columns:
        vcov = getattr(est, "vcov", None)
        if vcov is None:
            raise ExpressionError("the estimates carry no covariance (.vcov): use the frame an "
                                  "estimator returned, or one call for all the rows a contrast "
                                  "needs")
        return (est.index, est["estimate"].to_numpy(dtype=float),
                np.asarray(vcov, dtype=float), est.attrs.get("replicates"), est.attrs.get("df"))
    if hasattr(est, "params") and hasattr(est, "cov_params"):
        return (est.params.index, est.params.to_numpy(dtype=float),
                np.asarray(est.cov_params(), dtype=float), getattr(est, "replicates", None),
                getattr(est, "design_degf", None))
    raise TypeError(f"nonlinear_contrast needs estimates (a frame from an estimator) or a fitted "
                    f"model, got {type(est).__name__}")


def nonlinear_contrast(estimates, expressions, level: float = 0.95, df=None,
                       add: bool = False) -> SurveyEstimate:
    """Nonlinear function(s) of estimates with delta-method (or replicate) standard errors
    (R: svycontrast(stat, quote(expr)) / list of quoted expressions).

    expressions: one expression text, or a dict {name: expression}. ``add=True`` appends the
    original estimates (R's add=TRUE). CI normal unless ``df`` is given (R's confint default).

    >>> nonlinear_contrast(d.by("stype").mean("api00"), "exp(E - H)")
                  estimate            se        ci_low       ci_high
    contrast
    contrast  1.291382e+21  2.505560e+22 -4.781668e+22  5.039945e+22
    [nlcon; 95% CI: normal; design df = 197]
    """
    index, theta, V, reps, design_df = _source(estimates)
    if isinstance(expressions, str):
        exprs = {"contrast": expressions}
    elif isinstance(expressions, Mapping) and expressions and all(
            isinstance(v, str) for v in expressions.values()):
        exprs = {str(k): v for k, v in expressions.items()}
    else:
        raise TypeError("expressions must be an expression text or a dict of name -> "
                        f"expression text, got {expressions!r}")
    names = estimate_names(index)
    parsed = {}
    for label, text in exprs.items():
        e = parse_expression(text)
        unknown = [n for n in e.names if n not in names]
        if unknown:
            shown = ", ".join(sorted(names, key=lambda n: (names[n], n))[:12])
            raise ExpressionError(
                f"expression {text!r}: {', '.join(map(repr, unknown))} is not the name of an "
                f"estimate; names are: {shown}{' ...' if len(names) > 12 else ''} (put names "
                "with other characters in backticks)")
        parsed[label] = e
    values = {n: theta[i] for n, i in names.items()}
    k = theta.shape[0]
    est, J = [], []
    for e in parsed.values():
        v, g = e.evaluate(values, names, k)
        est.append(v)
        J.append(g)
    est, J = np.asarray(est), np.vstack(J)
    if add:
        est = np.concatenate([est, theta])
        J = np.vstack([J, np.eye(k)])
        labels = list(parsed) + [":".join(_label_parts(lab)) for lab in index]
    else:
        labels = list(parsed)
    rep_out = None
    if reps is not None:
        R = np.asarray(reps["values"], dtype=float)           # (R, k) replicate estimates
        rep_vals = np.empty((R.shape[0], len(parsed)))
        for r in range(R.shape[0]):
            vr = {n: R[r, i] for n, i in names.items()}
            rep_vals[r] = [e.value(vr) for e in parsed.values()]
        if add:
            rep_vals = np.hstack([rep_vals, R])
        cov = replicate_variance(est, rep_vals, reps["scale"], reps["rscales"], mse=reps["mse"])
        rep_out = {**reps, "values": rep_vals}
    else:
        with np.errstate(invalid="ignore"):
            cov = J @ V @ J.T
    ci_df = np.inf if df is None else float(df)
    out = make_estimate(pd.Index(labels, name="contrast"), est, cov, design_df, ci_df,
                        "nlcon", level)
    if rep_out is not None:
        out.attrs["replicates"] = rep_out
    return out
