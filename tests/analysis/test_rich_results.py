"""Every result object shows itself in Jupyter as HTML carrying its numbers, prints as plain
text, and gives a tidy frame (issue: rich results everywhere)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import analysis


@pytest.fixture
def dstrat(apistrat):
    return analysis.SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")


def _numbers(html: str) -> set[str]:
    return set(re.findall(r"-?\d+\.\d+", html))


def test_estimate_html_has_the_estimates_and_the_design_note(dstrat):
    est = dstrat.mean(["api00", "api99"])
    html = est._repr_html_()
    for v in est["estimate"]:
        assert f"{v:.6f}" in html
    assert "95% CI: normal" in html or "95% CI: t(" in html
    assert "design df = 197" in html
    tidy = est.to_frame()
    assert list(tidy.columns) == ["estimate", "se", "ci_low", "ci_high", "df"]


def test_model_summary_is_text_html_and_latex_with_the_same_numbers(dstrat):
    fit = analysis.svyglm("api00 ~ ell + meals", dstrat)
    s = fit.summary()
    html, tex, text = s.as_html(), s.as_latex(), str(s)
    coef = f"{fit.params['ell']:.6g}"
    assert coef in text and coef in html and coef in tex
    assert "<table" in html and "<th>" in html and html.count("<thead>") == 1
    assert "Taylor linearisation" in html
    assert fit._repr_html_() == html
    frame = fit.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "df", "n"} <= set(frame.columns)
    assert (frame["n"] == 200).all() and (frame["df"] == fit.df_resid).all()


def test_crosstab_html_has_cells_and_the_test(dstrat):
    tab = dstrat.crosstab("stype", "sch.wide")
    html = tab._repr_html_()
    first = tab.table.iloc[0, 0]
    assert f"{first:.6g}" in html
    assert "Rao-Scott" in html or "F =" in html
    long = tab.to_frame()
    np.testing.assert_allclose(long["share"].sum(), 1.0)
    np.testing.assert_allclose(long["weighted_count"].sum(), tab.table.to_numpy().sum())


def test_wald_test_and_weight_diagnostics_html(dstrat):
    fit = analysis.svyglm("api00 ~ ell + meals", dstrat)
    w = fit.wald_test("ell + meals")
    assert f"{w.statistic:.6g}" in w._repr_html_()
    diag = dstrat.weight_diagnostics()
    html = diag._repr_html_()
    assert f"{diag.summary['n_eff']:.4g}" in html and "<table" in html
    assert diag.to_frame().loc["n", "value"] == 200
