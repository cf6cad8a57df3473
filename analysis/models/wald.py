"""Wald tests of model terms with the design-based covariance (R survey's regTermTest, method="Wald").

For the coefficients b of the tested terms (minus a null value) and their design covariance V:
    chisq = b' V^-1 b,   F = chisq / q   (q = number of coefficients tested)
    p = P(F(q, ddf) > F) with ddf the model's residual df (degf + 1 - p for svyglm), or, with
    method="chisq" (R: df=Inf), p = P(chi2_q > chisq).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.distributions import pchisqsum


@dataclass(frozen=True)
class WaldTest:
    """Result of a Wald test of one or more model terms."""

    terms: tuple[str, ...]
    coefficients: tuple[str, ...]
    statistic: float        # F (method "F") or chi-square (method "chisq")
    chisq: float
    df: int                 # numerator df: number of coefficients tested
    ddf: float              # denominator df (inf for the chi-square test)
    p_value: float
    method: str             # "F", "chisq" (Wald) or "LRT" (Rao-Scott working likelihood ratio)
    model: str = ""
    lambdas: tuple = ()     # LRT: eigenvalues of V0^-1 V (design effects of the tested block)

    def __repr__(self) -> str:
        head = f"Wald test for {' '.join(self.terms)}"
        if self.model:
            head += f"\n in {self.model}"
        p = f"{self.p_value:.4g}" if self.p_value >= 2.2e-16 else "< 2.2e-16"
        if self.method == "F":
            return f"{head}\nF = {self.statistic:.6g} on {self.df} and {self.ddf:g} df: p = {p}"
        if self.method == "LRT":
            lam = " ".join(f"{v:.4g}" for v in self.lambdas)
            return (f"Working (Rao-Scott) LRT for {' '.join(self.terms)}\n in {self.model}\n"
                    f"Working 2logLR = {self.statistic:.6g} p = {p}\n(scale factors: {lam})")
        return f"{head}\nChisq = {self.statistic:.6g} on {self.df} df: p = {p}"

    def _repr_html_(self) -> str:
        return "<p>" + "<br>".join(html.escape(line) for line in repr(self).splitlines()) + "</p>"

    def to_frame(self):
        return pd.DataFrame({"terms": [" + ".join(self.terms)], "statistic": [self.statistic],
                             "df": [self.df], "ddf": [self.ddf], "p_value": [self.p_value],
                             "method": [self.method]})


def _canonical(term: str) -> str:
    """Interaction terms match whatever the order of their factors (R's canonicalOrder)."""
    return ":".join(sorted(part.strip() for part in term.split(":")))


def parse_terms(terms) -> list[str]:
    """'a', 'a + b', '~ a + b' or ['a', 'b'] -> ['a', 'b']."""
    if isinstance(terms, str):
        text = terms.split("~", 1)[1] if "~" in terms else terms
        return [t.strip() for t in text.split("+") if t.strip()]
    return [str(t) for t in terms]


def term_indices(terms, term_columns: dict[str, list[str]], names: list[str]) -> tuple[list[str], np.ndarray]:
    """Positions (in model column order) of the coefficients of the named terms.

    A name may be a model term (as the formula wrote it; interactions in any factor order) or a
    single coefficient name.
    """
    wanted = parse_terms(terms)
    by_canon = {_canonical(t): cols for t, cols in term_columns.items()}
    cols: list[str] = []
    for t in wanted:
        if _canonical(t) in by_canon:
            cols += by_canon[_canonical(t)]
        elif t in names:
            cols.append(t)
        else:
            raise KeyError(f"term {t!r} is not in the model; terms: {list(term_columns)}")
    idx = np.array(sorted({names.index(c) for c in cols}))
    return wanted, idx


def wald(params: np.ndarray, cov: np.ndarray, idx: np.ndarray, ddf: float, null=None,
         method: str = "F") -> tuple[float, float, float]:
    """(statistic, chisq, p) of the Wald test of params[idx] == null."""
    b = params[idx] - (0.0 if null is None else np.asarray(null, dtype=float))
    V = cov[np.ix_(idx, idx)]
    chisq = float(b @ np.linalg.solve(V, b))
    q = len(idx)
    if method == "F":
        if not ddf > 0:
            return chisq / q, chisq, float("nan")
        F = chisq / q
        return F, chisq, float(stats.f.sf(F, q, ddf))
    if method == "chisq":
        return chisq, chisq, float(stats.chi2.sf(chisq, q))
    raise ValueError(f"method must be 'F' or 'chisq', got {method!r}")


# ------------------------------------------------------------------ working likelihood ratio test
def p_chisq_sum(x: float, lam: np.ndarray, ddf: float = np.inf) -> float:
    """P(sum lam_i chi2_1 / (chi2_ddf / ddf) > x): R survey's pFsum / pchisqsum (saddlepoint,
    Satterthwaite where it is undefined); one implementation serves tables and models."""
    return pchisqsum(x, lam, ddf)
