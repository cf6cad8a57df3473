"""Calibration within the sampling units of a stage (R's ``calibrate(stage = s)``,
Sarndal's case C): every unit of a stage-s cluster is calibrated, with its conditional weights,
to that cluster's own population totals; the residuals reduce only the variance of the later
stages (R's multistage recursion)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration.errors import CalibrationError
from analysis.calibration.records import Calibration, _margin_frame


@dataclass(frozen=True, eq=False)
class ClusterCalibration(Calibration):
    """Record of calibration within the sampling units of a stage (R's calibrate(stage = 1),
    Sarndal's case C). Its residuals act only on the variance of the later stages (R's
    multistage recursion): ``residualize`` leaves U as it is, ``residualize_within`` applies
    ``w * (r - Q_c Q_c' r)``, r = U / w, in every cluster c, with Q_c an orthonormal basis of
    the cluster's X * sqrt(conditional weights / sigma2) and w = g * weights * sqrt(sigma2)."""

    within_stage: int
    codes: np.ndarray            # (n,) cluster code of every row at that stage
    bases: tuple                 # per cluster: (rows, Q)
    w: np.ndarray                # (n,) R's caldata$w
    X: np.ndarray
    targets: dict                # cluster label -> (names, totals)
    kind: str = "calibrate within clusters"
    old_weights: np.ndarray | None = None

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
        frames = []
        for (label, (names, totals)), (rows, _) in zip(self.targets.items(), self.bases):
            got = self.X[rows].T @ weights[rows]
            frames.append(_margin_frame(self.kind, str(label), names, totals,
                                        got[: len(names)] if len(got) == len(names) else got))
        return pd.concat(frames, ignore_index=True)

    def replay(self, W: np.ndarray) -> np.ndarray:  # noqa: ARG002 (the Calibration interface)
        raise CalibrationError("replicate weights of a design calibrated within clusters "
                               "(stage=1) are not supported: replicate the design first, or "
                               "calibrate to population totals")
