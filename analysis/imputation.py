"""Multiple imputation of item nonresponse that respects the design, and Rubin's rules.

``impute(design, variables, m)`` fills the missing values of ``variables`` m times by chained
equations (MICE, van Buuren): each variable in turn is regressed on the others (as currently
filled), on the ``predictors`` given, and on the design (stratum indicators and the log weight,
so the imputation model carries what the sampling knew; Reiter, Raghunathan & Kinney 2006), and
its missing values are replaced by predictive mean matching: the regression coefficients are
drawn from their posterior (flat prior; sigma^2 from a scaled inverse chi-square), every missing
row gets the observed value of one of the ``donors`` rows whose predicted value is nearest its
own (mice's type-1 matching). Imputed values are therefore always values that were observed
(no 2.7 children, no 1.3 on a 0/1 item). Numbers, 0/1 and boolean columns and ordered
categoricals (imputed on their codes) are supported; an unordered categorical with more than two
categories is refused (impute it with a model of its own).

The result is a set of m designs that differ only in the imputed cells. Any estimator or model
runs on each (``imputed.estimate(lambda d: d.mean("x"))`` or ``with_imputations``) and the m
results are combined with Rubin's rules exactly as R's mitools ``MIcombine``:

    Q = mean of the m estimates, U = mean of their covariances, B = covariance between them,
    T = U + (1 + 1/m) B,   r = (1 + 1/m) B / U,   df = (m - 1) (1 + 1/r)^2,
    with a complete-data df: df_obs = (df_c + 1) / (df_c + 3) df_c U / (U + B),
    df = 1 / (1/df + 1/df_obs) (Barnard & Rubin 1999); missing information (r + 2/(df + 3)) / (r + 1).

A joint test of k coefficients (``pooled_wald_test``, the D1 statistic of Li, Raghunathan &
Rubin 1991, as R's mitml ``testConstraints(method = "D1")``): with Q, U, B of those coefficients,
r = (1 + 1/m) tr(B U^-1) / k,  D1 = Q' U^-1 Q / (k (1 + r))  on (k, v) df, where with t = k (m - 1)
v = 4 + (t - 4) (1 + (1 - 2/t) / r)^2 (t > 4), or Reiter's (2007) small-sample v given a
complete-data df.

>>> import numpy as np, pandas as pd
>>> from analysis import SurveyDesign
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=200); y = x + rng.normal(size=200); y[:40] = np.nan
>>> d = SurveyDesign(pd.DataFrame({"x": x, "y": y, "w": 1.0}), weights="w")
>>> imp = impute(d, ["y"], m=5, seed=2)
>>> res = imp.estimate(lambda d: d.mean("y"))
>>> list(res.columns)
['estimate', 'se', 'ci_low', 'ci_high', 'df', 'missing_info']
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from .errors import AnalysisError
from .results import SurveyEstimate, critical_value

__all__ = ["ImputationError", "ImputedDesigns", "PooledWaldTest", "combine", "impute",
           "pooled_wald_test", "with_imputations"]


class ImputationError(AnalysisError):
    """Imputation cannot be done as asked; the message names the variable and the fix."""


# ------------------------------------------------------------------------------ the model matrix
def _encode(col: pd.Series, name: str) -> tuple[np.ndarray, Callable | None]:
    """Numeric values to impute on, and the map back to the column's values (None: identity)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if not col.cat.ordered and len(cats) > 2:
            raise ImputationError(
                f"{name}: an unordered categorical with {len(cats)} categories cannot be imputed by "
                f"predictive mean matching on its codes; make it ordered if its categories are a "
                f"scale, or impute it with a model of its own")
        codes = col.cat.codes.to_numpy().astype(float)
        codes[codes < 0] = np.nan
        # NaN (a row outside the imputed rows) back to code -1, a missing category
        return codes, lambda v: pd.Categorical.from_codes(np.where(np.isnan(v), -1, v).astype(int),
                                                          categories=cats, ordered=col.cat.ordered)
    if pd.api.types.is_bool_dtype(col.dtype):
        v = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return v, lambda v: pd.array(np.where(np.isnan(v), None, v == 1), dtype="boolean")
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan), None
    raise ImputationError(f"{name}: dtype {col.dtype} cannot be imputed (numbers, 0/1, booleans and "
                          f"ordered categoricals can)")


