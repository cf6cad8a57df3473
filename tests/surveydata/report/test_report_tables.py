"""Presentation helpers for report tables: rounding, CI text, labels, suppression of small cells."""
import re

import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata.report import tables
from surveydata.report.disclosure import MARKER


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


EST = pd.DataFrame({"estimate": [0.31249, 0.1, np.nan], "se": [0.01, 0.02, np.nan],
                    "ci_low": [0.29304, 0.0649, np.nan], "ci_high": [0.33216, 0.15, np.nan]},
                   index=["fully", "incident", "none"])


def test_ci_table_formats_percentages_and_labels_columns():
    out = tables.ci_table(EST, lang="en")
    assert out.columns.tolist() == ["Share (%)", "95% CI"]
    assert out.loc["fully"].tolist() == ["31.2", "29.3–33.2"]
    assert out.loc["incident"].tolist() == ["10.0", "6.5–15.0"]
    assert out.loc["none"].tolist() == ["", ""]
    de = tables.ci_table(EST, lang="de", percent=False, digits=3)
    assert de.columns.tolist() == ["Schätzwert", "95-%-KI"]
    assert de.loc["fully"].tolist() == ["0,312", "0,293–0,332"]  # German decimal comma


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


class FakeFit:
    """What odds_ratio_table reads from a fit: params, conf_int(), pvalues."""

    params = pd.Series({"Intercept": -1.0, "training_all": np.log(0.5),
                        "C(practice_type)[T.Psychotherapy]": np.log(2.0), "Fully|Mostly": 0.3})
    pvalues = pd.Series({"Intercept": 0.5, "training_all": 0.0001,
                         "C(practice_type)[T.Psychotherapy]": 0.04321, "Fully|Mostly": 0.2})

    def conf_int(self):
        return pd.DataFrame({"lower": self.params - np.log(2.0), "upper": self.params + np.log(2.0)})


def test_odds_ratio_table_exponentiates_and_drops_intercept_and_cut_points():
    from surveydata.report.i18n import term_label, var_label

    out = tables.odds_ratio_table(FakeFit(), "en")
    # labels come from the study's short labels (owned by i18n; the test is about the numbers)
    assert out.index.tolist() == [var_label("training_all", "en"),
                                  term_label("C(practice_type)[T.Psychotherapy]", "en")]
    assert out.index[0] != "training_all"
    assert out["OR"].tolist() == ["0.50", "2.00"]
    assert out["95% CI"].tolist() == ["0.25–1.00", "1.00–4.00"]
    assert out["p value"].tolist() == ["<0.001", "0.043"]
    de = tables.odds_ratio_table(FakeFit(), "de", ratio="RR")
    assert de.columns.tolist() == ["RR", "95-%-KI", "p-Wert"]
    assert de.index[0] == var_label("training_all", "de") != var_label("training_all", "en")


def test_nonresponse_table_suppresses_shares_of_few_respondents():
    nr = pd.DataFrame({"asked": [200, 100], "dont_know": [50, 3], "no_answer": [0, 10]},
                      index=["tm_mfa", "tm_firewall"])
    out = tables.nonresponse_table(nr, "en", k=5)
    assert out.loc["tm_mfa"].tolist() == ["200", "25.0", "0.0"]
    # the 87 who answered are the estimates' n: the 10 would give the 3 away (100 - 87 - 10)
    assert out.loc["tm_firewall"].tolist() == ["100", MARKER, MARKER]
    shares = tables.nonresponse_shares(nr, "en", k=5)
    assert np.isnan(shares["Don't know"].loc["tm_firewall", "estimate"])
    assert np.isnan(shares["No answer"].loc["tm_firewall", "estimate"])
    assert shares["Don't know"].loc["tm_mfa", "estimate"] == 0.25


