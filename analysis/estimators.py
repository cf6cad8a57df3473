"""Design-based estimators: mean, total, proportion, ratio, quantile (R: svymean, svytotal,
svyciprop, svyratio, svyquantile).

Every estimator is a point function of the weights plus its weighted influence values; the
variance always comes from the design's one entry point ``design.vcov(point_fn, influence_fn)``
(Taylor linearisation or replicate weights), never from a formula of its own.

Confidence intervals follow R: ``mean``/``total``/``ratio`` use the normal quantile (R's
``confint`` default; pass ``df="degf"`` for t with the design df), ``proportion`` and ``quantile``
use t with the design df (``svyciprop``/``svyquantile``).

Example
-------
>>> d.mean("api00")
            estimate        se      ci_low     ci_high
variable
api00     662.287363  9.408941  643.846178  680.728548
[mean; 95% CI: normal; design df = 197]
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import AnalysisError
from analysis.factors import is_categorical
from analysis.results import SurveyEstimate, critical_value, make_estimate
from analysis.variance import ColumnwiseInfluence

CI_METHODS = ("logit", "beta", "likelihood", "asin", "mean", "xlogit", "wilson")
QRULES = ("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8",
          "hf9")
QUANTILE_INTERVALS = ("mean", "beta", "xlogit", "asin", "score")


# --------------------------------------------------------------------------- design matrices
@dataclass(frozen=True)
class _Columns:
    """Numeric matrix of the requested variables (categoricals as level indicators)."""

    Y: np.ndarray  # (n, k), NaN where the row is missing that variable
    labels: list  # (variable, level) per column; level "" for numeric variables
    categorical: bool  # any categorical variable among them


def _variables(data: pd.DataFrame, variables: str | Sequence[str]) -> _Columns:
    names = [variables] if isinstance(variables, str) else list(variables)
    if not names:
        raise ValueError("no variables given")
    blocks, labels, any_cat = [], [], False  # blocks: (n, c) arrays, stacked column-major
    for name in names:
        if name not in data.columns:
            raise KeyError(
                f"variable {name!r} not found in the design's data; available columns: "
                f"{', '.join(map(str, data.columns))}"
            )
        col = data[name]
        if is_categorical(col, logical=False):
            any_cat = True
            if isinstance(col.dtype, pd.CategoricalDtype):
                codes = col.cat.codes.to_numpy()
                levels = list(col.cat.categories)
            else:
                codes, uniques = pd.factorize(col, sort=True)  # R's factor(): sorted levels
                levels = list(uniques)
            ind = (codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64)
            ind[codes < 0] = np.nan
            blocks.append(ind)
            labels.extend((name, str(lev)) for lev in levels)
        else:
            try:
                x = col.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"variable {name!r} has dtype {col.dtype}: not numeric") from exc
            blocks.append(x[:, None])
            labels.append((name, ""))
    Y = _side_by_side(blocks)
    if Y is None:
        Y = np.empty((len(data), sum(b.shape[1] for b in blocks)), order="F")
        j = 0
        for b in blocks:
            Y[:, j:j + b.shape[1]] = b
            j += b.shape[1]
    return _Columns(Y, labels, any_cat)


def _root(a: np.ndarray):
    while isinstance(a, np.ndarray) and a.base is not None:
        a = a.base
    return a


def _side_by_side(blocks: list[np.ndarray]) -> np.ndarray | None:
    """The numeric columns as one read-only (n, k) column-major view, when they already lie
    side by side in one buffer (pandas keeps same-dtype columns as the rows of one 2-D block,
    so ``d.mean(["x1", ..., "x6"])`` on consecutive columns needs no n x k copy); else None."""
    cols = [b[:, 0] for b in blocks]
    if len(cols) < 2 or any(b.shape[1] != 1 for b in blocks):
        return None
    n = cols[0].shape[0]
    if any(c.dtype != np.float64 or c.strides != (8,) or c.shape != (n,) for c in cols):
        return None
    root = _root(cols[0])
    if root is cols[0] or any(_root(c) is not root for c in cols):
        return None                      # not views of one common buffer
    start = [c.__array_interface__["data"][0] for c in cols]
    if any(a != start[0] + j * 8 * n for j, a in enumerate(start)):
        return None
    # first and last column lie in the same contiguous buffer, so everything between does too
    view = np.lib.stride_tricks.as_strided(cols[0], shape=(n, len(cols)), strides=(8, 8 * n),
                                           writeable=False)
    return view


def _index(labels: list, categorical: bool) -> pd.Index:
    if categorical:
        return pd.MultiIndex.from_tuples(labels, names=["variable", "level"])
    return pd.Index([v for v, _ in labels], name="variable")


class MissingValuesError(AnalysisError):
    """A variable has missing values and the call did not say what to do with them."""


#: what na_rm takes: False (an error naming the rows), True (leave those rows out), or
#: "propagate" (R's na.rm = FALSE: NaN for every statistic a missing value enters, with a note)
NA_RM = (False, True, "propagate")


def _na_mode(na_rm):
    """na_rm as False, True or "propagate" (numpy booleans are booleans)."""
    if isinstance(na_rm, str):
        if na_rm == "propagate":
            return na_rm
    elif isinstance(na_rm, (bool, np.bool_)):
        return bool(na_rm)
    raise AnalysisError(f"na_rm must be False, True or 'propagate', got {na_rm!r}")


def _handle_missing(design, Y: np.ndarray, labels: list, na_rm, data: pd.DataFrame):
    """Rows missing any variable: dropped from the domain when na_rm (keeping their PSU, as R's
    subset), an error otherwise.  Returns (effective design, Y with zeros outside).
    ``na_rm="propagate"`` is handled by :func:`_missing_or_propagate`."""
    na_rm = _na_mode(na_rm)
    nan = np.isnan(Y)
    missing = nan.any(axis=1) & design.domain
    if missing.any():
        if na_rm is False:
            cols = np.isnan(Y[missing]).any(axis=0)
            names = sorted({labels[j][0] for j in np.flatnonzero(cols)})
            rows = data.index[missing]
            raise MissingValuesError(
                f"variable(s) {', '.join(map(repr, names))} have {int(missing.sum())} missing "
                f"value(s) in rows {', '.join(map(str, rows[:10]))}"
                f"{' ...' if len(rows) > 10 else ''}; pass na_rm=True to leave them out "
                f"(their PSUs stay in the variance), or na_rm='propagate' for NaN as R's "
                f"na.rm=FALSE"
            )
        if na_rm == "propagate":
            raise AnalysisError(
                "na_rm='propagate' (NaN as R's na.rm=FALSE) is for means, totals, ratios, "
                "variances and proportions; R's svyquantile fails on missing values: pass "
                "na_rm=True to leave those rows out")
        design = design._restrict(~missing)
    if not np.any(design.weights != 0):
        raise ValueError(
            "no rows with non-zero weight left to estimate from (empty subset, or every row "
            "missing the variables)"
        )
    outside = ~design.domain
    if outside.any() or nan.any():
        Y = Y.copy(order="F")
        Y[nan] = 0.0
        Y[outside] = 0.0
    return design, Y


def _missing_or_propagate(design, Y: np.ndarray, labels: list, na_rm, data: pd.DataFrame):
    """As :func:`_handle_missing`, and for ``na_rm="propagate"`` (R's na.rm = FALSE): every row
    stays, the missing values enter as 0, and the columns they touch are returned (to be set
    to NaN, as R's estimates of those variables), with a note naming the variables.

    Returns (design, Y, columns with a missing value or None, note or None)."""
    if _na_mode(na_rm) != "propagate":
        design, Y = _handle_missing(design, Y, labels, na_rm, data)
        return design, Y, None, None
    nan = np.isnan(Y) & design.domain[:, None]
    bad = nan.any(axis=0)
    if not bad.any():
        design, Y = _handle_missing(design, Y, labels, False, data)
        return design, Y, None, None
    rows = nan.any(axis=1)
    Y = np.where(np.isnan(Y) | ~design.domain[:, None], 0.0, Y)
    names = list(dict.fromkeys(labels[j][0] for j in np.flatnonzero(bad)))
    note = (f"NA for {', '.join(names)}: {int(rows.sum())} row(s) with missing values "
            "(na_rm='propagate', as R's na.rm=FALSE; na_rm=True leaves those rows out)")
    return design, Y, bad, note


def _nan_columns(est: np.ndarray, V: np.ndarray, bad: np.ndarray | None):
    """NaN for the estimates (and covariance rows/columns) of the columns in ``bad``."""
    if bad is None:
        return est, V
    est, V = np.array(est, dtype=np.float64), np.array(V, dtype=np.float64)
    est[bad] = np.nan
    V[bad, :] = np.nan
    V[:, bad] = np.nan
    return est, V


def _nan_point_fn(point_fn, bad: np.ndarray | None):
    """The replicate point function with NaN in the columns of ``bad``."""
    if bad is None:
        return point_fn

    def fn(W):
        out = np.array(point_fn(W), dtype=np.float64)
        out[..., bad] = np.nan
        return out

    return fn


def _ci_df(design, df) -> float:
    if df is None:
        return np.inf
    if isinstance(df, str):
        if df != "degf":
            raise ValueError(f"df must be None, 'degf' or a number, got {df!r}")
        return float(design.degf)
    return float(df)


# --------------------------------------------------------------------------- linear statistics
@dataclass(frozen=True)
class _Linear:
    """A smooth statistic: estimate, point function of weights, weighted influence values."""

    estimate: np.ndarray
    point_fn: Callable[[np.ndarray], np.ndarray]
    influence_fn: Callable[[], np.ndarray]


def _mean_stat(design, Y: np.ndarray) -> _Linear:
    w = design.weights
    psum = w.sum()
    est = (w @ Y) / psum

    def point_fn(W):
        return (W.T @ Y) / W.sum(axis=0)[:, None]

    def influence_fn():
        # w (y_j - ybar_j) / sum w, one column at a time: the engine needs only PSU totals
        f = w / psum
        return ColumnwiseInfluence(Y.shape[0], Y.shape[1], lambda j: (Y[:, j] - est[j]) * f, fresh=True)

    return _Linear(est, point_fn, influence_fn)


def _total_stat(design, Y: np.ndarray) -> _Linear:
    w = design.weights
    est = w @ Y

    def point_fn(W):
        return W.T @ Y

    def influence_fn():
        return ColumnwiseInfluence(Y.shape[0], Y.shape[1], lambda j: w * Y[:, j], fresh=True)

    return _Linear(est, point_fn, influence_fn)


def _ratio_stat(design, num: np.ndarray, den: np.ndarray) -> _Linear:
    """Ratios num[:, j] / den[:, j] of totals (columns paired)."""
    w = design.weights
    tden = w @ den
    est = (w @ num) / tden

    def point_fn(W):
        return (W.T @ num) / (W.T @ den)

    def influence_fn():
        return ColumnwiseInfluence(
            num.shape[0], num.shape[1],
            lambda j: w * (num[:, j] - est[j] * den[:, j]) / tden[j], fresh=True)

    return _Linear(est, point_fn, influence_fn)


def _n_obs(design) -> int:
    """R's nobs for design effects: rows with non-zero weight (Taylor designs), rows of the
    design (replicate designs, whose subsets drop rows)."""
    if design.is_replicate:
        return design.n
    return int(np.count_nonzero(design.weights))


def _weighted_var(design, Y: np.ndarray) -> np.ndarray:
    """R's svyvar diagonal: sum w (y - ybar)^2 / sum w * n/(n-1), n = _n_obs(design)."""
    w = design.weights
    n = _n_obs(design)
    psum = w.sum()
    ybar = (w @ Y) / psum
    return (w @ (Y - ybar) ** 2) / psum * n / (n - 1)


def _deff(design, Y: np.ndarray, V: np.ndarray, kind: str, mode) -> np.ndarray:
    """Design effect against simple random sampling, as R's svymean/svytotal deff=.

    mode True: SRS without replacement (factor (N - n)/N, N = sum of weights);
    mode "replace": SRS with replacement."""
    w = design.weights
    nobs = _n_obs(design)
    psum = w.sum()
    s2 = _weighted_var(design, Y)
    if kind == "mean":
        if mode == "replace":
            vsrs = s2 / nobs
        elif psum < nobs:
            warnings.warn(
                "Sample size greater than population size: are weights correctly scaled? "
                "(deff is NaN)", stacklevel=3)
            vsrs = np.full_like(s2, np.nan)
        else:
            vsrs = s2 * (psum - nobs) / (psum * nobs)
    else:
        if mode == "replace":
            vsrs = s2 * psum**2 / nobs
        else:
            vsrs = s2 * psum**2 * (psum - nobs) / (psum * nobs)
    return np.diag(V) / vsrs


def _check_deff(deff):
    if deff not in (False, True, "replace"):
        raise ValueError(f"deff must be False, True or 'replace', got {deff!r}")


def _sqrt_estimate(v: SurveyEstimate, level: float) -> SurveyEstimate:
    """Square roots of variance estimates with delta-method covariance."""
    est = np.sqrt(v["estimate"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        J = np.diag(0.5 / est)
    V = J @ np.asarray(v.vcov) @ J.T
    return make_estimate(v.index, est, V, v.attrs["df"], v.attrs["ci_df"], "sd", level,
                         note=v.attrs.get("note"))


def attach_replicates(out: SurveyEstimate, design, point_fn) -> SurveyEstimate:
    """Keep the replicate estimates (R's return.replicates=TRUE) in ``attrs["replicates"]``:
    ``values`` (R, k), and the design's ``scale``, ``rscales`` and ``mse``."""
    if not design.is_replicate:
        raise AnalysisError("return_replicates needs a replicate design (design.replicate(...) "
                            "or ReplicateDesign): a Taylor design has no replicate estimates")
    values = np.asarray(point_fn(design.repweights), dtype=np.float64)
    out.attrs["replicates"] = {"values": values, "scale": design.scale,
                               "rscales": np.asarray(design.rscales), "mse": design.mse}
    return out


# --------------------------------------------------------------------------- the mixin
class EstimatorMixin:
    """Estimator methods shared by SurveyDesign and ReplicateDesign."""

    def mean(self, variables, na_rm: bool = False, deff=False, df=None,
             level: float = 0.95, return_replicates: bool = False) -> SurveyEstimate:
        """Weighted mean(s) with linearisation/replicate SEs (R: svymean).

        A categorical variable gives one row per level (the proportions).  ``deff=True`` adds the
        design effect against SRS without replacement, ``deff="replace"`` with replacement.
        CI: normal (R's confint default); ``df="degf"`` uses t with the design df.
        ``return_replicates=True`` (replicate designs) keeps the replicate estimates in
        ``attrs["replicates"]`` (R's return.replicates), which nonlinear contrasts then use.
        ``na_rm``: rows with a missing value are an error naming them (False, default), left
        out of the domain (True; their PSUs stay in the variance, R's na.rm = TRUE), or kept
        with NaN for every statistic they enter ("propagate", R's na.rm = FALSE; a note names
        the variables). The same for total, ratio, var, sd and proportion.

        >>> d.mean(["api00", "api99"])
                    estimate        se      ci_low     ci_high
        variable
        api00     662.287363  9.408941  643.846178  680.728548
        api99     629.394845  9.963947  609.865867  648.923823
        [mean; 95% CI: normal; design df = 197]
        """
        return self._linear("mean", variables, na_rm, deff, df, level, return_replicates)

    def total(self, variables, na_rm: bool = False, deff=False, df=None,
              level: float = 0.95, return_replicates: bool = False) -> SurveyEstimate:
        """Weighted total(s) (R: svytotal); a categorical variable gives one row per level.

        >>> d.total("enroll")
                      estimate             se        ci_low       ci_high
        variable
        enroll    3.687178e+06  114641.716101  3.462484e+06  3.911871e+06
        [total; 95% CI: normal; design df = 197]
        """
        return self._linear("total", variables, na_rm, deff, df, level, return_replicates)

    def _linear(self, kind, variables, na_rm, deff, df, level, return_replicates=False):
        _check_deff(deff)
        cols = _variables(self.data, variables)
        design, Y, bad, note = _missing_or_propagate(self, cols.Y, cols.labels, na_rm, self.data)
        stat = (_mean_stat if kind == "mean" else _total_stat)(design, Y)
        V = design.vcov(stat.point_fn, stat.influence_fn)
        d = _deff(design, Y, V, kind, deff) if deff is not False else None
        est, V = _nan_columns(stat.estimate, V, bad)
        if d is not None and bad is not None:
            d = np.where(bad, np.nan, d)
        # R: confint(x, df=degf(design)) uses the df of the design as given (before na.rm)
        out = make_estimate(
            _index(cols.labels, cols.categorical), est, V, self.degf,
            _ci_df(self, df), kind, level, deff=d, note=note,
        )
        if return_replicates:
            return attach_replicates(out, design, _nan_point_fn(stat.point_fn, bad))
        return out

    def var(self, variables, na_rm: bool = False, df=None, level: float = 0.95,
            return_replicates: bool = False) -> SurveyEstimate:
        """Population variance(s) with SEs (R: svyvar): sum w (y - ybar)^2 / sum w * n/(n-1),
        n the rows with non-zero weight. Taylor: the SE is that of the mean of
        (y - ybar)^2 n/(n-1) (R's svyvar.survey.design); replicates re-estimate ybar and the
        variance with every replicate weight (svyvar.svyrep.design). One row: NaN, as R.

        >>> d.var("api00")
                      estimate           se        ci_low       ci_high
        variable
        api00     15190.586206  1255.739979  12729.381074  17651.791338
        [variance; 95% CI: normal; design df = 197]
        """
        cols = _variables(self.data, variables)
        if cols.categorical:
            raise TypeError("var() needs numeric variables")
        design, Y, bad, note = _missing_or_propagate(self, cols.Y, cols.labels, na_rm, self.data)
        n = _n_obs(design)
        if bad is not None:
            # R's svyvar: n counts the rows without a missing value in any of the variables
            n -= int(np.count_nonzero(np.isnan(cols.Y).any(axis=1) & (design.weights != 0)))
        index = _index(cols.labels, False)
        k = Y.shape[1]
        if n < 2:
            return make_estimate(index, np.full(k, np.nan), np.full((k, k), np.nan), self.degf,
                                 _ci_df(self, df), "variance", level, note=note)
        w = design.weights
        ybar = (w @ Y) / w.sum()
        Z = np.where(design.domain[:, None], (Y - ybar) ** 2 * n / (n - 1), 0.0)
        stat = _mean_stat(design, Z)
        Y2 = Y * Y

        def point_fn(W):
            s0 = W.sum(axis=0)[:, None]
            s1 = W.T @ Y
            s2 = W.T @ Y2
            return (s2 - s1 * s1 / s0) / s0 * n / (n - 1)

        V = design.vcov(point_fn, stat.influence_fn)
        est, V = _nan_columns(stat.estimate, V, bad)
        out = make_estimate(index, est, V, self.degf, _ci_df(self, df), "variance",
                            level, note=note)
        if return_replicates:
            return attach_replicates(out, design, _nan_point_fn(point_fn, bad))
        return out

    def sd(self, variables, na_rm: bool = False, df=None, level: float = 0.95) -> SurveyEstimate:
        """Population standard deviation(s): the square root of :meth:`var`, SE by the delta
        method (R: svycontrast(svyvar(~y, d), quote(sqrt(y)))); Wald CI on the SD scale.

        >>> d.sd("api00")
                    estimate        se      ci_low     ci_high
        variable
        api00     123.250096  5.094276  113.265499  133.234693
        [sd; 95% CI: normal; design df = 197]
        """
        v = self.var(variables, na_rm=na_rm, df=df, level=level)
        return _sqrt_estimate(v, level)

    def ratio(self, numerator, denominator, na_rm: bool = False, deff=False, df=None,
              level: float = 0.95, return_replicates: bool = False) -> SurveyEstimate:
        """Ratio(s) of totals sum(w y) / sum(w x) (R: svyratio); every numerator is divided
        by every denominator.  CI normal as R's confint; ``df="degf"`` for t.

        >>> d.ratio("api.stu", "enroll")
                        estimate        se    ci_low   ci_high
        ratio
        api.stu/enroll  0.836957  0.007757  0.821753  0.852161
        [ratio; 95% CI: normal; design df = 197]
        """
        _check_deff(deff)
        nums = [numerator] if isinstance(numerator, str) else list(numerator)
        dens = [denominator] if isinstance(denominator, str) else list(denominator)
        both = _variables(self.data, nums + dens)
        if both.categorical:
            cat = sorted({v for v, lev in both.labels if lev != ""})
            raise TypeError(f"ratio() needs numeric numerator and denominator variables; "
                            f"{', '.join(map(repr, cat))} is categorical")
        design, Y, bad_col, note = _missing_or_propagate(self, both.Y, both.labels, na_rm,
                                                         self.data)
        k = len(nums)
        pairs = [(i, j) for i in range(k) for j in range(len(dens))]
        num = Y[:, [i for i, _ in pairs]]
        den = Y[:, [k + j for _, j in pairs]]
        # a ratio is NaN when its numerator or its denominator has a missing value
        bad = None if bad_col is None else np.array([bad_col[i] or bad_col[k + j]
                                                      for i, j in pairs])
        stat = _ratio_stat(design, num, den)
        V = design.vcov(stat.point_fn, stat.influence_fn)
        d = None
        if deff is not False:
            # R: deff(svytotal(r, design, deff)) with r = (y - R x) / sum(w x)
            r = (num - stat.estimate * den) / (design.weights @ den)
            d = _deff(design, r, V, "total", deff)
            if bad is not None:
                d = np.where(bad, np.nan, d)
        est, V = _nan_columns(stat.estimate, V, bad)
        index = pd.Index([f"{nums[i]}/{dens[j]}" for i, j in pairs], name="ratio")
        out = make_estimate(index, est, V, self.degf, _ci_df(self, df), "ratio",
                            level, deff=d, note=note)
        if return_replicates:
            return attach_replicates(out, design, _nan_point_fn(stat.point_fn, bad))
        return out

    def proportion(self, variable: str, level=None, ci_method: str = "logit",
                   na_rm: bool = False, df=None, conf_level: float = 0.95) -> SurveyEstimate:
        """Proportion(s) with R's svyciprop confidence intervals (t with the design df).

        variable: a 0/1 or boolean column (the proportion of 1/True), or a categorical column
        (one row per level, or only ``level``).  ci_method: "logit" (default), "likelihood",
        "asin", "beta", "mean", "xlogit" as R; "wilson" (score interval with the Kish effective
        sample size p(1-p)/var and t(degf) critical value; not in R survey 4.1).

        >>> d.proportion("sch.wide", level="Yes", ci_method="beta")
                        estimate        se    ci_low   ci_high
        variable level
        sch.wide Yes    0.827948  0.024345  0.774171  0.873432
        [proportion; 95% CI: t(197); design df = 197; ci_method=beta]
        """
        if ci_method not in CI_METHODS:
            raise ValueError(f"ci_method must be one of {CI_METHODS}, got {ci_method!r}")
        if not isinstance(variable, str):
            raise TypeError("proportion() takes one variable name")
        Y, labels = _indicators(self.data, variable, level)
        design, Y, bad, na_note = _missing_or_propagate(self, Y, labels, na_rm, self.data)
        stat = _mean_stat(design, Y)
        V = design.vcov(stat.point_fn, stat.influence_fn)
        # R's svyciprop: df = degf(design) of the design as given (na.rm acts inside svymean)
        dfd = float(self.degf) if df is None else _ci_df(self, df)
        degenerate = (stat.estimate <= 0) | (stat.estimate >= 1)
        if bad is not None:
            degenerate &= ~bad
        if degenerate.any() and ci_method != "mean":
            warnings.warn(
                f"proportion of {[labels[j] for j in np.flatnonzero(degenerate)]} is 0 or 1: "
                f"the {ci_method!r} interval is undefined (NaN); ci_method='mean' gives the "
                f"degenerate Wald interval", stacklevel=2)
        lo, hi = _prop_ci(design, Y, stat.estimate, np.diag(V), ci_method, conf_level, dfd,
                          n_rows=self.n, design_degf=self.degf)
        if ci_method != "mean":
            lo, hi = np.where(degenerate, np.nan, lo), np.where(degenerate, np.nan, hi)
        est, V = _nan_columns(stat.estimate, V, bad)
        if bad is not None:
            lo, hi = np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
        index = pd.MultiIndex.from_tuples(labels, names=["variable", "level"])
        note = f"ci_method={ci_method}" if na_note is None else f"ci_method={ci_method}; {na_note}"
        return make_estimate(index, est, V, self.degf, dfd, "proportion",
                             conf_level, ci=(lo, hi), note=note)

    def quantile(self, variables, q=0.5, qrule: str = "math", interval: str = "mean",
                 na_rm: bool = False, df=None, level: float = 0.95) -> SurveyEstimate:
        """Quantiles with Woodruff confidence intervals (R survey 4.1 svyquantile).

        qrule as R survey 4.5: "math" = "hf1" (R's default: the smallest x whose weighted CDF
        reaches q), "school" = "hf2" (the midpoint where the CDF equals q), "hf3", "hf4",
        the interpolating "hf5", "hf6", "hf7", "hf8", "hf9", and "shahvaish"; interval "mean" (default): a t(degf) Wald interval for the CDF
        at the estimate, mapped back through the quantile rule; "beta", "xlogit", "asin": the
        CDF interval by that svyciprop method; "score": R's inverted score test (ffullerCI).
        se = CI width / (2 t), as R.

        >>> d.quantile("api00", [0.25, 0.5, 0.75])
                           estimate         se  ci_low  ci_high
        variable quantile
        api00    0.25         565.0  15.719451   535.0    597.0
                 0.50         668.0  13.184056   642.0    694.0
                 0.75         756.0  13.184056   726.0    778.0
        [quantile; 95% CI: t(197); design df = 197; qrule=math, interval=mean]
        """
        return _quantile_table(self, variables, q, qrule, interval, na_rm, df, level)


def _indicators(data: pd.DataFrame, variable: str, level) -> tuple[np.ndarray, list]:
    """The 0/1 columns (NaN where missing) whose means are the proportions of ``variable``:
    every level of a categorical (or only ``level``), ``variable == level`` for a numeric
    column, or the 0/1 column itself; with their (variable, level) labels."""
    cols = _variables(data, variable)
    if cols.categorical:
        Y, labels = cols.Y, cols.labels
        if level is not None:
            keep = [j for j, (_, lev) in enumerate(labels) if lev == str(level)]
            if not keep:
                raise ValueError(
                    f"level {level!r} not found in {variable!r}; levels are "
                    f"{[lev for _, lev in labels]}"
                )
            Y, labels = Y[:, keep], [labels[j] for j in keep]
    else:
        y = cols.Y[:, 0]
        if level is not None:
            Y = np.where(np.isnan(y), np.nan, (y == float(level)).astype(np.float64))[:, None]
            labels = [(variable, str(level))]
        else:
            ok = y[~np.isnan(y)]
            if not np.all((ok == 0) | (ok == 1)):
                other = np.unique(ok[(ok != 0) & (ok != 1)])
                raise ValueError(
                    f"variable {variable!r} is not 0/1 (also has {other[:5].tolist()}): "
                    f"give level= to choose the category"
                )
            Y, labels = cols.Y, [(variable, "1")]
    return Y, labels


# --------------------------------------------------------------------------- proportion CIs
def _expit(x):
    return special.expit(x)


def _prop_ci(design, Y, p, var, method, level, df, n_rows, design_degf):
    """R's svyciprop intervals for each column (t quantile with df unless df is inf);
    n_rows, design_degf: nrow(design) and degf(design) of the design given: the beta method
    rescales the effective n by (t_{n_rows-1} / t_{design_degf})^2 whatever df is, as R."""
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    alpha = 1 - level
    q = critical_value(level, df)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            return p - q * se, p + q * se
        if method in ("logit", "xlogit"):
            eta = np.log(p / (1 - p))
            se_eta = se / (p * (1 - p))
            return _expit(eta - q * se_eta), _expit(eta + q * se_eta)
        if method == "asin":
            eta = np.arcsin(np.sqrt(p))
            se_eta = se / (2 * np.sqrt(p * (1 - p)))
            return np.sin(eta - q * se_eta) ** 2, np.sin(eta + q * se_eta) ** 2
        if method == "beta":
            n_eff = p * (1 - p) / var
            n_eff = n_eff * (stats.t.ppf(alpha / 2, n_rows - 1)
                             / stats.t.ppf(alpha / 2, design_degf)) ** 2
            lo = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
            return lo, hi
        if method == "wilson":
            n_eff = p * (1 - p) / var
            z2 = q * q
            centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
            half = q / (1 + z2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
            return centre - half, centre + half
    # likelihood: profile of the weighted binomial working likelihood
    lo, hi = np.empty_like(p), np.empty_like(p)
    for j in range(p.shape[0]):
        lo[j], hi[j] = _likelihood_ci(design, Y[:, j], p[j], var[j], level, df)
    return lo, hi


def _fmm_spline(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's spline(method="fmm") (Forsythe, Malcolm & Moler): cubic spline whose end third
    derivatives match those of the cubics through the first and last four points."""
    n = x.shape[0]
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    if n < 3:
        b[:] = (y[1] - y[0]) / (x[1] - x[0])
    else:
        nm1 = n - 1
        d[0] = x[1] - x[0]
        c[1] = (y[1] - y[0]) / d[0]
        for i in range(1, nm1):
            d[i] = x[i + 1] - x[i]
            b[i] = 2.0 * (d[i - 1] + d[i])
            c[i + 1] = (y[i + 1] - y[i]) / d[i]
            c[i] = c[i + 1] - c[i]
        b[0], b[nm1] = -d[0], -d[n - 2]
        c[0] = c[nm1] = 0.0
        if n > 3:
            c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
            c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
            c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
            c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
        for i in range(1, n):
            t = d[i - 1] / b[i - 1]
            b[i] = b[i] - t * d[i - 1]
            c[i] = c[i] - t * c[i - 1]
        c[nm1] = c[nm1] / b[nm1]
        for i in range(n - 2, -1, -1):
            c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
        b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
        for i in range(nm1):
            b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
            d[i] = (c[i + 1] - c[i]) / d[i]
            c[i] = 3.0 * c[i]
        c[nm1] = 3.0 * c[nm1]
        d[nm1] = d[n - 2]
    i = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, n - 1)
    dx = xout - x[i]
    return y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def _r_logistic_intercept(y: np.ndarray, wt: np.ndarray, epsilon: float = 1e-8,
                          maxit: int = 25) -> tuple[float, float]:
    """R's glm.fit for an intercept-only (quasi)binomial model: returns the coefficient and
    the fitted mean whose working weights entered the last weighted least-squares step."""
    mu = (wt * y + 0.5) / (wt + 1)  # binomial()$initialize
    eta = np.log(mu / (1 - mu))

    def deviance(m):
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(y > 0, y * np.log(y / m), 0.0)
            t2 = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - m)), 0.0)
        return np.sum(2 * wt * (t1 + t2))

    dev_old = deviance(mu)
    for _ in range(maxit):
        v = mu * (1 - mu)
        z = eta + (y - mu) / v
        w2 = wt * v
        mu_used = mu
        beta = np.sum(w2 * z) / np.sum(w2)
        eta = np.full_like(y, beta)
        mu = _expit(eta)
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            break
        dev_old = dev
    return float(beta), mu_used


def _likelihood_ci(design, y, p, var, level, df):
    """R's svyciprop(method="likelihood"), step by step: the quasibinomial working deviance of
    the intercept-only svyglm (weights rescaled to mean 1) divided by the dispersion (svyvar of
    its Pearson residuals) is profiled at up to 9 steps of (zmax/5) * SE on each side (MASS's
    profile.glm), a fmm spline is laid through the signed roots and inverted linearly at
    +-t_{df} * sqrt(lambda), lambda = design variance / model-based variance of the logit."""
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    w = design.weights
    inset = design.domain
    wt = w / w[inset].mean()
    # R's numbers come from glm's IRLS (converged to 1e-8 in deviance): the fit and, above
    # all, the model-based variance (from the working weights of the last iteration) differ
    # from the exact ones in the 5th digit; replay IRLS so the interval is R's
    beta0, mu_last = _r_logistic_intercept(y[inset], wt[inset])
    p = _expit(beta0)
    info = np.sum(wt[inset] * mu_last * (1 - mu_last))
    var_beta = var / (p * (1 - p)) ** 2
    lam = var_beta * info  # cov.unscaled / naive.cov
    r = np.where(inset, (y - p) / np.sqrt(p * (1 - p)), 0.0)
    disp = float(_weighted_var(design, r[:, None])[0])

    def dev(b):
        mu = _expit(b)
        return -2 * np.sum(wt * (y * np.log(mu) + (1 - y) * np.log1p(-mu)))

    d0 = dev(beta0)
    a = (1 - level) / 2
    q = stats.t.ppf(a, df) if np.isfinite(df) else stats.norm.ppf(a)
    alpha = stats.norm.cdf(q * np.sqrt(lam)) / 2
    n_obs = int(np.count_nonzero(inset))
    zmax = np.sqrt(stats.f.isf(alpha, 1, n_obs - 1))
    step_size = zmax / 5 * np.sqrt(var_beta)
    zs, bs = [0.0], [beta0]
    for sgn in (-1.0, 1.0):
        step, z = 0, 0.0
        while (step := step + 1) < 10 and abs(z) < zmax:
            bi = beta0 + sgn * step * step_size
            zz = (dev(bi) - d0) / disp
            if zz < -0.001:
                raise RuntimeError("profiling found a better fit: the proportion did not converge")
            z = sgn * np.sqrt(max(zz, 0.0))
            zs.append(z)
            bs.append(bi)
    order = np.argsort(zs, kind="stable")
    z_arr, b_arr = np.asarray(zs)[order], np.asarray(bs)[order]
    # R: spline(x = par.vals, y = z) on 3 * length(x) points, then approx(sp$y, sp$x, cutoff)
    order_b = np.argsort(b_arr, kind="stable")
    xb, yz = b_arr[order_b], z_arr[order_b]
    m = 3 * xb.shape[0]
    grid = xb[0] + np.arange(m) * ((xb[-1] - xb[0]) / (m - 1))
    grid[-1] = xb[-1]
    sz = _fmm_spline(xb, yz, grid)
    cut = q * np.sqrt(lam)
    lo, hi = np.interp([cut, -cut], sz, grid)
    return _expit(lo), _expit(hi)


# --------------------------------------------------------------------------- quantiles
def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R survey's qrule_math: the smallest x with weighted CDF >= p (zero weights dropped).

    One deliberate difference: when the smallest x alone has CDF >= p, this is that x; R's qs()
    then falls back to position 1 and returns the next value (tested beside R's number)."""
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, cumw = x[order], np.cumsum(w[order])
    total = cumw[-1]
    below = np.flatnonzero(cumw <= p * total)
    if below.size == 0:
        return float(x[0])
    pos = below[-1]
    nxt = pos if pos == x.shape[0] - 1 else pos + 1
    return float(x[pos] if p - cumw[pos] / total == 0 else x[nxt])


def _qrule_hf7(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R survey's qrule_hf7: interpolate the sorted x at weighted plotting positions
    (cumw before the value) / (cumw up to the second-largest value)."""
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, cumw = x[order], np.cumsum(w[order])
    pk = np.concatenate([[0.0], cumw[:-1]]) / cumw[-2]
    return float(np.interp(p, pk, x))


def _sorted_positive(x: np.ndarray, w: np.ndarray):
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    return x[order], w[order]


def _qs(x: np.ndarray, w: np.ndarray, p: float):
    """R survey 4.5's qs(): the last sorted value with cumulative weight <= p * total (the first
    if there is none), the next one, and the weight gaps wlow = p - F(low), wup = F(up) - p.
    x, w sorted, zero weights removed. Returns (qlow, qup, ilow (1-based), wlow, wup)."""
    cumw = np.cumsum(w)
    total = math.fsum(w)              # R's sum() accumulates in long double
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if below.size else 0
    nxt = pos if pos == x.shape[0] - 1 else pos + 1
    return x[pos], x[nxt], pos + 1, p - cumw[pos] / total, cumw[nxt] / total - p


def _qrule_school(x, w, p):
    """R's qrule_hf2 / "school": the midpoint where the CDF meets p exactly."""
    x, w = _sorted_positive(x, w)
    lo, up, _, wlow, _ = _qs(x, w, p)
    return float((lo + up) / 2 if wlow <= 0 else up)


def _qrule_hf3(x, w, p):
    """R's qrule_hf3: on the distinct values, the lower one at an exact even position."""
    x, w = _sorted_positive(x, w)
    ux, inv = np.unique(x, return_inverse=True)
    uw = np.bincount(inv, weights=w)
    lo, up, ilow, wlow, _ = _qs(ux, uw, p)
    return float(lo if (wlow <= 0 and ilow % 2 == 0) else up)


def _qrule_hf4(x, w, p):
    """R's qrule_hf4: linear in the weighted CDF between the two values around p."""
    x, w = _sorted_positive(x, w)
    lo, up, _, wlow, wup = _qs(x, w, p)
    gamma = wlow / (wup + wlow)
    return float(lo * (1 - gamma) + up * gamma)


def _interpolated(pk_fn):
    def rule(x, w, p):
        x, w = _sorted_positive(x, w)
        if x.shape[0] == 1:
            return float(x[0])
        return float(np.interp(p, pk_fn(np.cumsum(w), w), x))   # R: approx(rule = 2)
    return rule


# plotting positions of the continuous rules (R survey's qrule_hf5, hf6, hf8, hf9)
_qrule_hf5 = _interpolated(lambda c, w: (c - w / 2) / c[-1])
_qrule_hf6 = _interpolated(lambda c, w: c / (c[-1] + w[-1]))
_qrule_hf8 = _interpolated(
    lambda c, w: (np.concatenate([[0.0], c[:-1]]) / 3 + c * 2 / 3) / (c[-1] + w[-1] / 3))
_qrule_hf9 = _interpolated(
    lambda c, w: (np.concatenate([[0.0], c[:-1]]) * 3 / 8 + c * 5 / 8) / (c[-1] + w[-1] / 4))


def _qrule_shahvaish(x, w, p):
    """R's qrule_shahvaish (Shah & Vaish 2006): a step function of the positions
    (S + 1/2 - w/2) / (n + 1), S the cumulative weights scaled to mean 1."""
    x, w = _sorted_positive(x, w)
    n = x.shape[0]
    if n == 1:
        return float(x[0])
    # as R: the scaled weights in the sum, the raw weights in the correction (so the positions
    # need not increase when the weights vary)
    pk = (np.cumsum(w / np.mean(w)) + 0.5 - w / 2) / (n + 1)
    # R: approx(pk, x, p, method="constant", f=0, rule=2), which first sorts the points by pk
    # and averages x over tied pk, then takes the value at the last pk <= p
    order = np.argsort(pk, kind="stable")
    pk, xs = pk[order], x[order]
    upk, start, counts = np.unique(pk, return_index=True, return_counts=True)
    ux = np.add.reduceat(xs, start) / counts
    i = int(np.searchsorted(upk, p, side="right")) - 1
    return float(ux[min(max(i, 0), upk.shape[0] - 1)])


_QRULE_FN = {"math": _qrule_math, "hf1": _qrule_math, "school": _qrule_school,
             "hf2": _qrule_school, "hf3": _qrule_hf3, "hf4": _qrule_hf4, "hf5": _qrule_hf5,
             "hf6": _qrule_hf6, "hf7": _qrule_hf7, "hf8": _qrule_hf8, "hf9": _qrule_hf9,
             "shahvaish": _qrule_shahvaish}


def _quantile_table(design, variables, q, qrule, interval, na_rm, df, level):
    if qrule not in QRULES:
        raise ValueError(f"qrule must be one of {QRULES}, got {qrule!r}")
    if interval not in QUANTILE_INTERVALS:
        raise ValueError(f"interval must be one of {QUANTILE_INTERVALS}, got {interval!r}")
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"quantiles must lie in [0, 1], got {qs.tolist()}")
    names = [variables] if isinstance(variables, str) else list(variables)
    rule = _QRULE_FN[qrule]
    alpha = 1 - level
    rows, est, lo, hi, se = [], [], [], [], []
    dfs = []
    for name in names:
        cols = _variables(design.data, name)
        if cols.categorical:
            raise TypeError(f"quantile() needs a numeric variable, {name!r} is categorical")
        d, Y = _handle_missing(design, cols.Y, cols.labels, na_rm, design.data)
        ci_df = float(d.degf) if df is None else _ci_df(d, df)
        crit = critical_value(level, ci_df)
        x = Y[:, 0]
        w = d.weights
        inx = w != 0
        for p in qs:
            qhat = rule(x[inx], w[inx], p)
            if interval == "score":
                low, high = _score_interval(d, x, p, rule, level, ci_df)
            else:
                # Woodruff: CI of the CDF at qhat (a mean of an indicator), mapped back
                # through the quantile rule
                Yi = np.where(d.domain, (x <= qhat).astype(np.float64), 0.0)[:, None]
                stat = _mean_stat(d, Yi)
                v = d.vcov(stat.point_fn, stat.influence_fn)[0, 0]
                m, s_ = stat.estimate[0], np.sqrt(v)
                if interval == "mean":
                    p_lo, p_hi = m - crit * s_, m + crit * s_
                else:
                    p_lo, p_hi = (float(b[0]) for b in _prop_ci(
                        d, Yi, np.array([m]), np.array([v]),
                        {"beta": "beta", "xlogit": "xlogit", "asin": "asin"}[interval],
                        level, ci_df, n_rows=d.n, design_degf=d.degf))
                low = np.nan if (np.isnan(p_lo) or p_lo < 0) else rule(x[inx], w[inx], p_lo)
                high = np.nan if (np.isnan(p_hi) or p_hi > 1) else rule(x[inx], w[inx], p_hi)
            rows.append((name, float(p)))
            est.append(qhat)
            lo.append(low)
            hi.append(high)
            se.append((high - low) / (2 * critical_value(1 - alpha, ci_df)))
            dfs.append(ci_df)
    index = pd.MultiIndex.from_tuples(rows, names=["variable", "quantile"])
    se = np.asarray(se)
    return make_estimate(index, np.asarray(est), np.diag(se**2), design.degf, dfs[0], "quantile",
                         level, ci=(np.asarray(lo), np.asarray(hi)), se=se,
                         note=f"qrule={qrule}, interval={interval}")


def _r_zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float,
              maxit: int = 1000) -> float:
    """R's uniroot (R_zeroin2: Brent's method as in netlib zeroin), step for step, so that a
    root of a step function lands where R's does."""
    eps = np.finfo(float).eps
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _score_interval(d, x, p, rule, level, df):
    """R survey 4.1 svyquantile(interval.type="score") (ffullerCI): invert the design-based
    score test of P(X > theta) = 1 - p by R's uniroot, then map the unweighted share of
    observations below each limit through the quantile rule (as R does)."""
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    alpha = 1 - level
    xs = x[d.domain]
    w = d.weights

    def score(theta, limit):
        U = np.where(d.domain, (x > theta).astype(np.float64) - (1 - p), 0.0)[:, None]
        stat = _mean_stat(d, U)
        v = d.vcov(stat.point_fn, stat.influence_fn)[0, 0]
        return stat.estimate[0] / np.sqrt(v) - limit

    q25, q75 = np.quantile(xs, [0.25, 0.75])
    iqr = q75 - q25
    lower_t, upper_t = xs.min() + iqr / 100, xs.max() - iqr / 100
    tol = 1 / (100 * np.sqrt(d.n))
    crit = stats.t.isf(alpha / 2, df) if np.isfinite(df) else stats.norm.isf(alpha / 2)
    limits = []
    for lim in (crit, -crit):
        fa, fb = score(lower_t, lim), score(upper_t, lim)
        if np.sign(fa) == np.sign(fb):
            raise ValueError("score interval: the test statistic does not change sign over "
                             "the data range (R's uniroot fails here too)")
        root = _r_zeroin(lambda t, lim=lim: score(t, lim), lower_t, upper_t, fa, fb, tol)
        limits.append(rule(x[w != 0], w[w != 0], float(np.mean(xs <= root))))
    return limits[0], limits[1]
