"""The examples in analysis/ docstrings run and print what they say (examples that need a design
built elsewhere are marked ``# doctest: +SKIP``)."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.calibration", "analysis.design", "analysis.diagnostics", "analysis.distributions",
    "analysis.domains", "analysis.estimators", "analysis.replicates", "analysis.results",
    "analysis.tables", "analysis.variance", "analysis.weighting",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
