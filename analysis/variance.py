"""The one Taylor-linearisation variance engine (R survey's svyrecvar / multistage / onestage).

Every estimator and model hands this module a matrix ``U`` (n x k) of weighted influence values
(the per-row contributions whose column sums are the linearised estimator).  The variance is

    V = sum over stages s, strata h of stage s:
            c_h * scale_h * sum_{PSU i in h} (z_i - zbar_h)(z_i - zbar_h)^T

where z_i is the PSU total of U, zbar_h = sum_i z_i / n_h, scale_h = (1 - f_h) n_h / (n_h - 1)
(f_h = n_h / N_h, the sampling fraction; 1 - f_h = 1 without an fpc) and c_h the product of the
sampling fractions n/N of all earlier stages (R recurses into later stages only when an fpc is
given).  Lonely PSUs (strata with a single PSU) follow R's ``survey.lonely.psu`` rules as in
survey 4.5: "adjust" centres a lonely PSU at the grand mean of all PSU totals (survey 4.1-1
centred it at zero; the two agree for means, ratios and models, not for totals).

Everything is vectorised: PSU totals come from np.bincount (or one sparse product) per stage;
the only Python loops are over stages and over the k columns.

Example
-------
>>> import numpy as np
>>> st = build_stages(strata=[np.array([0, 0, 1, 1])], psu=[np.arange(4)], popsize=None,
...                   strata_labels=[np.array(["a", "b"])])
>>> round(float(stagewise_vcov(np.array([[1.0], [3.0], [2.0], [2.0]]), st, "fail")[0, 0]), 10)
4.0
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .errors import AnalysisError

if TYPE_CHECKING:  # annotations only: imported where used
    import scipy.sparse as sp

LONELY_PSU_RULES = ("fail", "remove", "certainty", "adjust", "average")


class ColumnwiseInfluence:
    """Influence values ``U`` (n x k) given one column at a time, never held as one matrix.

    The engine only needs PSU totals of each column, so an estimator whose influence values are
    cheap to recompute (a mean: ``w (y_j - ybar_j) / sum w``; a GLM: ``r * (X a_j)``) can hand
    them over column by column: peak memory is one (n,) column instead of n x k. Anything that
    needs the whole matrix (calibration residuals, replicate designs) gets it from
    ``np.asarray(U)``.

    >>> Y = np.array([[1.0, 2.0], [3.0, 5.0]])
    >>> U = ColumnwiseInfluence(2, 2, lambda j: Y[:, j] * 2)
    >>> U.shape, np.asarray(U).tolist()
    ((2, 2), [[2.0, 4.0], [6.0, 10.0]])
    """

    ndim = 2

    def __init__(self, n: int, k: int, column: Callable[[int], np.ndarray], fresh: bool = False):
        self.shape = (int(n), int(k))
        self._column = column
        #: every ``column(j)`` call returns a new array the caller may overwrite (calibration
        #: residuals are then formed in place, without another (n,) temporary)
        self.fresh = bool(fresh)

    def column(self, j: int) -> np.ndarray:
        """Column j as an (n,) float64 array (computed on each call)."""
        return np.asarray(self._column(j), dtype=np.float64)

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, dtype=np.float64, order="F")
        for j in range(self.shape[1]):
            out[:, j] = self.column(j)
        return out if dtype is None else out.astype(dtype, copy=False)


def column_of(U, j: int) -> np.ndarray:
    """Column j of an influence matrix or of a :class:`ColumnwiseInfluence`."""
    return U.column(j) if isinstance(U, ColumnwiseInfluence) else U[:, j]

#: R's onestrat treats a stratum whose finite population correction is below this as a census.
CENSUS_TOLERANCE = 1e-7


class LonelyPSUError(AnalysisError):
    """A stratum has a single PSU and the design's lonely_psu rule is "fail"."""


