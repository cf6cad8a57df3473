"""Design columns from the strata table: the base weight is N_h over the valid responses of h."""
import pandas as pd
import pytest

from surveydata.strata import attach_design


def _frames():
    raw = pd.DataFrame({"line": [2, 3, 4, 5], "practice_type": ["1", " 1", "3", "3"],
                        "federal_state": ["BY", "BY", "HB", "HB "]})
    strata = pd.DataFrame({"N_h": [100, 30]}, index=pd.Index(["1-BY", "3-HB"], name="stratum"))
    return raw, strata


def test_weights_are_frame_size_over_valid_responses_in_the_stratum():
    raw, strata = _frames()
    valid = pd.DataFrame({"line": [2, 3, 5]}, index=[10, 11, 12])   # line 4 was quarantined
    out = attach_design(valid, raw, strata, ["practice_type", "federal_state"])
    assert out["stratum"].tolist() == ["1-BY", "1-BY", "3-HB"]
    assert out["n_h"].tolist() == [2, 2, 1]
    assert out["w"].tolist() == [50.0, 50.0, 30.0]
    assert out.index.tolist() == [10, 11, 12]


def test_a_stratum_missing_from_the_table_is_named():
    raw, strata = _frames()
    with pytest.raises(ValueError, match=r"strata \['3-HB'\] of the data are not in the strata table"):
        attach_design(pd.DataFrame({"line": [4]}), raw, strata.iloc[:1], ["practice_type", "federal_state"])
