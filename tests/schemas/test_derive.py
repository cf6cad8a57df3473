"""Derived variables of the practice instrument, computed by the declaration engine from its
`compute:` entries, each checked against values computed by hand from the definitions.
(The values on the whole demo are compared with the frozen output of the former Python
functions in test_derive_frozen.py.)"""

import doctest
import math

import numpy as np
import pandas as pd
import pytest
from test_schema import INST, valid_frame

import schemas
import schemas.derived
from schemas.derived import compile_entries, derive

TECH_ITEMS = tuple(INST.derived_variable("tech_index").extra["compute"]["count"])


def one(raw, var):
    """The instrument's derived variable `var` alone (computing only what it reads)."""
    return derive(raw, INST, variables=[var])[var]


def kbv_size_class(raw):
    return one(raw, "kbv_size_class")


def tech_index(raw):
    return derive(raw, INST, variables=["tech_index", "n_applicable", "tech_share"])


def org_index(raw):
    return one(raw, "org_index")


def info_index(raw, inst):
    return one(raw, "info_index")


def risk_gap(raw):
    return one(raw, "risk_gap")


def east_west(raw, berlin=None):
    if berlin is None:
        return one(raw, "east_west")
    # another Berlin convention is another declaration
    east = {s: "east" for s in ("BB", "MV", "SN", "ST", "TH")}
    entry = {"var": "ew", "type": "single",
             "compute": {"recode": "federal_state", "map": {**east, "BE": berlin}, "other": "west"}}
    return derive(raw, (INST, compile_entries([entry], INST)))["ew"]


def test_kbv_size_class_thresholds():
    raw = pd.DataFrame(
        {
            "n_persons_data": [1, 5, 6, 20, 21, 3, -9, -9, 12],
            "large_devices": [-7, -7, 2, -7, -7, 1, 1, 2, -9],
        }
    )
    # 1-5 small, 6-20 medium, >20 large; large devices make any practice large;
    # without n_persons_data the class is unknown unless large devices decide it
    assert kbv_size_class(raw).tolist() == [1, 1, 2, 2, 3, 3, 3, pd.NA, 2]


def test_tech_index_counts_fully_and_applicable():
    rows = [
        # all 12 answered: 1,1,1,2,3,1,-8,1,3,2,1,1 -> seven "fully", 12 applicable
        [1, 1, 1, 2, 3, 1, -8, 1, 3, 2, 1, 1],
        # no backup plan: the two backup sub-items and the lock code are skipped (-7)
        [1, 2, 3, -7, -7, 1, 3, 3, 3, 3, 3, -7],
        # -9 leaves the denominator: 1 fully out of 10 answered
        [-9, -9, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3],
        # nothing applicable
        [-9, -9, 3, -7, -7, -9, -9, -9, -9, -9, -9, -7],
    ]
    raw = pd.DataFrame(rows, columns=TECH_ITEMS).astype("Int64")
    out = tech_index(raw)
    assert out["tech_index"].tolist() == [7, 2, 1, 0]
    assert out["n_applicable"].tolist() == [12, 9, 10, 1]
    assert out["tech_share"].tolist()[:3] == [7 / 12, 2 / 9, 1 / 10]
    assert out["tech_share"].iloc[3] == 0.0
    raw.iloc[3, 2] = -9
    out = tech_index(raw)
    assert out["tech_index"].isna().iloc[3] and out["n_applicable"].isna().iloc[3]
    assert math.isnan(out["tech_share"].iloc[3])


def test_org_index():
    raw = pd.DataFrame(
        {
            "it_security_responsible": [1, 2, 3, -8, 1, 1],
            "training_12m": [1, 1, 2, 1, 3, 1],
            "emergency_plan": [1, 2, 1, 1, -8, 1],
            "guideline_awareness": [1, 1, 2, 3, 1, -9],
        }
    )
    assert org_index(raw).tolist() == [4, 3, 1, 2, 2, pd.NA]


def test_info_index_by_hand():
    cols = INST.multi_columns("info_sources")  # 9 sources, then 'none'
    ticks = [
        [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],  # 2 sources
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],  # 4 sources
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],  # 'none' -> 0 sources
        [-9] * 10,  # no answer -> index NA
    ]
    raw = pd.DataFrame(ticks, columns=cols).astype("Int64")
    raw["info_sufficient"] = [2, 4, 3, 5]
    raw["guideline_awareness"] = [1, 2, 3, 1]  # reversed: 3, 2, 1
    raw["self_competence"] = [1, 5, 3, 2]
    out = info_index(raw, INST)
    # components over the rows where each is valid:
    #   sources 2, 4, 0 (row 3 missing): mean 2, sd 2        -> z 0, 1, -1
    #   sufficient 2, 4, 3, 5: mean 3.5, sd sqrt(5/3)        -> z -1.5/s, .5/s, -.5/s, 1.5/s
    #   awareness reversed 3, 2, 1, 3: mean 2.25, sd sqrt(11/12)
    #   competence 1, 5, 3, 2: mean 2.75, sd sqrt(35/12)
    s1, s2, s3 = math.sqrt(5 / 3), math.sqrt(11 / 12), math.sqrt(35 / 12)
    expected = [
        (0 + (2 - 3.5) / s1 + (3 - 2.25) / s2 + (1 - 2.75) / s3) / 4,
        (1 + (4 - 3.5) / s1 + (2 - 2.25) / s2 + (5 - 2.75) / s3) / 4,
        (-1 + (3 - 3.5) / s1 + (1 - 2.25) / s2 + (3 - 2.75) / s3) / 4,
    ]
    np.testing.assert_allclose(out.iloc[:3].to_numpy(), expected, rtol=1e-12)
    assert np.isnan(out.iloc[3])


