"""GREG calibration to population totals (R's ``calibrate``): closed form for the unbounded
linear distance (R's regcalibrate), Newton (R's grake) otherwise; its record residualises
influence values as ``w * qr.resid(X sqrt(w0), U / w)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration._arrays import (
    _as_2d,
    _blocks,
    _frozen,
    _influence_columns,
    cluster_means,
)
from analysis.calibration.bounds import _bound_pair
from analysis.calibration.errors import CalibrationError
from analysis.calibration.newton import _crossprod_w, _grake
from analysis.calibration.records import Calibration, _margin_frame


@dataclass(frozen=True, eq=False)
class GregCalibration(Calibration):
    """Record of ``calibrate`` (any distance): orthonormal basis of ``X sqrt(w0)`` and ``g sqrt(w0)``.

    ``residualize(U) = w * (r - Q Q' r)`` with ``r = U / w``, ``w = g sqrt(w0)``: R's
    ``qr.resid(qr(X * sqrt(w0)), U / w) * w``.
    """

    Q: np.ndarray
    w: np.ndarray
    X: np.ndarray
    targets: np.ndarray
    names: tuple[str, ...]
    method: str
    iterations: int
    bounds: tuple = (-np.inf, np.inf)
    epsilon: float = 1e-10
    maxit: int = 50
    kind: str = "calibrate"
    old_weights: np.ndarray | None = None  # the weights before this step
    variance: np.ndarray | None = None     # R's heteroscedastic calibration (replayed on replicates)
    #: (n,) cluster codes of R's aggregate.stage: X and the weights are cluster means
    aggregate: np.ndarray | None = None

    def residualize(self, U):
        column, n, _, assemble, fresh = _influence_columns(U)
        w, Q = self.w, self.Q
        dead = w == 0

        def residual(j):  # w * (r - Q Q'r), r = U / w (0 where w is 0)
            u = column(j)
            r = u if fresh else np.empty(n)
            np.divide(u, w, out=r, where=~dead)
            r[dead] = 0.0
            t = Q.T @ r
            for b in _blocks(n):  # no n-vector Q t
                r[b] -= Q[b] @ t
            r *= w
            return r

        return assemble(residual)

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        got = self.X.T @ weights
        return _margin_frame(f"{self.kind} ({self.method})", "model", self.names, self.targets, got)

    def replay(self, W: np.ndarray) -> np.ndarray:
        # as R's calibrate.svyrep.design: a replicate that does not converge only warns
        if self.aggregate is not None:
            Wa = cluster_means(np.asarray(W, dtype=np.float64), self.aggregate)
            G = calibrate_weights(Wa, self.X, self.targets, method=self.method,
                                  bounds=self.bounds, epsilon=self.epsilon, maxit=self.maxit,
                                  force=True, variance=self.variance)[0]
            return np.asarray(W) * np.divide(G, Wa, out=np.ones_like(G), where=Wa != 0)
        return calibrate_weights(
            W,
            self.X,
            self.targets,
            method=self.method,
            bounds=self.bounds,
            epsilon=self.epsilon,
            maxit=self.maxit,
            force=True,
            variance=self.variance,
        )[0]


def calibrate_weights(
    weights: np.ndarray,
    X: np.ndarray,
    targets: np.ndarray,
    *,
    method: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    epsilon: float = 1e-10,
    maxit: int = 50,
    force: bool = False,
    names: Sequence[str] | None = None,
    variance=None,
):
    """Calibrate weights so that ``X' w_new = targets`` (R's ``calibrate``).

    ``method``: ``"linear"`` (GREG; closed form when unbounded, as R's regcalibrate; truncated
    linear with bounds), ``"raking"`` (exponential distance) or ``"logit"`` (bounded, needs
    finite bounds ``L < 1 < U``). ``bounds`` bound the g-weights ``w_new / w``: two numbers, or
    one value per row (R's ``bounds = list(lower = ..., upper = ...)``). Bounded or
    non-linear distances use R's ``grake`` Newton iterations (generalised inverse, step halving,
    stop when ``|misfit| / (1 + |target|) < epsilon`` for every total; R's default epsilon is
    1e-7, ours 1e-10). A matrix (n, R) is calibrated column by column. Failure to converge
    raises :class:`CalibrationError` unless ``force=True`` (then it warns).
    ``variance``: R's heteroscedastic calibration, ``sigma2`` per row (an (n,) array) or as
    ``X @ variance`` (a (p,) vector): the g-weights become ``1 + F(x'eta / sigma2)``. As in R the
    variance residuals (the record) do not depend on it.

    Returns ``(new_weights, record)``; the record is a :class:`GregCalibration` for a vector.

    >>> X = np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 4.0]])
    >>> w, rec = calibrate_weights(np.ones(4), X, np.array([8.0, 24.0]))
    >>> np.round(X.T @ w, 10).tolist()
    [8.0, 24.0]
    """
    W0, is_vec = _as_2d(weights)
    X = np.asarray(X, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != W0.shape[0] or X.shape[1] != targets.shape[0]:
        raise CalibrationError(
            f"calibration matrix {X.shape}, weights {W0.shape} and totals {targets.shape} disagree"
        )
    lower, upper = _bound_pair(bounds, W0.shape[0])
    # one bound per row: (n, 1), so that it broadcasts over the weight columns
    lower = lower if np.ndim(lower) == 0 else lower[:, None]
    upper = upper if np.ndim(upper) == 0 else upper[:, None]
    unbounded = np.all(np.isneginf(lower)) and np.all(np.isposinf(upper))
    sigma2 = _sigma2(variance, X)
    sample_total = (W0.T @ X).T  # (p, m); this product order is the fast one for BLAS
    if method == "linear" and unbounded:
        G, iterations = _regcalibrate(W0, X, targets, sample_total, sigma2, names), 0
    else:
        G, iterations = _grake(
            W0, X, targets, sample_total, method, lower, upper, epsilon, maxit, force, sigma2
        )
    if not is_vec:  # a replicate matrix: the g-weights become the new weights in place
        return np.multiply(G, W0, out=G), None
    new = W0 * G
    w0 = W0[:, 0]
    whalf = np.sqrt(w0)
    # R: regcalibrate (linear, unbounded) projects on X sqrt(w0 / sigma2) and scales the residuals
    # by g sqrt(w0 sigma2); grake's path (bounds or other distances) ignores sigma2 there
    s = np.sqrt(sigma2) if sigma2 is not None and method == "linear" and unbounded else 1.0
    Q = _orthonormal_basis(X * (whalf / s)[:, None])
    record = GregCalibration(
        Q=Q,
        w=G[:, 0] * whalf * s,
        X=X,
        targets=targets,
        names=tuple(names) if names is not None else tuple(f"x{j}" for j in range(X.shape[1])),
        method=method,
        iterations=iterations,
        bounds=(lower, upper),
        epsilon=epsilon,
        maxit=maxit,
        old_weights=_frozen(weights),
        variance=None if variance is None else np.asarray(variance, dtype=np.float64),
    )
    return new[:, 0], record


def _regcalibrate(W0, X, targets, sample_total, sigma2, names) -> np.ndarray:
    """R's regcalibrate, the closed form of the unbounded linear distance, for every weight
    column r: ``g = 1 + X lambda_r / sigma2`` with
    ``lambda_r = (X' diag(w_r / sigma2) X)^{-1} (targets - X' w_r)``."""
    T = _crossprod_w(X, W0 if sigma2 is None else W0 / sigma2[:, None])
    try:
        lam = np.linalg.solve(T, (targets[:, None] - sample_total).T[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError as exc:
        raise CalibrationError(
            "calibration matrix X'WX is singular: the calibration variables are collinear "
            f"or a level has no sample weight ({names or 'columns'})"
        ) from exc
    G = X @ lam.T
    if sigma2 is not None:
        G /= sigma2[:, None]
    G += 1.0
    return G


def _sigma2(variance, X: np.ndarray) -> np.ndarray | None:
    """R's grake: sigma2 = variance (one per row) or X @ variance (one per model column)."""
    if variance is None:
        return None
    v = np.asarray(variance, dtype=np.float64)
    if v.shape == (X.shape[0],):
        sigma2 = v
    elif v.shape == (X.shape[1],):
        sigma2 = X @ v
    else:
        raise CalibrationError(f"variance must have one value per row ({X.shape[0]}) or per "
                               f"calibration variable ({X.shape[1]}); got shape {v.shape}")
    if not np.all(np.isfinite(sigma2) & (sigma2 > 0)):
        row = int(np.flatnonzero(~(np.isfinite(sigma2) & (sigma2 > 0)))[0])
        raise CalibrationError(f"variance: sigma2 must be positive and finite; row {row} has "
                               f"{sigma2[row]}")
    return sigma2


def _orthonormal_basis(A: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of A (pivoted QR, rank as R's qr tol 1e-7)."""
    import scipy.linalg  # noqa: PLC0415 (lazy: designs and means do not need scipy.linalg)

    Q, R, _ = scipy.linalg.qr(A, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > 1e-7 * d[0])) if d.size and d[0] > 0 else 0
    return np.ascontiguousarray(Q[:, :rank])
