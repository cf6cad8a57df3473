"""Two-phase designs (R: twophase(method = "full"), element sampling at both phases) against
R survey 4.5 (tests/analysis/reference/extra_twophase.R -> extra_twophase.json): a simple random first
phase with fpc and a stratified second phase (apisrs), and a case-cohort design (survival's
nwtco, exported to data/nwtco.csv). svyglm on the case-cohort design is R's iterative fit: 1e-6."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

import analysis
from analysis import CalibrationError, DesignError, twophase

X = json.loads((REFERENCE_DIR / "extra_twophase.json").read_text())


@pytest.fixture(scope="module")
def api2(apisrs):
    srs = apisrs.assign(in2=apisrs["snum"] % 2 == 0)
    return srs, twophase(srs, subset="in2", strata2="stype", fpc1="fpc")


@pytest.fixture(scope="module")
def nwtco2():
    nw = pd.read_csv(DATA_DIR / "nwtco.csv")
    nw = nw.assign(in2=(nw["in.subcohort"] == 1) | (nw["rel"] == 1),
                   h2=(nw["histol"] == 2).astype(float), stage=nw["stage"].astype("category"))
    return nw, twophase(nw, subset="in2", strata2="rel")


def test_srs_then_stratified_subsample(api2):
    _, d = api2
    A = X["api"]
    assert_close(d.weights, A["weights"])
    assert d.degf == A["degf"]
    for name, res in [("mean_api00", d.mean("api00")), ("total_enroll", d.total("enroll")),
                      ("ratio", d.ratio("api00", "api99")),
                      ("by_stype_mean_api00", d.by("stype").mean("api00"))]:
        assert_close(res["estimate"], np.atleast_1d(A[name]["estimate"]), what=name)
        assert_close(res["se"], np.atleast_1d(A[name]["se"]), what=name)
    # the phase-2 part alone is the stratified-sample variance within the first phase
    phases = A["phases_total_enroll"]
    assert phases["phase1"] > 0 and phases["phase2"] > 0
    assert_close(d.total("enroll")["se"].iloc[0] ** 2, phases["phase1"] + phases["phase2"])


def test_case_cohort(nwtco2):
    _, d = nwtco2
    B = X["nwtco"]
    assert_close(d.weights, B["weights"])
    age = d.mean("age")
    assert_close([age["estimate"].iloc[0], age["se"].iloc[0]],
                 [B["mean_age"]["estimate"], B["mean_age"]["se"]])
    h = d.total("h2")
    assert_close([h["estimate"].iloc[0], h["se"].iloc[0]],
                 [B["total_histol"]["estimate"][1], B["total_histol"]["se"][1]])
    fit = analysis.svyglm("rel ~ C(stage) + age", d, family="quasibinomial")
    assert_close(fit.params, B["glm"]["coef"], rtol=1e-6)
    assert_close(fit.bse, B["glm"]["se"], rtol=1e-6)


def test_twophase_errors(api2, apisrs):
    srs, d = api2
    with pytest.raises(DesignError, match="subset column 'nope' not found"):
        twophase(srs, subset="nope", strata2="stype")
    with pytest.raises(DesignError, match="no phase-2 units"):
        twophase(srs, subset=srs["stype"] != "H", strata2="stype")
    with pytest.raises(CalibrationError, match="two-phase design is not supported"):
        d.poststratify("stype", pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0}))
    with pytest.raises(ValueError, match="not supported"):
        d.replicate("jkn")
