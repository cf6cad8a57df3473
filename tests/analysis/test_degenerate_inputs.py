"""Degenerate inputs get one clear AnalysisError (issue 12, analysis), or R's result where R gives
a meaningful one (tests/analysis/reference/extra_degenerate.R -> extra_degenerate.json, survey 4.5).

- A data frame with 0 rows: R stops with an internal message ("all arguments must have the same
  length"); here a DesignError says the data have no rows.
- A (quasi)binomial model of an outcome that is always 1 (or 0), or a Poisson model of an outcome
  that is always 0: R's glm.fit gives up after 25 iterations ("algorithm did not converge") and
  reports an intercept of +-26.47 (Poisson: -27.30) that only reflects its stopping rule; here a
  ModelError names the outcome and the value. A constant outcome that a model can fit (Poisson or
  gaussian of an outcome always 1) gives R's answer: slope 0 with SE 0.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR

import analysis
from analysis import AnalysisError, DesignError, ReplicateDesign, SurveyDesign
from analysis.errors import ModelError

X = json.loads((REFERENCE_DIR / "extra_degenerate.json").read_text())


@pytest.mark.parametrize("kwargs", [{"weights": "pw", "strata": "stype"}, {"weights": "pw"}, {}])
def test_empty_design_is_a_design_error(apistrat, kwargs):
    assert "error" in X["empty_design"]["strata"]            # R stops too, less clearly
    with pytest.raises(DesignError, match="data has no rows"):
        SurveyDesign(apistrat.iloc[:0], **kwargs)


def test_empty_replicate_design_is_a_design_error():
    with pytest.raises(DesignError, match="data has no rows"):
        ReplicateDesign(pd.DataFrame({"y": []}), repweights=np.empty((0, 2)),
                        weights=np.empty(0), type="bootstrap")


def test_empty_subset_is_an_analysis_error(dstrat, apistrat):
    empty = dstrat.subset(apistrat["api00"] < 0)
    with pytest.raises(ValueError, match="no rows with non-zero weight"):
        empty.mean("api00")
    with pytest.raises(ModelError, match="no row with a positive weight"):
        analysis.svyglm("api00 ~ ell", empty)


@pytest.fixture(scope="module")
def constant(apistrat):
    df = apistrat.assign(one=1.0, zero=0.0)
    return SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")


@pytest.mark.parametrize("outcome, family, value", [
    ("one", "quasibinomial", 1), ("zero", "quasibinomial", 0), ("one", "binomial", 1),
    ("zero", "poisson", 0), ("zero", "quasipoisson", 0)])
def test_model_of_a_constant_outcome_without_finite_estimate_is_refused(constant, outcome,
                                                                         family, value):
    ref = X["constant_outcome"].get(f"{family}_{outcome}")
    if ref is not None:   # R returns a non-converged intercept of about +-26.5 / -27.3
        assert abs(ref["coef"][0]) > 26
    with pytest.raises(ModelError, match=f"the outcome '{outcome}' is {value} in every row") as e:
        analysis.svyglm(f"{outcome} ~ api00", constant, family=family)
    assert isinstance(e.value, AnalysisError)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("family", ["poisson", "gaussian"])
def test_model_of_a_constant_outcome_it_can_fit_gives_r_answer(constant, family):
    ref = X["constant_outcome"][f"{family}_one"]
    fit = analysis.svyglm("one ~ api00", constant, family=family)
    np.testing.assert_allclose(fit.params.to_numpy(), ref["coef"], atol=1e-12)
    np.testing.assert_allclose(fit.bse.to_numpy(), ref["se"], atol=1e-12)


def test_constant_outcome_in_a_subset_is_refused(apistrat):
    # sch.wide is "Yes" for every school with api00 > 800: a model in that domain is refused
    df = apistrat.assign(yes=(apistrat["sch.wide"] == "Yes").astype(float))
    d = SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    high = df["api00"] > 800
    assert df.loc[high, "yes"].eq(1).all()
    with pytest.raises(ModelError, match="'yes' is 1 in every row"):
        analysis.svyglm("yes ~ ell", d.subset(high), family="quasibinomial")
