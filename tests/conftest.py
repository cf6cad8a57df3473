"""Shared fixtures: R's api data (tests/analysis/reference/data) and the reference designs.

Names are stable (other test modules import them): apistrat, apiclus1, apiclus2, apisrs, apipop,
apistrat_lonely, apistrat_pairs, reference (parsed reference.json), dstrat, dclus1, dclus2,
plus the helpers ``load_api`` and ``assert_close``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).resolve().parent / "analysis" / "reference"
DATA_DIR = REFERENCE_DIR / "data"

#: relative tolerance for closed-form estimators against R (the developer guide: 1e-8 for closed
#: forms, 1e-6 for iterative fits; a looser one needs a written reason in the test)
RTOL = 1e-8


def load_api(name: str, levels_from: str | None = None) -> pd.DataFrame:
    """Read data/<name>.csv with R's factor levels (data/<levels_from>.factor_levels.json).

    Doubles are parsed exactly (pandas 3's default parser is round-trip exact; the
    float32-derived pw weights must not be rounded);
    factor columns become ordered-level Categoricals as in R; ``cds`` stays a string.
    """
    df = pd.read_csv(DATA_DIR / f"{name}.csv", dtype={"cds": str})
    levels_file = DATA_DIR / f"{levels_from or name}.factor_levels.json"
    if levels_file.exists():
        for col, levels in json.loads(levels_file.read_text()).items():
            if col in df.columns:
                unknown = set(df[col].dropna()) - set(levels)
                assert not unknown, f"{name}.csv column {col}: values {unknown} not in {levels}"
                df[col] = pd.Categorical(df[col], categories=levels)
    return df


def assert_close(actual, expected, rtol: float = RTOL, atol: float = 0.0, what: str = ""):
    """Elementwise relative comparison with a readable message."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


@pytest.fixture(scope="session")
def reference() -> dict:
    return json.loads((REFERENCE_DIR / "reference.json").read_text())


@pytest.fixture(scope="session")
def apistrat() -> pd.DataFrame:
    return load_api("apistrat")


@pytest.fixture(scope="session")
def apiclus1() -> pd.DataFrame:
    return load_api("apiclus1")


@pytest.fixture(scope="session")
def apiclus2() -> pd.DataFrame:
    return load_api("apiclus2")


@pytest.fixture(scope="session")
def apisrs() -> pd.DataFrame:
    return load_api("apisrs")


@pytest.fixture(scope="session")
def apipop() -> pd.DataFrame:
    return load_api("apipop")


@pytest.fixture(scope="session")
def apistrat_lonely() -> pd.DataFrame:
    return load_api("apistrat_lonely", levels_from="apistrat")


@pytest.fixture(scope="session")
def apistrat_pairs() -> pd.DataFrame:
    return load_api("apistrat_pairs", levels_from="apistrat")


@pytest.fixture(scope="session")
def dstrat(apistrat):
    from analysis.design import SurveyDesign

    return SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="session")
def dclus1(apiclus1):
    from analysis.design import SurveyDesign

    return SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="session")
def dclus2(apiclus2):
    from analysis.design import SurveyDesign

    return SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
