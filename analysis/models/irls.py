"""Many weighted GLM fits at once: IRLS over a matrix of weight columns.

Used for replicate-weight variances (one refit per replicate column, warm-started at the
full-sample estimate) and for the intercept-only null model. The point estimate users see comes
from statsmodels' GLM (see glm.py); this routine only repeats that fit under other weights.

For weight columns W (n, m) and coefficient rows B (m, p), one IRLS step solves, per column r,
    (X' diag(W_r d_r^2 / V_r) X) b_r = X' diag(W_r d_r^2 / V_r) z_r,   z = eta - offset + (y - mu)/d
with d = dmu/deta and V = Var(mu). X'WX for all columns is one matrix product (W' @ XX), where XX
holds the p(p+1)/2 distinct products x_j x_k per row; rows are processed in blocks so memory stays
bounded (about 8 * block * (m + p^2) bytes).
"""
from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm

from .modelwarnings import SurveyModelWarning

_BLOCK_ELEMENTS = 4_000_000   # rows * columns held at once per working array


def _cross_index(p: int):
    j, k = np.triu_indices(p)
    return j, k


def mean_and_derivative(link, eta):
    """mu = g^-1(eta) and dmu/deta, overflow-safe for the logit link.

    exp() overflowing inside the logistic gives its correct limit (0 or 1), so that floating-point
    warning is silenced; statsmodels' logit inverse_deriv would give inf/inf = nan there, so the
    logit derivative is taken as mu (1 - mu). Separation itself is reported by the caller.
    """
    with np.errstate(over="ignore"):
        mu = link.inverse(eta)
        if isinstance(link, sm.families.links.Logit):
            return mu, mu * (1 - mu)
        return mu, link.inverse_deriv(eta)


def irls(X: np.ndarray, y: np.ndarray, offset: np.ndarray, W: np.ndarray, family,
         start: np.ndarray, tol: float = 1e-10, maxiter: int = 100, what: str = "replicate fit"
         ) -> np.ndarray:
    """Weighted GLM coefficients for every column of ``W``.

    X (n, p), y (n,), offset (n,), W (n, m) nonnegative weights, start (p,) or (m, p).
    Returns B (m, p). Converged when every coefficient changes by less than
    ``tol * (|b| + tol)``; otherwise a SurveyModelWarning names how many columns did not converge.

    >>> import numpy as np, statsmodels.api as sm
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]]); y = np.array([1.0, 3, 5, 7])
    >>> irls(X, y, np.zeros(4), np.ones((4, 1)), sm.families.Gaussian(), np.zeros(2)).round(6)
    array([[1., 2.]])
    """
    n, p = X.shape
    m = W.shape[1]
    B = np.array(np.broadcast_to(start, (m, p)), dtype=float)
    jj, kk = _cross_index(p)
    block = max(256, _BLOCK_ELEMENTS // max(m, p * p))
    link = family.link
    active = np.ones(m, dtype=bool)
    for _ in range(maxiter):
        cols = np.flatnonzero(active)
        XtWX = np.zeros((cols.size, jj.size))
        XtWz = np.zeros((cols.size, p))
        for lo in range(0, n, block):
            Xb = X[lo:lo + block]
            eta = Xb @ B[cols].T + offset[lo:lo + block, None]
            mu, d = mean_and_derivative(link, eta)
            wk = W[lo:lo + block][:, cols] * (d * d / family.variance(mu))
            z = eta - offset[lo:lo + block, None] + (y[lo:lo + block, None] - mu) / d
            XtWX += wk.T @ (Xb[:, jj] * Xb[:, kk])
            XtWz += (wk * z).T @ Xb
        A = np.zeros((cols.size, p, p))
        A[:, jj, kk] = XtWX
        A[:, kk, jj] = XtWX
        B_new = np.linalg.solve(A, XtWz[..., None])[..., 0]
        change = np.abs(B_new - B[cols]) > tol * (np.abs(B_new) + tol)
        B[cols] = B_new
        active[cols] = change.any(axis=1)
        if not active.any():
            return B
    warnings.warn(f"{what}: IRLS did not converge in {maxiter} iterations for "
                  f"{int(active.sum())} of {m} weight columns", SurveyModelWarning, stacklevel=3)
    return B
