"""weight_diagnostics with negative and zero weights: counted per kind, Kish over the non-zero
weights as given (negative ones included), max/min undefined when a weight is negative."""

import numpy as np
import pandas as pd
import pytest
from test_calibration_api import POP_TYPES

from analysis.calibration import calibrate_weights, calibration_matrix
from analysis.design import SurveyDesign
from analysis.diagnostics import kish_deff, kish_n_eff, weight_diagnostics


def test_negative_weights_are_counted_and_kept_in_kish_sums():
    w = np.array([-2.0, 1.0, 3.0, 0.0, 6.0])
    s = weight_diagnostics(w, domain=np.ones(5, dtype=bool)).summary
    assert (s["n"], s["n_positive"], s["n_negative"], s["n_zero"]) == (4, 3, 1, 1)
    nz = np.array([-2.0, 1.0, 3.0, 6.0])  # sum 8, sum of squares 50
    assert s["n_eff"] == pytest.approx(64 / 50, rel=1e-15) == kish_n_eff(w)
    assert s["deff_w"] == pytest.approx(4 * 50 / 64, rel=1e-15) == kish_deff(w)
    assert s["deff_w"] == pytest.approx(1 + np.var(nz) / np.mean(nz) ** 2, rel=1e-14)
    assert (s["min"], s["max"], s["sum"]) == (-2.0, 6.0, 8.0)
    assert np.isnan(s["ratio"])  # max/min of weights of both signs means nothing
    assert "1 negative" in repr(weight_diagnostics(w, domain=np.ones(5, dtype=bool)))


def test_zero_weights_count_only_inside_the_domain():
    w = np.array([0.0, 1.0, 3.0, 0.0, 2.0])
    inside = np.array([True, True, True, False, True])  # row 3 is outside a subset
    s = weight_diagnostics(w, domain=inside).summary
    assert (s["n"], s["n_zero"], s["n_negative"]) == (3, 1, 0)
    assert weight_diagnostics(w).summary["n_zero"] == 0  # no domain: zeros read as outside
    assert s["ratio"] == 3.0


def test_design_reports_zero_weights_of_its_rows_not_of_a_subset(apiclus1):
    df = apiclus1.assign(w0=apiclus1["pw"].where(np.arange(len(apiclus1)) % 10 != 0, 0.0))
    d = SurveyDesign(df, weights="w0", psu="dnum", fpc="fpc")
    n_zero = int((df["w0"] == 0).sum())
    s = d.weight_diagnostics().summary
    assert s["n_zero"] == n_zero and s["n"] == len(df) - n_zero
    sub = d.subset(df["stype"].eq("E").to_numpy())
    e = df["stype"].eq("E").to_numpy()
    s_sub = sub.weight_diagnostics().summary
    assert s_sub["n_zero"] == int(((df["w0"] == 0) & e).sum())
    assert s_sub["n"] == int(((df["w0"] != 0) & e).sum())


def test_greg_calibration_with_negative_weights_is_reported(apiclus1):
    # a far-off api99 total drives the linear (GREG) calibration to negative weights
    totals = {"stype": POP_TYPES, "api99": 0.35 * 3914069.0}
    X, t, names = calibration_matrix(apiclus1, totals)
    w, _ = calibrate_weights(apiclus1["pw"].to_numpy(), X, t, names=names)
    assert (w < 0).any()
    s = weight_diagnostics(w, domain=np.ones(len(w), dtype=bool)).summary
    assert s["n_negative"] == int((w < 0).sum()) and s["n_positive"] == int((w > 0).sum())
    assert s["n_eff"] == pytest.approx(w.sum() ** 2 / (w @ w), rel=1e-14)
    assert np.isnan(s["ratio"]) and s["min"] < 0
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc").calibrate(totals)
    pd.testing.assert_series_equal(d.weight_diagnostics().summary, s, rtol=1e-12)
