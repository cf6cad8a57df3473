"""Table 1 (weighted characteristics by group) equals R survey's svyciprop / svymean / svychisq /
regTermTest on the api stratified sample (tests/analysis/reference/extra_tableone.R), and its exports
(HTML, LaTeX, Word, Excel) carry the same cells."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.tableone import table_one

REF = json.loads((Path(__file__).parent / "reference" / "extra_tableone.json").read_text())


@pytest.fixture(scope="module")
def t1(apistrat_module):
    d = analysis.SurveyDesign(apistrat_module, weights="pw", strata="stype", fpc="fpc")
    return table_one(d, ["sch.wide", "api00"], by="stype")


@pytest.fixture(scope="module")
def apistrat_module():
    from conftest import load_api
    return load_api("apistrat")


@pytest.mark.parametrize("column, key", [("Overall", "overall"), ("E", "stype_E"),
                                         ("H", "stype_H"), ("M", "stype_M")])
def test_cells_equal_r(t1, column, key):
    rows = t1.to_frame().set_index(["variable", "level", "column"])
    yes = rows.loc[("sch.wide", "Yes", column)]
    ref = REF[key]["sch_wide_yes"]
    np.testing.assert_allclose(yes["estimate"], ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(yes["se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose([yes["ci_low"], yes["ci_high"]], ref["ci"], rtol=1e-8)
    m = rows.loc[("api00", "", column)]
    ref = REF[key]["api00"]
    np.testing.assert_allclose(m["estimate"], ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(m["se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose([m["ci_low"], m["ci_high"]], ref["ci"], rtol=1e-8)


def test_tests_equal_r(t1):
    chi, wald = REF["chisq_sch_wide_by_stype"], REF["wald_api00_by_stype"]
    t = t1.tests
    np.testing.assert_allclose(t.loc["sch.wide", ["statistic", "ndf", "ddf", "p"]].astype(float),
                               [chi["F"], chi["ndf"], chi["ddf"], chi["p"]], rtol=1e-8)
    np.testing.assert_allclose(t.loc["api00", ["statistic", "ndf", "ddf", "p"]].astype(float),
                               [wald["F"], wald["df"], wald["ddf"], wald["p"]], rtol=1e-8)


def test_unweighted_n_and_missing_rows(apistrat_module):
    df = apistrat_module.copy()
    df.loc[df.index[:3], "api00"] = np.nan
    d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    t = table_one(d, ["api00"], by="stype", tests=False).to_frame()
    miss = t[t["kind"] == "missing"].set_index("column")["n"]
    assert miss["Overall"] == 3 and miss.sum() == 6
    n = t[t["kind"] == "mean"].set_index("column")["n"]
    assert n["Overall"] == 197
    assert n.drop("Overall").sum() == 197


def test_published_table_and_exports_carry_the_same_cells(t1, tmp_path):
    shown = t1.display_frame()
    assert list(shown.columns[:3]) == ["Characteristic", "Overall n", "Overall"]
    e = REF["stype_E"]["sch_wide_yes"]
    cell = f"{100 * e['estimate']:.1f} ({100 * e['ci'][0]:.1f}, {100 * e['ci'][1]:.1f})"
    assert cell in shown["E"].tolist()
    html, tex = t1.to_html(), t1.to_latex()
    assert cell in html and cell in tex
    assert html == t1.to_html()            # deterministic (no random table id)
    t1.to_excel(tmp_path / "t1.xlsx")
    back = pd.read_excel(tmp_path / "t1.xlsx", sheet_name="Table 1", dtype=str)
    assert cell in back["E · estimate"].tolist()        # spanner · column label: one header row
    t1.to_docx(tmp_path / "t1.docx")
    import docx
    texts = [c.text for row in docx.Document(tmp_path / "t1.docx").tables[0].rows for c in row.cells]
    assert cell in texts and "Characteristic" in texts