def test_standardised_effects_split_by_block_for_the_plot():
    blocks = pd.DataFrame({"F": [1.0]}, index=["information"])
    blocks.attrs["effects"] = pd.DataFrame(
        {"block": ["control", "information", "equipment"], "std_effect": [0.1, -0.4, 0.2],
         "ci_low": [0.0, -0.6, 0.0], "ci_high": [0.2, -0.2, 0.4]},
        index=["C(kbv_size_class)[T.2]", "training_all", "tech_share"])
    out = tables.standardised(blocks, "en")
    assert list(out) == ["Information and organisation", "Technical equipment"]
    info = out["Information and organisation"]
    from surveydata.report.i18n import var_label

    assert info.index.tolist() == [var_label("training_all", "en"), var_label("tech_share", "en")]
    assert info.loc[var_label("training_all", "en"), "estimate"] == -0.4
    assert info.loc[var_label("tech_share", "en")].isna().all()


def test_margins_frame_labels_levels_yes_and_no():
    pm = pd.DataFrame({"estimate": [0.2, 0.1], "se": [0.01, 0.01], "ci_low": [0.18, 0.08],
                       "ci_high": [0.22, 0.12]}, index=[0, 1])
    out = tables.margins_frame({"training_all": pm}, "de")
    from surveydata.report.i18n import var_label

    name = var_label("training_all", "de")
    assert name != "training_all"
    assert out.index.tolist() == [f"{name}: nein", f"{name}: ja"]
    assert out["estimate"].tolist() == [0.2, 0.1]


def test_shares_and_response_tables_are_rounded_percent_text():
    shares = pd.DataFrame({"sample": [0.25, 0.75], "population": [0.5, 0.5]}, index=["a", "b"])
    assert tables.shares_table(shares, "de").loc["a"].tolist() == ["25,0", "50,0"]
    rates = pd.DataFrame({"n_invited": [100], "n_valid": [21], "rate": [0.21]}, index=["GP"])
    assert tables.response_table(rates, "en").loc["GP"].tolist() == ["100", "21", "21.0"]


def test_composition_and_response_rates_hide_small_categories_and_their_complement():
    comp = pd.DataFrame({"sample": [0.02, 0.03, 0.95], "population": [0.1, 0.1, 0.8],
                         "weighted": [0.1, 0.1, 0.8], "n": [2, 3, 95]}, index=["HB", "SL", "NW"])
    out = tables.protected_shares(comp, k=5)
    assert out["sample"].isna().tolist() == [True, True, False]  # 2 and 3: both small
    assert out["population"].tolist() == [0.1, 0.1, 0.8]  # public figures stay
    one = comp.assign(n=[2, 30, 68])
    hidden = tables.protected_shares(one, k=5)["weighted"].isna().tolist()
    assert hidden == [True, True, False]  # the 2, and the next smallest so 100 % - rest fails
    assert tables.shares_table(out, "en").loc["HB"].tolist() == [MARKER, "10.0", MARKER]
    rates = pd.DataFrame({"n_invited": [40, 300], "n_valid": [3, 60], "rate": [0.075, 0.2]},
                         index=["MVZ", "GP"])
    shown = tables.response_table(tables.protected_rates(rates, k=5), "en")
    assert shown.loc["MVZ"].tolist() == ["40", MARKER, MARKER]
    assert shown.loc["GP"].tolist() == ["300", MARKER, MARKER]  # else the total gives the 3 away


# ---------------------------------------------------------------------------------------------
# model tables: reference categories, n used and why rows were dropped, units

@pytest.fixture(scope="module")
def model_fit():
    import analysis

    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"size": rng.choice(["a small", "b medium", "c large"], n),
                       "trained": rng.integers(0, 2, n).astype(float),
                       "equip_share": rng.uniform(0, 1, n),
                       "sources": rng.integers(0, 7, n).astype(float),
                       "w": rng.uniform(1, 3, n)})
    df["y"] = (rng.uniform(size=n) < 0.2 + 0.3 * df["trained"]).astype(float)
    df.loc[:29, "trained"] = np.nan          # 30 rows missing trained
    df.loc[25:44, "equip_share"] = np.nan     # 20 rows missing equip_share (5 of them also trained)
    design = analysis.SurveyDesign(df, weights="w")
    return analysis.svyglm("y ~ trained + equip_share + sources + C(size)", design, family="quasibinomial")


