"""Calibrated random draws: link functions whose intercepts are solved so a margin hits its target.

The simulator states every effect as a slope on a logit scale and takes the *level* of each
variable from the instrument's prior. The helpers here solve the intercepts (or ordinal
thresholds) so that the expected population share equals the prior on the realised covariates,
then draw. The realised share then differs from the prior only by binomial noise
(sd = sqrt(p(1-p)/N) ~ 0.0013 at N = 141,655).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit


def solve_intercept(lp: np.ndarray, target: float, tol: float = 1e-10) -> float:
    """The c with mean(expit(c + lp)) == target (Newton's method; the mean is monotone in c).

    >>> round(solve_intercept(np.zeros(4), 0.2), 6) == round(float(logit(0.2)), 6)
    True
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target share must be strictly between 0 and 1, got {target}")
    lp = np.asarray(lp, dtype=float)
    c = float(logit(target) - lp.mean())
    for _ in range(50):
        p = expit(c + lp)
        f = p.mean() - target
        if abs(f) < tol:
            return c
        c -= f / max((p * (1.0 - p)).mean(), 1e-12)
    raise RuntimeError(f"intercept for target {target} did not converge (last gap {f:.3g})")


def draw_binary(rng: np.random.Generator, lp: np.ndarray, target: float) -> tuple[np.ndarray, float]:
    """Bernoulli draws with P = expit(c + lp), c solved so that the mean probability is `target`.

    Returns (draws as bool array, c).

    >>> rng = np.random.default_rng(1)
    >>> y, c = draw_binary(rng, np.zeros(100_000), 0.3)
    >>> bool(abs(y.mean() - 0.3) < 0.01)
    True
    """
    c = solve_intercept(lp, target)
    return rng.random(len(lp)) < expit(c + lp), c


def draw_ordinal(rng: np.random.Generator, lp: np.ndarray, codes_low_to_high, probs) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative-logit draws: P(Y <= k) = expit(theta_k - lp), codes listed from low to high latent.

    The thresholds theta are solved so that the expected share of each code equals `probs`
    (which must sum to 1). Returns (codes array, theta).

    >>> rng = np.random.default_rng(2)
    >>> y, theta = draw_ordinal(rng, np.zeros(200_000), [3, 2, 1], [0.2, 0.3, 0.5])
    >>> [round(float((y == k).mean()), 2) for k in (3, 2, 1)]
    [0.2, 0.3, 0.5]
    """
    probs = np.asarray(probs, dtype=float)
    codes = np.asarray(codes_low_to_high)
    if abs(probs.sum() - 1.0) > 1e-9:
        raise ValueError(f"ordinal probabilities must sum to 1, got {probs.sum()}")
    cum = np.cumsum(probs)[:-1]
    theta = np.array([solve_intercept(-lp, t) for t in cum])
    latent = lp + rng.logistic(size=len(lp))
    return codes[np.searchsorted(theta, latent)], theta


def draw_categorical(rng: np.random.Generator, lp: np.ndarray, codes, probs, iterations: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial-logit draws with columns `lp` (n x K); intercepts solved so the mean shares are `probs`.

    Fixed-point iteration alpha_k += log(target_k / mean p_k), which converges for the softmax.
    Returns (codes array, alpha).

    >>> rng = np.random.default_rng(3)
    >>> y, a = draw_categorical(rng, np.zeros((100_000, 3)), [1, 2, 3], [0.5, 0.3, 0.2])
    >>> [round(float((y == k).mean()), 2) for k in (1, 2, 3)]
    [0.5, 0.3, 0.2]
    """
    probs = np.asarray(probs, dtype=float)
    codes = np.asarray(codes)
    lp = np.asarray(lp, dtype=float)
    alpha = np.log(probs)
    if np.any(lp != 0.0):
        for _ in range(iterations):
            step = np.log(probs / _softmax(lp + alpha).mean(axis=0))
            alpha += step
            if np.abs(step).max() < 1e-10:
                break
    p = _softmax(lp + alpha)
    u = rng.random(len(lp))
    pick = (p.cumsum(axis=1) < u[:, None]).sum(axis=1)
    return codes[np.minimum(pick, len(codes) - 1)], alpha


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(z, -50.0, 50.0))  # linear predictors here are small: no max-shift needed
    return e / e.sum(axis=1, keepdims=True)


def standardize(x: np.ndarray) -> np.ndarray:
    """(x - mean) / sd over the population: slopes on it are per population standard deviation."""
    x = np.asarray(x, dtype=float)
    return (x - x.mean()) / x.std()
