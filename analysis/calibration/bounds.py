"""Bounds on the g-weights (R's ``bounds``, ``bounds.const``): two numbers or one value per
row, given as numbers, arrays or column names of the data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.calibration.errors import CalibrationError
from analysis.calibration.totals import numeric_column


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


def calibration_bounds(data: pd.DataFrame, weights: np.ndarray, bounds, bounds_const: bool):
    """(lower, upper) g-weight bounds: numbers or per-row arrays (column names are read from the
    data); with ``bounds_const`` the bounds are on the new weights and become bound / weight
    (rows of weight 0 keep the bound, as R)."""
    if isinstance(bounds, Mapping):
        bounds = (bounds.get("lower", -np.inf), bounds.get("upper", np.inf))
    if isinstance(bounds, str) or len(bounds) != 2:
        raise CalibrationError(f"bounds must be (lower, upper), got {bounds!r}")
    out = []
    for name, b in zip(("lower", "upper"), bounds):
        if isinstance(b, str):
            if b not in data.columns:
                raise CalibrationError(f"{name} bound column {b!r} not found in the data")
            b = numeric_column(data, b)
        elif isinstance(b, pd.Series):
            b = b.to_numpy(dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if bounds_const:
            with np.errstate(divide="ignore", invalid="ignore"):
                b = np.where(weights > 0, b / np.where(weights > 0, weights, 1.0), b)
        out.append(float(b) if b.ndim == 0 else b)
    return tuple(out)
