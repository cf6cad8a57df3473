"""Which rows a ``subset`` means: one rule for ``design.subset``, ``svyglm(subset=)``,
``svyolr(subset=)`` and ``twophase(subset=)``.

A subset is a boolean array or Series with one value per row of the design's data (a Series
must carry the data's index), the name of a boolean column of the data, or a function of the
data frame returning such an array. Numbers are not a mask: write ``data["x"] == 1``.
A text is always a column name, never an expression: write ``d.data["stype"] != "H"`` (or
``lambda df: df["stype"] != "H"``) where R would write ``subset = stype != "H"``.

>>> import pandas as pd
>>> df = pd.DataFrame({"stype": ["E", "H", "M"], "big": [True, False, True]})
>>> row_mask(df, "big").tolist(), row_mask(df, df["stype"] != "H").tolist()
([True, False, True], [True, False, True])
>>> row_mask(df, "stype != 'H'")
Traceback (most recent call last):
...
analysis.errors.DesignError: subset column "stype != 'H'" not found in the data; give a boolean column name, or a boolean Series such as data["stype"] == "E"
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import DesignError

__all__ = ["row_mask"]


def row_mask(data: pd.DataFrame, subset, what: str = "subset") -> np.ndarray:
    """``subset`` (see the module) as a boolean (n,) array; None is every row. A mistake is a
    :class:`DesignError` naming ``what``, the rows and the fix."""
    n = len(data)
    if subset is None:
        return np.ones(n, dtype=bool)
    if callable(subset):
        subset = subset(data)
    if isinstance(subset, str):
        if subset not in data.columns:
            raise DesignError(
                f"{what} column {subset!r} not found in the data; give a boolean column name, "
                f"or a boolean Series such as data[\"stype\"] == \"E\"")
        subset = data[subset]
    if isinstance(subset, pd.Series):
        if not subset.index.equals(data.index):
            raise DesignError(f"{what}: the mask Series must have the same index as the "
                              "design's data (build it from design.data)")
        missing = subset.isna().to_numpy()
        if missing.any():
            rows = ", ".join(map(str, data.index[missing][:10]))
            raise DesignError(f"{what}: the mask has missing values in rows {rows}; "
                              "fill them (e.g. .fillna(False)) to say which rows belong")
        subset = subset.to_numpy()
    mask = np.asarray(subset)
    if mask.shape != (n,):
        raise DesignError(f"{what}: the mask has shape {mask.shape}; expected ({n},), one value "
                          "per row of the design's data (also rows outside an earlier subset)")
    if mask.dtype != bool:
        raise DesignError(f"{what}: the mask must be boolean, got dtype {mask.dtype}; compare "
                          "numbers to say which rows belong, e.g. data[\"x\"] == 1")
    return mask
