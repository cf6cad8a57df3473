"""Wald tests of several terms, predictions, predictive margins and block comparison against R
(extra_models.R), plus the behaviour of the svyglm result object (summary, tidy, odds ratios,
errors and warnings). R's fits in extra_models.json are 'tight' (refitted from the converged
coefficients), so the model numbers agree to 1e-8; see test_svyglm_reference.py for why."""
from __future__ import annotations

import json
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

from analysis.design import ReplicateDesign, SurveyDesign
from analysis.models import (
    SurveyModelWarning,
    compare_blocks,
    predictive_margins,
    standardised_effects,
    svyglm,
)

TIGHT = 1e-8


@pytest.fixture(scope="module")
def extra() -> dict:
    return json.loads((REFERENCE_DIR / "extra_models.json").read_text())


@pytest.fixture(scope="module")
def interaction_fit(dstrat):
    return svyglm("api00 ~ ell * meals + stype", dstrat)


@pytest.fixture(scope="module")
def qbin_dstrat(dstrat):
    return svyglm('Q("sch.wide") ~ ell + meals + mobility', dstrat, family="quasibinomial")


# ------------------------------------------------------------------ Wald tests
@pytest.mark.parametrize(("case", "terms"), [
    ("interaction_stype", "stype"),
    ("interaction_ell_meals", "meals:ell"),          # interaction terms match in any order
    ("interaction_stype_and_ell_meals", ["stype", "ell:meals"]),
])
def test_wald_test_of_factor_and_interaction_terms(case, terms, interaction_fit, extra):
    ref = extra["regTermTest"][case]
    test = interaction_fit.wald_test(terms)
    assert (test.df, test.ddf) == (ref["df"], ref["ddf"])
    assert_close(test.statistic, ref["Ftest"], TIGHT)
    assert_close(test.p_value, ref["p"], 10 * TIGHT)


def test_wald_chisq_method_is_rs_df_inf(qbin_dstrat, extra):
    ref = extra["regTermTest"]["qbin_dstrat_ell_meals_chisq"]
    test = qbin_dstrat.wald_test("~ ell + meals", method="chisq")
    assert test.df == ref["df"] == 2 and np.isinf(test.ddf)
    # reference d's model: R's SEs from penultimate IRLS weights (see test_svyglm_reference): 2e-5
    assert_close(test.statistic, ref["chisq"], 2e-5)
    assert_close(test.p_value, ref["p"], 2e-5)


def test_wald_test_unknown_term_names_the_terms(interaction_fit):
    with pytest.raises(KeyError, match="'mobility' is not in the model"):
        interaction_fit.wald_test("mobility")


def test_wald_test_with_null_value_equals_squared_t(qbin_dstrat):
    b = qbin_dstrat.params["ell"]
    test = qbin_dstrat.wald_test("ell", null=b + qbin_dstrat.bse["ell"])
    assert_close(test.statistic, 1.0, 1e-12)        # ((b - (b + se)) / se)^2
    assert "Wald test for ell" in repr(test)


# ------------------------------------------------------------------ predictions
@pytest.mark.parametrize("kind", ["link", "response"])
def test_predict_with_design_based_se(kind, qbin_dstrat, extra, apistrat):
    ref = extra["predict"]
    new = apistrat.iloc[np.array(ref["rows"]) - 1][["ell", "meals", "mobility"]]
    pred = qbin_dstrat.predict(new, type=kind)
    # reference d's model fitted with epsilon 1e-12 (stale working weights): SE to 1e-5
    assert_close(pred["estimate"], ref[kind]["estimate"], 1e-8)
    assert_close(pred["se"], ref[kind]["se"], 1e-5)
    assert list(pred.index) == list(new.index)


def test_predict_without_newdata_gives_fitted_values(qbin_dstrat, extra):
    pred = qbin_dstrat.predict(type="response")
    assert len(pred) == 200
    # R's predictions at rows 1, 51, 101, 151, 200 (extra_models.json predict, response scale)
    rows = np.array(extra["predict"]["rows"]) - 1
    assert_close(pred["estimate"].iloc[rows], extra["predict"]["response"]["estimate"], 1e-8)
    assert_close(pred["estimate"], qbin_dstrat.fittedvalues, 1e-12)


# ------------------------------------------------------------------ predictive margins
def test_predictive_margins_binomial_taylor(dstrat, extra):
    ref = extra["margins"]["qbin_dstrat_stype"]
    fit = svyglm('Q("sch.wide") ~ ell + meals + stype', dstrat, family="quasibinomial")
    pm = predictive_margins(fit, "stype")
    assert list(pm.index) == ref["levels"]
    assert_close(pm["estimate"], list(ref["estimate"].values()), TIGHT)
    assert_close(pm["se"], list(ref["se"].values()), TIGHT)
    V = np.array(ref["vcov"]["rows"])
    assert_close(pm.vcov.to_numpy(), V, 1e-7)
    assert pm.attrs["df"] == ref["df"] == 197


