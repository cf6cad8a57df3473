"""Comparing blocks of predictors in one survey model (e.g. information/organisation vs technical
equipment): which block matters more for an outcome, given the other?

For a model  outcome ~ controls + block_1 + ... + block_B  fitted once with svyglm:
- Wald test of each block given all the others: joint F of the block's coefficients with the
  design-based covariance, on (q, df_resid) df (R's regTermTest).
- Standardised effects on a common scale: coefficient times the design-weighted SD of its model
  column (for a binary outcome on the logit scale: change in log-odds per SD of the predictor;
  for a factor level, per SD of its 0/1 indicator), with t intervals.
- Change in a design-weighted fit measure when the block is dropped: the deviance explained
  D2 = 1 - deviance/null deviance with the design weights (for 0/1 outcomes McFadden's pseudo-R2
  of the weighted pseudo-likelihood), full model minus the model refitted without the block on
  the same rows. D2 is descriptive: its change has no design-based SE here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..results import confidence_level
from .glm import svyglm
from .results import SvyGLMResults


def weighted_sd(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Design-weighted standard deviation of each column (population form, sum w denominator)."""
    mean = w @ X / w.sum()
    return np.sqrt(w @ (X - mean) ** 2 / w.sum())


def standardised_effects(fit: SvyGLMResults, level: float = 0.95, *,
                         alpha: float | None = None) -> pd.DataFrame:
    """Coefficient x design-weighted SD of its model column, for every non-intercept coefficient.

    >>> standardised_effects(fit).loc["ell", "std_effect"].round(3)
    np.float64(-10.728)
    """
    fit._refuse_aliased("standardised_effects")
    pt = fit._point
    names = list(fit.params.index)
    sd = pd.Series(weighted_sd(pt.fit.X, pt.w), index=names)
    keep = [n for n in names if n != "Intercept"]
    alpha = 1 - confidence_level(level, alpha)
    q = stats.t.ppf(1 - alpha / 2, fit.df_resid) if fit.df_resid > 0 else np.nan
    est = fit.params[keep] * sd[keep]
    se = fit.bse[keep] * sd[keep]
    return pd.DataFrame({"estimate": fit.params[keep], "sd_x": sd[keep], "std_effect": est,
                         "se": se, "ci_low": est - q * se, "ci_high": est + q * se})


def compare_blocks(design, outcome: str, blocks: dict[str, list[str]], controls=(), family="binomial",
                   subset=None, level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
    """One tidy table comparing blocks of predictors in one design-based model.

    blocks: {"information": ["training", "C(info_source)"], "technical": ["firewall", ...]} -
    formula terms (patsy syntax); controls: terms adjusted for but not compared.
    Rows: one per block. Columns: terms, n_coef, F, df, ddf, p (Wald test of the block given the
    others and the controls), std_effect_mean_abs / std_effect_max_abs (standardised effects of the
    block's coefficients, see :func:`standardised_effects`), d2_full, d2_without, delta_d2 (deviance
    explained with the design weights, and its drop without the block). ``attrs["effects"]`` holds
    the per-coefficient standardised effects, ``attrs["formula"]`` the full model's formula.

    >>> compare_blocks(d, "incident", {"info": ["training"], "tech": ["firewall"]},
    ...                controls=["C(size)"])  # doctest: +SKIP
    """
    if len(blocks) < 2:
        raise ValueError("give at least two blocks to compare")
    all_terms = list(controls) + [t for terms in blocks.values() for t in terms]
    if len(set(all_terms)) != len(all_terms):
        raise ValueError(f"a term appears twice among controls and blocks: {all_terms}")
    formula = f"{outcome} ~ " + " + ".join(all_terms)
    fit = svyglm(formula, design, family=family, subset=subset)
    effects = standardised_effects(fit, confidence_level(level, alpha))
    d2_full = fit.deviance_explained
    rows = []
    block_of = {}
    for name, terms in blocks.items():
        test = fit.wald_test(terms)
        for c in test.coefficients:
            block_of[c] = name
        others = [t for t in all_terms if t not in terms]
        # the reduced model on exactly the full model's rows (no row comes back for lack of NAs)
        reduced = svyglm(f"{outcome} ~ " + (" + ".join(others) if others else "1"), design,
                         family=family, subset=fit.used)
        std = effects.loc[list(test.coefficients), "std_effect"].abs()
        rows.append({"block": name, "terms": " + ".join(terms), "n_coef": test.df,
                     "F": test.statistic, "df": test.df, "ddf": test.ddf, "p": test.p_value,
                     "std_effect_mean_abs": std.mean(), "std_effect_max_abs": std.max(),
                     "d2_full": d2_full, "d2_without": reduced.deviance_explained,
                     "delta_d2": d2_full - reduced.deviance_explained})
    table = pd.DataFrame(rows).set_index("block")
    effects.insert(0, "block", [block_of.get(c, "control") for c in effects.index])
    table.attrs["effects"] = effects
    table.attrs["formula"] = formula
    return table


__all__ = ["compare_blocks", "standardised_effects", "weighted_sd"]
