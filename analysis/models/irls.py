"""Weighted GLM fits by IRLS on the normal equations, for one or many weight columns at once.

:func:`fit_one` finds the point estimate users see: the maximiser of statsmodels' GLM weighted
pseudo-likelihood with ``var_weights`` (the same estimate as ``sm.GLM(y, X, family,
var_weights=w).fit()``, tested to 1e-10 in tests/analysis/test_glm_engine.py), iterated from the family's
starting means until every coefficient changes by less than 1e-10 relative (the last step then
lands at ~1e-14 for canonical links; non-canonical links, which converge linearly, go on to
1e-13). glm.py falls back to statsmodels' own fit only when this one fails (separation, saturated
means, a non-finite result). :func:`irls` repeats the fit for every replicate weight column
(warm-started at the full-sample estimate) and fits reduced and offset null models;
:func:`information` gives the information matrix and the per-row score factors at an estimate,
from which glm.py builds the influence values.

For weight columns W (n, m) and coefficient rows B (m, p), one IRLS step solves, per column r,
    (X' diag(W_r d_r^2 / V_r) X) b_r = X' diag(W_r d_r^2 / V_r) z_r,   z = eta - offset + (y - mu)/d
with d = dmu/deta and V = Var(mu). With many weight columns X'WX for all of them is one matrix
product (W' @ XX), where XX holds the p(p+1)/2 distinct products x_j x_k per row; with few columns
it is X' diag(w) X per column. Rows are processed in blocks so memory stays bounded (about
8 * block * (m + p^2) bytes). Measured (2 shared cores, quiet): the logistic fit_one on 1e6 x 7
rows (6 passes), ~0.18 s CPU; 100 bootstrap refits on 200,000 rows, ~2 s (R survey: 25 s).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit
from statsmodels.genmod import families

from .modelwarnings import SurveyModelWarning

_BLOCK_ELEMENTS = 500_000     # rows * columns per working array of the many-column refits: 4 MB blocks
                              # stay in cache (at 200,000 rows x 100 replicates 1.5 s and 267 MB
                              # peak, against 2.1 s and 512 MB with 32 MB blocks)
_MANY_COLUMNS = 8             # from this many weight columns on, X'WX via the triangle products
# one weight column (fit_one, information): rows * columns per block; blocks that stay in the CPU
# cache made a pass over 1e6 x 7 rows 2-3x faster than blocks of 4e6 elements, and 32768
# elements 17% faster than 131072 (measured)
_ONE_FIT_BLOCK_ELEMENTS = 32_768


def _cross_index(p: int):
    j, k = np.triu_indices(p)
    return j, k


def tall_matmul(T: np.ndarray, M: np.ndarray) -> np.ndarray:
    """T @ M for a tall T (n, k) and a small M (k, m), as (M' T')': numpy's matmul is about 15x
    slower on the tall-times-small layout than BLAS on the transposed one (measured at n = 1e6)."""
    return (M.T @ T.T).T


def matvec(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """X @ v for a tall X (n, p), in cache-sized row blocks.

    OpenBLAS runs a full-size product on all its threads; on cores shared with other processes,
    waiting for those threads cost more than the product itself (measured: the 7 influence columns
    of a 1e6 x 7 model 185 ms CPU threaded, 115 ms in blocks). Blocks this size stay single-threaded.

    >>> matvec(np.arange(6.0).reshape(3, 2), np.array([1.0, 10.0])).tolist()
    [10.0, 32.0, 54.0]
    """
    n = X.shape[0]
    out = np.empty(n)
    block = max(256, _ONE_FIT_BLOCK_ELEMENTS // max(X.shape[1], 1))
    for lo in range(0, n, block):
        np.matmul(X[lo:lo + block], v, out=out[lo:lo + block])
    return out


def mean_and_derivative(link, eta):
    """mu = g^-1(eta) and dmu/deta, overflow-safe for the logit link.

    For the logit link mu = expit(eta) (scipy's, exact in the tails and without the clipping and
    overflow warnings of statsmodels' version) and dmu/deta = mu (1 - mu), where statsmodels'
    inverse_deriv gives inf/inf = nan for large |eta|. Separation is reported by the caller.
    """
    if isinstance(link, families.links.Logit):
        mu = expit(eta)
        return mu, mu * (1 - mu)
    with np.errstate(over="ignore"):
        return link.inverse(eta), link.inverse_deriv(eta)


def _working(family, W, eta, offset, y):
    """IRLS working weights W d^2/V and working response eta - offset + (y - mu)/d.

    Rows whose mean has saturated (dmu/deta = 0, e.g. under separation) drop out of the step, as
    in R's glm.fit ('good' rows).
    """
    mu, d = mean_and_derivative(family.link, eta)
    canonical_logit = isinstance(family, families.Binomial) and isinstance(family.link, families.links.Logit)
    good = (d != 0) & np.isfinite(d)
    if good.all():
        wk = W * d if canonical_logit else W * (d * d / family.variance(mu))   # logit: d = V
        return wk, eta - offset + (y - mu) / d
    d_safe = np.where(good, d, 1.0)
    wk = np.where(good, W * (d_safe * d_safe / family.variance(mu)), 0.0)
    return wk, np.where(good, eta - offset + (y - mu) / d_safe, 0.0)


def irls(X: np.ndarray, y: np.ndarray, offset: np.ndarray, W: np.ndarray, family,
         start: np.ndarray, tol: float = 1e-10, maxiter: int = 100, what: str = "replicate fit",
         full_output: bool = False):
    """Weighted GLM coefficients for every column of ``W``.

    X (n, p), y (n,), offset (n,) or None (zero), W (n, m) nonnegative weights, start (p,) or (m, p), or None
    to start from the family's starting means as statsmodels and R do.
    Returns B (m, p) (with ``full_output``: (B, failed) and no warning). Converged when every
    coefficient changes by less than ``tol * (|b| + s)``, s its natural scale (sqrt of the diagonal
    of (X'WX / sum W)^-1 with the working weights: the size of an effect of one unit of the linear
    predictor per SD of its column), so a coefficient that is zero up to rounding converges too;
    the last step is kept (for canonical links it lands at about the square of that change).
    Otherwise a SurveyModelWarning names how many columns did not converge.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]]); y = np.array([1.0, 3, 5, 7])
    >>> irls(X, y, np.zeros(4), np.ones((4, 1)), families.Gaussian(), np.zeros(2)).round(6)
    array([[1., 2.]])
    """
    n, p = X.shape
    m = W.shape[1]
    # start=None: the first step starts from statsmodels' starting means (y + mean(y))/2 etc.
    from_mu = start is None
    B = np.zeros((m, p)) if from_mu else np.array(np.broadcast_to(start, (m, p)), dtype=float)
    eta0 = family.link(family.starting_mu(y)) if from_mu else None
    jj, kk = _cross_index(p)
    block = max(256, _BLOCK_ELEMENTS // max(m, p * p))
    active = np.ones(m, dtype=bool)
    failed = np.zeros(m, dtype=bool)
    for _ in range(maxiter):
        cols = np.flatnonzero(active)
        XtWX = np.zeros((cols.size, jj.size))
        XtWz = np.zeros((cols.size, p))
        wsum = np.zeros(cols.size)
        for lo in range(0, n, block):
            Xb = X[lo:lo + block]
            off = 0.0 if offset is None else offset[lo:lo + block, None]
            if from_mu:
                eta = np.repeat(eta0[lo:lo + block, None], cols.size, axis=1)
            else:
                eta = tall_matmul(Xb, B[cols].T) + off
            Wb = W[lo:lo + block] if cols.size == m else W[lo:lo + block][:, cols]
            wk, z = _working(family, Wb, eta, off, y[lo:lo + block, None])
            if cols.size >= _MANY_COLUMNS:       # one GEMM for all columns
                XtWX += wk.T @ (Xb[:, jj] * Xb[:, kk])
            else:                                # few columns: X' diag(w) X per column
                for r in range(cols.size):
                    XtWX[r] += ((Xb * wk[:, r:r + 1]).T @ Xb)[jj, kk]
            XtWz += (wk * z).T @ Xb
            wsum += wk.sum(axis=0)
        A = np.zeros((cols.size, p, p))
        A[:, jj, kk] = XtWX
        A[:, kk, jj] = XtWX
        B_new, singular = _solve(A, XtWz, B[cols])
        change = np.abs(B_new - B[cols]) > tol * (np.abs(B_new) + _natural_scale(A, wsum))
        B[cols] = B_new
        active[cols] = True if from_mu else change.any(axis=1)
        active[cols[singular]] = False          # no information left (all means saturated)
        failed[cols[singular]] = True
        from_mu = False
        if not active.any():
            break
    failed |= active
    if full_output:
        return B, failed
    if not failed.any():
        return B
    warnings.warn(f"{what}: IRLS did not converge in {maxiter} iterations for "
                  f"{int(failed.sum())} of {m} weight columns (separation or saturated means?)",
                  SurveyModelWarning, stacklevel=3)
    return B


def _natural_scale(A: np.ndarray, wsum: np.ndarray) -> np.ndarray:
    """(m, p) sqrt of diag((A_r / wsum_r)^-1); 0 where A_r is singular (then only |b| counts)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            inv_diag = np.diagonal(np.linalg.inv(A), axis1=1, axis2=2) * wsum[:, None]
        except np.linalg.LinAlgError:
            return np.zeros(A.shape[:2])
        return np.where(np.isfinite(inv_diag) & (inv_diag > 0), np.sqrt(np.abs(inv_diag)), 0.0)


