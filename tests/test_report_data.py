"""The data the report analyses: demo and exports validated, free text gone, design and weights."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import schemas
from schemas.populations import load_population_margins
from surveydata import reportdata
from surveydata.demo import demo_path
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
