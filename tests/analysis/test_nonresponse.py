"""Nonresponse adjustment against R (tests/analysis/reference/extra_nonresponse.R): weighting classes are
R's postStratify of the respondents to the sample's class totals, propensity weights are pw / p
from R's svyglm."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import analysis
from analysis.nonresponse import NonresponseError, adjust_nonresponse

REF = json.loads((Path(__file__).parent / "reference" / "extra_nonresponse.json").read_text())


@pytest.fixture
def dall(apiclus1):
    df = apiclus1.assign(resp=((apiclus1["snum"] % 3 != 0) | (apiclus1["ell"] < 15)).astype(int))
    return analysis.SurveyDesign(df, weights="pw", psu="dnum", fpc="fpc")


def _close(est, ref, rtol=1e-8):
    np.testing.assert_allclose(est["estimate"].iloc[0], ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(est["se"].iloc[0], ref["se"], rtol=rtol)


def test_weighting_classes_equal_r_poststratify(dall):
    adj = adjust_nonresponse(dall, "resp", classes="stype")
    assert adj.design.n == REF["n_resp"]
    np.testing.assert_allclose(adj.design.weights, REF["class_weights"], rtol=1e-10)
    _close(adj.design.mean("api00"), REF["class_mean_api00"])
    t = adj.classes
    assert t["sampled"].sum() == dall.n and t["responded"].sum() == REF["n_resp"]
    np.testing.assert_allclose(t["factor"] * t["response_rate"], 1.0)


def test_propensity_weights_equal_r(dall):
    adj = adjust_nonresponse(dall, "resp", propensity="ell + meals", n_classes=None)
    # svyglm on both sides (iterative): 1e-6
    np.testing.assert_allclose(adj.design.weights, REF["propensity_weights"], rtol=1e-6)
    np.testing.assert_allclose(adj.design.mean("api00")["estimate"].iloc[0],
                               REF["propensity_mean_api00"]["estimate"], rtol=1e-6)
    np.testing.assert_allclose(adj.design.mean("api00")["se"].iloc[0],
                               REF["propensity_mean_api00"]["se"], rtol=1e-6)


def test_propensity_classes_and_mistakes(dall):
    adj = adjust_nonresponse(dall, "resp", propensity="ell + meals", n_classes=4)
    assert len(adj.classes) == 4 and adj.classes["responded"].min() > 0
    np.testing.assert_allclose(adj.design.weights.sum(), dall.weights.sum(), rtol=1e-12)
    with pytest.raises(NonresponseError, match="either classes= .* or propensity="):
        adjust_nonresponse(dall, "resp")
    bad = dall.assign(resp2=dall.data["resp"] * 2)
    with pytest.raises(NonresponseError, match="must be 0/1"):
        adjust_nonresponse(bad, "resp2", classes="stype")
