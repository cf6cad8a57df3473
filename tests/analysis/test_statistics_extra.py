"""Nonlinear contrasts, withReplicates / return_replicates, variances and SDs, and the two-sample
t and rank tests, against R survey 4.5 (tests/analysis/reference/extra_statistics.R ->
extra_statistics.json). Ported from R survey's tests/: contrast-replicates.R (svyby with and
without return.replicates, then svycontrast(quote(exp(E - H)))) and mtcars-var.R (svyvar by a
domain of one row gives NA; na.rm equals the subset). Closed forms: 1e-8 relative.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

import analysis
from analysis import SurveyDesign
from analysis.contrasts import estimate_names, nonlinear_contrast
from analysis.expressions import ExpressionError, parse_expression
from analysis.hypothesis import svyranktest, svyttest

X = json.loads((REFERENCE_DIR / "extra_statistics.json").read_text())


def _check(res, ref):
    assert_close(res["estimate"], np.atleast_1d(ref["estimate"]), what="estimate")
    assert_close(res["se"], np.atleast_1d(ref["se"]), what="se")


@pytest.fixture(scope="module")
def designs(apiclus1, apistrat):
    c1 = apiclus1.assign(log_enroll=np.log(apiclus1["enroll"]))
    d1 = SurveyDesign(c1, weights="pw", psu="dnum", fpc="fpc")
    ds = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    return {"d1": d1, "ds": ds, "r1": d1.replicate("jk1")}


# ------------------------------------------------------------------ nonlinear contrasts
def test_exp_of_a_difference_of_domain_means(designs):
    by = designs["d1"].by("stype").mean("log_enroll")
    res = analysis.contrast(by, "exp(E - H)")              # contrast() hands texts over
    _check(res, X["contrasts"]["taylor_exp_E_minus_H"])


@pytest.mark.parametrize("key, expr, add", [
    ("taylor_ratio_E_over_H", "E / H", False),
    ("taylor_two", {"ratio": "E / M", "logdiff": "log(E) - log(H)"}, False),
    ("taylor_add", {"ratio": "E / M"}, True),
])
def test_ratio_of_domain_means_and_several_expressions(designs, key, expr, add):
    ref = X["contrasts"][key]
    res = nonlinear_contrast(designs["d1"].by("stype").mean("api00"), expr, add=add)
    _check(res, ref)
    assert_close(res.vcov.to_numpy(), ref["vcov"]["rows"] if isinstance(ref["vcov"], dict)
                 else ref["vcov"], what="vcov")
    assert list(res.index)[:len(ref["names"]) - (3 if add else 0)] == ref["names"][
        :len(ref["names"]) - (3 if add else 0)]


def test_ratio_of_means_and_powers(designs):
    m = designs["d1"].mean(["api00", "api99"])
    _check(nonlinear_contrast(m, "api00 / api99"), X["contrasts"]["mean_ratio_api00_api99"])
    # -x^2 is -(x^2) as in R, ^ before unary minus
    _check(nonlinear_contrast(m, "-api00^2 / 1000 + sqrt(api99)"),
           X["contrasts"]["power_and_minus"])


def test_nonlinear_contrast_of_model_coefficients(designs):
    fit = analysis.svyglm("api00 ~ ell + meals", designs["d1"])
    _check(nonlinear_contrast(fit, "exp(ell * 10)"), X["contrasts"]["glm_exp_ell"])


def test_replicates_with_and_without_return_replicates(designs):
    """port: R survey tests/contrast-replicates.R"""
    C = X["contrasts"]
    r1 = designs["r1"]
    without = nonlinear_contrast(r1.by("stype").mean("log_enroll"), "exp(E - H)")
    _check(without, C["jk1_without_replicates"])            # delta method on the vcov
    by = r1.by("stype").mean("log_enroll", return_replicates=True)
    with_reps = nonlinear_contrast(by, "exp(E - H)")
    _check(with_reps, C["jk1_with_replicates"])             # the replicates transformed
    reps = with_reps.attrs["replicates"]["values"][:, 0]
    assert_close(reps, C["jk1_with_replicates_values"])
    # R's check: the variance equals vcov(rclus1, exp(r[, 1] - r[, 2]))
    r = by.attrs["replicates"]["values"]
    again = r1.vcov_replicates(with_reps["estimate"].to_numpy(), np.exp(r[:, 0] - r[:, 1]))
    assert_close(again[0, 0], with_reps["se"].iloc[0] ** 2)


def test_return_replicates_needs_a_replicate_design(designs):
    with pytest.raises(analysis.AnalysisError, match="needs a replicate design"):
        designs["d1"].mean("api00", return_replicates=True)


def test_expression_names_and_errors(designs):
    by = designs["d1"].by("stype").mean("api00")
    assert {"E", "H", "M", "E:api00"} <= set(estimate_names(by.index))
    with pytest.raises(ExpressionError, match="'X' is not the name of an estimate"):
        nonlinear_contrast(by, "E / X")
    with pytest.raises(ExpressionError, match="unknown function 'system'"):
        nonlinear_contrast(by, "system(E)")
    with pytest.raises(ExpressionError, match="cannot read"):
        parse_expression("E.__class__; 1")
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse_expression("(" * 500 + "E" + ")" * 500)
    assert parse_expression("`C(stype)[T.H]` * 2").names == ("C(stype)[T.H]",)
    assert np.isnan(nonlinear_contrast(by, "log(E - E - 1)")["estimate"].iloc[0])


# ------------------------------------------------------------------ withReplicates
def test_with_replicates_any_statistic(designs):
    W = X["with_replicates"]
    r1 = designs["r1"]
    res = r1.with_replicates(lambda w, d: np.sum(w * d["api00"]) / np.sum(w * d["api99"]))
    _check(res, W["ratio"])
    vec = r1.with_replicates(lambda w, d: [np.sum(w * d["api00"]) / np.sum(w),
                                           np.sum(w * (d["api00"] - d["api99"])) / np.sum(w)],
                             names=["mean00", "growth"])
    assert_close(vec["estimate"], W["vector"]["estimate"])
    assert_close(vec.vcov.to_numpy(), W["vector"]["vcov"]["rows"])
    tot = r1.with_replicates(lambda w, d: np.sum(w * d["enroll"]), return_replicates=True)
    _check(tot, W["total"])
    assert_close(tot.attrs["replicates"]["values"][:, 0], W["total_replicates"])


# ------------------------------------------------------------------ variances and SDs
def test_variance_and_sd(designs, apistrat, apiclus1):
    V = X["svyvar"]
    _check(designs["ds"].var("api00"), V["dstrat_api00"])
    _check(designs["ds"].sd("api00"), V["dstrat_api00_sd"])   # R: svycontrast(v, sqrt(api00))
    _check(designs["d1"].var("api00"), V["dclus1_api00"])
    _check(designs["r1"].var("api00"), V["jk1_api00"])        # replicates re-estimate ybar
    _check(designs["d1"].by("stype").var("api00"), V["by_stype_dclus1"])
    _check(designs["ds"].subset(apistrat["stype"] == "H").var("api00"), V["subset_H"])
    na = apiclus1.copy()
    na.loc[(np.arange(len(na)) + 1) % 9 == 0, "enroll"] = np.nan
    d = SurveyDesign(na, weights="pw", psu="dnum", fpc="fpc")
    _check(d.var("enroll", na_rm=True), V["dclus1_enroll_narm"])


def test_variance_by_domain_of_one_row_is_nan():
    """port: R survey tests/mtcars-var.R"""
    M = X["mtcars"]
    cars = pd.DataFrame(M["data"])
    cars["carb"] = pd.Categorical(cars["carb"].astype(int))
    with pytest.warns(UserWarning, match="equal probability"):
        d = SurveyDesign(cars)
    res = d.by("carb").var("mpg")
    ref_est = np.array([np.nan if v is None else v for v in M["by_carb"]["estimate"]])
    ref_se = np.array([np.nan if v is None else v for v in M["by_carb"]["se"]])
    assert_close(res["estimate"], ref_est)
    assert_close(res["se"], ref_se)
    cars.loc[0, "mpg"] = np.nan
    with pytest.warns(UserWarning, match="equal probability"):
        d2 = SurveyDesign(cars)
    _check(d2.var("mpg", na_rm=True), M["narm"])
    assert_close(d2.subset(cars["mpg"].notna()).var("mpg")["estimate"], [M["narm"]["estimate"]])


# ------------------------------------------------------------------ t and rank tests
def _check_test(res, ref, ci=True):
    assert_close([res.statistic, res.df, res.p, res.estimate],
                 [ref["statistic"], ref["parameter"], ref["p_value"], ref["estimate"]])
    if ci:
        assert_close(res.ci, ref["conf_int"])
    assert res.method == ref["method"]


def test_svyttest(designs, apiclus1, apistrat):
    T = X["svyttest"]
    _check_test(svyttest(designs["d1"], "api00 ~ comp.imp"), T["dclus1_api00_compimp"])
    _check_test(svyttest(designs["ds"], "enroll ~ sch.wide"), T["dstrat_enroll_schwide"])
    _check_test(svyttest(designs["r1"], "api00 ~ comp.imp"), T["jk1_api00_compimp"])
    c = apiclus1.assign(y=apiclus1["api00"] - 650)
    _check_test(svyttest(SurveyDesign(c, weights="pw", psu="dnum", fpc="fpc"), "y ~ 0"),
                T["dclus1_one_sample"])
    s = apistrat.assign(g=(apistrat["sch.wide"] == "Yes").astype(float))
    _check_test(svyttest(SurveyDesign(s, weights="pw", strata="stype", fpc="fpc"), "api00 ~ g"),
                T["dstrat_numeric_group"])


def test_svyttest_result_shape(designs):
    res = svyttest(designs["d1"], "api00 ~ comp.imp")
    frame = res.to_frame()
    assert list(frame.columns) == ["estimate", "statistic", "df", "ddf", "p", "ci_low",
                                   "ci_high", "method"]
    ci90 = res.conf_int(0.9)
    assert ci90["ci_low"].iloc[0] > res.ci[0] and ci90["ci_high"].iloc[0] < res.ci[1]
    assert "Design-based t-test" in res.summary()
    with pytest.raises(analysis.AnalysisError, match="exactly 2 values"):
        svyttest(designs["d1"], "api00 ~ stype")


@pytest.mark.parametrize("key, test", [("wilcoxon", "wilcoxon"),
                                       ("vanderWaerden", "vanderWaerden"),
                                       ("median", "median")])
def test_svyranktest_two_groups(designs, key, test):
    _check_test(svyranktest(designs["d1"], "ell ~ comp.imp", test=test), X["svyranktest"][key],
                ci=False)


def test_svyranktest_strata_replicates_and_groups(designs):
    R = X["svyranktest"]
    _check_test(svyranktest(designs["ds"], "api00 ~ sch.wide"), R["dstrat_wilcoxon"], ci=False)
    _check_test(svyranktest(designs["r1"], "ell ~ comp.imp"), R["jk1_wilcoxon"], ci=False)
    k = svyranktest(designs["d1"], "ell ~ stype")
    ref = R["kruskal_stype"]
    assert_close([k.estimate, k.df, k.ddf, k.p], [ref["chisq"], ref["ndf"], ref["ddf"],
                                                  ref["p_value"]])
