"""Tests for the analysis branches that survived mutation testing (issue 18, section 3).

- JKn replicates under every lonely-PSU rule against R's as.svrepdesign(type="JKn")
  (kills a wrong multiplier/rscale of the "adjust" replicate and a wrong "average" scale);
- the Wilson interval against R survey 4.5's svyciprop(method="wilson") (kills a wrong centre);
- raking a weight matrix against raking each column alone (kills `any` for `all` convergence).

R numbers: tests/analysis/reference/extra_mutation.R -> extra_mutation.json (survey 4.5: 4.1-1 has no
Wilson interval; its JKn numbers agree with 4.5).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import SurveyDesign
from analysis.calibration import Cells, rake_weights

X = json.loads((REFERENCE_DIR / "extra_mutation.json").read_text())


# ------------------------------------------------------------------ JKn and lonely PSUs
@pytest.mark.parametrize("key", sorted(X["jkn_lonely"]))
def test_jkn_lonely_rules_match_r(apistrat_lonely, key):
    variant, rule = key.split("_")
    ref = X["jkn_lonely"][key]
    d = SurveyDesign(apistrat_lonely, weights="pw", strata="stype",
                     fpc="fpc" if variant == "fpc" else None, lonely_psu=rule)
    r = d.replicate("jkn")
    assert r.repweights.shape[1] == ref["n_replicates"]
    assert r.degf == ref["degf"]
    assert_close(r.scale, ref["scale"], what="scale")
    assert_close(r.rscales, ref["rscales"], what="rscales")   # (H-1)/H for the adjust column
    for res, name in [(r.mean("api00"), "mean_api00"), (r.total("enroll"), "total_enroll")]:
        assert_close(res["estimate"], list(ref[name]["estimate"].values()), what=name)
        assert_close(res["se"], list(ref[name]["se"].values()), what=f"{key} {name}")
    ratio = r.ratio("api00", "api99")
    assert_close(ratio["se"], ref["ratio_api00_api99"]["se"], what=f"{key} ratio")


def test_jkn_adjust_replicate_drops_the_lonely_psu_and_reweights_the_rest(apistrat_lonely):
    d = SurveyDesign(apistrat_lonely, weights="pw", strata="stype", lonely_psu="adjust")
    W = np.asarray(d.replicate("jkn").repweights) / d.weights[:, None]
    last = W[:, -1]                          # the replicate of the lonely H stratum
    is_h = (apistrat_lonely["stype"] == "H").to_numpy()
    assert np.all(last[is_h] == 0)
    assert_close(last[~is_h], np.full((~is_h).sum(), 3 / 2))   # H/(H-1) with 3 strata


# ------------------------------------------------------------------ Wilson interval
@pytest.fixture(scope="module")
def wilson_cases(apiclus1, apistrat):
    d1 = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    ds = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    rare = apistrat.assign(hi=(apistrat["api00"] > 850).astype(float))
    ds_rare = SurveyDesign(rare, weights="pw", strata="stype", fpc="fpc")
    yes = {"level": "Yes", "ci_method": "wilson"}
    return {
        "dclus1_schwide": lambda: d1.proportion("sch.wide", **yes),
        "dclus1_schwide_level90": lambda: d1.proportion("sch.wide", conf_level=0.9, **yes),
        "dclus1_schwide_dfInf": lambda: d1.proportion("sch.wide", df=np.inf, **yes),
        "dstrat_awards": lambda: ds.proportion("awards", **yes),
        "dstrat_H_comp_imp": lambda: ds.subset(apistrat["stype"] == "H").proportion(
            "comp.imp", **yes),
        "dstrat_rare": lambda: ds_rare.proportion("hi", ci_method="wilson"),
        "jk1_schwide": lambda: d1.replicate("jk1").proportion("sch.wide", **yes),
    }


@pytest.mark.parametrize("case", sorted(X["wilson"]))
def test_wilson_interval_matches_r_svyciprop(wilson_cases, case):
    ref = X["wilson"][case]
    res = wilson_cases[case]()
    assert_close(res["estimate"], [ref["estimate"]])
    assert_close(res["se"], [ref["se"]])
    assert_close(res[["ci_low", "ci_high"]].to_numpy().ravel(), ref["ci"], what=case)
    expected_df = np.inf if ref["df"] == "Inf" else ref["df"]
    assert res.attrs["ci_df"] == expected_df


def test_wilson_interval_is_not_centred_at_the_estimate(wilson_cases):
    # the Wilson centre (p + t^2/2n)/(1 + t^2/n) lies between p and 1/2, so the interval is
    # asymmetric about p: a centre at p would give equal distances
    ref = X["wilson"]["dclus1_schwide"]
    lo, hi = ref["ci"]
    assert (ref["estimate"] - lo) - (hi - ref["estimate"]) > 0.01
    res = wilson_cases["dclus1_schwide"]()
    p = res["estimate"].iloc[0]
    assert_close((p - res["ci_low"].iloc[0]) - (res["ci_high"].iloc[0] - p),
                 (ref["estimate"] - lo) - (hi - ref["estimate"]), rtol=1e-8)


# ------------------------------------------------------------------ raking a weight matrix
POP_TYPES = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
POP_SCHWIDE = pd.Series({"No": 1072.0, "Yes": 5122.0})


def _margins(apiclus1) -> list[Cells]:
    return [
        Cells(("stype",), pd.factorize(apiclus1["stype"], sort=True)[0], POP_TYPES.to_numpy(),
              ("E", "H", "M")),
        Cells(("sch.wide",), pd.factorize(apiclus1["sch.wide"], sort=True)[0],
              POP_SCHWIDE.to_numpy(), ("No", "Yes")),
    ]


def test_raking_weight_matrix_equals_raking_each_column(apiclus1):
    margins = _margins(apiclus1)
    pw = apiclus1["pw"].to_numpy()
    raked, rec = rake_weights(pw, margins, maxit=1000)
    assert rec.iterations > 3                        # pw needs several sweeps
    tilt = pw * np.where(apiclus1["api00"].to_numpy() > 700, 3.0, 0.5)
    # column 0 already meets both margins (converged after one sweep), columns 1 and 2 need
    # many: the matrix must keep sweeping until every column has converged
    W = np.column_stack([raked, pw, tilt])
    together, _ = rake_weights(W, margins, maxit=1000)
    for j in range(W.shape[1]):
        alone, _ = rake_weights(W[:, j], margins, maxit=1000)
        assert_close(together[:, j], alone, rtol=1e-9, what=f"column {j}")
    for m in margins:                                 # and every column meets every margin
        sums = np.stack([np.bincount(m.codes, weights=together[:, j]) for j in range(3)], 1)
        assert_close(sums, np.repeat(m.targets[:, None], 3, axis=1), rtol=1e-9)