def _predictor_matrix(data: pd.DataFrame, predictors: Sequence[str],
                      rows: np.ndarray | None = None) -> np.ndarray:
    """Complete predictors as columns (categoricals as indicators of all but the first level);
    complete means complete in ``rows`` (all rows when None): no other row is used."""
    cols = []
    for p in predictors:
        s = data[p]
        if (s.isna() if rows is None else s.isna() & rows).any():
            raise ImputationError(f"predictor {p} has missing values: impute it too (put it in "
                                  f"variables) or leave it out of predictors")
        if isinstance(s.dtype, pd.CategoricalDtype):
            # in category order (not sorted labels): the same matrix whatever language the
            # labels are in, so imputations do not depend on the edition
            dummies = pd.get_dummies(s.cat.remove_unused_categories(), drop_first=True, dtype=float)
            cols.append(dummies.to_numpy())
        elif not pd.api.types.is_numeric_dtype(s.dtype):
            dummies = pd.get_dummies(s.astype(str), drop_first=True, dtype=float)
            cols.append(dummies.to_numpy())
        else:
            cols.append(s.to_numpy(dtype=float)[:, None])
    return np.hstack(cols) if cols else np.empty((len(data), 0))


def _design_matrix(design) -> np.ndarray:
    """Stratum indicators and the log weight: what the design knew about each row."""
    parts = []
    spec = getattr(design, "_spec", None) or {}
    strata = spec.get("strata")
    if strata:
        cols = [strata] if isinstance(strata, str) else list(strata)
        frame = design.data[cols]
        # categorical strata by their category codes (the same matrix whatever language the
        # labels are in), others by their sorted values
        frame = frame.apply(lambda c: c.cat.codes.astype(str).str.zfill(6)
                            if isinstance(c.dtype, pd.CategoricalDtype) else c.astype(str))
        key = frame.iloc[:, 0] if len(cols) == 1 else frame.agg("|".join, axis=1)
        codes = pd.factorize(key, sort=True)[0]
        parts.append(pd.get_dummies(codes, drop_first=True, dtype=float).to_numpy())
    w = np.asarray(design.weights, dtype=float)
    if np.ptp(w[w > 0]) > 0:
        parts.append(np.log(np.where(w > 0, w, 1.0))[:, None])
    return np.hstack(parts) if parts else np.empty((len(w), 0))


# ------------------------------------------------------------------------------ one PMM draw
def _pmm(y: np.ndarray, X: np.ndarray, miss: np.ndarray, rng: np.random.Generator,
         donors: int, gram: np.ndarray | None = None) -> np.ndarray:
    """Values for the missing rows of y by predictive mean matching (Bayesian linear model).

    gram: X'X of the observed rows for X's first columns (the fixed part of the imputation
    model), computed once per variable: only the few columns of the other imputed variables
    change between draws. Solves go through the Cholesky factor (triangular solves): on a
    busy machine a general solve or a large product in threaded BLAS can take 100x longer.
    """
    obs = ~miss
    Xo, yo = X[obs], y[obs]
    if gram is None:
        gram = Xo.T @ Xo
    q = gram.shape[0]
    if q < X.shape[1]:
        F, O = Xo[:, :q], Xo[:, q:]
        FO, OO = np.einsum("ij,ik->jk", F, O), np.einsum("ij,ik->jk", O, O)
        XtX = np.block([[gram, FO], [FO.T, OO]])
    else:
        XtX = gram.copy()
    # a small ridge keeps collinear design dummies solvable (mice does the same, 1e-5 x diag)
    XtX = XtX + 1e-5 * np.diag(np.maximum(np.diag(XtX), 1e-12))
    L = np.linalg.cholesky(XtX)
    beta = linalg.cho_solve((L, True), np.einsum("ij,i->j", Xo, yo))
    resid = yo - Xo @ beta
    df = max(len(yo) - X.shape[1], 1)
    sigma = np.sqrt(resid @ resid / rng.chisquare(df))
    # beta* ~ N(beta, sigma^2 (X'X)^-1): (X'X)^-1 = L^-T L^-1
    beta_star = beta + sigma * linalg.solve_triangular(L, rng.standard_normal(X.shape[1]),
                                                       trans="T", lower=True)
    pred_obs = Xo @ beta
    pred_mis = X[miss] @ beta_star
    order = np.argsort(pred_obs, kind="stable")
    sorted_pred = pred_obs[order]
    k = min(donors, len(yo))
    # for every missing row at once: the observed rows of the window of 2k sorted predictions
    # around its own (padded at the ends), the k nearest of them (stable: ties keep sorted
    # order), one drawn at random - the same draws as one row at a time, faster
    j = np.searchsorted(sorted_pred, pred_mis)
    lo = np.maximum(j - k, 0)
    width = np.minimum(j + k, len(sorted_pred)) - lo
    pos = lo[:, None] + np.arange(2 * k)[None, :]
    valid = np.arange(2 * k)[None, :] < width[:, None]
    window = order[np.where(valid, pos, 0)]
    dist = np.where(valid, np.abs(pred_obs[window] - pred_mis[:, None]), np.inf)
    nearest = np.take_along_axis(window, np.argsort(dist, axis=1, kind="stable")[:, :k], axis=1)
    pick = rng.integers(0, k, size=len(pred_mis))
    return yo[nearest[np.arange(len(pred_mis)), pick]]


