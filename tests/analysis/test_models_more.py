"""Design effects of svyglm coefficients and the working likelihood ratio test for svyolr
terms, against R survey 4.5 (tests/analysis/reference/extra_models_more.R -> extra_models_more.json).
port: R survey tests/svyolr.R (regTermTest(m, ~avg.ed + stype, method = "LRT")).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

import analysis
from analysis import SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_models_more.json").read_text())


@pytest.fixture(scope="module")
def ds(apistrat):
    s = apistrat.assign(yes=(apistrat["sch.wide"] == "Yes").astype(float))
    return SurveyDesign(s, weights="pw", strata="stype", fpc="fpc")


def test_deff_gaussian(dclus1):
    ref = X["deff"]["gaussian_dclus1"]
    d = analysis.svyglm("api00 ~ ell + meals", dclus1).deff()
    assert_close(d, list(ref.values()))          # closed form: 1e-8


@pytest.mark.parametrize("family, key", [("quasibinomial", "quasibinomial_dstrat"),
                                         ("binomial", "binomial_dstrat")])
def test_deff_binary(ds, family, key):
    # R's naive variance comes from glm.fit's last IRLS step (converged to 1e-8 in deviance):
    # iterative, 1e-6
    d = analysis.svyglm("yes ~ ell + meals", ds, family=family).deff()
    assert_close(d, list(X["deff"][key].values()), rtol=1e-6)


def test_deff_quasipoisson_with_factor(ds):
    d = analysis.svyglm("api00 ~ ell + C(stype)", ds, family="quasipoisson").deff()
    ref = X["deff"]["poisson_dstrat"]             # R orders ell before the factor, patsy after
    assert_close(d[["Intercept", "ell", "C(stype)[T.H]", "C(stype)[T.M]"]],
                 [ref["(Intercept)"], ref["ell"], ref["stypeH"], ref["stypeM"]], rtol=1e-6)


@pytest.fixture(scope="module")
def olr(apiclus1):
    c1 = apiclus1.rename(columns={"avg.ed": "avg_ed"})
    c1["mealcat"] = pd.cut(c1["meals"], [0, 25, 50, 75, 100])
    d1 = SurveyDesign(c1, weights="pw", psu="dnum", fpc="fpc")
    return analysis.svyolr("mealcat ~ avg_ed + mobility + stype", d1)


def test_svyolr_matches_r_tight_fit(olr):
    R = X["svyolr_tight"]
    ref = [R["coef"][k] for k in ("avg.ed", "mobility", "stypeH", "stypeM")]
    got = olr.params[["avg_ed", "mobility", "stype[T.H]", "stype[T.M]"]]
    assert_close(got, ref, rtol=1e-6)
    assert_close(olr.deviance, R["deviance"], rtol=1e-8)


@pytest.mark.parametrize("terms, key", [(["avg_ed", "stype"], "lrt_avg_ed_stype"),
                                        (["mobility"], "lrt_mobility")])
def test_svyolr_lrt_matches_r(olr, terms, key):
    """port: tests/svyolr.R. chisq (difference of deviances) against R's tightly converged fit
    to 1e-8; the scale factors lambda and p to 5e-4, because R's V0 is the inverse of optim's
    finite-difference Hessian (ndeps = 1e-3) while ours is the exact information."""
    ref = X["svyolr_tight"][key]
    t = olr.lrt_test(terms)
    assert t.method == "LRT" and t.df == ref["df"] and t.ddf == ref["ddf"]
    assert_close(t.chisq, ref["chisq"], rtol=1e-8)
    assert_close(t.lambdas, np.atleast_1d(ref["lambda"]), rtol=5e-4)
    assert_close(t.p_value, ref["p"], rtol=5e-4)
    default = X["svyolr"][key]                  # R's default (looser) fit: same test
    assert_close(t.chisq, default["chisq"], rtol=1e-6)


def test_svyolr_lrt_unknown_term(olr):
    with pytest.raises(KeyError, match="not in the model"):
        olr.lrt_test(["nonsense"])
