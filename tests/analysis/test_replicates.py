"""Replicate weights and the replicate variance against R survey 4.1-1 (reference.json section g).

JK1, JKn, BRR and Fay are deterministic: our constructors must give R's replicate weights column
for column (data/repweights_*.csv). The bootstrap depends on R's random numbers, so R's numbers are
matched through R's replicate weights, and our own draws are tested for their properties.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.replicates import (
    ReplicateError,
    bootstrap_weights,
    brr_weights,
    hadamard,
    jk1_weights,
    jkn_weights,
    replicate_variance,
)

REF = Path(__file__).parent / "reference"
G = json.loads((REF / "reference.json").read_text())["g_replicate"]
EXTRA = json.loads((REF / "extra_weighting.json").read_text())["replicate"]


@pytest.fixture(scope="module")
def clus1():
    return pd.read_csv(REF / "data" / "apiclus1.csv")


@pytest.fixture(scope="module")
def pairs():
    return pd.read_csv(REF / "data" / "apistrat_pairs.csv")


def r_repweights(name):
    f = pd.read_csv(REF / "data" / f"repweights_{name}.csv")
    return f["full_sample_weight"].to_numpy(), f.filter(regex=r"^rep\d+$").to_numpy()


def mean_and_se(y, w, W, scale, rscales, mse=False):
    theta = (w * y).sum() / w.sum()
    reps = (W * y[:, None]).sum(axis=0) / W.sum(axis=0)
    return theta, float(
        np.sqrt(replicate_variance(theta, reps[:, None], scale, rscales, mse)[0, 0])
    )


def ref_mean(key):
    r = G[key]["svymean_api00"]
    return r["estimate"]["api00"], r["se"]["api00"]


# ---------------------------------------------------------------- R's numbers
def test_jk1_is_r_jk1(clus1):
    rw = jk1_weights(clus1["dnum"].to_numpy(), popsize=clus1["fpc"].to_numpy())
    w, W_r = r_repweights("JK1_dclus1")
    W = rw.multipliers * w[:, None]
    np.testing.assert_array_equal(W, W_r)  # same replicate order (PSUs in order of appearance)
    design = G["JK1_dclus1"]["design"]
    assert rw.type == design["type"] and rw.n_replicates == design["n_replicates"]
    np.testing.assert_allclose(rw.scale, design["scale"], rtol=1e-15)
    np.testing.assert_array_equal(rw.rscales, design["rscales"])
    est, se = mean_and_se(clus1["api00"].to_numpy(float), w, W, rw.scale, rw.rscales)
    np.testing.assert_allclose([est, se], ref_mean("JK1_dclus1"), rtol=1e-8)


def test_jk1_mse_matches_r(clus1):
    rw = jk1_weights(clus1["dnum"].to_numpy(), popsize=clus1["fpc"].to_numpy())
    w = clus1["pw"].to_numpy()
    est, se = mean_and_se(
        clus1["api00"].to_numpy(float), w, rw.multipliers * w[:, None], rw.scale, rw.rscales, True
    )
    ref = EXTRA["JK1_mse_mean_api00"]
    np.testing.assert_allclose([est, se], [ref["estimate"], ref["se"]], rtol=1e-8)


@pytest.mark.parametrize(
    "key, make",
    [
        ("BRR_pairs", lambda s, p: brr_weights(s, p)),
        ("Fay0.3_pairs", lambda s, p: brr_weights(s, p, fay_rho=0.3)),
        ("JKn_pairs", lambda s, p: jkn_weights(s, p)),
    ],
)
def test_pairs_replicates_are_r_replicates(pairs, key, make):
    rw = make(pairs["pair"].to_numpy(), np.arange(len(pairs)))  # each school is a PSU
    w, W_r = r_repweights(key)
    W = rw.multipliers * w[:, None]
    assert W.shape == W_r.shape
    np.testing.assert_allclose(W, W_r, rtol=1e-15, atol=0)
    design = G[key]["design"]
    assert rw.type == design["type"]
    np.testing.assert_allclose(rw.scale, design["scale"], rtol=1e-15)
    np.testing.assert_allclose(rw.rscales, design["rscales"], rtol=1e-15)
    est, se = mean_and_se(pairs["api00"].to_numpy(float), w, W, rw.scale, rw.rscales)
    np.testing.assert_allclose([est, se], ref_mean(key), rtol=1e-8)


@pytest.mark.parametrize("key", ["BRR_pairs", "Fay0.3_pairs", "JKn_pairs", "bootstrap200_dclus1"])
def test_r_replicate_weights_give_r_standard_errors(clus1, pairs, key):
    df = clus1 if key.endswith("dclus1") else pairs
    w, W = r_repweights(key)
    design = G[key]["design"]
    est, se = mean_and_se(df["api00"].to_numpy(float), w, W, design["scale"], design["rscales"])
    np.testing.assert_allclose([est, se], ref_mean(key), rtol=1e-8)


def test_bootstrap_scale_is_r_scale(clus1):
    rw = bootstrap_weights(
        None, clus1["dnum"].to_numpy(), 200, seed=20240611, popsize=clus1["fpc"].to_numpy()
    )
    np.testing.assert_allclose(rw.scale, G["bootstrap200_dclus1"]["design"]["scale"], rtol=1e-15)
    assert rw.multipliers.max() <= G["bootstrap200_dclus1"]["design"]["weights_summary"]["max"] + 3


def test_jkn_with_fpc_matches_r():
    strat = pd.read_csv(REF / "data" / "apistrat.csv")
    rw = jkn_weights(strat["stype"].to_numpy(), np.arange(len(strat)), strat["fpc"].to_numpy())
    ref = EXTRA["JKn_dstrat"]
    assert rw.n_replicates == ref["n_replicates"] and rw.scale == ref["scale"]
    np.testing.assert_allclose(np.unique(rw.rscales), ref["rscales_unique"], rtol=1e-15)
    w = strat["pw"].to_numpy()
    est, se = mean_and_se(
        strat["api00"].to_numpy(float), w, rw.multipliers * w[:, None], rw.scale, rw.rscales
    )
    np.testing.assert_allclose(
        [est, se], [ref["mean_api00"]["estimate"], ref["mean_api00"]["se"]], rtol=1e-8
    )


# ---------------------------------------------------------------- exact identities
def _taylor_total_var(y, w, strata, psu, N=None):
    """Stratified with-replacement (or fpc) variance of a weighted total, by hand."""
    df = pd.DataFrame({"h": strata, "p": psu, "z": w * y})
    z = df.groupby(["h", "p"])["z"].sum()
    n_h = z.groupby(level=0).transform("size")
    dev = z - z.groupby(level=0).transform("mean")
    f = (
        0.0
        if N is None
        else n_h / pd.Series(N, index=df.set_index(["h", "p"]).index).groupby(level=[0, 1]).first()
    )
    return float(((1 - f) * n_h / (n_h - 1) * dev**2).sum())


@pytest.mark.parametrize("n_strata", [3, 7, 13, 30])
def test_brr_variance_of_a_total_is_the_taylor_variance(n_strata):
    # full orthogonal balance makes BRR exact for linear statistics with 2 PSUs per stratum
    rng = np.random.default_rng(n_strata)
    strata = np.repeat(np.arange(n_strata), 6)  # 2 PSUs x 3 rows
    psu = np.repeat(np.arange(2 * n_strata), 3)
    y, w = rng.normal(size=strata.size), rng.uniform(1, 5, size=strata.size)
    for rho in (0.0, 0.5):
        rw = brr_weights(strata, psu, fay_rho=rho)
        t_reps = (rw.multipliers * (w * y)[:, None]).sum(axis=0)
        v = replicate_variance((w * y).sum(), t_reps[:, None], rw.scale, rw.rscales, mse=True)
        np.testing.assert_allclose(v[0, 0], _taylor_total_var(y, w, strata, psu), rtol=1e-10)


def test_jackknives_are_exact_for_a_total():
    rng = np.random.default_rng(3)
    strata = np.repeat(np.arange(5), 12)
    psu = np.repeat(np.arange(20), 3)  # 4 PSUs per stratum
    N = np.repeat([10.0, 40.0, 8.0, 1e9, 25.0], 12)
    y, w = rng.normal(size=60), rng.uniform(1, 3, size=60)
    rw = jkn_weights(strata, psu, popsize=N)
    t = (rw.multipliers * (w * y)[:, None]).sum(axis=0)
    v = replicate_variance((w * y).sum(), t[:, None], rw.scale, rw.rscales)
    np.testing.assert_allclose(v[0, 0], _taylor_total_var(y, w, strata, psu, N), rtol=1e-10)
    rw1 = jk1_weights(psu, popsize=np.full(60, 50.0))
    t1 = (rw1.multipliers * (w * y)[:, None]).sum(axis=0)
    v1 = replicate_variance((w * y).sum(), t1[:, None], rw1.scale, rw1.rscales)
    np.testing.assert_allclose(
        v1[0, 0], _taylor_total_var(y, w, np.zeros(60), psu, np.full(60, 50.0)), rtol=1e-10
    )


# ---------------------------------------------------------------- Hadamard and BRR balance
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 11, 15, 20, 27, 50, 63, 100, 130])
def test_hadamard_is_balanced_and_orthogonal(n):
    H = hadamard(n)
    order = H.shape[0]
    assert H.shape == (order, order) and order >= n + 1 and order % 4 == 0
    pm = 2.0 * H - 1.0
    np.testing.assert_array_equal(pm.T @ pm, order * np.eye(order))
    assert np.all(H[0] == 1) and np.all(H[:, 0] == 1)
    np.testing.assert_array_equal(H[1:].sum(axis=1), order // 2)  # balanced rows


def test_hadamard_for_100_strata_is_r_paley_104(pairs):
    # R's hadamard(100) is Paley's matrix for p = 103: the replicate weights above match R's
    assert hadamard(100).shape == (104, 104)


def test_brr_half_samples_are_balanced():
    strata = np.repeat(np.array(["b", "a", "c", "d", "e"]), 2)
    rw = brr_weights(strata, np.arange(10))
    M = rw.multipliers
    # every replicate keeps exactly one PSU per stratum, each PSU in half of the replicates
    np.testing.assert_array_equal(M.reshape(5, 2, -1).sum(axis=1), 2.0)
    np.testing.assert_array_equal((M == 2).mean(axis=1), 0.5)
    # half-sample indicators of different strata are orthogonal (balanced)
    s = M[::2] - 1.0  # +1/-1 for the first PSU of each stratum
    np.testing.assert_array_equal(s @ s.T, M.shape[1] * np.eye(5))


def test_brr_refuses_strata_without_two_psus():
    with pytest.raises(ReplicateError, match="exactly 2 PSUs per stratum; stratum 2 has 3"):
        brr_weights(np.array([1, 1, 2, 2, 2]), np.arange(5))


def test_user_hadamard_matrix_is_checked():
    with pytest.raises(ReplicateError, match="two distinct values"):
        brr_weights(np.repeat([1, 2, 3], 2), np.arange(6), hadamard_matrix=np.ones((4, 4)))
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])
    rw = brr_weights(np.repeat([1, 2, 3], 2), np.arange(6), hadamard_matrix=H)
    assert rw.n_replicates == 4


# ---------------------------------------------------------------- bootstrap properties
def test_bootstrap_is_seeded_and_draws_n_h_per_stratum():
    strata = np.repeat([0, 1, 2], [8, 12, 20])
    psu = np.repeat(np.arange(20), 2)  # 4, 6, 10 PSUs
    a = bootstrap_weights(strata, psu, 300, seed=5)
    b = bootstrap_weights(strata, psu, 300, seed=5)
    c = bootstrap_weights(strata, psu, 300, seed=6)
    np.testing.assert_array_equal(a.multipliers, b.multipliers)
    assert not np.array_equal(a.multipliers, c.multipliers)
    per_psu = a.multipliers[::2]  # one row per PSU
    np.testing.assert_array_equal(
        [per_psu[:4].sum(0), per_psu[4:10].sum(0), per_psu[10:].sum(0)],
        np.broadcast_to(np.array([4.0, 6.0, 10.0])[:, None], (3, 300)),
    )
    assert np.all(per_psu == np.round(per_psu))


def test_rao_wu_with_fpc_is_close_to_the_taylor_variance():
    # Monte Carlo (as below): with f = 0.4 the rescaling lam = sqrt(0.6) carries the fpc
    rng = np.random.default_rng(12)
    strata = np.repeat(np.arange(6), 10)
    psu = np.arange(60)
    N = np.full(60, 25.0)
    y, w = rng.gamma(2.0, size=60), rng.uniform(1, 4, size=60)
    rw = bootstrap_weights(strata, psu, 4000, seed=4, popsize=N, method="rao-wu")
    assert rw.multipliers.min() >= 1 - np.sqrt(0.6) - 1e-12
    t = (rw.multipliers * (w * y)[:, None]).sum(axis=0)
    v = replicate_variance((w * y).sum(), t[:, None], rw.scale, rw.rscales)[0, 0]
    np.testing.assert_allclose(v, _taylor_total_var(y, w, strata, psu, N), rtol=0.06)


def test_bootstrap_with_fpc_draws_without_replacement_from_population_copies():
    psu = np.arange(10)
    rw = bootstrap_weights(None, psu, 2000, seed=1, popsize=np.full(10, 25.0))
    # 25 = 2 x 10 + 5: no PSU can be drawn more than 3 times
    assert rw.multipliers.max() <= 3
    np.testing.assert_array_equal(rw.multipliers.sum(axis=0), 10)


@pytest.mark.parametrize("method", ["canty-davison", "rao-wu"])
def test_bootstrap_variance_of_a_total_is_close_to_taylor(method):
    # Monte Carlo: with 4000 replicates the bootstrap variance of a total is within a few percent
    # of the with-replacement Taylor variance it estimates (Canty-Davison's scale is exactly
    # unbiased for it; Rao-Wu too). Tolerance 6% ~ 4 Monte-Carlo standard errors here.
    rng = np.random.default_rng(11)
    strata = np.repeat(np.arange(6), 10)
    psu = np.arange(60)
    y, w = rng.gamma(2.0, size=60), rng.uniform(1, 4, size=60)
    rw = bootstrap_weights(strata, psu, 4000, seed=2, method=method)
    np.testing.assert_allclose(rw.multipliers.mean(), 1.0, rtol=0.01)
    t = (rw.multipliers * (w * y)[:, None]).sum(axis=0)
    v = replicate_variance((w * y).sum(), t[:, None], rw.scale, rw.rscales)[0, 0]
    np.testing.assert_allclose(v, _taylor_total_var(y, w, strata, psu), rtol=0.06)


# ---------------------------------------------------------------- variance formula and errors
def test_replicate_variance_formula_by_hand():
    reps = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 6.0]])
    full = np.array([2.5, 2.0])
    rs = np.array([0.5, 1.0, 2.0])
    c = reps.mean(axis=0)
    expect = 0.7 * sum(r * np.outer(t - c, t - c) for r, t in zip(rs, reps))
    np.testing.assert_allclose(replicate_variance(full, reps, 0.7, rs), expect, rtol=1e-15)
    expect_mse = 0.7 * sum(r * np.outer(t - full, t - full) for r, t in zip(rs, reps))
    np.testing.assert_allclose(replicate_variance(full, reps, 0.7, rs, mse=True), expect_mse)
    with pytest.warns(UserWarning, match="1 replicate"):
        v = replicate_variance(full, np.vstack([reps, [np.nan, 1.0]]), 0.7, np.append(rs, 1.0))
    np.testing.assert_allclose(v, expect)


def test_jackknife_errors_and_lonely_psus():
    with pytest.raises(ReplicateError, match="only one PSU"):
        jkn_weights(np.array([1, 1, 2]), np.array([1, 2, 3]))
    rw = jkn_weights(np.array([1, 1, 2]), np.array([1, 2, 3]), lonely_psu="remove")
    assert rw.n_replicates == 2 and rw.scale == 1.0
    rw = jkn_weights(np.array([1, 1, 2]), np.array([1, 2, 3]), lonely_psu="average")
    assert rw.n_replicates == 2 and rw.scale == 1.5
    with pytest.raises(ReplicateError, match="at least 2 PSUs"):
        jk1_weights(np.array([1, 1, 1]))
    with pytest.raises(ReplicateError, match="smaller than"):
        jk1_weights(np.array([1, 2, 3]), popsize=np.full(3, 2.0))
