"""Calibration distances (R's ``calfun``): linear (truncated with bounds), raking
(exponential) and logit (bounded), each as ``F^{-1}(u) - 1`` and its derivative."""

from __future__ import annotations

import numpy as np

from analysis.calibration.errors import CalibrationError


def _distance(method: str, lower, upper):
    """(F^{-1}(u) - 1 [the g - 1 of R's calfun$Fm1], its derivative) for R's calfuns."""
    if method == "linear":

        def fm1(u):
            return np.minimum(np.maximum(u + 1.0, lower), upper) - 1.0

        def dF(u):
            return ((u < upper - 1.0) & (u > lower - 1.0)).astype(np.float64)

    elif method == "raking":

        def fm1(u):
            return np.minimum(np.maximum(np.exp(u), lower), upper) - 1.0

        def dF(u):
            return np.where((u < upper - 1.0) & (u > lower - 1.0), np.exp(u), 0.0)

    elif method == "logit":
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise CalibrationError("logit calibration needs finite bounds=(L, U) with L < 1 < U")
        if np.any(np.asarray(lower) >= 1) or np.any(np.asarray(upper) <= 1):
            raise CalibrationError("logit calibration needs bounds L < 1 < U")
        L, U = lower, upper
        A = (U - L) / ((U - 1.0) * (1.0 - L))

        def fm1(u):
            e = np.exp(A * u)
            return (L * (U - 1.0) + U * (1.0 - L) * e) / (U - 1.0 + (1.0 - L) * e) - 1.0

        def dF(u):
            e = np.exp(A * u)
            den = U - 1.0 + (1.0 - L) * e
            return (
                U * (1.0 - L) * e * A / den
                - (L * (U - 1.0) + U * (1.0 - L) * e) * ((1.0 - L) * e * A) / den**2
            )

    else:
        raise CalibrationError(f"method must be 'linear', 'raking' or 'logit'; got {method!r}")
    return fm1, dF


def _unbounded(lower, upper) -> bool:
    """True when no weight ratio is bounded (lower all -inf, upper all +inf)."""
    return bool(np.all(np.isneginf(lower)) and np.all(np.isposinf(upper)))
