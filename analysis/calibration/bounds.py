"""Bounds on the g-weights (R's ``bounds``, ``bounds.const``): two numbers or one value per
row."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis.calibration.errors import CalibrationError


def _bound_pair(bounds, n: int):
    """(lower, upper) of the g-weights: two numbers, or one value per row (arrays of length n,
    R's bounds = list(lower = ..., upper = ...)); a dict with "lower"/"upper" is accepted."""
    if isinstance(bounds, Mapping):
        unknown = set(bounds) - {"lower", "upper"}
        if unknown:
            raise CalibrationError(f"bounds takes the keys 'lower' and 'upper', got {sorted(unknown)}")
        bounds = (bounds.get("lower", -np.inf), bounds.get("upper", np.inf))
    if len(bounds) != 2:
        raise CalibrationError(f"bounds must be (lower, upper), got {len(bounds)} values")
    out = []
    for name, b in zip(("lower", "upper"), bounds):
        arr = np.asarray(b, dtype=np.float64)
        if arr.ndim == 0:
            out.append(float(arr))
            continue
        if arr.shape != (n,):
            raise CalibrationError(f"{name} bounds must be one number or one value per row "
                                   f"({n}), got shape {arr.shape}")
        if np.isnan(arr).any():
            row = int(np.flatnonzero(np.isnan(arr))[0])
            raise CalibrationError(f"{name} bound of row {row} is missing (NaN)")
        out.append(arr)
    lo, up = out
    if np.any(np.asarray(lo) > np.asarray(up)):
        bad = int(np.flatnonzero(np.broadcast_to(np.asarray(lo) > np.asarray(up), (n,)))[0])
        raise CalibrationError(f"lower bound above the upper bound (first at row {bad})")
    return lo, up