@dataclass(frozen=True)
class Stage:
    """Sampling structure of one stage, precomputed once per design.

    psu:              (n,) int codes 0..P-1 of this stage's sampling units (nested: unique overall)
    psu_stratum:      (P,) stratum code 0..H-1 of each unit
    stratum_n:        (H,) number of units sampled in the stratum (R's fpc$sampsize)
    stratum_popsize:  (H,) population number of units (np.inf = unknown/with replacement), or None
    stratum_group:    (H,) code of the unit of the previous stage that contains the stratum (R's
                      recursion calls onestage once per such unit; stage 1: all 0)
    stratum_multiplier: (H,) product of sampling fractions n/N of the containing earlier units
    stratum_labels:   (H,) labels used in error messages (R's stratum names)
    indicator:        sparse 0/1 matrix (PSU x row), built lazily
    """

    psu: np.ndarray
    psu_stratum: np.ndarray
    stratum_n: np.ndarray
    stratum_popsize: np.ndarray | None
    stratum_group: np.ndarray
    stratum_multiplier: np.ndarray
    stratum_labels: np.ndarray
    #: (P,) per-PSU 1 - pi_i of a PPS design with Brewer's approximation (R's pps="brewer"),
    #: used instead of the stratum's 1 - f_h; None otherwise
    psu_fpc: np.ndarray | None = None
    #: (P, P) weighted covariance of the sample indicators (Sarndal's check-Delta: Overton,
    #: Hartley-Rao, Poisson sampling); the variance is then Z' D Z (R's ppsvar, HT form)
    dcheck: object | None = None
    #: the Yates-Grundy form of the check-Delta variance (R's variance = "YG")
    dcheck_yg: bool = False

    @cached_property
    def indicator(self) -> sp.csr_matrix:
        """(P, n) sparse 0/1 matrix: PSU totals are ``indicator @ U`` (built on first use)."""
        return indicator_matrix(self.psu, self.n_psu)

    @property
    def n_psu(self) -> int:
        return int(self.psu_stratum.shape[0])

    @property
    def n_strata(self) -> int:
        return int(self.stratum_n.shape[0])

    @property
    def fpc_factor(self) -> np.ndarray:
        """(H,) 1 - f_h as R's onestrat: (N - n)/N, 1 when N is infinite or unknown."""
        if self.stratum_popsize is None:
            return np.ones(self.n_strata)
        N = self.stratum_popsize
        with np.errstate(invalid="ignore", divide="ignore"):
            f = (N - self.stratum_n) / N
        return np.where(np.isinf(N), 1.0, f)


