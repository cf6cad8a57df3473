"""Calibration within the sampling units of a stage (R's ``calibrate(stage = s)``, Sarndal's
case C): the rows of every stage-s unit are calibrated, with their conditional weights (the
weight divided by the product of the stage weights of stages 1..s), to that unit's own
population totals. The residuals reduce only the variance of the stages after s: in R's
multistage recursion they are applied inside each stage-s unit before its later stages.

For unit c with rows i, conditional weights ``cw_i``, model rows ``x_i`` and variances
``sigma2_i`` (1 unless given), the linear calibration (R's regcalibrate) is

.. math::  g_i = 1 + x_i' T_c^{-1} (t_c - \\sum_i cw_i x_i) / \\sigma^2_i,
           \\quad T_c = \\sum_i cw_i x_i x_i' / \\sigma^2_i,

the new weights are ``w_i g_i`` and the record residualises influence values as
``w * qr.resid(X_c sqrt(cw / sigma2), U / w)`` with ``w = g w sqrt(sigma2)`` (R's caldata).

With ``sigma2 = x`` and no intercept this is the ratio estimator inside every unit: unit "a"
(conditional weights 2, x total 8) meets its total 12 with g = 1.5, unit "b" its 4 with g = 0.5.

>>> X = np.array([[1.0], [3.0], [2.0], [2.0]])
>>> w, rec = calibrate_within_clusters(np.full(4, 4.0), np.full(4, 2.0), X, ("x",),
...     [("a", np.array([0, 1]), {"x": 12.0}), ("b", np.array([2, 3]), {"x": 4.0})],
...     stage=1, sigma2=X[:, 0])
>>> np.round(w, 12).tolist()
[6.0, 6.0, 2.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration._arrays import _frozen
from analysis.calibration.errors import CalibrationError
from analysis.calibration.records import Calibration, _margin_frame


@dataclass(frozen=True, eq=False)
class ClusterCalibration(Calibration):
    """Record of calibration within the sampling units of a stage (R's calibrate(stage = s),
    Sarndal's case C). Its residuals act only on the variance of the later stages (R's
    multistage recursion): ``residualize`` leaves U as it is, ``residualize_within`` applies
    ``w * (r - Q_c Q_c' r)``, r = U / w, in every cluster c, with Q_c an orthonormal basis of
    the cluster's X * sqrt(conditional weights / sigma2) and w = g * weights * sqrt(sigma2);
    the variance engine calls it before the variance of stage ``within_stage + 1``."""

    within_stage: int
    codes: np.ndarray            # (n,) cluster code of every row at that stage
    bases: tuple                 # per cluster: (rows, Q)
    w: np.ndarray                # (n,) R's caldata$w
    X: np.ndarray
    targets: dict                # cluster label -> (names, totals, model columns kept)
    kind: str = "calibrate within clusters"
    old_weights: np.ndarray | None = None
    #: (n,) product of the stage weights of stages 1..within_stage: weights / stage_weights
    #: are the conditional weights whose totals meet each cluster's targets
    stage_weights: np.ndarray | None = None

    def residualize(self, U):
        return U                 # stage-0 variance: unchanged (R applies it in the recursion)

    def residualize_within(self, U: np.ndarray) -> np.ndarray:
        U = np.array(U, dtype=np.float64)
        squeeze = U.ndim == 1
        U = U[:, None] if squeeze else U
        w = self.w[:, None]
        R = np.divide(U, w, out=np.zeros_like(U), where=w != 0)
        for rows, Q in self.bases:
            R[rows] -= Q @ (Q.T @ R[rows])
        out = R * w
        return out[:, 0] if squeeze else out

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        """Each cluster's targets against the totals of its conditional weights."""
        cw = weights if self.stage_weights is None else np.divide(
            weights, self.stage_weights, out=np.zeros(len(weights)),
            where=self.stage_weights != 0)
        frames = []
        for (label, (names, totals, cols)), (rows, _) in zip(self.targets.items(), self.bases):
            got = self.X[np.ix_(rows, cols)].T @ cw[rows]
            frames.append(_margin_frame(f"{self.kind} (stage {self.within_stage})", str(label),
                                        names, totals, got))
        return pd.concat(frames, ignore_index=True)

    def replay(self, W: np.ndarray) -> np.ndarray:  # noqa: ARG002 (the Calibration interface)
        # R: as.svrepdesign of such a design stops ("calibrate the design *after* adding
        # replicate weights"), and calibrate(stage=) of a replicate design has no stages
        raise CalibrationError(f"replicate weights of a design calibrated within clusters "
                               f"(stage={self.within_stage}) are not supported: replicate the "
                               "design first, or calibrate to population totals")


def unit_totals(totals: Mapping, keys: Sequence, names: Sequence[str], unit: str) -> np.ndarray:
    """The totals of one unit, in the order of the model columns ``names``: the first of
    ``keys`` (the unit's label, its text, the labels of all stages down to it) found in
    ``totals``; an error naming the unit otherwise."""
    key = next((k for k in keys if _has_key(totals, k)), None)
    if key is None:
        how = "" if len(keys) > 2 else f" keyed by {keys[0]!r} (its label repeats in other units)"
        raise CalibrationError(f"no totals for {unit}{how}; calibration within clusters needs "
                               "the totals of every sampled unit of that stage")
    return _ordered(totals[key], names, unit)


def _ordered(given, names: Sequence[str], unit: str) -> np.ndarray:
    """Totals by model column name (a dict or Series) as an array in the order of ``names``;
    an array is taken to be in that order already."""
    if not isinstance(given, (Mapping, pd.Series)):
        arr = np.asarray(given, dtype=np.float64)
        if arr.shape != (len(names),):
            raise CalibrationError(f"totals of {unit}: {arr.shape} values for the "
                                   f"{len(names)} model columns {list(names)}")
        return arr
    given = pd.Series(given, dtype=np.float64)
    missing = [nm for nm in names if nm not in given.index]
    if missing:
        raise CalibrationError(f"totals of {unit} lack {missing}")
    return given.loc[list(names)].to_numpy()


def _has_key(totals: Mapping, key) -> bool:
    try:
        return key in totals
    except TypeError:            # an unhashable key cannot be in the dict
        return False


def calibrate_within_clusters(
    weights: np.ndarray,
    stage_weights: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    units: Sequence,
    *,
    stage: int,
    sigma2: np.ndarray | None = None,
    codes: np.ndarray | None = None,
):
    """Linear calibration inside every unit of a stage to that unit's totals (R's
    regcalibrate with ``stage``): returns ``(new_weights, ClusterCalibration)``.

    ``weights`` (n,) the design's weights, ``stage_weights`` (n,) the product of the stage
    weights of stages 1..``stage`` (``weights / stage_weights`` are the conditional weights),
    ``units`` a sequence of ``(label, rows, totals by model column name)`` covering the rows
    (the rows of unit c as an integer array),
    ``sigma2`` (n,) R's heteroscedastic variances. A model column with total 0 and no nonzero
    value in the unit is dropped there (as R); a unit whose rows cannot meet its totals is an
    error naming it (R's solve() fails too).
    """
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    cw = np.divide(w, stage_weights, out=np.zeros(n), where=stage_weights != 0)
    s2 = np.ones(n) if sigma2 is None else np.asarray(sigma2, dtype=np.float64)
    g = np.ones(n)
    bases, targets = [], {}
    for label, rows, unit_total in units:
        t = _ordered(unit_total, names, f"unit {label!r}")
        Xi = X[rows]
        sample_total = Xi.T @ cw[rows]
        keep = ~((t == 0) & np.all(Xi == 0, axis=0))      # R drops empty columns
        A = Xi[:, keep] * (np.sqrt(cw[rows]) / np.sqrt(s2[rows]))[:, None]
        try:
            tT = np.linalg.solve(A.T @ A, t[keep] - sample_total[keep])
        except np.linalg.LinAlgError as exc:
            raise CalibrationError(
                f"calibration within {'PSU' if stage == 1 else f'stage-{stage} unit'} "
                f"{label!r} is singular: its units cannot meet {len(t[keep])} totals "
                "(R's solve() fails too)") from exc
        g[rows] = 1.0 + Xi[:, keep] @ tT / s2[rows]
        Q, _ = np.linalg.qr(A)
        bases.append((rows, Q))
        targets[label] = ([nm for nm, k in zip(names, keep) if k], t[keep], np.flatnonzero(keep))
    if codes is None:
        codes = np.empty(n, dtype=np.intp)
        for c, (rows, _) in enumerate(bases):
            codes[rows] = c
    record = ClusterCalibration(
        within_stage=stage, codes=codes, bases=tuple(bases), w=g * w * np.sqrt(s2), X=X,
        targets=targets, old_weights=_frozen(weights), stage_weights=_frozen(stage_weights))
    return w * g, record
