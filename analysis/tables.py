"""Weighted two-way tables and design-based tests of association (R: svytable, svychisq).

``design.crosstab(row, col)`` returns a ``Crosstab`` with the weighted counts, the cell totals
and proportions with SEs, row-conditional proportions, and the tests:

- ``F`` (default, ``.test``): Rao-Scott second-order correction, F = X^2 / tr(Delta) on
  (d0, d0 * nu) df, d0 = tr(Delta)^2 / tr(Delta^2), nu = #PSU - #strata;
- ``Chisq``: first-order Rao-Scott, X^2 / mean eigenvalue(Delta) against chi^2((r-1)(c-1));
- ``Wald`` and ``adjWald``: design-based Wald tests of independence on the cell totals;
- ``saddlepoint``: X^2 against its asymptotic distribution (a weighted sum of chi^2_1 over the
  F denominator), by R's saddlepoint approximation.

X^2 is Pearson's statistic on the weighted table rescaled to the number of rows, Delta the
generalised design-effect matrix of the cell proportions, exactly as R's svychisq.

Example
-------
>>> tab = dclus1.crosstab("sch.wide", "stype")
>>> tab.test.F, tab.test.p
(np.float64(5.193369541474874), 0.021747462370796923)
"""
from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.display import Summary, fmt_number
from analysis.distributions import pchisqsum
from analysis.errors import AnalysisError
from analysis.estimators import _mean_stat, _total_stat
from analysis.results import SurveyEstimate, make_estimate


@dataclass(frozen=True)
class AssociationTest:
    """One test of independence: statistic, its reference distribution's df and p value."""

    name: str
    statistic: float
    ndf: float
    ddf: float  # inf for a chi-square reference distribution
    p: float
    method: str

    @property
    def F(self) -> float:
        return self.statistic

    def __repr__(self) -> str:
        if self.name == "F" and np.isnan(self.ndf):
            return (f"{self.method}: F = {self.statistic:.4g} on undefined df, p-value = NA "
                    "(degenerate: the cell proportions have no sampling variance)")
        if np.isnan(self.ndf):
            dist = f"X-squared = {self.statistic:.4f}"
        elif np.isfinite(self.ddf):
            dist = f"F = {self.statistic:.4f}, ndf = {self.ndf:.4g}, ddf = {self.ddf:.4g}"
        else:
            dist = f"X-squared = {self.statistic:.4f}, df = {self.ndf:.4g}"
        return f"{self.method}: {dist}, p-value = {self.p:.4g}"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"test": self.name, "statistic": self.statistic, "ndf": self.ndf,
                              "ddf": self.ddf, "p": self.p, "method": self.method}]).set_index("test")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self))}</p>"


