"""The batched IRLS used for replicate refits and warm starts, against statsmodels' GLM fitted one
weight column at a time, and the influence values against numerical derivatives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import assert_close

from analysis.design import SurveyDesign
from analysis.models import svyglm
from analysis.models.glm import glm_point
from analysis.models.irls import irls, tall_matmul


def _data(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(0, 2, size=n)])
    eta = X @ np.array([-0.3, 0.8, 0.4])
    return rng, X, eta


FAMILIES = {
    "binomial": (sm.families.Binomial(), lambda rng, eta: (rng.random(eta.size) < 1 / (1 + np.exp(-eta))).astype(float)),
    "poisson": (sm.families.Poisson(), lambda rng, eta: rng.poisson(np.exp(eta)).astype(float)),
    "gamma_log": (sm.families.Gamma(sm.families.links.Log()), lambda rng, eta: rng.gamma(2.0, np.exp(eta) / 2)),
    "gaussian": (sm.families.Gaussian(), lambda rng, eta: eta + rng.normal(size=eta.size)),
}


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("m", [3, 12])          # below and above the one-GEMM threshold
def test_batched_irls_equals_statsmodels_per_column(name, m):
    fam, draw = FAMILIES[name]
    rng, X, eta = _data(1)
    y = draw(rng, eta)
    W = rng.uniform(0.2, 3.0, size=(len(y), m))
    W[rng.random(W.shape) < 0.1] = 0.0                  # bootstrap-like zero weights
    B = irls(X, y, np.zeros(len(y)), W, fam, None, tol=1e-12)
    for r in range(m):
        ref = sm.GLM(y, X, family=fam, var_weights=W[:, r]).fit(tol=1e-13).params
        assert_close(B[r], ref, 1e-8, what=f"{name} column {r}")


def test_irls_with_offset_and_warm_start():
    fam, draw = FAMILIES["poisson"]
    rng, X, eta = _data(2)
    off = rng.uniform(-0.5, 0.5, size=eta.size)
    y = draw(rng, eta + off)
    w = rng.uniform(0.5, 2, size=(len(y), 1))
    ref = sm.GLM(y, X, family=fam, var_weights=w[:, 0], offset=off).fit(tol=1e-13).params
    assert_close(irls(X, y, off, w, fam, ref + 0.05, tol=1e-12)[0], ref, 1e-9)


def test_gamma_inverse_link_has_negative_derivative_and_converges():
    rng, X, _ = _data(3)
    mu = 1 / (0.5 + 0.1 * X[:, 1] ** 2 + 0.1 * X[:, 2])
    y = rng.gamma(3.0, mu / 3)
    fam = sm.families.Gamma()
    B, failed = irls(X, y, np.zeros(len(y)), np.ones((len(y), 1)), fam, None, full_output=True)
    assert not failed.any()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # statsmodels' DomainWarning about the inverse link
        ref = sm.GLM(y, X, family=fam).fit(tol=1e-13).params
    assert_close(B[0], ref, 1e-8)


def test_separation_is_reported_not_nan():
    x = np.linspace(-1, 1, 40)
    X = np.column_stack([np.ones(40), x])
    y = (x > 0).astype(float)
    B, failed = irls(X, y, np.zeros(40), np.ones((40, 1)), sm.families.Binomial(), None, full_output=True)
    assert failed[0] and np.all(np.isfinite(B))


def test_tall_matmul():
    rng = np.random.default_rng(0)
    T, M = rng.normal(size=(1000, 4)), rng.normal(size=(4, 3))
    assert_close(tall_matmul(T, M), T @ M, 1e-12)


def test_point_estimate_is_statsmodels_glm_with_var_weights():
    rng, X, eta = _data(4)
    y = FAMILIES["binomial"][1](rng, eta)
    df = pd.DataFrame({"y": y, "x1": X[:, 1], "x2": X[:, 2], "w": rng.uniform(1, 50, size=len(y))})
    pt = glm_point("y ~ x1 + x2", df, df["w"].to_numpy(), "binomial")
    import statsmodels.formula.api as smf
    ref = smf.glm("y ~ x1 + x2", df, family=sm.families.Binomial(), var_weights=df["w"]).fit(tol=1e-13)
    assert_close(pt.beta, ref.params.to_numpy(), 1e-10)


def test_influence_values_are_the_derivative_of_the_estimate():
    """U_i = d beta / d w_i * w_i: perturbing one row's weight moves the estimate by U_i * eps/w_i."""
    rng, X, eta = _data(5, n=120)
    y = FAMILIES["binomial"][1](rng, eta)
    df = pd.DataFrame({"y": y, "x1": X[:, 1], "x2": X[:, 2], "w": rng.uniform(1, 5, size=len(y)),
                       "s": np.repeat([0, 1], 60)})
    fit = svyglm("y ~ x1 + x2", SurveyDesign(df, weights="w", strata="s"), family="binomial")
    U = fit._influence_used
    i, h = 7, 1e-5
    w = df["w"].to_numpy().copy()
    w[i] *= 1 + h
    moved = glm_point("y ~ x1 + x2", df, w, "binomial").beta
    assert_close((moved - fit.params.to_numpy()) / h, U[i], 1e-4)


def test_nullable_integer_factor_keeps_level_names_and_drops_missing_rows():
    rng = np.random.default_rng(8)
    n = 300
    k = pd.array(rng.integers(1, 4, size=n), dtype="Int64")
    k[:10] = pd.NA
    x = rng.normal(size=n)
    y = x + np.asarray(k.fillna(1), dtype=float) + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "x": pd.array(x, dtype="Float64"), "k": k, "w": 1.0,
                       "s": np.repeat([0, 1], n // 2)})
    fit = svyglm("y ~ x + C(k)", SurveyDesign(df, weights="w", strata="s"))
    assert list(fit.params.index) == ["Intercept", "C(k)[T.2]", "C(k)[T.3]", "x"]
    assert fit.nobs == n - 10 and not fit.used[:10].any()
    plain = df.iloc[10:].astype({"k": "int64", "x": "float64"})
    ref = svyglm("y ~ x + C(k)", SurveyDesign(plain, weights="w", strata="s"))
    assert_close(fit.params, ref.params, 1e-12)
