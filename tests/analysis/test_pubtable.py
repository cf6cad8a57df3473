"""Publication tables (analysis.pubtable): one renderer for Jupyter's Table 1 and the report's
tables, through great-tables; deterministic, accessible, the same cells in every format."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, datasets
from analysis.pubtable import PublicationTable, numeric_column
from analysis.tableone import table_one


@pytest.fixture(scope="module")
def frame():
    idx = pd.MultiIndex.from_tuples([("Elementary", "yes"), ("Elementary", "no"), ("High", "yes")],
                                    names=["School type", "Met target"])
    cols = pd.MultiIndex.from_tuples([("2000", "n"), ("2000", "% (95% CI)"), ("Source", "")])
    return pd.DataFrame([["1,621", "33.3 (30.1–36.4)", "CDE, Sacramento"],
                         ["80", "•", "CDE"], ["3", "–", ""]], index=idx, columns=cols)


def test_a_frame_becomes_stub_groups_spanners_and_right_aligned_numbers(frame):
    tab = PublicationTable.from_frame(frame, title="Schools", label="Table 2.", id="table-2",
                                      verbatim=(4,))
    assert tab.header == ["School type", "Met target", "n", "% (95% CI)", "Source"]
    assert tab.spanners == ["", "", "2000", "2000", ""] and tab.stub == 2
    assert tab.numeric() == [False, False, True, True, False]
    html = tab.to_html(standalone=False)
    assert html.startswith('<table class="gt_table"') and "<style" not in html
    assert '<caption id="table-2-caption"><span class="label">Table 2.</span> Schools</caption>' in html
    assert html.count('class="gt_group_heading"') == 2          # Elementary, High
    assert 'colspan="2" scope="colgroup" id="table-2-2000"' in html
    assert re.search(r'<td headers="[^"]*table-2-c2" class="gt_row gt_right">1,621</td>', html)
    # quoted source titles are not machine-translated
    assert re.search(r'<td translate="no" headers="[^"]*table-2-c4"[^>]*>CDE, Sacramento</td>', html)
    for th in re.findall(r"<th\b[^>]*>(.*?)</th>", html, flags=re.DOTALL):
        assert re.sub(r"<[^>]+>", "", th).strip(), "an empty header cell (axe: empty-table-header)"
    assert html == tab.to_html(standalone=False)                 # no random id
    full = tab.to_html()
    assert '<div id="table-2"' in full and "<style>" in full    # Jupyter keeps great-tables' CSS


def test_every_format_carries_the_same_cells(frame, tmp_path):
    tab = PublicationTable.from_frame(frame, title="Schools", notes=["n = schools (unweighted)."])
    assert "33.3 (30.1–36.4)" in tab.to_latex() and "Schools" in tab.to_latex()
    tab.to_excel(tmp_path / "t.xlsx")
    back = pd.read_excel(tmp_path / "t.xlsx", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == ["School type", "Met target", "2000 · n", "2000 · % (95% CI)",
                                     "Source"]
    assert back.iloc[0].tolist() == ["Elementary", "yes", "1,621", "33.3 (30.1–36.4)", "CDE, Sacramento"]
    tab.to_docx(tmp_path / "t.docx")
    import docx

    doc = docx.Document(tmp_path / "t.docx")
    assert [c.text for c in doc.tables[0].rows[1].cells][2:4] == ["1,621", "33.3 (30.1–36.4)"]
    assert doc.paragraphs[-1].text == "n = schools (unweighted)."


def test_numbers_are_recognised_as_published():
    assert numeric_column(["1.621", "33,3 (30,1–36,4)", "<0,001", "•", ""])   # German edition
    assert numeric_column(["−0.52", "11.2–251.9"])
    assert not numeric_column(["GP", "12"]) and not numeric_column(["", "•"])


def test_table_one_renders_through_the_publication_table():
    d = SurveyDesign(datasets.load("apistrat"), weights="pw", strata="stype", fpc="fpc")
    t1 = table_one(d, ["sch.wide"], by="stype")
    pub = t1.publication()
    assert isinstance(pub, PublicationTable) and pub.id == "table-one"
    assert t1.to_html() == pub.to_html()
    shown = t1.display_frame()
    assert pub.rows == shown.astype(str).values.tolist()
    assert pub.spanners[1:3] == ["Overall", "Overall"] and pub.header[1:3] == ["n", "estimate"]
    html = t1.to_html()
    assert "<caption" in html and html.count('scope="colgroup"') == 4   # Overall, E, H, M



def test_model_table_has_reference_rows_ratios_and_the_n_the_fit_used():
    from analysis import svyglm
    from analysis.pubtable import model_table

    api = datasets.load("apistrat")
    api = api.assign(wide=(api["sch.wide"] == "Yes").astype(float), class_size=api["acs.46"])
    d = SurveyDesign(api, weights="pw", strata="stype", fpc="fpc")
    fit = svyglm("wide ~ class_size + C(stype)", d, family="quasibinomial")
    tab = model_table(fit, exponentiate=True, words={"ratio": "OR"})
    assert tab.header == ["Characteristic", "OR", "95% CI", "p value"]
    rows = {r[0]: r[1:] for r in tab.rows}
    assert list(rows) == ["stype: E", "stype: H", "stype: M", "class_size"]   # the fit's order
    assert rows["stype: E"] == ["1.00 (ref.)", "", ""]                       # the reference
    ci = fit.conf_int()
    assert rows["stype: M"][0] == f"{np.exp(fit.params['C(stype)[T.M]']):.2f}"
    assert rows["class_size"][1] == f"{np.exp(ci.loc['class_size'].iloc[0]):.2f}–" \
                                    f"{np.exp(ci.loc['class_size'].iloc[1]):.2f}"
    assert int(fit.nobs) == 134 and tab.notes == ["n = 134 of 200 observations used."]
    german = model_table(fit, exponentiate=True, number=lambda x, k: f"{x:.{k}f}".replace(".", ","),
                         words={"ratio": "OR", "ref": "Referenz"})
    assert {r[0]: r for r in german.rows}["stype: E"][1] == "1,00 (Referenz)"
