"""Weight diagnostics: how variable the weights are, and whether calibration met its targets.

Kish's formulas over the n non-zero weights w_i, negative ones included:

* effective sample size  n_eff = (sum w)^2 / sum w^2
* design effect due to weighting  deff_w = n / n_eff = 1 + cv^2, cv^2 = var(w) / mean(w)^2 with
  the population variance (divisor n)

Negative weights (GREG calibration can make them) are kept in these sums as Kish's formulas and
R's PracTools::deffK take the weights as given: they are the weights the estimates use, and
sum w^2 / (sum w)^2 is the variance factor of a weighted mean for any real weights (negative
weights raise it). They are counted (``n_negative``) and make ``ratio`` (max/min) undefined.
Zero weights carry no information and are left out; rows outside a subset (or deleted replicate
units) have weight 0 too, so zeros are counted (``n_zero``) only among the rows of the design's
domain, when it is given.

Example
-------
>>> d = weight_diagnostics(np.array([1.0, 1.0, 2.0, 4.0]))
>>> round(float(d.summary["n_eff"]), 4), float(d.summary["deff_w"])
(2.9091, 1.375)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.display import Summary, fmt_number

__all__ = ["WeightDiagnostics", "kish_deff", "kish_n_eff", "weight_diagnostics"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def kish_n_eff(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2 over the non-zero weights (negative
    weights included, see the module docstring).

    >>> kish_n_eff(np.array([2.0, 2.0, 2.0]))
    3.0
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w[w != 0]
    return float(w.sum() ** 2 / np.dot(w, w))


def kish_deff(weights: np.ndarray) -> float:
    """Kish's design effect due to unequal weighting, 1 + cv^2 = n / n_eff, n the number of
    non-zero weights (negative weights included, see the module docstring).

    >>> kish_deff(np.array([1.0, 3.0]))
    1.25
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w[w != 0]
    return float(w.shape[0] * np.dot(w, w) / w.sum() ** 2)


