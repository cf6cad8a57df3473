"""Which columns are categories, and in which order their levels come (R's ``factor()``).

One rule for the whole package: a Categorical, string, object or logical column is a factor;
its levels are the Categorical's categories, else the sorted distinct values (mixed types sorted
by their text). Estimators read a logical column as 0/1 numbers (``mean`` of a logical is the
share of TRUE), as they always have; models, calibration formulas and Table 1 read it as a
factor with levels False/True, as R's ``model.matrix`` does.

>>> import pandas as pd
>>> is_categorical(pd.Series(["E", "H"])), is_categorical(pd.Series([True, False]))
(True, True)
>>> is_categorical(pd.Series([True, False]), logical=False)
False
>>> factor_levels(pd.Series(["M", "E", None, "H"]))
['E', 'H', 'M']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["factor_levels", "is_categorical"]


def is_categorical(col: pd.Series, *, logical: bool = True) -> bool:
    """True for a Categorical, string or object column; a logical column counts when ``logical``
    (R's rule for model matrices), not otherwise (estimators: 0/1 numbers)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return logical
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
            or dtype == object)


def factor_levels(col: pd.Series) -> list:
    """Level order as R's factor(): the categories of a Categorical, else the sorted distinct
    non-missing values (by their text when the values do not compare, e.g. numbers and strings)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    values = col.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)
