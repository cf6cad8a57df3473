"""Design-based two-sample tests: t test and rank tests (R: svyttest, svyranktest).

``svyttest(design, "y ~ g")`` is R's svyttest: the difference in means between the two groups
of g as the slope of a survey-weighted gaussian regression (t on the model's residual df);
``"y ~ 1"`` tests a mean against 0 (t on degf - 1 df).

``svyranktest(design, "y ~ g")`` is R's svyranktest (Lumley & Scott 2013): each row gets its
weighted mid-rank among the design's rows (estimated population rank / N), transformed by the
test's score function (``wilcoxon``: r/N; ``vanderWaerden``: qnorm(r/N); ``median``: r > N/2);
two groups: the difference in mean score from a weighted least-squares fit, its SE from the
design variance of the fit's influence values, t on degf - 1 df; more groups
(``KruskalWallis``): a Wald chi-square of the group effects divided by their number, F on
(groups - 1, degf - groups + 1) df.

Example
-------
>>> svyttest(dclus1, "api00 ~ comp.imp")
Design-based t-test
data: api00 ~ comp.imp
t = 0.9251, df = 13, p-value = 0.3718
alternative hypothesis: true difference in mean is not equal to 0
95 percent confidence interval: -20.7062 51.7182
sample estimates: difference in mean 15.506
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis.errors import AnalysisError
from analysis.results import critical_value

__all__ = ["HypothesisTest", "svyranktest", "svyttest"]

RANK_TESTS = ("wilcoxon", "vanderWaerden", "median", "KruskalWallis")


@dataclass(frozen=True)
class HypothesisTest:
    """A design-based test: statistic (t, or F for several groups), its df, the p value, the
    estimate it tests and (t tests) a confidence interval."""

    method: str
    statistic: float
    df: float
    p: float
    estimate: float
    estimate_name: str
    ddf: float = np.nan            # denominator df of an F statistic
    ci: tuple | None = None
    level: float = 0.95
    data_name: str = ""

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """The interval as a one-row frame with ``ci_low``, ``ci_high`` (other levels rescale
        the half-width by the t quantiles, as R's confint.svyttest)."""
        if self.ci is None:
            raise AnalysisError(f"{self.method} has no confidence interval")
        lo, hi = self.ci
        if level is not None and level != self.level:
            half = (hi - lo) / 2 * critical_value(level, self.df) / critical_value(self.level,
                                                                                   self.df)
            lo, hi = self.estimate - half, self.estimate + half
        return pd.DataFrame({"ci_low": [lo], "ci_high": [hi]}, index=[self.estimate_name])

    def to_frame(self) -> pd.DataFrame:
        """One row: estimate, statistic, df, ddf, p, ci_low, ci_high, method."""
        lo, hi = self.ci if self.ci is not None else (np.nan, np.nan)
        return pd.DataFrame({"estimate": [self.estimate], "statistic": [self.statistic],
                             "df": [self.df], "ddf": [self.ddf], "p": [self.p],
                             "ci_low": [lo], "ci_high": [hi], "method": [self.method]},
                            index=pd.Index([self.estimate_name], name="test"))

    def summary(self) -> str:
        lines = [self.method, f"data: {self.data_name}"]
        if np.isfinite(self.ddf):
            lines.append(f"F = {self.statistic:.4f}, df = {self.df:g}, ddf = {self.ddf:g}, "
                         f"p-value = {self.p:.4g}")
        else:
            lines.append(f"t = {self.statistic:.4f}, df = {self.df:g}, p-value = {self.p:.4g}")
        lines.append("alternative hypothesis: true " + self.estimate_name + " is not equal to 0")
        if self.ci is not None:
            lines.append(f"{round(100 * self.level)} percent confidence interval: "
                         f"{self.ci[0]:.6g} {self.ci[1]:.6g}")
        lines.append(f"sample estimates: {self.estimate_name} {self.estimate:.6g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _split(formula: str) -> tuple[str, str]:
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise AnalysisError(f"formula must be 'y ~ group' or 'y ~ 1', got {formula!r}")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs or not rhs:
        raise AnalysisError(f"formula must be 'y ~ group' or 'y ~ 1', got {formula!r}")
    return lhs, rhs


def _column(design, name: str, formula: str) -> pd.Series:
    if name not in design.data.columns:
        raise AnalysisError(f"{formula!r}: column {name!r} not found in the design's data")
    return design.data[name]


def _t_p(t: float, df: float) -> float:
    return float(2 * special.stdtr(df, -abs(t)))


def svyttest(design, formula: str, level: float = 0.95) -> HypothesisTest:
    """Design-based t test (R: svyttest): ``"y ~ g"`` for a difference in means between the two
    groups of g, ``"y ~ 1"`` for a mean against 0. Rows missing y or g are left out (their PSUs
    stay in the design).

    >>> svyttest(dclus1, "api00 ~ comp.imp").p
    0.3717847946381035
    """
    y, rhs = _split(formula)
    if rhs in ("1", "0"):
        col = _column(design, y, formula)
        d = design.subset(col.notna().to_numpy()) if col.isna().any() else design
        m = d.mean(y)
        est, se = float(m["estimate"].iloc[0]), float(m["se"].iloc[0])
        df = float(design.degf - 1)
        t = est / se
        q = critical_value(level, df)
        return HypothesisTest("Design-based one-sample t-test", t, df, _t_p(t, df), est, "mean",
                              ci=(est - q * se, est + q * se), level=level, data_name=formula)
    g = _column(design, rhs, formula)
    levels = pd.unique(g.dropna()[design.domain[g.notna().to_numpy()]])
    if len(levels) != 2:
        raise AnalysisError(f"svyttest({formula!r}): group {rhs!r} must have exactly 2 values "
                            f"in the design, found {len(levels)}")
    from analysis.models import svyglm  # noqa: PLC0415 (lazy: statsmodels)

    numeric = pd.api.types.is_numeric_dtype(g) and not pd.api.types.is_bool_dtype(g)
    term = f"Q('{rhs}')" if numeric else f"C(Q('{rhs}'))"   # R: a numeric group is a slope
    fit = svyglm(f"Q('{y}') ~ {term}", design)
    est = float(fit.params.iloc[1])
    se = float(fit.bse.iloc[1])
    df = float(fit.df_resid)
    t = est / se
    ci = fit.conf_int(level).iloc[1]
    return HypothesisTest("Design-based t-test", t, df, _t_p(t, df), est,
                          "difference in mean", ci=(float(ci.iloc[0]), float(ci.iloc[1])),
                          level=level, data_name=formula)


def _score_function(test: str):
    if test in ("wilcoxon", "KruskalWallis"):
        return lambda r, N: r / N
    if test == "vanderWaerden":
        return lambda r, N: special.ndtri(r / N)
    if test == "median":
        return lambda r, N: (r > N / 2).astype(np.float64)
    raise AnalysisError(f"test must be one of {RANK_TESTS}, got {test!r}")


def _mid_ranks(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Estimated population mid-ranks: cumulative weight below plus half the own weight,
    averaged over ties (R: ave(cumsum(w) - w/2, y) in the order of y)."""
    order = np.argsort(y, kind="stable")
    ys, ws = y[order], w[order]
    r = np.cumsum(ws) - ws / 2
    _, start, counts = np.unique(ys, return_index=True, return_counts=True)
    sums = np.add.reduceat(r, start)
    r = np.repeat(sums / counts, counts)
    out = np.empty_like(r)
    out[order] = r
    return out


def svyranktest(design, formula: str, test: str = "wilcoxon") -> HypothesisTest:
    """Design-based rank test (R: svyranktest) of ``"y ~ g"``: Wilcoxon (default), van der
    Waerden, median; with more than two groups the Kruskal-Wallis-type F test.

    >>> svyranktest(dclus1, "api00 ~ comp.imp").p
    0.4421924978513554
    """
    y_name, g_name = _split(formula)
    yc, gc = _column(design, y_name, formula), _column(design, g_name, formula)
    complete = (yc.notna() & gc.notna()).to_numpy()
    d = design.subset(complete) if not complete.all() else design
    rows = d.domain & (d.weights != 0)
    y = yc.to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    g = gc[rows]
    w = d.weights[rows]
    score = _score_function(test)
    rank = _mid_ranks(y, w)
    z = score(rank, w.sum())
    if pd.api.types.is_numeric_dtype(gc):
        levels = np.unique(g.to_numpy())
    else:
        levels = np.asarray(pd.unique(g.astype(str)).tolist())
        levels.sort()
        g = g.astype(str)
    n_groups = len(levels)
    if n_groups < 2:
        raise AnalysisError(f"svyranktest({formula!r}): group {g_name!r} has only "
                            f"{n_groups} value in the design")
    gv = g.to_numpy()
    if n_groups == 2 and pd.api.types.is_numeric_dtype(gc):
        X = np.column_stack([np.ones(len(z)), gv.astype(np.float64)])
    else:
        X = np.column_stack([np.ones(len(z))] + [(gv == lev).astype(np.float64)
                                                  for lev in levels[1:]])
    XtW = X.T * w
    A_inv = np.linalg.inv(XtW @ X)
    beta = A_inv @ (XtW @ z)
    resid = z - X @ beta
    # influence values of beta (per design row): w x r A^-1, zero outside the test's rows
    U = np.zeros((len(d.weights), X.shape[1]))
    U[rows] = (X * (w * resid)[:, None]) @ A_inv

    def point_fn(W):     # replicate designs: totals of the fixed influence values (as R)
        return W.T @ (U / np.where(d.weights != 0, d.weights, 1.0)[:, None])

    V = d.vcov(point_fn, lambda: U)
    name = "KruskalWallis" if test == "wilcoxon" else test
    method = f"Design-based {name} test"
    if n_groups == 2:
        se = float(np.sqrt(V[1, 1]))
        t = float(beta[1]) / se
        df = float(d.degf - 1)
        return HypothesisTest(method, t, df, _t_p(t, df), float(beta[1]),
                              "difference in mean rank score", data_name=formula)
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)

    b = beta[1:]
    chisq = float(b @ np.linalg.solve(V[1:, 1:], b))
    ndf = n_groups - 1
    ddf = float(d.degf - ndf)
    return HypothesisTest(method, chisq / ndf, float(ndf), float(stats.f.sf(chisq / ndf, ndf, ddf)),
                          chisq, "Chisq", ddf=ddf, data_name=formula)
