"""Models on multiply imputed designs: svyglm and svyolr fitted on each completed data set and
combined by Rubin's rules equal R's mitools MIcombine on the same data
(tests/analysis/reference/extra_imputation_models.R), the complete-data df of a model is its
residual df, and ``impute(rows=)`` imputes only inside the rows given."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.imputation import ImputationError, ImputedDesigns, combine

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "extra_imputation_models.json").read_text())


@pytest.fixture(scope="module")
def imputed():
    designs = []
    for i in range(1, 6):
        df = pd.read_csv(REF_DIR / "data" / f"mi_models_apistrat_{i}.csv")
        df["band"] = pd.Categorical(df["band"].astype("Int64"), ordered=True)
        designs.append(analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc"))
    return ImputedDesigns(designs=designs)


def _check(res, ref, rtol):
    np.testing.assert_allclose(res["estimate"].to_numpy(), ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(res.vcov, ref["variance"]["rows"], rtol=rtol)
    np.testing.assert_allclose(res["df"].to_numpy(), ref["df"], rtol=rtol)
    np.testing.assert_allclose(res["missing_info"].to_numpy(), ref["missinfo"], rtol=rtol)


def _glm(d):
    return analysis.svyglm("high ~ stype + ell + meals", d, family="quasibinomial")


def test_svyglm_on_each_completed_design_equals_mitools(imputed):
    fits = [_glm(d) for d in imputed]
    assert {f.nobs for f in fits} == {REF["nobs"]}            # the not-asked rows drop out
    np.testing.assert_allclose([f.params.to_numpy() for f in fits], REF["per_imputation_glm"]["rows"],
                               rtol=1e-6)
    # the default complete-data df of a model is its residual df, R's svyglm df.residual
    res = imputed.estimate(_glm)
    assert fits[0].df_resid == REF["glm_df_complete"] == res.attrs["df"]
    _check(res, REF["glm"], rtol=1e-6)                       # iterative fits: 1e-6
    _check(combine(fits), REF["glm_inf"], rtol=1e-6)          # MIcombine's own default: df Inf
    # the intervals use the Barnard-Rubin df
    t = res["estimate"] + res["se"] * analysis.results.critical_value(0.95, res["df"].iloc[3])
    assert res["ci_high"].iloc[3] == pytest.approx(t.iloc[3], rel=1e-12)


def test_svyolr_on_each_completed_design_equals_mitools(imputed):
    res = imputed.estimate(lambda d: analysis.svyolr("band ~ ell + meals", d))
    assert res.attrs["df"] == REF["olr_df_complete"]
    assert list(res.index) == ["ell", "meals", "1|2", "2|3"] == REF["olr"]["names"]
    _check(res, REF["olr"], rtol=1e-6)


def test_the_completed_sets_are_what_impute_makes_from_the_incomplete_data(imputed):
    """The reference data are reproducible: impute(rows=) on the incomplete sample gives them."""
    sys.path.insert(0, str(REF_DIR))
    try:
        import extra_imputation_models_data as make
    finally:
        sys.path.remove(str(REF_DIR))
    df = make.incomplete_apistrat()
    again = make.completed_sets(df)
    asked = (df["asked"] == 1).to_numpy()
    for mine, stored in zip(again, imputed, strict=True):
        for col in ("high", "band", "ell", "meals"):
            a = mine.data[col].to_numpy(dtype=float)
            b = stored.data[col].astype(float).to_numpy(dtype=float, na_value=np.nan)
            np.testing.assert_allclose(a, b, rtol=1e-12)
            assert not np.isnan(a[asked]).any()                 # every asked row completed
        # rows not asked keep exactly what they had (missing stays missing)
        for col in ("ell", "high", "band"):
            pd.testing.assert_series_equal(mine.data[col][~asked], df[col][~asked],
                                           check_dtype=False)


def test_rows_restricts_what_is_imputed_and_what_is_checked(apistrat):
    df = apistrat[["stype", "pw", "fpc", "api00", "ell"]].copy()
    df.loc[df.index[::6], "api00"] = np.nan
    df["x"] = df["ell"].where(np.arange(200) >= 10)               # gaps only outside the rows
    rows = np.arange(200) >= 10
    d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    imp = analysis.impute(d, ["api00"], m=2, seed=3, predictors=["x"], rows=rows)
    for c in imp:
        assert c.data["api00"][rows].notna().all()
        assert c.data["api00"][~rows].isna().sum() == df["api00"][~rows].isna().sum() > 0
        # observed values only, and donors from inside the rows
        assert set(c.data["api00"][rows]) <= set(df["api00"][rows].dropna())
    assert imp.n_missing == {"api00": int(df["api00"][rows].isna().sum())}
    with pytest.raises(ImputationError, match="predictor x has missing values"):
        analysis.impute(d, ["api00"], m=2, seed=3, predictors=["x"])
    with pytest.raises(ImputationError, match="rows must be a boolean mask of the design's 200 rows"):
        analysis.impute(d, ["api00"], m=2, rows=rows[:50])
    # without rows= (all rows) the numbers are those of the plain call
    a = analysis.impute(d, ["api00"], m=2, seed=3, rows=np.ones(200, bool))
    b = analysis.impute(d, ["api00"], m=2, seed=3)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.data, y.data)


@pytest.mark.parametrize("key, names, dfc", [
    ("d1_stype", ["stype[T.H]", "stype[T.M]"], None),
    ("d1_stype_dfc", ["stype[T.H]", "stype[T.M]"], "glm"),
    ("d1_ell_meals_dfc", ["ell", "meals"], "glm"),
    ("d1_ell", ["ell"], None),                      # t = k (m - 1) = 4: the other df rule
])
def test_pooled_wald_test_equals_mitml_d1(imputed, key, names, dfc):
    from analysis.imputation import pooled_wald_test

    fits = [_glm(d) for d in imputed]
    df_complete = fits[0].df_resid if dfc else None
    if dfc:
        assert df_complete == REF["glm_df_complete"]
    test = pooled_wald_test(fits, names, df_complete=df_complete)
    ref = REF[key]
    assert test.df == ref["df1"] == len(names) and test.m == 5
    assert test.coefficients == tuple(names)
    np.testing.assert_allclose([test.statistic, test.ddf, test.p_value, test.riv],
                               [ref["F"], ref["df2"], ref["p"], ref["riv"]], rtol=1e-6)


def test_pooled_wald_test_names_an_unknown_coefficient(imputed):
    from analysis.imputation import pooled_wald_test

    fits = [_glm(d) for d in imputed]
    with pytest.raises(ImputationError, match="no coefficient 'elll'"):
        pooled_wald_test(fits, ["elll"])
