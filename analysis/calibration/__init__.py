"""Weight calibration as pure numpy: post-stratification, raking (IPF), GREG calibration, trimming.

Every function takes the current weights either as a vector ``(n,)`` (one design) or as a matrix
``(n, R)`` (one column per replicate) and calibrates column by column. Functions given a vector
also return a :class:`Calibration` record: the object the variance engine uses to replace the
influence values ``U`` by their calibration residuals, exactly as R survey's ``svyrecvar`` does:

* post-stratification: ``U - w_ps * mean_oldw(U / w_ps | cell)`` (mean weighted by the weights
  before post-stratification, as R's ``postStratify`` record);
* raking: 10 backfitting sweeps ``U <- U - w_m * ave(U / w_m | margin m)`` over the margins,
  where ``w_m`` are the weights after margin ``m`` in the last IPF sweep (R's ``rake``);
* GREG calibration (linear, raking, logit distances): ``w * qr.resid(X sqrt(w0), U / w)`` with
  ``w = g sqrt(w0)``, ``w0`` the weights before calibration (R's ``calibrate``).

``residualize`` accepts an (n, k) array or a :class:`~analysis.variance.ColumnwiseInfluence`; the
latter gives one back whose columns are computed when read, so calibrated variances never form an
n x k matrix. Records stay small: cell codes in the smallest integer type, the weights before the
step shared with the design (read-only) rather than copied, nothing kept that can be recomputed
exactly from what is kept.

Population information is given as pandas objects and turned into integer cell codes and target
totals by :func:`cell_codes`, which refuses levels that appear in only one of sample and
population (naming them).

Modules (each one step of the weighting, as a statistician would name it):
``cells`` (margins -> cell codes), ``totals`` (totals -> model matrix), ``poststratify``,
``raking``, ``greg`` (calibrate, with ``distances`` = R's calfun, ``newton`` = R's grake and
``bounds``), ``within_clusters`` (calibration within the units of a stage), ``trimming``;
``records`` holds the base of the records the variance engine reads.
"""

from __future__ import annotations

from analysis.calibration._arrays import _frozen as _frozen
from analysis.calibration._arrays import cluster_means
from analysis.calibration.cells import Cells, cell_codes
from analysis.calibration.cells import _joint_codes as _joint_codes
from analysis.calibration.errors import CalibrationError
from analysis.calibration.greg import GregCalibration, calibrate_weights
from analysis.calibration.poststratify import PostStratification, poststratify_weights
from analysis.calibration.raking import Raking, rake_weights
from analysis.calibration.records import Calibration
from analysis.calibration.totals import calibration_matrix
from analysis.calibration.trimming import Trimming, trim_weights
from analysis.calibration.within_clusters import ClusterCalibration

__all__ = [
    "Calibration",
    "CalibrationError",
    "Cells",
    "ClusterCalibration",
    "GregCalibration",
    "PostStratification",
    "Raking",
    "Trimming",
    "calibrate_weights",
    "calibration_matrix",
    "cell_codes",
    "cluster_means",
    "poststratify_weights",
    "rake_weights",
    "trim_weights",
]
