"""The report's models with multiple imputation: the numbers are analysis.impute (rows not asked
left out) + a fit per completed design + Rubin's rules computed directly here, the rows used are
counted from the data, the sentences quote the numbers and say "about the same" only when the
intervals support it, and what cannot be done is a one-line error naming the key."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import patsy
import pytest

import analysis
from surveydata.report import data as rdata
from surveydata.report import findings as fd
from surveydata.report import model_imputation as mi
from surveydata.report import pages_imputation as pi

M = 5  # fewer completed data sets than the report's keep the test fast; the code path is one


def _with(rd, **changes):
    spec = dataclasses.replace(rd.study.analysis.imputation, **changes)
    study = dataclasses.replace(rd.study, analysis=dataclasses.replace(rd.study.analysis,
                                                                       imputation=spec))
    return dataclasses.replace(rd, study=study)


@pytest.fixture(scope="module")
def report():
    rd = rdata.load_data(lang="en")
    rd = _with(rd, m=M)
    d = rdata.weighting(rd).final
    results = {name: mi.model_imputation(rd, d, name) for name in rd.study.analysis.imputation.models}
    return rd, d, results


def _variables(formula: str) -> list[str]:
    """The data columns of a formula, read by patsy (not by the code under test)."""
    desc = patsy.ModelDesc.from_formula(formula)
    names = []
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            code = factor.code
            names.append(code[2:-1] if code.startswith("C(") else code)
    return list(dict.fromkeys(names))


def _direct(rd, d, name):
    """Structural rows out, impute jointly, fit on each completed design, Rubin's rules."""
    spec = rd.study.analysis.imputation
    plan = rd.study.analysis.model(name)
    variables = _variables(plan.formula)
    data = d.data
    # a row is imputable for a variable when every source item that says why it is missing
    # says "don't know" or "no answer"; anything else (not asked) keeps the row out
    out = np.zeros(len(data), dtype=bool)
    for v in variables:
        gap = data[v].isna().to_numpy()
        if gap.any():
            out |= gap & ~pi.imputable_rows(rd, data, v, spec.missing)
    gaps = [v for v in variables if data[v][~out].isna().any()]
    complete = list(dict.fromkeys([*spec.predictors, *(v for v in variables if v not in gaps)]))
    codes = {f"{p}__code": pd.Categorical(data[p].cat.codes.where(data[p].notna()))
             for p in complete if isinstance(data[p].dtype, pd.CategoricalDtype)}
    predictors = [f"{p}__code" if f"{p}__code" in codes else p for p in complete]
    seed = spec.seed + 1000 * (spec.models.index(name) + 1)
    imp = analysis.impute(d.assign(**codes), gaps, m=spec.m, seed=seed, predictors=predictors,
                          rows=~out)
    if plan.family == "ordinal":
        fits = [analysis.svyolr(plan.formula, c) for c in imp]
        cc = analysis.svyolr(plan.formula, d)
    else:
        fits = [analysis.svyglm(plan.formula, c, family=plan.family) for c in imp]
        cc = analysis.svyglm(plan.formula, d, family=plan.family)
    return out, gaps, imp, fits, cc


