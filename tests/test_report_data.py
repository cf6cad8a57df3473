"""The data the report analyses: demo and exports validated, free text gone, design and weights."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

import schemas
from schemas.populations import load_population_margins
from surveydata import reportdata
from surveydata.demo import demo_path, load_demo_truth
from tests import export_factory


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def demo():
    return reportdata.load_data(lang="en")


@pytest.fixture(scope="module")
def weights(demo):
    return reportdata.weighting(demo)


def test_demo_loses_no_row_and_keeps_no_free_text(demo):
    raw = pd.read_csv(demo_path(), sep=";", encoding="cp1252", dtype=str)
    assert demo.n_raw == len(raw) == len(demo.valid) + len(demo.quarantine)
    assert len(demo.quarantine) > 0  # the demo has planted errors
    assert "comments" not in demo.valid.columns
    assert "reasons" not in demo.quarantine.columns
    texts = set(raw["comments"].dropna())
    assert texts, "the demo export has comments"
    assert not texts & set(demo.failures["value"].astype(str))
    assert demo.source["kind"] == "demo" and len(demo.source["sha256"]) == 64


def test_demo_labels_follow_the_language(demo, inst):
    assert demo.valid["practice_type"].cat.categories[1] == inst.item("practice_type").label(2, "en")
    de = reportdata.load_data(lang="de")
    assert de.valid["practice_type"].cat.categories[1] == inst.item("practice_type").label(2, "de")


def test_design_columns_reproduce_the_strata(demo):
    v = demo.valid
    assert v["stratum"].nunique() == 80
    by = v.groupby("stratum")
    np.testing.assert_allclose(by["w"].sum().to_numpy(), by["N_h"].first().to_numpy(), rtol=1e-12)
    assert v["w"].sum() == pytest.approx(141655, rel=1e-12)
    strata = pd.read_csv(demo_path("strata.csv"), dtype={"stratum": str}).set_index("stratum")
    assert demo.strata["n_invited"].equals(strata["n_invited"])
    assert demo.strata["n_valid"].sum() == len(v)


def test_raking_meets_the_population_margins_and_trimming_keeps_the_total(weights):
    m = load_population_margins()
    data = weights.raked.data
    w = weights.raked.weights
    got = pd.Series(w).groupby([data["rake_practice_type"].to_numpy(),
                                data["rake_practice_form"].to_numpy()]).sum()
    want = m["practice_type_x_form"]
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-6)
    got_state = pd.Series(w).groupby(data["rake_federal_state"].to_numpy()).sum()
    np.testing.assert_allclose(got_state.loc[m["federal_state"].index].to_numpy(),
                               m["federal_state"].to_numpy(), rtol=1e-6)
    lo, hi = weights.bounds
    wf = weights.final.weights
    assert wf.sum() == pytest.approx(w.sum(), rel=1e-10)
    assert wf.min() >= lo - 1e-9 and wf.max() <= hi + 1e-6
    assert (lo, hi) == pytest.approx(tuple(np.quantile(w, reportdata.TRIM_QUANTILES)), rel=1e-12)


def test_indicators_are_one_for_the_wanted_codes_and_missing_without_answer(demo, inst):
    out = reportdata.indicators(demo.valid, inst, "en", {"inc": ("incident_12m", [1])})
    yes = demo.valid["incident_12m"] == inst.item("incident_12m").label(1, "en")
    assert (out.loc[yes.fillna(False), "inc"] == 1).all()
    assert out["inc"].isna().sum() == demo.valid["incident_12m"].isna().sum()
    assert set(out["inc"].dropna()) == {0.0, 1.0}


def test_export_uses_a_strata_file_beside_it_or_the_population_frame(tmp_path, inst):
    export = tmp_path / "export.csv"
    export_factory.write_export(export, inst, n=40, seed=5)
    rd = reportdata.load_data(export, lang="de")
    assert rd.source["strata"] == "population margins"
    assert rd.valid["N_h"].max() <= 30000 and "n_invited" not in rd.strata
    strata = reportdata.population_strata().assign(n_invited=50)
    strata.to_csv(tmp_path / "strata.csv")
    rd = reportdata.load_data(export, lang="de")
    assert rd.source["strata"] == "strata.csv" and (rd.strata["n_invited"] == 50).all()


def test_an_unknown_stratum_is_named(tmp_path, inst):
    export = tmp_path / "export.csv"
    export_factory.write_export(export, inst, n=30, seed=6)
    pd.DataFrame({"stratum": ["9-XX"], "N_h": [10]}).to_csv(tmp_path / "strata.csv", index=False)
    with pytest.raises(reportdata.ReportDataError, match=r"strata \['\d-[A-Z]{2}'"):
        reportdata.load_data(export)


def test_bundle_round_trip_and_language_check(tmp_path, demo):
    reportdata.save_bundle(demo, tmp_path / "b")
    back = reportdata.load_data(tmp_path / "b", lang="en")
    pd.testing.assert_frame_equal(back.valid, demo.valid)
    assert back.report == demo.report and back.source == demo.source
    with pytest.raises(reportdata.ReportDataError, match="labelled in 'en'"):
        reportdata.load_data(tmp_path / "b", lang="de")
    with pytest.raises(reportdata.ReportDataError, match="no reportdata.json"):
        reportdata.load_data(tmp_path, lang="en")


def test_codes_refuses_labels_of_another_language(inst):
    with pytest.raises(reportdata.ReportDataError, match="not en labels"):
        reportdata.codes(pd.Series(["Fachärztlich"]), inst, "practice_type", "en")


# ---------------------------------------------------------------------------------------------
# summaries and prevalences, each against an independent computation or the demo's known truth

def test_quarantine_reasons_match_the_errors_planted_in_the_demo(demo):
    planted = load_demo_truth()["planted_errors"].values()
    kinds = Counter(p["kind"] for p in planted)
    got = reportdata.quarantine_by_reason(demo)
    assert got["invalid_code"] == kinds["invalid_code"]
    assert got["skip_logic"] == kinds["skip_logic"]
    assert got["invalid_number"] == kinds["bad_integer"]
    # an exact copy quarantines the copy; a reused response_id quarantines both records
    assert got["duplicates"] == kinds["duplicate_row"] + 2 * kinds["duplicate_response_id"]
    assert got.sum() == len(demo.quarantine)


def test_item_nonresponse_counts_the_raw_missing_codes(demo):
    raw = pd.read_csv(demo_path(), sep=";", encoding="cp1252", dtype=str)
    raw["line"] = np.arange(2, len(raw) + 2)  # one record per line in the demo export
    valid = raw[raw["line"].isin(demo.valid["line"])]
    got = reportdata.item_nonresponse(demo).loc["incident_12m"]
    assert got["dont_know"] == (valid["incident_12m"].str.strip() == "-8").sum()
    assert got["no_answer"] == (valid["incident_12m"].str.strip() == "-9").sum()
    assert got["asked"] == len(valid)  # asked of everyone
    lock = reportdata.item_nonresponse(demo).loc["tm_mobile_lockcode"]
    assert lock["asked"] == (valid["tm_mobile_lockcode"].str.strip() != "-7").sum()


def test_response_rates_add_up_the_strata(demo, inst):
    strata = pd.read_csv(demo_path("strata.csv"), dtype={"stratum": str})
    rates = reportdata.response_rates(demo, "practice_type")
    assert rates["n_invited"].sum() == strata["n_invited"].sum()
    assert rates["n_valid"].sum() == len(demo.valid)
    gp = inst.item("practice_type").label(1, "en")
    assert rates.loc[gp, "n_invited"] == strata.loc[strata["stratum"].str.startswith("1-"), "n_invited"].sum()
    assert rates.loc[gp, "rate"] == pytest.approx(rates.loc[gp, "n_valid"] / rates.loc[gp, "n_invited"])


def test_composition_after_raking_equals_the_population(weights, demo):
    comp = reportdata.composition(weights, demo, "practice_type")
    m = load_population_margins()["practice_type"]
    np.testing.assert_allclose(comp["population"].to_numpy(), (m / m.sum()).to_numpy(), rtol=1e-12)
    # final weights are raked and then trimmed: the margins move by less than half a point
    np.testing.assert_allclose(comp["weighted"].to_numpy(), comp["population"].to_numpy(), atol=0.005)
    counts = demo.valid["practice_type"].value_counts(normalize=True)
    np.testing.assert_allclose(comp["sample"].to_numpy(), counts.loc[comp.index].to_numpy(), rtol=1e-12)


def test_prevalence_is_the_weighted_share_among_those_who_answered(weights):
    d = weights.final
    table = reportdata.prevalence(d, ["incident_12m_yes", "tm_mobile_lockcode_full"])
    w = d.weights
    for var in ["incident_12m_yes", "tm_mobile_lockcode_full"]:
        y = d.data[var].to_numpy(dtype=float)
        ok = ~np.isnan(y)
        assert table.loc[var, "estimate"] == pytest.approx(np.sum(w[ok] * y[ok]) / np.sum(w[ok]), rel=1e-12)
        assert table.loc[var, "n"] == ok.sum() and table.loc[var, "n_yes"] == (y == 1).sum()
    # each variable on its own rows: another variable's gaps do not change it
    alone = reportdata.prevalence(d, ["incident_12m_yes"])
    assert alone.loc["incident_12m_yes", "se"] == table.loc["incident_12m_yes", "se"]


def test_prevalence_by_domain_and_small_cells(weights):
    d = weights.final
    table = reportdata.prevalence(d, ["incident_12m_yes"], by="kbv_size_class")
    data, w = d.data, d.weights
    for (size, var), row in table.iterrows():
        rows = (data["kbv_size_class"] == size).to_numpy() & data[var].notna().to_numpy()
        y = data[var].to_numpy(dtype=float)[rows]
        assert row["estimate"] == pytest.approx(np.sum(w[rows] * y) / np.sum(w[rows]), rel=1e-12)
        assert row["n"] == rows.sum()
    fake = pd.DataFrame({"n": [3, 50, 50, 50], "n_yes": [1, 2, 0, 48], "n_no": [2, 48, 50, 2]})
    assert reportdata.too_few(fake, 5).tolist() == [True, True, False, True]
