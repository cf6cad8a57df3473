"""Presentation helpers for report tables: rounding, CI text, labels, suppression of small cells."""
import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import tables
from surveydata.disclosure import MARKER


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


EST = pd.DataFrame({"estimate": [0.31249, 0.1, np.nan], "se": [0.01, 0.02, np.nan],
                    "ci_low": [0.29304, 0.0649, np.nan], "ci_high": [0.33216, 0.15, np.nan]},
                   index=["fully", "incident", "none"])


def test_ci_table_formats_percentages_and_labels_columns():
    out = tables.ci_table(EST, lang="en")
    assert out.columns.tolist() == ["Share (%)", "95% confidence interval"]
    assert out.loc["fully"].tolist() == ["31.2", "29.3–33.2"]
    assert out.loc["incident"].tolist() == ["10.0", "6.5–15.0"]
    assert out.loc["none"].tolist() == ["", ""]
    de = tables.ci_table(EST, lang="de", percent=False, digits=3)
    assert de.columns.tolist() == ["Schätzwert", "95%-Konfidenzintervall"]
    assert de.loc["fully"].tolist() == ["0.312", "0.293–0.332"]


def test_ci_table_suppresses_rows_of_fewer_than_k_respondents():
    n = pd.Series({"fully": 400, "incident": 4, "none": 0})
    out = tables.ci_table(EST, lang="en", n=n, k=5)
    assert out.loc["fully"].tolist() == ["31.2", "29.3–33.2", "400"]
    assert out.loc["incident"].tolist() == [MARKER] * 3
    with pytest.raises(ValueError, match="no respondent count"):
        tables.ci_table(EST, n=pd.Series({"fully": 1}))


def test_wide_table_puts_domains_in_columns_and_masks_small_cells():
    idx = pd.MultiIndex.from_tuples([("GP", "a"), ("GP", "b"), ("PT", "a"), ("PT", "b")],
                                    names=["type", "measure"])
    est = pd.DataFrame({"estimate": [0.5, 0.25, 0.125, 0.75], "ci_low": [0.4, 0.2, 0.1, 0.7],
                        "ci_high": [0.6, 0.3, 0.15, 0.8]}, index=idx)
    n = pd.Series([40, 40, 3, 3], index=idx)
    out = tables.wide(est, "type", n=n)
    assert out.columns.tolist() == ["GP", "PT"]
    assert out.loc["a", "GP"] == "50.0 (40.0–60.0)"
    assert out.loc["b", "PT"] == MARKER


def test_label_index_uses_the_instrument_labels(inst):
    frame = pd.DataFrame({"estimate": [0.1, 0.2]},
                         index=pd.MultiIndex.from_tuples([("incident_12m", 1), ("incident_12m", -8)],
                                                         names=["variable", "level"]))
    out = tables.label_index(frame, inst, "de", variables={"incident_12m": "Vorfall (12 Monate)"})
    assert out.index.tolist() == [("Vorfall (12 Monate)", inst.item("incident_12m").label(1, "de")),
                                  ("Vorfall (12 Monate)", "Weiß nicht")]
    by_type = pd.DataFrame({"x": [1]}, index=pd.Index([4], name="practice_type"))
    assert tables.label_index(by_type, inst, "en").index.tolist() == ["Dental / orthodontic"]
    other = pd.DataFrame({"x": [1]}, index=pd.Index(["s1"], name="stratum"))
    assert tables.label_index(other, inst, "en").index.tolist() == ["s1"]
