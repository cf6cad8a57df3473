"""Formulas as researchers write them: R-style dotted names work, a misspelt name gets a hint."""
from __future__ import annotations

import numpy as np
import pytest

import analysis
from analysis.models.formula import FormulaError, quote_names


def test_dotted_names_are_quoted_outside_strings_and_functions():
    cols = ["sch.wide", "ell", "api.00"]
    assert quote_names("sch.wide ~ ell", cols) == 'Q("sch.wide") ~ ell'
    assert quote_names("y ~ np.log(api.00)", cols) == 'y ~ np.log(Q("api.00"))'
    assert quote_names('y ~ Q("sch.wide")', cols) == 'y ~ Q("sch.wide")'
    assert quote_names("y ~ sch.wider", cols) == "y ~ sch.wider"   # not a column: untouched


def test_svyglm_with_a_dotted_response_equals_the_quoted_formula(apistrat):
    d = analysis.SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    d = d.assign(**{"api.diff": apistrat["api00"] - apistrat["api99"]})
    a = analysis.svyglm("api.diff ~ ell + meals", d)
    b = analysis.svyglm('Q("api.diff") ~ ell + meals', d)
    np.testing.assert_array_equal(a.params.to_numpy(), b.params.to_numpy())
    np.testing.assert_array_equal(a.bse.to_numpy(), b.bse.to_numpy())


def test_a_misspelt_variable_names_the_closest_columns(apistrat):
    d = analysis.SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(FormulaError, match=r"'elll' is not a column of the data: did you mean 'ell'"):
        analysis.svyglm("api00 ~ elll", d)
    with pytest.raises(FormulaError, match=r"did you mean 'sch.wide'\?"):
        analysis.svyglm("api00 ~ sch.wid", d)
