"""Reference distributions that design-based tests need beyond scipy.stats.

Under a complex design, Pearson's X^2 and working likelihood-ratio statistics are distributed
asymptotically as a weighted sum of independent chi^2_1 variables, sum_i lam_i Z_i^2, with the
lam_i the eigenvalues of a generalised design-effect matrix (Rao & Scott 1984). R's survey
package approximates its tail by the Lugannani-Rice saddlepoint formula (survey:::saddle, used by
pchisqsum and pFsum with method="saddlepoint"); this module is that formula.
"""
from __future__ import annotations

import numpy as np

from analysis.estimators import _r_zeroin


def pchisqsum_saddlepoint(x: float, lam) -> float:
    """Upper tail P(sum_i lam_i Z_i^2 > x), Z_i iid N(0, 1), by the saddlepoint approximation
    (R: survey:::saddle(x, lam)).

    With the cumulant generating function K(z) = -1/2 sum log(1 - 2 z lam_i), the saddlepoint
    zeta solves K'(zeta) = x (found by R's uniroot, step for step, tol 1e-8), and
    P = 1 - Phi(w + log(v / w) / w), w = sign(zeta) sqrt(2 (zeta x - K(zeta))),
    v = zeta sqrt(K''(zeta)). Weights may be negative (pFsum puts the F denominator in as
    ddf terms -x/ddf evaluated at x = 0).

    Returns NaN where R returns NA: when |zeta| < 1e-4 (x near the mean sum(lam)) the formula
    is numerically unstable and callers fall back to the Satterthwaite approximation, as R does.

    >>> round(pchisqsum_saddlepoint(7.5, [2.0, 1.0, 0.5]), 6)
    0.100716
    >>> pchisqsum_saddlepoint(3.0, [1.0, 1.0, 1.0])    # x = sum(lam): R gives NA
    nan
    """
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    lam = np.asarray(lam, dtype=float)
    d = lam.max()
    lam = lam / d
    x = x / d

    def k0(z):
        return -np.sum(np.log(1 - 2 * z * lam)) / 2

    def k1(z):
        return np.sum(lam / (1 - 2 * z * lam))

    def k2(z):
        return 2 * np.sum(lam**2 / (1 - 2 * z * lam) ** 2)

    # K'(z) is increasing on (lmin, lmax), where every 1 - 2 z lam_i > 0
    if np.any(lam < 0):
        lmin = np.max(1 / (2 * lam[lam < 0])) * 0.99999
    elif x > lam.sum():
        lmin = -0.01
    else:
        lmin = -lam.shape[0] / (2 * x)
    lmax = np.min(1 / (2 * lam[lam > 0])) * 0.99999
    zeta = _r_zeroin(lambda z: k1(z) - x, lmin, lmax, k1(lmin) - x, k1(lmax) - x, 1e-8)
    if abs(zeta) < 1e-4:
        return float("nan")
    w = np.sign(zeta) * np.sqrt(2 * (zeta * x - k0(zeta)))
    v = zeta * np.sqrt(k2(zeta))
    return float(stats.norm.sf(w + np.log(v / w) / w))


def pchisqsum(x: float, lam, ddf: float = np.inf) -> float:
    """Upper tail of sum_i lam_i Z_i^2 (ddf = inf) or of that sum over an independent
    chi^2_ddf / ddf (finite ddf): R survey's pchisqsum / pFsum with method="saddlepoint".

    The F form enters the denominator as int(ddf) extra terms -x/ddf evaluated at 0 (R's rep()
    truncates ddf). Where the saddlepoint is undefined R falls back to the Satterthwaite
    approximation: chi^2 (or F) with ndf = k / tr2 degrees of freedom on x / (tr * tr2), with
    tr = mean(lam) and tr2 = mean(lam^2) / tr^2.

    >>> round(pchisqsum(7.5, [2.0, 1.0, 0.5]), 6)
    0.100716
    >>> from scipy import stats
    >>> bool(np.isclose(pchisqsum(3.0, [1.0, 1.0, 1.0]), stats.chi2.sf(3.0, 3)))  # fallback
    True
    """
    from scipy import stats  # noqa: PLC0415 (lazy: ~60 MB resident that most estimates never need)
    lam = np.asarray(lam, dtype=float)
    if np.isinf(ddf):
        s = pchisqsum_saddlepoint(x, lam)
    else:
        s = pchisqsum_saddlepoint(0.0, np.concatenate([lam, np.full(int(ddf), -x / ddf)]))
    if not np.isnan(s):
        return s
    tr = lam.mean()
    tr2 = np.mean(lam**2) / tr**2
    scale, ndf = tr * tr2, lam.shape[0] / tr2
    if np.isinf(ddf):
        return float(stats.chi2.sf(x / scale, ndf))
    return float(stats.f.sf(x / ndf / scale, ndf, ddf))
