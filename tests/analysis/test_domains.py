"""Domains: by() and subset() keep every PSU (R: svyby with covmat=TRUE, subset.survey.design)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close

from analysis.design import DesignError, SurveyDesign
from analysis.domains import contrast


@pytest.mark.parametrize("section,fixture", [("a_stratified", "dstrat"),
                                             ("b_cluster1", "dclus1")])
def test_svyby_mean_with_covmat_matches_r(request, reference, section, fixture):
    ref = reference[section]["svyby_api00_stype_svymean"]
    d = request.getfixturevalue(fixture)
    res = d.by("stype").mean("api00")
    groups = ref["groups"]
    assert [lab[0] for lab in res.index] == groups
    assert_close(res["estimate"], [ref["estimate"][g] for g in groups])
    assert_close(res["se"], [ref["se"][g] for g in groups])
    assert_close(res["ci_low"], [ref["ci95_normal"]["lower"][g] for g in groups])
    assert_close(res["ci_high"], [ref["ci95_normal"]["upper"][g] for g in groups])
    assert res.attrs["df"] == ref["degf"]
    # strata = domains in dstrat: R's covariance is exactly 0 off the diagonal
    assert_close(res.vcov.to_numpy(), ref["vcov"]["rows"], atol=1e-9)


def test_subset_equals_by_and_keeps_all_psus(dclus1, apiclus1):
    by = dclus1.by("stype").mean("api00")
    sub = dclus1.subset(apiclus1["stype"] == "H").mean("api00")
    assert_close(sub["estimate"], [by.loc[("H", "api00"), "estimate"]], rtol=1e-13)
    assert_close(sub["se"], [by.loc[("H", "api00"), "se"]], rtol=1e-12)
    # filtering rows first drops PSUs and gives a different (wrong) SE
    filtered = SurveyDesign(apiclus1[apiclus1["stype"] == "H"], weights="pw", psu="dnum",
                            fpc="fpc")
    assert not np.isclose(filtered.mean("api00")["se"].iloc[0], sub["se"].iloc[0], rtol=1e-3)


def test_subset_degf_counts_psus_in_the_domain(dclus1, apiclus1):
    sub = dclus1.subset(apiclus1["stype"] == "H")
    n_psu = apiclus1.loc[apiclus1["stype"] == "H", "dnum"].nunique()
    assert sub.degf == n_psu - 1
    assert sub.n == int((apiclus1["stype"] == "H").sum())


def test_subset_accepts_column_and_callable(dclus1, apiclus1):
    a = dclus1.subset(lambda df: df["stype"] == "M").mean("api00")
    b = dclus1.subset((apiclus1["stype"] == "M").to_numpy()).mean("api00")
    assert_close(a["se"], b["se"], rtol=0)
    with pytest.raises(DesignError, match="boolean"):
        dclus1.subset(np.ones(len(apiclus1)))
    with pytest.raises(DesignError, match="column 'nope' not found"):
        dclus1.subset("nope")


def test_contrast_between_domains_uses_the_covariance(reference, dclus1):
    res = dclus1.by("stype").mean("api00")
    c = contrast(res, {"E": 1, "H": -1})
    V = np.array(reference["b_cluster1"]["svyby_api00_stype_svymean"]["vcov"]["rows"])
    est = reference["b_cluster1"]["svyby_api00_stype_svymean"]["estimate"]
    assert_close(c["estimate"], [est["E"] - est["H"]])
    assert_close(c["se"], [np.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1])])


def test_by_total_sums_to_overall_total(dclus1):
    by = dclus1.by("stype").total("enroll")
    overall = dclus1.total("enroll")
    L = np.ones(len(by))
    assert_close(by["estimate"].sum(), overall["estimate"].iloc[0], rtol=1e-12)
    assert_close(np.sqrt(L @ by.vcov.to_numpy() @ L), overall["se"].iloc[0], rtol=1e-10)


def test_by_two_columns_orders_like_r_interaction(dclus1):
    res = dclus1.by(["stype", "sch.wide"]).mean("api00")
    labels = [lab[:2] for lab in res.index]
    assert labels == [("E", "No"), ("H", "No"), ("M", "No"),
                      ("E", "Yes"), ("H", "Yes"), ("M", "Yes")]


def test_by_ratio_proportion_quantile_agree_with_subset(dclus1, apiclus1):
    mask = apiclus1["stype"] == "E"
    sub = dclus1.subset(mask)
    r = dclus1.by("stype").ratio("api.stu", "enroll")
    assert_close(r.loc[("E", "api.stu/enroll"), "se"], sub.ratio("api.stu", "enroll")["se"].iloc[0],
                 rtol=1e-12)
    p = dclus1.by("stype").proportion("sch.wide", level="Yes")
    ps = sub.proportion("sch.wide", level="Yes")
    assert_close(p.loc[("E", "sch.wide", "Yes"), ["estimate", "ci_low", "ci_high"]].to_numpy(float),
                 ps[["estimate", "ci_low", "ci_high"]].to_numpy()[0], rtol=1e-12)
    q = dclus1.by("stype").quantile("api00", 0.5)
    qs = sub.quantile("api00", 0.5)
    assert_close(q["estimate"].iloc[0], qs["estimate"].iloc[0], rtol=0)


def test_by_deff_matches_subset_deff(dclus1, apiclus1):
    by = dclus1.by("stype").mean("api00", deff=True)
    sub = dclus1.subset(apiclus1["stype"] == "M").mean("api00", deff=True)
    assert_close(by.loc[("M", "api00"), "deff"], sub["deff"].iloc[0], rtol=1e-12)


def test_by_missing_domain_variable_is_an_error(dclus1, apiclus1):
    data = apiclus1.copy()
    data.loc[3, "stype"] = None
    d = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    with pytest.raises(ValueError, match="by column 'stype' has 1 missing value"):
        d.by("stype")


def test_domain_proportions_carry_the_joint_covariance(dclus1, apiclus1):
    p = dclus1.by("stype").proportion("sch.wide", level="Yes", ci_method="mean")
    d2 = SurveyDesign(apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(float)),
                      weights="pw", psu="dnum", fpc="fpc")
    m = d2.by("stype").mean("yes")
    assert_close(p["estimate"], m["estimate"], rtol=1e-13)
    assert_close(p.vcov.to_numpy(), m.vcov.to_numpy(), rtol=1e-12)
    assert abs(p.vcov.to_numpy()[0, 1]) > 0  # domains cut across PSUs: correlated


def test_empty_subset_is_a_clear_error(dclus1):
    empty = dclus1.subset(np.zeros(dclus1.data.shape[0], dtype=bool))
    with pytest.raises(ValueError, match="no rows with non-zero weight"):
        empty.mean("api00")
