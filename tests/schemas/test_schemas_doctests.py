"""The examples in schemas/ docstrings run and print what they say.

Every module of the package is collected (walked, not listed), each example with its module's
names, as `tests/analysis/test_analysis_doctests.py` does for analysis. Examples that stay
``# doctest: +SKIP`` say why where they stand.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import schemas

MODULES = sorted(m.name for m in pkgutil.walk_packages(schemas.__path__, "schemas."))


@pytest.mark.parametrize("name", ["schemas", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs=dict(vars(module))):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_every_module_is_collected_and_has_examples():
    assert {"schemas.instrument", "schemas.conditions", "schemas.expressions", "schemas._lex",
            "schemas.study", "schemas.derived"} <= set(MODULES)
    finder = doctest.DocTestFinder(exclude_empty=True)
    examples = sum(len(t.examples) for t in finder.find(importlib.import_module("schemas._lex")))
    assert examples >= 5