def test_predictive_margins_gaussian_cluster(dclus1, extra):
    ref = extra["margins"]["gauss_dclus1_stype"]
    pm = predictive_margins(svyglm("api00 ~ ell + meals + stype", dclus1), "stype")
    assert_close(pm["estimate"], list(ref["estimate"].values()), TIGHT)
    assert_close(pm["se"], list(ref["se"].values()), TIGHT)
    # t interval with the design df (14), from R's estimate and SE
    from scipy import stats
    q = stats.t.ppf(0.975, 14)
    r_est, r_se = np.array(list(ref["estimate"].values())), np.array(list(ref["se"].values()))
    assert_close(pm["ci_low"], r_est - q * r_se, TIGHT)
    assert_close(pm["ci_high"], r_est + q * r_se, TIGHT)


def test_predictive_margins_replicate_design(reference, extra, apiclus1):
    spec = reference["g_replicate"]["JK1_dclus1"]["design"]
    rw = pd.read_csv(DATA_DIR / "repweights_JK1_dclus1.csv")
    d = ReplicateDesign(apiclus1.assign(w_full=rw["full_sample_weight"].to_numpy()),
                        repweights=rw[[f"rep{i + 1}" for i in range(15)]].to_numpy(), weights="w_full",
                        type="other", scale=spec["scale"], rscales=spec["rscales"], degf=spec["degf"])
    fit = svyglm('Q("sch.wide") ~ ell + meals + stype', d, family="quasibinomial")
    pm = predictive_margins(fit, "stype")
    ref = extra["margins"]["qbin_jk1_stype"]
    assert_close(pm["estimate"], list(ref["estimate"].values()), TIGHT)
    assert_close(pm["se"], list(ref["se"].values()), 1e-7)


def test_margins_of_a_variable_not_in_the_model_is_an_error(dstrat):
    fit = svyglm("api00 ~ ell + meals", dstrat)
    with pytest.raises(ValueError, match="does not change the model matrix"):
        predictive_margins(fit, "stype")


def test_margins_gradient_matches_finite_differences(dstrat):
    """The delta-method part: d m_k / d beta by finite differences equals the analytic G_k / N."""
    fit = svyglm('Q("sch.wide") ~ ell + meals + stype', dstrat, family="quasibinomial")
    pt = fit._point
    rows = dstrat.data[fit.used].assign(stype=pd.Categorical(["H"] * int(fit.used.sum()),
                                                             categories=["E", "H", "M"]))
    from analysis.models.formula import new_design_matrix
    X = new_design_matrix(fit.model_frame, rows)
    beta, w = fit.params.to_numpy(), pt.w

    def m(b):
        return np.sum(w / (1 + np.exp(-(X @ b)))) / w.sum()
    h = 1e-6
    num = np.array([(m(beta + h * e) - m(beta - h * e)) / (2 * h) for e in np.eye(len(beta))])
    mu = 1 / (1 + np.exp(-(X @ beta)))
    assert_close(num, (X * (w * mu * (1 - mu))[:, None]).sum(0) / w.sum(), 1e-6)


# ------------------------------------------------------------------ block comparison
def test_compare_blocks_against_r(dclus1, extra):
    ref = extra["blocks"]
    table = compare_blocks(dclus1, 'Q("sch.wide")', {"demog": ["ell", "meals"],
                                                     "school": ["mobility", "stype"]},
                           controls=["api99"], family="quasibinomial")
    assert list(table.index) == ["demog", "school"]
    for block in ("demog", "school"):
        wald = ref[f"wald_{block}"]
        assert_close(table.loc[block, "F"], wald["Ftest"], TIGHT)
        assert_close(table.loc[block, "p"], wald["p"], 10 * TIGHT)
        assert (table.loc[block, "df"], table.loc[block, "ddf"]) == (wald["df"], wald["ddf"])
        assert_close(table.loc[block, "d2_without"], ref[f"d2_without_{block}"], 1e-10)
    assert_close(table["d2_full"], ref["d2_full"], 1e-10)
    assert_close(table["delta_d2"], ref["d2_full"] - np.array([ref["d2_without_demog"],
                                                               ref["d2_without_school"]]), 1e-8)
    effects = table.attrs["effects"]
    rename = {"stypeH": "stype[T.H]", "stypeM": "stype[T.M]"}
    for name, value in ref["std_effect"].items():
        assert_close(effects.loc[rename.get(name, name), "std_effect"], value, TIGHT)
        assert_close(effects.loc[rename.get(name, name), "sd_x"], ref["sd_x"][name], 1e-12)
    assert effects.loc["api99", "block"] == "control"
    # the largest |standardised effect| of a block, from R's: demog max(|0.436|, |-1.621|)
    r = ref["std_effect"]
    assert_close(table.loc["demog", "std_effect_max_abs"], max(abs(r["ell"]), abs(r["meals"])), TIGHT)
    assert_close(table.loc["school", "std_effect_max_abs"],
                 max(abs(r["mobility"]), abs(r["stypeH"]), abs(r["stypeM"])), TIGHT)


