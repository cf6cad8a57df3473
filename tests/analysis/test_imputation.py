"""Multiple imputation: Rubin's rules equal R's mitools MIcombine on the same completed data
(tests/analysis/reference/extra_imputation.R), imputed values are observed values, and imputation is
reproducible and refuses what it cannot do."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.imputation import ImputationError, combine, impute, with_imputations

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "extra_imputation.json").read_text())


@pytest.fixture(scope="module")
def completed():
    designs = []
    for i in range(1, 6):
        df = pd.read_csv(REF_DIR / "data" / f"mi_apistrat_{i}.csv")
        designs.append(analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc"))
    return designs


def _check(res, ref, rtol=1e-8):
    np.testing.assert_allclose(res["estimate"].to_numpy(), ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(res.vcov.to_numpy(), ref["variance"]["rows"], rtol=rtol)
    np.testing.assert_allclose(res["df"].to_numpy(), ref["df"], rtol=rtol)
    np.testing.assert_allclose(res["missing_info"].to_numpy(), ref["missinfo"], rtol=rtol)


def test_rubins_rules_equal_mitools_for_a_mean(completed):
    np.testing.assert_allclose([d.mean("api00")["estimate"].iloc[0] for d in completed],
                               REF["per_imputation_mean"], rtol=1e-10)
    _check(combine([d.mean("api00") for d in completed]), REF["mean_api00"])
    _check(combine([d.mean("api00") for d in completed], df_complete=197), REF["mean_api00_dfc197"])


def test_rubins_rules_equal_mitools_for_a_model(completed):
    fits = [analysis.svyglm("api00 ~ ell + meals", d) for d in completed]
    _check(combine(fits), REF["glm"], rtol=1e-7)   # svyglm fits agree with R to ~1e-9


def test_imputed_values_are_observed_values_and_the_run_is_reproducible(apistrat):
    df = apistrat[["stype", "pw", "fpc", "api00", "ell", "meals"]].copy()
    df.loc[df.index[::7], "api00"] = np.nan
    df["high"] = (apistrat["api00"] > 700).astype(float)
    df.loc[df.index[::5], "high"] = np.nan
    d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    a = impute(d, ["api00", "high"], m=3, seed=11, predictors=["ell"], iterations=3)
    b = impute(d, ["api00", "high"], m=3, seed=11, predictors=["ell"], iterations=3)
    observed = set(df["api00"].dropna())
    for da, db in zip(a, b, strict=True):
        filled = da.data["api00"]
        assert filled.notna().all() and set(filled) <= observed
        assert set(da.data["high"]) <= {0.0, 1.0}
        pd.testing.assert_frame_equal(da.data, db.data)
        # only the missing cells changed
        keep = df["api00"].notna()
        pd.testing.assert_series_equal(filled[keep], df["api00"][keep])
    assert a.n_missing == {"api00": int(df["api00"].isna().sum()), "high": int(df["high"].isna().sum())}
    res = with_imputations(a, lambda d: d.mean("api00"))
    assert res["df"].iloc[0] > 0 and 0 <= res["missing_info"].iloc[0] <= 1


def test_what_cannot_be_imputed_is_named(apistrat):
    df = apistrat[["stype", "pw", "api00"]].copy()
    df["cat"] = pd.Categorical(np.where(np.arange(200) % 3 == 0, "a", np.where(np.arange(200) % 3 == 1, "b", "c")))
    df.loc[df.index[:5], "cat"] = np.nan
    d = analysis.SurveyDesign(df, weights="pw", strata="stype")
    with pytest.raises(ImputationError, match="unordered categorical with 3 categories"):
        impute(d, ["cat"], m=2, seed=1)
    with pytest.raises(ImputationError, match="m must be at least 2"):
        impute(d, ["api00"], m=1)


def test_imputations_do_not_depend_on_the_language_of_category_labels(apistrat):
    df = apistrat[["stype", "pw", "fpc", "api00", "ell"]].copy()
    df.loc[df.index[::6], "api00"] = np.nan
    renamed = df.assign(stype=df["stype"].cat.rename_categories(["Grund", "Ober", "Mittel"]))
    runs = []
    for frame in (df, renamed):
        d = analysis.SurveyDesign(frame, weights="pw", strata="stype", fpc="fpc")
        imp = impute(d, ["api00"], m=3, seed=5, predictors=["stype", "ell"])
        runs.append([x.data["api00"].to_numpy() for x in imp])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
