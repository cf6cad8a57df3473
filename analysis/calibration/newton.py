"""R's ``grake``: Newton iterations for bounded or non-linear calibration distances, vectorised
over weight columns (generalised inverse, step halving, R's rescaling of weights far below the
totals)."""

from __future__ import annotations

import warnings

import numpy as np

from analysis.calibration.distances import _distance, _unbounded
from analysis.calibration.errors import CalibrationError


def _crossprod_w(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Stack of X' diag(W[:, r]) X over columns r: (m, p, p), without an (n, p, p) temporary.

    For a weight matrix, one pass over W: ``W' [x_a x_b]`` for the p(p+1)/2 products of model
    columns, accumulated over blocks of rows so the products never take more than ~32 MB.
    """
    n, p = X.shape
    m = W.shape[1]
    if m <= 2:  # one or two weight columns: one matrix product each
        return np.stack([(X * W[:, r : r + 1]).T @ X for r in range(m)])
    ia, ib = np.triu_indices(p)
    acc = np.zeros((m, ia.shape[0]))
    step = max(1024, 4_000_000 // ia.shape[0])
    for lo in range(0, n, step):  # blocks of rows, a bounded number (not a loop over rows)
        Xc = X[lo : lo + step]
        acc += W[lo : lo + step].T @ (Xc[:, ia] * Xc[:, ib])
    out = np.empty((m, p, p))
    out[:, ia, ib] = acc
    out[:, ib, ia] = acc
    return out


def _grake(W0, X, targets, sample_total, method, lower, upper, epsilon, maxit, force,
           sigma2=None):
    """R's grake, vectorised over the weight columns; columns stop as they converge."""
    fm1, dF = _distance(method, lower, upper)
    m = W0.shape[1]
    # R rescales the weights when every total is more than 20 times the sample total
    scales = targets[:, None] / sample_total
    rescale = np.where(np.min(scales, axis=0) > 20, np.mean(scales, axis=0), 1.0)
    if np.any(rescale != 1.0) and not _unbounded(lower, upper):
        warnings.warn(
            "bounds apply after R's rescaling of weights by "
            f"{np.unique(np.round(rescale, 3)).tolist()} (totals > 20x the sample totals)",
            stacklevel=3,
        )
    W = W0 * rescale
    st = sample_total * rescale
    # exp() may overflow on a too-long Newton step; R's grake then halves the step, as we do below,
    # so the floating-point warnings are expected and handled, not hidden failures
    with np.errstate(over="ignore", invalid="ignore"):
        G, iterations, failed = _newton(W, X, targets, st, fm1, dF, epsilon, maxit, sigma2)
    G *= rescale
    if failed:
        cols = sorted(failed)
        msg = (
            f"{method} calibration did not converge in {maxit} iterations"
            + ("" if m == 1 else f" for weight column(s) {[c + 1 for c in cols][:10]}")
            + f": largest relative misfit {max(failed.values()):.3g} (epsilon {epsilon:g}); "
            "loosen bounds, raise maxit, or pass force=True to keep the unconverged weights"
        )
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=3)
    return G, iterations


def _newton(W, X, targets, st, fm1, dF, epsilon, maxit, sigma2=None):
    """Newton iterations of grake for every column of W; converged columns are frozen.
    ``sigma2`` (n,): R's heteroscedastic variant, x'eta / sigma2 inside the distance."""
    n, m = W.shape
    s2 = np.ones((n, 1)) if sigma2 is None else sigma2[:, None]
    p = X.shape[1]
    eta = np.zeros((p, m))
    G = np.ones((n, m))
    active = np.arange(m)
    iterations = np.ones(m, dtype=int)
    failed: dict[int, float] = {}
    while active.size:
        Wa = W[:, active]
        xeta = X @ eta[:, active] / s2
        T = _crossprod_w(X, Wa * dF(xeta) / s2)
        misfit = targets[:, None] - st[:, active] - ((Wa * fm1(xeta)).T @ X).T
        deta = np.einsum("rij,jr->ir", np.linalg.pinv(T, rcond=256 * np.finfo(float).eps), misfit)
        eta_a = eta[:, active] + deta
        xeta = X @ eta_a / s2
        g = 1.0 + fm1(xeta)
        d = dF(xeta)
        # step halving for columns whose g (or derivative) left the finite range
        bad = ~(np.isfinite(g).all(axis=0) & np.isfinite(d).all(axis=0))
        while bad.any():
            can = bad & (iterations[active] < maxit)
            if not can.any():
                break
            iterations[active[can]] += 1
            deta[:, can] /= 2.0
            eta_a[:, can] -= deta[:, can]
            xeta[:, can] = X @ eta_a[:, can] / s2
            g[:, can] = 1.0 + fm1(xeta[:, can])
            d[:, can] = dF(xeta[:, can])
            bad = ~(np.isfinite(g).all(axis=0) & np.isfinite(d).all(axis=0))
        eta[:, active] = eta_a
        G[:, active] = g
        misfit = targets[:, None] - st[:, active] - ((Wa * (g - 1.0)).T @ X).T
        rel = np.abs(misfit) / (1.0 + np.abs(targets))[:, None]
        done = np.all(rel < epsilon, axis=0)
        iterations[active[~done]] += 1
        over = ~done & (iterations[active] > maxit)
        for j in np.flatnonzero(over):
            failed[int(active[j])] = float(np.nanmax(rel[:, j]))
        active = active[~done & ~over]
    return G, int(iterations.max()), failed
