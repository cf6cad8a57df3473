"""Weight diagnostics against hand formulas (Kish 1965): n_eff = (sum w)^2 / sum w^2,
deff_w = 1 + cv^2 = n sum w^2 / (sum w)^2, plus achieved against target totals after weighting."""

import numpy as np
import pandas as pd
import pytest
from test_calibration_api import POP, POP_SCHWIDE, POP_TYPES, classes  # noqa: F401

from analysis.diagnostics import kish_deff, kish_n_eff, weight_diagnostics


def test_kish_formulas_by_hand():
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    # sum 20, sum of squares 130: n_eff = 400/130, deff = 5*130/400
    assert kish_n_eff(w) == pytest.approx(400 / 130, rel=1e-15)
    assert kish_deff(w) == pytest.approx(650 / 400, rel=1e-15)
    s = weight_diagnostics(w).summary
    cv2 = np.var(w) / np.mean(w) ** 2  # population variance
    assert s["deff_w"] == pytest.approx(1 + cv2, rel=1e-14)
    assert s["n_eff"] * s["deff_w"] == pytest.approx(5, rel=1e-14)
    assert (s["n"], s["sum"], s["min"], s["max"], s["ratio"]) == (5, 20, 1, 10, 10)
    assert s["q50"] == 3.0 and s["cv"] == pytest.approx(np.sqrt(cv2))


def test_equal_weights_have_no_design_effect():
    s = weight_diagnostics(np.full(40, 7.5)).summary
    assert s["deff_w"] == pytest.approx(1.0) and s["n_eff"] == pytest.approx(40.0)
    assert s["ratio"] == 1.0 and s["cv"] == 0.0


def test_zero_weights_are_not_counted():
    a = weight_diagnostics(np.array([0.0, 1.0, 3.0, 0.0])).summary
    b = weight_diagnostics(np.array([1.0, 3.0])).summary
    pd.testing.assert_series_equal(a, b)
    with pytest.raises(ValueError, match="all weights are zero"):
        weight_diagnostics(np.zeros(3))


def test_design_diagnostics_report_achieved_margins(classes, apiclus1):  # noqa: F811
    d = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")
    base = d.weight_diagnostics()
    assert base.margins.empty and base.summary["deff_w"] == pytest.approx(1.0)  # dclus1: equal pw
    early = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, control="R").weight_diagnostics()
    m = early.margins
    assert list(m["variable"]) == ["stype"] * 3 + ["sch.wide"] * 2
    np.testing.assert_array_equal(m["target"], [4421, 755, 1018, 1072, 5122])
    # R's early stop leaves the first margin off target; the last one raked is met exactly
    assert m["rel_difference"].iloc[:3].abs().max() > 1e-6
    np.testing.assert_allclose(m["achieved"].iloc[3:], [1072, 5122], rtol=1e-13)
    w = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}).weights
    by_hand = np.bincount(pd.factorize(apiclus1["stype"], sort=True)[0], weights=w)
    tight = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}).weight_diagnostics()
    np.testing.assert_allclose(tight.margins["achieved"].iloc[:3], by_hand, rtol=1e-14)
    assert tight.margins["rel_difference"].abs().max() < 1e-10
    assert tight.summary["deff_w"] == pytest.approx(kish_deff(w), rel=1e-14)
    assert "effective n" in repr(tight) and "largest relative miss" in repr(tight)
    cal = d.calibrate(POP["pop.totals"], "~stype+api99").weight_diagnostics()
    assert list(cal.margins["level"]) == ["(Intercept)", "stypeH", "stypeM", "api99"]
    assert cal.margins["rel_difference"].abs().max() < 1e-12


def test_replicate_design_diagnostics(classes, apiclus1):  # noqa: F811
    rd = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc").replicate("jk1")
    reps = rd.weight_diagnostics().replicates
    assert len(reps) == 15 and (reps["n_zero"] > 0).all()
    np.testing.assert_allclose(reps["sum"], rd.repweights.sum(axis=0), rtol=1e-15)
