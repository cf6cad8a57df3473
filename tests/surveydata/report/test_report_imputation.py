"""The report's imputation section: its numbers are analysis.impute + Rubin's rules computed
directly, its sentence quotes them and says "about the same" only when the intervals support it,
rows not asked stay out, and counts under k are not shown."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import analysis
from surveydata.report import data as rdata
from surveydata.report import findings as fd
from surveydata.report import pages_imputation as pi

N = 2  # the first N variables the study imputes
M = 5  # fewer completed data sets than the report's 20 keep the test fast; the code path is one


@pytest.fixture(scope="module")
def report():
    rd = rdata.load_data(lang="en")
    spec = rd.study.analysis.imputation
    spec = dataclasses.replace(spec, variables=spec.variables[:N], m=M)
    study = dataclasses.replace(rd.study, analysis=dataclasses.replace(rd.study.analysis,
                                                                       imputation=spec))
    rd = dataclasses.replace(rd, study=study)
    d = rdata.weighting(rd).final
    return rd, d, spec, pi.imputation_results(rd, d, k=5)


def _item(rd, var: str) -> str:
    """The item an imputed indicator comes from, as the study declares it (derived: inputs)."""
    (item,) = rd.study.derived_variable(var).inputs
    return item


def _direct(rd, d, spec, i, var):
    """impute -> not-asked rows back to missing -> mean on each -> combine, written out here."""
    not_asked = (rd.valid[f"{_item(rd, var)}__missing"] == "not_applicable").to_numpy()
    # categorical predictors by their codes (language-independent), numbers as they are
    codes = {f"{p}__code": pd.Categorical(d.data[p].cat.codes.where(d.data[p].notna()))
             for p in spec.predictors
             if isinstance(d.data[p].dtype, pd.CategoricalDtype)}
    predictors = [f"{p}__code" if f"{p}__code" in codes else p for p in spec.predictors]
    assert codes and len(predictors) == len(spec.predictors)
    imp = analysis.impute(d.assign(**codes), [var], m=spec.m, seed=spec.seed + i,
                          predictors=predictors)
    ests = []
    for c in imp.designs:
        filled = c.data[var].to_numpy(dtype=float).copy()
        filled[not_asked] = np.nan
        assert not np.isnan(filled[~not_asked]).any()          # every asked row is complete
        assert set(np.unique(filled[~not_asked])) <= {0.0, 1.0}   # observed values only
        ests.append(c.assign(**{var: filled}).mean(var, na_rm=True))
    return ests, analysis.combine(ests, df_complete=float(d.degf)).iloc[0]


@pytest.mark.parametrize("i", range(N))
def test_numbers_are_impute_and_rubins_rules(report, i):
    rd, d, spec, results = report
    var = spec.variables[i]
    row = results.loc[var]
    ests, combined = _direct(rd, d, spec, i, var)
    for col in ("estimate", "se", "ci_low", "ci_high", "df", "missing_info"):
        mine = row["missing_info" if col == "missing_info" else f"mi_{col}"]
        assert mine == pytest.approx(combined[col], rel=1e-12, abs=1e-15), col
    # Rubin's rules by hand: Q = mean, T = U + (1 + 1/m) B
    q = np.array([float(e["estimate"].iloc[0]) for e in ests])
    u = np.array([float(e["se"].iloc[0]) ** 2 for e in ests])
    assert row["mi_estimate"] == pytest.approx(q.mean(), rel=1e-12)
    assert row["mi_se"] == pytest.approx(np.sqrt(u.mean() + (1 + 1 / M) * q.var(ddof=1)), rel=1e-10)
    # complete cases: the estimates page's number (svymean na.rm = TRUE)
    cc = d.mean(var, na_rm=True)
    assert row["cc_estimate"] == pytest.approx(float(cc["estimate"].iloc[0]), rel=1e-12)
    assert row["cc_ci_low"] == pytest.approx(float(cc["ci_low"].iloc[0]), rel=1e-12)
    # what was imputed: the don't-know and unanswered rows, not the rows never asked
    reasons = rd.valid[f"{_item(rd, var)}__missing"]
    assert row["n_imputed"] == int(reasons.isin(["dont_know", "no_answer"]).sum()) > 0
    assert row["n_observed"] == int(d.data[var].notna().sum())
    assert row["m"] == M and not row["suppressed"]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_sentence_quotes_the_numbers(report, lang):
    rd, _, _, results = report
    for var, row in results.iterrows():
        f = pi.imputation_finding(rd.label(var), row, lang)
        numbers = fd.parse_numbers(f.text.split(": ", 1)[1], lang)
        expected = [round(100 * row[c], 1) for c in ("mi_estimate",)] + [95.0] + \
                   [round(100 * row[c], 1) for c in ("mi_ci_low", "mi_ci_high", "cc_estimate")] + \
                   [95.0] + [round(100 * row[c], 1) for c in ("cc_ci_low", "cc_ci_high")]
        assert numbers[:8] == pytest.approx(expected, abs=1e-9), f.text
        assert f.quotes["mi_estimate"] == row["mi_estimate"]
        inside = (row["cc_ci_low"] <= row["mi_estimate"] <= row["cc_ci_high"]
                  and row["mi_ci_low"] <= row["cc_estimate"] <= row["mi_ci_high"])
        assert (f.quotes["change"] == "same") == inside
        assert ("about the same" in f.text or "etwa gleich" in f.text) == inside


def _row(**changes):
    base = {"kind": "share", "n_observed": 500, "n_imputed": 40, "cc_estimate": 0.30,
            "cc_ci_low": 0.26, "cc_ci_high": 0.34, "mi_estimate": 0.31, "mi_se": 0.02,
            "mi_ci_low": 0.27, "mi_ci_high": 0.35, "mi_df": 300.0, "missing_info": 0.1, "m": 20,
            "suppressed": False}
    return pd.Series({**base, **changes})


def test_a_change_is_stated_only_beyond_the_intervals():
    same = pi.imputation_finding("X", _row(), "en")
    assert same.quotes["change"] == "same" and "about the same" in same.text
    higher = pi.imputation_finding("X", _row(mi_estimate=0.36, mi_ci_low=0.32, mi_ci_high=0.40), "en")
    assert higher.quotes["change"] == "higher" and "higher with imputation" in higher.text
    lower = pi.imputation_finding("X", _row(mi_estimate=0.25, mi_ci_low=0.21, mi_ci_high=0.29), "de")
    assert lower.quotes["change"] == "lower" and "niedriger mit Imputation" in lower.text
    assert "25,0 %" in lower.text and "30,0 %" in lower.text


def test_disclosure_in_the_table():
    results = pd.DataFrame({"a": _row(), "b": _row(n_imputed=3), "c": _row(suppressed=True)}).T
    table = pi.imputation_table(results, str.upper, "en", k=5)
    assert table.loc["A"].tolist() == ["30.0", "26.0–34.0", "500", "31.0", "27.0–35.0", "40", "10.0"]
    assert table.loc["B", "Imputed answers"] == "•"                 # 1 to k-1 imputed: hidden
    assert table.loc["B"].drop("Imputed answers").tolist() == table.loc["A"].drop("Imputed answers").tolist()
    assert set(table.loc["C"]) == {"•"}                             # suppressed on the page: here too


def test_no_declaration_no_section(report):
    rd, d, _, _ = report
    study = dataclasses.replace(rd.study, analysis=dataclasses.replace(rd.study.analysis,
                                                                       imputation=None))
    assert pi.imputation_results(dataclasses.replace(rd, study=study), d) is None


def test_only_the_declared_kinds_of_missing_answers_are_imputed(report):
    rd, d, spec, _ = report
    var = spec.variables[0]                # an item some were not asked (skip logic)
    reasons = rd.valid[f"{_item(rd, var)}__missing"]
    both = pi.imputable_rows(rd, d.data, var, ("dont_know", "no_answer"))
    dont_know = pi.imputable_rows(rd, d.data, var, ("dont_know",))
    assert both.sum() == reasons.isin(["dont_know", "no_answer"]).sum()
    assert both.sum() > dont_know.sum() == (reasons == "dont_know").sum() > 0
    assert not both[(reasons == "not_applicable").to_numpy()].any()   # not asked: never imputed
    # a variable whose items do not say why it is missing: every missing value is imputable
    data = d.data.assign(fresh=np.where(np.arange(len(d.data)) % 7 == 0, np.nan, 1.0))
    assert (pi.imputable_rows(rd, data, "fresh", ("dont_know",)) == data["fresh"].isna()).all()


def test_both_editions_impute_the_same_values(report):
    """Category labels (the edition's language) do not change the imputations."""
    rd, d, spec, results = report
    relabelled = {p: d.data[p].cat.rename_categories([f"z{9 - j}" for j in
                                                      range(len(d.data[p].cat.categories))])
                  for p in spec.predictors if isinstance(d.data[p].dtype, pd.CategoricalDtype)}
    one = dataclasses.replace(spec, variables=spec.variables[:1])
    study = dataclasses.replace(rd.study, analysis=dataclasses.replace(rd.study.analysis,
                                                                       imputation=one))
    again = pi.imputation_results(dataclasses.replace(rd, study=study), d.assign(**relabelled))
    var = spec.variables[0]
    assert again.loc[var, "mi_estimate"] == results.loc[var, "mi_estimate"]
    assert again.loc[var, "mi_se"] == results.loc[var, "mi_se"]


def test_a_predictor_with_gaps_is_a_one_line_error_naming_the_key(report):
    rd, d, spec, _ = report
    gappy = dataclasses.replace(spec, predictors=("kbv_size_class",))
    assert d.data["kbv_size_class"].isna().any()
    study = dataclasses.replace(rd.study, analysis=dataclasses.replace(rd.study.analysis,
                                                                       imputation=gappy))
    with pytest.raises(rdata.ReportDataError) as err:
        pi.imputation_results(dataclasses.replace(rd, study=study), d)
    message = str(err.value)
    assert "\n" not in message and "analysis.imputation" in message
    assert "predictor kbv_size_class has missing values" in message
