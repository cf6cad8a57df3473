"""Calibration within the units of a later stage (R: calibrate(design, ~api99, population = list
per district, stage = 2); Sarndal's case C one stage down) on a three-stage sample of apipop
(counties, districts, schools): each sampled district's schools are calibrated to the district's
own totals, which reduces the third-stage variance only. Also stage = 1 of the same design, both
one after the other, a heteroscedastic stage-2 calibration, strata at the first stage, a
subset, and stage = 1 after a calibration to population totals. Against R survey 4.5
(reference/extra_stagewise3.R -> extra_stagewise3.json, sample in reference/data/stagewise3.csv);
closed forms, so 1e-8. What R refuses is recorded in the JSON beside our one-line error."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

from analysis import CalibrationError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_stagewise3.json").read_text())
DATA = pd.read_csv(DATA_DIR / "stagewise3.csv")
DISTRICT_RATIO = {int(k): p for k, p in zip(X["districts"], X["pop_ratio"])}
DISTRICT_GREG = {int(k): p for k, p in zip(X["districts"], X["pop_greg"])}
COUNTY_RATIO = {int(k): p for k, p in zip(X["counties"], X["pop_county"])}


@pytest.fixture(scope="module")
def d3():
    return SurveyDesign(DATA, psu=["cnum", "dnum", "snum"], fpc=["fpc1", "fpc2", "fpc3"])


@pytest.fixture(scope="module")
def calibrated(d3):
    ratio1 = d3.calibrate(COUNTY_RATIO, "~api99 - 1", stage=1)
    return {
        "uncalibrated": d3,
        "ratio2": d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2),
        "greg2": d3.calibrate(DISTRICT_GREG, "~api99", stage=2),
        "ratio1": ratio1,
        "both": ratio1.calibrate(DISTRICT_GREG, "~api99", stage=2),
        "hetero2": d3.calibrate(DISTRICT_GREG, "~api99", stage=2, variance="api99"),
        # strata at the first stage (R: strata = ~I(cnum < 30))
        "strat2": SurveyDesign(DATA.assign(low=DATA["cnum"] < 30), strata="low",
                               psu=["cnum", "dnum", "snum"], fpc=["fpc1", "fpc2", "fpc3"])
        .calibrate(DISTRICT_GREG, "~api99", stage=2),
    }


@pytest.mark.parametrize("case", ["uncalibrated", "ratio2", "greg2", "ratio1", "both", "hetero2",
                                  "strat2"])
def test_stagewise_calibration_matches_r(calibrated, case):
    dc, ref = calibrated[case], X[case]
    assert_close(dc.weights, ref["weights"], what=f"{case} weights")
    for name, res in [("mean_api00", dc.mean("api00")), ("total_api00", dc.total("api00")),
                      ("total_meals", dc.total("meals")),
                      ("by_stype_mean_api00", dc.by("stype").mean("api00"))]:
        assert_close(res["estimate"], np.atleast_1d(ref[name]["estimate"]), what=f"{case} {name}")
        assert_close(res["se"], np.atleast_1d(ref[name]["se"]), what=f"{case} {name} se")


def test_stage2_residuals_enter_at_the_third_stage(calibrated, d3):
    """R applies the stage-2 residuals inside each district before the schools' variance: the
    same weights without the residuals, or with them one stage early, miss R's standard error."""
    dc = calibrated["greg2"]
    record = dc.calibrations[-1]
    assert record.within_stage == 2
    r_se = X["greg2"]["total_api00"]["se"]
    for wrong in (dataclasses.replace(record, bases=()),
                  dataclasses.replace(record, within_stage=1)):
        se = float(d3._with_weights(dc.weights, wrong).total("api00")["se"].iloc[0])
        assert abs(se / r_se - 1) > 1e-4
    assert X["greg2"]["total_api00"]["se"] != X["uncalibrated"]["total_api00"]["se"]


def test_every_district_meets_its_own_totals(calibrated):
    margins = calibrated["greg2"].weight_diagnostics().margins
    assert len(margins) == 2 * len(DISTRICT_GREG)
    assert set(margins["step"]) == {"calibrate within clusters (stage 2)"}
    assert_close(margins["achieved"], margins["target"], rtol=1e-10)
    # each district's own totals, from its conditional weights (weight / stage-1 and stage-2
    # weights) rather than from the design weights
    w = calibrated["greg2"].weights
    stage_w = DATA["fpc1"] / 8 * DATA["fpc2"] / 2
    for k, pop in DISTRICT_GREG.items():
        rows = (DATA["dnum"] == k).to_numpy()
        assert_close(np.sum(w[rows] / stage_w[rows]), pop["(Intercept)"], rtol=1e-10)
        assert_close(np.sum(w[rows] / stage_w[rows] * DATA.loc[rows, "api99"]), pop["api99"],
                     rtol=1e-10)


