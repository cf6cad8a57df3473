"""Predictive margins of a svyglm: the average predicted outcome over the sample with one factor
set to each of its levels (Stata's ``margins factor``; Graubard & Korn 1999), with design-based SEs.

For level k, with rows i of the fit, design weights w_i and N = sum w_i:
    m_k = sum_i w_i mu(x_i^(k)' b) / N,          x_i^(k) = row i with the factor set to k.
Linearisation (the covariates are sampled too, so their distribution contributes, as Stata's
vce(unconditional)): the weighted influence value of m_k is
    z_ik = [ w_i (mu_ik - m_k) + G_k' U_i ] / N,   G_k = sum_i w_i dmu/deta(eta_ik) x_i^(k),
where U_i are the coefficients' influence values (U = S A^-1, see glm.py). z goes to the design's
variance engine; replicate designs recompute m_k with every replicate's refit instead.
R reference: extra_models.R computes the same quantity by hand with R's glm, estfun and svytotal
(survey's svypredmeans and marginpred estimate other things).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..factors import factor_levels
from ..results import SurveyEstimate, confidence_level
from .formula import new_design_matrix
from .irls import mean_and_derivative
from .results import SvyGLMResults


def _levels(series: pd.Series, levels):
    if levels is not None:
        return list(levels)
    return factor_levels(series)


def _set_level(frame: pd.DataFrame, column: str, level) -> pd.DataFrame:
    col = frame[column]
    if isinstance(col.dtype, pd.CategoricalDtype):
        value = pd.Categorical([level] * len(frame), categories=col.cat.categories, ordered=col.cat.ordered)
    else:
        value = np.repeat(np.asarray([level], dtype=col.dtype), len(frame))
    return frame.assign(**{column: value})


def predictive_margins(fit: SvyGLMResults, factor: str, levels=None, type: str = "response",
                       level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
    """Average predicted outcome with ``factor`` set to each level, with design-based SEs.

    factor: a column of the design's data used in the model (any variable the formula reads: a
    factor, a 0/1 indicator, or a numeric variable with ``levels`` giving the values to set).
    type: "response" (mean / probability) or "link".
    Returns estimate, se, ci_low, ci_high per level (t intervals with the design df of the rows
    used, at confidence ``level``; ``alpha`` = 1 - level is still accepted); ``.vcov`` holds the
    covariance of the margins, ``attrs["df"]`` the df.

    >>> from analysis.models import svyglm
    >>> pm = predictive_margins(svyglm("api00 ~ ell + stype", d), "stype")
    >>> pm.loc["E", "estimate"].round(2)
    np.float64(683.6)
    """
    if type not in ("response", "link"):
        raise ValueError(f"type must be 'response' or 'link', got {type!r}")
    design = fit.design
    data = design.data
    if factor not in data.columns:
        raise KeyError(f"{factor!r} is not a column of the design's data")
    fit._refuse_aliased("predictive_margins")
    pt = fit._point
    used = fit.used
    rows = data[used]
    levs = _levels(rows[factor], levels)
    link = fit.family.link
    off = pt.fit.offset
    Xs = [new_design_matrix(fit.model_frame, _set_level(rows, factor, lev)) for lev in levs]
    if all(np.array_equal(Xs[0], X) for X in Xs[1:]) and len(Xs) > 1:
        raise ValueError(f"setting {factor!r} to its levels does not change the model matrix: "
                         f"is it in the formula {fit.formula!r}?")

    def margins(beta: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = []
        for X in Xs:
            eta = X @ beta + off
            out.append(np.sum(w * (mean_and_derivative(link, eta)[0] if type == "response" else eta))
                       / w.sum())
        return np.array(out)

    beta = fit.params.to_numpy()
    w = pt.w
    est = margins(beta, w)

    def point(W):
        B = fit._refit(W)
        Wu = W[used]
        return np.vstack([margins(B[r], Wu[:, r]) for r in range(W.shape[1])])

    def influence():
        N = w.sum()
        Z = np.zeros((len(data), len(levs)))
        for k, X in enumerate(Xs):
            eta = X @ beta + off
            if type == "response":
                mu, d = mean_and_derivative(link, eta)
            else:
                mu, d = eta, np.ones_like(eta)
            G = (X * (w * d)[:, None]).sum(axis=0)
            Z[used, k] = (w * (mu - est[k]) + pt.influence_times(G)) / N
        return Z

    V = fit._model_design.vcov(point, influence)
    se = np.sqrt(np.diag(V))
    df = fit.design_degf
    alpha = 1 - confidence_level(level, alpha)
    q = stats.t.ppf(1 - alpha / 2, df) if df > 0 else np.nan
    out = SurveyEstimate({"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se},
                         index=pd.Index(levs, name=factor))
    out.vcov = V
    out.attrs["df"] = df
    out.attrs["ci"] = f"t with {df} df (design df of the rows used)"
    return out