@pytest.mark.parametrize("name", ["incident", "implementation"])
def test_numbers_are_impute_fits_and_rubins_rules(report, name):
    rd, d, results = report
    res = results[name]
    out, gaps, _imp, fits, cc = _direct(rd, d, name)
    combined = analysis.combine(fits, df_complete=fits[0].df_resid)
    table = res.comparison
    assert list(table.index) == [str(i) for i in cc.params.index]
    for mine, theirs in (("mi_estimate", "estimate"), ("mi_se", "se"), ("mi_ci_low", "ci_low"),
                         ("mi_ci_high", "ci_high"), ("mi_df", "df"), ("missing_info", "missing_info")):
        np.testing.assert_allclose(table[mine], combined[theirs], rtol=1e-12, err_msg=mine)
    # Rubin's rules by hand for the variances: T = U + (1 + 1/m) B
    Q = np.array([f.params.to_numpy() for f in fits])
    U = np.mean([np.diag(f.cov_params().to_numpy()) for f in fits], axis=0)
    np.testing.assert_allclose(table["mi_se"], np.sqrt(U + (1 + 1 / M) * Q.var(axis=0, ddof=1)),
                               rtol=1e-10)
    np.testing.assert_allclose(table["cc_estimate"], cc.params, rtol=1e-12)
    np.testing.assert_allclose(table["cc_ci_low"], cc.conf_int().iloc[:, 0], rtol=1e-12)
    # rows used: complete cases counted in the data; with imputation every row asked
    variables = _variables(rd.study.analysis.model(name).formula)
    complete_rows = d.data[variables].notna().all(axis=1)
    assert res.n_complete == cc.nobs == int(complete_rows.sum())
    assert res.n_imputed == int((~out).sum()) == fits[0].nobs > res.n_complete
    assert res.n_all == len(d.data)
    assert res.imputed == {v: int(d.data[v][~out].isna().sum()) for v in gaps}
    assert sum(res.imputed.values()) > 0 and res.m == M


def test_key_coefficients_are_the_terms_not_controlled_for(report):
    rd, _, results = report
    controls = rd.study.analysis.controls
    table = results["incident"].comparison
    keys = set(table.index[table["key"]])
    assert keys and "Intercept" not in keys
    assert not any(k.startswith(c) for k in keys for c in controls)
    controlled = [i for i in table.index if any(i.startswith(f"{c}[") for c in controls)]
    assert controlled and keys == set(table.index) - set(controlled) - {"Intercept"}
    ordinal = results["implementation"].comparison
    assert not ordinal.loc[[i for i in ordinal.index if "|" in i], "key"].any()   # cut points


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_sentences_quote_the_numbers(report, lang):
    rd, _, results = report
    for res in results.values():
        found = mi.model_findings(res, rd, lang)
        n = found[0]
        assert fd.parse_numbers(n.text, lang) == [res.n_complete, res.n_all, res.n_imputed,
                                                   sum(res.imputed.values()), M]
        keys = res.comparison[res.comparison["key"]]
        assert len(found) == 1 + len(keys)
        for f, (_, row) in zip(found[1:], keys.iterrows(), strict=True):
            numbers = fd.parse_numbers(f.text.split(": ", 1)[1], lang)
            exp = [round(np.exp(row[c]), 2) for c in ("mi_estimate", "mi_ci_low", "mi_ci_high",
                                                       "cc_estimate", "cc_ci_low", "cc_ci_high")]
            assert numbers[:8] == pytest.approx(exp[:1] + [95.0] + exp[1:4] + [95.0] + exp[4:],
                                                abs=1e-9), f.text
            inside = (row["cc_ci_low"] <= row["mi_estimate"] <= row["cc_ci_high"]
                      and row["mi_ci_low"] <= row["cc_estimate"] <= row["mi_ci_high"])
            assert (f.quotes["change"] == "same") == inside
            assert ("about the same" in f.text or "etwa gleich" in f.text) == inside
            assert f.text.startswith(rd.label(row.name)) or ":" in f.text


def _row(**changes):
    base = {"cc_estimate": 0.30, "cc_ci_low": 0.10, "cc_ci_high": 0.50, "mi_estimate": 0.35,
            "mi_ci_low": 0.15, "mi_ci_high": 0.55}
    return pd.Series({**base, **changes})


