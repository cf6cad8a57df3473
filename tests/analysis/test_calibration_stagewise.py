"""Calibration within PSUs (R: calibrate(design, ~api99 - 1, population = list per PSU,
stage = 1); Sarndal's case C): each sampled district's schools are calibrated to the district's
api99 total from apipop; the residuals reduce only the second-stage variance. Against R survey
4.5 (tests/analysis/reference/extra_stagewise.R -> extra_stagewise.json)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import CalibrationError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_stagewise.json").read_text())


@pytest.fixture(scope="module")
def calibrated(apiclus2):
    d = SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    totals = {int(k): p for k, p in zip(X["clusters"], X["population"])}
    return d, d.calibrate(totals, "~api99 - 1", stage=1)


def test_within_psu_calibration_matches_r(calibrated):
    _, dc = calibrated
    assert_close(dc.weights, X["weights"])
    for name, res in [("mean_api00", dc.mean("api00")), ("total_api00", dc.total("api00")),
                      ("total_enroll", dc.total("enroll", na_rm=True)),
                      ("by_stype_mean_api00", dc.by("stype").mean("api00"))]:
        assert_close(res["estimate"], np.atleast_1d(X[name]["estimate"]), what=name)
        assert_close(res["se"], np.atleast_1d(X[name]["se"]), what=name)


def test_each_psu_meets_its_own_total(calibrated, apiclus2):
    _, dc = calibrated
    d_w = dc.weights
    stage1_w = apiclus2["fpc1"].to_numpy() / 40           # N / n districts
    for k, pop in zip(X["clusters"], X["population"]):
        rows = (apiclus2["dnum"] == k).to_numpy()
        got = np.sum(d_w[rows] / stage1_w[rows] * apiclus2.loc[rows, "api99"])
        assert_close(got, pop["api99"], rtol=1e-10)
    diag = dc.weight_diagnostics()
    assert diag is not None


def test_within_psu_calibration_errors(calibrated, dclus1):
    d, _ = calibrated
    with pytest.raises(CalibrationError, match="no totals for PSU dnum="):
        d.calibrate({15: {"api99": 1.0}}, "~api99 - 1", stage=1)
    with pytest.raises(CalibrationError, match="two or more stages"):
        dclus1.calibrate({}, "~api99 - 1", stage=1)
    totals = {int(k): p for k, p in zip(X["clusters"], X["population"])}
    dc = d.calibrate(totals, "~api99 - 1", stage=1)
    with pytest.warns(UserWarning, match="after the first stage are dropped"), \
            pytest.raises(CalibrationError, match="not supported"):
        dc.replicate("jk1")