@dataclass
class ImputedDesigns:
    """m completed designs (``designs``) and what was imputed (``n_missing`` per variable)."""

    designs: list
    n_missing: dict = field(default_factory=dict)
    seed: int | None = None

    @property
    def m(self) -> int:
        return len(self.designs)

    def __iter__(self):
        return iter(self.designs)

    def __len__(self) -> int:
        return len(self.designs)

    def estimate(self, statistic: Callable, df_complete: float | None = None) -> SurveyEstimate:
        """Run ``statistic(design)`` (an estimator returning a SurveyEstimate, or a model) on
        every completed design and combine with Rubin's rules (:func:`combine`). The complete-data
        df defaults to the design df for an estimate and to the residual df of a model (R's
        svyglm df.residual, degf + 1 - p), the df its complete-data t tests use."""
        results = [statistic(d) for d in self.designs]
        if df_complete is None:
            first = results[0]
            model = not isinstance(first, SurveyEstimate) and hasattr(first, "df_resid")
            df_complete = float(first.df_resid if model else self.designs[0].degf)
        return combine(results, df_complete=df_complete)

    def __repr__(self) -> str:
        what = ", ".join(f"{k} ({v} missing)" for k, v in self.n_missing.items())
        return f"ImputedDesigns: m = {self.m} completed designs; imputed {what}"