def indicator_matrix(codes: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Sparse (groups x n) 0/1 matrix with a 1 at (codes[i], i); rows coded -1 (outside every
    group) have no entry. ``indicator_matrix(c, G) @ X`` are the group totals of every column.

    >>> indicator_matrix(np.array([0, 1, -1, 0]), 2).toarray()
    array([[1., 0., 0., 1.],
           [0., 1., 0., 0.]])
    """
    import scipy.sparse as sp  # noqa: PLC0415 (lazy: designs and means do not need scipy.sparse)

    rows = np.flatnonzero(codes >= 0)
    return sp.csr_matrix(
        (np.ones(rows.shape[0]), (codes[rows], rows)), shape=(n_groups, codes.shape[0]),
        dtype=np.float64,
    )


def build_stages(
    strata: list[np.ndarray],
    psu: list[np.ndarray],
    popsize: list[np.ndarray] | None,
    strata_labels: list[np.ndarray],
) -> tuple[Stage, ...]:
    """Precompute the per-stage structure from per-row codes.

    strata[s], psu[s]: (n,) int codes 0..H_s-1 and 0..P_s-1, with psu[s] nested in strata[s] and
    strata[s] (s >= 1) nested in psu[s-1]; popsize[s]: (n,) population sizes N per row (constant
    within stratum) or None when no fpc was given; strata_labels[s]: (H_s,) labels.

    Example: see the module docstring.
    """
    stages = []
    multiplier_prev = None
    prev = None
    for s, (h_codes, p_codes) in enumerate(zip(strata, psu)):
        n_psu = int(p_codes.max()) + 1
        n_strata = int(h_codes.max()) + 1
        first_row_of_psu = np.full(n_psu, -1, dtype=np.int64)
        # first row of each PSU: reverse assignment keeps the smallest row index
        first_row_of_psu[p_codes[::-1]] = np.arange(p_codes.shape[0])[::-1]
        psu_stratum = h_codes[first_row_of_psu]
        stratum_n = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
        first_row_of_stratum = np.full(n_strata, -1, dtype=np.int64)
        first_row_of_stratum[h_codes[::-1]] = np.arange(h_codes.shape[0])[::-1]
        N = None if popsize is None else popsize[s][first_row_of_stratum].astype(np.float64)
        if prev is None:
            group = np.zeros(n_strata, dtype=np.int64)
            multiplier = np.ones(n_strata)
        else:
            # the stratum lies inside one unit of the previous stage
            group = prev.psu[first_row_of_stratum]
            parent_stratum = prev.psu_stratum[group]
            if prev.stratum_popsize is None:
                frac = np.zeros(prev.n_strata)
            else:
                frac = prev.stratum_n / prev.stratum_popsize  # n/inf = 0: no later-stage term
            multiplier = multiplier_prev[parent_stratum] * frac[parent_stratum]
        stage = Stage(
            psu=p_codes,
            psu_stratum=psu_stratum,
            stratum_n=stratum_n,
            stratum_popsize=N,
            stratum_group=group,
            stratum_multiplier=multiplier,
            stratum_labels=np.asarray(strata_labels[s], dtype=object),
        )
        stages.append(stage)
        prev = stage
        multiplier_prev = multiplier
    return tuple(stages)


def psu_totals(U: np.ndarray, st: Stage, groups: tuple[np.ndarray, int] | None = None):
    """(P, k) PSU totals of U; with ``groups=(codes, G)`` the columns are expanded per group
    (domain) without forming the (n, G*k) matrix: column g*k + j holds the totals of U[:, j]
    over the rows with codes == g (rows with code -1 belong to no group).

    >>> st = build_stages([np.array([0, 0, 0])], [np.array([0, 1, 1])], None, [np.array(["a"])])
    >>> psu_totals(np.array([[1.0], [2.0], [4.0]]), st[0]).ravel().tolist()
    [1.0, 6.0]
    >>> psu_totals(np.array([[1.0], [2.0], [4.0]]), st[0], groups=(np.array([0, 1, 0]), 2)).tolist()
    [[1.0, 0.0], [4.0, 2.0]]
    """
    k = U.shape[1]
    if groups is None:
        bins, size = st.psu, st.n_psu
    else:
        codes, G = groups
        size = st.n_psu * G
        bins = np.where(codes >= 0, st.psu * G + codes, size)  # extra bin: no group
    if k > 64 and isinstance(U, np.ndarray) and U.flags.c_contiguous:
        if groups is not None:
            M = indicator_matrix(np.where(codes >= 0, bins, -1), size)
        else:
            M = st.indicator
        Z = np.asarray(M @ U)
    else:
        # one bincount per column: no copy of a column-major U, no sparse conversion
        Z = np.empty((size, k))
        for j in range(k):
            Z[:, j] = np.bincount(bins, weights=column_of(U, j), minlength=size + 1)[:size]
    if groups is None:
        return Z
    return Z.reshape(st.n_psu, G * k)


def _stage_vcov(
    U: np.ndarray, st: Stage, lonely_psu: str, present_rows: np.ndarray | None, stage_no: int,
    groups: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """One stage of R's onestage/onestrat for all strata (and all parent units) at once."""
    Z = psu_totals(U, st, groups)  # (P, k) PSU totals
    k = Z.shape[1]
    n_h = st.stratum_n
    if present_rows is None:
        present = np.ones(st.n_strata, dtype=bool)
    else:
        present = np.zeros(st.n_strata, dtype=bool)
        present[st.psu_stratum[st.psu[present_rows]]] = True
    fpc = st.fpc_factor
    if st.psu_fpc is not None:
        # R's onestrat with one fpc per PSU: a stratum is a census when every PSU's is ~0
        below = np.bincount(st.psu_stratum, weights=st.psu_fpc >= CENSUS_TOLERANCE,
                            minlength=st.n_strata)
        fpc = np.where(below > 0, 1.0, 0.0)
    census = fpc < CENSUS_TOLERANCE
    lonely = (n_h == 1) & present & ~census
    if lonely.any() and lonely_psu == "fail":
        first = int(np.flatnonzero(lonely)[0])
        raise LonelyPSUError(
            f"Stratum ({st.stratum_labels[first]}) has only one PSU at stage {stage_no}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, fpc * n_h / np.maximum(n_h - 1, 1), fpc)
    use = present & ~census
    if lonely_psu == "average":
        use = use & ~lonely
    # (certainty/remove: a centred single PSU is exactly zero, as in R)
    weight = np.where(use, scale * st.stratum_multiplier, 0.0)
    if groups is not None and lonely.any() and lonely_psu in ("adjust", "average") \
            and st.psu_fpc is None:
        return _grouped_lonely_vcov(Z, st, lonely, weight, n_h, lonely_psu, present_rows,
                                    groups)
    if lonely_psu == "average":
        # R multiplies each onestage() call by #strata / #strata-with-a-variance
        n_group = int(st.stratum_group.max()) + 1
        n_strat = np.bincount(st.stratum_group, weights=present, minlength=n_group)
        n_ok = np.bincount(st.stratum_group, weights=present & ~(lonely), minlength=n_group)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = n_strat / n_ok
        if np.any((n_ok == 0) & (n_strat > 0)):
            return np.full((k, k), np.nan)  # R: 0 * Inf = NaN when every stratum is lonely
        factor = np.where(n_strat > 0, factor, 0.0)
        weight = weight * factor[st.stratum_group]
    zsum = np.empty((st.n_strata, k))  # stratum sums of the PSU totals
    for j in range(k):
        zsum[:, j] = np.bincount(st.psu_stratum, weights=Z[:, j], minlength=st.n_strata)
    zbar = zsum / n_h[:, None]
    if lonely_psu == "adjust" and lonely.any():
        # R survey >= 4.2 (4.5 is the reference; its documentation says so): a lonely PSU is
        # centred at the grand mean of the PSU totals of every stratum in the same call, i.e.
        # sum of all PSU totals / number of sampled PSUs of all strata (per unit of the previous
        # stage). survey 4.1-1 centred it at zero, which changes totals but not means (their
        # influence values sum to zero, so the grand mean is zero too).
        n_group = int(st.stratum_group.max()) + 1
        n_all = np.bincount(st.stratum_group, weights=np.where(present, n_h, 0.0),
                            minlength=n_group)
        grand = np.empty((n_group, k))
        for j in range(k):
            grand[:, j] = np.bincount(st.stratum_group, weights=zsum[:, j], minlength=n_group)
        with np.errstate(divide="ignore", invalid="ignore"):
            grand /= n_all[:, None]
        zbar[lonely] = grand[st.stratum_group[lonely]]
    D = Z - zbar[st.psu_stratum]
    if st.psu_fpc is not None:
        # Brewer: scale (1 - pi_i) n_h / (n_h - 1) per PSU in place of the stratum's (1 - f_h)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_psu = np.where(fpc[st.psu_stratum] > 0, weight[st.psu_stratum]
                               / np.where(fpc > 0, fpc, 1.0)[st.psu_stratum], 0.0) * st.psu_fpc
        D *= np.sqrt(per_psu)[:, None]
        return D.T @ D
    D *= np.sqrt(weight)[st.psu_stratum][:, None]
    return D.T @ D


def _grouped_lonely_vcov(Z, st: Stage, lonely, weight, n_h, lonely_psu, present_rows, groups):
    """Domains estimated at once (groups) under "adjust" or "average": as R's svyby, each
    domain is its own subset, so a lonely stratum counts only for the domains with rows in it,
    and the grand mean (adjust) and the strata factor (average) are per domain."""
    codes, G = groups
    k = Z.shape[1]
    kb = k // G
    rows = codes >= 0
    if present_rows is not None:
        rows = rows & present_rows
    present_g = np.zeros((st.n_strata, G), dtype=bool)
    present_g[st.psu_stratum[st.psu[rows]], codes[rows]] = True
    pc = present_g[:, np.arange(k) // kb]                 # (H, k): stratum present for column
    n_group = int(st.stratum_group.max()) + 1
    zsum = np.empty((st.n_strata, k))
    for j in range(k):
        zsum[:, j] = np.bincount(st.psu_stratum, weights=Z[:, j], minlength=st.n_strata)
    zbar = zsum / n_h[:, None]
    W = np.repeat(weight[:, None], k, axis=1)
    nan_cols = np.zeros(k, dtype=bool)
    if lonely_psu == "adjust":
        n_all = np.zeros((n_group, k))
        np.add.at(n_all, st.stratum_group, n_h[:, None] * pc)
        grand = np.zeros((n_group, k))
        np.add.at(grand, st.stratum_group, zsum)
        with np.errstate(divide="ignore", invalid="ignore"):
            grand = grand / n_all
        zbar = np.where(lonely[:, None] & pc, grand[st.stratum_group], zbar)
    else:
        n_strat = np.zeros((n_group, k))
        n_ok = np.zeros((n_group, k))
        np.add.at(n_strat, st.stratum_group, pc.astype(float))
        np.add.at(n_ok, st.stratum_group, (pc & ~lonely[:, None]).astype(float))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n_strat > 0, n_strat / n_ok, 0.0)
        nan_cols = np.any((n_ok == 0) & (n_strat > 0), axis=0)
        factor = np.where(np.isfinite(factor), factor, 0.0)
        W = W * factor[st.stratum_group]
    D = (Z - zbar[st.psu_stratum]) * np.sqrt(W[st.psu_stratum])
    V = D.T @ D
    V[nan_cols, :] = np.nan
    V[:, nan_cols] = np.nan
    return V


def stagewise_vcov(
    U: np.ndarray,
    stages: tuple[Stage, ...],
    lonely_psu: str = "fail",
    present_rows: np.ndarray | None = None,
    groups: tuple[np.ndarray, int] | None = None,
    within: list | None = None,
) -> np.ndarray:
    """Covariance (k x k) of the column sums of U under the multistage design.

    U: (n, k) array, or a :class:`ColumnwiseInfluence` (read one column at a time, once per stage).

    present_rows: boolean (n,) rows that belong to the (sub)design, as R's subset keeps them; a
    stratum without such rows is skipped (no lonely-PSU check), like R which never sees it.
    Later stages are added only when the design has an fpc (R's multistage rule).
    groups: optional (codes (n,), G): the columns of U are expanded per group (domain), giving a
    (G*k, G*k) covariance as if U had been the (n, G*k) matrix of domain influence values.

    Example: see the module docstring.
    """
    if lonely_psu not in LONELY_PSU_RULES:
        raise ValueError(f"lonely_psu must be one of {LONELY_PSU_RULES}, got {lonely_psu!r}")
    if not isinstance(U, ColumnwiseInfluence):
        U = np.asarray(U, dtype=np.float64)
        if U.ndim == 1:
            U = U[:, None]
    k = U.shape[1] * (1 if groups is None else groups[1])
    if stages[0].dcheck is not None:
        # PPS without replacement by a check-Delta matrix (single stage): Z' D Z, R's htvar
        Z = psu_totals(U, stages[0], groups)
        D = stages[0].dcheck
        V = np.asarray(Z.T @ np.asarray(D @ Z))
        if stages[0].dcheck_yg:
            # R's ygvar.matrix: HT minus sum(D (x_a x_b)) for every pair of columns
            rowsum = np.asarray(D.sum(axis=1)).ravel()
            V = V - Z.T @ (Z * rowsum[:, None])
        return V
    V = np.zeros((k, k))
    for s, st in enumerate(stages):
        if s > 0 and stages[0].stratum_popsize is None:
            break
        if s > 0 and not np.any(st.stratum_multiplier > 0):
            break
        for record in within or ():
            # calibration within the units of stage s (R: residuals inside each unit before
            # the recursion into the later stages)
            if record.within_stage == s:
                U = record.residualize_within(np.asarray(U, dtype=np.float64))
        V += _stage_vcov(U, st, lonely_psu, present_rows, s + 1, groups)
    return V
