"""The tidy estimate frame every estimator returns.

A ``SurveyEstimate`` is a pandas DataFrame with columns ``estimate``, ``se``, ``ci_low``,
``ci_high`` (+ ``deff``), indexed by variable (and level, and domain).  The full covariance is in
``.vcov`` (also ``attrs["vcov"]``), the design degrees of freedom in ``attrs["df"]`` and the
degrees of freedom used for the confidence interval in ``attrs["ci_df"]`` (inf = normal).

Example
-------
>>> import numpy as np, pandas as pd
>>> r = make_estimate(pd.Index(["y"], name="variable"), np.array([2.0]), np.array([[0.25]]),
...                   design_df=10, ci_df=np.inf, statistic="mean")
>>> round(float(r["ci_high"].iloc[0]), 4)
2.98
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special


class SurveyEstimate(pd.DataFrame):
    """DataFrame of estimates with the covariance and degrees of freedom attached."""

    @property
    def _constructor(self):
        return SurveyEstimate

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the estimates (rows/columns in the frame's order)."""
        return self.attrs["vcov"]

    def __repr__(self) -> str:
        body = pd.DataFrame(self).__repr__()
        a = self.attrs
        if "statistic" not in a:
            return body
        ci = "normal" if not np.isfinite(a.get("ci_df", np.inf)) else f"t({a['ci_df']:g})"
        extra = f"; {a['note']}" if a.get("note") else ""
        return (
            f"{body}\n[{a['statistic']}; {round(100 * a.get('level', 0.95))}% CI: {ci}; "
            f"design df = {a.get('df')}{extra}]"
        )


def critical_value(level: float, df: float) -> float:
    """Two-sided critical value: t quantile with df, normal when df is infinite (R's qt).

    >>> round(critical_value(0.95, np.inf), 4), round(critical_value(0.95, 10), 4)
    (1.96, 2.2281)
    """
    a = (1 - level) / 2
    # scipy.special's stdtrit and ndtri are what scipy.stats' t.ppf and norm.ppf evaluate;
    # calling them directly spares every estimate the import of scipy.stats (~60 MB resident)
    if np.isfinite(df):
        return float(special.stdtrit(df, 1 - a))
    return float(special.ndtri(1 - a))


def make_estimate(
    index: pd.Index,
    estimate: np.ndarray,
    vcov: np.ndarray,
    design_df: float,
    ci_df: float,
    statistic: str,
    level: float = 0.95,
    deff: np.ndarray | None = None,
    ci: tuple[np.ndarray, np.ndarray] | None = None,
    se: np.ndarray | None = None,
    note: str | None = None,
) -> SurveyEstimate:
    """Assemble the tidy frame; Wald CIs estimate +- q * se unless ``ci`` is given.

    >>> r = make_estimate(pd.Index(["y"], name="variable"), np.array([2.0]), np.array([[0.25]]),
    ...                   design_df=10, ci_df=10, statistic="mean")
    >>> r["se"].tolist(), r.attrs["ci_df"]
    ([0.5], 10)
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    vcov = np.atleast_2d(np.asarray(vcov, dtype=np.float64))
    if se is None:
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.diag(vcov))
    if ci is None:
        q = critical_value(level, ci_df)
        ci = (estimate - q * se, estimate + q * se)
    cols = {"estimate": estimate, "se": se, "ci_low": ci[0], "ci_high": ci[1]}
    if deff is not None:
        cols["deff"] = np.asarray(deff, dtype=np.float64)
    out = SurveyEstimate(cols, index=index)
    out.attrs["vcov"] = pd.DataFrame(vcov, index=index, columns=index)
    out.attrs["df"] = design_df
    out.attrs["ci_df"] = ci_df
    out.attrs["level"] = level
    out.attrs["statistic"] = statistic
    if note:
        out.attrs["note"] = note
    return out
