"""svyglm with R's quasi(link, variance) families, and predict(total=, vcov=), against R survey
4.5 (tests/analysis/reference/extra_glm_more.R -> extra_glm_more.json). The quasi fits with a
non-canonical link are iterative in R (glm.fit, epsilon 1e-8): compared at 1e-6."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

import analysis

X = json.loads((REFERENCE_DIR / "extra_glm_more.json").read_text())


@pytest.mark.parametrize("formula, link, key", [
    ("api00 ~ ell + meals", "identity", "quasi_identity_mu"),
    ("enroll ~ ell + meals", "log", "quasi_log_mu")])
def test_quasi_variance_mu(dstrat, formula, link, key):
    ref = X[key]
    fit = analysis.svyglm(formula, dstrat, family=analysis.quasi(link=link, variance="mu"))
    assert fit.family_name == "quasi"
    assert_close(fit.params, ref["coef"], rtol=1e-6)
    assert_close(fit.bse, ref["se"], rtol=1e-6)
    assert_close(fit.dispersion, ref["dispersion"], rtol=1e-6)
    assert fit.deff().notna().all()            # dispersion estimated, not fixed at 1


def test_quasi_rejects_unknown_arguments():
    with pytest.raises(ValueError, match="quasi variance must be one of"):
        analysis.quasi(variance="mu^3")
    with pytest.raises(ValueError, match="quasi link must be one of"):
        analysis.quasi(link="cauchit")


def test_predict_total_is_the_regression_estimator(dstrat):
    P = X["predict_total"]
    fit = analysis.svyglm("api00 ~ api99", dstrat)
    p = fit.predict(pd.DataFrame({"api99": [P["api99_total"]]}), total=P["N"])
    assert_close(p["estimate"], [P["estimate"]])
    assert_close(p["se"], [P["se"]])


def test_predict_vcov(dstrat, apistrat):
    ref = X["predict_vcov"]
    fit = analysis.svyglm("api00 ~ ell + meals", dstrat,
                          family=analysis.quasi(link="identity", variance="mu"))
    p = fit.predict(apistrat.iloc[:3], type="response", vcov=True)
    assert_close(p["estimate"], ref["estimate"], rtol=1e-6)
    V = p.attrs["vcov"].to_numpy()
    assert_close(V, ref["vcov"]["rows"], rtol=1e-5)
    assert_close(np.sqrt(np.diag(V)), p["se"], rtol=1e-12)
