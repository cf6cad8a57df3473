"""The data the report analyses: demo and exports validated, free text gone, design, derived
variables and weights all taken from the study declaration."""
from __future__ import annotations

import pickle
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import schemas
from schemas.populations import load_population_margins
from surveydata.demo import demo_path, load_demo_truth
from surveydata.report import data as reportdata
from tests import export_factory

MODULES = [Path(reportdata.__file__), Path(reportdata.__file__).parents[1] / "strata.py",
           Path(reportdata.__file__).parents[1] / "demo.py",
           Path(reportdata.__file__).with_name("findings.py"),
           Path(reportdata.__file__).with_name("pages.py"),
           Path(reportdata.__file__).with_name("dates.py"),
           Path(reportdata.__file__).with_name("i18n.py"),
           Path(reportdata.__file__).with_name("labels.py")]


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def demo():
    return reportdata.load_data(lang="en")


@pytest.fixture(scope="module")
def weights(demo):
    return reportdata.weighting(demo)


def test_no_report_module_names_a_variable_of_the_practice_study(inst):
    """The study is declared, not coded: none of the practice instrument's items or the practice
    study's derived variables is named in the report's modules."""
    study = schemas.load_study()
    names = {i.var for i in inst.items} | {d.var for d in study.derived}
    names -= {"line", "response_id"}
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        named = sorted(n for n in names if f'"{n}"' in text or f"'{n}'" in text)
        assert not named, f"{path.name} names {named}"


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
    assert demo.weighted and demo.source["weighted"]


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
    # the practice study collapses practice form 4 (Praxisgemeinschaft) into 1 for raking
    form = pd.to_numeric(data["rake__practice_form"])
    assert 4 not in set(form)
    got = pd.Series(w).groupby([data["rake__practice_type"].to_numpy(), form.to_numpy()]).sum()
    want = m["practice_type_x_form"]
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-6)
    got_state = pd.Series(w).groupby(data["rake__federal_state"].to_numpy()).sum()
    np.testing.assert_allclose(got_state.loc[m["federal_state"].index].to_numpy(),
                               m["federal_state"].to_numpy(), rtol=1e-6)
    lo, hi = weights.bounds
    wf = weights.final.weights
    assert wf.sum() == pytest.approx(w.sum(), rel=1e-10)
    assert wf.min() >= lo - 1e-9 and wf.max() <= hi + 1e-6
    assert (lo, hi) == pytest.approx(tuple(np.quantile(w, (0.01, 0.99))), rel=1e-12)


def test_the_study_outcomes_are_the_old_indicators_computed_from_the_raw_codes(demo):
    """Derived variables from the declaration equal the report's former definitions (1 where the
    answer is the listed code, 0 for another answer, missing for don't know / no answer /
    not asked), computed here from the raw export text."""
    raw = pd.read_csv(demo_path(), sep=";", encoding="cp1252", dtype=str)
    raw["line"] = np.arange(2, len(raw) + 2)
    rows = raw.set_index("line").loc[demo.valid["line"].to_numpy()]
    frame = reportdata.analysis_frame(demo)
    for var, item, yes in [("guideline_full", "guideline_implementation", {1}),
                           ("incident_12m_yes", "incident_12m", {1}),
                           ("it_responsible", "it_security_responsible", {1, 2}),
                           ("tm_mfa_full", "tm_mfa", {1})]:
        code = pd.to_numeric(rows[item].str.strip()).to_numpy()
        want = np.where(code < 0, np.nan, np.isin(code, list(yes)).astype(float))
        np.testing.assert_array_equal(frame[var].to_numpy(dtype=float), want, err_msg=var)


def test_export_uses_a_strata_file_beside_it_or_the_population_frame(tmp_path, inst):
    export = tmp_path / "export.csv"
    export_factory.write_export(export, inst, n=40, seed=5)
    rd = reportdata.load_data(export, lang="de")
    assert rd.source["strata"] == "population margins"
    assert rd.valid["N_h"].max() <= 30000 and "n_invited" not in rd.strata
    strata = reportdata.population_strata().assign(n_invited=50)
    assert strata["N_h"].sum() == 141655
    strata.to_csv(tmp_path / "strata.csv")
    rd = reportdata.load_data(export, lang="de")
    assert rd.source["strata"] == "strata.csv" and (rd.strata["n_invited"] == 50).all()


