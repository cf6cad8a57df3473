"""Writes data/mi_models_apistrat_{1..5}.csv, the completed data sets extra_imputation_models.R
fits models on: the api stratified sample with item nonresponse in a binary outcome (high:
api00 > 700), an ordinal one (band: api00 in three classes) and two predictors (ell, meals),
imputed jointly by analysis.impute (chained equations). 12 schools were "not asked" about ell
(asked = 0): they stay out of the imputation (rows=) and so out of every model fit.
Run from the repository root:  .venv/bin/python tests/analysis/reference/extra_imputation_models_data.py
"""
from pathlib import Path

import numpy as np
import pandas as pd

import analysis

HERE = Path(__file__).parent


def incomplete_apistrat() -> pd.DataFrame:
    api = pd.read_csv(HERE / "data" / "apistrat.csv")
    df = api[["stype", "pw", "fpc", "ell", "meals"]].copy()
    df["high"] = (api["api00"] > 700).astype(float)
    df["band"] = np.digitize(api["api00"], [600, 700]) + 1.0          # 1, 2, 3
    rng = np.random.default_rng(20261205)
    # missing at random given meals (observed) and stype
    p = 0.05 + 0.25 * (df["meals"] > df["meals"].median()) + 0.05 * (df["stype"] == "H")
    for col, scale in (("high", 1.0), ("band", 1.0), ("ell", 0.6), ("meals", 0.4)):
        gone = rng.random(len(df)) < scale * p
        if col == "meals":
            gone &= df["high"].notna().to_numpy()                      # keep some rows complete
        df.loc[gone, col] = np.nan
    df["asked"] = 1
    df.loc[df.index[5::17][:12], ["asked", "ell"]] = [0, np.nan]      # not asked: stays missing
    return df


def completed_sets(df: pd.DataFrame, m: int = 5):
    d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    return analysis.impute(d, ["high", "band", "ell", "meals"], m=m, seed=7, iterations=5,
                           rows=(df["asked"] == 1).to_numpy())


if __name__ == "__main__":
    imp = completed_sets(incomplete_apistrat())
    for i, c in enumerate(imp.designs, start=1):
        c.data.to_csv(HERE / "data" / f"mi_models_apistrat_{i}.csv", index=False)
    print(imp)