def test_odds_ratio_table_shows_the_reference_category_of_every_factor(model_fit):
    out = tables.odds_ratio_table(model_fit, "en")
    rows = out.index.tolist()
    assert "size: a small" in rows  # the level without a coefficient, placed before its siblings
    assert rows.index("size: a small") == rows.index("size: b medium") - 1
    assert out.loc["size: a small"].tolist() == ["1 (ref.)", "", ""]
    assert tables.reference_levels(model_fit) == {"size": "a small"}
    assert tables.odds_ratio_table(model_fit, "de").loc["size: a small"].iloc[0] == "1 (Referenz)"
    assert len(tables.odds_ratio_table(model_fit, "en", reference=False)) == len(rows) - 1


def test_model_note_counts_rows_used_and_dropped_and_names_units(model_fit):
    note = tables.model_note(model_fit, "en")
    # 30 + 20 - 5 overlapping = 45 rows dropped, counted independently of the fit
    assert note.startswith("n = 355 of 400 respondents in the model. 45 left out for a missing value in: ")
    assert "trained (30), equip_share (20)" in note
    assert "trained: yes vs no" in note
    assert "equip_share: change from 0 to 1 (0% to 100%)" in note
    assert "sources: per 1 unit (range 0 to 6)" in note
    de = tables.model_note(model_fit, "de", labels={"trained": "Geschult"})
    assert de.startswith("n = 355 von 400 Befragten") and "Geschult: ja gegenüber nein" in de


def test_counts_carry_thousands_separators_in_the_locale_of_the_table():
    est = pd.DataFrame({"estimate": [0.5], "ci_low": [0.4], "ci_high": [0.6]}, index=["x"])
    assert tables.ci_table(est, "en", n=pd.Series({"x": 1621})).loc["x"].tolist() == ["50.0", "40.0–60.0", "1,621"]
    assert tables.ci_table(est, "de", n=pd.Series({"x": 1621})).loc["x"].tolist() == ["50,0", "40,0–60,0", "1.621"]
    rates = pd.DataFrame({"n_invited": [8000.0], "n_valid": [1621.0], "rate": [0.2026]}, index=["GP"])
    assert tables.response_table(rates, "de").loc["GP"].tolist() == ["8.000", "1.621", "20,3"]


# ---------------------------------------------------------------------------------------------
# pandas tables as published tables (surveydata.report.html)

def test_pandas_two_row_headers_become_one_header_row_with_every_cell_named():
    from surveydata.report.html import Counter, render_html_table

    idx = pd.MultiIndex.from_tuples([("GP", "small"), ("GP", "large"), ("PT", "small")],
                                    names=["type", "size"])
    cols = pd.MultiIndex.from_tuples([("share", "%"), ("share", "CI"), ("n", "")])
    frame = pd.DataFrame([["30.0", "20–40", "1,621"], ["10.0", "5–15", "80"], ["•", "•", "3"]],
                         index=idx, columns=cols)
    counter = Counter(tables=4)
    page = render_html_table(frame.to_html(), "By type", "en", counter, "03_x")
    tab = page.tables[0]
    assert tab.number == 5 and counter.tables == 5 and tab.caption == "By type"
    assert tab.header == ["type", "size", "share · %", "share · CI", "n"]
    assert tab.rows[1] == ["GP", "large", "10.0", "5–15", "80"]  # the row group's label repeated
    assert tab.spanners == ["", "", "share", "share", ""]
    html_ = page.body
    # rendered by the publication table (the Jupyter Table 1's renderer): pandas' upper column
    # level is a spanner over its columns, the first index level a row group, one label row
    assert tab.publication("en").to_html(standalone=False) in html_
    assert html_.count('class="gt_col_headings"') == 1 and html_.count("gt_spanner_row") == 1
    assert re.search(r'<th class="gt_center[^"]*gt_column_spanner_outer" rowspan="1" colspan="2" '
                     r'scope="colgroup" id="table-5-share">\s*<span class="gt_column_spanner">share</span>', html_)
    assert re.search(r'<th class="gt_group_heading" colspan="4" scope="colgroup" id="table-5-GP">GP</th>', html_)
    assert re.search(r'<td headers="[^"]*table-5-c4" class="gt_row gt_right">1,621</td>', html_)  # right-aligned
    assert '<caption id="table-5-caption"><span class="label">Table 5.</span> By type</caption>' in html_
    assert 'aria-labelledby="table-5-caption"' in html_ and "<style" not in html_
    assert 'href="downloads/03_x-table-5.csv"' in html_
    # an unnamed row header is named for screen readers (axe: empty-table-header)
    plain = render_html_table(pd.DataFrame({"x": ["1"]}, index=["a"]).to_html(), "c", "de", Counter(), "p")
    assert '<span class="visually-hidden">Zeile</span>' in plain.body
    assert re.search(r'<th class="gt_col_heading[^>]*>(?:\s*)</th>', plain.body) is None