def test_an_unknown_stratum_is_named(tmp_path, inst):
    export = tmp_path / "export.csv"
    export_factory.write_export(export, inst, n=30, seed=6)
    pd.DataFrame({"stratum": ["9-XX"], "N_h": [10]}).to_csv(tmp_path / "strata.csv", index=False)
    with pytest.raises(reportdata.ReportDataError, match=r"strata \['\d-[A-Z]{2}'"):
        reportdata.load_data(export)


def test_bundle_round_trip_is_parquet_and_json_and_checks_language(tmp_path, demo):
    reportdata.save_bundle(demo, tmp_path / "b")
    written = sorted(p.suffix for p in (tmp_path / "b").iterdir())
    assert set(written) == {".json", ".parquet"}
    back = reportdata.load_data(tmp_path / "b", lang="en")
    pd.testing.assert_frame_equal(back.valid, demo.valid)
    pd.testing.assert_frame_equal(back.derived, demo.derived)
    pd.testing.assert_frame_equal(back.strata, demo.strata)
    assert back.report == demo.report and back.source == demo.source
    with pytest.raises(reportdata.ReportDataError, match="labelled in 'en'"):
        reportdata.load_data(tmp_path / "b", lang="de")
    with pytest.raises(reportdata.ReportDataError, match="no reportdata.json"):
        reportdata.load_data(tmp_path, lang="en")


class _Planted:
    """Unpickling this object would create a file: the proof that a pickle was executed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_pickle_in_a_bundle_is_never_loaded(tmp_path, demo):
    witness = tmp_path / "executed"
    bundle = reportdata.save_bundle(demo, tmp_path / "b")
    for name in ("valid", "derived", "quarantine", "failures", "flags", "strata"):
        (bundle / f"{name}.pkl").write_bytes(pickle.dumps(_Planted(witness)))
    back = reportdata.load_data(bundle, lang="en")      # the Parquet files are read
    assert len(back.valid) == len(demo.valid) and not witness.exists()
    (bundle / "valid.parquet").unlink()                 # a pickle does not stand in for Parquet
    with pytest.raises(reportdata.ReportDataError, match="lacks valid.parquet"):
        reportdata.load_data(bundle, lang="en")
    assert not witness.exists()


# ---------------------------------------------------------------------------------------------
# summaries and estimates, each against an independent computation or the demo's known truth

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


def test_response_rates_by_every_strata_variable_add_up_the_strata(demo, inst):
    strata = pd.read_csv(demo_path("strata.csv"), dtype={"stratum": str})
    assert reportdata.strata_variables(demo) == ["practice_type", "federal_state"]
    for var in reportdata.strata_variables(demo):
        rates = reportdata.response_rates(demo, var)
        assert rates["n_invited"].sum() == strata["n_invited"].sum()
        assert rates["n_valid"].sum() == len(demo.valid)
    rates = reportdata.response_rates(demo, "practice_type")
    gp = inst.item("practice_type").label(1, "en")
    assert rates.loc[gp, "n_invited"] == strata.loc[strata["stratum"].str.startswith("1-"), "n_invited"].sum()
    assert rates.loc[gp, "rate"] == pytest.approx(rates.loc[gp, "n_valid"] / rates.loc[gp, "n_invited"])
    assert reportdata.response_rate(demo) == pytest.approx(len(demo.valid) / strata["n_invited"].sum())
    with pytest.raises(reportdata.ReportDataError, match="strata variable"):
        reportdata.response_rates(demo, "practice_form")


def test_composition_after_raking_equals_the_population(weights, demo):
    assert reportdata.raking_variables(demo) == ["practice_type", "practice_form", "federal_state"]
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


def test_the_published_headline_is_unchanged(weights):
    """Issue 14's example finding: 36.7 % (95 % CI 33.5-39.9) fully implement the guideline, n = 1,142."""
    row = reportdata.prevalence(weights.final, ["guideline_full"]).loc["guideline_full"]
    assert (round(100 * row["estimate"], 1), round(100 * row["ci_low"], 1),
            round(100 * row["ci_high"], 1), row["n"]) == (36.7, 33.5, 39.9, 1142)


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
    assert reportdata.too_few(fake, 5, binary=False).tolist() == [True, False, False, False]


