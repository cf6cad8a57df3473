"""Two-phase designs (R: twophase(method = "full" | "approx" | "simple")) with element sampling
at phase 2, and their calibration at phase 2 (R: calibrate(design, phase = 2, ...)).

A first-phase sample is drawn from the population (simple random, possibly stratified, with or
without an fpc, possibly of clusters, or just independent units as in case-cohort studies); the
second phase is a stratified random subsample of it, with strata known for every first-phase
unit. Estimates use the phase-2 rows with weights 1 / (pi1 pi2). Two variances, as R:

- ``method="full"`` (R's twophase2): the Horvitz-Thompson form U' D U with Sarndal's check-Delta
  of the two phases combined, D = D1 + D2 - D1 * D2 (elementwise; R's twophaseDcheck):
  D1 (phase 1, among the phase-2 units) is 1 - pi1 on the diagonal and -(1 - pi1) / (n1_h - 1)
  within a first-phase stratum when sampled without replacement (fpc), only the diagonal
  otherwise, and the identity for independent first-phase units (R's phase1_is_iid); D2
  (phase 2) is 1 - pi2 on the diagonal, -(1 - pi2) / (n2_h - 1) within a second-phase stratum,
  pi2 = n2_h / N2_h with N2_h the first-phase units of the stratum. Dense over the phase-2 units.
- ``method="approx"`` (= ``"simple"``; R's twophase, the variance of survey <= 3.14, exact for
  simple random sampling at phase 1 and stratified sampling at phase 2, and needing no n x n
  matrix): V = V1 + V2. V1 (R's svyrecvar.phase1), per first-phase stratum h with n1_h sampled
  units (clusters) of N1_h and the totals x_c of the weighted influence values over the phase-2
  rows of unit c, pi2_c its chance to be in phase 2 (R's usu) and xbar_h = sum_c x_c / n1_h::

      V1 = sum_h (1 - n1_h / N1_h) n1_h / (n1_h - 1) sum_c (pi2_c x_c - xbar_h)^2 / pi2_c

  (a unit of phase 2 outside a domain counts with pi2 = 1 in a domain's V1, as R which drops
  those rows); V2 is the usual stratified variance (variance.stagewise_vcov) of the influence
  values within the first-phase sample (times sqrt(pi1) when phase 2 subsamples phase-1
  clusters), with fpc N2_h.

Calibration at phase 2 (R's calibrate.twophase / calibrate.twophase2) calibrates the phase-2
weights 1 / pi2 to phase-1 totals (by default the unweighted totals of the calibration variables
over the phase-1 sample, R's default ``population``); the phase-2 part of the variance then uses
the calibration residuals (R's twophase2var / svyrecvar with postStrata), the phase-1 part the
influence values themselves. R 4.5 fails on phase-1 calibration, postStratify and rake of
two-phase designs; here they are one-line errors.

The result is a :class:`TwoPhaseDesign`, a :class:`~analysis.design.SurveyDesign` over the
phase-2 rows, so every estimator, domain and model works on it; design df are those of phase 2
(R's degf(design$phase2)).

Example
-------
>>> from analysis import datasets
>>> srs = datasets.load("apisrs")
>>> srs["in2"] = srs["snum"] % 2 == 0          # every other school measured at phase 2
>>> d = twophase(srs, subset="in2", strata2="stype", fpc1="fpc")
>>> d.mean("api00")
            estimate         se     ci_low     ci_high
variable
api00     681.875914  13.768684  654.88979  708.862038
[mean; 95% CI: normal; design df = 91]
>>> round(float(twophase(srs, subset="in2", strata2="stype", fpc1="fpc",
...                      method="approx").mean("api00")["se"].iloc[0]), 6)
13.750678
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analysis import calibration as cal
from analysis.design import DesignError, SurveyDesign
from analysis.masks import row_mask
from analysis.replicates import ReplicateError
from analysis.variance import (
    CENSUS_TOLERANCE,
    ColumnwiseInfluence,
    LonelyPSUError,
    Stage,
    build_stages,
    stagewise_vcov,
)
from analysis.weighting import model_matrix

__all__ = ["METHODS", "TwoPhaseDesign", "twophase"]

_MAX_PHASE2 = 20_000   # method="full": the check-Delta is dense over the phase-2 units
METHODS = ("full", "approx", "simple")


def _codes(data: pd.DataFrame, column: str | None, what: str) -> np.ndarray:
    if column is None:
        return np.zeros(len(data), dtype=np.int64)
    if column not in data.columns:
        raise DesignError(f"twophase: {what} column {column!r} not found in the data")
    col = data[column]
    if col.isna().any():
        row = data.index[col.isna().to_numpy()][0]
        raise DesignError(f"twophase: {what} column {column!r} is missing in row {row!r}; "
                          "strata must be known for every first-phase unit")
    return pd.factorize(col, sort=True)[0].astype(np.int64)


def _numbers(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    if column not in data.columns:
        raise DesignError(f"twophase: {what} column {column!r} not found in the data")
    x = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(x) | (x <= 0)
    if bad.any():
        row = data.index[np.flatnonzero(bad)[0]]
        raise DesignError(f"twophase: {what} column {column!r} has {data.loc[row, column]!r} in "
                          f"row {row}; expected a positive number")
    return x


def _stratum_dcheck(h: np.ndarray, p: np.ndarray, n_h: np.ndarray, pairs: bool) -> np.ndarray:
    """Check-Delta of stratified simple random sampling among the given units: 1 - p on the
    diagonal, -(1 - p) / (n_h - 1) for two units of the same stratum (when ``pairs``)."""
    D = np.zeros((h.shape[0], h.shape[0]))
    if pairs:
        same = h[:, None] == h[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            off = -(1.0 - p) / (n_h - 1.0)
        D = np.where(same, off[:, None] * np.ones_like(D), 0.0)
    np.fill_diagonal(D, 1.0 - p)
    return D


def _n_distinct(group: np.ndarray, unit: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups,) number of distinct units per group."""
    key = np.unique(group.astype(np.int64) * (int(unit.max()) + 1) + unit)
    return np.bincount(key // (int(unit.max()) + 1), minlength=n_groups).astype(np.float64)


@dataclasses.dataclass(frozen=True)
class _StratumDcheck:
    """``D @ Z`` for the check-Delta of stratified simple random sampling (as
    :func:`_stratum_dcheck` with pairs) without the dense matrix: row i of D Z is
    (1 - p_i) (z_i n_h / (n_h - 1) - sum_h z / (n_h - 1)), or (1 - p_i) z_i alone in a
    stratum of one unit."""

    h: np.ndarray      # (n,) stratum codes 0..H-1
    p: np.ndarray      # (n,) inclusion probabilities
    n_h: np.ndarray    # (n,) units of the row's stratum

    def __matmul__(self, Z: np.ndarray) -> np.ndarray:
        H = int(self.h.max()) + 1
        S = np.empty((H, Z.shape[1]))
        for j in range(Z.shape[1]):
            S[:, j] = np.bincount(self.h, weights=Z[:, j], minlength=H)
        one = self.n_h <= 1
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(one, 1.0, self.n_h / (self.n_h - 1.0))
            b = np.where(one, 0.0, 1.0 / (self.n_h - 1.0))
        return (1.0 - self.p)[:, None] * (Z * a[:, None] - S[self.h] * b[:, None])


@dataclasses.dataclass(frozen=True)
class _Phases:
    """What the two-phase variance needs besides the phase-2 rows' influence values."""

    method: str                    # "full" or "approx"
    pi1: np.ndarray                # (n2,) first-phase selection probabilities
    pi2: np.ndarray                # (n2,) second-phase probabilities given phase 1 (uncalibrated)
    data1: pd.DataFrame            # every first-phase unit (default calibration totals)
    in2: np.ndarray                # (n1,) the first-phase units in phase 2
    D: np.ndarray | None = None    # full: combined check-Delta
    D2: _StratumDcheck | None = None  # full: the phase-2 check-Delta (as an operator)
    # approx, phase 1 (R's svyrecvar.phase1), per first-phase unit (cluster) c of the phase-2 rows
    unit: np.ndarray | None = None          # (n2,) unit code 0..C-1
    unit_stratum: np.ndarray | None = None  # (C,) first-phase stratum 0..H-1
    usu: np.ndarray | None = None           # (C,) chance of the unit to be in phase 2 (R's usu)
    scale1: np.ndarray | None = None        # (H,) (1 - f1) n1 / (n1 - 1) (f1 alone if one unit)
    n1: np.ndarray | None = None            # (H,) first-phase units sampled in the stratum
    lonely1: np.ndarray | None = None       # (H,) one phase-2 unit in a non-census stratum
    stages2: tuple[Stage, ...] | None = None  # approx, phase 2: stratified, fpc N2_h
    samescale: bool = True                  # phase-2 units are the phase-1 units
    calibration: object | None = None       # phase-2 calibration record (GregCalibration)
    g: np.ndarray | None = None             # (n2,) its g-weights


class TwoPhaseDesign(SurveyDesign):
    """A two-phase design over the phase-2 rows (made by :func:`twophase`): every estimator,
    domain and model of :class:`~analysis.design.SurveyDesign`, with the two-phase variance,
    and :meth:`calibrate` at phase 2 (R: calibrate(design, phase = 2, ...))."""

    _phases: _Phases | None = None     # set by twophase()

    @property
    def method(self) -> str:
        """"full" (R's twophase2) or "approx" (R's twophase(method = "approx"/"simple"))."""
        return "" if self._phases is None else self._phases.method

    # ------------------------------------------------------------------ variance
    def vcov_influence(self, U) -> np.ndarray:
        U = _as_matrix(U, self._weights.shape[0])
        return self._twophase_vcov(U, np.broadcast_to(self._domain[:, None], U.shape))

    def vcov_grouped(self, point_fn, influence_fn, codes, n_groups) -> np.ndarray:  # noqa: ARG002
        U = _as_matrix(influence_fn(), self._weights.shape[0])
        n, k = U.shape
        member = (codes[:, None] == np.arange(n_groups)[None, :]) & self._domain[:, None]
        # column g*k + j: U[:, j] inside domain g, 0 elsewhere (R's svyby: one subset per domain)
        Ug = (U[:, None, :] * member[:, :, None]).reshape(n, n_groups * k)
        return self._twophase_vcov(Ug, np.repeat(member, k, axis=1))

    def _twophase_vcov(self, U: np.ndarray, inside: np.ndarray) -> np.ndarray:
        """Variance of the column sums of U; ``inside`` (n, k): rows in each column's domain."""
        ph = self._phases
        if ph is None:
            raise DesignError("a TwoPhaseDesign is made by twophase(data, subset=..., ...)")
        rec = ph.calibration
        X2 = U if rec is None else np.asarray(rec.residualize(U), dtype=np.float64)
        if ph.method == "full":
            V = U.T @ (ph.D @ U)
            if rec is None:
                return V
            # R's twophase2var: phase 1 from U, phase 2 from the calibration residuals; a subset
            # ("[.twophase2") zeroes the phase-2 check-Delta among the rows outside it
            out = X2 * ~inside
            return V - U.T @ (ph.D2 @ U) + X2.T @ (ph.D2 @ X2) - out.T @ (ph.D2 @ out)
        return self._phase1_vcov(U, inside) + self._phase2_vcov(X2)

    def _phase1_vcov(self, U: np.ndarray, inside: np.ndarray) -> np.ndarray:
        """R's svyrecvar.phase1 (one stage of first-phase units)."""
        ph = self._phases
        C = ph.unit_stratum.shape[0]
        H = ph.scale1.shape[0]
        k = U.shape[1]
        if np.any(ph.lonely1):
            h = int(np.flatnonzero(ph.lonely1)[0])
            raise LonelyPSUError(f"first-phase stratum {h + 1} has only one unit in phase 2 "
                                 "(R: 'Stratum has only one PSU at stage 1')")
        Xc = np.empty((C, k))
        for j in range(k):
            Xc[:, j] = np.bincount(ph.unit, weights=U[:, j], minlength=C)
        Sh = np.empty((H, k))
        for j in range(k):
            Sh[:, j] = np.bincount(ph.unit_stratum, weights=Xc[:, j], minlength=H)
        xbar = Sh / ph.n1[:, None]
        pi2 = ph.usu if ph.g is None else ph.usu / _unit_values(ph.g, ph.unit, C)
        if ph.calibration is None:
            # R drops the rows outside a domain and pads their units with zeros and pi2 = 1
            in_unit = np.zeros((C, k), dtype=bool)
            rows, cols = np.nonzero(inside)
            in_unit[ph.unit[rows], cols] = True
            p_eff = np.where(in_unit, pi2[:, None], 1.0)
        else:
            # a calibrated design keeps every row (R: probabilities set to Inf)
            p_eff = np.broadcast_to(pi2[:, None], (C, k))
        Y = (pi2[:, None] * Xc - xbar[ph.unit_stratum]) / np.sqrt(p_eff)
        Y *= np.sqrt(ph.scale1[ph.unit_stratum])[:, None]
        return Y.T @ Y

    def _phase2_vcov(self, X2: np.ndarray) -> np.ndarray:
        """R's svyrecvar on the phase-2 design (u2 = x, or x sqrt(pi1) within clusters)."""
        ph = self._phases
        u2 = X2 if ph.samescale else X2 * np.sqrt(ph.pi1)[:, None]
        present = None if (self._domain.all() or ph.calibration is not None) else self._domain
        return stagewise_vcov(u2, ph.stages2, self._lonely_psu, present)

    def assign(self, **columns) -> TwoPhaseDesign:
        """New variables (R: update(design, ...)); a function of the data frame is applied to
        the phase-1 units too (as R's update.twophase), so calibration totals can use it.

        >>> d.assign(big=lambda df: df["enroll"] > 500)  # doctest: +SKIP
        """
        new = super().assign(**columns)
        funcs = {key: value for key, value in columns.items() if callable(value)}
        if not funcs:
            return new
        data1 = self._phases.data1.assign(**funcs)
        return new._replace(_phases=dataclasses.replace(self._phases, data1=data1))

    update = assign

    # ------------------------------------------------------------------ weighting
    def calibrate(self, totals=None, formula=None, *, phase: int = 2, method: str = "linear",
                  bounds=(-np.inf, np.inf), epsilon: float = 1e-10, maxit: int = 50,
                  force: bool = False, **options):
        """Calibrate the phase-2 weights 1 / pi2 (R: calibrate(design, phase = 2, formula,
        population, calfun)); the analysis weights become g / (pi1 pi2).

        ``formula`` (R's model-matrix names, e.g. ``"~ api99 + stype"``) with ``totals`` a
        Series/dict over its columns, or ``totals=None`` for R's default: the totals of the
        model matrix over every phase-1 unit (unweighted, as R). Without a formula, ``totals``
        is a dict column -> total or Series of level totals, as SurveyDesign.calibrate.
        ``method``: "linear", "raking" or "logit"; ``bounds`` bound g. ``method="rrz"`` (R's
        calfun = "rrz", estWeights: Robins, Rotnitzky and Zhao) estimates the phase-2
        probabilities instead, by a logistic regression of phase-2 membership on ``formula``
        over the phase-1 units outside fully sampled phase-2 strata (``totals`` unused).

        >>> d.calibrate(formula="~ api99").mean("api00")  # doctest: +SKIP
        """
        if phase == 1:
            raise cal.CalibrationError(
                "calibrate(phase=1) of a two-phase design is not supported (R survey 4.5 fails "
                "on it too): calibrate at phase=2, or weight the phase-1 data before twophase()")
        if phase != 2:
            raise cal.CalibrationError(f"phase must be 1 or 2, got {phase!r}")
        if options:
            raise cal.CalibrationError(
                f"calibrate(phase=2) of a two-phase design takes totals, formula, method, "
                f"bounds, epsilon, maxit and force; not {sorted(options)}")
        ph = self._phases
        self._check_calibratable()
        if method == "rrz":
            if totals is not None or formula is None:
                raise cal.CalibrationError("method='rrz' estimates the phase-2 probabilities "
                                           "from formula= (give no totals)")
            return self._estimated_weights(formula, epsilon=epsilon, maxit=maxit)
        if formula is not None:
            X, names = model_matrix(self._data, formula)
            if totals is None:
                try:
                    X1, names1 = model_matrix(ph.data1, formula)
                except cal.CalibrationError as err:
                    raise cal.CalibrationError(
                        f"phase-1 totals of {formula!r}: {err} (variables made by assign() "
                        "reach the phase-1 units when given as a function of the data frame)"
                    ) from None
                if names1 != names:
                    raise cal.CalibrationError(
                        f"the model matrix of {formula!r} has columns {list(names1)} over the "
                        f"phase-1 units but {list(names)} over phase 2: a level is missing "
                        "from phase 2; give totals= or merge levels")
                t = X1.sum(axis=0)
            else:
                given = pd.Series(totals, dtype=np.float64)
                if len(given) == len(names) and not set(given.index) & set(names):
                    given.index = list(names)            # totals in model-matrix order (R)
                missing = [nm for nm in names if nm not in given.index]
                extra = [nm for nm in given.index if nm not in names]
                if missing or extra:
                    raise cal.CalibrationError(
                        f"population totals do not match the model matrix of {formula!r}: "
                        f"missing {missing}, not in the model {extra}; model columns are "
                        f"{list(names)}")
                t = given.loc[list(names)].to_numpy()
        else:
            if totals is None:
                raise cal.CalibrationError("calibrate needs formula= (totals default to the "
                                           "phase-1 totals) or totals=")
            X, t, names = cal.calibration_matrix(self._data, totals)
        if isinstance(bounds, (tuple, list)) and len(bounds) == 2:
            # a bound may be a column of the phase-2 rows (one bound per unit)
            bounds = tuple(_numbers(self._data, b, "bounds") if isinstance(b, str) else b
                           for b in bounds)
        w2, record = cal.calibrate_weights(1.0 / ph.pi2, X, t, method=method, bounds=bounds,
                                           epsilon=epsilon, maxit=maxit, force=force,
                                           names=names)
        return self._with_phase2(w2 * ph.pi2, record)

    def _check_calibratable(self) -> None:
        if self._phases.calibration is not None:
            raise cal.CalibrationError(
                "this two-phase design is already calibrated (R's two-phase variance uses one "
                "phase-2 calibration): calibrate the uncalibrated design once, with all totals")
        if not self._domain.all():
            raise cal.CalibrationError("calibrate the whole two-phase design, then take the "
                                       "subset (the calibration totals are for every unit)")

    def _with_phase2(self, g: np.ndarray, record) -> TwoPhaseDesign:
        """The design with phase-2 weights g / pi2 and the record of how they were made."""
        ph = self._phases
        w = g / (ph.pi1 * ph.pi2)
        w.setflags(write=False)
        return self._replace(_weights=w, _phases=dataclasses.replace(ph, calibration=record,
                                                                     g=g))

    def _estimated_weights(self, formula, epsilon: float, maxit: int) -> TwoPhaseDesign:
        """R's estWeights.twophase(2): phase-2 probabilities from a logistic regression of
        phase-2 membership on the formula over the phase-1 units; variance residuals from the
        model matrix (R's greg_calibration record with qr(mm sqrt(1/pi2)), w = g sqrt(1/pi2))."""
        ph = self._phases
        in2 = ph.in2
        X1, names = model_matrix(ph.data1, formula)
        if "(Intercept)" not in names:
            raise cal.CalibrationError("method='rrz': the formula must have an intercept (R)")
        # units of fully sampled phase-2 strata are certain to be in phase 2 (R's certainty)
        certain2 = ph.pi2 >= 1.0
        certain = np.zeros(in2.shape[0], dtype=bool)
        certain[np.flatnonzero(in2)[certain2]] = True
        fit = _logistic_fit(X1[~certain], in2[~certain].astype(np.float64), epsilon, maxit)
        p_hat = np.ones(ph.pi2.shape[0])
        p_hat[~certain2] = fit[in2[~certain]]
        g = ph.pi2 / p_hat
        X2 = X1[in2]
        if certain2.any():
            X2 = np.column_stack([certain2.astype(np.float64),
                                  np.where(certain2[:, None], 0.0, X2)])
        return self._with_phase2(g, _ModelCalibration.from_matrix(X2, 1.0 / ph.pi2, g))

    def poststratify(self, *args, **kwargs):  # noqa: ARG002
        raise cal.CalibrationError(
            "poststratify of a two-phase design is not supported (R: 'postStratify not "
            "implemented for two-phase designs. Use calibrate()'): use calibrate(formula="
            "'~ cell', phase=2) with the cells as a categorical column")

    def rake(self, *args, **kwargs):  # noqa: ARG002
        raise cal.CalibrationError(
            "rake of a two-phase design is not supported (R rakes by postStratify, which "
            "two-phase designs lack): use calibrate(formula='~ a + b', method='raking')")

    def replicate(self, *args, **kwargs):  # noqa: ARG002
        raise ReplicateError(
            "replicate weights of a two-phase design are not supported (R has no two-phase "
            "as.svrepdesign): use the two-phase Taylor variance, or replicate the phase-1 design")

    def trim(self, *args, **kwargs):  # noqa: ARG002
        raise cal.CalibrationError(
            "trim of a two-phase design is not supported (R's trimWeights has no two-phase "
            "method): trim the phase-1 weights before twophase(), or bound g in calibrate()")

    def __repr__(self) -> str:
        ph = self._phases
        if ph is None:
            return super().__repr__()
        cal_note = "" if ph.calibration is None else ", calibrated at phase 2"
        return (f"Two-phase design (method={ph.method!r}{cal_note}): {len(ph.data1)} "
                f"phase-1 units, {int(self._domain.sum())} phase-2 rows")


@dataclasses.dataclass(frozen=True, eq=False)
class _ModelCalibration:
    """Variance residuals of estimated phase-2 weights (R's greg_calibration record of
    estWeights): ``w (r - Q Q' r)``, r = U / w, Q an orthonormal basis of X sqrt(w0),
    w = g sqrt(w0)."""

    Q: np.ndarray
    w: np.ndarray

    @classmethod
    def from_matrix(cls, X: np.ndarray, w0: np.ndarray, g: np.ndarray) -> _ModelCalibration:
        A = X * np.sqrt(w0)[:, None]
        u, sv, _ = np.linalg.svd(A, full_matrices=False)
        keep = sv > sv[0] * 1e-7 * max(A.shape)      # R's qr leaves aliased columns out
        return cls(Q=u[:, keep], w=g * np.sqrt(w0))

    def residualize(self, U) -> np.ndarray:
        r = np.asarray(U, dtype=np.float64) / self.w[:, None]
        return (r - self.Q @ (self.Q.T @ r)) * self.w[:, None]


def _logistic_fit(X: np.ndarray, y: np.ndarray, epsilon: float, maxit: int) -> np.ndarray:
    """Fitted probabilities of an unweighted logistic regression (R's glm(family = binomial)),
    by Newton-Raphson until the deviance changes by less than ``epsilon`` (relative)."""
    beta = np.zeros(X.shape[1])
    dev_old = np.inf
    for _ in range(max(maxit, 100)):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        sw = np.sqrt(np.clip(p * (1.0 - p), 1e-300, None))
        beta = beta + np.linalg.lstsq(X * sw[:, None], (y - p) / sw, rcond=None)[0]
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        dev = -2.0 * np.sum(np.where(y > 0, np.log(p), np.log1p(-p)))
        if abs(dev - dev_old) < epsilon * (abs(dev) + 0.1):
            return p
        dev_old = dev
    raise cal.CalibrationError("method='rrz': the logistic regression of phase-2 membership "
                               "did not converge")


def _as_matrix(U, n: int) -> np.ndarray:
    if isinstance(U, ColumnwiseInfluence):
        U = np.asarray(U)
    U = np.asarray(U, dtype=np.float64)
    if U.ndim == 1:
        U = U[:, None]
    if U.shape[0] != n:
        raise ValueError(f"influence matrix has {U.shape[0]} rows, design has {n}")
    return U


def _unit_values(v: np.ndarray, unit: np.ndarray, C: int) -> np.ndarray:
    """(C,) the value of the first phase-2 row of each unit (R: x[!duplicated(cluster)])."""
    first = np.full(C, -1, dtype=np.int64)
    first[unit[::-1]] = np.arange(unit.shape[0])[::-1]
    return v[first]


def twophase(data: pd.DataFrame, subset, strata2: str | None = None,
             strata1: str | None = None, fpc1: str | None = None, probs1: str | None = None,
             fpc2: str | None = None, psu1: str | None = None,
             method: str = "full", weights1: str | None = None,
             weights2: str | None = None) -> TwoPhaseDesign:
    """A two-phase design (R: twophase(id = list(~1, ~1), strata = list(strata1, strata2),
    fpc = list(fpc1, fpc2), probs = list(probs1, NULL), subset = ~subset, method = method)).

    data: every first-phase unit (one row each); subset: a boolean column name or array, the
    units sampled at phase 2; strata2: phase-2 strata (known for all first-phase units);
    strata1/fpc1/probs1: the first phase's strata, population sizes (or sampling fractions) and
    selection probabilities; without any of them the first-phase units are independent draws
    (case-cohort studies). fpc2 defaults to the number of first-phase units in the stratum.
    psu1: first-phase clusters (R's id = list(~cluster, ~unit)): clusters are sampled at the
    first phase (fpc1 counts clusters), units within them at the second (e.g. strata2 = the
    cluster: two-stage sampling written as two phases).
    weights1/weights2 (method="approx" only, as R's weights = list(~w1, ~w2)): sampling weights
    of the phases in place of probabilities; the fpc of each phase still comes from fpc1 and
    from fpc2 or the first-phase counts.
    method: "full" (R's default, exact for any such design; a dense phase-2 x phase-2 matrix,
    at most 20,000 phase-2 units) or "approx" / "simple" (the same: R's cheaper variance, exact
    for simple random sampling at phase 1 and stratified sampling at phase 2).

    >>> d = twophase(nwtco, subset="in2", strata2="rel", method="simple")   # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if method not in METHODS:
        raise DesignError(f"twophase: method must be one of {METHODS}, got {method!r}")
    method = "approx" if method == "simple" else method
    if method == "full" and (weights1 is not None or weights2 is not None):
        raise DesignError("twophase: weights1/weights2 need method='approx' (R: 'weights not "
                          "accepted by method=\"full\"'); give probs1 or fpc1 instead")
    if probs1 is not None and weights1 is not None:
        raise DesignError("twophase: give probs1 or weights1, not both")
    n1 = len(data)
    sub = row_mask(data, subset, "twophase: subset")
    if not sub.any():
        raise DesignError("twophase: subset must mark at least one of the first-phase rows")
    if method == "full" and int(sub.sum()) > _MAX_PHASE2:
        raise DesignError(f"twophase: {int(sub.sum())} phase-2 units; method='full' takes at "
                          f"most {_MAX_PHASE2} (a dense phase-2 x phase-2 matrix): use "
                          "method='approx' for simple random sampling at phase 1")
    # ---- phase 1 (per first-phase sampling unit: a row, or a cluster)
    h1 = _codes(data, strata1, "strata1")
    c1 = np.arange(n1) if psu1 is None else _codes(data, psu1, "psu1")
    n_c = int(c1.max()) + 1
    first = np.full(n_c, -1, dtype=np.int64)
    first[c1[::-1]] = np.arange(n1)[::-1]
    if np.any(h1 != h1[first[c1]]):
        raise DesignError("twophase: first-phase clusters must nest in the first-phase strata")
    H1 = int(h1.max()) + 1
    n1_strat = np.bincount(h1[first], minlength=H1).astype(np.float64)
    n1_h = n1_strat[h1]
    iid = strata1 is None and fpc1 is None and probs1 is None and psu1 is None
    with_replacement = fpc1 is None
    f1 = None
    p1 = np.ones(n1)
    if fpc1 is not None:
        f1 = _numbers(data, fpc1, "fpc1")
        p1 = n1_h / f1 if np.all(f1 >= 1) else f1
        if np.any((p1 <= 0) | (p1 > 1)):
            raise DesignError(f"twophase: fpc1 {fpc1!r} implies first-phase sampling fractions "
                              "outside (0, 1]")
    # as R's svydesign: given probabilities (or weights) take precedence over the fpc's
    if probs1 is not None:
        p1 = _numbers(data, probs1, "probs1")
    elif weights1 is not None:
        p1 = 1.0 / _numbers(data, weights1, "weights1")
    # ---- phase 2
    h2_all = _codes(data, strata2, "strata2")
    N2 = np.bincount(h2_all).astype(np.float64)
    n2 = np.bincount(h2_all[sub], minlength=N2.shape[0]).astype(np.float64)
    if np.any((n2 == 0) & (N2 > 0)):
        raise DesignError("twophase: some phase-2 strata have no phase-2 units (zero sampling "
                          "fraction)")
    h2 = h2_all[sub]
    if fpc2 is not None:
        f2 = _numbers(data.loc[sub], fpc2, "fpc2")
        p2 = n2[h2] / f2 if np.all(f2 >= 1) else f2
    else:
        p2 = n2[h2] / N2[h2]
    pop2 = n2[h2] / p2                   # the phase-2 fpc (population sizes per row)
    if weights2 is not None:
        p2 = 1.0 / _numbers(data.loc[sub], weights2, "weights2")
    data2 = data.loc[sub]
    w = 1.0 / (p1[sub] * p2)
    name = "__twophase_weight__"
    d = TwoPhaseDesign(data2.assign(**{name: w}), weights=name, strata=strata2)
    common = {"pi1": p1[sub], "pi2": p2, "data1": data.copy(deep=False), "in2": sub}
    if method == "full":
        if iid:
            D1 = np.eye(int(sub.sum()))
        else:
            # the check-Delta of the first-phase units, read at the phase-2 rows' units
            Dc = _stratum_dcheck(h1[first], p1[first], n1_h[first], pairs=not with_replacement)
            cs = c1[sub]
            D1 = Dc[np.ix_(cs, cs)]
        D2 = _stratum_dcheck(h2, p2, n2[h2], pairs=True)
        D1 += D2 - D1 * D2                        # in place: one dense n2 x n2 matrix at a time
        del D2
        phases = _Phases(method="full", D=D1, D2=_StratumDcheck(h2, p2, n2[h2]), **common)
    else:
        phases = _approx_phases(common, sub, h1, c1, n1_strat, f1, strata2 is not None, h2_all,
                                h2, pop2)
    spec = {**d._spec, "weights": None, "twophase": {
        "strata1": strata1, "fpc1": fpc1, "probs1": probs1, "weights1": weights1,
        "strata2": strata2, "fpc2": fpc2, "weights2": weights2, "psu1": psu1,
        "method": method}}
    return d._replace(_data=data2.copy(deep=False), _spec=spec, _pps="twophase",
                      _has_fpc=True, _phases=phases)


def _approx_phases(common, sub, h1, c1, n1_strat, f1, has_strata2, h2_all, h2,
                   pop2) -> _Phases:
    """R's twophase(method = "approx"): phase-1 units with their chance to reach phase 2 (usu),
    the phase-1 fpc as R's svydesign of the phase-2 rows, and the stratified phase-2 stages."""
    H1 = n1_strat.shape[0]
    # units (phase-1 clusters) that reach phase 2, numbered in order of first appearance
    c_sub = c1[sub]
    units, unit = np.unique(c_sub, return_inverse=True)
    C = units.shape[0]
    h1_sub = h1[sub]
    unit_stratum = _unit_values(h1_sub, unit, C)
    n_in2 = np.bincount(unit_stratum, minlength=H1).astype(np.float64)   # R's nPSU
    if has_strata2:
        # with phase-2 strata: distinct phase-1 units of the stratum in phase 2 / in phase 1
        k2 = int(h2_all.max()) + 1
        ratio = _n_distinct(h2, c_sub, k2) / _n_distinct(h2_all, c1, k2)
        usu_rows = ratio[h2]
    else:
        usu_rows = n_in2[h1_sub] / n1_strat[h1_sub]
    usu = _unit_values(usu_rows, unit, C)
    # the phase-1 fpc of R's svydesign on the phase-2 rows: population sizes as given, or
    # (sampling fractions) the phase-2 count of the stratum divided by the fraction
    if f1 is None:
        factor = np.ones(H1)
    else:
        fr = f1[sub]
        fr_h = _unit_values(fr, unit, C)
        first_of_h = np.full(H1, -1, dtype=np.int64)
        first_of_h[unit_stratum[::-1]] = np.arange(C)[::-1]
        fh = fr_h[first_of_h]
        N1 = fh if np.all(f1 >= 1) else n_in2 / fh
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(np.isinf(N1), 1.0, (N1 - n1_strat) / N1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale1 = np.where(n_in2 > 1, factor * n1_strat / (n1_strat - 1.0), factor)
    lonely1 = (n_in2 == 1) & (factor >= CENSUS_TOLERANCE)
    # phase 2: stratified element sampling with fpc N2_h (first-phase units of the stratum)
    rows = np.arange(h2.shape[0])
    labels = np.array([str(i + 1) for i in range(int(h2_all.max()) + 1)], dtype=object)
    _, h2c = np.unique(h2, return_inverse=True)
    stages2 = build_stages([h2c.astype(np.int64)], [rows], [pop2],
                           [labels[np.unique(h2)]])
    samescale = np.unique(c_sub).shape[0] == c_sub.shape[0]
    return _Phases(method="approx", unit=unit.astype(np.int64), unit_stratum=unit_stratum,
                   usu=usu, scale1=scale1, n1=n1_strat, lonely1=lonely1, stages2=stages2,
                   samescale=bool(samescale), **common)
