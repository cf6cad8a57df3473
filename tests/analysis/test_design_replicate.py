"""ReplicateDesign from user-supplied replicate weights (R's exported analysis weights):
the same estimator methods; svymean SEs match reference.json g to 1e-8."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, assert_close

from analysis.design import DesignError, ReplicateDesign

CASES = [
    # name, data fixture, type, extra kwargs
    ("JK1_dclus1", "apiclus1", "JK1", {"scale": 14 / 15}),
    ("bootstrap200_dclus1", "apiclus1", "bootstrap", {}),
    ("BRR_pairs", "apistrat_pairs", "BRR", {}),
    ("Fay0.3_pairs", "apistrat_pairs", "Fay", {"rho": 0.3}),
    ("JKn_pairs", "apistrat_pairs", "JKn", {"rscales": 0.5}),
]


def _repdesign(request, reference, name, fixture, rtype, kwargs):
    data = request.getfixturevalue(fixture)
    rw = pd.read_csv(DATA_DIR / f"repweights_{name}.csv")
    reps = rw.filter(regex=r"^rep\d+$").to_numpy()
    info = reference["g_replicate"][name]["design"]
    kw = dict(kwargs)
    if rtype in ("JK1", "bootstrap"):
        # as.svrepdesign's scales (JK1: (n-1)/n with the fpc; Canty-Davison bootstrap:
        # n/((n-1)(R-1))) differ from svrepdesign's defaults for user-supplied weights
        kw["scale"] = info["scale"]
    data = data.assign(_w=rw["full_sample_weight"].to_numpy())
    return ReplicateDesign(data, reps, weights="_w", type=rtype, degf=info["degf"], **kw), info


@pytest.mark.parametrize("name,fixture,rtype,kwargs", CASES, ids=[c[0] for c in CASES])
def test_replicate_mean_matches_r(request, reference, name, fixture, rtype, kwargs):
    d, info = _repdesign(request, reference, name, fixture, rtype, kwargs)
    assert_close(d.scale, info["scale"])
    assert_close(d.rscales, info["rscales"])
    ref = reference["g_replicate"][name]["svymean_api00"]
    res = d.mean("api00")
    assert_close(res["estimate"], [ref["estimate"]["api00"]])
    assert_close(res["se"], [ref["se"]["api00"]])
    res_t = d.mean("api00", df="degf")
    assert_close(res_t["ci_low"], [ref["ci95_t_degf"]["lower"]["api00"]])


def test_rank_based_degf_as_r(request, reference):
    rw = pd.read_csv(DATA_DIR / "repweights_JK1_dclus1.csv").filter(regex=r"^rep\d+$")
    data = request.getfixturevalue("apiclus1")
    d = ReplicateDesign(data, rw.to_numpy(), weights="pw", type="JK1", scale=14 / 15)
    assert d.degf == 14  # qr(repweights)$rank - 1


def test_replicate_design_domains_and_tables_work(request, reference):
    d, _ = _repdesign(request, reference, "JK1_dclus1", "apiclus1", "JK1", {})
    by = d.by("stype").mean("api00")
    sub = d.subset(d.data["stype"] == "E").mean("api00")
    assert_close(by.loc[("E", "api00"), "se"], sub["se"].iloc[0], rtol=1e-12)
    tab = d.crosstab("sch.wide", "stype")
    assert 0 < tab.test.p < 1
    q = d.quantile("api00", 0.5)
    assert q["ci_low"].iloc[0] < q["estimate"].iloc[0] < q["ci_high"].iloc[0]


def test_mse_centres_at_the_full_sample_estimate(apiclus1):
    rw = np.ones((len(apiclus1), 2))
    d = ReplicateDesign(apiclus1, rw, weights="pw", type="other", scale=0.5, degf=2)
    theta = np.array([1.0])
    reps = np.array([[0.0], [4.0]])
    assert_close(d.vcov_replicates(theta, reps)[0, 0], 0.5 * (4 + 4))  # replicate mean 2
    d_mse = ReplicateDesign(apiclus1, rw, weights="pw", type="other", scale=0.5, degf=2,
                            mse=True)
    assert_close(d_mse.vcov_replicates(theta, reps)[0, 0], 0.5 * (1 + 9))


def test_jkn_requires_rscales(apiclus1):
    with pytest.raises(DesignError, match="rscales"):
        ReplicateDesign(apiclus1, np.ones((len(apiclus1), 3)), weights="pw", type="JKn")


def test_repweights_shape_is_checked(apiclus1):
    with pytest.raises(DesignError, match="must be"):
        ReplicateDesign(apiclus1, np.ones((3, 3)), weights="pw", type="other", scale=1)


def test_data_must_be_a_frame():
    with pytest.raises(DesignError, match="pandas DataFrame, got list"):
        ReplicateDesign([1, 2], np.ones((2, 2)), type="JK1", scale=0.5)


def test_repweights_by_column_pattern(apiclus1, reference):
    rw = pd.read_csv(DATA_DIR / "repweights_JK1_dclus1.csv")
    data = apiclus1.assign(**{c: rw[c].to_numpy() for c in rw.columns if c.startswith("rep")})
    info = reference["g_replicate"]["JK1_dclus1"]["design"]
    d = ReplicateDesign(data, r"^rep\d+$", weights="pw", type="JK1", scale=info["scale"])
    assert d.repweights.shape == (183, 15)
    ref = reference["g_replicate"]["JK1_dclus1"]["svymean_api00"]
    assert_close(d.mean("api00")["se"], [ref["se"]["api00"]])


def test_non_finite_replicates_are_dropped_with_a_warning(apiclus1):
    # R's svrVar: na.action drops the replicate (and its rscale) and warns; not silent
    rw = np.ones((len(apiclus1), 3))
    d = ReplicateDesign(apiclus1, rw, weights="pw", type="other", scale=0.5, degf=2)
    reps = np.array([[0.0], [np.nan], [4.0]])
    with pytest.warns(UserWarning, match="1 replicate"):
        v = d.vcov_replicates(np.array([1.0]), reps)
    assert_close(v[0, 0], 0.5 * (4 + 4))  # mean of the two finite replicates is 2
    with pytest.raises(ValueError, match="non-finite"):
        d.vcov_replicates(np.array([1.0]), np.full((3, 1), np.nan))


def test_brr_ignores_a_given_scale_with_a_warning(apiclus1):
    # R's svrepdesign: "type='BRR' does not use 'scale=' argument"; the scale stays 1/R
    rw = np.ones((len(apiclus1), 4))
    with pytest.warns(UserWarning, match="does not use scale=0.5"):
        d = ReplicateDesign(apiclus1, rw, weights="pw", type="BRR", scale=0.5)
    assert d.scale == 0.25
