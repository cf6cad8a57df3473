"""Trimming (R's trimWeights): bounds, conservation of the total, strict repetition; R's numbers
are in test_calibration.py / test_calibration_api.py."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.calibration import CalibrationError, trim_weights

weights = st.lists(st.floats(0.5, 100.0), min_size=5, max_size=60).map(np.array)


@settings(max_examples=60, deadline=None)
@given(weights, st.floats(0.6, 0.95), st.floats(1.05, 2.0))
def test_strict_trim_keeps_the_total_and_the_bounds(w, lo, hi):
    lower, upper = lo * w.mean(), hi * w.mean()
    try:
        t, rec = trim_weights(w, lower=lower, upper=upper, strict=True)
    except CalibrationError as exc:
        # R's rule can run out of weights inside the bounds to take the excess: that must be
        # a clear error, never silently lost weight
        assert "no weight inside" in str(exc) or "did not settle" in str(exc)
        return
    np.testing.assert_allclose(t.sum(), w.sum(), rtol=1e-12)
    assert t.min() >= lower * (1 - 1e-12) and t.max() <= upper * (1 + 1e-12)
    assert rec.kind == "trim" and np.array_equal(rec.old_weights, w)


def test_one_round_shares_the_excess_equally():
    w = np.array([1.0, 2.0, 3.0, 10.0, 12.0])
    t, rec = trim_weights(w, upper=8.0)
    # 2 + 4 = 6 trimmed, shared equally by the 3 others
    np.testing.assert_allclose(t, [3.0, 4.0, 5.0, 8.0, 8.0])
    assert rec.n_trimmed == 2
    t2, _ = trim_weights(w, lower=2.5)
    # 1 and 2 are lifted to 2.5 (2 in all), taken equally from the 3 others
    np.testing.assert_allclose(t2, [2.5, 2.5, 3.0 - 2 / 3, 10.0 - 2 / 3, 12.0 - 2 / 3])


def test_non_strict_can_leave_weights_outside_strict_cannot():
    w = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.5, 20.0])
    loose, _ = trim_weights(w, upper=6.0)
    # 14 shared by 6 weights pushes 5 and 5.5 above 6: one round (R's default) leaves them there
    np.testing.assert_allclose(loose, np.append(w[:6] + 14 / 6, 6.0))
    strict, _ = trim_weights(w, upper=6.0, strict=True)
    assert strict.max() <= 6.0 + 1e-12
    np.testing.assert_allclose(strict.sum(), w.sum(), rtol=1e-13)


def test_zero_weights_stay_zero_and_matrices_trim_by_column():
    W = np.array([[0.0, 5.0], [4.0, 30.0], [4.0, 5.0], [40.0, 5.0]])
    T, rec = trim_weights(W, upper=20.0)
    assert rec is None and T[0, 0] == 0.0
    np.testing.assert_allclose(T.sum(axis=0), W.sum(axis=0))
    np.testing.assert_allclose(T[:, 0], [0.0, 14.0, 14.0, 20.0])


def test_impossible_bounds_are_errors():
    with pytest.raises(CalibrationError, match="lower < upper"):
        trim_weights(np.ones(3), lower=2.0, upper=1.0)
    # 5 weights within [1.5, 6] cannot add up to 21.5 by R's rule: an error, not lost weight
    with pytest.raises(CalibrationError, match="no weight inside"):
        trim_weights(np.array([1.0, 1.0, 1.0, 9.0, 9.5]), lower=1.5, upper=6.0)
