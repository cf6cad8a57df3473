"""The examples in the report layer's generic modules run and print what they say, and use no
study's variable names (R's api data or neutral names; a study's names live in its YAML)."""
from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODULES = ["surveydata.report.tables", "surveydata.report.html"]
# variable names of the practice study (schemas/studies/practice_security.yaml)
STUDY_NAMES = re.compile(r"\b(tm_\w+|practice_type|kbv_size_class|training_all|guideline_\w+|"
                         r"incident_\w+|federal_state|it_support_model)\b")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_docstrings_name_no_study_variable(name):
    module = importlib.import_module(name)
    docs = [module.__doc__ or ""] + [getattr(v, "__doc__", "") or "" for v in vars(module).values()
                                     if callable(v) and getattr(v, "__module__", "") == name]
    found = sorted({m.group(0) for d in docs for m in STUDY_NAMES.finditer(d)})
    assert not found, f"{name} docstrings name study variables: {found}"
