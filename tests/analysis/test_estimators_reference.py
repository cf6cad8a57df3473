"""Means, totals, ratios and design effects against R survey 4.1 (reference.json a, b, c, h).

Tolerance 1e-8 relative (closed forms).  CIs: R's confint() default is normal (ci95_normal);
confint(x, df=degf(design)) is ci95_t_degf, reproduced with df="degf".
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close

CASES = [
    # (section, key, design fixture, method, args, kwargs)
    ("a_stratified", "svymean_api00", "dstrat", "mean", ("api00",), {}),
    ("a_stratified", "svytotal_enroll", "dstrat", "total", ("enroll",), {}),
    ("a_stratified", "svymean_api00_api99", "dstrat", "mean", (["api00", "api99"],), {}),
    ("b_cluster1", "svymean_api00", "dclus1", "mean", ("api00",), {}),
    ("b_cluster1", "svytotal_enroll", "dclus1", "total", ("enroll",), {}),
    ("c_cluster2", "svymean_api00", "dclus2", "mean", ("api00",), {}),
    ("c_cluster2", "svytotal_enroll_narm", "dclus2", "total", ("enroll",), {"na_rm": True}),
    ("h_deff", "svymean_api00_deffTRUE", "dclus1", "mean", ("api00",), {"deff": True}),
    ("h_deff", "svymean_api00_deff_replace", "dclus1", "mean", ("api00",), {"deff": "replace"}),
    ("h_deff", "svytotal_enroll_deffTRUE", "dclus1", "total", ("enroll",), {"deff": True}),
    ("h_deff", "svytotal_enroll_deff_replace", "dclus1", "total", ("enroll",),
     {"deff": "replace"}),
    ("h_deff", "svymean_api00_dstrat_deffTRUE", "dstrat", "mean", ("api00",), {"deff": True}),
]


@pytest.mark.parametrize("section,key,fixture,method,args,kwargs", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_linear_estimators_match_r(request, reference, section, key, fixture, method, args,
                                   kwargs):
    ref = reference[section][key]
    design = request.getfixturevalue(fixture)
    res = getattr(design, method)(*args, **kwargs)
    names = list(ref["estimate"])
    assert list(res.index) == names
    assert_close(res["estimate"], [ref["estimate"][n] for n in names], what="estimate")
    assert_close(res["se"], [ref["se"][n] for n in names], what="se")
    assert_close(res["ci_low"], [ref["ci95_normal"]["lower"][n] for n in names], what="ci low")
    assert_close(res["ci_high"], [ref["ci95_normal"]["upper"][n] for n in names], what="ci high")
    assert res.attrs["df"] == ref["degf"]
    if "vcov" in ref:
        assert_close(res.vcov.to_numpy(), ref["vcov"]["rows"], what="vcov")
    if "deff" in ref:
        assert_close(res["deff"], [ref["deff"][n] for n in names], what="deff")
    else:
        assert "deff" not in res.columns
    # t intervals with the design df, as confint(x, df=degf(design))
    res_t = getattr(design, method)(*args, **kwargs, df="degf")
    assert_close(res_t["ci_low"], [ref["ci95_t_degf"]["lower"][n] for n in names], what="t low")
    assert_close(res_t["ci_high"], [ref["ci95_t_degf"]["upper"][n] for n in names], what="t hi")


def test_ratio_matches_r(dstrat, reference):
    ref = reference["a_stratified"]["svyratio_api.stu_enroll"]
    res = dstrat.ratio("api.stu", "enroll")
    assert_close(res["estimate"], [ref["estimate"]])
    assert_close(res["se"], [ref["se"]])
    assert_close(res.vcov.to_numpy(), [[ref["var"]]])
    assert_close(res[["ci_low", "ci_high"]].to_numpy()[0],
                 [ref["ci95_normal"]["lower"], ref["ci95_normal"]["upper"]])
    res_t = dstrat.ratio("api.stu", "enroll", df="degf")
    assert_close(res_t[["ci_low", "ci_high"]].to_numpy()[0],
                 [ref["ci95_t_degf"]["lower"], ref["ci95_t_degf"]["upper"]])


def test_srs_baseline_weights_from_fpc(apisrs, reference):
    """svydesign(id=~1, fpc=~fpc, data=apisrs): weights implied by the fpc (N/n)."""
    from analysis.design import SurveyDesign

    d = SurveyDesign(apisrs, fpc="fpc")
    info = reference["a_stratified"]["extra_apisrs_design"]
    assert d.degf == info["degf"]
    assert_close([d.weights.min(), d.weights.max(), d.weights.sum()],
                 [info["weights_summary"][k] for k in ("min", "max", "sum")])
    ref = reference["a_stratified"]["extra_apisrs_svymean_api00"]
    res = d.mean("api00")
    assert_close(res["estimate"], [ref["estimate"]["api00"]])
    assert_close(res["se"], [ref["se"]["api00"]])
    assert_close(res[["ci_low", "ci_high"]].to_numpy()[0],
                 [ref["ci95_normal"]["lower"]["api00"], ref["ci95_normal"]["upper"]["api00"]])
    res_t = d.mean("api00", df="degf")
    assert_close(res_t[["ci_low", "ci_high"]].to_numpy()[0],
                 [ref["ci95_t_degf"]["lower"]["api00"], ref["ci95_t_degf"]["upper"]["api00"]])


def test_missing_values_without_na_rm_is_an_error_naming_rows(dclus2):
    with pytest.raises(ValueError, match=r"'enroll' have 6 missing value\(s\) in rows .*na_rm"):
        dclus2.total("enroll")


def test_categorical_total_gives_one_row_per_level(dstrat, apistrat):
    res = dstrat.total("stype")
    assert list(res.index) == [("stype", "E"), ("stype", "H"), ("stype", "M")]
    # stratified by stype with fpc = N_h: the level totals are the N_h, without error; the pw
    # weights are float32-rounded (44.209999084...), so the sums miss N_h by ~1e-8 relative
    assert_close(res["estimate"], [4421, 755, 1018], rtol=1e-7)
    assert_close(res["se"], [0, 0, 0], atol=1e-6)


def test_categorical_mean_equals_mean_of_indicators(dclus1, apiclus1):
    res = dclus1.mean("sch.wide")
    d2 = dclus1.__class__(apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(float)),
                          weights="pw", psu="dnum", fpc="fpc")
    ind = d2.mean("yes")
    assert_close(res.loc[("sch.wide", "Yes"), "estimate"], ind["estimate"].iloc[0], rtol=1e-12)
    assert_close(res.loc[("sch.wide", "Yes"), "se"], ind["se"].iloc[0], rtol=1e-12)
    # the two level proportions are perfectly negatively correlated
    v = res.vcov.to_numpy()
    assert_close(v[0, 1], -v[0, 0], rtol=1e-10)


def test_result_prints_tidily(dstrat):
    text = repr(dstrat.mean("api00"))
    assert "estimate" in text and "ci_low" in text
    assert "[mean; 95% CI: normal; design df = 197]" in text
    assert not np.isfinite(dstrat.mean("api00").attrs["ci_df"])


def test_mixed_numeric_and_categorical_variables(dclus1):
    res = dclus1.mean(["api00", "stype"])
    assert list(res.index) == [("api00", ""), ("stype", "E"), ("stype", "H"), ("stype", "M")]
    alone = dclus1.mean("api00")
    assert_close(res["se"].iloc[0], alone["se"].iloc[0], rtol=1e-13)


def test_several_ratios(dstrat):
    res = dstrat.ratio(["api.stu", "api00"], ["enroll", "api99"])
    assert list(res.index) == ["api.stu/enroll", "api.stu/api99", "api00/enroll", "api00/api99"]
    one = dstrat.ratio("api00", "api99")
    assert_close(res.loc["api00/api99", ["estimate", "se"]].to_numpy(float),
                 one[["estimate", "se"]].to_numpy()[0], rtol=1e-12)