def test_repeated_unit_labels_are_keyed_by_the_path(d3, calibrated):
    """Districts numbered 1, 2 inside every county: keys (county, district) find them, a bare
    district number is refused instead of giving two districts the same totals."""
    renum = DATA.assign(dnum=DATA.groupby("cnum")["dnum"].rank(method="dense").astype(int))
    d = SurveyDesign(renum, psu=["cnum", "dnum", "snum"], fpc=["fpc1", "fpc2", "fpc3"])
    first = DATA.drop_duplicates("dnum")
    path_of = {int(row.dnum): (int(row.cnum), int(r)) for row, r in
               zip(first.itertuples(), renum.loc[first.index, "dnum"])}
    by_path = {path_of[k]: p for k, p in DISTRICT_GREG.items()}
    dc = d.calibrate(by_path, "~api99", stage=2)
    assert_close(dc.weights, X["greg2"]["weights"])
    bare = {r: DISTRICT_GREG[k] for k, (_, r) in path_of.items()}
    with pytest.raises(CalibrationError, match=r"no totals for stage-2 unit dnum=1 keyed by"):
        d.calibrate(bare, "~api99", stage=2)
    del d3, calibrated


def test_what_r_refuses_is_refused(d3, calibrated):
    refuses = X["refuses"]
    # R: "This design does not have stage4"; stage 3 (the schools themselves) R accepts and it
    # cannot change the variance (no later stage): refused here as well
    assert "does not have stage" in refuses["stage4"]
    for stage in (3, 4):
        with pytest.raises(CalibrationError, match=r"or more stages of sampling \(this one has 3\)"):
            d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=stage)
    # R fails with "undefined columns selected": one weight column has no stage-2 probabilities
    assert refuses["weights_only_stage2"] == "undefined columns selected"
    dw = SurveyDesign(DATA.assign(w=DATA["fpc1"] / 8 * DATA["fpc2"] / 2 * DATA["fpc3"] / 3),
                      psu=["cnum", "dnum", "snum"], weights="w")
    with pytest.raises(CalibrationError, match="build the design from fpc="):
        dw.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2)
    # bounds or other distances: R's grake path reads the list of totals as one vector
    assert "not the same length" in refuses["bounded_stage2"]
    assert "not the same length" in refuses["raking_stage2"]
    with pytest.raises(CalibrationError, match="linear and unbounded"):
        d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2, bounds=(0.5, 2))
    with pytest.raises(CalibrationError, match="linear and unbounded"):
        d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2, method="raking")
    assert "not implemented for calibration within clusters" in refuses["aggregate_stage2"]
    with pytest.raises(CalibrationError, match="aggregate_stage cannot be combined"):
        d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2, aggregate_stage=2)
    assert "after* adding replicate weights" in refuses["replicate_stage2"]
    with pytest.warns(UserWarning, match="after the first stage are dropped"), \
            pytest.raises(CalibrationError, match=r"\(stage=2\) are not supported"):
        calibrated["ratio2"].replicate("jk1")
    with pytest.raises(CalibrationError, match="stage=-1"):
        d3.calibrate(DISTRICT_RATIO, "~api99 - 1", stage=-1)
    with pytest.raises(CalibrationError, match=r"totals of stage-2 unit dnum=\d+ lack \['api99'\]"):
        d3.calibrate({k: {"x": 1.0} for k in DISTRICT_RATIO}, "~api99 - 1", stage=2)


def test_pps_designs_refuse_stage_and_aggregate_stage_as_r():
    """R's calibrate.pps stops for stage > 0 and for aggregate.stage (survey 4.5 grake.R)."""
    pps = SurveyDesign(DATA.assign(p=8 / DATA["fpc1"] * 2 / DATA["fpc2"] * 3 / DATA["fpc3"]),
                       psu="snum", fpc="p", pps="brewer")
    with pytest.raises(CalibrationError, match="not supported for a pps='brewer' design"):
        pps.calibrate({"(Intercept)": 1.0}, "~1", stage=1)
    with pytest.raises(CalibrationError, match="not supported for a pps='brewer' design"):
        pps.calibrate({"(Intercept)": 1.0}, "~1", aggregate_stage="dnum")


def test_replicate_designs_have_no_stages(dclus1):
    with pytest.raises(CalibrationError, match="a replicate design has no stages"):
        dclus1.replicate("jk1").calibrate({1: {"api99": 1.0}}, "~api99 - 1", stage=1)


def test_stage1_after_a_population_calibration_uses_the_weights_as_given(apiclus2):
    """R's stage weights are 1 / allprob, the weights the design was given; after a calibration
    to population totals the conditional weights are calibrated weight / given weight (using
    the calibrated weights instead, as before, gave a total of 24.7 million against R's 20.3)."""
    ref = X["after_pop"]
    d = SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"], weights="pw")
    totals = {int(k): p for k, p in zip(ref["districts"], ref["population"])}
    dc = d.calibrate({"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0}, "~stype") \
        .calibrate(totals, "~api99 - 1", stage=1)
    assert_close(dc.weights, ref["weights"])
    for name, res in [("mean_api00", dc.mean("api00")), ("total_api00", dc.total("api00"))]:
        assert_close(res["estimate"], np.atleast_1d(ref[name]["estimate"]), what=name)
        assert_close(res["se"], np.atleast_1d(ref[name]["se"]), what=name)


def test_stage2_calibration_of_a_subset(d3):
    """R's subset keeps every row (weight 0 outside): those rows get no conditional weight."""
    dc = d3.subset(DATA["stype"] != "H").calibrate(DISTRICT_RATIO, "~api99 - 1", stage=2)
    for name, res in [("mean_api00", dc.mean("api00")), ("total_api00", dc.total("api00"))]:
        assert_close(res["estimate"], np.atleast_1d(X["subset2"][name]["estimate"]), what=name)
        assert_close(res["se"], np.atleast_1d(X["subset2"][name]["se"]), what=name)
