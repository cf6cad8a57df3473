"""Calibration with one bound per row (R: bounds = list(lower = ..., upper = ...)) and with
bounds on the weights themselves (R: bounds.const = TRUE), against R survey 4.5
(tests/analysis/reference/extra_calibration.R -> extra_calibration.json; R run with epsilon 1e-10)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import CalibrationError

X = json.loads((REFERENCE_DIR / "extra_calibration.json").read_text())
POP = {"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "api99": 3914069.0}


def _check(d, ref):
    assert_close(d.weights, ref["weights"], what="weights")
    for res, key in [(d.mean("api00"), "mean_api00"), (d.total("enroll"), "total_enroll")]:
        assert_close(res["estimate"], [ref[key]["estimate"]], what=key)
        assert_close(res["se"], [ref[key]["se"]], what=key)


@pytest.mark.parametrize("method", ["linear", "raking", "logit"])
def test_per_unit_bounds_match_r(dclus1, method):
    P = X["per_unit"]
    lo, up = np.array(P["lower"]), np.array(P["upper"])
    d = dclus1.calibrate(POP, "~stype + api99", method=method, bounds=(lo, up))
    _check(d, P[method])
    g = d.weights / dclus1.weights
    assert np.all(g >= lo - 1e-12) and np.all(g <= up + 1e-12)
    if method != "logit":                     # the logit distance never reaches its bounds
        assert np.any(np.isclose(g, lo)) or np.any(np.isclose(g, up))


def test_per_unit_bounds_from_columns_and_dict(dclus1, apiclus1):
    P = X["per_unit"]
    data = apiclus1.assign(lo=P["lower"], up=P["upper"])
    from analysis import SurveyDesign

    d = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    by_name = d.calibrate(POP, "~stype + api99", bounds=("lo", "up"))
    by_dict = d.calibrate(POP, "~stype + api99", bounds={"lower": P["lower"], "upper": P["upper"]})
    assert_close(by_name.weights, P["linear"]["weights"])
    assert_close(by_dict.weights, P["linear"]["weights"])


@pytest.mark.parametrize("method", ["linear", "raking"])
def test_bounds_const_match_r(dstrat, method):
    d = dstrat.calibrate(POP, "~stype + api99", method=method, bounds=(15, 45), bounds_const=True)
    _check(d, X["bounds_const"][method])
    assert d.weights.min() >= 15 - 1e-9 and d.weights.max() <= 45 + 1e-9


def test_per_unit_bounds_are_replayed_on_replicates(dclus1, apiclus1):
    # looser bounds than R's case, so that every JK1 replicate can meet them
    e, h = (apiclus1["stype"] == "E").to_numpy(), (apiclus1["stype"] == "H").to_numpy()
    lo, up = np.where(e, 0.4, 0.1), np.where(h, 2.2, 4.0)
    rd = dclus1.replicate("jk1")
    r = rd.calibrate(POP, "~stype + api99", bounds=(lo, up))
    assert_close(r.weights, dclus1.calibrate(POP, "~stype + api99", bounds=(lo, up)).weights)
    W0, W = np.asarray(rd.repweights), np.asarray(r.repweights)
    inside = W0 > 0
    G = W[inside] / W0[inside]
    lo_b, up_b = np.broadcast_to(lo[:, None], W0.shape)[inside], np.broadcast_to(up[:, None], W0.shape)[inside]
    assert np.all(G >= lo_b - 1e-9) and np.all(G <= up_b + 1e-9)
    assert np.any(np.isclose(G, lo_b)) or np.any(np.isclose(G, up_b))


def test_bad_bounds_are_one_line_errors(dclus1):
    with pytest.raises(CalibrationError, match=r"one value per row \(183\), got shape \(3,\)"):
        dclus1.calibrate(POP, "~stype + api99", bounds=(np.ones(3), 2.0))
    with pytest.raises(CalibrationError, match="lower bound above the upper bound"):
        dclus1.calibrate(POP, "~stype + api99", bounds=(np.full(183, 2.0), 1.0))
    with pytest.raises(CalibrationError, match="column 'nope' not found"):
        dclus1.calibrate(POP, "~stype + api99", bounds=("nope", 2.0))
