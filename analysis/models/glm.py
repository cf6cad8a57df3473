"""Design-based generalised linear models: ``svyglm`` as R survey's svyglm.

Point estimate: the maximiser of statsmodels' GLM weighted pseudo-likelihood with the design
weights as ``var_weights`` (never ``freq_weights``, which would treat the weight sum as the sample
size), i.e. the estimate of ``sm.GLM(y, X, family, var_weights=w, offset=offset).fit()``. It is
found by our own normal-equation IRLS (irls.py), iterated from the family's starting means until
every coefficient changes by less than 1e-10 relative (the last step lands at ~1e-14 for canonical
links); tests/analysis/test_glm_engine.py holds it to statsmodels' fit for gaussian, binomial, poisson and
gamma (inverse and log links) with offsets and unequal weights. statsmodels' own GLM fit runs only
as a fallback when that IRLS fails (separation, saturated means, a non-finite result).
statsmodels supplies the family and link objects (a user may pass e.g.
``sm.families.Gamma(sm.families.links.Log())``); its standard errors, p-values and AIC assume
independent observations and are never used. A rank-deficient model matrix is refused before the
fit, from the p x p cross-product matrix, naming the first collinear column.

Covariance (Binder 1983; R survey's svy.varcoef): with A = X' diag(w d^2 / V) X (the expected
information at the estimate; d = dmu/deta, V = Var(mu)) and the per-row scores s_i = r_i x_i,
r_i = w_i (y_i - mu_i) d_i / V_i, the influence values U = S A^-1 (one row per sample row; zero for
rows outside the fit) go to the design's variance engine. U is never held as an n x p matrix: its
column j is r * (X @ A^-1[:, j]), handed over one column at a time
(analysis.variance.ColumnwiseInfluence); margins and tests use (r, A^-1) the same way. Replicate
designs instead refit the model with every replicate weight column (irls.py) and use the replicate
variance formula.

Dispersion and residual df follow R's summary.svyglm: df_resid = degf + 1 - p, where degf is that of
the design restricted to the rows the model uses (R drops incomplete rows from the design).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
from statsmodels.genmod import families
from statsmodels.tools.sm_exceptions import DomainWarning, PerfectSeparationWarning

from analysis.errors import ModelError
from analysis.masks import row_mask
from analysis.variance import ColumnwiseInfluence

from ._design import describe_design, restrict
from .formula import ModelFrame, model_frame, take_rows
from .irls import (
    SUM_BLOCK,
    deviance_sum,
    fit_one,
    information,
    irls,
    matvec,
    tall_matmul,
)
from .modelwarnings import SurveyModelWarning, relay_statsmodels_warnings
from .results import SvyGLMResults

_FAMILIES = {
    "gaussian": families.Gaussian,
    "binomial": families.Binomial,
    "quasibinomial": families.Binomial,
    "poisson": families.Poisson,
    "quasipoisson": families.Poisson,
    "gamma": families.Gamma,
}
_LINK_NAMES = {"Identity": "identity", "Logit": "logit", "Log": "log", "InversePower": "inverse",
               "Probit": "probit", "CLogLog": "cloglog", "Sqrt": "sqrt", "InverseSquared": "1/mu^2"}


_QUASI_VARIANCE = {"constant": families.Gaussian, "mu": families.Poisson,
                   "mu^2": families.Gamma, "mu(1-mu)": families.Binomial}
_QUASI_LINKS = {"identity": "Identity", "log": "Log", "logit": "Logit", "inverse": "InversePower",
                "sqrt": "Sqrt", "probit": "Probit", "cloglog": "CLogLog"}


def quasi(link: str = "identity", variance: str = "constant"):
    """R's quasi(link, variance) family for svyglm: a quasi-likelihood with variance function
    "constant", "mu", "mu^2" or "mu(1-mu)" and any of the links identity, log, logit, inverse,
    sqrt, probit, cloglog. Its estimating equations are those of the gaussian, poisson, gamma
    or binomial family with that link; the dispersion is estimated (R's summary.svyglm).

    >>> fam = quasi(link="identity", variance="mu")
    >>> type(fam).__name__, type(fam.link).__name__
    ('Poisson', 'Identity')
    """
    if variance not in _QUASI_VARIANCE:
        raise ValueError(f"quasi variance must be one of {sorted(_QUASI_VARIANCE)}, got {variance!r}")
    if link not in _QUASI_LINKS:
        raise ValueError(f"quasi link must be one of {sorted(_QUASI_LINKS)}, got {link!r}")
    link_obj = getattr(families.links, _QUASI_LINKS[link])()
    # a non-canonical link makes statsmodels warn (DomainWarning) that it may leave the family's
    # range; the fitted means are checked after the fit (glm_point), as for R's quasi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        fam = _QUASI_VARIANCE[variance](link=link_obj)
    fam.quasi_variance = variance
    return fam


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
                return families.Gamma(), key
        with relay_statsmodels_warnings(f"family {family!r}"):
            fam = _FAMILIES[key]()
        return fam, key
    if isinstance(family, families.Family):
        if getattr(family, "quasi_variance", None) is not None:
            return family, "quasi"
        return family, type(family).__name__.lower()
    raise TypeError(f"family must be a name or a statsmodels family, got {type(family).__name__}")


def _link_name(fam) -> str:
    name = type(fam.link).__name__
    return _LINK_NAMES.get(name, name.lower())


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


def _aliased_columns(X: np.ndarray) -> np.ndarray:
    """(p,) True for every column that is a linear combination of the columns before it (R's
    glm: those coefficients are NA), decided by numpy's SVD rank of the kept columns."""
    p = X.shape[1]
    aliased = np.zeros(p, dtype=bool)
    kept: list[int] = []
    for j in range(p):
        if np.linalg.matrix_rank(X[:, kept + [j]]) < len(kept) + 1:
            aliased[j] = True
        else:
            kept.append(j)
    return aliased


def _rank_check(X: np.ndarray, names: list[str], formula: str, singular_ok: bool = False):
    """None when X has full column rank; else an error naming the first collinear column, or
    (``singular_ok``) the (p,) mask of aliased columns."""
    if singular_ok:
        return _rank_screen(X, names, formula, raise_error=False)
    return _rank_screen(X, names, formula, raise_error=True)


def _rank_screen(X: np.ndarray, names: list[str], formula: str, raise_error: bool):
    """Refuse a rank-deficient design matrix, naming the first collinear column.

    Screened on the p x p cross-product X'X (one pass over X): with the columns scaled to unit
    length, the Cholesky pivots in column order are 1 - R^2 of each column on the ones before it.
    Only if one falls below 1e-8 (R^2 > 1 - 1e-8, or the factorisation fails) is X itself examined
    (numpy's matrix_rank, i.e. an SVD, of its leading columns), which decides and names the column.
    """
    p = X.shape[1]
    G = X.T @ X
    norms = np.sqrt(np.diag(G))
    with np.errstate(divide="ignore", invalid="ignore"):
        C = G / np.outer(norms, norms)
    try:
        pivots = np.diag(np.linalg.cholesky(C)) ** 2 if np.all(norms > 0) and np.isfinite(C).all() else None
    except np.linalg.LinAlgError:
        pivots = None
    if pivots is not None and pivots.min() > 1e-8:
        return None
    rank = np.linalg.matrix_rank(X)
    if rank < p and not raise_error:
        return _aliased_columns(X)
    if rank < p:
        # name the first column that is a linear combination of the ones before it
        for j in range(1, p + 1):
            if np.linalg.matrix_rank(X[:, :j]) < j:
                raise ValueError(f"formula {formula!r}: the design matrix has rank {rank} < {p} "
                                 f"columns; column {names[j - 1]!r} is collinear with earlier columns "
                                 "(R would report NA for it); remove it from the formula, or pass "
                                 "singular_ok=True to keep it as NaN as R does")
    return None


class _Fit:
    """Everything one weighted GLM fit needs, restricted to the rows it uses (no copy of X or y
    when every complete row is used)."""

    def __init__(self, mf: ModelFrame, used: np.ndarray, offset: np.ndarray | None, family):
        sel = used[mf.complete]
        self.used = used                      # (n,) rows in the fit
        every = bool(sel.all())
        self.X = mf.X if every else take_rows(mf.X, sel)
        self.y = mf.y if every else mf.y[sel]
        self._offset = None if offset is None else offset[used]
        self.family = family

    @property
    def offset(self) -> np.ndarray:
        """(n_used,) offset (zeros when the model has none)."""
        return np.zeros(len(self.y)) if self._offset is None else self._offset


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
    mu: np.ndarray          # (n_used,) fitted means
    A: np.ndarray           # (p, p) information X' diag(w d^2/V) X at beta (design weights w)
    r: np.ndarray           # (n_used,) score factors w (y - mu) d / V: scores s_i = r_i x_i
    aliased: np.ndarray | None = None   # (p,) columns dropped as collinear (singular_ok=True)

    @property
    def A_inv(self) -> np.ndarray:
        inv = self.__dict__.get("_A_inv")
        if inv is None:
            inv = self.__dict__["_A_inv"] = np.linalg.inv(self.A)
        return inv

    def influence_times(self, M: np.ndarray) -> np.ndarray:
        """U_used @ M for the influence values U_used = S A^-1 of the rows used, without forming
        U_used: r * (X @ (A^-1 M)). M (p,) or (p, k)."""
        T = self.A_inv @ M
        out = matvec(self.fit.X, T) if T.ndim == 1 else tall_matmul(self.fit.X, T)
        return out * (self.r if out.ndim == 1 else self.r[:, None])

    def influence_used(self) -> np.ndarray:
        """(n_used, p) influence values of the rows used (materialised; for tests and small data)."""
        return self.influence_times(np.eye(len(self.beta)))

    def influence(self, n: int) -> ColumnwiseInfluence:
        """The (n, p) influence values of all design rows (zero outside the fit), column by column."""
        used, every = self.used, bool(self.used.all())

        def column(j: int) -> np.ndarray:
            u = matvec(self.fit.X, np.ascontiguousarray(self.A_inv[:, j]))
            u *= self.r
            if every:
                return u
            out = np.zeros(n)
            out[used] = u
            return out

        return ColumnwiseInfluence(n, len(self.beta), column, fresh=True)   # new arrays

    @property
    def what(self) -> str:
        return f"svyglm({self.formula!r}, family={self.family_name!r})"


def glm_point(formula: str, data: pd.DataFrame, weights: np.ndarray, family="gaussian", offset=None,
              subset=None, eval_env: patsy.EvalEnvironment | None = None,
              singular_ok: bool = False) -> GLMPoint:
    """Weighted pseudo-likelihood estimate of a GLM (statsmodels GLM with ``var_weights``).

    Only the point estimate: standard errors need the design (see :func:`svyglm`).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [1.0, 3, 5, 8]})
    >>> glm_point("y ~ x", df, np.ones(4)).beta.round(2).tolist()
    [0.8, 2.3]
    """
    fam, fam_name = _family(family)
    eval_env = eval_env if eval_env is not None else patsy.EvalEnvironment.capture(1)
    binary = isinstance(fam, families.Binomial)
    mf = model_frame(formula, data, eval_env, response="binary" if binary else "numeric")
    in_subset = row_mask(data, subset, f"svyglm({formula!r}): subset")
    off = _offset(offset, data)
    used = mf.complete & in_subset
    if off is not None:
        used &= np.isfinite(off)
    w_all = np.asarray(weights, dtype=float)
    used &= w_all > 0       # rows outside a domain (weight 0) carry no information
    if not used.any():
        raise ModelError(f"svyglm({formula!r}): no row with a positive weight and complete model "
                         "variables (an empty design or subset, or every row missing a model "
                         "variable)")
    _refuse_infinite(mf, used, data, formula)
    fit = _Fit(mf, used, off, fam)
    _refuse_constant_outcome(fit.y, fam, mf.response, f"svyglm({formula!r}, family={fam_name!r})")
    w = w_all if used.all() else w_all[used]
    # R fits with the weights rescaled to mean 1 over the design's rows (the subset's rows when a
    # subset is given): it changes no estimate or SE, only the scale of the reported deviance.
    w_scale = float(w_all[in_subset & (w_all > 0)].mean())
    what = f"svyglm({formula!r}, family={fam_name!r})"
    aliased = _rank_check(fit.X, mf.names, formula, singular_ok)
    if aliased is not None:
        fit.X = np.ascontiguousarray(fit.X[:, ~aliased])
        warnings.warn(f"{what}: coefficient(s) {[n for n, a in zip(mf.names, aliased) if a]} "
                      "not defined because of singularities (NaN, as R's NA)",
                      SurveyModelWarning, stacklevel=3)
    # our normal-equation IRLS finds the estimate (statsmodels' IRLS solves a least-squares problem
    # by SVD in every step, about 0.5 s per step at a million rows); statsmodels' own fit only when
    # it fails. (The scale of the weights changes no estimate: the design weights w are used as they
    # are, so that A and r come out with them.)
    with np.errstate(over="ignore"):
        beta, A, r, mu, converged = fit_one(fit.X, fit.y, fit._offset, w, fam, tol=1e-10)
    if not converged:
        beta = _statsmodels_fit(fit, fam, w / w_scale, what)
        A, r, mu = information(fit.X, fit.y, fit._offset, w, fam, beta)
    if binary and np.any((np.minimum(mu, 1 - mu) < 1e-10) & (fit.y != mu)):
        # R: "glm.fit: fitted probabilities numerically 0 or 1 occurred"
        warnings.warn(f"{what}: fitted probabilities numerically 0 or 1 occurred (complete or "
                      "quasi-complete separation?); coefficients and SEs of the separating terms "
                      "are not reliable", SurveyModelWarning, stacklevel=3)
    if isinstance(fam, (families.Gamma, families.Poisson)) and np.any(mu <= 0):
        bad = np.flatnonzero(used)[np.flatnonzero(mu <= 0)[0]]
        raise ValueError(f"{what}: fitted mean {mu[mu <= 0][0]:.4g} <= 0 at data row "
                         f"{data.index[bad]!r}; the {_link_name(fam)} link does not keep means positive "
                         "here, use a log link")
    return GLMPoint(formula=formula, family=fam, family_name=fam_name, mf=mf, fit=fit, used=used,
                    in_subset=in_subset, offset_values=off, w=w, w_scale=w_scale, beta=beta, mu=mu,
                    A=A, r=r, aliased=aliased)


def _refuse_constant_outcome(y: np.ndarray, fam, response: str, what: str) -> None:
    """A binary outcome that is always 0 or always 1 (a count that is always 0) has no finite
    estimate: the likelihood increases without bound as the intercept goes to -/+ infinity. R's
    glm.fit stops after 25 iterations with "algorithm did not converge" and reports an
    intercept near 26 (SE 0.41) that depends only on its stopping rule; refuse with the reason.

    >>> _refuse_constant_outcome(np.ones(3), families.Binomial(), "y", "svyglm('y ~ 1')")
    Traceback (most recent call last):
    ...
    analysis.errors.ModelError: svyglm('y ~ 1'): the outcome 'y' is 1 in every row the model uses: ...
    """
    binary = isinstance(fam, families.Binomial)
    if binary and (np.all(y == 1) or np.all(y == 0)):
        value = int(y[0])
        raise ModelError(
            f"{what}: the outcome {response!r} is {value} in every row the model uses: a binary "
            f"model of a constant outcome has no finite estimate (the fitted probability is "
            f"{value} for every row); report the proportion ({value}) instead of a model, or "
            "check the outcome's coding and the subset")
    if isinstance(fam, families.Poisson) and np.all(y == 0):
        raise ModelError(
            f"{what}: the outcome {response!r} is 0 in every row the model uses: a count model "
            "of an outcome that is always 0 has no finite estimate (the log of the mean is "
            "-infinity); check the outcome and the subset")


def _statsmodels_fit(fit: _Fit, fam, wf: np.ndarray, what: str) -> np.ndarray:
    """statsmodels' GLM (IRLS from scratch), when our IRLS fails: its estimate, with its warnings
    relayed and a warning of ours if it does not converge either."""
    from statsmodels.genmod.generalized_linear_model import GLM  # noqa: PLC0415 (lazy: statsmodels)

    # the inverse link of R's default Gamma() makes statsmodels warn (DomainWarning) that it does
    # not keep mu > 0; positivity of the fitted means is checked by the caller instead
    handled = (DomainWarning,) if isinstance(fam.link, families.links.InversePower) else ()
    if isinstance(fam, families.Binomial):
        # separation makes statsmodels warn once per IRLS step (PerfectSeparationWarning, and
        # exp overflow in the logistic, whose limit 0/1 is the right value); one warning of the
        # caller reports it instead
        handled += (PerfectSeparationWarning, RuntimeWarning)
    with relay_statsmodels_warnings(what, ignore=handled):
        sm_fit = GLM(fit.y, fit.X, family=fam, var_weights=wf, offset=fit._offset).fit(
            maxiter=100, tol_criterion="params", atol=1e-12, rtol=1e-10)
    if not sm_fit.converged:
        warnings.warn(f"{what}: the fit did not converge in 100 iterations; estimates are unreliable",
                      SurveyModelWarning, stacklevel=4)
    return np.asarray(sm_fit.params, dtype=float)


def _refuse_infinite(mf: ModelFrame, used: np.ndarray, data: pd.DataFrame, formula: str) -> None:
    """An infinite value in a row the fit uses is an error (R's glm.fit: "NA/NaN/Inf in 'x'");
    rows outside the fit (zero weight, outside the subset) may hold one."""
    if mf.infinite is None or not (mf.infinite & used).any():
        return
    row = int(np.flatnonzero(mf.infinite & used)[0])
    i = int(np.count_nonzero(mf.complete[:row]))
    cols = [name for name, v in zip(mf.names, mf.X[i]) if np.isinf(v)]
    if np.isinf(mf.y[i]):
        cols.insert(0, mf.response)
    raise ValueError(f"svyglm({formula!r}): infinite value in {', '.join(cols)} at data row "
                     f"{data.index[row]!r}; an infinite value is not a missing value (NaN): remove "
                     "the row or recode the value")


def svyglm(formula: str, design, family="gaussian", offset=None, subset=None,
           singular_ok: bool = False, return_replicates: bool = False) -> SvyGLMResults:
    """Survey-weighted GLM with design-based standard errors (R survey's ``svyglm``).

    formula: statsmodels/patsy syntax (``y ~ x + C(group, Treatment("b")) + x:z``); a two-level
    factor response of a binomial model is coded as R does (second level = success).
    family: "gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson", "gamma" (inverse
    link, R's default), :func:`quasi` (R's quasi(link, variance)) or a statsmodels family instance (e.g. ``sm.families.Gamma(sm.families.links.Log())``).
    Binomial and quasibinomial (poisson and quasipoisson) give identical results, as in R's svyglm.
    offset: a column name or an array (one value per design row), added to the linear predictor.
    subset: a boolean array/Series or column name (:mod:`analysis.masks`); rows outside it are
    left out of the fit but keep the design.
    return_replicates: (replicate designs) keep the replicate coefficients in
    ``fit.replicates`` (R's return.replicates), which nonlinear contrasts then transform.
    singular_ok: a column that is a linear combination of earlier ones is an error naming it
    (default); ``True`` keeps it with a NaN coefficient and SE, as R's glm (singular.ok = TRUE,
    R's default), with a warning. Residual df count only the estimated coefficients.

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
    [0.9, 2.1]
    """
    pt = glm_point(formula, design.data, design.weights, family, offset, subset,
                   eval_env=patsy.EvalEnvironment.capture(1), singular_ok=singular_ok)
    fam, fit, w, used = pt.family, pt.fit, pt.w, pt.used
    n = len(design.data)

    def influence():
        return pt.influence(n)

    def refit(W):
        Wu = W if used.all() else W[used]
        # replicate estimates to 1e-8 relative: far below their spread, as R's glm.fit epsilon
        return irls(fit.X, fit.y, fit._offset, Wu, fam, pt.beta, tol=1e-8, what=f"{pt.what} replicate")

    # the design restricted to the rows used (R: design[-na.action, ] / design[subset, ])
    model_design = restrict(design, used)
    replicates = None
    if return_replicates:
        if pt.aliased is not None:
            raise ModelError("return_replicates with aliased coefficients: remove them first")
        if not design.is_replicate:
            raise ModelError("return_replicates needs a replicate design (design.replicate(...) "
                             "or ReplicateDesign): a Taylor design has no replicate estimates")
        reps = np.asarray(refit(model_design.repweights), dtype=float)
        cov = model_design.vcov_replicates(pt.beta, reps)
        replicates = {"values": reps, "scale": model_design.scale,
                      "rscales": np.asarray(model_design.rscales), "mse": model_design.mse}
    else:
        cov = model_design.vcov(refit, influence)
    degf = int(model_design.degf)
    p = len(pt.beta)
    # deviances with the mean-1 weights w / w_scale, as R's glm object reports them
    deviance = deviance_sum(fam, fit.y, pt.mu, w, pt.w_scale)
    null_mu = _null_mu(fit, fam, w, pt.w_scale, pt.mf.has_intercept, pt.what)
    null_deviance = deviance_sum(fam, fit.y, null_mu, w, pt.w_scale)
    del null_mu
    dispersion = _dispersion(design, fam, fit.y, pt.mu, w, pt.w_scale)
    index = design.data.index
    params = pt.beta
    if pt.aliased is not None:
        # R: aliased coefficients are NA, their rows and columns of vcov NA
        keep = np.flatnonzero(~pt.aliased)
        params = np.full(pt.aliased.shape[0], np.nan)
        params[keep] = pt.beta
        full = np.full((params.shape[0],) * 2, np.nan)
        full[np.ix_(keep, keep)] = cov
        cov = full
    out = SvyGLMResults(
        params=pd.Series(params, index=pt.mf.names, name="coef"),
        cov=cov, df_resid=degf + 1 - p, design_degf=degf, nobs=int((w > 0).sum()),
        formula=formula, family=fam, family_name=pt.family_name, link_name=_link_name(fam),
        deviance=deviance, null_deviance=null_deviance, dispersion=dispersion,
        design=design, design_text=describe_design(design), model_frame=pt.mf, used=used,
        offset=offset, offset_values=pt.offset_values,
        fitted=pd.Series(pt.mu, index=index if used.all() else index[used], copy=False),
        replicate=design.is_replicate, point=pt, refit=refit, model_design=model_design,
    )
    if replicates is not None:
        out.replicates = replicates
    return out


def _null_mu(fit: _Fit, fam, w, w_scale: float, has_intercept: bool, what: str):
    """Fitted means of the null model: intercept only (with the offset), or the offset alone.

    Without an offset the intercept-only model's score equation sum w (y - mu) d/V = 0 has the
    constant solution mu = the weighted mean of y, whatever the link (R's glm.fit: wtdmu); it is
    returned as that scalar.
    """
    if not has_intercept:
        return fam.link.inverse(fit.offset)
    ybar = float(np.average(fit.y, weights=w))
    if fit._offset is None:
        return ybar
    ones = np.ones((len(fit.y), 1))
    start = fam.link(np.atleast_1d(ybar))
    b0 = irls(ones, fit.y, fit._offset, (w / w_scale)[:, None], fam, start, what=f"{what} null model")
    return fam.link.inverse(fit._offset + b0[0, 0])


def _dispersion(design, fam, y: np.ndarray, mu: np.ndarray, w: np.ndarray, w_scale: float) -> float:
    """R's summary.svyglm dispersion from the Pearson residuals r = (y - mu)/sqrt(V) of the rows used
    (all with weight > 0).

    Taylor designs: svyvar(r * c), i.e. n/(n-1) * sum w (rc - mean)^2 / sum w over the n rows used.
    R's residuals.svyglm scales r by c = sqrt(mean of the used rows' weights / mean of all the
    design's weights), which is 1 unless rows were dropped for missing values.
    Replicate designs (summary.svrepglm): sum(w r^2) / mean(w), the weighted Pearson statistic with
    weights scaled to mean 1 (for a gaussian model it equals the deviance). Both are what R
    reports; they are reproduced for parity and enter no standard error. Summed over row blocks.
    """
    blocks = [slice(lo, lo + SUM_BLOCK) for lo in range(0, len(y), SUM_BLOCK)]

    def pearson(b):
        return (y[b] - mu[b]) / np.sqrt(fam.variance(mu[b]))

    # (w * r).sum(), not the BLAS dot w @ r: see irls.matvec on BLAS threads
    if design.is_replicate:
        return float(sum((w[b] * pearson(b) ** 2).sum() for b in blocks) / w_scale)
    n = len(w)
    c = np.sqrt(w.mean() / w_scale)
    wsum = w.sum()
    rbar = sum((w[b] * (pearson(b) * c)).sum() for b in blocks) / wsum
    ss = sum((w[b] * (pearson(b) * c - rbar) ** 2).sum() for b in blocks)
    return float(n / (n - 1) * ss / wsum)
