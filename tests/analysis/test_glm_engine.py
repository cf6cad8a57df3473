"""The svyglm engine: our IRLS finds statsmodels' GLM estimate (var_weights), the model matrix built
without a DataFrame round trip equals patsy's, missing and infinite values, the cheap rank check,
column-wise influence values, and what importing the models loads."""
from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
from conftest import assert_close

from analysis.design import SurveyDesign
from analysis.models import svyglm
from analysis.models.formula import _numeric_fast_path, model_frame, new_design_matrix
from analysis.models.glm import glm_point
from analysis.models.irls import fit_one

FAMILIES = {
    "gaussian": (sm.families.Gaussian(), "gaussian"),
    "binomial": (sm.families.Binomial(), "binomial"),
    "poisson": (sm.families.Poisson(), "poisson"),
    "gamma_inverse": (sm.families.Gamma(), "gamma"),
    "gamma_log": (sm.families.Gamma(sm.families.links.Log()), sm.families.Gamma(sm.families.links.Log())),
}


def _frame(name: str, seed: int, n: int = 500, offset: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(0, 2, size=n)
    off = rng.uniform(-0.3, 0.3, size=n) if offset else np.zeros(n)
    if name == "gaussian":
        y = 1 + 0.5 * x1 - x2 + off + rng.normal(size=n)
    elif name == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 0.8 * x1 + 0.4 * x2 + off)))).astype(float)
    elif name == "poisson":
        y = rng.poisson(np.exp(0.2 + 0.3 * x1 + 0.2 * x2 + off)).astype(float)
    elif name == "gamma_inverse":
        y = rng.gamma(3.0, 1 / (0.5 + 0.1 * x1**2 + 0.2 * x2 + off * 0.1) / 3)
    else:
        y = rng.gamma(2.0, np.exp(0.1 + 0.3 * x1 - 0.2 * x2 + off) / 2)
    w = rng.lognormal(0, 0.8, size=n) * 20          # unequal weights, far from mean 1
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "off": off, "w": w})


