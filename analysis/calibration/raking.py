"""Raking by iterative proportional fitting (R's ``rake``): post-stratify on each margin in
turn, on the joint table of all margins; its record does R's 10 backfitting sweeps on the
joint-cell sums of the influence values."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
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
    _take,
)
from analysis.calibration.cells import Cells, _joint_codes
from analysis.calibration.errors import CalibrationError
from analysis.calibration.poststratify import _check_cell_sums
from analysis.calibration.records import Calibration, _margin_frame
from analysis.variance import indicator_matrix


@dataclass(frozen=True, eq=False)
class Raking(Calibration):
    """Record of ``rake``: the margins, the joint cell of every row and, per margin, the factor
    (weights after that margin's last IPF step / weights before raking) of every joint cell.

    ``residualize`` does R's 10 backfitting sweeps ``U <- U - w_m * ave(U / w_m | margin m)``
    (``ave`` the unweighted mean over the rows of the margin's cell, as R's svyrecvar), with
    ``w_m = w0 * ratio_m[joint cell]``. Writing ``z = U / w0``, a sweep subtracts
    ``ratio_m[c] * mean`` from every row of joint cell ``c``, so the sweeps run on the joint-cell
    sums of ``z`` (one pass over the rows in, one out): the same arithmetic as R's, reordered.
    ``joint`` and the margins' codes are in the smallest integer type (1 byte a row for up to
    127 cells); ``old_weights`` is the previous design's weights array itself.
    """

    margins: tuple[Cells, ...]
    joint: np.ndarray
    levels: tuple[np.ndarray, ...]
    ratios: np.ndarray
    old_weights: np.ndarray
    iterations: int
    converged: bool
    epsilon: float = 1e-10
    maxit: int = 100
    kind: str = "rake"
    sweeps: int = 10

    @property
    def margin_weights(self) -> tuple[np.ndarray, ...]:
        """Per margin, the weights after its step in the last IPF sweep (R's record)."""
        return tuple(self.old_weights * r[self.joint] for r in self.ratios)

    def residualize(self, U):
        column, n, k, assemble, fresh = _influence_columns(U)
        w0 = self.old_weights
        live = w0 != 0
        C = self.ratios.shape[1]
        # one pass over the rows: joint-cell sums of z = U / w0, column by column; rows with
        # zero weight (outside a subset) carry no influence and are left as they are
        joint = self.joint
        Z = np.zeros((C, k))
        for j in range(k):
            u = column(j)
            for b in _blocks(n):
                z = np.divide(u[b], w0[b], out=np.zeros(b.stop - b.start), where=live[b])
                Z[:, j] += np.bincount(joint[b], weights=z, minlength=C)
            del u
        live_rows = _bincount(joint, live, C)[:, None]
        steps = []
        for m, lev, r in zip(self.margins, self.levels, self.ratios):
            rows = _bincount(m.codes, None, m.n_cells)[:, None]  # ave counts every row
            steps.append((m, lev, r[:, None], rows, indicator_matrix(lev, m.n_cells)))
        delta = np.zeros_like(Z)  # amount subtracted from z in each joint cell so far
        for _ in range(self.sweeps):
            for m, lev, r, rows, ind in steps:
                means = _cell_sums(lev, m.n_cells, (Z - live_rows * delta) / r, ind) / rows
                delta += r * means[lev]

        def residual(j):  # the second pass: U - w0 * delta[joint cell]
            return _subtract_scaled(column(j), delta[:, j], joint, w0, fresh)

        return assemble(residual)

    def replay(self, W: np.ndarray) -> np.ndarray:
        # as R for replicate designs: as many sweeps as the full sample needed
        return rake_weights(
            W, self.margins, epsilon=self.epsilon, maxit=self.maxit, sweeps=self.iterations
        )[0]

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        frames = [
            _margin_frame(
                self.kind,
                "*".join(m.columns),
                m.labels,
                m.targets,
                np.bincount(m.codes, weights=weights, minlength=m.n_cells),
            )
            for m in self.margins
        ]
        return pd.concat(frames, ignore_index=True)


def rake_weights(
    weights: np.ndarray,
    margins: Sequence[Cells],
    *,
    epsilon: float = 1e-10,
    maxit: int = 100,
    warn: bool = True,
    sweeps: int | None = None,
):
    """Rake by iterative proportional fitting: post-stratify on each margin in turn.

    Stopping rule as R's ``rake``: after each full sweep the weighted table over the joint cells of
    all margin variables is compared with the previous one; stop when the largest absolute change
    is below ``epsilon * sum(weights)`` for ``epsilon < 1`` and below ``epsilon`` for
    ``epsilon >= 1`` (R's ``control=list(epsilon=1, maxit=10)`` defaults stop early). A weight
    matrix (n, R) is raked column by column (all columns sweep together until every column meets
    the rule). Not converging after ``maxit`` sweeps warns (``warn=True``), as R does.
    ``sweeps=k`` does exactly k sweeps instead: R rakes the replicates of a replicate design
    with as many sweeps as the full sample needed.

    Returns the raked weights and, for a vector, a :class:`Raking` record.

    >>> a = Cells(("a",), np.array([0, 0, 1, 1]), np.array([50.0, 50.0]), ("x", "y"))
    >>> b = Cells(("b",), np.array([0, 1, 0, 1]), np.array([30.0, 70.0]), ("u", "v"))
    >>> w, rec = rake_weights(np.ones(4), [a, b])
    >>> np.round(w, 6).tolist()
    [15.0, 35.0, 15.0, 35.0]
    """
    if not margins:
        raise CalibrationError("rake needs at least one margin")
    W, is_vec = _as_2d(weights)
    n = W.shape[0]
    for m in margins:
        if m.codes.shape[0] != n:
            raise CalibrationError(
                f"margin {list(m.columns)} has {m.codes.shape[0]} rows, weights {n}"
            )
    # Rows in the same joint cell of all margin variables always get the same factor, so IPF
    # runs on the joint table (cells x columns; R compares svytable(~a+b+...) between sweeps)
    # and the weights are touched once at the end.
    # level of every joint cell (C,), per margin
    joint, level = _joint_codes([m.codes for m in margins], [m.n_cells for m in margins])
    n_joint = level[0].shape[0]
    if is_vec:
        T0 = _bincount(joint, W[:, 0], n_joint)[:, None]
    else:
        T0 = _cell_sums(joint, n_joint, W, indicator_matrix(joint, n_joint))
    T = T0.copy()
    threshold = epsilon * W.sum(axis=0) if epsilon < 1 else np.full(W.shape[1], float(epsilon))
    fixed = sweeps is not None
    margin_tables, iterations, converged, delta = _ipf(
        T, margins, level, threshold, sweeps if fixed else maxit, fixed, is_vec)
    if fixed:
        converged = True  # by definition: the number of sweeps was prescribed
    elif not converged and warn:
        warnings.warn(
            f"raking did not converge after {iterations} sweeps (largest change in a cell total "
            f"{delta.max():.3g}, tolerance {threshold.max():.3g})",
            stacklevel=2,
        )
    if converged:
        _check_margins_met(T, margins, level, threshold, is_vec)
    # one factor per joint cell and column; cells without weight keep their zeros
    ratio = np.divide(T, T0, out=np.ones_like(T), where=T0 != 0)
    if not is_vec:
        new = ratio[joint]  # (n, m), turned into the new weights in place
        new *= W
        return new, None
    w = _take(ratio[:, 0], joint)
    w *= W[:, 0]
    ratios = np.array(
        [np.divide(t, T0[:, 0], out=np.ones_like(t), where=T0[:, 0] != 0) for t in margin_tables]
    )
    return w, Raking(
        margins=tuple(margins),
        joint=joint,
        levels=tuple(level),
        ratios=ratios,
        old_weights=_frozen(weights),
        iterations=iterations + (1 if converged and not fixed else 0),
        converged=converged,
        epsilon=epsilon,
        maxit=maxit,
    )


def _ipf(T, margins, level, threshold, limit: int, fixed: bool, keep_tables: bool):
    """Iterative proportional fitting of the joint table ``T`` (cells x weight columns, changed
    in place): each sweep scales ``T`` to every margin in turn; stop when no cell moved by
    ``threshold`` or more in a sweep (unless ``fixed``: exactly ``limit`` sweeps), at most
    ``limit`` sweeps. Returns ``(margin_tables, iterations, converged, delta)``: the joint table
    after each margin's step in the last sweep (first weight column, when ``keep_tables``), the
    sweeps that changed the table, whether the rule was met, the last sweep's largest change."""
    margin_tables: list[np.ndarray] = []
    converged = False
    iterations = 0
    delta = np.full(T.shape[1], np.inf)
    while iterations < limit:
        old = T.copy()
        margin_tables = []
        for m, lev in zip(margins, level):
            sums = _cell_sums(lev, m.n_cells, T, indicator_matrix(lev, m.n_cells))
            _check_cell_sums(sums, m)
            T *= (m.targets[:, None] / sums)[lev]
            if keep_tables:
                margin_tables.append(T[:, 0].copy())
        delta = np.abs(T - old).max(axis=0)
        if not fixed and np.all(delta < threshold):
            converged = True
            break
        iterations += 1
    return margin_tables, iterations, converged, delta


def _check_margins_met(T, margins, level, threshold, is_vec) -> None:
    """R's rule stops when the weights stop changing, which also happens when the margins cannot
    all be met (empty combinations of cells): then say so instead of returning such weights."""
    allowed = np.maximum(10 * threshold, 1e-6 * T.sum(axis=0))
    for m, lev in zip(margins, level):
        got = _cell_sums(lev, m.n_cells, T, indicator_matrix(lev, m.n_cells))
        miss = np.abs(got - m.targets[:, None])
        bad = (miss > allowed).any(axis=0)
        if not bad.any():
            continue
        g = int(np.argmax(miss.max(axis=1)))
        msg = (
            f"raking stopped changing the weights but margin {list(m.columns)} level "
            f"{_label(m.labels[g])} has {got[g].min():.6g} instead of {m.targets[g]:.6g}"
            + (
                ""
                if is_vec
                else f" in replicate column(s) {(np.flatnonzero(bad) + 1)[:10].tolist()}"
            )
            + ": the margins are inconsistent or some combinations of their levels have no "
            "sample rows (collapse levels)"
        )
        if is_vec:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=3)
