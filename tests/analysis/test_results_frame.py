"""Estimates are frames whose covariance follows their rows (issue: result objects that behave).

Slicing keeps the matching block of the covariance; pd.concat stacks the blocks with NaN between
estimates computed separately; to_frame() is the tidy table. A property test draws random
estimates, slices and concatenates them, and checks every covariance entry against the one it
came from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis
from analysis.results import make_estimate


def _estimate(prefix: str, k: int, seed: int):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k, k))
    V = a @ a.T + np.eye(k)
    idx = pd.Index([f"{prefix}{i}" for i in range(k)], name="variable")
    return make_estimate(idx, rng.normal(size=k), V, 10, 10, "mean"), V


@settings(max_examples=60, deadline=None)
@given(k1=st.integers(1, 5), k2=st.integers(1, 5), seed=st.integers(0, 10_000),
       data=st.data())
def test_slices_and_concatenations_keep_their_covariance_blocks(k1, k2, seed, data):
    e1, V1 = _estimate("a", k1, seed)
    e2, V2 = _estimate("b", k2, seed + 1)
    rows1 = data.draw(st.lists(st.integers(0, k1 - 1), min_size=1, max_size=k1, unique=True))
    rows2 = data.draw(st.lists(st.integers(0, k2 - 1), min_size=1, max_size=k2, unique=True))
    s1, s2 = e1.iloc[rows1], e2.iloc[rows2]
    np.testing.assert_array_equal(s1.vcov.to_numpy(), V1[np.ix_(rows1, rows1)])
    both = pd.concat([s1, s2])
    V = both.vcov.to_numpy()
    n1 = len(rows1)
    np.testing.assert_array_equal(V[:n1, :n1], V1[np.ix_(rows1, rows1)])
    np.testing.assert_array_equal(V[n1:, n1:], V2[np.ix_(rows2, rows2)])
    assert np.isnan(V[:n1, n1:]).all() and np.isnan(V[n1:, :n1]).all()
    assert list(both.vcov.index) == list(both.index)
    # label selection in another order reorders the block
    labels = list(reversed(both.index))
    np.testing.assert_array_equal(both.loc[labels].vcov.to_numpy(), V[::-1, ::-1])


def test_concat_of_two_design_estimates_works_and_keeps_each_variance():
    df = pd.DataFrame({"x": [1.0, 2, 3, 5], "y": [2.0, 1, 4, 4], "w": [1.0, 2, 2, 1]})
    d = analysis.SurveyDesign(df, weights="w")
    one, two = d.mean("x"), d.mean("y")
    both = pd.concat([one, two])          # raised "Can only compare identically-labeled" before
    assert both.vcov.iloc[0, 0] == one.vcov.iloc[0, 0]
    assert both.vcov.iloc[1, 1] == two.vcov.iloc[0, 0]
    joint = d.mean(["x", "y"])
    assert joint.iloc[:1].vcov.shape == (1, 1)
    assert joint.iloc[:1].vcov.iloc[0, 0] == joint.vcov.iloc[0, 0]
    assert joint.iloc[1:].vcov.iloc[0, 0] == joint.vcov.iloc[1, 1]


def test_to_frame_is_a_plain_tidy_table_with_df():
    e, _ = _estimate("a", 2, 1)
    f = e.to_frame()
    assert type(f) is pd.DataFrame
    assert list(f.columns) == ["estimate", "se", "ci_low", "ci_high", "df"]
    assert (f["df"] == 10).all()


def test_operations_that_change_the_rows_drop_the_covariance():
    e, _ = _estimate("a", 3, 2)
    assert e.reset_index().vcov is None
