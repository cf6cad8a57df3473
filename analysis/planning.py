"""Planning the next wave: sample sizes, stratified allocation and power under a design effect.

The formulas are those of Valliant, Dever & Kreuter, *Practical Tools for Designing and Weighting
Survey Samples* (2nd ed. 2018, ch. 3; R package PracTools: nProp, nPropMoe, nCont, nContMoe,
strAlloc), for simple random sampling without replacement from N units, then multiplied by the
design effect ``deff`` of the planned design (the book's rule: n_design = deff x n_srs) and divided
by the expected response rate for the number to invite.

Sample size for a proportion p with a target
  * variance V0 of p-hat:  n = (N / (N - 1)) p q / (V0 + p q / (N - 1)),   q = 1 - p
  * coefficient of variation CV0:  V0 = (CV0 p)^2
  * margin of error e (half-width of the 1 - alpha interval), absolute:
        n = (N / (N - 1)) z^2 p q / (e^2 + z^2 p q / (N - 1)),   z = Phi^-1(1 - alpha / 2)
    relative (e as a share of p): the same with q / p in place of p q;
for a mean with unit variance S2 (or CVpop = S / ybar):
  * target V0: n = S2 / (V0 + S2 / N);  target CV0: n = CVpop^2 / (CV0^2 + CVpop^2 / N)
  * margin of error e: n = z^2 S2 / (e^2 + z^2 S2 / N)  (relative: CVpop^2 in place of S2).

Allocation of n to strata h with sizes N_h, unit SDs S_h and unit costs c_h (W_h = N_h / N):
proportional n_h = n W_h; Neyman n_h = n W_h S_h / sum W S; cost-optimal for a total budget C:
n_h = C (W_h S_h / sqrt c_h) / sum(W S sqrt c); optimal for a target variance V0 of the mean:
n = (sum W S / sqrt c)(sum W S sqrt c) / (V0 + sum W S^2 / N). A minimum per stratum (and at most
N_h) is met by fixing those strata and allocating the rest again among the others.

Power for a difference of two proportions (between waves or domains) is R's ``power.prop.test``
(its normal approximation) with the effective sample size n / deff per group.

>>> round(float(n_proportion(0.3, moe=0.03, N=141655)["n_srs"]), 1)
890.7
>>> allocate([100, 300, 600], n=100, method="proportional").tolist()
[10.0, 30.0, 60.0]
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from .errors import AnalysisError

__all__ = [
    "PlanningError",
    "allocate",
    "n_mean",
    "n_proportion",
    "n_two_proportions",
    "power_two_proportions",
]


class PlanningError(AnalysisError):
    """A planning question without an answer as asked (e.g. an impossible target)."""


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise PlanningError(f"alpha must be in (0, 1), got {alpha}")
    return float(special.ndtri(1 - alpha / 2))


def _finish(n_srs: float, deff: float, response_rate: float, N: float) -> pd.Series:
    if deff <= 0 or not 0 < response_rate <= 1:
        raise PlanningError(f"deff must be > 0 and response_rate in (0, 1]; got {deff}, {response_rate}")
    n = n_srs * deff
    if np.isfinite(N) and n > N:
        # with a design effect the formula can ask for more units than exist: say so
        raise PlanningError(f"the target needs n = {n:.0f} > N = {N:.0f} units: relax the target")
    return pd.Series({"n_srs": n_srs, "deff": deff, "n": n, "n_complete": int(np.ceil(n)),
                      "response_rate": response_rate,
                      "n_invite": int(np.ceil(np.ceil(n) / response_rate))})


def n_proportion(p: float, *, moe: float | None = None, cv: float | None = None,
                 variance: float | None = None, relative: bool = False, alpha: float = 0.05,
                 N: float = np.inf, deff: float = 1.0, response_rate: float = 1.0) -> pd.Series:
    """Respondents needed to estimate a proportion near ``p`` with one target: ``moe`` (half-width
    of the 1 - alpha interval; a share of p when ``relative``), ``cv`` or ``variance`` of p-hat.

    Returns n_srs (simple random sampling), n = deff x n_srs, n_complete (rounded up) and
    n_invite = n_complete / response_rate (rounded up).
    """
    if not 0 < p < 1:
        raise PlanningError(f"p must be in (0, 1), got {p}")
    if sum(x is not None for x in (moe, cv, variance)) != 1:
        raise PlanningError("give exactly one target: moe=, cv= or variance=")
    q = 1 - p
    a = 1.0 if not np.isfinite(N) else N / (N - 1)
    finite = 0.0 if not np.isfinite(N) else 1.0 / (N - 1)
    if moe is not None:
        z2 = _z(alpha) ** 2
        s = q / p if relative else p * q
        n = a * z2 * s / (moe ** 2 + z2 * s * finite)
    else:
        v0 = variance if variance is not None else (cv * p) ** 2
        n = a * p * q / (v0 + p * q * finite)
    return _finish(float(n), deff, response_rate, N)


def n_mean(*, S2: float | None = None, cv_pop: float | None = None, moe: float | None = None,
           cv: float | None = None, variance: float | None = None, alpha: float = 0.05,
           N: float = np.inf, deff: float = 1.0, response_rate: float = 1.0) -> pd.Series:
    """Respondents needed to estimate a mean: unit variance ``S2`` (absolute targets ``moe``,
    ``variance``) or population CV ``cv_pop`` = S / mean (relative targets ``moe`` as a share of
    the mean, ``cv``)."""
    if sum(x is not None for x in (moe, cv, variance)) != 1:
        raise PlanningError("give exactly one target: moe=, cv= or variance=")
    inv_n = 0.0 if not np.isfinite(N) else 1.0 / N
    if cv is not None:
        if cv_pop is None:
            raise PlanningError("a cv target needs cv_pop (the unit coefficient of variation)")
        n = cv_pop ** 2 / (cv ** 2 + cv_pop ** 2 * inv_n)
    elif variance is not None:
        if S2 is None:
            raise PlanningError("a variance target needs S2 (the unit variance)")
        n = S2 / (variance + S2 * inv_n)
    else:
        s = S2 if S2 is not None else (cv_pop ** 2 if cv_pop is not None else None)
        if s is None:
            raise PlanningError("a moe target needs S2 (absolute) or cv_pop (moe relative to the mean)")
        z2 = _z(alpha) ** 2
        n = z2 * s / (moe ** 2 + z2 * s * inv_n)
    return _finish(float(n), deff, response_rate, N)


def allocate(N_h, n: float | None = None, method: str = "neyman", S_h=None, cost_h=None,
             budget: float | None = None, variance: float | None = None, minimum: int = 0,
             labels=None) -> pd.Series:
    """Allocation of a stratified sample (real numbers; round as the fieldwork needs).

    method: "proportional" (needs n), "neyman" (n, S_h), "cost" (budget, S_h, cost_h: the
    allocation minimising the variance of the mean for that budget), "variance" (variance =
    target variance of the estimated mean, S_h, cost_h: the cheapest allocation reaching it).
    ``minimum`` respondents per stratum (and never more than N_h) are met by fixing those strata
    and allocating the rest among the others, repeatedly.
    """
    N_h = np.asarray(N_h, dtype=float)
    if (N_h <= 0).any():
        raise PlanningError("every stratum size N_h must be > 0")
    S = np.ones_like(N_h) if S_h is None else np.asarray(S_h, dtype=float)
    c = np.ones_like(N_h) if cost_h is None else np.asarray(cost_h, dtype=float)
    if method != "proportional" and S_h is None:
        raise PlanningError(f"method {method!r} needs the unit standard deviations S_h")
    if (S <= 0).any() or (c <= 0).any():
        raise PlanningError("S_h and cost_h must be > 0")
    N = N_h.sum()
    W = N_h / N
    if method == "proportional":
        share = W
    elif method == "neyman":
        share = W * S / np.sum(W * S)
    elif method in ("cost", "variance"):
        share = W * S / np.sqrt(c) / np.sum(W * S / np.sqrt(c))
    else:
        raise PlanningError(f"unknown method {method!r}: proportional, neyman, cost or variance")
    if method in ("proportional", "neyman"):
        if n is None:
            raise PlanningError(f"method {method!r} needs the total n")
        total = float(n)
    elif method == "cost":
        if budget is None:
            raise PlanningError("method 'cost' needs the budget")
        total = budget * np.sum(W * S / np.sqrt(c)) / np.sum(W * S * np.sqrt(c))
    else:
        if variance is None:
            raise PlanningError("method 'variance' needs the target variance of the mean")
        total = (np.sum(W * S / np.sqrt(c)) * np.sum(W * S * np.sqrt(c))
                 / (variance + np.sum(W * S ** 2) / N))
    nh = total * share
    if minimum or (nh > N_h).any():
        nh = _bounded(total, share, np.minimum(float(minimum), N_h), N_h)
    return pd.Series(nh, index=labels, name="n_h")


def _bounded(total: float, share: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    if total < lo.sum() or total > hi.sum():
        raise PlanningError(f"n = {total:.1f} cannot meet the bounds per stratum "
                            f"(they need between {lo.sum():.0f} and {hi.sum():.0f})")
    fixed = np.full(share.shape, np.nan)
    for _ in range(len(share) + 1):
        free = np.isnan(fixed)
        rest = total - np.nansum(fixed)
        nh = np.where(free, rest * share / share[free].sum(), fixed)
        low, high = free & (nh < lo), free & (nh > hi)
        if not (low.any() or high.any()):
            return nh
        fixed[low], fixed[high] = lo[low], hi[high]
    return nh  # pragma: no cover - every pass fixes at least one stratum


def power_two_proportions(p1: float, p2: float, n: float, alpha: float = 0.05,
                          deff: float = 1.0, alternative: str = "two-sided",
                          strict: bool = False) -> float:
    """Power to detect p1 != p2 with n respondents per group (R's power.prop.test with n / deff;
    as R, the two-sided power counts only the tail of the true difference unless ``strict``)."""
    n_eff = n / deff
    tside = 2 if alternative == "two-sided" else 1
    qu = -special.ndtri(alpha / tside)
    d = abs(p1 - p2)
    pbar = (p1 + p2) / 2
    num = np.sqrt(n_eff) * d - qu * np.sqrt(2 * pbar * (1 - pbar))
    power = special.ndtr(num / np.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    if tside == 2 and strict:
        power += special.ndtr((-np.sqrt(n_eff) * d - qu * np.sqrt(2 * pbar * (1 - pbar)))
                              / np.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    return float(power)


def n_two_proportions(p1: float, p2: float, power: float = 0.8, alpha: float = 0.05,
                      deff: float = 1.0, alternative: str = "two-sided") -> float:
    """Respondents per group for the power to detect p1 != p2 (R's power.prop.test, times deff)."""
    if p1 == p2:
        raise PlanningError("p1 and p2 are equal: no sample size detects no difference")

    def gap(n):
        return power_two_proportions(p1, p2, n, alpha, 1.0, alternative) - power

    n_srs = optimize.brentq(gap, 2.0, 1e9, xtol=1e-10, rtol=1e-14)
    return float(n_srs * deff)