@pytest.mark.parametrize("offset", [False, True])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_estimate_is_statsmodels_glm_with_var_weights(name, offset):
    """The point estimate is sm.GLM(y, X, family, var_weights=w, offset=...).fit()'s, found by our IRLS."""
    fam, spec = FAMILIES[name]
    df = _frame(name, seed=11 + len(name), offset=offset)
    pt = glm_point("y ~ x1 + x2 + x1:x2", df, df["w"].to_numpy(), spec, offset="off" if offset else None)
    X = np.column_stack([np.ones(len(df)), df.x1, df.x2, df.x1 * df.x2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # DomainWarning of the gamma inverse link
        ref = sm.GLM(df.y.to_numpy(), X, family=fam, var_weights=df.w.to_numpy(),
                     offset=df.off.to_numpy() if offset else None).fit(tol=1e-14, maxiter=200)
    assert_close(pt.beta, ref.params, 1e-10, what=name)
    # and at the estimate the score is zero and A is the expected information
    assert np.max(np.abs(pt.r @ X)) < 1e-9 * np.sum(np.abs(pt.r[:, None] * X))
    mu = ref.mu
    d = 1 / fam.link.deriv(mu)
    A = (X * (df.w.to_numpy() * d * d / fam.variance(mu))[:, None]).T @ X
    assert_close(pt.A, A, 1e-8, what=f"{name} information")


def test_fit_one_converges_with_a_coefficient_that_is_zero_by_symmetry():
    """A coefficient that is 0 up to rounding must not stall a relative convergence rule."""
    x = np.tile([-1.0, 1.0], 200)
    y = np.tile([0.0, 0.0, 1.0, 1.0], 100)         # y independent of x: slope exactly 0
    X = np.column_stack([np.ones(400), x])
    beta, _A, _r, _mu, ok = fit_one(X, y, None, np.ones(400), sm.families.Binomial())
    assert ok and abs(beta[1]) < 1e-14


# ------------------------------------------------------------------ model matrix
FORMULAS = ["y ~ x1 + x2", "y ~ x1 * x2", "y ~ x1:x2:k + k - 1", "y ~ 1", "y ~ 0 + x1", "y ~ k + x2:k",
            "y ~ x2 + x1"]


@pytest.fixture(scope="module")
def mixed():
    rng = np.random.default_rng(5)
    n = 60
    return pd.DataFrame({"y": rng.normal(size=n), "x1": rng.normal(size=n), "x2": rng.uniform(size=n),
                         "k": rng.integers(0, 5, size=n), "b": rng.random(n) < 0.5,
                         "g": rng.choice(["a", "b", "c"], size=n)})


@pytest.mark.parametrize("formula", FORMULAS)
def test_numeric_fast_path_equals_patsy(formula, mixed):
    env = patsy.EvalEnvironment.capture()
    built = _numeric_fast_path(formula, mixed, env)
    assert built is not None, formula
    Y, X, info, _ = built
    Yp, Xp = patsy.dmatrices(formula, mixed, eval_env=env, return_type="matrix")
    assert np.array_equal(X, np.asarray(Xp)) and np.array_equal(Y, np.asarray(Yp))
    assert info.column_names == Xp.design_info.column_names
    assert info.term_name_slices == Xp.design_info.term_name_slices
    new = mixed.iloc[::7]
    (ref,) = patsy.build_design_matrices([Xp.design_info], new, return_type="matrix")
    mf = model_frame(formula, mixed, env)
    assert mf.design_info is info or mf.design_info.column_names == info.column_names
    assert np.array_equal(new_design_matrix(mf, new), np.asarray(ref))


@pytest.mark.parametrize("formula", ["y ~ C(k)", "y ~ np.log(x2)", "y ~ b", "y ~ g + x1", 'y ~ Q("x1")',
                                     "y ~ I(x1 * 2)", "np.exp(y) ~ x1"])
def test_other_formulas_go_through_patsy_and_agree(formula, mixed):
    env = patsy.EvalEnvironment.capture()
    assert _numeric_fast_path(formula, mixed, env) is None
    mf = model_frame(formula, mixed, env)
    _, Xp = patsy.dmatrices(formula, mixed, eval_env=env, return_type="dataframe")
    assert mf.names == list(Xp.columns)
    assert np.array_equal(mf.X, Xp.to_numpy())


def test_model_matrix_is_not_copied_when_every_row_is_used():
    df = _frame("binomial", 3)
    pt = glm_point("y ~ x1 + x2", df, df["w"].to_numpy(), "binomial")
    assert pt.fit.X is pt.mf.X and pt.fit.y is pt.mf.y


@pytest.mark.parametrize("formula", ["y ~ x1 + x2", "y ~ np.log(x2) + x1"])  # fast path, patsy
def test_missing_values_are_dropped_and_infinite_values_refused(formula):
    df = _frame("gaussian", 4, n=200).assign(s=np.repeat([0, 1], 100))
    df.loc[3, "x1"] = np.nan
    df.loc[8, "y"] = np.nan
    mf = model_frame(formula, df, patsy.EvalEnvironment.capture())
    assert not mf.complete[[3, 8]].any() and mf.complete.sum() == 198 and mf.infinite is None
    Yp, Xp = patsy.dmatrices(formula, df, return_type="matrix")        # patsy drops the NaN rows too
    assert np.array_equal(mf.X, np.asarray(Xp)) and np.array_equal(mf.y, np.asarray(Yp)[:, 0])
    ref = svyglm(formula, SurveyDesign(df.drop(index=[3, 8]), weights="w", strata="s"))
    d = SurveyDesign(df, weights="w", strata="s")
    fit = svyglm(formula, d)
    assert_close(fit.params, ref.params, 1e-12)
    bad = df.copy()
    bad.loc[10, "x1"] = np.inf
    with pytest.raises(ValueError, match="infinite value in x1 at data row 10"):
        svyglm(formula, SurveyDesign(bad, weights="w", strata="s"))
    # an infinite value in a row the fit does not use (outside the subset) is ignored, as in R
    inside = np.ones(len(bad), dtype=bool)
    inside[10] = False
    kept = svyglm(formula, SurveyDesign(bad, weights="w", strata="s"), subset=inside)
    assert not kept.used[10]
    assert_close(kept.params, svyglm(formula, d, subset=inside).params, 1e-12)


def test_rank_check_names_the_first_collinear_column_and_accepts_near_collinear():
    df = _frame("gaussian", 6)
    df["x3"] = df.x1 - 2 * df.x2
    with pytest.raises(ValueError, match="'x3' is collinear"):
        glm_point("y ~ x1 + x2 + x3", df, df["w"].to_numpy())
    df["x4"] = df.x1 + 1e-3 * np.random.default_rng(1).normal(size=len(df))   # R^2 ~ 1 - 1e-6
    glm_point("y ~ x1 + x2 + x4", df, df["w"].to_numpy())


# ------------------------------------------------------------------ influence values
def test_columnwise_influence_equals_the_matrix():
    df = _frame("binomial", 7, n=300).assign(s=np.repeat([0, 1, 2], 100), psu=np.arange(300) // 10)
    df.loc[5, "x2"] = np.nan
    d = SurveyDesign(df, weights="w", strata="s", psu="psu")
    fit = svyglm("y ~ x1 + x2", d, family="binomial")
    pt = fit._point
    U_used = fit._influence_used
    S = pt.fit.X * pt.r[:, None]
    assert_close(U_used, S @ np.linalg.inv(pt.A), 1e-10)
    U = np.zeros((len(df), 3))
    U[fit.used] = U_used
    assert_close(fit.cov_params().to_numpy(), d.vcov_influence(U), 1e-12)
    assert_close(np.asarray(pt.influence(len(df))), U, 1e-12)


# ------------------------------------------------------------------ imports and examples
def test_importing_the_models_loads_no_statsmodels_api():
    code = ("import sys, analysis.models; "
            "print(sorted(m for m in ('statsmodels.api', 'statsmodels.genmod.generalized_linear_model', "
            "'statsmodels.formula.api') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["analysis.models.glm", "analysis.models.irls", "analysis.models.formula",
                                  "analysis.models.modelwarnings", "analysis.models.olr"])
def test_model_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