def _factor(col: pd.Series) -> tuple[np.ndarray, list]:
    """Codes of the levels present (R: factor(x) drops unused levels); -1 for missing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw = col.cat.codes.to_numpy().astype(np.int64)  # -1 for missing
        used = np.bincount(raw[raw >= 0], minlength=len(col.cat.categories)) > 0
        renumber = np.where(used, np.cumsum(used) - 1, -1)  # codes among the levels present
        codes = np.where(raw >= 0, renumber[np.maximum(raw, 0)], -1)
        return codes, list(col.cat.categories[used])
    codes, levels = pd.factorize(col, sort=True)
    return codes.astype(np.int64), list(levels)


class Crosstab:
    """A design-weighted two-way table with Rao-Scott and Wald tests of independence."""

    def __init__(self, design, row: str, col: str, na_rm: bool = True):
        data = design.data
        for name in (row, col):
            if name not in data.columns:
                raise KeyError(f"crosstab variable {name!r} not found in the design's data")
        self.row, self.col = row, col
        r_codes, r_levels = _factor(data[row].where(design.domain))
        c_codes, c_levels = _factor(data[col].where(design.domain))
        missing = ((r_codes < 0) | (c_codes < 0)) & design.domain
        self.n_missing = int(missing.sum())
        if self.n_missing and not na_rm:
            rows = data.index[missing]
            raise ValueError(
                f"crosstab({row!r}, {col!r}): {self.n_missing} row(s) with missing values "
                f"({', '.join(map(str, rows[:10]))}); pass na_rm=True to leave them out"
            )
        nr, nc = len(r_levels), len(c_levels)
        if nr < 2 or nc < 2:
            raise ValueError(f"crosstab needs at least 2 levels in each variable, got {nr}x{nc}")
        self.row_levels, self.col_levels = r_levels, c_levels
        # cell indicators, R's interaction order: row level varies fastest
        cell = np.where(missing | ~design.domain, -1, r_codes + nr * c_codes)
        k = nr * nc
        M = np.zeros((len(data), k))
        ok = cell >= 0
        M[np.flatnonzero(ok), cell[ok]] = 1.0
        self._design = design
        self._keep = ~missing
        # R: N = nrow(model.matrix(...)), every row of the design; a subset of a calibrated
        # design keeps all its rows with weight 0 (R's [.survey.design2), so they count too
        keeps_rows = bool(getattr(design, "calibrations", ())) and getattr(design, "stages", None) is not None
        N = len(design.weights) if keeps_rows else design.n
        # ---------------------------------------------------------------- weighted table
        d_ok = design._restrict(~missing)
        w = d_ok.weights
        counts = w @ M
        self.table = pd.DataFrame(
            counts.reshape(nc, nr).T,
            index=pd.Index(r_levels, name=row), columns=pd.Index(c_levels, name=col),
        )
        # ---------------------------------------------------------------- tests (svychisq)
        labels = [(str(r_levels[i]), str(c_levels[j])) for j in range(nc) for i in range(nr)]
        self._labels = labels
        mean_stat = _mean_stat(d_ok, M)
        V = d_ok.vcov(mean_stat.point_fn, mean_stat.influence_fn)
        p = mean_stat.estimate
        self._p, self._Vp = p, V
        st0 = getattr(design, "stages", None)
        if st0 is not None:
            # R's svychisq: nu = #clusters - #strata over all rows of the design given
            s = st0[0]
            rows_in = np.ones(len(design.weights), dtype=bool) if keeps_rows else design.domain
            psus = np.unique(s.psu[rows_in])
            nu = psus.shape[0] - np.unique(s.psu_stratum[psus]).shape[0]
        else:
            nu = design.degf
        self.nu = nu
        # Pearson X^2 on the weighted table scaled to N
        tab = counts.reshape(nc, nr).T
        tab = tab * N / tab.sum()
        expected = np.outer(tab.sum(1), tab.sum(0)) / tab.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            X2 = float(np.nansum((tab - expected) ** 2 / expected))
        self.pearson = X2
        self._N, self._nr, self._nc = N, nr, nc
        # ---------------------------------------------------------------- totals (Wald tests)
        R_ind = np.column_stack([(r_codes == i) & ~missing for i in range(nr)]).astype(float)
        C_ind = np.column_stack([(c_codes == j) & ~missing for j in range(nc)]).astype(float)
        one = np.ones((len(data), 1)) * (~missing)[:, None]
        allY = np.hstack([M, R_ind, C_ind, one]) * design.domain[:, None]
        tot = _total_stat(d_ok, allY)
        Vt = d_ok.vcov(tot.point_fn, tot.influence_fn)
        self._t_all, self._Vt_all = tot.estimate, Vt
        self._tot_est, self._tot_V = tot.estimate[:k], Vt[:k, :k]
        # the tests are computed on first use (tests["F"], .test, summary()): a table whose
        # tests are undefined (e.g. after post-stratifying on both variables) stays readable
        self.tests = _LazyTests(self)

    @property
    def test(self) -> AssociationTest:
        """The default test: Rao-Scott second-order F (``tests["F"]``)."""
        return self.tests["F"]

    @cached_property
    def _rao_scott(self) -> tuple[dict, np.ndarray]:
        return _rao_scott_tests(self.pearson, self._p, self._Vp, self._N, self._nr, self._nc,
                                self.nu)

    @property
    def delta(self) -> np.ndarray:
        """Rao-Scott's generalised design-effect matrix Delta of the interaction contrasts."""
        return self._rao_scott[1]

    @property
    def degenerate(self) -> bool:
        """True when Delta is zero: the cell proportions have no sampling variance (the table
        was fixed by calibration on both variables), so the F and Wald tests are undefined."""
        return _is_degenerate(self.delta)

    # -------------------------------------------------------------------- tables with SEs
    def _index(self):
        return pd.MultiIndex.from_tuples(self._labels, names=[self.row, self.col])

    @property
    def counts(self) -> SurveyEstimate:
        """Estimated population count of every cell with SE (svytotal of the cell indicators)."""
        return make_estimate(self._index(), self._tot_est, self._tot_V, self._design.degf,
                             np.inf, "total")

    @property
    def proportions(self) -> SurveyEstimate:
        """Cell proportions of the whole table with SE (svymean of the cell indicators)."""
        return make_estimate(self._index(), self._p, self._Vp, self._design.degf, np.inf, "mean")

    def row_proportions(self, ci_method: str = "logit") -> SurveyEstimate:
        """Distribution of the column variable within each row level (domain proportions with
        svyciprop intervals).

        >>> tab.row_proportions()  # doctest: +SKIP
        """
        d = self._design._restrict(self._keep)
        frames = [
            d.by(self.row).proportion(self.col, level=lev, ci_method=ci_method)
            for lev in self.col_levels
        ]
        out = pd.concat([pd.DataFrame(f) for f in frames]).sort_index()
        return out

    def summary(self) -> pd.DataFrame:
        """All tests as a frame (statistic, ndf, ddf, p), one row per test; a test that is
        undefined for this table has NaN numbers and the reason as its method.

        >>> tab = dclus1.crosstab("sch.wide", "stype")
        >>> tab.summary().loc["F", "p"]
        np.float64(0.021747462370796923)
        """
        rows = []
        for name in _TEST_NAMES:
            try:
                t = self.tests[name]
                rows.append((t.name, t.statistic, t.ndf, t.ddf, t.p, t.method))
            except TableTestError as exc:
                rows.append((name, np.nan, np.nan, np.nan, np.nan, str(exc)))
        return pd.DataFrame(
            rows, columns=["test", "statistic", "ndf", "ddf", "p", "method"]
        ).set_index("test")

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per cell with the weighted count and the share of the total."""
        long = self.table.stack().rename("weighted_count").to_frame()
        long["share"] = long["weighted_count"] / long["weighted_count"].sum()
        return long

    def _repr_html_(self) -> str:
        table = self.table.map(lambda v: fmt_number(v, 6))
        foot = [repr(self.test)]
        if self.n_missing:
            foot.append(f"{self.n_missing} row(s) with missing values left out")
        return Summary(f"Weighted table {self.row} x {self.col}", (), [("", table)],
                       foot).as_html()

    def __repr__(self) -> str:
        miss = f"\n({self.n_missing} row(s) with missing values left out)" if self.n_missing else ""
        return (
            f"Weighted table {self.row} x {self.col}:\n{self.table.round(2)}\n\n"
            f"{self.test!r}{miss}"
        )


_TEST_NAMES = ("F", "Chisq", "saddlepoint", "Wald", "adjWald")

#: Delta (a matrix of design effects, about 1 for simple random sampling) counts as zero when
#: its trace is below this times its dimension
_DEGENERATE_TOL = 1e-8


def _is_degenerate(delta: np.ndarray) -> bool:
    return bool(abs(np.trace(delta)) < _DEGENERATE_TOL * max(delta.shape[0], 1))


class TableTestError(AnalysisError):
    """A test of independence that is undefined for this table (R stops with an error)."""


class _LazyTests(Mapping):
    """``crosstab.tests``: the five tests by name, each computed on first access."""

    def __init__(self, tab: Crosstab):
        self._tab = tab
        self._wald: dict | None = None

    def __getitem__(self, name: str) -> AssociationTest:
        tab = self._tab
        if name in ("F", "Chisq", "saddlepoint"):
            tests = tab._rao_scott[0]
            if name == "saddlepoint" and tab.degenerate:
                raise TableTestError(
                    f"saddlepoint test of {tab.row} x {tab.col} is undefined: the cell "
                    "proportions have no sampling variance (all design effects are zero, e.g. "
                    "after calibrating on both variables); R survey 4.5 stops here too")
            return tests[name]
        if name in ("Wald", "adjWald"):
            if self._wald is None:
                if tab.degenerate:
                    raise TableTestError(
                        f"{name} test of {tab.row} x {tab.col} is undefined: the covariance of "
                        "the cell totals is singular (the table is fixed by calibration on both "
                        "variables); R survey stops with 'system is exactly singular'")
                self._wald = _wald_tests(tab._t_all, tab._Vt_all, tab._nr, tab._nc, tab.nu)
            return self._wald[name]
        raise KeyError(f"no test {name!r}; tests are {', '.join(_TEST_NAMES)}")

    def __iter__(self):
        return iter(_TEST_NAMES)

    def __len__(self) -> int:
        return len(_TEST_NAMES)

    def __repr__(self) -> str:
        return f"<tests {', '.join(_TEST_NAMES)} (computed on first use)>"


def _cells_rows_cols(nr: int, nc: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of each of the nr*nc cells, row varying fastest (R's interaction)."""
    return np.tile(np.arange(nr), nc), np.repeat(np.arange(nc), nr)


