"""Two-phase designs with method="approx"/"simple" and calibration at phase 2, against R survey
4.5 (reference/extra_twophase_methods.R -> extra_twophase_methods.json): apisrs with a
stratified phase-2 subsample, survival's nwtco as a case-cohort and as a two-phase case-control
design (calibrated to the phase-1 counts of rel x stage x instit, as R's ?twophase), and mu284
with clusters at phase 1. Closed forms to 1e-8; svyglm fits and R's raking (grake stops at
its epsilon 1e-7, ours at 1e-10) to 1e-6."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

import analysis
from analysis import CalibrationError, DesignError, twophase
from analysis.replicates import ReplicateError
from analysis.twophase import TwoPhaseDesign

X = json.loads((REFERENCE_DIR / "extra_twophase_methods.json").read_text())


def _check(res, ref, what, rtol=1e-8):
    assert_close(res["estimate"], np.atleast_1d(ref["estimate"]), rtol=rtol, what=what)
    assert_close(res["se"], np.atleast_1d(ref["se"]), rtol=rtol, what=what)


def _glm(fit, ref, rename, rtol=1e-6):
    """R's coefficients by R's names (the project's names mapped by ``rename``)."""
    params = fit.params.rename(index=rename)
    bse = fit.bse.rename(index=rename)
    assert_close(params.loc[ref["names"]], ref["coef"], rtol=rtol, what="coef")
    assert_close(bse.loc[ref["names"]], ref["se"], rtol=rtol, what="se")


@pytest.fixture(scope="module")
def srs(apisrs):
    return apisrs.assign(in2=apisrs["snum"] % 2 == 0)


@pytest.fixture(scope="module")
def nwtco():
    nw = pd.read_csv(DATA_DIR / "nwtco.csv")
    nw["in2"] = (nw["in.subcohort"] == 1) | (nw["rel"] == 1)
    nw["incc2"] = X["cc"]["data"]["incc2"]       # relapses, institution 2, every 8th seqno
    assert nw["incc2"].equals((nw["rel"] == 1) | (nw["instit"] == 2) | (nw["seqno"] % 8 == 0))
    nw["h2"] = (nw["histol"] == 2).astype(float)
    nw["rel_instit"] = nw["rel"].astype(str) + "." + nw["instit"].astype(str)
    nw["cell"] = nw["rel_instit"] + "." + nw["stage"].astype(str)
    return nw


API_GLM = {"Intercept": "(Intercept)", "stype[T.H]": "stypeH", "stype[T.M]": "stypeM"}


@pytest.mark.parametrize("method", ["full", "approx", "simple"])
def test_api_two_phase_every_estimator(srs, method):
    d = twophase(srs, subset="in2", strata2="stype", fpc1="fpc", method=method)
    A = X["api"][method]
    assert isinstance(d, TwoPhaseDesign) and d.method == ("full" if method == "full" else "approx")
    assert_close(d.weights, A["weights"])
    assert d.degf == A["degf"]
    _check(d.mean("api00"), A["mean_api00"], "mean")
    _check(d.total("enroll"), A["total_enroll"], "total")
    _check(d.ratio("api00", "api99"), A["ratio"], "ratio")
    _check(d.mean("awards"), A["mean_awards"], "factor mean")
    _check(d.by("stype").mean("api00"), A["by_stype_mean_api00"], "by phase-2 strata")
    # domains that cut across the phase-2 strata: "approx" counts the phase-2 units outside
    # the domain with pi2 = 1 in the phase-1 variance (R drops those rows)
    _check(d.by("awards").mean("api00"), A["by_awards_mean_api00"], "by awards")
    _check(d.by("awards").total("enroll"), A["by_awards_total_enroll"], "by awards total")
    _check(d.subset(d.data["awards"] == "Yes").mean("api00"), A["subset_yes_mean_api00"], "subset")
    p = d.proportion("awards", level="Yes")
    ref = A["ciprop_yes"]
    assert_close([p["estimate"].iloc[0], p["se"].iloc[0], p["ci_low"].iloc[0], p["ci_high"].iloc[0]],
                 [ref["estimate"], ref["se"], *ref["ci"]], what="svyciprop")
    _glm(analysis.svyglm("api00 ~ ell + stype", d), A["glm"], API_GLM)
    tab = d.crosstab("sch.wide", "awards")              # R's svychisq on the two-phase design
    for name, ref in A["chisq"].items():
        t = tab.tests[name]
        assert_close([t.statistic, t.p], [ref["statistic"], ref["p"]], what=f"svychisq {name}")
        assert_close(t.ndf, np.atleast_1d(ref["parameter"])[0], what=name)
    q = d.quantile("api00", 0.5)
    ref = A["quantile_api00"]
    assert_close([q["estimate"].iloc[0], q["ci_low"].iloc[0], q["ci_high"].iloc[0], q["se"].iloc[0]],
                 [ref["estimate"], *ref["ci"], ref["se"]], what="svyquantile")


def test_weights_in_place_of_probabilities(srs):
    """R's weights = list(~pw, ~w2), method = "approx" only; the phase-2 fpc stays the count"""
    s = srs.copy()
    n2 = s.groupby("stype")["in2"].transform("sum")
    N2 = s.groupby("stype")["in2"].transform("size")
    s["w2"] = N2 / n2 * (1 + (s["snum"] % 3) / 10)
    d = twophase(s, subset="in2", strata2="stype", fpc1="fpc", weights1="pw", weights2="w2",
                 method="approx")
    W = X["api"]["weighted"]
    assert_close(d.weights, W["weights"])
    _check(d.mean("api00"), W["mean_api00"], "mean")
    _check(d.total("enroll"), W["total_enroll"], "total")
    _check(d.by("awards").total("enroll"), W["by_awards_total_enroll"], "by awards")
    assert W["full_error"] == "weights not accepted by method='full'"
    with pytest.raises(DesignError, match="weights1/weights2 need method='approx'"):
        twophase(s, subset="in2", strata2="stype", weights1="pw")
    with pytest.raises(DesignError, match="weights2 column 'stype' has 'E' in row 1;"):
        twophase(s, subset="in2", strata2="stype", weights2="stype", method="approx")


def test_approx_and_simple_are_one_method_and_differ_from_full(srs):
    full = twophase(srs, subset="in2", strata2="stype", fpc1="fpc")
    approx = twophase(srs, subset="in2", strata2="stype", fpc1="fpc", method="approx")
    simple = twophase(srs, subset="in2", strata2="stype", fpc1="fpc", method="simple")
    se = [x.total("enroll")["se"].iloc[0] for x in (full, approx, simple)]
    assert se[1] == se[2] and abs(se[0] / se[1] - 1) > 1e-4
    # R's phase split of the approx variance: phase 1 + phase 2 = the variance
    ph = X["api"]["phases_total_enroll"]
    assert_close(se[1] ** 2, ph["phase1"] + ph["phase2"])


@pytest.mark.parametrize("method", ["simple", "full"])
def test_case_cohort(nwtco, method):
    d = twophase(nwtco, subset="in2", strata2="rel", method=method)
    B = X["nwtco"][method]
    assert_close(d.weights, B["weights"])
    _check(d.mean("age"), B["mean_age"], "mean age")
    tot = d.total("h2")
    _check(tot, {k: v[1] for k, v in B["total_histol2"].items()}, "total histol 2")
    _check(d.by("stage").mean("age"), B["by_stage_mean_age"], "by stage", rtol=1e-8)
    fit = analysis.svyglm("rel ~ C(stage) + age", d, family="quasibinomial")
    assert_close(fit.params, B["glm"]["coef"], rtol=1e-6)
    assert_close(fit.bse, B["glm"]["se"], rtol=1e-6)


@pytest.mark.parametrize("method", ["simple", "full"])
def test_case_control_calibrated_to_phase_one_counts(nwtco, method):
    """?twophase: calibrate(dccs2, phase = 2, formula = ~interaction(rel, stage, instit))"""
    d = twophase(nwtco, subset="incc2", strata2="rel_instit", method=method)
    # (not named C: svyglm formulas see the caller's names, and C() is patsy's factor)
    ref = X["cc"][method]
    _check(d.mean("age"), ref["mean_age"], "mean age")
    formula = "rel ~ C(stage) * C(histol)"
    fit = analysis.svyglm(formula, d, family="quasibinomial")
    assert_close(fit.params, ref["glm"]["coef"], rtol=1e-6)
    assert_close(fit.bse, ref["glm"]["se"], rtol=1e-6)
    g = d.calibrate(formula="~ cell")             # totals: the phase-1 counts of the cells
    assert_close(g.weights, ref["cal"]["weights"])
    _check(g.mean("age"), ref["cal"]["mean_age"], "calibrated mean age")
    fit = analysis.svyglm(formula, g, family="quasibinomial")
    assert_close(fit.params, ref["cal"]["glm"]["coef"], rtol=1e-6)
    assert_close(fit.bse, ref["cal"]["glm"]["se"], rtol=1e-6)
    # the cell counts of phase 1 are met exactly
    counts = pd.Series(g.weights).groupby(g.data["cell"].to_numpy()).sum()
    assert_close(counts.sort_index(), nwtco["cell"].value_counts().sort_index().astype(float))
    # raking on age and a stage factor made by assign (a function reaches phase 1 too)
    r = d.assign(stagef=lambda df: df["stage"].astype(str)).calibrate(
        formula="~ age + stagef", method="raking")
    R = ref["cal_age_raking"]
    assert_close(r.weights, R["weights"], rtol=1e-8)
    _check(r.mean("age"), R["mean_age"], "raked mean age")
    _check(r.total("h2"), {k: v[1] for k, v in R["total_histol2"].items()}, "raked total")


@pytest.mark.parametrize("method", ["simple", "full"])
def test_estimated_phase_two_probabilities_rrz(nwtco, method):
    """?twophase: calibrate(dccs2, phase = 2, formula = ~interaction(rel, stage, instit),
    calfun = "rrz") (saturated: the same weights as calibration), and a model with age"""
    d = twophase(nwtco, subset="incc2", strata2="rel_instit", method=method)
    ref = X["cc"][method]["rrz"]
    g = d.calibrate(formula="~ cell", method="rrz")
    assert_close(g.weights, ref["weights"], rtol=1e-6)
    assert_close(g.weights, d.calibrate(formula="~ cell").weights, rtol=1e-6)
    _check(g.mean("age"), ref["mean_age"], "rrz mean", rtol=1e-6)
    fit = analysis.svyglm("rel ~ C(stage) * C(histol)", g, family="quasibinomial")
    assert_close(fit.params, ref["glm"]["coef"], rtol=1e-6)
    assert_close(fit.bse, ref["glm"]["se"], rtol=1e-6)
    ref = X["cc"][method]["rrz_age_stage"]
    g = d.assign(stagef=lambda df: df["stage"].astype(str)).calibrate(
        formula="~ age + stagef", method="rrz")
    assert_close(g.weights, ref["weights"], rtol=1e-6)
    _check(g.mean("age"), ref["mean_age"], "rrz mean", rtol=1e-6)
    _check(g.by("stage").mean("age"), ref["by_stage_mean_age"], "rrz by stage", rtol=1e-6)
    with pytest.raises(CalibrationError, match="needs? formula=|from formula="):
        d.calibrate({"age": 1.0}, method="rrz")


@pytest.mark.parametrize("method", ["full", "approx"])
def test_api_calibration_phase_two(srs, method):
    d = twophase(srs, subset="in2", strata2="stype", fpc1="fpc", method=method)
    L = X["api"][f"cal_{method}"]["linear"]
    g = d.calibrate(formula="~ api99")
    assert_close(g.weights, L["weights"])
    assert_close(g.weights.sum(), len(srs) / (200 / 6194))    # N: phase-1 count / pi1
    _check(g.mean("api00"), L["mean_api00"], "mean")
    _check(g.total("enroll"), L["total_enroll"], "total")
    _check(g.by("stype").mean("api00"), L["by_stype_mean_api00"], "by")
    # R's subset of a calibrated design keeps every row (probabilities set to Inf)
    _check(g.subset(g.data["awards"] == "Yes").mean("api00"), L["subset_yes_mean_api00"], "subset")
    B = X["api"][f"cal_{method}"]["logit_bounded"]
    b = d.calibrate(formula="~ api99 + stype", method="logit", bounds=(0.5, 2.0))
    assert_close(b.weights, B["weights"], rtol=1e-6)
    _check(b.mean("api00"), B["mean_api00"], "logit", rtol=1e-6)
    g = b.weights / d.weights                              # the g-weights
    assert 0.5 < g.min() < 0.7 and 1.4 < g.max() < 2.0
    # one bound per unit from columns: everything within the same bounds as above
    s = srs.assign(lo=0.5, hi=2.0)
    b2 = twophase(s, subset="in2", strata2="stype", fpc1="fpc", method=method).calibrate(
        formula="~ api99 + stype", method="logit", bounds=("lo", "hi"))
    assert_close(b2.weights, b.weights, rtol=1e-12)
    # given totals in model-matrix order, raking (R's grake stops at epsilon 1e-7)
    K = X["api"][f"cal_{method}"]["raking_given"]
    r = d.calibrate([200, 125000, 130], formula="~ api99 + awards", method="raking")
    assert_close(r.weights, K["weights"], rtol=1e-6)
    _check(r.mean("api00"), K["mean_api00"], "raked mean", rtol=1e-6)
    _glm(analysis.svyglm("api00 ~ ell", r), K["glm"], {"Intercept": "(Intercept)"})


def test_clusters_at_phase_one_approx():
    """?twophase: mu284, clusters at phase 1, units within them at phase 2 (samescale FALSE)"""
    M = X["mu284"]
    mu = pd.DataFrame(M["data"])
    d = twophase(mu, subset="sub", strata2="id1", fpc1="n1", psu1="id1", method="approx")
    _check(d.total("y1"), M["total_y1"], "total")
    _check(d.mean("y1"), M["mean_y1"], "mean")


def test_what_r_refuses_is_a_one_line_error(srs):
    d = twophase(srs, subset="in2", strata2="stype", fpc1="fpc")
    errors = X["api"]["errors"]
    assert "postStratify not" in errors["poststratify"] and errors["phase1"] != "no error"
    pop = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
    with pytest.raises(CalibrationError, match=r"poststratify of a two-phase design .* calibrate"):
        d.poststratify("stype", pop)
    with pytest.raises(CalibrationError, match="rake of a two-phase design"):
        d.rake({"stype": pop})
    with pytest.raises(CalibrationError, match="trim of a two-phase design"):
        d.trim(upper=50)
    with pytest.raises(CalibrationError, match=r"phase=1\) of a two-phase design is not supported"):
        d.calibrate({"api99": 3914069.0}, phase=1)
    g = d.calibrate(formula="~ api99")
    with pytest.raises(CalibrationError, match="already calibrated"):
        g.calibrate(formula="~ api99")
    with pytest.raises(CalibrationError, match="whole two-phase design"):
        d.subset(d.data["awards"] == "Yes").calibrate(formula="~ api99")
    with pytest.raises(CalibrationError, match=r"missing \['\(Intercept\)'\]"):
        d.calibrate({"api99": 1.0}, formula="~ api99")
    with pytest.raises(CalibrationError, match="phase-1 totals of '~ big'"):
        d.assign(big=d.data["enroll"] > 500).calibrate(formula="~ big")
    with pytest.raises(DesignError, match="method must be one of"):
        twophase(srs, subset="in2", strata2="stype", method="exact")
    with pytest.raises(ReplicateError, match="replicate weights of a two-phase design"):
        twophase(srs, subset="in2", strata2="stype", method="approx").replicate("jkn")


def test_calibration_without_formula_takes_totals_by_column(srs):
    d = twophase(srs, subset="in2", strata2="stype", fpc1="fpc", method="approx")
    # the same calibration written as R's model matrix and as column totals
    t = float(srs["api99"].sum())
    a = d.calibrate(formula="~ api99")
    b = d.calibrate({"(Intercept)": float(len(srs)), "api99": t})
    assert_close(a.weights, b.weights, rtol=1e-12)
    with pytest.raises(CalibrationError, match="needs formula="):
        d.calibrate()


@pytest.mark.parametrize("key, kw", [
    ("approx_fpc", {"fpc1": "fpc", "method": "approx"}),
    ("approx_probs", {"probs1": "p1", "method": "approx"}),
    ("full_probs", {"probs1": "p1"}),
])
def test_stratified_first_phase(apistrat, key, kw):
    """apistrat as a stratified first phase (stype), phase-2 strata across it (awards)"""
    s = apistrat.assign(in2=apistrat["snum"] % 3 != 0, p1=1 / apistrat["pw"])
    d = twophase(s, subset="in2", strata1="stype", strata2="awards", **kw)
    R = X["strat"][key]
    assert_close(d.weights, R["weights"])
    _check(d.mean("api00"), R["mean_api00"], "mean")
    _check(d.total("enroll"), R["total_enroll"], "total")
    _check(d.by("stype").total("enroll"), R["by_stype_total_enroll"], "by stype")


def test_stratified_first_phase_full_differs_from_r_by_r_indexing(apistrat):
    """R 4.5's Dcheck_subset reads the first-phase sample size n1_h as sampsize[ithese], ithese
    the positions among the phase-2 units, i.e. of other rows of the phase-1 data: with a
    stratified first phase sampled without replacement the pairs of a stratum get another
    stratum's n1_h (here R even gives NaN SEs by domain). The project uses each unit's own
    n1_h; the test rebuilds R's number from its indexing to show that is the only difference."""
    s = apistrat.assign(in2=apistrat["snum"] % 3 != 0)
    d = twophase(s, subset="in2", strata1="stype", strata2="awards", fpc1="fpc")
    R = X["strat"]["full_fpc"]
    assert_close(d.total("enroll")["estimate"], [R["total_enroll"]["estimate"]])
    sub = s["in2"].to_numpy()
    n1 = s.groupby("stype")["stype"].transform("size").to_numpy(dtype=float)
    p1 = (n1 / s["fpc"].to_numpy())[sub]
    n2_all = s.groupby("awards")["in2"].transform("sum").to_numpy(dtype=float)
    p2 = (n2_all / s.groupby("awards")["in2"].transform("size").to_numpy())[sub]
    h1, h2 = s["stype"].to_numpy()[sub], s["awards"].to_numpy()[sub]

    def dcheck(h, p, size):
        D = np.where(h[:, None] == h[None, :], (-(1 - p) / (size - 1))[:, None], 0.0)
        np.fill_diagonal(D, 1 - p)
        return D

    m = int(sub.sum())
    D2 = dcheck(h2, p2, n2_all[sub])
    u = d.weights * s.loc[sub, "enroll"].to_numpy()

    def se(D1):
        return float(np.sqrt(u @ (D1 + D2 - D1 * D2) @ u))

    assert_close(se(dcheck(h1, p1, n1[:m])), R["total_enroll"]["se"], what="R's indexing")
    assert_close(d.total("enroll")["se"].iloc[0], se(dcheck(h1, p1, n1[sub])), what="own n1_h")
    assert abs(d.total("enroll")["se"].iloc[0] / R["total_enroll"]["se"] - 1) > 0.1
