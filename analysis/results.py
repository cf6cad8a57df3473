"""The tidy estimate frame every estimator returns.

A ``SurveyEstimate`` is a pandas DataFrame with columns ``estimate``, ``se``, ``ci_low``,
``ci_high`` (+ ``deff``), indexed by variable (and level, and domain).  The full covariance is in
``.vcov`` (sliced with the rows), the design degrees of freedom in ``attrs["df"]`` and the
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

import html
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import AnalysisError


class SurveyEstimate(pd.DataFrame):
    """DataFrame of estimates with the covariance and degrees of freedom attached.

    The covariance travels with the rows: selecting rows (``.loc``, ``.iloc``, boolean masks,
    ``head``) keeps the matching block of ``.vcov``; ``pd.concat`` of estimates stacks their
    blocks, with NaN between estimates computed separately (their covariance is unknown: use one
    call, e.g. ``d.mean(["a", "b"])``, when a contrast needs it). Anything that changes the rows
    in another way (reset_index, merge, arithmetic on the index) drops it (``.vcov`` is None).
    Scalars (``df``, ``ci_df``, ``level``, ``statistic``, ``note``) are in ``attrs``.

    >>> import numpy as np, pandas as pd
    >>> idx = pd.Index(["a", "b"], name="variable")
    >>> r = make_estimate(idx, np.array([1.0, 2.0]), np.array([[1.0, 0.5], [0.5, 4.0]]), 10, 10, "mean")
    >>> r.iloc[1:].vcov.to_numpy().tolist()
    [[4.0]]
    >>> both = pd.concat([r.iloc[:1], r.iloc[1:]])
    >>> both.vcov.to_numpy().tolist()
    [[1.0, nan], [nan, 4.0]]
    """

    _metadata: ClassVar[list[str]] = ["_vcov"]  # pandas copies these through __finalize__

    @property
    def _constructor(self):
        return SurveyEstimate

    @property
    def vcov(self) -> pd.DataFrame | None:
        """Covariance matrix of the estimates (rows/columns in the frame's order), or None."""
        v = getattr(self, "_vcov", None)
        if v is None or not v.index.equals(self.index):
            # rows were reordered or dropped by an operation that did not pass through
            # __finalize__ with this frame: take the block again if every row is known
            return _block(v, self.index)
        return v

    @vcov.setter
    def vcov(self, value) -> None:
        if value is not None:
            value = pd.DataFrame(np.asarray(value, dtype=np.float64), index=self.index,
                                 columns=self.index)
        object.__setattr__(self, "_vcov", value)

    def __finalize__(self, other, method=None, **kwargs):
        out = super().__finalize__(other, method=method, **kwargs)
        if isinstance(other, SurveyEstimate):
            object.__setattr__(out, "_vcov", _block(getattr(other, "_vcov", None), out.index))
        elif method == "concat" and hasattr(other, "input_objs"):
            object.__setattr__(out, "_vcov", _stacked(list(other.input_objs), out.index))
            out.attrs = _common_attrs(list(other.input_objs))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The estimates as a plain DataFrame (tidy: one row per estimate), with ``df``."""
        out = pd.DataFrame(self).copy()
        out.attrs = {}
        out["df"] = self.attrs.get("ci_df", np.nan)
        return out

    def _footer(self) -> str:
        a = self.attrs
        if "statistic" not in a:
            return ""
        ci = "normal" if not np.isfinite(a.get("ci_df", np.inf)) else f"t({a['ci_df']:g})"
        extra = f"; {a['note']}" if a.get("note") else ""
        return (f"{a['statistic']}; {round(100 * a.get('level', 0.95))}% CI: {ci}; "
                f"design df = {a.get('df')}{extra}")

    def _repr_html_(self) -> str:
        body = pd.DataFrame(self)._repr_html_()
        foot = self._footer()
        return body + (f"<p><small>{html.escape(foot)}</small></p>" if foot else "")

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


def _block(vcov: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """The rows/columns of ``vcov`` for ``index``; None when a label is unknown or repeated."""
    if vcov is None or not index.is_unique or not vcov.index.is_unique:
        return None
    if vcov.index.equals(index):
        return vcov
    pos = vcov.index.get_indexer(index)
    if (pos < 0).any():
        return None
    v = vcov.to_numpy()[np.ix_(pos, pos)]
    return pd.DataFrame(v, index=index, columns=index)


def _stacked(objs: list, index: pd.Index) -> pd.DataFrame | None:
    """Block-diagonal covariance of row-wise concatenated estimates (NaN across blocks)."""
    blocks = [getattr(o, "vcov", None) if isinstance(o, SurveyEstimate) else None for o in objs]
    if any(b is None for b in blocks) or sum(len(b) for b in blocks) != len(index):
        return None
    if not index.is_unique:
        return None
    V = np.full((len(index), len(index)), np.nan)
    start = 0
    for b in blocks:
        k = len(b)
        V[start:start + k, start:start + k] = b.to_numpy()
        start += k
    return pd.DataFrame(V, index=index, columns=index)


def _common_attrs(objs: list) -> dict:
    """The scalar attrs every input shares (differing ones are dropped)."""
    attrs = [getattr(o, "attrs", {}) for o in objs]
    if not attrs:
        return {}
    common = {}
    for key, value in attrs[0].items():
        try:
            same = all(key in a and bool(a[key] == value) for a in attrs[1:])
        except (TypeError, ValueError):
            same = False
        if same:
            common[key] = value
    return common


def confidence_level(level: float | None = 0.95, alpha: float | None = None) -> float:
    """The confidence level of an interval: ``level`` (the package's word, as R's ``level=``);
    ``alpha`` (= 1 - level, statsmodels' word) is still accepted by the model functions.

    >>> confidence_level(0.9), confidence_level(alpha=0.1)
    (0.9, 0.9)
    """
    if alpha is not None:
        if level not in (None, 0.95):
            raise AnalysisError(f"give the confidence level once: level={level} or alpha={alpha} "
                                "(alpha = 1 - level)")
        if not 0 < alpha < 1:
            raise AnalysisError(f"alpha must be in (0, 1), got {alpha}; or give level=0.95")
        return 1.0 - alpha
    level = 0.95 if level is None else level
    if not 0 < level < 1:
        raise AnalysisError(f"level is the confidence level, in (0, 1) (e.g. 0.95); got {level}")
    return float(level)


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
    out.vcov = vcov
    out.attrs["df"] = design_df
    out.attrs["ci_df"] = ci_df
    out.attrs["level"] = level
    out.attrs["statistic"] = statistic
    if note:
        out.attrs["note"] = note
    return out
