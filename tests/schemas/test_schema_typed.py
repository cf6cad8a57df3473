"""to_typed: the analysis frame keeps labels, nullable integers and why a value is missing."""

import doctest

import numpy as np
import pandas as pd
import pytest
from test_schema import INST, valid_frame

import schemas.typed
from schemas import MISSING_CATEGORIES, to_typed


@pytest.fixture(scope="module")
def typed():
    return to_typed(valid_frame(), INST, lang="en")


def test_layout(typed):
    cols = list(typed.columns)
    assert cols[:6] == [
        "response_id",
        "submitted_at",
        "duration_s",
        "practice_type",
        "practice_form",
        "federal_state",
    ]
    # required items have no missing column; items that can be missing have one right after
    assert "practice_type__missing" not in cols
    assert cols[cols.index("municipality_size") + 1] == "municipality_size__missing"
    assert cols[cols.index("info_needs__none") + 1] == "info_needs__missing"
    assert "comments__missing" not in cols
    value_cols = [c for c in cols if not c.endswith("__missing")]
    assert value_cols == list(INST.columns)


def test_labels_and_dtypes(typed):
    assert typed["practice_type"].tolist() == [
        "Dental / orthodontic",
        "Psychotherapy",
        "Specialist",
    ]
    assert typed["federal_state"].tolist() == ["Bavaria", "Saxony", "Berlin"]
    assert list(typed["practice_type"].cat.categories) == [
        "General practice (Hausarzt)",
        "Specialist",
        "Psychotherapy",
        "Dental / orthodontic",
        "Mixed (GP + specialist, e.g. MVZ)",
    ]
    assert not typed["practice_type"].cat.ordered
    assert typed["municipality_size"].cat.ordered  # marked ordered in the YAML
    assert typed["own_risk_high"].cat.ordered  # Likert
    assert typed["n_physicians"].dtype == "Int64"
    assert typed["info_needs__none"].dtype == "boolean"
    assert typed["comments"].dtype == "str"
    assert typed["duration_s"].tolist() == [812.5, 455.0, 1500.0]
    # 08:00 at +01:00 is 07:00 UTC; strings without offset are read as UTC
    assert typed["submitted_at"].dt.tz is not None
    assert str(typed["submitted_at"].iloc[1]) == "2026-03-03 07:00:00+00:00"


def test_missing_codes_become_na_with_their_reason(typed):
    # municipality_size: 3 answered, -8 don't know, 3
    assert typed["municipality_size"].isna().tolist() == [False, True, False]
    assert typed["municipality_size__missing"].tolist()[1] == "dont_know"
    assert list(typed["municipality_size__missing"].cat.categories) == list(MISSING_CATEGORIES)
    # large_devices: not asked for dental and psychotherapy practices
    assert typed["large_devices__missing"].tolist()[:2] == ["not_applicable", "not_applicable"]
    assert typed["large_devices"].tolist()[2] == "Yes"
    # integer with -9
    assert typed["n_workstations"].tolist() == [4, 1, pd.NA]
    assert typed["n_workstations__missing"].tolist()[2] == "no_answer"
    # resp_gender labels its own -9 ("prefer not to say"): still a non-answer
    assert pd.isna(typed["resp_gender"].iloc[2])
    assert typed["resp_gender__missing"].iloc[2] == "no_answer"


def test_multi_choice_booleans(typed):
    # dental: info_needs checklist+templates; psychotherapy: none; MVZ: no answer (-9)
    assert typed["info_needs__checklist"].tolist() == [True, False, pd.NA]
    assert typed["info_needs__none"].tolist() == [False, True, pd.NA]
    assert typed["info_needs__missing"].isna().tolist() == [True, True, False]
    assert typed["info_needs__missing"].iloc[2] == "no_answer"
    # incident_types: asked only for the psychotherapy practice
    assert typed["incident_types__malware"].tolist() == [pd.NA, True, pd.NA]
    assert typed["incident_types__missing"].tolist()[0] == "not_applicable"
    assert pd.isna(typed["incident_types__missing"].iloc[1])


def test_dont_know_as_category():
    t = to_typed(valid_frame(), INST, lang="de", dont_know="category")
    assert t["municipality_size"].tolist()[1] == "Weiß nicht"
    assert not t["municipality_size"].cat.ordered  # don't know is not a scale point
    assert t["municipality_size__missing"].tolist()[1] == "dont_know"
    assert list(t["tm_antivirus"].cat.categories) == [
        "Ja, vollständig",
        "Teilweise",
        "Nein",
        "Weiß nicht",
    ]
    # -9 stays missing
    assert pd.isna(t["n_workstations"].iloc[2])


def test_german_labels():
    t = to_typed(valid_frame(), INST, lang="de")
    assert t["practice_form"].tolist()[2] == "Medizinisches Versorgungszentrum (MVZ)"


def test_unknown_code_is_an_error_not_silent_na():
    frame = valid_frame()
    frame.loc[1, "practice_form"] = 9
    with pytest.raises(ValueError) as err:
        to_typed(frame, INST)
    assert str(err.value) == (
        "to_typed: column 'practice_form' holds 9 in row 1 (and 0 more), which is not one of its "
        "codes [-7, -8, -9, 1, 2, 3, 4]: validate first"
    )
    frame = valid_frame()
    frame.loc[0, "info_needs__hotline"] = 3
    with pytest.raises(ValueError, match="column 'info_needs__hotline' holds 3 in row 0"):
        to_typed(frame, INST)


def test_bad_arguments():
    with pytest.raises(ValueError, match="lang must be 'de' or 'en', got 'fr'"):
        to_typed(valid_frame(), INST, lang="fr")
    with pytest.raises(ValueError, match="dont_know must be 'missing' or 'category', got 'x'"):
        to_typed(valid_frame(), INST, dont_know="x")


def test_docstring_examples():
    result = doctest.testmod(schemas.typed)
    assert result.failed == 0 and result.attempted > 0


def test_scores_turn_labelled_ratings_into_their_codes_in_either_language():
    import schemas
    import surveydata

    inst = schemas.load_instrument()
    de, en = surveydata.load_demo(lang="de"), surveydata.load_demo(lang="en")
    a, b = schemas.scores(de, inst), schemas.scores(en, inst)
    pd.testing.assert_frame_equal(a, b)
    raw = surveydata.load_demo(raw=True).set_index("line")          # the same records by file line
    expected = pd.to_numeric(raw.loc[de["line"], "self_competence"]).where(lambda s: s > 0)
    np.testing.assert_array_equal(a["self_competence"].to_numpy(), expected.to_numpy(dtype=float))
