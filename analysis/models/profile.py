"""Profile-likelihood confidence intervals for svyglm coefficients (R: confint(fit,
method = "likelihood"), survey's MASSprofile_glm and confint_profile).

For coefficient j: lambda = design variance / model-based variance (R's cov.unscaled /
naive.cov), alpha = Phi(t_{ddf, (1-level)/2} sqrt(lambda)) / 2. The working deviance (weights
scaled to mean 1) is profiled at up to 9 steps of (zmax / 5) * SE on each side, zmax =
sqrt(chi2_1 upper alpha) for binomial and poisson, sqrt(F_{1, n-p} upper alpha) otherwise; each
step refits the other coefficients with b_j fixed (an offset) and records the signed root
z = sign * sqrt((D(b_j) - D) / dispersion), the dispersion of summary.svyglm (svyvar of the
Pearson residuals, for every family). A fmm spline through (b_j, z) on 3 x (points) is
inverted linearly at z = -/+ Phi^-1(2 alpha), as R does.

Example
-------
>>> logit.profile_conf_int(["ell"])
       ci_low   ci_high
ell -0.033148  0.019245
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ModelError
from ..estimators import _fmm_spline
from .irls import deviance_sum, irls

__all__ = ["profile_conf_int"]


def _r_approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's approx(x, y, xout): sorted by x, y averaged over tied x, linear, NA outside."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    ux, start, counts = np.unique(xs, return_index=True, return_counts=True)
    uy = np.add.reduceat(ys, start) / counts
    out = np.interp(xout, ux, uy)
    return np.where((xout < ux[0]) | (xout > ux[-1]), np.nan, out)


def profile_conf_int(fit, names: list[str], level: float = 0.95, df: float | None = None,
                     maxsteps: int = 10) -> pd.DataFrame:
    """Profile-likelihood intervals (``ci_low``, ``ci_high``) of the coefficients ``names`` of a
    svyglm."""
    pt = fit._point
    X, y, offset = pt.fit.X, pt.fit.y, pt.fit.offset
    wf = pt.w / pt.w_scale
    fam = fit.family
    params = fit.params.to_numpy()
    all_names = list(fit.params.index)
    se = fit.bse.to_numpy()
    naive = np.diag(pt.A_inv) * pt.w_scale
    lam = np.diag(fit._cov) / naive
    ddf = fit.df_resid if df is None else df
    n, p = X.shape
    fixed_dispersion = fit.family_name in ("binomial", "poisson")
    rows = []
    for name in names:
        j = all_names.index(name)
        if np.isfinite(ddf):
            if ddf <= 0:
                raise ValueError("zero or negative denominator df")
            alpha = stats.norm.cdf(stats.t.ppf((1 - level) / 2, ddf) * np.sqrt(lam[j])) / 2
        else:
            alpha = stats.norm.cdf(stats.norm.ppf((1 - level) / 2) * np.sqrt(lam[j])) / 2
        # sqrt of the chi2_1 / F(1, n-p) upper-alpha quantile, as the normal / t quantile at
        # alpha/2 (finite where scipy's chi2/F quantiles overflow for tiny alpha)
        if fixed_dispersion:
            zmax = stats.norm.isf(alpha / 2)
        else:
            zmax = stats.t.isf(alpha / 2, n - p)
        if not (alpha > 0 and np.isfinite(zmax)):
            raise ModelError(
                f"profile-likelihood interval of {name!r} is undefined: its variance ratio "
                f"lambda = {lam[j]:.4g} (design over unscaled model variance, as R) leaves no "
                "tail probability (R fails here too); use the Wald interval conf_int()")
        step_size = zmax / 5 * se[j]
        others = [k for k in range(p) if k != j]
        Xi = X[:, others]
        bs, zs = [params[j]], [0.0]
        for sgn in (-1.0, 1.0):
            step, z = 0, 0.0
            start = params[others]
            while (step := step + 1) < maxsteps and abs(z) < zmax:
                bj = params[j] + sgn * step * step_size
                o = offset + X[:, j] * bj
                b_other = irls(Xi, y, o, wf[:, None], fam, start, tol=1e-12,
                               what=f"profile of {name}")[0]
                start = b_other
                eta = Xi @ b_other + o
                mu = fam.link.inverse(eta)
                # R divides by summary.svyglm's dispersion for every family (also binomial)
                zz = (deviance_sum(fam, y, mu, wf) - fit.deviance) / fit.dispersion
                if zz < -0.001:
                    raise RuntimeError(f"profiling {name} found a better fit: the original fit "
                                       "had not converged")
                z = sgn * np.sqrt(max(zz, 0.0))
                bs.append(bj)
                zs.append(z)
        b, z = np.asarray(bs), np.asarray(zs)
        order = np.argsort(b, kind="stable")
        xb, yz = b[order], z[order]
        m = 3 * xb.shape[0]
        grid = xb[0] + np.arange(m) * ((xb[-1] - xb[0]) / (m - 1))
        grid[-1] = xb[-1]
        sz = _fmm_spline(xb, yz, grid)
        cut = np.array([stats.norm.ppf(2 * alpha), stats.norm.isf(2 * alpha)])
        lo, hi = _r_approx(sz, grid, cut)
        rows.append((name, lo, hi))
    return pd.DataFrame([(lo, hi) for _, lo, hi in rows], columns=["ci_low", "ci_high"],
                        index=pd.Index([nm for nm, _, _ in rows]))
