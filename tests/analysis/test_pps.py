"""PPS designs without replacement, as R survey 4.5's svydesign(pps=): Brewer's approximation,
Overton's and Hartley-Rao's approximate joint probabilities, Poisson sampling (tests/analysis/reference/
extra_pps.R -> extra_pps.json, on R's election_pps exported to data/election_pps.csv).
port: R survey tests/pps.R (Brewer, subsets, two-stage Brewer with sampling fractions)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

from analysis import DesignError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_pps.json").read_text())
VOTES = ["Bush", "Kerry", "Nader"]


@pytest.fixture(scope="module")
def ep():
    return pd.read_csv(DATA_DIR / "election_pps.csv")


def _design(ep, key):
    return {
        "brewer": lambda: SurveyDesign(ep, weights="wt", fpc="p", pps="brewer"),
        "overton": lambda: SurveyDesign(ep, fpc="p", pps="overton"),
        "hartley_rao": lambda: SurveyDesign(ep, fpc="p", pps="hartley-rao"),
        "poisson": lambda: SurveyDesign(ep, probs="p", pps="poisson"),
        "with_replacement": lambda: SurveyDesign(ep, weights="wt"),
    }[key]()


@pytest.mark.parametrize("key", sorted(X["election"]))
def test_election_pps_matches_r(ep, key):
    R = X["election"][key]
    d = _design(ep, key)
    for name, res in [("total", d.total(VOTES)), ("mean", d.mean(VOTES)),
                      ("ratio", d.ratio("Bush", "votes")),
                      ("subset_total", d.subset(ep["Nader"] > 0).total(VOTES))]:
        assert_close(res["estimate"], R[name]["estimate"], what=f"{key} {name}")
        assert_close(res["se"], R[name]["se"], what=f"{key} {name}")


def test_two_stage_brewer(apiclus2):
    """port: tests/pps.R, multistage"""
    T = X["two_stage"]
    c2 = apiclus2.assign(f1=40 / apiclus2["fpc1"], f2=np.minimum(1, 5 / apiclus2["fpc2"]))
    d = SurveyDesign(c2, psu=["dnum", "snum"], fpc=["f1", "f2"], pps="brewer")
    res = d.total("enroll", na_rm=True)
    assert_close(res["estimate"], [T["total_enroll"]["estimate"]])
    assert_close(res["se"], [T["total_enroll"]["se"]])
    assert_close(d.mean("api00")["se"], [T["mean_api00"]["se"]])


def test_pps_errors(ep, apiclus2):
    with pytest.raises(DesignError, match="pps must be one of"):
        SurveyDesign(ep, fpc="p", pps="sampford")
    with pytest.raises(DesignError, match="inclusion probabilities in"):
        SurveyDesign(ep.assign(N=100.0), fpc="N", pps="brewer")
    with pytest.raises(DesignError, match="needs fpc="):
        SurveyDesign(ep, probs="p", pps="brewer")
    c2 = apiclus2.assign(f1=40 / apiclus2["fpc1"])
    with pytest.raises(DesignError, match="supports one stage"):
        SurveyDesign(c2, psu=["dnum", "snum"], fpc=["f1"], pps="overton")
    with pytest.raises(ValueError, match="not supported"):
        SurveyDesign(ep, fpc="p", pps="overton").replicate("jk1")


@pytest.mark.parametrize("key, kind, variance", [("ht", "joint", "HT"), ("yg", "joint", "YG"),
                                                 ("overton_yg", "overton", "YG")])
def test_joint_probabilities_and_yates_grundy(ep, key, kind, variance):
    ref = X["joint"][key]
    pps = pd.read_csv(DATA_DIR / "election_jointprob.csv").to_numpy() if kind == "joint" else kind
    d = SurveyDesign(ep, fpc="p", pps=pps, variance=variance)
    res = d.total(["Bush", "Kerry"])
    assert_close(res["estimate"], ref["estimate"])
    assert_close(res["se"], ref["se"])


def test_joint_probability_matrix_must_fit(ep):
    with pytest.raises(DesignError, match="square matrix"):
        SurveyDesign(ep, fpc="p", pps=np.ones((3, 4)))
    with pytest.raises(DesignError, match="the design has 40 PSUs"):
        SurveyDesign(ep, fpc="p", pps=np.eye(3))
    with pytest.raises(DesignError, match="variance='YG'"):
        SurveyDesign(ep, weights="wt", variance="YG")