def test_info_index_missing_component_and_constant_component():
    cols = INST.multi_columns("info_sources")
    raw = pd.DataFrame([[1] + [0] * 9, [1, 1] + [0] * 8, [1] + [0] * 9], columns=cols)
    raw["info_sufficient"] = [3, 3, -9]
    raw["guideline_awareness"] = [1, 3, 1]
    raw["self_competence"] = [4, 2, 4]
    out = info_index(raw, INST)
    # sufficient is constant (3, 3) -> contributes 0; sources 1, 2 (row 2 valid too: 1)
    # sources 1, 2, 1: mean 4/3, sd sqrt(1/3); awareness rev 3, 1, 3: mean 7/3, sd sqrt(4/3)
    # competence 4, 2, 4: mean 10/3, sd sqrt(4/3)
    a, b = math.sqrt(1 / 3), math.sqrt(4 / 3)
    row0 = ((1 - 4 / 3) / a + 0 + (3 - 7 / 3) / b + (4 - 10 / 3) / b) / 4
    row1 = ((2 - 4 / 3) / a + 0 + (1 - 7 / 3) / b + (2 - 10 / 3) / b) / 4
    np.testing.assert_allclose(out.iloc[:2].to_numpy(), [row0, row1], rtol=1e-12)
    assert np.isnan(out.iloc[2])  # info_sufficient -9


def test_risk_gap():
    raw = pd.DataFrame({"general_risk_high": [5, 1, 3, -9, 4], "own_risk_high": [1, 5, 3, 2, -8]})
    assert risk_gap(raw).tolist() == [4, -4, 0, pd.NA, pd.NA]


def test_east_west():
    raw = pd.DataFrame({"federal_state": ["BB", "MV", "SN", "ST", "TH", "BE", "NW", "SH"]})
    assert east_west(raw).tolist() == ["east"] * 5 + ["berlin", "west", "west"]
    assert east_west(raw, berlin="west").tolist()[5] == "west"
    with pytest.raises(schemas.DerivedError, match="'XX' is not a code of 'federal_state'"):
        compile_entries([{"var": "ew", "compute": {"recode": "federal_state",
                                                   "map": {"XX": "east"}}}], INST)


def test_derive_on_the_hand_made_respondents():
    frame = valid_frame()
    out = derive(frame, INST)
    assert out.index.tolist() == [0, 1, 2]
    # dental (5 persons), psychotherapy (1), MVZ with 40 persons and large devices
    assert out["kbv_size_class"].tolist() == [1, 1, 3]
    # dental: antivirus, backup plan, offline backup, accounts, admin rights, lock code = 6 of 12;
    # psychotherapy: no backup plan and no mobiles -> 3 of 9; MVZ: dental with tm_mfa -9 -> 6 of 11
    assert out["tech_index"].tolist() == [6, 3, 6]
    assert out["n_applicable"].tolist() == [12, 9, 11]
    assert out["tech_share"].tolist() == [0.5, 1 / 3, 6 / 11]
    assert out["org_index"].tolist() == [3, 1, 2]
    assert out["risk_gap"].tolist() == [2, 2, 2]
    assert out["east_west"].tolist() == ["west", "east", "berlin"]
    # info_index: MVZ has info_sources -9 -> NA (but its awareness still enters that z-score).
    # sources 2, 0: z +-1/sqrt(2); sufficient 4, 4 and competence 3, 3, 3 constant: 0;
    # awareness reversed 3, 1, 3: mean 7/3, sd sqrt(4/3)
    r, sd = 1 / math.sqrt(2), math.sqrt(4 / 3)
    expected = [(r + (3 - 7 / 3) / sd) / 4, (-r + (1 - 7 / 3) / sd) / 4]
    np.testing.assert_allclose(out["info_index"].iloc[:2], expected, rtol=1e-12)
    assert np.isnan(out["info_index"].iloc[2])


def test_derive_with_labels():
    out = derive(valid_frame(), INST, lang="de")
    assert out["kbv_size_class"].cat.ordered
    assert out["kbv_size_class"].tolist()[0] == "Praxis (≤5)"
    assert out["east_west"].tolist() == ["West", "Ost", "Berlin"]


def test_docstring_examples():
    result = doctest.testmod(schemas.derived)
    assert result.failed == 0 and result.attempted > 0