def test_a_change_is_stated_only_beyond_the_intervals():
    same = mi.coefficient_finding("X", _row(), "en", "OR")
    assert same.quotes["change"] == "same" and "about the same" in same.text
    assert "OR 1.42 with imputation (95% CI 1.16–1.73), 1.35 among complete cases" in same.text
    # the complete-case estimate outside the imputed interval
    higher = mi.coefficient_finding("X", _row(mi_estimate=0.62, mi_ci_low=0.52, mi_ci_high=0.72), "en")
    assert higher.quotes["change"] == "higher"
    assert "higher with imputation (the complete-case estimate lies outside the imputed 95% CI)" \
        in higher.text and "Coefficient 0.62" in higher.text
    # only the imputed estimate outside the complete-case interval (the imputed CI is wide)
    lower = mi.coefficient_finding("X", _row(mi_estimate=0.05, mi_ci_low=-0.5, mi_ci_high=0.6), "de")
    assert lower.quotes["change"] == "lower"
    assert "niedriger mit Imputation (die Schätzung mit Imputation liegt außerhalb des 95-%-KI " \
           "aus vollständigen Fällen)" in lower.text


def test_the_table_shows_ratios_without_intercept_and_cut_points(report):
    rd, _, results = report
    for res in results.values():
        table = mi.model_imputation_table(res, rd, "en")
        slopes = [i for i in res.comparison.index if i != "Intercept" and "|" not in i]
        assert len(table) == len(slopes)
        first = res.comparison.loc[slopes[0]]
        assert table.iloc[0, 0] == f"{np.exp(first['cc_estimate']):.2f}"
        assert table.iloc[0, 3] == f"{np.exp(first['mi_ci_low']):.2f}–{np.exp(first['mi_ci_high']):.2f}"
        assert table.iloc[0, 4] == f"{100 * first['missing_info']:.1f}"


def test_what_is_fitted_comes_from_the_declaration(report):
    rd, d, _ = report
    assert [m.name for m in mi.imputed_models(rd)] == list(rd.study.analysis.imputation.models)
    assert mi.imputed_models(_with(rd, models=())) == []
    with pytest.raises(rdata.ReportDataError) as err:
        mi.model_imputation(_with(rd, models=("incident",)), d, "implementation")
    assert "\n" not in str(err.value)
    assert "model implementation: not listed under analysis.imputation.models (incident)" in str(err.value)


def test_categories_without_order_are_kept_out_and_said_so(report):
    rd, d, _ = report
    # the measures model has an unordered categorical predictor with gaps (IT support model):
    # predictive mean matching cannot impute it, so its rows stay out of both fits, in words
    nominal = [v for v in _variables(rd.study.analysis.model("measures").formula)
               if isinstance(d.data[v].dtype, pd.CategoricalDtype) and not d.data[v].cat.ordered
               and len(d.data[v].cat.categories) > 2 and d.data[v].isna().any()]
    assert nominal
    res = mi.model_imputation(_with(rd, models=("measures",)), d, "measures")
    assert res.kept_out == {v: int(d.data[v].isna().sum()) for v in nominal}
    assert not set(nominal) & set(res.imputed)
    assert res.n_imputed <= res.n_all - max(res.kept_out.values())
    said = mi.model_findings(res, rd, "en")[1]
    assert said.text.startswith("Not imputed (categories without an order): ")
    assert f"{rd.label(nominal[0])} missing in {res.kept_out[nominal[0]]} rows" in said.text


def test_a_predictor_with_gaps_is_a_one_line_error_naming_the_key(report):
    rd, d, _ = report
    gappy = next(v for v in ("kbv_size_class",) if d.data[v].isna().any())
    rd = _with(rd, predictors=(*rd.study.analysis.imputation.predictors, gappy))
    with pytest.raises(rdata.ReportDataError) as err:
        mi.model_imputation(rd, d, "incident")
    message = str(err.value)
    assert "\n" not in message and "analysis.imputation.models: model incident: " in message
    assert f"predictor {gappy} has missing values" in message and "__code" not in message


@pytest.fixture(scope="module")
def blocks(report):
    rd, d, _ = report
    outcome = rd.study.analysis.model("incident").formula.split("~")[0].strip()
    return outcome, mi.block_imputation(rd, d, outcome)