def test_the_planned_models_come_from_the_study(demo):
    study = schemas.load_study()
    models = reportdata.models(demo)
    assert [m.name for m in models] == [m.name for m in study.analysis.models]
    assert all(m.formula == s.formula for m, s in zip(models, study.analysis.models))
    assert reportdata.blocks(demo) == {k: list(v) for k, v in study.analysis.blocks.items()}


def test_the_practice_report_has_the_generic_pages_and_its_extra_page():
    names = [p.name for p in reportdata.study_notebooks()]
    assert names[:4] == ["01_data_quality.ipynb", "02_sample_weighting.ipynb", "03_estimates.ipynb",
                         "04_models.ipynb"]
    assert "05_information_vs_equipment.ipynb" in names


# ---------------------------------------------------------------------------------------------
# an instrument alone: unweighted, labelled, never a crash

OWN_INSTRUMENT = """\
instrument: {name: staff_check, version: "0.1"}
meta: {title_de: "Kurzbefragung", title_en: "Short survey"}
missing_codes:
  -7: {name: not_applicable, label_de: "Trifft nicht zu", label_en: "Not applicable"}
  -8: {name: dont_know, label_de: "Weiß nicht", label_en: "Don't know"}
  -9: {name: no_answer, label_de: "Keine Angabe", label_en: "No answer"}
sections:
  A: {title_de: "Team", title_en: "Team"}
metadata:
  - {var: response_id, type: id, text_de: "Kennung", text_en: "Identifier"}
  - {var: submitted_at, type: datetime, text_de: "Zeitpunkt", text_en: "Submitted"}
  - {var: duration_s, type: number, text_de: "Dauer", text_en: "Duration", validation: {min: 0}}
items:
  - var: team_size
    section: A
    type: integer
    text_de: "Wie viele Personen arbeiten im Team?"
    text_en: "How many people work in the team?"
    missing: [-9]
    validation: {min: 1, max: 50}
  - var: satisfied
    section: A
    type: single
    text_de: "Sind Sie zufrieden?"
    text_en: "Are you satisfied?"
    missing: [-9]
    codes:
      1: {label_de: "Ja", label_en: "Yes"}
      2: {label_de: "Nein", label_en: "No"}
"""


def test_an_instrument_alone_gives_unweighted_labelled_data(tmp_path):
    path = tmp_path / "own.yaml"
    path.write_text(OWN_INSTRUMENT, encoding="utf-8")
    own = schemas.load_instrument(path)
    export = tmp_path / "export.csv"
    export_factory.write_export(export, own, n=30, seed=3)
    rd = reportdata.load_data(export, instrument=path, lang="en")
    assert not rd.weighted and not rd.source["weighted"]
    assert len(rd.valid) == 30 and (rd.valid["w"] == 1.0).all() and rd.strata.empty
    w = reportdata.weighting(rd)
    assert not w.weighted and w.final.weights.tolist() == [1.0] * 30
    assert reportdata.models(rd) == [] and reportdata.blocks(rd) == {}
    freq = reportdata.item_frequencies(rd, "satisfied")
    assert freq["n"].sum() == rd.valid["satisfied"].notna().sum()
    assert list(freq.index) == ["Yes", "No"]
    assert dict(reportdata.described_items(rd)) == {"team_size": "numeric", "satisfied": "categorical"}
    names = [p.name for p in reportdata.study_notebooks(rd.study)]
    assert names == ["01_data_quality.ipynb", "03_estimates.ipynb"]   # no design, no models
    with pytest.raises(reportdata.ReportDataError, match="no embedded demo"):
        reportdata.load_data(None, instrument=path)