def _solve(A: np.ndarray, b: np.ndarray, previous: np.ndarray):
    """Batched solve of A x = b; a singular system keeps its previous coefficients."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0], np.zeros(len(A), dtype=bool)
    except np.linalg.LinAlgError:
        out = previous.copy()
        singular = np.zeros(len(A), dtype=bool)
        for r in range(len(A)):         # only after a failure: find the singular systems
            try:
                out[r] = np.linalg.solve(A[r], b[r])
            except np.linalg.LinAlgError:
                singular[r] = True
        return out, singular



def fit_one(X: np.ndarray, y: np.ndarray, offset: np.ndarray | None, w: np.ndarray, family,
            tol: float = 1e-10, maxiter: int = 100):
    """One weighted GLM fit by IRLS (Fisher scoring), from the family's starting means.

    Returns (beta, A, r, mu, converged): the estimate, and at that estimate the information
    A = X' diag(w d^2/V) X, the score factors r = w (y - mu) d / V and the means (see
    :func:`information`). Same iteration and convergence rule as :func:`irls` with one weight
    column, in increment form (b_new = b + A^-1 X'r); each pass over X in row blocks computes
    everything at once, and the pass after convergence is the one that gives A, r and mu at the
    reported estimate. For a non-canonical link (linear convergence) it goes on to tol/1000, or
    until the steps stop shrinking. converged False: not converged in ``maxiter`` steps, a singular A (no
    information left: separation, saturated means) or a non-finite estimate.

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]]); y = np.array([0.0, 1, 0, 1])
    >>> beta, A, r, mu, ok = fit_one(X, y, None, np.ones(4), families.Binomial())
    >>> ok, beta.round(6).tolist(), bool(abs(r @ X).max() < 1e-12)
    (True, [-1.362276, 0.908184], True)
    """
    n, p = X.shape
    block = max(256, _ONE_FIT_BLOCK_ELEMENTS // max(p, 1))
    link = family.link
    logit = isinstance(family, families.Binomial) and isinstance(link, families.links.Logit)
    mu_all, r_all = np.empty(n), np.empty(n)
    canonical = is_canonical(family)
    beta = None
    done = False
    previous = np.inf
    for _ in range(maxiter + 2):
        A = np.zeros((p, p))
        g = np.zeros(p)
        wsum = 0.0
        for lo in range(0, n, block):
            Xb, yb, wb = X[lo:lo + block], y[lo:lo + block], w[lo:lo + block]
            if beta is None:
                eta = link(family.starting_mu(yb))
                if offset is not None:
                    eta += offset[lo:lo + block]
            else:
                eta = Xb @ beta
                if offset is not None:
                    eta += offset[lo:lo + block]
            mu, d = mean_and_derivative(link, eta)
            if logit:                       # d = V = mu (1 - mu)
                wk = wb * d
                rb = wb * (yb - mu)
            else:
                wdv = wb * d / family.variance(mu)
                wk = wdv * d
                rb = wdv * (yb - mu)
            if not (d.min() > 0 if logit else np.isfinite(d).all() and np.all(d != 0)):
                good = (d != 0) & np.isfinite(d)     # saturated means drop out (R's 'good' rows)
                wk = np.where(good, wk, 0.0)
                rb = np.where(good, rb, 0.0)
            mu_all[lo:lo + block] = mu
            r_all[lo:lo + block] = rb
            A += (Xb * wk[:, None]).T @ Xb
            if beta is None:                # first step: X'W z with z = eta - offset + (y - mu)/d
                if offset is not None:
                    eta -= offset[lo:lo + block]
                rb = rb + wk * eta
            g += rb @ Xb
            wsum += wk.sum()
        if done:
            return beta, A, r_all, mu_all, True
        try:
            step = np.linalg.solve(A, g)
        except np.linalg.LinAlgError:
            return (np.full(p, np.nan) if beta is None else beta), A, r_all, mu_all, False
        new = step if beta is None else beta + step
        if not np.all(np.isfinite(new)):
            return new, A, r_all, mu_all, False
        scale = _natural_scale(A[None], np.array([wsum]))[0]
        size = float(np.max(np.abs(step) / (np.abs(new) + scale))) if beta is not None else np.inf
        # canonical link: Fisher scoring is Newton's method, the next step would be ~size^2. Else
        # it converges linearly: go on to tol/1000, or until the steps stop shrinking (rounding)
        done = size <= tol and (canonical or size <= tol * 1e-3 or size > 0.5 * previous)
        previous = size
        beta = new
    return beta, A, r_all, mu_all, False


def is_canonical(family) -> bool:
    """The family's canonical link (expected = observed information: IRLS is Newton's method)."""
    for fam, link in ((families.Binomial, families.links.Logit), (families.Poisson, families.links.Log),
                      (families.Gaussian, families.links.Identity),
                      (families.Gamma, families.links.InversePower),
                      (families.InverseGaussian, families.links.InverseSquared)):
        if isinstance(family, fam):
            return type(family.link) is link
    return False


def information(X: np.ndarray, y: np.ndarray, offset: np.ndarray | None, w: np.ndarray, family,
                beta: np.ndarray):
    """At ``beta``: the expected information A = X' diag(w d^2/V) X (p, p), the per-row score
    factors r = w (y - mu) d / V (n,) (the weighted scores are s_i = r_i x_i) and the means mu (n,),
    with d = dmu/deta and V = Var(mu). One pass over X in row blocks (no n x p temporary).

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]]); y = np.array([1.0, 3, 5, 7])
    >>> A, r, mu = information(X, y, None, np.ones(4), families.Gaussian(), np.array([1.0, 2.0]))
    >>> A.tolist(), r.tolist()
    ([[4.0, 6.0], [6.0, 14.0]], [0.0, 0.0, 0.0, 0.0])
    """
    n, p = X.shape
    A = np.zeros((p, p))
    r = np.empty(n)
    mu = np.empty(n)
    block = max(256, _ONE_FIT_BLOCK_ELEMENTS // max(p, 1))
    logit = isinstance(family, families.Binomial) and isinstance(family.link, families.links.Logit)
    for lo in range(0, n, block):
        Xb = X[lo:lo + block]
        eta = Xb @ beta
        if offset is not None:
            eta += offset[lo:lo + block]
        m, d = mean_and_derivative(family.link, eta)
        wb = w[lo:lo + block]
        if logit:           # d = V = mu (1 - mu)
            wd_v = wb
            c = wb * d
        else:
            wd_v = wb * d / family.variance(m)
            c = wd_v * d
        r[lo:lo + block] = wd_v * (y[lo:lo + block] - m)
        mu[lo:lo + block] = m
        A += (Xb * c[:, None]).T @ Xb
    return A, r, mu


SUM_BLOCK = 65_536     # rows per block of deviance and dispersion sums (no full-size temporaries)


def deviance_sum(family, y: np.ndarray, mu, w: np.ndarray, w_scale: float = 1.0) -> float:
    """The family's deviance with var_weights w / w_scale (statsmodels' unit deviances), summed
    over row blocks; mu an array or one value for every row.

    >>> import numpy as np
    >>> round(deviance_sum(families.Poisson(), np.array([1.0, 2, 4]), 2.0, np.ones(3)), 6)
    2.158883
    """
    total = 0.0
    for lo in range(0, len(y), SUM_BLOCK):
        yb = y[lo:lo + SUM_BLOCK]
        mb = np.full(len(yb), mu) if np.ndim(mu) == 0 else mu[lo:lo + SUM_BLOCK]
        total += family.deviance(yb, mb, var_weights=w[lo:lo + SUM_BLOCK])
    return float(total / w_scale)
