"""na_rm="propagate": R's na.rm = FALSE (a statistic a missing value enters is NA, the others are
estimated from all rows), against R survey 4.5 (reference/extra_missing_propagate.R ->
extra_missing_propagate.json); never silent: a note names the variables, and without na_rm a
missing value stays an error naming both options. Where R itself differs, the test says so."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import AnalysisError, SurveyDesign
from analysis.estimators import MissingValuesError

X = json.loads((REFERENCE_DIR / "extra_missing_propagate.json").read_text())


def _arr(v):
    return np.array([np.nan if x is None else x for x in np.atleast_1d(v)], dtype=float)


@pytest.fixture(scope="module")
def d(apiclus1):
    a = apiclus1.copy()
    a.loc[a.index[a["stype"] == "H"][0], "api00"] = np.nan
    sw = a["sch.wide"].astype(object)
    sw[a.index[a["stype"] == "M"][0]] = None
    a["sw"] = sw
    # the same rows as R's (1-based row numbers)
    assert np.flatnonzero(a["api00"].isna()).tolist() == [X["rows"]["api00_na"] - 1]
    assert np.flatnonzero(a["sw"].isna()).tolist() == [X["rows"]["sw_na"] - 1]
    return SurveyDesign(a, weights="pw", psu="dnum", fpc="fpc")


def test_mean_of_two_variables_only_the_missing_one_is_nan(d):
    ref = X["mean_api00_enroll"]
    res = d.mean(["api00", "enroll"], na_rm="propagate")
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"]))
    assert np.isnan(res.vcov.loc["api00"]).all() and np.isnan(res.vcov["api00"]).all()
    assert "NA for api00: 1 row(s) with missing values" in res.attrs["note"]
    assert "NA for api00" in repr(res)
    # deff: NaN for api00; enroll's equals its own deff (R 4.5 reports Inf for enroll: the SRS
    # variance it divides by comes from svyvar of both columns, which the NA spoils)
    dd = d.mean(["api00", "enroll"], na_rm="propagate", deff=True)["deff"].to_numpy()
    assert np.isnan(dd[0]) and X["mean_api00_enroll_deff"] == [None, "Inf"]
    assert_close(dd[1], d.mean("enroll", deff=True)["deff"].iloc[0], rtol=1e-12)


def test_total_ratio_var_as_r(d):
    ref = X["total_sw"]
    res = d.total("sw", na_rm="propagate")                # every level of the factor is NA
    assert np.isnan(res["estimate"]).all() and np.isnan(_arr(ref["estimate"])).all()
    ref = X["ratio"]
    res = d.ratio(["api00", "enroll"], "api99", na_rm="propagate")
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"]))
    ref = X["var_api00_enroll"]
    res = d.var(["api00", "enroll"], na_rm="propagate")
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"])[[0, 3]])       # R: SEs of the 2 x 2 matrix
    sd = d.sd(["api00", "enroll"], na_rm="propagate")
    assert np.isnan(sd["estimate"].iloc[0]) and "NA for api00" in sd.attrs["note"]
    assert_close(sd["estimate"].iloc[1], np.sqrt(ref["estimate"][1]))


def test_by_domain_var_and_factor_mean_as_r_svyby(d):
    ref = X["by_stype_var_api00"]
    res = d.by("stype").var("api00")                     # R's svyby(svyvar): NA for H only
    assert_close(res["estimate"], _arr(ref["estimate"]))
    assert_close(res["se"], _arr(ref["se"]))
    assert "NA in domain(s) H" in res.attrs["note"]
    assert "NA in domain(s) H" in d.by("stype").sd("api00").attrs["note"]
    ref = X["by_stype_mean_sw"]                          # level-major in R's table
    res = d.by("stype").mean("sw", na_rm="propagate")
    order = [(s, "sw", lev) for lev in ("No", "Yes") for s in ("E", "H", "M")]
    assert_close(res.loc[order, "estimate"], _arr(ref["estimate"]))
    assert_close(res.loc[order, "se"], _arr(ref["se"]))
    assert "NA in domain(s) M" in res.attrs["note"]


def test_proportions_and_quantiles_where_r_differs(d):
    # R's svyciprop drops the missing row (its svyglm's na.action) and gives SE NA; the
    # project says NaN when asked to propagate and equals R's subset with na_rm=True
    p = d.proportion("sw", level="Yes", na_rm="propagate")
    assert np.isnan(p[["estimate", "se", "ci_low", "ci_high"]].to_numpy()).all()
    assert "NA for sw" in p.attrs["note"] and "ci_method=logit" in p.attrs["note"]
    q = d.proportion("sw", level="Yes", na_rm=True)
    assert_close([q["estimate"].iloc[0], q["se"].iloc[0]],
                 [X["ciprop_narm"]["estimate"], X["ciprop_narm"]["se"]])
    assert_close(X["ciprop_overall"]["estimate"], X["ciprop_narm"]["estimate"])
    by = d.by("stype").proportion("sw", level="Yes", na_rm="propagate")
    assert np.isnan(by.loc[("M", "sw", "Yes"), "estimate"])
    assert "NA in domain(s) M" in by.attrs["note"]
    assert np.isnan(by.vcov.loc[("M", "sw", "Yes")]).all()
    # R's svyquantile fails on a missing value; so does the project, with what to do
    assert X["quantile_error"] != "no error"
    with pytest.raises(AnalysisError, match="svyquantile fails on missing values"):
        d.quantile("api00", 0.5, na_rm="propagate")


def test_replicates_propagate_per_variable(d):
    """R fails here ("All replicates contained NAs"); the project keeps enroll's estimate."""
    assert X["jk1_mean_error"] == "All replicates contained NAs"
    r = d.replicate("jk1")
    res = r.mean(["api00", "enroll"], na_rm="propagate", return_replicates=True)
    assert np.isnan(res["estimate"].iloc[0])
    assert_close([res["estimate"].iloc[1], res["se"].iloc[1]],
                 [X["jk1_mean_enroll"]["estimate"], X["jk1_mean_enroll"]["se"]])
    assert np.isnan(res.attrs["replicates"]["values"][:, 0]).all()


def test_never_silent(d):
    with pytest.raises(MissingValuesError, match=r"na_rm=True .* or na_rm='propagate'"):
        d.mean("api00")
    with pytest.raises(AnalysisError, match="na_rm must be False, True or 'propagate'"):
        d.mean("api00", na_rm="drop")
    clean = d.mean("enroll", na_rm="propagate")          # nothing missing: no note, same numbers
    assert "note" not in clean.attrs
    assert_close(clean["se"], d.mean("enroll")["se"], rtol=0)
    # the default of by() is R's svyby (NA for the domain, with a note), as before
    assert "NA in domain(s) H" in d.by("stype").mean("api00").attrs["note"]
    assert_close(d.by("stype").mean("api00", na_rm="propagate")["se"],
                 d.by("stype").mean("api00")["se"], rtol=0)
