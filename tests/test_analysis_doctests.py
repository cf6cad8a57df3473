"""The examples in analysis/ docstrings run and print what they say (examples that need a design
built elsewhere are marked ``# doctest: +SKIP``)."""
from __future__ import annotations

import doctest
import importlib

import pytest

# estimators, domains and tables have only skipped examples (they need a design): not listed
MODULES = [
    "analysis.calibration", "analysis.contrasts", "analysis.design", "analysis.diagnostics",
    "analysis.distributions", "analysis.expressions",
    "analysis.replicates", "analysis.results", "analysis.variance", "analysis.weighting",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