def test_compare_blocks_uses_the_full_models_rows(apiclus1):
    data = apiclus1.copy()
    data.loc[data.index[:20], "mobility"] = np.nan      # missing only in the 'school' block
    d = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    table = compare_blocks(d, "api00", {"a": ["ell", "meals"], "b": ["mobility"]}, family="gaussian")
    # dropping block b must not bring back the 20 rows it made incomplete
    reduced = svyglm("api00 ~ ell + meals", d, subset=data["mobility"].notna().to_numpy())
    assert_close(table.loc["b", "d2_without"], reduced.deviance_explained, 1e-12)


def test_standardised_effects_are_coef_times_weighted_sd(dstrat, reference):
    fit = svyglm("api00 ~ ell + meals + mobility", dstrat)
    eff = standardised_effects(fit)
    # R's coefficient (reference.json d_svyglm gauss_dstrat) times the weighted SD by hand
    coef = reference["d_svyglm"]["gauss_dstrat"]["coef"]
    w = dstrat.weights
    for name in ("ell", "meals", "mobility"):
        x = dstrat.data[name].to_numpy(dtype=float)
        sd = np.sqrt(np.sum(w * (x - np.average(x, weights=w)) ** 2) / w.sum())
        assert_close(eff.loc[name, "sd_x"], sd, 1e-12)
        assert_close(eff.loc[name, "std_effect"], coef[name] * sd, 1e-8)


# ------------------------------------------------------------------ the result object
def _printed(token: str, value: float) -> bool:
    """The printed number is R's value rounded to the digits printed (half a unit of the last
    printed digit, whatever the format: 0.06811, -0.00248964, 2.358e-13)."""
    exponent = Decimal(token).as_tuple().exponent
    return abs(float(token) - value) <= 0.5 * 10.0 ** exponent * (1 + 1e-9) + 1e-15


def test_summary_prints_r_numbers(qbin_dstrat, extra):
    """Every number of the printed summary against R's (extra_models.json "tight" qbin_dstrat:
    svyglm(sch.wide ~ ell + meals + mobility, dstrat, quasibinomial) refitted tightly)."""
    ref = extra["tight"]["qbin_dstrat"]
    text = str(qbin_dstrat.summary())
    lines = text.splitlines()
    assert lines[1] == "Family: quasibinomial (link: logit)"
    assert "  n = 200, strata = 3, PSUs = 200, degf = 197" in lines
    assert ref["n_obs"] == 200 and ref["degf_design"] == 197 and ref["df_residual"] == 194
    used = next(ln for ln in lines if ln.startswith("Observations used"))
    assert used.split() == ["Observations", "used:", "200", "residual", "df:", "194", "dispersion:",
                            used.split()[-1]]
    assert _printed(used.split()[-1], ref["dispersion"])
    dev = next(ln for ln in lines if ln.startswith("Weighted deviance")).split()
    assert _printed(dev[2], ref["deviance"]) and _printed(dev[5], ref["null_deviance"])
    head = lines.index(next(ln for ln in lines if ln.split()[:2] == ["coef", "std"]))
    assert lines[head].split() == ["coef", "std", "err", "t", "P>|t|", "[0.025", "0.975]"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines[head + 1: head + 5]}
    assert list(rows) == ["Intercept", "ell", "meals", "mobility"]
    for name, cells in rows.items():
        r = "(Intercept)" if name == "Intercept" else name
        expected = [ref["coef"][r], ref["se"][r], ref["t_value"][r], ref["p_value"][r],
                    ref["ci_lower"][r], ref["ci_upper"][r]]
        for token, value in zip(cells, expected, strict=True):
            assert _printed(token, value), (name, token, value)
    assert lines[-1] == ("Standard errors: design-based (Taylor linearisation); t tests and "
                         "intervals with 194 df.")
    assert "Date" not in text and "Time" not in text
    assert repr(qbin_dstrat.summary()) == text


def test_repr_is_short_and_has_coefficients(qbin_dstrat):
    text = repr(qbin_dstrat)
    assert text.startswith("Survey-weighted GLM (svyglm)") and "ell" in text and "0x" not in text


