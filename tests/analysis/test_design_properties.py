"""Property tests of the variance engine: census, SRS formulas, invariance to row order and
to the labels of strata and PSUs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_close
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.design import SurveyDesign


@st.composite
def cluster_samples(draw):
    """A stratified cluster sample: 1-4 strata, 2-5 PSUs each, 1-4 rows per PSU."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st.integers(1, 4))
    rows = []
    for h in range(n_strata):
        for c in range(int(rng.integers(2, 6))):
            for _ in range(int(rng.integers(1, 5))):
                rows.append((h, 100 * h + c))
    df = pd.DataFrame(rows, columns=["h", "c"])
    df["y"] = rng.normal(50, 10, len(df)).round(3)
    df["x"] = rng.uniform(1, 5, len(df)).round(3)
    df["w"] = rng.uniform(1, 20, len(df)).round(2)
    n_h = df.groupby("h")["c"].transform("nunique")
    df["N"] = n_h + rng.integers(0, 30, n_strata)[df["h"]]
    return df


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _estimates(d):
    m = d.mean(["y", "x"])
    t = d.total("y")
    r = d.ratio("y", "x")
    return np.concatenate([m["estimate"], m["se"], m.vcov.to_numpy().ravel(),
                           t["estimate"], t["se"], r["estimate"], r["se"]])


@SETTINGS
@given(df=cluster_samples(), seed=st.integers(0, 2**32 - 1))
def test_invariant_to_row_order_and_id_labels(df, seed):
    rng = np.random.default_rng(seed)
    base = SurveyDesign(df, weights="w", strata="h", psu="c", fpc="N")
    shuffled = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    # relabel: strata become strings in another order, PSU ids random distinct strings
    h_map = {h: f"s{k}" for h, k in zip(df["h"].unique(), rng.permutation(df["h"].nunique()))}
    c_ids = df["c"].unique()
    c_map = {c: f"psu-{k}" for c, k in zip(c_ids, rng.permutation(len(c_ids)) * 7 + 3)}
    relabelled = shuffled.assign(h=shuffled["h"].map(h_map), c=shuffled["c"].map(c_map))
    other = SurveyDesign(relabelled, weights="w", strata="h", psu="c", fpc="N")
    assert other.degf == base.degf
    assert_close(_estimates(other), _estimates(base), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(df=cluster_samples())
def test_census_has_zero_variance(df):
    n_h = df.groupby("h")["c"].transform("nunique")
    census = df.assign(N=n_h)  # every PSU of every stratum sampled
    d = SurveyDesign(census, weights="w", strata="h", psu="c", fpc="N")
    assert_close(d.mean("y")["se"], [0.0], atol=1e-12)
    assert_close(d.total(["y", "x"])["se"], [0.0, 0.0], atol=1e-9)
    frac = SurveyDesign(df.assign(f=1.0), weights="w", strata="h", psu="c", fpc="f")
    assert_close(frac.ratio("y", "x")["se"], [0.0], atol=1e-12)


@SETTINGS
@given(n=st.integers(3, 60), N=st.integers(0, 500), seed=st.integers(0, 2**32 - 1))
def test_equal_weights_without_strata_give_the_srs_formulas(n, N, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 3, n)
    df = pd.DataFrame({"y": y, "w": 1.0, "N": float(n + N)})
    s2 = y.var(ddof=1)
    # with replacement (no fpc): Var(ybar) = s^2 / n
    d = SurveyDesign(df, weights="w")
    assert d.degf == n - 1
    assert_close(d.mean("y")["estimate"], [y.mean()], rtol=1e-12)
    assert_close(d.mean("y")["se"], [np.sqrt(s2 / n)], rtol=1e-10)
    assert_close(d.total("y")["se"], [np.sqrt(n**2 * s2 / n)], rtol=1e-10)
    # without replacement from N: (1 - n/N) s^2 / n, weights N/n from the fpc
    d = SurveyDesign(df, fpc="N")
    big_n = n + N
    assert_close(d.weights, np.full(n, big_n / n), rtol=1e-14)
    assert_close(d.mean("y")["se"], [np.sqrt((1 - n / big_n) * s2 / n)], rtol=1e-10,
                 atol=1e-14)
    assert_close(d.total("y")["se"], [big_n * np.sqrt((1 - n / big_n) * s2 / n)], rtol=1e-10,
                 atol=1e-12)


def test_stratified_srs_formula():
    rng = np.random.default_rng(7)
    parts = []
    for h, (n_h, N_h) in enumerate([(5, 50), (8, 20), (3, 300)]):
        parts.append(pd.DataFrame({"h": h, "y": rng.normal(h, 1, n_h), "N": N_h}))
    df = pd.concat(parts, ignore_index=True)
    d = SurveyDesign(df, strata="h", fpc="N")
    v = 0.0
    for _, g in df.groupby("h"):
        n_h, N_h = len(g), g["N"].iloc[0]
        v += N_h**2 * (1 - n_h / N_h) * g["y"].var(ddof=1) / n_h
    assert_close(d.total("y")["se"], [np.sqrt(v)], rtol=1e-12)


def test_second_stage_variance_when_first_stage_is_a_census():
    """All PSUs sampled (f1 = 1): only the within-PSU stage contributes, as R's multistage."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"c": np.repeat([1, 2, 3], 4), "y": rng.normal(0, 1, 12),
                       "N1": 3.0, "N2": 10.0, "s": np.arange(12)})
    d = SurveyDesign(df, psu=["c", "s"], fpc=["N1", "N2"])
    expected = 0.0
    for _, g in df.groupby("c"):
        expected += 10**2 * (1 - 4 / 10) * g["y"].var(ddof=1) / 4
    # stage-2 term is multiplied by n1/N1 = 1 here
    assert_close(d.total("y")["se"], [np.sqrt(expected)], rtol=1e-12)


@pytest.mark.parametrize("n_rows", [1_000])
def test_domain_influence_is_zero_outside(n_rows):
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"c": rng.integers(0, 40, n_rows), "y": rng.normal(size=n_rows),
                       "g": rng.integers(0, 3, n_rows), "w": rng.uniform(1, 3, n_rows)})
    d = SurveyDesign(df, weights="w", psu="c")
    by = d.by("g").mean("y")
    for g in range(3):
        sub = d.subset(df["g"] == g).mean("y")
        assert_close(by.loc[(g, "y"), "se"], sub["se"].iloc[0], rtol=1e-12)
