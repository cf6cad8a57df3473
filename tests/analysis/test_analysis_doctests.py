"""The examples in analysis/ docstrings run and print what they say.

Every module of the package is collected (walked, not listed). Examples run on R's api data
(:mod:`analysis.datasets`) with these names already defined, as R's examples start from
``data(api)``: ``pd``, ``np``, ``d`` (the stratified sample ``apistrat``: strata ``stype``,
weights ``pw``, fpc ``fpc``, R's ``dstrat``), ``dclus1`` (R's one-stage cluster sample) and
``fit`` (``svyglm("api00 ~ ell + meals", d)``), ``logit`` (``svyglm("yes ~ ell + meals", ...,
family="quasibinomial")`` with ``yes`` = sch.wide is "Yes"). Examples that stay ``# doctest: +SKIP`` need
data the package does not ship (a study's own variables) or print long output.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import SurveyDesign, datasets

MODULES = sorted(m.name for m in pkgutil.walk_packages(analysis.__path__, "analysis."))


def example_globals() -> dict:
    d = SurveyDesign(datasets.load("apistrat"), strata="stype", weights="pw", fpc="fpc")
    dclus1 = SurveyDesign(datasets.load("apiclus1"), psu="dnum", weights="pw", fpc="fpc")
    from analysis.models import svyglm

    yes = d.assign(yes=(d.data["sch.wide"] == "Yes").astype(float))
    return {"pd": pd, "np": np, "d": d, "dclus1": dclus1, "fit": svyglm("api00 ~ ell + meals", d),
            "logit": svyglm("yes ~ ell + meals", yes, family="quasibinomial")}


@pytest.fixture(scope="module")
def globs():
    return example_globals()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, globs):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name, globs={**vars(module), **globs})
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0


def test_every_module_is_collected():
    assert {"analysis.estimators", "analysis.domains", "analysis.models.results",
            "analysis.protocols", "analysis.masks"} <= set(MODULES)
