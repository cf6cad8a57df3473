"""One interval vocabulary across estimates and models: ``level`` is the confidence level
(models still take ``alpha`` = 1 - level), intervals are columns ``ci_low``/``ci_high`` in
conf_int(), tidy(), odds_ratios(), predict(level=) and every estimate."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis import AnalysisError, SurveyDesign, datasets
from analysis.models import predictive_margins, standardised_effects, svyglm


@pytest.fixture(scope="module")
def dstrat():
    return SurveyDesign(datasets.load("apistrat"), strata="stype", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def logit(dstrat):
    data = dstrat.data
    return svyglm("yes ~ ell + meals", dstrat.assign(yes=(data["sch.wide"] == "Yes").astype(float)),
                  family="quasibinomial")


def test_conf_int_level_and_alpha_agree_and_name_columns_as_tidy(logit):
    ci90 = logit.conf_int(0.9)
    assert list(ci90.columns) == ["ci_low", "ci_high"]
    np.testing.assert_allclose(ci90, logit.conf_int(alpha=0.1), rtol=1e-14)
    # the t interval with the residual df, computed here from params and se
    q = stats.t.ppf(0.95, logit.df_resid)
    np.testing.assert_allclose(ci90["ci_low"], logit.params - q * logit.bse, rtol=1e-12)
    tidy = logit.tidy(0.9)
    np.testing.assert_allclose(tidy[["ci_low", "ci_high"]], ci90, rtol=1e-14)
    assert "[0.05" in logit.summary(0.9).as_text() and "[0.05" in logit.summary(alpha=0.1).as_text()


def test_level_and_alpha_together_or_out_of_range_are_one_line_errors(logit):
    with pytest.raises(AnalysisError, match="give the confidence level once"):
        logit.conf_int(0.9, alpha=0.05)
    with pytest.raises(AnalysisError, match="level is the confidence level"):
        logit.conf_int(95)


def test_odds_ratios_take_level_and_exp_params_is_deprecated(logit):
    ors = logit.odds_ratios(level=0.9)
    np.testing.assert_allclose(ors["ci_low"], np.exp(logit.conf_int(0.9)["ci_low"]), rtol=1e-14)
    with pytest.warns(DeprecationWarning, match="odds_ratios"):
        old = logit.exp_params(0.9)
    np.testing.assert_allclose(old, ors, rtol=0)


def test_predict_intervals_on_link_and_response_scale(logit, dstrat):
    new = dstrat.data.head(5)
    link = logit.predict(new, level=0.95)
    q = stats.t.ppf(0.975, logit.df_resid)
    np.testing.assert_allclose(link["ci_low"], link["estimate"] - q * link["se"], rtol=1e-12)
    resp = logit.predict(new, type="response", level=0.95)
    # the link interval mapped through the inverse logit: within (0, 1), around the estimate
    expit = 1 / (1 + np.exp(-link[["ci_low", "ci_high"]].to_numpy()))
    np.testing.assert_allclose(resp[["ci_low", "ci_high"]].to_numpy(), expit, rtol=1e-12)
    assert ((resp["ci_low"] < resp["estimate"]) & (resp["estimate"] < resp["ci_high"])).all()
    assert list(logit.predict(new).columns) == ["estimate", "se"]     # no level: as before


def test_margins_and_effects_take_level(logit, dstrat):
    fit = svyglm("api00 ~ ell + stype", dstrat)
    pm90 = predictive_margins(fit, "stype", level=0.9)
    np.testing.assert_allclose(pm90[["ci_low", "ci_high"]],
                               predictive_margins(fit, "stype", alpha=0.1)[["ci_low", "ci_high"]])
    half = (pm90["ci_high"] - pm90["ci_low"]) / 2
    np.testing.assert_allclose(half, stats.t.ppf(0.95, pm90.attrs["df"]) * pm90["se"], rtol=1e-12)
    eff = standardised_effects(logit, level=0.9)
    np.testing.assert_allclose(eff["ci_low"], standardised_effects(logit, alpha=0.1)["ci_low"])