def test_the_planned_models_reproduce_the_previous_reports_numbers(weights, demo):
    """The models now come from the declaration; their numbers are those the report printed
    when the formulas were coded in reportdata (notebooks/04_models.ipynb at commit 350a026)."""
    fits = {m.name: reportdata.fit(m, weights.final) for m in reportdata.models(demo)}
    assert round(fits["incident"].nobs) == 1239
    odds = np.exp(fits["incident"].params)
    assert round(odds["training_all"], 2) == 0.45 and round(odds["guideline_known"], 2) == 0.47
    assert round(np.exp(fits["measures"].params["org_index"]), 2) == 1.17
    impl = fits["implementation"]
    ci = np.exp(impl.conf_int().loc["tech_share"])
    assert (round(np.exp(impl.params["tech_share"]), 2), round(ci.iloc[0], 2), round(ci.iloc[1], 2)) \
        == (10.02, 4.52, 22.19)


# ---------------------------------------------------------------------------------------------
# scales: a grid of rating items (the second example study's instrument)

PHARMACY = Path(__file__).resolve().parents[3] / "schemas" / "instruments" / "pharmacy_staff.yaml"


@pytest.fixture(scope="module")
def pharmacy(tmp_path_factory):
    from surveydata.cli import main

    out = tmp_path_factory.mktemp("pharmacy")
    assert main(["simulate", "--seed", "11", "--instrument", str(PHARMACY), "--n", "150",
                 "--out", str(out)]) == 0
    return reportdata.load_data(out / "export.csv", instrument=PHARMACY, lang="en")


def test_a_grid_is_a_scale_with_its_reverse_keyed_items(pharmacy):
    inst = schemas.load_instrument(PHARMACY)
    specs = reportdata.scales(pharmacy)
    grid = [i.var for i in inst.items if i.grid == "climate"]
    assert [s.items for s in specs] == [tuple(grid)]
    assert specs[0].reverse == tuple(i.var for i in inst.items if i.grid == "climate" and i.reverse)
    assert specs[0].reverse, "the climate grid has a reverse-keyed item"


def test_scale_reliability_is_cronbachs_alpha_of_the_item_codes(pharmacy):
    """Unweighted (an instrument alone): alpha from the raw item codes, reverse-keyed item
    reversed, complete cases, computed here with the textbook formula."""
    spec = reportdata.scales(pharmacy)[0]
    design = reportdata.weighting(pharmacy).final
    result = reportdata.scale_reliability(pharmacy, design, spec)
    inst = schemas.load_instrument(PHARMACY)
    cols = []
    for var in spec.items:
        item = inst.item(var)
        labels = {item.label(c, "en"): c for c in item.substantive_codes}
        x = pharmacy.valid[var].astype(object).map(labels).astype(float)
        points = [c for c in item.substantive_codes]
        cols.append(min(points) + max(points) - x if var in spec.reverse else x)
    X = np.column_stack(cols)
    X = X[~np.isnan(X).any(axis=1)]
    k = X.shape[1]
    alpha = k / (k - 1) * (1 - X.var(axis=0).sum() / X.sum(axis=1).var())
    assert result.n == len(X)
    assert result.alpha == pytest.approx(alpha, rel=1e-10)
    assert list(result.items.index) == [pharmacy.label(v) for v in spec.items]


# ---------------------------------------------------------------------------------------------
# random instruments (issue 11, "Must show"): simulate -> validate -> report data, no exception

