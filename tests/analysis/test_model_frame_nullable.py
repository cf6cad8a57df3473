"""Validated survey frames use pandas' nullable dtypes; model formulas must accept them."""
import numpy as np
import pandas as pd
import patsy

from analysis.models.formula import model_frame


def test_nullable_numeric_and_boolean_columns_are_missing_not_errors():
    df = pd.DataFrame({
        "y": pd.array([1.0, 0.0, None, 1.0, 0.0], dtype="Float64"),
        "x": pd.array([1, 2, 3, None, 5], dtype="Int64"),
        "b": pd.array([True, False, True, True, None], dtype="boolean"),
    })
    mf = model_frame("y ~ x + b", df, patsy.EvalEnvironment.capture())
    assert mf.complete.tolist() == [True, True, False, False, False]
    np.testing.assert_array_equal(mf.X[:, 1], [1.0, 2.0])
    np.testing.assert_array_equal(mf.y, [1.0, 0.0])
