"""Profile-likelihood confidence intervals of svyglm coefficients against R survey 4.5's
confint(fit, method = "likelihood") (tests/analysis/reference/extra_profile.R -> extra_profile.json).
R refits with glm.fit (epsilon 1e-8) at every profile point: compared at 1e-6 relative to the
interval's width. The gaussian case fails in R ("NA/NaN/Inf in 'y'"); here it is a clear error."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR

import analysis
from analysis import ModelError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_profile.json").read_text())


@pytest.fixture(scope="module")
def designs(apiclus1, apistrat):
    c1 = apiclus1.assign(yes=(apiclus1["sch.wide"] == "Yes").astype(float))
    s = apistrat.assign(yes=(apistrat["sch.wide"] == "Yes").astype(float))
    return {"dclus1": SurveyDesign(c1, weights="pw", psu="dnum", fpc="fpc"),
            "dstrat": SurveyDesign(s, weights="pw", strata="stype", fpc="fpc")}


@pytest.mark.parametrize("key, formula, design, family", [
    ("quasibinomial_dstrat", "yes ~ ell + meals", "dstrat", "quasibinomial"),
    ("binomial_dclus1", "yes ~ ell + mobility", "dclus1", "binomial"),
    ("quasipoisson_dstrat", "enroll ~ ell + meals", "dstrat", "quasipoisson")])
def test_profile_interval_matches_r(designs, key, formula, design, family):
    ref = X[key]
    fit = analysis.svyglm(formula, designs[design], family=family)
    ci = fit.profile_conf_int()
    width = np.asarray(ref["upper"]) - np.asarray(ref["lower"])
    np.testing.assert_allclose(ci["ci_low"], ref["lower"], rtol=0, atol=1e-6 * width.max())
    np.testing.assert_allclose(ci["ci_high"], ref["upper"], rtol=0, atol=1e-6 * width.max())
    # asymmetric around the estimate, unlike the Wald interval
    wald = fit.conf_int()
    assert not np.allclose(ci["ci_high"] - fit.params, fit.params - ci["ci_low"], rtol=1e-3)
    assert np.all(np.abs(ci.to_numpy() - wald.to_numpy()) < width[:, None])


def test_profile_interval_of_one_coefficient_and_errors(designs):
    fit = analysis.svyglm("yes ~ ell + meals", designs["dstrat"], family="quasibinomial")
    one = fit.profile_conf_int("ell")
    assert list(one.index) == ["ell"]
    assert np.isclose(one.loc["ell", "ci_low"], X["quasibinomial_dstrat"]["lower"][1], atol=1e-7)
    with pytest.raises(KeyError, match="not coefficients"):
        fit.profile_conf_int(["nope"])
    assert "error" in X["gaussian_dclus1"]
    gauss = analysis.svyglm("api00 ~ ell + meals", designs["dclus1"])
    with pytest.raises(ModelError, match="profile-likelihood interval .* is undefined"):
        gauss.profile_conf_int()
