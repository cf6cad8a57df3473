"""Reliability of a multi-item scale under the design: Cronbach's alpha, McDonald's omega,
item-rest correlations, alpha if an item is dropped.

With S the weighted covariance matrix of the k items (population form; the divisor cancels in
every statistic here),

    alpha = k / (k - 1) (1 - tr S / 1'S1)                               (Cronbach 1951)
    omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi)                  (McDonald 1999)

where lambda and psi are the loadings and uniquenesses of the one-factor maximum-likelihood model
fitted to the correlation matrix of S (R's ``factanal(covmat = S, factors = 1)``), i.e. omega
total on the standardised items. Both are smooth functions of the weighted means of the items and
of their pairwise products, so their design-based variance is the variance of that function's
linearisation (Taylor designs: the gradient, by central differences, times the influence values
of the means; replicate designs: the statistic recomputed with every replicate weight): one
variance engine, as for every other estimator. Intervals are Wald intervals with the design df.

Rows with a missing value in any item are left out (listwise, their PSUs stay in the design).

>>> import numpy as np, pandas as pd
>>> from analysis import SurveyDesign
>>> rng = np.random.default_rng(3); f = rng.normal(size=300)
>>> df = pd.DataFrame({f"x{i}": f + rng.normal(size=300) for i in range(4)}); df["w"] = 1.0
>>> r = reliability(SurveyDesign(df, weights="w"), ["x0", "x1", "x2", "x3"])
>>> bool(0.7 < r.alpha < 0.9)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from .display import Summary
from .errors import AnalysisError
from .results import SurveyEstimate, make_estimate
from .variance import ColumnwiseInfluence

__all__ = ["ScaleReliability", "alpha_from_cov", "omega_from_cov", "one_factor_ml", "reliability"]


class ScaleError(AnalysisError):
    """A reliability statistic cannot be computed (too few items or rows, a constant item)."""


def alpha_from_cov(S: np.ndarray) -> float:
    """Cronbach's alpha of a covariance matrix.

    >>> round(alpha_from_cov(np.array([[1.0, 0.5], [0.5, 1.0]])), 6)
    0.666667
    """
    k = S.shape[0]
    return float(k / (k - 1) * (1 - np.trace(S) / S.sum()))


def one_factor_ml(R: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Loadings and uniquenesses of the one-factor ML model of a correlation matrix (R's factanal:
    the discrepancy log|Sigma| + tr(R Sigma^-1) minimised over the uniquenesses psi, loadings from
    the leading eigenvector of Psi^-1/2 R Psi^-1/2)."""
    k = R.shape[0]

    def loadings(psi):
        s = 1 / np.sqrt(psi)
        vals, vecs = np.linalg.eigh(R * np.outer(s, s))
        lam = np.sqrt(max(vals[-1] - 1, 0.0)) * vecs[:, -1] / s
        return lam * np.sign(lam.sum() or 1.0)

    def discrepancy(psi):
        lam = loadings(psi)
        Sigma = np.outer(lam, lam) + np.diag(psi)
        _sign, logdet = np.linalg.slogdet(Sigma)
        return logdet + np.trace(np.linalg.solve(Sigma, R))

    start = (1 - 0.5 / np.diag(np.linalg.inv(R))).clip(0.005, 1)   # factanal's start: 1 - 0.5/diag(R^-1)
    res = optimize.minimize(discrepancy, start, method="L-BFGS-B", bounds=[(0.005, 1.0)] * k,
                            options={"ftol": tol, "gtol": 1e-10, "maxiter": 1000})
    psi = res.x
    return loadings(psi), psi


def omega_from_cov(S: np.ndarray) -> float:
    """McDonald's omega (total, standardised items) from a covariance matrix."""
    d = 1 / np.sqrt(np.diag(S))
    lam, psi = one_factor_ml(S * np.outer(d, d))
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()))


def _cov_from_moments(m: np.ndarray, k: int) -> np.ndarray:
    mean = m[:k]
    second = np.empty((k, k))
    iu = np.triu_indices(k)
    second[iu] = m[k:]
    second[(iu[1], iu[0])] = m[k:]
    return second - np.outer(mean, mean)


def _moments(X: np.ndarray) -> np.ndarray:
    """Columns x_i and x_i x_j (i <= j) whose weighted means determine the covariance matrix."""
    iu = np.triu_indices(X.shape[1])
    return np.hstack([X, X[:, iu[0]] * X[:, iu[1]]])


