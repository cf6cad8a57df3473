"""Weight trimming (R's ``trimWeights``): clip to [lower, upper] and share what was cut
equally over the other weights; the variance treats the trimmed weights as given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration._arrays import _as_2d, _frozen
from analysis.calibration.errors import CalibrationError
from analysis.calibration.records import Calibration, _margin_frame
from analysis.variance import ColumnwiseInfluence


@dataclass(frozen=True, eq=False)
class Trimming(Calibration):
    """Record of ``trim``: R's trimWeights leaves the variance as it is (identity residualisation)."""

    lower: float
    upper: float
    n_trimmed: int
    strict: bool = False
    kind: str = "trim"
    old_weights: np.ndarray | None = None  # the weights before this step

    def residualize(self, U):
        if isinstance(U, ColumnwiseInfluence):
            return U
        return np.asarray(U, dtype=np.float64)

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:  # noqa: ARG002 (interface)
        return _margin_frame(self.kind, "weights", [], [], [])

    def replay(self, W: np.ndarray) -> np.ndarray:
        return trim_weights(W, lower=self.lower, upper=self.upper, strict=self.strict)[0]


def trim_weights(
    weights: np.ndarray,
    *,
    lower: float = -np.inf,
    upper: float = np.inf,
    strict: bool = False,
    maxit: int = 100,
):
    """Trim weights to ``[lower, upper]`` and share the trimmed amount equally (R's trimWeights).

    Weights outside the bounds are set to the bound; the total removed (or added) is spread in
    equal parts over the other weights, so the sum of weights is kept. That may push a weight past
    a bound again; ``strict=True`` repeats until none is outside (as R's ``strict=TRUE``).
    Zero weights (rows deleted in a replicate) are left at zero and receive no share: a deviation
    from R, which would lift them to ``lower``. Columns of a matrix are trimmed separately.

    >>> w, rec = trim_weights(np.array([1.0, 2.0, 3.0, 10.0]), upper=6.0)
    >>> np.round(w, 4).tolist(), rec.n_trimmed
    ([2.3333, 3.3333, 4.3333, 6.0], 1)
    """
    if not lower < upper:
        raise CalibrationError(f"trim needs lower < upper; got lower={lower}, upper={upper}")
    W, is_vec = _as_2d(weights)
    W = W.copy()
    live = W != 0
    n_trimmed = 0
    for _ in range(maxit if strict else 1):
        outside = live & ((W < lower) | (W > upper))
        if not outside.any():
            break
        n_trimmed = max(n_trimmed, int(outside.sum()))
        clipped = np.where(outside, np.clip(W, lower, upper), W)
        trimmings = (W - clipped).sum(axis=0)
        receivers = live & ~outside
        n_recv = receivers.sum(axis=0)
        stuck = (n_recv == 0) & (np.abs(trimmings) > 1e-12 * np.abs(W).sum(axis=0))
        if np.any(stuck):
            raise CalibrationError(
                f"trim bounds [{lower}, {upper}] leave no weight inside to receive the trimmed amount"
            )
        share = np.divide(trimmings, n_recv, out=np.zeros_like(trimmings), where=n_recv > 0)
        W = clipped + receivers * share
    else:
        if strict and (live & ((W < lower) | (W > upper))).any():
            raise CalibrationError(
                f"strict trimming to [{lower}, {upper}] did not settle in {maxit} rounds: "
                "the bounds cannot hold with this total weight"
            )
    rec = Trimming(
        lower=float(lower),
        upper=float(upper),
        n_trimmed=n_trimmed,
        strict=strict,
        old_weights=_frozen(weights) if is_vec else None,
    )
    return (W[:, 0], rec) if is_vec else (W, None)
