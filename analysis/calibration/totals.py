"""Population totals -> the calibration model matrix and its targets (R's ``model.matrix``
and the totals named after its columns)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.calibration.cells import cell_codes
from analysis.calibration.errors import CalibrationError


def calibration_matrix(data: pd.DataFrame, totals: Mapping):
    """Model matrix and population totals from ``totals``: column -> total or Series of level totals.

    A number calibrates the column's total (a numeric column). A Series calibrates a categorical
    column: one indicator per level. The key ``"(Intercept)"`` adds a column of ones (population
    size). As in R's ``model.matrix``, with an intercept (or from the second categorical on) the
    first level's indicator is dropped; its total must then agree with the population size implied
    by the other totals (checked to 1e-9 relative), so the column space is the same as R's.

    Returns ``(X (n, p), targets (p,), names)``; names follow R (``"stypeH"``, ``"api99"``).

    >>> df = pd.DataFrame({"g": ["a", "b", "b"], "x": [1.0, 2.0, 3.0]})
    >>> X, t, names = calibration_matrix(df, {"g": pd.Series({"a": 5.0, "b": 7.0}), "x": 20.0})
    >>> names, t.tolist()
    (('ga', 'gb', 'x'), [5.0, 7.0, 20.0])
    """
    if not totals:
        raise CalibrationError("calibrate needs at least one population total")
    n = len(data)
    cols: list[np.ndarray] = []
    targets: list[float] = []
    names: list[str] = []
    size: float | None = None
    size_from: str | None = None
    if "(Intercept)" in totals:
        size = float(totals["(Intercept)"])
        size_from = "(Intercept)"
        cols.append(np.ones(n))
        targets.append(size)
        names.append("(Intercept)")
    for key, total in totals.items():
        if key == "(Intercept)":
            continue
        if key not in data.columns:
            raise CalibrationError(f"calibration total for {key!r} but data has no such column")
        if isinstance(total, (pd.Series, Mapping)):
            cells = cell_codes(data, key, total)
            dummies = np.zeros((n, cells.n_cells))
            dummies[np.arange(n), cells.codes] = 1.0
            level_sum = float(cells.targets.sum())
            first = 0
            if size is None:
                size, size_from = level_sum, key
            else:
                if abs(level_sum - size) > 1e-9 * max(abs(size), 1.0):
                    raise CalibrationError(
                        f"the level totals of {key!r} sum to {level_sum:.10g} but {size_from!r} "
                        f"implies a population size of {size:.10g}"
                    )
                first = 1
            for g in range(first, cells.n_cells):
                cols.append(dummies[:, g])
                targets.append(float(cells.targets[g]))
                names.append(f"{key}{cells.labels[g]}")
        else:
            x = pd.to_numeric(data[key], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(x)
            if bad.any():
                rows = data.index[bad][:10].tolist()
                raise CalibrationError(
                    f"calibration column {key!r} has missing or non-numeric values at row(s) {rows}"
                )
            cols.append(x)
            targets.append(float(total))
            names.append(str(key))
    return np.column_stack(cols), np.asarray(targets), tuple(names)