def _report_data_roundtrip(text: str, seed: int, tmp_path) -> None:
    from surveydata.report import dates, findings, pages
    from surveydata.simulate.generic import simulate_responses

    path = tmp_path / f"random_{seed}.yaml"
    path.write_text(text, encoding="utf-8")
    inst = schemas.load_instrument(path)
    export = tmp_path / f"export_{seed}.csv"
    export.write_bytes(simulate_responses(inst, n=60, seed=seed, error_rate=0.1).to_bytes())
    for lang in ("de", "en"):
        rd = reportdata.load_data(export, instrument=path, lang=lang)
        assert not rd.weighted and rd.n_raw == len(rd.valid) + len(rd.quarantine)
        w = reportdata.weighting(rd)
        assert not w.weighted
        assert findings.quality_findings(rd) and findings.study_summary(rd)
        for var, kind in reportdata.described_items(rd):
            if kind == "categorical":
                freq = reportdata.item_frequencies(rd, var)
                findings.frequency_table(freq, lang)
                assert freq["n"].sum() == rd.valid[var].notna().sum()
            elif kind == "multi":
                findings.multi_table(reportdata.multi_shares(rd, var), pages._multi_respondents(rd, var), lang)
            else:
                assert reportdata.item_numeric(rd, var)["n"] == rd.valid[var].notna().sum()
        summary, counts = dates.date_tables(rd, 5)  # date items: none is fine, any is shown
        assert (summary is None) == (not dates.date_items(rd)) and len(counts) <= len(dates.date_items(rd))
        pages.descriptive_findings(rd)
        pages.scale_findings(rd, pages.scale_results(rd, w.final))


def test_random_instruments_give_report_data(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.surveydata.test_random_instruments import COMMON, instruments

    @settings(max_examples=5, derandomize=True, **COMMON)
    @given(text=instruments(), seed=st.integers(0, 2**16))
    def run(text, seed):
        _report_data_roundtrip(text, seed, tmp_path)

    run()


def test_an_extra_page_is_found_beside_the_study_and_a_missing_one_is_named(tmp_path):
    import nbformat

    text = (Path(schemas.__file__).parent / "studies" / "practice_security.yaml").read_text(encoding="utf-8")
    assert "05_information_vs_equipment.ipynb" in text
    study_file = tmp_path / "own_study.yaml"
    study_file.write_text(text.replace("05_information_vs_equipment.ipynb", "07_our_question.ipynb"),
                          encoding="utf-8")
    with pytest.raises(reportdata.ReportDataError, match="extra page 07_our_question.ipynb not found"):
        reportdata.study_notebooks(study_file)
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "07_our_question.ipynb")
    names = [p.name for p in reportdata.study_notebooks(study_file)]
    assert names == ["01_data_quality.ipynb", "02_sample_weighting.ipynb", "03_estimates.ipynb",
                     "04_models.ipynb", "07_our_question.ipynb"]


def test_a_declared_post_stratification_meets_its_cell_counts(tmp_path):
    """The second example study, post-stratified to role x pharmacy size instead of raked and
    not trimmed: the final weights add up to every declared cell count."""
    from surveydata.cli import main

    source = Path(schemas.__file__).parent / "studies" / "pharmacy_staff.yaml"
    text = source.read_text(encoding="utf-8")
    start, end = text.index("\nweighting:"), text.index("\nderived:")
    study_file = tmp_path / "pharmacy_post.yaml"
    study_file.write_text(text[:start] + "\nweighting:\n  poststratify:\n    margin: role_x_pharmacy_size"
                          "\n    variables: [role, pharmacy_size]\n" + text[end:], encoding="utf-8")
    assert main(["simulate", "--seed", "3", "--study", str(study_file), "--n", "1200",
                 "--out", str(tmp_path / "sim")]) == 0
    rd = reportdata.load_data(tmp_path / "sim" / "export.csv", study=study_file, lang="en")
    w = reportdata.weighting(rd)
    assert w.bounds is None and w.final is w.raked
    cells = rd.study.population.margins["role_x_pharmacy_size"]
    data = w.final.data
    got = pd.Series(w.final.weights).groupby([data["rake__role"].to_numpy(),
                                              data["rake__pharmacy_size"].to_numpy()]).sum()
    np.testing.assert_allclose(got.loc[cells.index].to_numpy(), cells.to_numpy(dtype=float), rtol=1e-9)
    assert reportdata.raking_variables(rd) == ["role", "pharmacy_size"]
    comp = reportdata.composition(w, rd, "role")
    np.testing.assert_allclose(comp["weighted"].to_numpy(), comp["population"].to_numpy(), atol=1e-9)


