"""The calibration record: what a weighting step leaves for the variance engine.

Every step (post-stratification, raking, GREG calibration, calibration within clusters,
trimming) returns a subclass of :class:`Calibration` with ``residualize`` (R's svyrecvar
treatment of the influence values), ``achieved`` (targets against achieved totals) and
``replay`` (the same step on replicate weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calibration._arrays import _label


class Calibration:
    """A calibration step applied to a design: how to residualise influence values, and targets.

    Subclasses implement :meth:`residualize` (R's svyrecvar treatment) and :meth:`achieved`.
    ``residualize`` takes an (n,) or (n, k) array and returns one of the same shape, or takes a
    :class:`~analysis.variance.ColumnwiseInfluence` and returns one whose column j is the residual
    of input column j, computed when it is read (every residual operator acts column by column),
    so that no n x k matrix is formed. Records keep no n-length array they can recompute exactly
    from what they keep; the weights before the step are shared with the design, not copied.
    """

    kind: str = "calibration"

    def residualize(self, U):  # pragma: no cover - abstract
        raise NotImplementedError

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        """Target against achieved totals under ``weights``: columns target, achieved, difference."""
        raise NotImplementedError  # pragma: no cover - abstract

    def replay(self, W: np.ndarray) -> np.ndarray:
        """The same weighting step applied to another weight matrix (n, R), e.g. replicates."""
        raise NotImplementedError  # pragma: no cover - abstract


def _margin_frame(step: str, variable: str, labels, targets, achieved) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": step,
            "variable": variable,
            "level": [_label(lv) for lv in labels],
            "target": np.asarray(targets, dtype=np.float64),
            "achieved": np.asarray(achieved, dtype=np.float64),
        }
    ).assign(difference=lambda f: f["achieved"] - f["target"])
