"""SurveyDesign construction: degf, weights, fpc rules, errors, immutability, repr."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_close

from analysis.design import DesignError, SurveyDesign


@pytest.mark.parametrize("section,fixture", [("a_stratified", "dstrat"),
                                             ("b_cluster1", "dclus1"),
                                             ("c_cluster2", "dclus2")])
def test_design_facts_match_r(request, reference, section, fixture):
    info = reference[section]["design"]
    d = request.getfixturevalue(fixture)
    assert d.degf == info["degf"]
    assert d.n == info["n"]
    ws = info["weights_summary"]
    assert_close([d.weights.min(), d.weights.max(), d.weights.sum()],
                 [ws["min"], ws["max"], ws["sum"]])


def test_two_stage_weights_come_from_the_fpc(dclus2, apiclus2):
    # R: weights = (757/40) * (fpc2 / schools sampled in the district)
    n2 = apiclus2.groupby("dnum")["snum"].transform("count").to_numpy()
    assert_close(dclus2.weights, 757 / 40 * apiclus2["fpc2"].to_numpy() / n2, rtol=1e-14)
    assert_close(dclus2.weights, apiclus2["pw"].to_numpy(), rtol=1e-12)


def test_probs_are_inverse_weights(apistrat, reference):
    a = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    b = SurveyDesign(apistrat.assign(p=1 / apistrat["pw"]), probs="p", strata="stype", fpc="fpc")
    r = reference["a_stratified"]["svymean_api00"]  # R: svymean(~api00, dstrat)
    for d in (a, b):
        assert_close(d.mean("api00")["estimate"], r["estimate"]["api00"], rtol=1e-12)
        assert_close(d.mean("api00")["se"], r["se"]["api00"], rtol=1e-10)


def test_fpc_as_sampling_fraction_equals_population_size(apistrat, reference):
    n_h = apistrat.groupby("stype", observed=True)["pw"].transform("size")
    frac = apistrat.assign(f=n_h / apistrat["fpc"])
    a = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    b = SurveyDesign(frac, weights="pw", strata="stype", fpc="f")
    r = reference["a_stratified"]["svytotal_enroll"]  # R: svytotal(~enroll, dstrat)
    for d in (a, b):
        assert_close(d.total("enroll")["se"], r["se"]["enroll"], rtol=1e-10)


def test_unknown_column_is_named(apistrat):
    with pytest.raises(DesignError, match="strata column 'stratum' not found"):
        SurveyDesign(apistrat, weights="pw", strata="stratum")


def test_missing_weights_name_column_and_rows(apistrat):
    bad = apistrat.copy()
    bad.loc[[3, 7], "pw"] = np.nan
    with pytest.raises(DesignError, match=r"weights column 'pw' has 2 missing value\(s\) in rows 3, 7"):
        SurveyDesign(bad, weights="pw", strata="stype")


def test_missing_psu_is_an_error(apiclus1):
    bad = apiclus1.copy()
    bad.loc[5, "dnum"] = np.nan
    with pytest.raises(DesignError, match=r"psu column 'dnum' has 1 missing value\(s\) in rows 5"):
        SurveyDesign(bad, weights="pw", psu="dnum")


def test_mixed_fpc_is_an_error(apistrat):
    bad = apistrat.assign(fpc=apistrat["fpc"].where(apistrat["stype"] != "H", 0.5))
    with pytest.raises(DesignError, match="must be population sizes .*or all sampling fractions"):
        SurveyDesign(bad, weights="pw", strata="stype", fpc="fpc")


def test_fpc_smaller_than_sample_is_an_error(apistrat):
    bad = apistrat.assign(fpc=10.0)
    with pytest.raises(DesignError, match=">100% sampling"):
        SurveyDesign(bad, weights="pw", strata="stype", fpc="fpc")


def test_fpc_varying_within_stratum_is_an_error(apistrat):
    bad = apistrat.copy()
    bad.loc[0, "fpc"] = 5000
    with pytest.raises(DesignError, match="varies within stratum"):
        SurveyDesign(bad, weights="pw", strata="stype", fpc="fpc")


def test_clusters_must_nest_in_strata_unless_nest(apiclus2):
    # districts (dnum) are cut across by school type: not nested in stype
    with pytest.raises(DesignError, match="not nested in strata.*nest=True"):
        SurveyDesign(apiclus2, weights="pw", strata="stype", psu="dnum")
    d = SurveyDesign(apiclus2, weights="pw", strata="stype", psu="dnum", nest=True)
    n_psu = apiclus2.groupby(["stype", "dnum"], observed=True).ngroups
    assert d.degf == n_psu - 3


def test_design_is_immutable(dstrat):
    with pytest.raises(AttributeError, match="immutable"):
        dstrat.lonely_psu = "adjust"
    with pytest.raises(ValueError):
        dstrat.weights[0] = 1.0


def test_data_edits_do_not_leak_into_the_design(apistrat):
    df = apistrat.copy()
    d = SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    before = d.mean("api00")["estimate"].iloc[0]
    df.loc[0, "api00"] = 10_000
    assert d.mean("api00")["estimate"].iloc[0] == before


def test_with_weights_returns_a_new_design(dclus1, reference):
    d2 = dclus1._with_weights(dclus1.weights * 2)
    assert d2 is not dclus1
    r = reference["b_cluster1"]  # R's dclus1: doubling the weights doubles the total, not the mean
    assert_close(d2.total("enroll")["estimate"], 2 * r["svytotal_enroll"]["estimate"]["enroll"],
                 rtol=1e-12)
    assert_close(d2.total("enroll")["se"], 2 * r["svytotal_enroll"]["se"]["enroll"], rtol=1e-10)
    assert_close(d2.mean("api00")["se"], r["svymean_api00"]["se"]["api00"], rtol=1e-10)
    assert dclus1.weights.sum() == pytest.approx(r["design"]["weights_summary"]["sum"], rel=1e-12)


def test_repr_reads_like_r(dclus1, dclus2, dstrat):
    assert repr(dstrat).startswith("Stratified Independent Sampling design\n")
    assert "degf = 197" in repr(dstrat)
    assert repr(dclus1).startswith("1 - level Cluster Sampling design\nWith (15) clusters.")
    assert repr(dclus2).startswith("2 - level Cluster Sampling design\nWith (40, 126) clusters.")
    nofpc = SurveyDesign(dclus1.data, weights="pw", psu="dnum")
    assert "(with replacement)" in repr(nofpc)


def test_equal_weights_warning_when_nothing_given():
    df = pd.DataFrame({"y": [1.0, 2.0, 4.0]})
    with pytest.warns(UserWarning, match="assuming equal probability"):
        d = SurveyDesign(df)
    assert_close(d.weights, [1, 1, 1])


def test_single_psu_design_is_an_error():
    df = pd.DataFrame({"y": [1.0, 2.0], "c": [1, 1], "w": [1.0, 1.0]})
    with pytest.raises(DesignError, match="only one primary sampling unit"):
        SurveyDesign(df, weights="w", psu="c")


def test_editing_the_returned_data_does_not_change_the_design(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    before = d.mean("api00")["estimate"].iloc[0]
    view = d.data
    view.loc[0, "api00"] = 10_000
    assert d.mean("api00")["estimate"].iloc[0] == before


def test_error_messages_name_the_variable_and_value(dstrat):
    with pytest.raises(TypeError, match="'stype' is categorical"):
        dstrat.ratio("stype", "enroll")
    with pytest.raises(ValueError, match=r"'api00' is not 0/1 \(also has \[398.0"):
        dstrat.proportion("api00")
    w = dstrat.weights.copy()
    w[3] = np.nan
    with pytest.raises(DesignError, match=r"non-finite values in rows 3: \[nan\]"):
        dstrat._with_weights(w)
