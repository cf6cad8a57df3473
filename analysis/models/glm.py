"""Design-based generalised linear models: ``svyglm`` as R survey's svyglm.

Point estimates are statsmodels' GLM fitted with the design weights as ``var_weights`` (the weighted
pseudo-likelihood; never ``freq_weights``, which would treat the weight sum as the sample size).
statsmodels' standard errors, p-values and AIC assume independent observations and are never used.

Covariance (Binder 1983; R survey's svy.varcoef): with A = X' diag(w d^2 / V) X (the expected
information at the estimate; d = dmu/deta, V = Var(mu)) and the per-row scores
s_i = w_i x_i (y_i - mu_i) d_i / V_i, the influence values U = S A^-1 (one row per sample row;
zero for rows outside the fit) go to the design's variance engine. Replicate designs instead refit
the model with every replicate weight column (irls.py) and use the replicate variance formula.

Dispersion and residual df follow R's summary.svyglm: df_resid = degf + 1 - p, where degf is that of
the design restricted to the rows the model uses (R drops incomplete rows from the design).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import DomainWarning, PerfectSeparationWarning

from ._design import describe_design, is_replicate, restrict
from .formula import ModelFrame, model_frame
from .irls import irls, mean_and_derivative, tall_matmul
from .modelwarnings import SurveyModelWarning, relay_statsmodels_warnings
from .results import SvyGLMResults

_FAMILIES = {
    "gaussian": sm.families.Gaussian,
    "binomial": sm.families.Binomial,
    "quasibinomial": sm.families.Binomial,
    "poisson": sm.families.Poisson,
    "quasipoisson": sm.families.Poisson,
    "gamma": sm.families.Gamma,
}
_LINK_NAMES = {"Identity": "identity", "Logit": "logit", "Log": "log", "InversePower": "inverse",
               "Probit": "probit", "CLogLog": "cloglog", "Sqrt": "sqrt", "InverseSquared": "1/mu^2"}


def _family(family):
    if isinstance(family, str):
        key = family.lower()
        if key not in _FAMILIES:
            raise ValueError(f"family {family!r} is not supported; use one of {sorted(_FAMILIES)} "
                             "or a statsmodels family instance")
        if key == "gamma":
            # R's Gamma() default is the canonical inverse link; statsmodels warns (DomainWarning)
            # that it does not keep mu > 0. That is checked after the fit instead (glm_point).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DomainWarning)
                return sm.families.Gamma(), key
        with relay_statsmodels_warnings(f"family {family!r}"):
            fam = _FAMILIES[key]()
        return fam, key
    if isinstance(family, sm.families.Family):
        return family, type(family).__name__.lower()
    raise TypeError(f"family must be a name or a statsmodels family, got {type(family).__name__}")


def _link_name(fam) -> str:
    name = type(fam.link).__name__
    return _LINK_NAMES.get(name, name.lower())


def _row_mask(subset, data: pd.DataFrame, what: str) -> np.ndarray:
    """subset as a boolean (n,) array: None, a boolean array/Series, or a DataFrame.eval expression."""
    n = len(data)
    if subset is None:
        return np.ones(n, dtype=bool)
    if isinstance(subset, str):
        subset = data.eval(subset)
    mask = np.asarray(subset)
    if mask.shape != (n,) or mask.dtype != bool:
        raise ValueError(f"{what}: subset must be a boolean array of length {n} (one per design row) "
                         f"or an expression on the design's data; got shape {mask.shape}, dtype {mask.dtype}")
    return mask


def _offset(offset, data: pd.DataFrame) -> np.ndarray | None:
    if offset is None:
        return None
    if isinstance(offset, str):
        if offset not in data.columns:
            raise ValueError(f"offset column {offset!r} is not in the design's data")
        return data[offset].to_numpy(dtype=float, na_value=np.nan)
    off = np.asarray(offset, dtype=float)
    if off.shape != (len(data),):
        raise ValueError(f"offset must have one value per design row ({len(data)}), got shape {off.shape}")
    return off


def _rank_check(X: np.ndarray, names: list[str], formula: str, rank: int | None = None) -> None:
    """Refuse a rank-deficient design matrix, naming the first collinear column.

    ``rank``: when already known (statsmodels' GLM computes it: df_model + 1), not recomputed.
    """
    rank = np.linalg.matrix_rank(X) if rank is None else rank
    if rank < X.shape[1]:
        # name the first column that is a linear combination of the ones before it
        for j in range(1, X.shape[1] + 1):
            if np.linalg.matrix_rank(X[:, :j]) < j:
                raise ValueError(f"formula {formula!r}: the design matrix has rank {rank} < {X.shape[1]} "
                                 f"columns; column {names[j - 1]!r} is collinear with earlier columns "
                                 "(R would report NA for it); remove it from the formula")


class _Fit:
    """Everything one weighted GLM fit needs, restricted to the rows it uses."""

    def __init__(self, mf: ModelFrame, used: np.ndarray, offset: np.ndarray | None, family):
        sel = used[mf.complete]
        self.used = used                      # (n,) rows in the fit
        self.X = mf.X[sel]
        self.y = mf.y[sel]
        self.offset = np.zeros(len(self.y)) if offset is None else offset[used]
        self.family = family

    def linear_predictor(self, beta):
        return self.X @ beta + self.offset

    def scores_and_information(self, beta, w):
        """Per-row scores s_i (weighted) and the expected information A = X' diag(w d^2/V) X."""
        eta = self.linear_predictor(beta)
        mu, d = mean_and_derivative(self.family.link, eta)
        v = self.family.variance(mu)
        S = self.X * (w * (self.y - mu) * d / v)[:, None]
        A = (self.X * (w * d * d / v)[:, None]).T @ self.X
        return S, A, mu


@dataclass
class GLMPoint:
    """The weighted point fit of one GLM: what the variance, the results and refits build on."""

    formula: str
    family: object
    family_name: str
    mf: ModelFrame
    fit: _Fit
    used: np.ndarray        # (n,) rows in the fit
    in_subset: np.ndarray   # (n,) rows of the (sub)design
    offset_values: np.ndarray | None
    w: np.ndarray           # design weights of the rows used
    w_scale: float          # R's mean-1 rescaling constant
    beta: np.ndarray
    mu: np.ndarray

    @property
    def what(self) -> str:
        return f"svyglm({self.formula!r}, family={self.family_name!r})"


def glm_point(formula: str, data: pd.DataFrame, weights: np.ndarray, family="gaussian", offset=None,
              subset=None, eval_env: patsy.EvalEnvironment | None = None) -> GLMPoint:
    """Weighted pseudo-likelihood estimate of a GLM (statsmodels GLM with ``var_weights``).

    Only the point estimate: standard errors need the design (see :func:`svyglm`).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [1.0, 3, 5, 8]})
    >>> glm_point("y ~ x", df, np.ones(4)).beta.round(2).tolist()
    [0.9, 2.3]
    """
    fam, fam_name = _family(family)
    eval_env = eval_env if eval_env is not None else patsy.EvalEnvironment.capture(1)
    binary = isinstance(fam, sm.families.Binomial)
    mf = model_frame(formula, data, eval_env, response="binary" if binary else "numeric")
    in_subset = _row_mask(subset, data, f"svyglm({formula!r})")
    off = _offset(offset, data)
    used = mf.complete & in_subset
    if off is not None:
        used &= np.isfinite(off)
    w_all = np.asarray(weights, dtype=float)
    used &= w_all > 0       # rows outside a domain (weight 0) carry no information
    if not used.any():
        raise ValueError(f"svyglm({formula!r}): no row with a positive weight and complete model variables")
    fit = _Fit(mf, used, off, fam)
    w = w_all[used]
    # R fits with the weights rescaled to mean 1 over the design's rows (the subset's rows when a
    # subset is given): it changes no estimate or SE, only the scale of the reported deviance.
    w_scale = float(w_all[in_subset & (w_all > 0)].mean())
    what = f"svyglm({formula!r}, family={fam_name!r})"
    # the inverse link of R's default Gamma() makes statsmodels warn (DomainWarning) that it does
    # not keep mu > 0; positivity of the fitted means is checked below instead
    handled = (DomainWarning,) if isinstance(fam.link, sm.families.links.InversePower) else ()
    if binary:
        # separation makes statsmodels warn once per IRLS step (PerfectSeparationWarning, and
        # exp overflow in the logistic, whose limit 0/1 is the right value); one warning of ours
        # below reports it instead
        handled += (PerfectSeparationWarning, RuntimeWarning)
    # statsmodels' IRLS solves a least-squares problem by SVD in every step (about 0.5 s per step
    # at a million rows); our normal-equation IRLS (irls.py) finds the estimate, and statsmodels'
    # Newton method, started there, confirms it (score ~ 0) in one step and reports it.
    # If that start fails (separation, saturated means), statsmodels' own IRLS runs from scratch.
    # (to 1e-7: Newton's quadratic step from there lands at ~1e-14)
    with relay_statsmodels_warnings(what, ignore=handled):
        sm_model = sm.GLM(fit.y, fit.X, family=fam, var_weights=w / w_scale, offset=fit.offset)
    _rank_check(fit.X, mf.names, formula, rank=round(sm_model.df_model) + 1)
    start, failed = irls(fit.X, fit.y, fit.offset, (w / w_scale)[:, None], fam, None, tol=1e-7,
                         full_output=True)
    with relay_statsmodels_warnings(what, ignore=handled):
        if failed[0] or not np.all(np.isfinite(start[0])):
            sm_fit = sm_model.fit(maxiter=100, tol_criterion="params", atol=1e-12, rtol=1e-10)
            converged = sm_fit.converged
        else:
            sm_fit = sm_model.fit(start_params=start[0], method="newton", maxiter=100, tol=1e-10,
                                  disp=False)
            converged = sm_fit.mle_retvals["converged"]
    if not converged:
        warnings.warn(f"{what}: the fit did not converge in 100 iterations; estimates are unreliable",
                      SurveyModelWarning, stacklevel=3)
    beta = np.asarray(sm_fit.params, dtype=float)
    mu, _ = mean_and_derivative(fam.link, fit.linear_predictor(beta))
    if binary and np.any((np.minimum(mu, 1 - mu) < 1e-10) & (w > 0) & (fit.y != mu)):
        # R: "glm.fit: fitted probabilities numerically 0 or 1 occurred"
        warnings.warn(f"{what}: fitted probabilities numerically 0 or 1 occurred (complete or "
                      "quasi-complete separation?); coefficients and SEs of the separating terms "
                      "are not reliable", SurveyModelWarning, stacklevel=3)
    if isinstance(fam, (sm.families.Gamma, sm.families.Poisson)) and np.any(mu[w > 0] <= 0):
        bad = np.flatnonzero(used)[np.flatnonzero((mu <= 0) & (w > 0))[0]]
        raise ValueError(f"{what}: fitted mean {mu[(mu <= 0) & (w > 0)][0]:.4g} <= 0 at data row "
                         f"{data.index[bad]!r}; the {_link_name(fam)} link does not keep means positive "
                         "here, use a log link")
    return GLMPoint(formula=formula, family=fam, family_name=fam_name, mf=mf, fit=fit, used=used,
                    in_subset=in_subset, offset_values=off, w=w, w_scale=w_scale, beta=beta, mu=mu)


def svyglm(formula: str, design, family="gaussian", offset=None, subset=None) -> SvyGLMResults:
    """Survey-weighted GLM with design-based standard errors (R survey's ``svyglm``).

    formula: statsmodels/patsy syntax (``y ~ x + C(group, Treatment("b")) + x:z``); a two-level
    factor response of a binomial model is coded as R does (second level = success).
    family: "gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson", "gamma" (inverse
    link, R's default) or a statsmodels family instance (e.g. ``sm.families.Gamma(sm.families.links.Log())``).
    Binomial and quasibinomial (poisson and quasipoisson) give identical results, as in R's svyglm.
    offset: a column name or an array (one value per design row), added to the linear predictor.
    subset: boolean array or expression; rows outside it are left out of the fit but keep the design.

    Rows with a missing value in a model variable are dropped from the fit and get zero influence;
    their PSUs stay in the design (as R's svyglm on ``na.omit``), and the residual df is that of
    the design restricted to the rows used (R's degf of ``design[-na.action, ]``).

    >>> import numpy as np, pandas as pd
    >>> from analysis.design import SurveyDesign
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"x": rng.normal(size=40), "s": np.repeat([0, 1], 20), "w": 2.0})
    >>> df["y"] = 1 + 2 * df.x + rng.normal(size=40)
    >>> fit = svyglm("y ~ x", SurveyDesign(df, weights="w", strata="s"))
    >>> fit.params.round(1).tolist()
    [1.0, 1.9]
    """
    pt = glm_point(formula, design.data, design.weights, family, offset, subset,
                   eval_env=patsy.EvalEnvironment.capture(1))
    fam, fit, w, used = pt.family, pt.fit, pt.w, pt.used
    S, A, _ = fit.scores_and_information(pt.beta, w)
    U_used = tall_matmul(S, np.linalg.inv(A))      # influence values of the rows used
    n = len(design.data)

    def influence():
        if used.all():
            return U_used
        U = np.zeros((n, len(pt.beta)))
        U[used] = U_used
        return U

    def refit(W):
        Wu = W if used.all() else W[used]
        # replicate estimates to 1e-8 relative: far below their spread, as R's glm.fit epsilon
        return irls(fit.X, fit.y, fit.offset, Wu, fam, pt.beta, tol=1e-8, what=f"{pt.what} replicate")

    # the design restricted to the rows used (R: design[-na.action, ] / design[subset, ])
    model_design = restrict(design, used)
    cov = model_design._vcov(refit, influence)
    degf = int(model_design.degf)
    p = len(pt.beta)
    wf = w / pt.w_scale     # deviances with the mean-1 weights, as R's glm object reports them
    deviance = float(fam.deviance(fit.y, pt.mu, var_weights=wf))
    null_mu = _null_mu(fit, fam, wf, pt.mf.has_intercept, pt.what)
    null_deviance = float(fam.deviance(fit.y, null_mu, var_weights=wf))
    pearson = (fit.y - pt.mu) / np.sqrt(fam.variance(pt.mu))
    dispersion = _dispersion(design, pearson, w, pt.w_scale)
    return SvyGLMResults(
        params=pd.Series(pt.beta, index=pt.mf.names, name="coef"),
        cov=cov, df_resid=degf + 1 - p, design_degf=degf, nobs=int((w > 0).sum()),
        formula=formula, family=fam, family_name=pt.family_name, link_name=_link_name(fam),
        deviance=deviance, null_deviance=null_deviance, dispersion=dispersion,
        design=design, design_text=describe_design(design), model_frame=pt.mf, used=used,
        offset=offset, offset_values=pt.offset_values,
        fitted=pd.Series(pt.mu, index=design.data.index[used]), replicate=is_replicate(design),
        point=pt, influence_used=U_used, refit=refit, model_design=model_design,
    )


def _null_mu(fit: _Fit, fam, wf, has_intercept: bool, what: str) -> np.ndarray:
    """Fitted means of the null model: intercept only (with the offset), or the offset alone."""
    if not has_intercept:
        return fam.link.inverse(fit.offset)
    ones = np.ones((len(fit.y), 1))
    start = fam.link(np.atleast_1d(np.average(fit.y, weights=wf)))
    b0 = irls(ones, fit.y, fit.offset, wf[:, None], fam, start, what=f"{what} null model")
    return fam.link.inverse(fit.offset + b0[0, 0])


def _dispersion(design, pearson, w, w_scale) -> float:
    """R's summary.svyglm dispersion from the Pearson residuals r = (y - mu)/sqrt(V) of the rows used.

    Taylor designs: svyvar(r * c), i.e. n/(n-1) * sum w (rc - mean)^2 / sum w over the n rows used
    with weight > 0. R's residuals.svyglm scales r by c = sqrt(mean of the used rows' weights /
    mean of all the design's weights), which is 1 unless rows were dropped for missing values.
    Replicate designs (summary.svrepglm): sum(w r^2) / mean(w), the weighted Pearson statistic with
    weights scaled to mean 1 (for a gaussian model it equals the deviance). Both are what R
    reports; they are reproduced for parity and enter no standard error.
    """
    if is_replicate(design):
        return float(np.sum(w * pearson**2) / w_scale)
    pos = w > 0
    n = int(pos.sum())
    r = pearson[pos] * np.sqrt(w[pos].mean() / w_scale)
    rbar = np.average(r, weights=w[pos])
    return float(n / (n - 1) * np.sum(w[pos] * (r - rbar) ** 2) / np.sum(w[pos]))
