"""Values and ids at validation (issue 12 item 8/9, issue 18 item 2): '+3', NaN, overflow,
implausible dates, ids that differ only by whitespace, case, width or zero-width characters."""
import numpy as np
import pytest

import schemas
from surveydata import validate
from surveydata.validate import id_key
from tests.export_factory import to_text, valid_coded

INST = schemas.load_instrument()


def _run(frame):
    return validate(frame.assign(line=np.arange(2, len(frame) + 2)), INST)


@pytest.fixture()
def text():
    return to_text(valid_coded(INST, 6, seed=4))


def test_plus_sign_integer_is_accepted(text):
    t = text.copy()
    t.loc[0, "n_workstations"] = "+3"
    res = _run(t)
    assert res.report["n_quarantined"] == 0
    assert res.valid.loc[0, "n_workstations"] == 3


def test_nan_in_a_numeric_integer_item_is_a_missing_value_not_a_fraction(text):
    coded = valid_coded(INST, 6, seed=4)
    coded["n_physicians"] = coded["n_physicians"].astype(float)
    coded.loc[2, "n_physicians"] = np.nan
    res = _run(coded)
    f = res.failures
    assert f[["line", "column", "rule"]].values.tolist() == [[4, "n_physicians", "not_nullable"]]
    assert "whole number" not in res.quarantine["reasons"].item()
    # the text NaN of another program is named as what it is
    t = text.copy()
    t.loc[1, "n_physicians"] = "NaN"
    reasons = _run(t).quarantine["reasons"].item()
    assert "'NaN' is another program's marker for a missing value" in reasons
    assert "code an unanswered question -9" in reasons


@pytest.mark.parametrize("column,value,rule", [
    ("duration_s", "9" * 400, "overflow:duration_s"),
    ("n_workstations", "9" * 30, "overflow:n_workstations"),
    ("submitted_at", "0000-01-01T00:00:00", "date_range:submitted_at"),
    ("submitted_at", "0001-01-01", "date_range:submitted_at"),
])
def test_overflow_and_implausible_dates_are_quarantined_with_the_reason(text, column, value, rule):
    t = text.copy()
    t.loc[3, column] = value
    res = _run(t)
    assert res.failures[["line", "column", "value", "rule"]].values.tolist() == [
        [5, column, value, rule]]
    assert np.isfinite(res.valid["duration_s"].to_numpy(dtype=float)).all()


@pytest.mark.parametrize("variant", [" r004-00000", "r004-00000 ", "R004-00000",
                                     "r004\u200b-00000", "\ufeffr004-00000",
                                     "\uff52004-00000"])
def test_ids_that_differ_only_in_form_are_the_same_respondent(text, variant):
    t = text.copy()
    assert t.loc[0, "response_id"] == "r004-00000"
    t.loc[5, "response_id"] = variant
    res = _run(t)
    q = res.quarantine
    assert q["line"].tolist() == [2, 7]
    assert q["response_id"].tolist() == ["r004-00000", variant]
    f = res.failures[res.failures["rule"] == "duplicate_response_id"]
    assert f["value"].tolist() == ["r004-00000", variant]  # the originals are kept
    assert "lines 2, 7" in f["message"].iloc[0]


def test_id_key_keeps_distinct_ids_distinct():
    import pandas as pd

    keys = id_key(pd.Series(["r1", "r2", "r-1", "r1a", "r 1"]))
    assert keys.nunique() == 5