def _rao_scott_tests(X2: float, p: np.ndarray, V: np.ndarray, N: float, nr: int, nc: int,
                     nu: float) -> tuple[dict, np.ndarray]:
    """R's svychisq "F", "Chisq" and "saddlepoint" from Pearson's X^2, the cell proportions p
    with covariance V and the design df nu; returns the tests and Delta.

    Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C, D = diag(p), C the interaction contrasts made
    orthogonal to the main effects (R: qr.resid(qr(X1), X12[, interactions]))."""
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    k = nr * nc
    rr, cc = _cells_rows_cols(nr, nc)
    X1 = np.column_stack(
        [np.ones(k)] + [(rr == i).astype(float) for i in range(1, nr)]
        + [(cc == j).astype(float) for j in range(1, nc)]
    )
    X12_int = np.column_stack(
        [((rr == i) & (cc == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(X1, X12_int, rcond=None)
    C = X12_int - X1 @ coef
    with np.errstate(divide="ignore"):
        inv_p = np.where(p == 0, 0.0, 1.0 / p)
    iD = np.diag(inv_p)
    denom = C.T @ (iD / N) @ C
    numr = C.T @ iD @ V @ iD @ C
    try:
        Delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError as exc:
        raise TableTestError(
            "Rao-Scott tests are undefined: the table's interaction contrasts are singular "
            "(a row or column with no weighted count)") from exc
    tr = np.trace(Delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        if _is_degenerate(Delta):
            # R survey 4.5: trace 0 gives F = Inf on NA df with p NA; the first-order
            # statistic X^2 / 0 has p 0
            d0, F, eig = np.nan, np.inf, np.zeros(Delta.shape[0])
            Delta = np.zeros_like(Delta)
        else:
            d0 = tr**2 / np.trace(Delta @ Delta)
            F = X2 / tr
            eig = np.linalg.eigvals(Delta).real
        chisq_p = float(stats.chi2.sf(X2 / np.mean(np.diag(Delta)), Delta.shape[1]))
        f_p = float(stats.f.sf(F, d0, d0 * nu)) if np.isfinite(d0) else np.nan
    tests = {
        "F": AssociationTest("F", F, d0, d0 * nu, f_p,
                             "Pearson's X^2: Rao & Scott adjustment"),
        "Chisq": AssociationTest(
            "Chisq", X2, Delta.shape[1], np.inf, chisq_p,
            "Pearson's X^2: Rao & Scott adjustment"),
    }
    if np.isfinite(d0):
        tests["saddlepoint"] = AssociationTest(
            "saddlepoint", X2, np.nan, d0 * nu, _pfsum_saddlepoint(X2, eig, d0 * nu),
            "Pearson's X^2: saddlepoint approximation")
    return tests, Delta


def _wald_tests(t: np.ndarray, Vt: np.ndarray, nr: int, nc: int, nu: float) -> dict:
    """R's svychisq "Wald" and "adjWald" from the totals t = (cells, row margins, column
    margins, N) and their covariance Vt: Y = cell total - row total * column total / N over the
    (nr-1)(nc-1) cells not in the first row or column, with its delta-method covariance."""
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    k = nr * nc
    rr, cc = _cells_rows_cols(nr, nc)
    Rt, Ct, Nt = t[k:k + nr], t[k + nr:k + nr + nc], t[-1]
    J = np.hstack([
        np.eye(k),
        -(rr[:, None] == np.arange(nr)[None, :]).astype(float) * (Ct[cc] / Nt)[:, None],
        -(cc[:, None] == np.arange(nc)[None, :]).astype(float) * (Rt[rr] / Nt)[:, None],
        (Rt[rr] * Ct[cc] / Nt**2)[:, None],
    ])
    Yw = t[:k] - Rt[rr] * Ct[cc] / Nt
    VY = J @ Vt @ J.T
    use = np.flatnonzero((rr > 0) & (cc > 0))
    try:
        wald = float(Yw[use] @ np.linalg.solve(VY[np.ix_(use, use)], Yw[use]))
    except np.linalg.LinAlgError as exc:
        raise TableTestError(
            "Wald tests are undefined: the covariance of the cell totals is singular") from exc
    ndf = (nr - 1) * (nc - 1)
    Fw = wald / ndf
    ddf_adj = nu - ndf + 1
    Fa = wald * ddf_adj / (ndf * nu)
    return {
        "Wald": AssociationTest("Wald", Fw, ndf, nu, float(stats.f.sf(Fw, ndf, nu)),
                                "Design-based Wald test of association"),
        "adjWald": AssociationTest("adjWald", Fa, ndf, ddf_adj,
                                   float(stats.f.sf(Fa, ndf, ddf_adj)),
                                   "Design-based Wald test of association"),
    }


def _pfsum_saddlepoint(x: float, eigenvalues: np.ndarray, ddf: float) -> float:
    """R survey's pFsum(x, 1, eigenvalues, ddf, lower.tail=FALSE, method="saddlepoint")."""
    return pchisqsum(x, eigenvalues, ddf)


class TablesMixin:
    """crosstab() for every design."""

    def crosstab(self, row: str, col: str, na_rm: bool = True) -> Crosstab:
        """Weighted two-way table with SEs and the Rao-Scott test (R: svytable + svychisq).

        Rows missing either variable are left out (R's svychisq default na.rm=TRUE); their
        number is reported in ``.n_missing``.

        >>> tab = d.crosstab("sch.wide", "stype")
        >>> tab.test
        Pearson's X^2: Rao & Scott adjustment: F = 17.2474, ndf = 1.829, ddf = 360.2, p-value = 2.035e-07
        """
        return Crosstab(self, row, col, na_rm=na_rm)