@dataclass(frozen=True)
class WeightDiagnostics:
    """``summary``: Series (n non-zero weights, of them n_positive and n_negative, n_zero,
    sum, mean, min, max, ratio max/min, cv, n_eff, deff_w, quantiles), see
    :func:`weight_diagnostics`;
    ``margins``: one row per calibration target (step, variable, level, target, achieved,
    difference, relative difference), empty when the design was never calibrated;
    ``replicates``: min/max/ratio of every replicate weight column (replicate designs) or None.
    """

    summary: pd.Series
    margins: pd.DataFrame
    replicates: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The summary as a one-column frame (statistic -> value)."""
        return self.summary.rename("value").to_frame()

    def _repr_html_(self) -> str:
        lines = repr(self).splitlines()
        tables = [("Weights", self.summary.map(fmt_number).rename("value").to_frame())]
        if len(self.margins):
            tables.append(("Calibration targets", self.margins.round(6)))
        return Summary(lines[0], lines[1:], tables).as_html()

    def __repr__(self) -> str:
        s = self.summary
        lines = [
            (
                f"Weights: n = {int(s['n'])}, sum = {s['sum']:.6g}, min = {s['min']:.6g}, "
                f"max = {s['max']:.6g}, max/min = {s['ratio']:.4g}"
            ),
            f"Kish: effective n = {s['n_eff']:.1f}, design effect 1 + cv^2 = {s['deff_w']:.4f}",
        ]
        if s["n_negative"] or s["n_zero"]:
            lines.append(
                f"Non-positive weights: {int(s['n_negative'])} negative (kept in Kish's sums), "
                f"{int(s['n_zero'])} zero (left out)"
            )
        if len(self.margins):
            worst = self.margins["rel_difference"].abs().max()
            lines.append(
                f"Calibration: {len(self.margins)} targets, largest relative miss {worst:.2e}"
            )
        return "\n".join(lines)


def weight_diagnostics(
    weights: np.ndarray,
    calibrations: Sequence = (),
    repweights: np.ndarray | None = None,
    quantiles: Sequence[float] = QUANTILES,
    domain: np.ndarray | None = None,
) -> WeightDiagnostics:
    """Summaries of the weights and, per calibration step, achieved against target totals.

    The summary is over the non-zero weights: ``n`` of them, ``n_positive`` + ``n_negative``;
    ``sum``, ``mean``, ``min``, ``max``, quantiles, ``cv`` and Kish's ``n_eff`` and ``deff_w``
    take negative weights as they are (see the module docstring); ``ratio`` = max / min is NaN
    when a weight is negative. ``n_zero`` counts the rows of ``domain`` (boolean, the design's
    rows; the design passes it) whose weight is 0, e.g. calibrated or trimmed to 0; without a
    domain every zero weight is read as a row outside a subset and ``n_zero`` is 0.

    ``calibrations`` are records from :mod:`analysis.calibration` (each with ``achieved``); the
    achieved totals are computed with ``weights`` (the design's current weights), so a later step
    that undoes an earlier margin shows up here.

    >>> float(weight_diagnostics(np.array([1.0, 3.0])).summary["ratio"])
    3.0
    >>> s = weight_diagnostics(np.array([-1.0, 0.0, 3.0, 4.0]), domain=np.ones(4, bool)).summary
    >>> s[["n", "n_positive", "n_negative", "n_zero"]].tolist(), round(float(s["n_eff"]), 4)
    ([3.0, 2.0, 1.0, 1.0], 1.3846)
    >>> float(s["ratio"])  # max/min is undefined with a negative weight
    nan
    """
    w = np.asarray(weights, dtype=np.float64)
    nonzero = w != 0
    pos = w[nonzero]  # the non-zero weights, negative ones included
    if pos.size == 0:
        raise ValueError("all weights are zero: nothing to diagnose")
    n_zero = 0 if domain is None else int(np.count_nonzero(np.asarray(domain, bool) & ~nonzero))
    n_negative = int(np.count_nonzero(pos < 0))
    mean = pos.mean()
    cv = pos.std() / mean  # population sd (divisor n), as Kish's 1 + cv^2
    values = {
        "n": float(pos.size),
        "n_positive": float(pos.size - n_negative),
        "n_negative": float(n_negative),
        "n_zero": float(n_zero),
        "sum": float(pos.sum()),
        "mean": float(mean),
        "min": float(pos.min()),
        "max": float(pos.max()),
        "ratio": float(pos.max() / pos.min()) if n_negative == 0 else float("nan"),
        "cv": float(cv),
        "n_eff": kish_n_eff(pos),
        "deff_w": kish_deff(pos),
    }
    qs = np.quantile(pos, list(quantiles))
    values.update({f"q{100 * q:g}": float(v) for q, v in zip(quantiles, qs)})
    frames = [rec.achieved(w) for rec in calibrations]
    frames = [f for f in frames if len(f)]
    if frames:
        margins = pd.concat(frames, ignore_index=True)
    else:
        margins = pd.DataFrame(
            columns=["step", "variable", "level", "target", "achieved", "difference"]
        )
    margins["rel_difference"] = margins["difference"] / margins["target"].where(
        margins["target"] != 0
    )
    reps = None
    if repweights is not None:
        R = np.asarray(repweights, dtype=np.float64)
        masked = np.where(R != 0, R, np.nan)
        reps = pd.DataFrame(
            {
                "sum": R.sum(axis=0),
                "min_positive": np.nanmin(masked, axis=0),
                "max": R.max(axis=0),
                "n_zero": (R == 0).sum(axis=0),
            },
            index=pd.RangeIndex(1, R.shape[1] + 1, name="replicate"),
        )
    return WeightDiagnostics(
        summary=pd.Series(values, name="weights"), margins=margins, replicates=reps
    )