def impute(design, variables: str | Sequence[str], m: int = 20, seed: int | None = None,
           predictors: Sequence[str] = (), iterations: int = 10, donors: int = 5,
           design_predictors: bool = True, rows=None) -> ImputedDesigns:
    """``m`` completed copies of ``design`` with the missing values of ``variables`` imputed by
    chained equations with predictive mean matching (see the module docstring).

    predictors: complete columns used in every imputation model; design_predictors: add stratum
    indicators and the log weight (recommended). ``seed`` makes the imputations reproducible.
    Rows outside a subset are imputed too (they keep their place in the design).

    rows: a boolean mask of the rows to impute within (default: all). Only these rows are
    imputed and fit the imputation models; the others keep their values, missing or not. Use
    it for a population an analysis is about, e.g. the units a question was asked of, when
    the other units have missing values that are not item nonresponse.
    """
    if isinstance(variables, str):
        variables = [variables]
    data = design.data
    unknown = [v for v in [*variables, *predictors] if v not in data.columns]
    if unknown:
        raise ImputationError(f"impute(): {unknown} not in the design's data")
    if m < 2:
        raise ImputationError(f"m must be at least 2 (Rubin's rules need a between-imputation "
                              f"variance), got {m}")
    if rows is None:
        inside = np.ones(len(data), dtype=bool)
    else:
        inside = np.asarray(rows, dtype=bool)
        if inside.shape != (len(data),):
            raise ImputationError(f"rows must be a boolean mask of the design's {len(data)} rows, "
                                  f"got shape {inside.shape}")
    encoded = {v: _encode(data[v], v) for v in variables}
    values = {v: e[0] for v, e in encoded.items()}
    missing = {v: np.isnan(values[v]) & inside for v in variables}
    for v in variables:
        if np.isnan(values[v])[inside].all():
            raise ImputationError(f"{v}: every value is missing; nothing to impute from")
    base = [np.ones((len(data), 1)), _predictor_matrix(data, predictors,
                                                       None if rows is None else inside)]
    if design_predictors:
        base.append(_design_matrix(design))
    fixed = np.hstack(base)[inside]
    todo = [v for v in variables if missing[v].any()]
    # the fixed part's X'X over each variable's observed rows: the same in every draw
    grams = {}
    for v in todo:
        Fo = fixed[~missing[v][inside]]
        grams[v] = Fo.T @ Fo
    rng = np.random.default_rng(seed)
    designs = []
    for _ in range(m):
        filled = {v: values[v].copy() for v in variables}
        for v in todo:                              # start: random draws from the observed values
            obs = values[v][inside & ~missing[v]]
            filled[v][missing[v]] = rng.choice(obs, size=missing[v].sum())
        for _ in range(iterations if len(todo) > 1 else 1):
            for v in todo:
                others = [filled[o][inside, None] for o in variables if o != v]
                X = np.hstack([fixed, *others]) if others else fixed
                filled[v][missing[v]] = _pmm(filled[v][inside], X, missing[v][inside], rng,
                                             donors, grams[v])
        new = {}
        for v in todo:
            back = encoded[v][1]
            new[v] = pd.Series(back(filled[v]) if back else filled[v], index=data.index)
        designs.append(design.assign(**new))
    return ImputedDesigns(designs=designs, n_missing={v: int(missing[v].sum()) for v in variables},
                          seed=seed)


def with_imputations(imputed: ImputedDesigns, statistic: Callable, **kwargs) -> SurveyEstimate:
    """``statistic`` on every completed design, combined by Rubin's rules (mitools' with + MIcombine)."""
    return imputed.estimate(statistic, **kwargs)


# ------------------------------------------------------------------------------ Rubin's rules
def _parts(result) -> tuple[np.ndarray, np.ndarray, pd.Index, float]:
    if isinstance(result, SurveyEstimate):
        if result.vcov is None:
            raise ImputationError("an estimate without its covariance cannot be combined")
        return (result["estimate"].to_numpy(float), result.vcov.to_numpy(float), result.index,
                float(result.attrs.get("level", 0.95)))
    if hasattr(result, "params") and hasattr(result, "cov_params"):
        return (result.params.to_numpy(float), result.cov_params().to_numpy(float),
                pd.Index(result.params.index, name="term"), 0.95)
    if isinstance(result, tuple) and len(result) == 2:
        est, var = (np.atleast_1d(np.asarray(x, float)) for x in result)
        var = np.atleast_2d(var) if var.ndim == 2 else np.diag(var)
        return est, var, pd.RangeIndex(len(est)), 0.95
    raise ImputationError(f"cannot combine a {type(result).__name__}: give estimates, model "
                          f"results or (estimate, variance) pairs")


