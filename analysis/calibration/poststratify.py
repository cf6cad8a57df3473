"""Post-stratification (R's ``postStratify``): scale the weights of every cell to its
population total; its record subtracts the cell means of ``U / w_ps`` weighted by the weights
before the step, times ``w_ps``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration._arrays import (
    _as_2d,
    _bincount,
    _blocks,
    _cell_sums,
    _frozen,
    _influence_columns,
    _label,
    _subtract_scaled,
)
from analysis.calibration.cells import Cells
from analysis.calibration.errors import CalibrationError
from analysis.calibration.records import Calibration, _margin_frame


@dataclass(frozen=True, eq=False)
class PostStratification(Calibration):
    """Record of ``poststratify``: cells, the factor (target / sample total) of every cell and the
    previous weights; the post-stratified weights ``factor[cell] * old_weights`` are recomputed
    (bit for bit as :func:`poststratify_weights` made them) instead of kept.

    ``residualize`` follows R: the mean of ``U / w_ps`` within each cell, weighted by the old
    weights, times ``w_ps`` is subtracted.
    """

    cells: Cells
    factor: np.ndarray
    old_weights: np.ndarray
    kind: str = "poststratify"

    @property
    def weights(self) -> np.ndarray:
        """The post-stratified weights."""
        w = self.factor[self.cells.codes]
        w *= self.old_weights
        return w

    def residualize(self, U):
        column, n, k, assemble, fresh = _influence_columns(U)
        psw = self.weights
        oldw = self.old_weights
        psw[(psw == 0) & (oldw == 0)] = 1.0  # as R: rows with zero weight before and after
        G = self.cells.n_cells
        codes = self.cells.codes
        num = np.zeros((G, k))
        for j in range(k):
            u = column(j)
            for b in _blocks(n):
                num[:, j] += np.bincount(codes[b], weights=u[b] * (oldw[b] / psw[b]), minlength=G)
            del u
        means = num / _bincount(codes, oldw, G)[:, None]

        def residual(j):  # U - w_ps * means[cell]
            return _subtract_scaled(column(j), means[:, j], codes, psw, fresh)

        return assemble(residual)

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        got = np.bincount(self.cells.codes, weights=weights, minlength=self.cells.n_cells)
        return _margin_frame(
            self.kind, "*".join(self.cells.columns), self.cells.labels, self.cells.targets, got
        )

    def replay(self, W: np.ndarray) -> np.ndarray:
        return poststratify_weights(W, self.cells)[0]


def poststratify_weights(weights: np.ndarray, cells: Cells):
    """Post-stratify: multiply the weights of each cell by ``target / (sample total)``.

    Works column-wise for a weight matrix (n, R); a vector also yields a :class:`PostStratification`
    record (``None`` for a matrix).

    >>> c = Cells(("g",), np.array([0, 0, 1]), np.array([10.0, 30.0]), ("a", "b"))
    >>> w, rec = poststratify_weights(np.array([1.0, 3.0, 2.0]), c)
    >>> w.tolist()
    [2.5, 7.5, 30.0]
    """
    W, is_vec = _as_2d(weights)
    sums = _cell_sums(cells.codes, cells.n_cells, W)
    sums = sums if sums.ndim == 2 else sums[:, None]
    _check_cell_sums(sums, cells)
    factor = cells.targets[:, None] / sums
    new = factor[cells.codes]  # (n, m), turned into the new weights in place
    new *= W
    if not is_vec:
        return new, None
    return new[:, 0], PostStratification(
        cells=cells, factor=factor[:, 0], old_weights=_frozen(weights)
    )


def _check_cell_sums(sums: np.ndarray, cells: Cells) -> None:
    bad = (sums <= 0) & (cells.targets[:, None] > 0)
    if bad.any():
        g, r = np.argwhere(bad)[0]
        where = "" if sums.shape[1] == 1 else f" in replicate {r + 1}"
        raise CalibrationError(
            f"cell {_label(cells.labels[g])} of {list(cells.columns)} has no weight{where}: "
            "it cannot be scaled to its population total (collapse cells)"
        )
