"""Weight diagnostics against hand formulas (Kish 1965): n_eff = (sum w)^2 / sum w^2,
deff_w = 1 + cv^2 = n sum w^2 / (sum w)^2, plus achieved against target totals after weighting."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR
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
    # R's weights (extra_weighting.json: the full-sample weights of rake(dclus1) with R's
    # default control, and refitted tightly): every summary number by hand from them
    ref = json.loads((REFERENCE_DIR / "extra_weighting.json").read_text())["replicate"]
    for diag, key in ((early, "JK1_rake_Rdefault"), (None, "JK1_rake_tight")):
        r = np.asarray(ref[key]["weights"], dtype=float)
        if diag is None:
            diag = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}).weight_diagnostics()
        s = diag.summary
        assert s["n"] == 183 and s["sum"] == pytest.approx(6194, rel=1e-9)
        assert (s["min"], s["max"]) == pytest.approx((r.min(), r.max()), rel=1e-9)
        assert s["deff_w"] == pytest.approx(183 * np.sum(r ** 2) / np.sum(r) ** 2, rel=1e-9)
        assert s["n_eff"] == pytest.approx(np.sum(r) ** 2 / np.sum(r ** 2), rel=1e-9)
        # achieved school-type totals: R's weights summed by type (E, H, M)
        by_hand = np.bincount(pd.factorize(apiclus1["stype"], sort=True)[0], weights=r)
        np.testing.assert_allclose(diag.margins["achieved"].iloc[:3], by_hand, rtol=1e-9)
    assert early.summary["min"] == pytest.approx(29.870463872734536, rel=1e-12)  # reference.json
    tight = diag
    assert tight.margins["rel_difference"].abs().max() < 1e-10
    assert "effective n" in repr(tight) and "largest relative miss" in repr(tight)
    cal = d.calibrate(POP["pop.totals"], "~stype+api99").weight_diagnostics()
    assert list(cal.margins["level"]) == ["(Intercept)", "stypeH", "stypeM", "api99"]
    assert cal.margins["rel_difference"].abs().max() < 1e-12


def test_replicate_design_diagnostics(classes, apiclus1):  # noqa: F811
    rd = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc").replicate("jk1")
    reps = rd.weight_diagnostics().replicates
    assert len(reps) == 15 and (reps["n_zero"] > 0).all()
    # by hand: JK1 drops PSU j and multiplies the other 14 by 15/14; dclus1's pw is constant
    pw = apiclus1["pw"].to_numpy(dtype=float)
    psu_totals = apiclus1.groupby("dnum", sort=True)["pw"].sum().to_numpy()
    np.testing.assert_allclose(np.sort(reps["sum"].to_numpy()),
                               np.sort((pw.sum() - psu_totals) * 15 / 14), rtol=1e-13)
    np.testing.assert_array_equal(np.sort(reps["n_zero"].to_numpy()),
                                  np.sort(apiclus1.groupby("dnum").size().to_numpy()))