@dataclass
class ScaleReliability:
    """Reliability of one scale: ``estimates`` (alpha, omega with SE and CI), ``items``
    (item-rest correlation and alpha if the item is dropped), n rows used."""

    estimates: SurveyEstimate
    items: pd.DataFrame
    n: int

    @property
    def alpha(self) -> float:
        return float(self.estimates.loc["alpha", "estimate"])

    @property
    def omega(self) -> float:
        return float(self.estimates.loc["omega", "estimate"])

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.to_frame().assign(n=self.n)

    def __repr__(self) -> str:
        return (f"Scale reliability ({len(self.items)} items, n = {self.n})\n"
                f"{pd.DataFrame(self.estimates).round(4)}\n\n{self.items.round(4)}")

    def _repr_html_(self) -> str:
        return Summary(f"Scale reliability ({len(self.items)} items, n = {self.n})", (),
                       [("Reliability", pd.DataFrame(self.estimates).round(4)),
                        ("Items", self.items.round(4))]).as_html()


def reliability(design, items, level: float = 0.95, omega: bool = True) -> ScaleReliability:
    """Cronbach's alpha and McDonald's omega of ``items`` with design-based SEs (see the module
    docstring), and per item its item-rest correlation and alpha if dropped (point values)."""
    items = list(items)
    if len(items) < 2:
        raise ScaleError(f"a scale needs at least two items, got {items}")
    data = design.data
    unknown = [c for c in items if c not in data.columns]
    if unknown:
        raise ScaleError(f"reliability(): {unknown} not in the design's data")
    cols = []
    for c in items:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if not s.cat.ordered:
                raise ScaleError(f"{c}: an unordered categorical is not a rating item; give its "
                                 f"scores (e.g. the response codes) as numbers")
            s = (s.cat.codes + 1).where(s.notna())
        cols.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    X = np.column_stack(cols)
    complete = ~np.isnan(X).any(axis=1)
    sub = design.subset(complete) if not complete.all() else design
    X = np.where(complete[:, None], X, 0.0)
    w = np.asarray(sub.weights, dtype=float)
    k = len(items)
    Z = _moments(X)
    stats = [alpha_from_cov] + ([omega_from_cov] if omega else [])
    names = ["alpha"] + (["omega"] if omega else [])

    def g(m):
        S = _cov_from_moments(m, k)
        if np.any(np.diag(S) <= 0):
            raise ScaleError("an item has no variation among the rows used")
        return np.array([f(S) for f in stats])

    m = (w @ Z) / w.sum()
    est = g(m)

    def point_fn(W):
        M = (W.T @ Z) / W.sum(axis=0)[:, None]
        return np.vstack([g(row) for row in M])

    def influence_fn():
        # gradient of g at the moments, by central differences (g is smooth; omega through the
        # converged factor model), times the influence values of the weighted means
        G = np.empty((Z.shape[1], len(stats)))
        for j in range(Z.shape[1]):
            h = 1e-5 * max(abs(m[j]), 1.0)
            up, down = m.copy(), m.copy()
            up[j] += h
            down[j] -= h
            G[j] = (g(up) - g(down)) / (2 * h)
        f = w / w.sum()
        U = ((Z - m) * f[:, None]) @ G
        return ColumnwiseInfluence(U.shape[0], U.shape[1], lambda c: U[:, c], fresh=True)

    V = sub.vcov(point_fn, influence_fn)
    out = make_estimate(pd.Index(names, name="statistic"), est, V, sub.degf, float(sub.degf),
                        "scale reliability", level)
    S = _cov_from_moments(m, k)
    total = X @ np.ones(k)
    rows = []
    for i, c in enumerate(items):
        rest = total - X[:, i]
        keep = w > 0
        r = np.cov(X[keep, i], rest[keep], aweights=w[keep])
        drop = [j for j in range(k) if j != i]
        rows.append({"item": c, "item_rest_r": r[0, 1] / np.sqrt(r[0, 0] * r[1, 1]),
                     "alpha_if_dropped": alpha_from_cov(S[np.ix_(drop, drop)]) if k > 2 else np.nan})
    return ScaleReliability(estimates=out, items=pd.DataFrame(rows).set_index("item"),
                            n=int(complete.sum() if design.domain.all() else (complete & design.domain).sum()))
