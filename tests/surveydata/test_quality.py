"""Data-quality screens and soft rules flag valid rows; they never reject."""
import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import validate
from surveydata.quality import speeders, straightlining
from tests.export_factory import to_text, valid_coded


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def text(inst):
    t = to_text(valid_coded(inst, 30, seed=21))
    t["duration_s"] = "900"
    t["practice_type"] = t["practice_type"].replace({"3": "1"})  # no psychotherapy rows ...
    t["practice_form"] = "2"  # ... and no single practices: no soft rule fires by chance
    likert = [i.var for i in inst.likert_items]
    for i in range(len(t)):  # break any accidental straight line
        t.loc[i, likert[0]] = "1"
        t.loc[i, likert[1]] = "5"
    return t


def _flags(inst, text):
    res = validate(text.assign(line=np.arange(2, len(text) + 2)), inst)
    assert res.report["n_quarantined"] == 0, res.quarantine["reasons"].tolist()
    return res


def test_no_flags_on_clean_rows(inst, text):
    assert len(_flags(inst, text).flags) == 0


def test_speeder_below_a_third_of_the_median(inst, text):
    t = text.copy()
    t.loc[4, "duration_s"] = "299"  # median 900: cut-off 300
    t.loc[5, "duration_s"] = "300"  # exactly a third is not a speeder
    res = _flags(inst, t)
    f = res.flags
    assert f[["line", "flag", "kind", "columns"]].values.tolist() == [
        [6, "speeder", "screen", "duration_s"]]
    assert res.report["flags_by_rule"] == {"speeder": 1}
    assert len(res.valid) == len(t)  # flagged, not rejected


def test_straightlining_over_likert_items(inst, text):
    t = text.copy()
    likert = [i.var for i in inst.likert_items]
    for v in likert:
        if t.loc[7, v] != "-7":
            t.loc[7, v] = "4"
    f = _flags(inst, t).flags
    assert f[["line", "flag"]].values.tolist() == [[9, "straightlining"]]
    assert f["columns"].iloc[0] == ",".join(likert)


def test_soft_rules_flag_implausible_combinations(inst, text):
    t = text.copy()
    t.loc[2, ["practice_type", "large_devices", "networked_med_devices"]] = ["3", "-7", "1"]
    t.loc[3, ["practice_form", "n_physicians", "n_persons_data"]] = ["1", "5", "9"]
    f = _flags(inst, t).flags
    assert f[["line", "flag", "kind"]].values.tolist() == [
        [4, "rule:psychotherapy_no_devices", "soft_rule"],
        [5, "rule:single_practice_few_physicians", "soft_rule"]]


def test_speeders_unit():
    assert speeders(pd.Series([900.0, 900, 900, 299, 300, None])).tolist() == [
        False, False, False, True, False, False]
    assert not speeders(pd.Series([None, None], dtype="float64")).any()


def test_straightlining_needs_enough_answered_items():
    frame = pd.DataFrame([[2, 2, 2, 2, 2, 2], [2, 2, 2, 2, -9, -7], [2, 2, 2, 2, 2, 3]])
    assert straightlining(frame).tolist() == [True, False, False]
    assert straightlining(frame, min_items=4).tolist() == [True, True, False]