def test_a_publication_table_in_a_notebook_is_rendered_from_its_cells_by_the_same_code():
    import nbformat

    import analysis
    from analysis import datasets
    from analysis.pubtable import MIME, model_table
    from surveydata.report.html import Counter, render_notebook

    d = analysis.SurveyDesign(datasets.load("apistrat"), weights="pw", strata="stype", fpc="fpc")
    tab = model_table(analysis.svyglm("api00 ~ ell + C(stype)", d), labels={"stype": "School type"},
                      title="API 2000")
    bundle = tab._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain", MIME}
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("tab")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells = [nbformat.v4.new_markdown_cell("## Model"), cell]
    page = render_notebook(nb, "04_m.html", "Models", "en", Counter(tables=2))
    report_table = page.tables[0]
    assert report_table.number == 3 and report_table.caption == "API 2000"
    assert report_table.rows == tab.rows and report_table.notes == ["n = 200 of 200 observations used."]
    # the page shows the table the publication table renders, with the report's number and id
    expected = report_table.publication("en").to_html(standalone=False)
    assert expected in page.body and 'id="table-3-caption"' in expected
    assert "School type: E" in page.body and "0.00 (ref.)" in page.body
    assert "n = 200 of 200 observations used." in page.body      # the note, below the table
    assert bundle["text/html"] not in page.body                   # not Jupyter's own HTML
    import io

    from openpyxl import load_workbook

    from surveydata.report.html import xlsx_bytes

    sheet = load_workbook(io.BytesIO(xlsx_bytes(page.tables, "en")))["Table 3"]
    assert sheet.cell(3, 1).value == "Characteristic" and sheet.cell(4, 1).value == "School type: E"
    assert sheet.cell(4 + len(tab.rows) + 1, 1).value == "n = 200 of 200 observations used."


def test_tables_name_variables_and_blocks_from_the_study_passed():
    """Another study's short labels reach the tables (not the packaged study's), and a block's
    series is named by the plan's label, else by the block's own name."""
    from types import SimpleNamespace

    import schemas
    from schemas.instrument import Label
    from surveydata.report import labels, tables

    pharmacy = schemas.load_study("pharmacy_staff")
    short = labels.short_label("trained_yes", "de", pharmacy)
    assert short != "trained_yes"
    frame = pd.DataFrame({"x": [1]}, index=pd.Index(["trained_yes"], name="variable"))
    assert tables.relabel(frame, "de", study=pharmacy).index.tolist() == [short]
    margins = {"trained_yes": pd.DataFrame({"estimate": [0.2, 0.3], "se": 0.01, "ci_low": 0.1,
                                            "ci_high": 0.4}, index=[0, 1])}
    assert tables.margins_frame(margins, "en", study=pharmacy).index[1] == \
        f"{labels.short_label('trained_yes', 'en', pharmacy)}: yes"
    effects = pd.DataFrame({"block": ["people", "kit", "control"], "std_effect": [0.1, 0.2, 0.0],
                            "ci_low": [0.0, 0.1, -0.1], "ci_high": [0.2, 0.3, 0.1]},
                           index=["trained_yes", "x2", "x3"])
    blocks = pd.DataFrame(index=["people", "kit"])
    blocks.attrs["effects"] = effects
    class Declared:  # the pharmacy study whose plan labels one of its blocks
        analysis = SimpleNamespace(block_labels={"people": Label("Menschen", "People")})

        def __getattr__(self, name):
            return getattr(pharmacy, name)

    study = Declared()
    assert list(tables.standardised(blocks, "en", study=study)) == ["People", "kit"]
