"""Two-phase designs (R: twophase(method = "full")) with element sampling at both phases.

A first-phase sample is drawn from the population (simple random, possibly stratified, with or
without an fpc, or just independent units as in case-cohort studies); the second phase is a
stratified random subsample of it, with strata known for every first-phase unit. Estimates use
the phase-2 rows with weights 1 / (pi1 pi2); the variance is the Horvitz-Thompson form
U' D U with Sarndal's check-Delta of the two phases combined, D = D1 + D2 - D1 * D2
(elementwise; R's twophaseDcheck):

- D1 (phase 1, among the phase-2 units): 1 - pi1 on the diagonal and -(1 - pi1) / (n1_h - 1)
  within a first-phase stratum when sampled without replacement (fpc), only the diagonal
  otherwise, and the identity for independent first-phase units (R's phase1_is_iid);
- D2 (phase 2): 1 - pi2 on the diagonal, -(1 - pi2) / (n2_h - 1) within a second-phase stratum,
  pi2 = n2_h / N2_h with N2_h the first-phase units of the stratum (R computes it the same way
  when the phase-2 fpc is not given).

The result is a :class:`~analysis.design.SurveyDesign` over the phase-2 rows, so every estimator,
domain and model works on it; design df are those of phase 2 (R's degf(design$phase2)).
Calibration and replicate weights of a two-phase design are not supported (R treats them apart).

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
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analysis.design import DesignError, SurveyDesign
from analysis.masks import row_mask

__all__ = ["twophase"]

_MAX_PHASE2 = 20_000   # the check-Delta is dense over the phase-2 units


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


def twophase(data: pd.DataFrame, subset, strata2: str | None = None,
             strata1: str | None = None, fpc1: str | None = None, probs1: str | None = None,
             fpc2: str | None = None, psu1: str | None = None) -> SurveyDesign:
    """A two-phase design (R: twophase(id = list(~1, ~1), strata = list(strata1, strata2),
    fpc = list(fpc1, fpc2), probs = list(probs1, NULL), subset = ~subset, method = "full")).

    data: every first-phase unit (one row each); subset: a boolean column name or array, the
    units sampled at phase 2; strata2: phase-2 strata (known for all first-phase units);
    strata1/fpc1/probs1: the first phase's strata, population sizes (or sampling fractions) and
    selection probabilities; without any of them the first-phase units are independent draws
    (case-cohort studies). fpc2 defaults to the number of first-phase units in the stratum.
    psu1: first-phase clusters (R's id = list(~cluster, ~unit)): clusters are sampled at the
    first phase (fpc1 counts clusters), units within them at the second (e.g. strata2 = the
    cluster: two-stage sampling written as two phases).

    >>> d = twophase(nwtco, subset="in2", strata2="rel")   # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    n1 = len(data)
    sub = row_mask(data, subset, "twophase: subset")
    if not sub.any():
        raise DesignError("twophase: subset must mark at least one of the first-phase rows")
    if int(sub.sum()) > _MAX_PHASE2:
        raise DesignError(f"twophase: {int(sub.sum())} phase-2 units; at most {_MAX_PHASE2} "
                          "(the variance uses a dense phase-2 x phase-2 matrix)")
    # ---- phase 1 (per first-phase sampling unit: a row, or a cluster)
    h1 = _codes(data, strata1, "strata1")
    c1 = np.arange(n1) if psu1 is None else _codes(data, psu1, "psu1")
    n_c = int(c1.max()) + 1
    first = np.full(n_c, -1, dtype=np.int64)
    first[c1[::-1]] = np.arange(n1)[::-1]
    if np.any(h1 != h1[first[c1]]):
        raise DesignError("twophase: first-phase clusters must nest in the first-phase strata")
    n1_h = np.bincount(h1[first], minlength=int(h1.max()) + 1).astype(np.float64)[h1]
    iid = strata1 is None and fpc1 is None and probs1 is None and psu1 is None
    with_replacement = fpc1 is None
    if fpc1 is not None:
        f = data[fpc1].to_numpy(dtype=np.float64)
        p1 = n1_h / f if np.all(f >= 1) else f
        if np.any((p1 <= 0) | (p1 > 1)):
            raise DesignError(f"twophase: fpc1 {fpc1!r} implies first-phase sampling fractions "
                              "outside (0, 1]")
    elif probs1 is not None:
        p1 = data[probs1].to_numpy(dtype=np.float64)
    else:
        p1 = np.ones(n1)
    # ---- phase 2
    h2_all = _codes(data, strata2, "strata2")
    N2 = np.bincount(h2_all).astype(np.float64)
    n2 = np.bincount(h2_all[sub], minlength=N2.shape[0]).astype(np.float64)
    if np.any((n2 == 0) & (N2 > 0)):
        raise DesignError("twophase: some phase-2 strata have no phase-2 units (zero sampling "
                          "fraction)")
    h2 = h2_all[sub]
    if fpc2 is not None:
        f2 = data.loc[sub, fpc2].to_numpy(dtype=np.float64)
        p2 = n2[h2] / f2 if np.all(f2 >= 1) else f2
    else:
        p2 = n2[h2] / N2[h2]
    # ---- combined check-Delta over the phase-2 units
    if iid:
        D1 = np.eye(int(sub.sum()))
    else:
        # the check-Delta of the first-phase units, read at the phase-2 rows' units
        Dc = _stratum_dcheck(h1[first], p1[first], n1_h[first], pairs=not with_replacement)
        cs = c1[sub]
        D1 = Dc[np.ix_(cs, cs)]
    D2 = _stratum_dcheck(h2, p2, n2[h2], pairs=True)
    D = D1 + D2 - D1 * D2
    data2 = data.loc[sub]
    w = 1.0 / (p1[sub] * p2)
    name = "__twophase_weight__"
    d = SurveyDesign(data2.assign(**{name: w}), weights=name, strata=strata2)
    st = dataclasses.replace(d.stages[0], dcheck=D)
    spec = {**d._spec, "weights": None, "twophase": {"strata1": strata1, "fpc1": fpc1,
                                                     "probs1": probs1, "strata2": strata2}}
    return d._replace(_data=data2.copy(deep=False), _stages=(st,), _spec=spec,
                      _pps="twophase", _has_fpc=True)