def test_equal_base_weights_are_raked_to_the_same_margins(tmp_path):
    text = (Path(schemas.__file__).parent / "studies" / "practice_security.yaml").read_text(encoding="utf-8")
    assert "base_weight: inverse_sampling_fraction" in text
    study_file = tmp_path / "equal.yaml"
    study_file.write_text(text.replace("base_weight: inverse_sampling_fraction", "base_weight: equal"),
                          encoding="utf-8")
    rd = reportdata.load_data(study=study_file, lang="en")
    assert (rd.valid["w"] == 1.0).all()
    w = reportdata.weighting(rd)
    m = load_population_margins()["federal_state"]
    got = pd.Series(w.raked.weights).groupby(w.raked.data["rake__federal_state"].to_numpy()).sum()
    np.testing.assert_allclose(got.loc[m.index].to_numpy(), m.to_numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# the study's scales and the codebook's reliability numbers

PHARMACY_STUDY = PHARMACY.parents[1] / "studies" / "pharmacy_staff.yaml"


@pytest.fixture(scope="module")
def pharmacy_study(pharmacy, tmp_path_factory):
    """The same simulated export read with the study (derived scores, design, weights)."""
    from surveydata.cli import main

    out = tmp_path_factory.mktemp("pharmacy_study")
    assert main(["simulate", "--seed", "11", "--instrument", str(PHARMACY), "--n", "150",
                 "--out", str(out)]) == 0
    return reportdata.load_data(out / "export.csv", study=PHARMACY_STUDY, lang="en")


def test_a_score_reverses_the_items_the_instrument_declares_reverse_keyed(pharmacy_study):
    """climate_score's mean reverses climate_time_pressure (derive does, as the instrument says
    reverse: true), so its reliability must reverse it too."""
    (spec,) = reportdata.scales(pharmacy_study)
    inst = pharmacy_study.instrument
    assert spec.name == "climate_score" and spec.label == pharmacy_study.label("climate_score")
    assert spec.reverse == tuple(v for v in spec.items if inst.item(v).reverse) == ("climate_time_pressure",)


def test_scale_numbers_for_the_codebook_are_the_reliability_under_the_design(pharmacy_study):
    design = reportdata.weighting(pharmacy_study).final
    numbers = reportdata.scale_numbers(pharmacy_study, design)
    (spec,) = reportdata.scales(pharmacy_study)
    result = reportdata.scale_reliability(pharmacy_study, design, spec)
    got = numbers["climate_score"]
    assert got["n"] == result.n and got["weighted"] is True
    assert got["alpha"][0] == result.alpha and got["omega"][0] == result.omega
    lo, hi = got["alpha"][1:]
    assert lo < result.alpha < hi


# ---------------------------------------------------------------------------------------------
# date items: to the month, sparse ends pooled, counts under the report's suppression

def _dates(per_period: dict[str, int]) -> pd.Series:
    return pd.Series(pd.to_datetime([d for d, n in per_period.items() for _ in range(n)]))


def test_date_counts_pool_sparse_ends_and_list_every_month_between():
    from surveydata.report import dates

    s = _dates({"2023-11-02": 1, "2023-12-30": 2, "2024-01-05": 4, "2024-03-09": 9,
                "2024-05-17": 3, "2024-06-01": 1})
    counts = dates.date_counts(s, k=5, lang="en")
    # from the start, k = 5 is first reached in January (1 + 2 + 4); from the end in March
    # (1 + 3 + 0 + 9): each end is one row of at least k, the months between are listed
    assert counts["n"].to_dict() == {"until 2024-01": 7, "2024-02": 0, "from 2024-03": 13}
    assert counts["n"].sum() == len(s) and counts.index.name == "Month"
    assert counts["share"].sum() == pytest.approx(1.0)
    de = dates.date_counts(s, k=5, lang="de")
    assert list(de.index) == ["bis 2024-01", "2024-02", "ab 2024-03"] and de.index.name == "Monat"
    # over two years apart: per year
    years = dates.date_counts(_dates({"2019-06-01": 6, "2020-02-01": 5, "2022-12-24": 7}), k=5)
    assert years["n"].to_dict() == {"2019": 6, "2020": 5, "2021": 0, "2022": 7}
    assert years.index.name == "Year"
    # fewer than k in all: one pooled row, which the page then suppresses
    assert dates.date_counts(_dates({"2024-01-01": 2, "2024-02-01": 1}), k=5)["n"].to_dict() == {
        "until 2024-02": 3}


def test_date_summary_is_to_the_month_and_hides_what_fewer_than_k_answered():
    from surveydata.report import dates

    s = _dates({"2024-01-10": 1, "2024-02-10": 7, "2024-03-20": 1, "2024-04-05": 5})
    out = dates.date_summary(s, k=5, lang="en")
    ordered = sorted(s)
    median = ordered[len(ordered) // 2]  # 14 answers: the 7th and 8th are both in February
    assert median == ordered[len(ordered) // 2 - 1]
    assert out == {"n": "14", "Median": median.strftime("%Y-%m"),
                   "Middle half (25–75%)": "2024-02 – 2024-04",
                   # January holds 1 respondent: not published; April holds 5
                   "Range": "• – 2024-04"}
    assert dates.date_summary(s[:4], k=5, lang="de") == {
        "n": "4", "Median": "•", "Mittlere Hälfte (25–75 %)": "•", "Spannweite": "•"}


def test_date_tables_of_an_instrument_alone(pharmacy):
    from surveydata.report import dates

    assert dates.date_items(pharmacy) == [i.var for i in pharmacy.instrument.items if i.type in ("date", "datetime")]
    summary, counts = dates.date_tables(pharmacy, k=5)
    (var,) = dates.date_items(pharmacy)
    answered = pd.to_datetime(pharmacy.valid[var]).dropna()
    assert list(summary.index) == [pharmacy.label(var)]
    assert summary.loc[pharmacy.label(var), "n"] == f"{len(answered):,}"
    (label, table), = counts
    assert label == pharmacy.label(var) and table.index.name in ("Month", "Year")
    shown = [int(x) for x in table["n"] if x != "•"]
    assert all(n == 0 or n >= 5 for n in shown)
    assert sum(shown) <= len(answered)
    text = summary.to_string() + table.to_string()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a date is published to the day"
    # a study without date items shows none
    demo_summary, demo_counts = dates.date_tables(reportdata.load_data(lang="en"), k=5)
    assert demo_summary is None and demo_counts == []


def test_a_strata_variable_left_unanswered_is_named_with_its_rows_and_the_fix(tmp_path):
    """QA F14: a design whose strata item may be unanswered ("no answer" 99 accepted by
    validation) stops with the variable, the code's meaning, the lines and the fix."""
    root = PHARMACY.parents[1]
    inst_text = PHARMACY.read_text(encoding="utf-8")
    marker = '    text_en: "What is your main role in the pharmacy?"\n    required: true\n'
    assert marker in inst_text
    (tmp_path / "staff.yaml").write_text(inst_text.replace(
        marker, '    text_en: "What is your main role in the pharmacy?"\n    missing: [99]\n'), encoding="utf-8")
    study = (root / "studies" / "pharmacy_staff.yaml").read_text(encoding="utf-8")
    assert "  instrument: pharmacy_staff\n" in study
    (tmp_path / "study.yaml").write_text(study.replace("  instrument: pharmacy_staff\n",
                                                       "  instrument: staff.yaml\n"), encoding="utf-8")
    from surveydata.cli import main

    assert main(["simulate", "--seed", "5", "--instrument", str(PHARMACY), "--n", "60",
                 "--out", str(tmp_path / "sim")]) == 0
    export = tmp_path / "sim" / "export.csv"
    lines = export.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    pos = header.index("role")
    row = lines[3].split(";")  # file line 4: a valid response of this seed
    row[pos] = "99"
    lines[3] = ";".join(row)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(reportdata.ReportDataError) as err:
        reportdata.load_data(export, study=tmp_path / "study.yaml", lang="en")
    message = str(err.value)
    assert message.startswith("strata variable role: 1 valid response(s) have no stratum (99 = no_answer; line(s) 4)")
    assert "make role required: true in the instrument" in message and "\n" not in message


def test_undeclared_export_columns_never_reach_the_report(tmp_path):
    """QA F15: a platform's extra column (an e-mail address, a note) is not declared by the
    instrument: the report data leave it out (values too) and name it in the source only."""
    from surveydata.cli import main

    assert main(["simulate", "--seed", "5", "--instrument", str(PHARMACY), "--n", "40",
                 "--out", str(tmp_path / "sim")]) == 0
    export = tmp_path / "sim" / "export.csv"
    lines = export.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ";Internal note;E-Mail"] + [
        f"{line};call back {i};person{i}@example.org" for i, line in enumerate(lines[1:])]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rd = reportdata.load_data(export, instrument=PHARMACY, lang="en")
    frames = {name: getattr(rd, name) for name in ("valid", "derived", "quarantine", "failures", "flags")}
    for name, frame in frames.items():
        assert "Internal note" not in frame and "E-Mail" not in frame, name
        text = frame.astype(str).to_string()
        assert "@example.org" not in text and "call back" not in text, name
    assert rd.source["undeclared_columns_dropped"] == ["Internal note", "E-Mail"]
    assert len(rd.valid) > 0 and "role" in rd.valid


def test_datetime_answers_with_a_time_zone_are_counted_without_a_warning():
    import warnings

    from surveydata.report import dates

    class Answers:
        valid = pd.DataFrame({"x": pd.to_datetime(["2024-01-31T23:30:00Z", "2024-02-01T10:00:00Z"] * 5)})

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns when a zone is dropped for periods
        counts = dates.date_counts(dates.answered(Answers(), "x"), k=5)
    assert counts["n"].to_dict() == {"2024-01": 5, "2024-02": 5}


def test_the_declared_fpc_is_used_and_a_unit_count_is_never_a_cluster_fpc(tmp_path):
    """QA F19: fpc: null means no fpc; with clusters (psu) the stratum's unit count N_h cannot be
    the first stage's fpc: a one-line error says to declare fpc: null."""
    import analysis

    text = PHARMACY_STUDY.read_text(encoding="utf-8").replace("  instrument: pharmacy_staff\n",
                                                               f"  instrument: {PHARMACY}\n")
    assert "  fpc: N_h\n" in text and "  psu: null\n" in text
    from surveydata.cli import main

    assert main(["simulate", "--seed", "11", "--instrument", str(PHARMACY), "--n", "150",
                 "--out", str(tmp_path / "sim")]) == 0
    export = tmp_path / "sim" / "export.csv"
    (tmp_path / "nofpc.yaml").write_text(text.replace("  fpc: N_h\n", "  fpc: null\n"), encoding="utf-8")
    rd = reportdata.load_data(export, study=tmp_path / "nofpc.yaml", lang="en")
    base = reportdata.weighting(rd).base
    df = reportdata.analysis_frame(rd)
    by_hand = analysis.SurveyDesign(df, weights="w", strata="stratum", lonely_psu="adjust")
    with_fpc = analysis.SurveyDesign(df, weights="w", strata="stratum", fpc="N_h", lonely_psu="adjust")
    se = float(base.mean("trained_yes", na_rm=True)["se"].iloc[0])
    assert se == pytest.approx(float(by_hand.mean("trained_yes", na_rm=True)["se"].iloc[0]), rel=1e-12)
    assert se != pytest.approx(float(with_fpc.mean("trained_yes", na_rm=True)["se"].iloc[0]), rel=1e-9)
    (tmp_path / "cluster.yaml").write_text(text.replace("  psu: null\n", "  psu: response_id\n"),
                                           encoding="utf-8")
    rd = reportdata.load_data(export, study=tmp_path / "cluster.yaml", lang="en")
    with pytest.raises(reportdata.ReportDataError, match=r"psu: response_id.*declare fpc: null"):
        reportdata.weighting(rd)
