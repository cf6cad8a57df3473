"""Missing values by domain and missing weights, as R survey 4.5 (tests/analysis/reference/extra_missing.R
-> extra_missing.json): svyby without na.rm gives NA for a domain with a missing value and
estimates the others (here with a note naming the domain); svydesign(na_weights = "allow")
drops rows whose weight is missing. port: R survey tests/na_weights.R."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import DesignError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_missing.json").read_text())


def _arr(v):
    return np.array([np.nan if x is None else x for x in np.atleast_1d(v)], dtype=float)


@pytest.fixture(scope="module")
def d_na(apiclus1):
    a = apiclus1.copy()
    first_h = a.index[a["stype"] == "H"][0]
    a.loc[first_h, "api00"] = np.nan
    return SurveyDesign(a, weights="pw", psu="dnum", fpc="fpc")


def test_domain_with_a_missing_value_is_nan_others_as_r(d_na):
    ref = X["svyby_na"]["mean_api00"]
    res = d_na.by("stype").mean("api00")
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"]))
    assert "NA in domain(s) H" in res.attrs["note"]
    assert np.isnan(res.vcov.loc[("H", "api00")]).all()
    assert np.isfinite(res.vcov.loc[("E", "api00"), ("M", "api00")])


def test_several_variables_only_the_missing_one_is_nan(d_na):
    ref = X["svyby_na"]["total_api00_enroll"]          # R orders variable-major
    res = d_na.by("stype").total(["api00", "enroll"])
    order = [("E", "api00"), ("H", "api00"), ("M", "api00"),
             ("E", "enroll"), ("H", "enroll"), ("M", "enroll")]
    assert_close(res.loc[order, "estimate"], _arr(ref["estimate"]))
    assert_close(res.loc[order, "se"], _arr(ref["se"]))


def test_ratio_and_na_rm(d_na):
    ref = X["svyby_na"]["ratio_api00_api99"]
    res = d_na.by("stype").ratio("api00", "api99")
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"]))
    narm = X["svyby_na"]["mean_api00_narm"]
    res = d_na.by("stype").mean("api00", na_rm=True)
    assert_close(res["estimate"], _arr(narm["estimate"]))
    assert_close(res["se"], _arr(narm["se"]))


def test_na_weights_allow_drops_the_rows(apisrs):
    """port: tests/na_weights.R"""
    ref = X["na_weights"]
    assert ref["same"] is True
    zero = apisrs.assign(pw=np.nan)
    both = pd.concat([apisrs, zero], ignore_index=True)
    d = SurveyDesign(apisrs, weights="pw")
    d2 = SurveyDesign(both, weights="pw", na_weights="allow")
    a, b = d.total("enroll"), d2.total("enroll")
    assert a["estimate"].iloc[0] == b["estimate"].iloc[0] and a["se"].iloc[0] == b["se"].iloc[0]
    assert_close(b["se"], [ref["total_enroll"]["se"]])
    assert "200 record(s) with missing weights dropped" in repr(d2)
    with pytest.warns(UserWarning, match="200 record"):
        SurveyDesign(both, weights="pw", na_weights="warn")
    with pytest.raises(DesignError, match="na_weights='allow'"):
        SurveyDesign(both, weights="pw")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SurveyDesign(both, weights="pw", na_weights="allow")
