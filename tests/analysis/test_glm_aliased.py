"""svyglm(..., singular_ok=True): an aliased (collinear) column keeps a NaN coefficient, as R's
svyglm keeps NA (R's default; the project's default still refuses, naming the column). Against
R survey 4.5 (tests/analysis/reference/extra_aliased.R -> extra_aliased.json; R's coef() and vcov() leave
the NA out, so the finite ones are compared)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close

import analysis
from analysis import ModelError, SurveyDesign, SurveyModelWarning

X = json.loads((REFERENCE_DIR / "extra_aliased.json").read_text())


@pytest.fixture(scope="module")
def d(apistrat):
    data = apistrat.assign(ell2=2 * apistrat["ell"], both=apistrat["ell"] + apistrat["meals"],
                           yes=(apistrat["sch.wide"] == "Yes").astype(float))
    return SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")


def _fit(d, formula, **kw):
    with pytest.warns(SurveyModelWarning, match="not defined because of singularities"):
        return analysis.svyglm(formula, d, singular_ok=True, **kw)


@pytest.mark.parametrize("formula, family, key, aliased", [
    ("api00 ~ ell + ell2 + meals", "gaussian", "gaussian", "ell2"),
    ("yes ~ ell + meals + both", "quasibinomial", "quasibinomial", "both")])
def test_aliased_coefficient_is_nan_and_the_rest_is_r(d, formula, family, key, aliased):
    ref = X[key]
    fit = _fit(d, formula, family=family)
    assert np.isnan(fit.params[aliased]) and np.isnan(fit.bse[aliased])
    finite = fit.params.dropna()
    tol = 1e-8 if family == "gaussian" else 1e-6     # R's IRLS stops at 1e-8 in deviance
    assert_close(finite, ref["coef"], rtol=tol)
    assert_close(fit.bse.dropna(), ref["se"], rtol=tol)
    V = fit.cov_params().loc[finite.index, finite.index]
    assert_close(V.to_numpy(), ref["vcov"]["rows"], rtol=tol * 10)
    assert fit.df_resid == ref["df_resid"]            # only estimated coefficients count


def test_wald_test_leaves_aliased_out_and_predict_as_r(d):
    fit = _fit(d, "api00 ~ ell + ell2 + meals")
    w = fit.wald_test(["ell", "ell2"])
    ref = X["wald_ell_ell2"]
    assert w.df == ref["df"] == 1
    assert_close([w.statistic, w.p_value], [ref["F"], ref["p"]])
    p = fit.predict(d.data.iloc[:2])
    assert_close(p["estimate"], X["predict"]["estimate"])
    assert np.isnan(p["se"]).all() and X["predict"]["se"] == [None, None]   # R: NA


def test_default_still_refuses_and_tools_needing_all_coefficients_refuse(d):
    with pytest.raises(ValueError, match="singular_ok=True"):
        analysis.svyglm("api00 ~ ell + ell2 + meals", d)
    fit = _fit(d, "api00 ~ ell + ell2 + meals")
    with pytest.raises(ModelError, match=r"\['ell2'\] are aliased"):
        fit.lrt_test(["meals"])
    with pytest.raises(ModelError, match="aliased"):
        analysis.standardised_effects(fit)
    assert np.isnan(fit.deff()["ell2"]) and np.isfinite(fit.deff()["ell"])