def combine(results: Sequence, df_complete: float = np.inf, level: float | None = None) -> SurveyEstimate:
    """Rubin's rules over the results of m completed-data analyses (R mitools' MIcombine).

    Returns estimate, se, ci_low, ci_high (t with the combined df), df and missing_info (the
    fraction of missing information) per parameter; ``.vcov`` is T = U + (1 + 1/m) B.
    """
    parts = [_parts(r) for r in results]
    m = len(parts)
    if m < 2:
        raise ImputationError("combining needs at least two completed-data results")
    index = parts[0][2]
    if any(not p[2].equals(index) for p in parts):
        raise ImputationError("the results do not estimate the same parameters (indexes differ)")
    level = parts[0][3] if level is None else level
    Q = np.vstack([p[0] for p in parts])
    qbar = Q.mean(axis=0)
    ubar = sum(p[1] for p in parts) / m
    B = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    T = ubar + (1 + 1 / m) * B
    u, b = np.diag(ubar), np.diag(B)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / m) * b / u
        df = (m - 1) * (1 + 1 / r) ** 2
        if np.isfinite(df_complete):
            dfobs = (df_complete + 1) / (df_complete + 3) * df_complete * (u / (u + b))
            df = 1 / (1 / dfobs + 1 / df)
        missinfo = (r + 2 / (df + 3)) / (r + 1)
    se = np.sqrt(np.diag(T))
    q = np.array([critical_value(level, d) if np.isfinite(d) else float(special.ndtri(0.5 + level / 2))
                  for d in df])
    out = SurveyEstimate({"estimate": qbar, "se": se, "ci_low": qbar - q * se,
                          "ci_high": qbar + q * se, "df": df, "missing_info": missinfo}, index=index)
    out.vcov = T
    out.attrs.update(statistic=f"multiple imputation (m = {m}, Rubin's rules)", level=level,
                     ci_df=float(np.min(df)), df=df_complete)
    return out


# ------------------------------------------------------------------------------ pooled Wald test
@dataclass(frozen=True)
class PooledWaldTest:
    """D1: a joint Wald test of ``coefficients`` = 0 over m completed-data fits; F on (df, ddf)
    df, p value, riv (the average relative increase in variance due to the missing answers)."""

    coefficients: tuple
    statistic: float
    df: int
    ddf: float
    p_value: float
    riv: float
    m: int


def pooled_wald_test(results: Sequence, coefficients: Sequence, df_complete: float | None = None
                     ) -> PooledWaldTest:
    """Joint test that ``coefficients`` (names, or positions) are all zero, pooled over the
    completed-data results by the D1 rule (R mitml's ``testConstraints(qhat, uhat, constraints,
    method = "D1", df.com = df_complete)``; ``df_complete`` None or inf: the large-sample df)."""
    parts = [_parts(r) for r in results]
    m = len(parts)
    if m < 2:
        raise ImputationError("a pooled test needs at least two completed-data results")
    names = [str(n) for n in parts[0][2]]
    idx = []
    for c in coefficients:
        if isinstance(c, (int, np.integer)):
            idx.append(int(c))
        elif str(c) in names:
            idx.append(names.index(str(c)))
        else:
            raise ImputationError(f"pooled_wald_test(): no coefficient {c!r} (coefficients: "
                                  f"{', '.join(names)})")
    k = len(idx)
    Q = np.vstack([p[0][idx] for p in parts])                 # m x k
    U = sum(p[1][np.ix_(idx, idx)] for p in parts) / m
    B = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    qbar = Q.mean(axis=0)
    r = (1 + 1 / m) * np.trace(B @ np.linalg.inv(U)) / k
    stat = float(qbar @ np.linalg.solve((1 + r) * U, qbar) / k)
    t = k * (m - 1)
    if df_complete is not None and np.isfinite(df_complete):
        # Reiter (2007): the small-sample df, as mitml
        a = r * t / (t - 2)
        vstar = (df_complete + 1) / (df_complete + 3) * df_complete
        c0, c1, c2 = 1 / (t - 4), vstar - 2 * (1 + a), vstar - 4 * (1 + a)
        z = (1 / c2 + c0 * (a ** 2 * c1 / ((1 + a) ** 2 * c2))
             + c0 * (8 * a ** 2 * c1 / ((1 + a) * c2 ** 2) + 4 * a ** 2 / ((1 + a) * c2))
             + c0 * (4 * a ** 2 / (c2 * c1) + 16 * a ** 2 * c1 / c2 ** 3) + c0 * (8 * a ** 2 / c2 ** 2))
        v = 4 + 1 / z
    elif t > 4:
        v = 4 + (t - 4) * (1 + (1 - 2 / t) / r) ** 2
    else:
        v = t * (1 + 1 / k) * (1 + 1 / r) ** 2 / 2
    return PooledWaldTest(coefficients=tuple(names[i] for i in idx), statistic=stat, df=k,
                          ddf=float(v), p_value=float(stats.f.sf(stat, k, v)), riv=float(r), m=m)
