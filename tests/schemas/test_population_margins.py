"""Population margins: published figures (typed here from BRIEF section 3), exact sums, allocation."""
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.populations import (
    POPULATIONS_DIR,
    PopulationMarginsError,
    controlled_round,
    largest_remainder,
    load_population_margins,
)

# BRIEF section 3.1 (GBE-Bund/KBV 2022, KZBV 2024), typed independently of the YAML.
TYPE_TOTALS = {1: 34692, 2: 36311, 3: 28042, 4: 37423, 5: 4574 + 613}
FORM_TOTALS = {1: 111067, 2: 24503, 3: 6085}
STATE_SHARES = {"BW": 13.3, "BY": 15.7, "BE": 4.4, "BB": 3.0, "HB": 0.8, "HH": 2.2, "HE": 7.6, "MV": 2.0,
                "NI": 9.6, "NW": 21.6, "RP": 4.9, "SL": 1.2, "SN": 4.9, "ST": 2.7, "SH": 3.5, "TH": 2.6}


@pytest.fixture(scope="module")
def margins():
    return load_population_margins("de_practices")


def test_type_and_form_totals_are_the_published_figures(margins):
    assert margins["practice_type"].to_dict() == TYPE_TOTALS
    assert margins["practice_form"].to_dict() == FORM_TOTALS
    assert int(margins["practice_type"].sum()) == 141655
    assert margins["practice_form"].attrs["collapse_for_raking"] == {4: 1}


def test_every_margin_has_source_year_and_basis(margins):
    for key, m in margins.items():
        assert m.attrs["source"], key
        assert m.attrs["basis"] in {"published", "proxy", "allocation"}, key
    assert margins["federal_state"].attrs["basis"] == "proxy"
    assert margins["federal_state"].attrs["year"] == 2018
    assert margins["practice_type"].attrs["year"] == [2022, 2024]


def test_state_counts_follow_the_shares_within_rounding(margins):
    n = margins["federal_state"]
    assert int(n.sum()) == 141655
    expected = {s: 141655 * p / 100 for s, p in STATE_SHARES.items()}
    for s, e in expected.items():
        assert abs(n[s] - e) < 1, (s, n[s], e)


def test_cross_tables_reproduce_every_margin_exactly(margins):
    ts = margins["practice_type_x_federal_state"]
    assert ts.groupby(level="practice_type").sum().to_dict() == TYPE_TOTALS
    assert ts.groupby(level="federal_state", sort=False).sum().equals(margins["federal_state"])
    tfs = margins["practice_type_x_form_x_federal_state"]
    assert tfs.groupby(level=["practice_type", "federal_state"], sort=False).sum().equals(ts)
    assert tfs.groupby(level=["practice_type", "practice_form"]).sum().equals(margins["practice_type_x_form"])
    assert (tfs >= 0).all() and (ts > 0).all()
    # Independence allocation: each stratum within 2 practices of N_t * N_s / N.
    expected = np.outer(list(TYPE_TOTALS.values()), margins["federal_state"].to_numpy()) / 141655
    assert np.abs(ts.to_numpy().reshape(5, 16) - expected).max() < 2


def test_inconsistent_file_is_rejected_with_file_and_values(tmp_path):
    spec = yaml.safe_load((POPULATIONS_DIR / "de_practices.yaml").read_text(encoding="utf-8"))
    spec["practice_type"]["published_totals"][3]["n"] = 28000
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PopulationMarginsError, match=r"bad\.yaml.*practice_type.*28000"):
        load_population_margins(path=bad)
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_population_margins("nope")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=6),
       st.lists(st.floats(0.05, 1.0), min_size=1, max_size=8))
def test_controlled_round_keeps_margins(rows, col_weights):
    rows = np.array(rows)
    cols = largest_remainder(int(rows.sum()), np.array(col_weights))
    x = np.outer(rows, cols) / rows.sum()
    try:
        y = controlled_round(x, rows, cols)
    except PopulationMarginsError as err:  # only allowed for genuinely sparse tables
        assert "negative" in str(err) and x.min() < 2
        return
    assert np.array_equal(y.sum(axis=1), rows) and np.array_equal(y.sum(axis=0), cols)
    assert np.abs(y - x).max() < 2


def test_largest_remainder_sums_exactly():
    assert largest_remainder(7, np.array([1.0, 1.0, 1.0])).tolist() == [3, 2, 2]
    assert largest_remainder(141655, np.array(list(STATE_SHARES.values()))).sum() == 141655
