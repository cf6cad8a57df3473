"""The declared derived variables keep the values of the Python they replaced, on the demo.

tests/data/practice_derived_frozen.csv.gz holds the output of the former functions
(schemas/derived.py's kbv_size_class ... east_west and surveydata/reportdata.analysis_frame's
indicators, n_info_sources, scores, guideline_implementation_up, log_n_applicable) on the demo's
valid rows, computed before they were removed (see practice_derived_frozen.md). Here the
declarations (instrument `derived:` + study `derived:`) are evaluated by schemas.derive on the
same coded rows and must match exactly (same numbers to the last bit, same missing cells).
"""

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import schemas

FROZEN = Path(__file__).resolve().parents[1] / "data" / "practice_derived_frozen.csv.gz"
INSTRUMENT_VARS = ["kbv_size_class", "tech_index", "n_applicable", "tech_share", "org_index",
                   "info_index", "risk_gap", "east_west"]


@pytest.fixture(scope="module")
def coded_valid():
    """The coded valid rows validate() hands to schemas.derive for the demo export."""
    from surveydata.demo import demo_path
    from surveydata.io import read_export

    validate = importlib.import_module("surveydata.validate")
    inst = schemas.load_instrument()
    seen = {}
    real = schemas.derive

    def spy(frame, decl, lang=None):
        seen["coded"] = frame.copy()
        return real(frame, decl, lang=lang)

    mp = pytest.MonkeyPatch()
    mp.setattr(schemas, "derive", spy)
    try:
        validate.validate(read_export(demo_path("export.csv"), inst), inst, lang="en")
    finally:
        mp.undo()
    return seen["coded"]


@pytest.fixture(scope="module")
def frozen():
    return pd.read_csv(FROZEN, keep_default_na=False, na_values=[""]).set_index("response_id")


def _same(new: pd.Series, old: pd.Series) -> None:
    if pd.api.types.is_numeric_dtype(new.dtype):
        x = new.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        y = old.to_numpy(dtype="float64")
        bad = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        assert not bad.any(), (f"{new.name}: {int(bad.sum())} rows differ, first "
                               f"{x[bad][:3]} vs {y[bad][:3]}")
    else:
        a = new.astype(object).where(new.notna(), None).tolist()
        b = old.astype(object).where(old.notna(), None).tolist()
        assert a == b, f"{new.name}: values differ"


def test_instrument_declarations_reproduce_the_former_functions(coded_valid, frozen):
    new = schemas.derive(coded_valid, schemas.load_instrument())
    assert list(new.columns) == INSTRUMENT_VARS
    new.index = coded_valid["response_id"].astype(str).to_numpy()
    old = frozen.loc[new.index]
    assert len(new) == len(frozen) == 1577
    for var in INSTRUMENT_VARS:
        _same(new[var], old[var])
    # the dtypes validate() has always written
    assert [str(new[v].dtype) for v in INSTRUMENT_VARS] == [
        "Int64", "Int64", "Int64", "float64", "Int64", "float64", "Int64", "str"]


def test_study_declarations_reproduce_the_former_report_variables(coded_valid, frozen):
    study = schemas.load_study()
    new = schemas.derive(coded_valid, study, lang="en")
    new.index = coded_valid["response_id"].astype(str).to_numpy()
    old = frozen.loc[new.index]
    study_vars = [d.var for d in study.derived if d.origin == "study"]
    expected = [c for c in frozen.columns if c not in INSTRUMENT_VARS]
    assert sorted(study_vars) == sorted(expected)
    for var in study_vars:
        _same(new[var], old[var])
    up = new["guideline_implementation_up"]
    assert up.cat.ordered and list(up.cat.categories) == [
        "Hardly or not at all", "Partly", "Mostly", "Fully"]


def test_an_instrument_without_compute_entries_derives_nothing(coded_valid):
    import yaml

    text = Path(schemas.load_instrument().source).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for d in data["derived"]:
        d.pop("compute", None)
    inst = schemas.parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    out = schemas.derive(coded_valid, inst)
    assert out.shape == (len(coded_valid), 0)
    assert out.index.equals(coded_valid.index)