def test_tidy_and_odds_ratios(qbin_dstrat):
    tidy = qbin_dstrat.tidy()
    assert list(tidy.columns) == ["estimate", "se", "t", "p", "ci_low", "ci_high"]
    ors = qbin_dstrat.odds_ratios()
    assert_close(ors["odds_ratio"], np.exp(qbin_dstrat.params), 1e-12)
    assert_close(ors["ci_low"], np.exp(qbin_dstrat.conf_int()["ci_low"]), 1e-12)
    assert_close(qbin_dstrat.tidy(exponentiate=True)["estimate"], ors["odds_ratio"], 1e-12)


def test_odds_ratios_refused_for_identity_link(dstrat):
    with pytest.raises(ValueError, match="identity"):
        svyglm("api00 ~ ell", dstrat).odds_ratios()


def test_collinear_columns_are_named(dstrat):
    data = dstrat.data.assign(ell2=2 * dstrat.data["ell"])
    d = SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(ValueError, match="'ell2' is collinear"):
        svyglm("api00 ~ ell + ell2", d)


def test_unknown_family_is_refused(dstrat):
    with pytest.raises(ValueError, match="family 'negbin' is not supported"):
        svyglm("api00 ~ ell", dstrat, family="negbin")


def test_binary_response_outside_0_1_is_refused(dstrat):
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        svyglm("api00 ~ ell", dstrat, family="binomial")


def test_factor_response_codes_second_level_as_success(dstrat):
    a = svyglm('Q("sch.wide") ~ ell', dstrat, family="binomial")
    b = svyglm('I(Q("sch.wide") == "Yes") ~ ell', dstrat, family="binomial")
    assert_close(a.params, b.params, 1e-10)
    assert a.model_frame.response_levels == ('Q("sch.wide")[No]', 'Q("sch.wide")[Yes]')


def test_separation_warns_as_survey_model_warning():
    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    df = pd.DataFrame({"x": x, "y": (x > 0).astype(float), "w": 1.0, "s": np.repeat([0, 1], 30)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svyglm("y ~ x", SurveyDesign(df, weights="w", strata="s"), family="binomial")
    kinds = {w.category for w in caught}
    assert SurveyModelWarning in kinds
    assert all(issubclass(k, SurveyModelWarning) for k in kinds), kinds   # no statsmodels class leaks


def test_column_names_are_those_of_statsmodels_formula_api(dstrat):
    import statsmodels.formula.api as smf
    formula = 'api00 ~ ell * meals + C(stype, Treatment("M"))'
    ours = svyglm(formula, dstrat).params.index.tolist()
    theirs = smf.glm(formula, dstrat.data).exog_names
    assert ours == theirs


def test_binomial_and_quasibinomial_agree(dclus1):
    a = svyglm('Q("sch.wide") ~ ell', dclus1, family="binomial")
    b = svyglm('Q("sch.wide") ~ ell', dclus1, family="quasibinomial")
    assert_close(a.bse, b.bse, 1e-12)



# ------------------------------------------------------------------ working likelihood ratio test
def test_reference_d_working_lrt(qbin_dstrat, reference):
    ref = reference["d_svyglm"]["regTermTest"]["qbin_dstrat_ell_meals_LRT"]
    test = qbin_dstrat.lrt_test(["ell", "meals"])
    assert_close(test.chisq, ref["chisq"], 1e-8)            # deviance difference
    assert (test.df, test.ddf) == (ref["df"], ref["ddf"])
    # lambdas come from the design covariance (R's: penultimate IRLS weights, see above): 1e-5
    assert_close(test.lambdas, ref["lambda"], 1e-5)
    assert_close(test.p_value, ref["p"], 1e-6)
    assert "Working (Rao-Scott) LRT" in repr(test)


def test_saddlepoint_tail_of_equal_weights_is_close_to_chi_square():
    from scipy import stats

    from analysis.models.wald import p_chisq_sum
    for x in (1.0, 4.0, 9.0):
        # sum of 3 * chi2_1 with weight 2 is 2 * chi2_3: the saddlepoint is accurate to ~1%
        assert_close(p_chisq_sum(x, np.full(3, 2.0)), stats.chi2.sf(x / 2, 3), 2e-2)
        assert_close(p_chisq_sum(x, np.full(3, 2.0), ddf=50), stats.f.sf(x / 6, 3, 50), 2e-2)


def test_offset_in_the_formula_points_to_the_argument(dclus2):
    with pytest.raises(ValueError, match="offset= argument"):
        svyglm('Q("api.stu") ~ ell + offset(np.log(enroll))', dclus2, family="poisson")