def test_block_tests_among_complete_cases_are_the_block_comparison(report, blocks):
    rd, d, _ = report
    outcome, res = blocks
    table = analysis.compare_blocks(d, outcome, rdata.blocks(rd), controls=rdata.controls(rd),
                                    family="quasibinomial")
    np.testing.assert_allclose(res.table["cc_F"], table.loc[res.table.index, "F"], rtol=1e-10)
    np.testing.assert_allclose(res.table["cc_p"], table.loc[res.table.index, "p"], rtol=1e-8)
    assert list(res.table["cc_df"]) == list(table.loc[res.table.index, "df"])


def test_block_tests_with_imputation_are_d1_over_the_completed_fits(report, blocks):
    from analysis.imputation import pooled_wald_test

    rd, d, _ = report
    _, res = blocks
    spec = rd.study.analysis.imputation
    variables = _variables(res.formula)
    out = np.zeros(len(d.data), dtype=bool)
    for v in variables:
        gap = d.data[v].isna().to_numpy()
        nominal = isinstance(d.data[v].dtype, pd.CategoricalDtype) and not d.data[v].cat.ordered \
            and len(d.data[v].cat.categories) > 2
        out |= gap if nominal else gap & ~pi.imputable_rows(rd, d.data, v, spec.missing)
    gaps = [v for v in variables if d.data[v][~out].isna().any()]
    complete = list(dict.fromkeys([*spec.predictors, *(v for v in variables if v not in gaps)]))
    codes = {f"{p}__code": pd.Categorical(d.data[p].cat.codes.where(d.data[p].notna()))
             for p in complete if isinstance(d.data[p].dtype, pd.CategoricalDtype)}
    predictors = [f"{p}__code" if f"{p}__code" in codes else p for p in complete]
    imp = analysis.impute(d.assign(**codes), gaps, m=spec.m,
                          seed=spec.seed + 1000 * (len(spec.models) + 1), predictors=predictors,
                          rows=~out)
    fits = [analysis.svyglm(res.formula, c, family="quasibinomial") for c in imp]
    assert res.n_imputed == fits[0].nobs == int((~out).sum()) > res.n_complete
    for block, terms in rdata.blocks(rd).items():
        names = fits[0].wald_test(list(terms)).coefficients
        test = pooled_wald_test(fits, names, df_complete=fits[0].df_resid)
        row = res.table.loc[block]
        assert (row["mi_F"], row["mi_ddf"], row["mi_p"]) == pytest.approx(
            (test.statistic, test.ddf, test.p_value), rel=1e-12)
        assert row["mi_df"] == len(names)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_block_sentences_quote_the_tests(report, blocks, lang):
    rd, _, _ = report
    _, res = blocks
    found = mi.block_findings(res, rd, str, lang)
    for f, (block, row) in zip(found[-len(res.table):], res.table.iterrows(), strict=True):
        numbers = fd.parse_numbers(f.text.split(": ", 1)[1], lang)
        assert numbers[0] == pytest.approx(round(row["cc_F"], 2))
        assert fd.fmt_p(row["cc_p"], lang) in f.text and fd.fmt_p(row["mi_p"], lang) in f.text
        both, neither = row["cc_p"] < 0.05 and row["mi_p"] < 0.05, row["cc_p"] >= 0.05 and row["mi_p"] >= 0.05
        assert (f.quotes["change"] == "both") == both and (f.quotes["change"] == "neither") == neither


def test_block_verdicts_follow_the_p_values():
    row = pd.Series({"cc_F": 3.0, "cc_p": 0.01, "mi_F": 1.5, "mi_p": 0.2})
    f = mi.block_finding("Info", row, "en")
    assert f.quotes["change"] == "cc_only" and "among complete cases only" in f.text
    assert mi.block_verdict(row.replace({0.01: 0.3})) == "neither"
    assert mi.block_verdict(pd.Series({"cc_p": 0.3, "mi_p": 0.001})) == "mi_only"
    assert mi.block_verdict(pd.Series({"cc_p": 0.049, "mi_p": 0.001})) == "both"
