"""Weight calibration as pure numpy: post-stratification, raking (IPF), GREG calibration, trimming.

Every function takes the current weights either as a vector ``(n,)`` (one design) or as a matrix
``(n, R)`` (one column per replicate) and calibrates column by column. Functions given a vector
also return a :class:`Calibration` record: the object the variance engine uses to replace the
influence values ``U`` by their calibration residuals, exactly as R survey's ``svyrecvar`` does:

* post-stratification: ``U - w_ps * mean_oldw(U / w_ps | cell)`` (mean weighted by the weights
  before post-stratification, as R's ``postStratify`` record);
* raking: 10 backfitting sweeps ``U <- U - w_m * ave(U / w_m | margin m)`` over the margins,
  where ``w_m`` are the weights after margin ``m`` in the last IPF sweep (R's ``rake``);
* GREG calibration (linear, raking, logit distances): ``w * qr.resid(X sqrt(w0), U / w)`` with
  ``w = g sqrt(w0)``, ``w0`` the weights before calibration (R's ``calibrate``).

``residualize`` accepts an (n, k) array or a :class:`~analysis.variance.ColumnwiseInfluence`; the
latter gives one back whose columns are computed when read, so calibrated variances never form an
n x k matrix. Records stay small: cell codes in the smallest integer type, the weights before the
step shared with the design (read-only) rather than copied, nothing kept that can be recomputed
exactly from what is kept.

Population information is given as pandas objects and turned into integer cell codes and target
totals by :func:`cell_codes`, which refuses levels that appear in only one of sample and
population (naming them).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.variance import ColumnwiseInfluence, indicator_matrix

__all__ = [
    "Calibration",
    "CalibrationError",
    "GregCalibration",
    "PostStratification",
    "Raking",
    "Trimming",
    "calibrate_weights",
    "calibration_matrix",
    "cell_codes",
    "poststratify_weights",
    "rake_weights",
    "trim_weights",
]


class CalibrationError(AnalysisError):
    """Calibration could not be carried out (bad margins, no convergence, empty cells)."""


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def _as_2d(w: np.ndarray) -> tuple[np.ndarray, bool]:
    """View weights as (n, m); remember whether the caller gave a vector."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 1:
        return w[:, None], True
    if w.ndim != 2:
        raise ValueError(f"weights must be a vector (n,) or a matrix (n, R); got shape {w.shape}")
    return w, False


def _cell_sums(codes: np.ndarray, n_cells: int, x: np.ndarray, indicator=None) -> np.ndarray:
    """Totals of ``x`` ((n,) or (n, m)) within cells; (G,) or (G, m). ``indicator``: a cached
    ``indicator_matrix(codes, n_cells)`` for repeated sums of matrices."""
    if x.ndim == 1:
        return np.bincount(codes, weights=x, minlength=n_cells)
    if x.shape[1] == 1:
        return np.bincount(codes, weights=x[:, 0], minlength=n_cells)[:, None]
    if indicator is None:
        indicator = indicator_matrix(codes, n_cells)
    return np.asarray(indicator @ x)


def _code_dtype(n_values: int) -> np.dtype:
    """Smallest signed integer type holding the codes 0..n_values-1 (int8 up to 127 values): a
    million rows of margin codes take 1 MB instead of 8 MB. Cast before doing arithmetic on them."""
    for dt in (np.int8, np.int16, np.int32):
        if n_values <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def _joint_codes(codes: Sequence[np.ndarray], dims: Sequence[int]):
    """Number the joint cells (combinations of levels) that occur, in lexicographic order of
    the levels: ``(joint (n,), levels)``, ``joint`` in the smallest integer type that holds it and
    ``levels[i]`` (C,) the level of variable i in every joint cell.

    The mixed-radix key of a row's combination is formed block by block; linear time through a
    table of all possible keys when that table is small (the usual case: a product of a few
    level counts), else by sorting.
    """
    n = codes[0].shape[0]
    n_keys = int(np.prod([int(d) for d in dims], dtype=object))
    if n_keys >= 2**62:  # the key would overflow: sort the rows of codes themselves
        uniq, inv = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
        return inv.reshape(-1).astype(_code_dtype(uniq.shape[0])), list(uniq.T)

    def key(b):
        k = codes[0][b].astype(np.int64)
        for c, d in zip(codes[1:], dims[1:]):
            k *= d
            k += c[b]
        return k

    if n_keys <= max(10 * n, 1_000_000):
        present = np.zeros(n_keys, dtype=bool)
        for b in _blocks(n):
            present[key(b)] = True
        keys = np.flatnonzero(present)
        code_of_key = (np.cumsum(present) - 1).astype(_code_dtype(keys.shape[0]))
        joint = np.empty(n, dtype=code_of_key.dtype)
        for b in _blocks(n):
            np.take(code_of_key, key(b), out=joint[b])
    else:
        keys, inv = np.unique(np.concatenate([key(b) for b in _blocks(n)]), return_inverse=True)
        joint = inv.reshape(-1).astype(_code_dtype(keys.shape[0]))
    return joint, list(np.unravel_index(keys, tuple(dims)))


def _frozen(weights) -> np.ndarray:
    """The weights as a float64 vector nobody can change, without copying when they already are
    one (a design's weights: read-only and owning their data), so a record and the design it
    came from share the array instead of holding one copy each."""
    if (
        isinstance(weights, np.ndarray)
        and weights.dtype == np.float64
        and weights.flags.owndata
        and not weights.flags.writeable
    ):
        return weights
    a = np.array(weights, dtype=np.float64)  # a copy only this record holds
    a.setflags(write=False)
    return a


#: rows per block where compact codes index an array: numpy turns int8 codes into an intp
#: copy first, so blocks keep that copy at 1 MB instead of 8 bytes per row
_BLOCK = 1 << 17


def _blocks(n: int):
    return (slice(lo, min(lo + _BLOCK, n)) for lo in range(0, n, _BLOCK))


def _bincount(codes: np.ndarray, weights=None, minlength: int = 0) -> np.ndarray:
    """``np.bincount`` of compact codes, block by block (float64 counts/sums)."""
    out = np.zeros(minlength)
    for b in _blocks(codes.shape[0]):
        out += np.bincount(codes[b], None if weights is None else weights[b], minlength)
    return out


def _subtract_scaled(
    u: np.ndarray, values: np.ndarray, codes: np.ndarray, scale: np.ndarray, in_place: bool
) -> np.ndarray:
    """``u - scale * values[codes]`` block by block, written into ``u`` when ``in_place``."""
    out = u if in_place else np.empty(u.shape[0])
    for b in _blocks(u.shape[0]):
        t = np.take(values, codes[b])
        t *= scale[b]
        np.subtract(u[b], t, out=out[b])
    return out


def _take(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]`` block by block (the result has the table's dtype)."""
    out = np.empty(codes.shape[0], dtype=table.dtype)
    for b in _blocks(codes.shape[0]):
        np.take(table, codes[b], out=out[b])
    return out


def _factorize(col: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """The levels of a column: ``(codes (n,), levels, rows per level)``.

    Integer columns with a modest range and categorical columns are read block by block into
    codes of the smallest integer type (no n-sized temporaries: pandas' factorize of a million
    int32 values peaks at ~33 MB); other columns go through ``pd.factorize``. ``levels`` may hold
    unused categories (0 rows).
    """
    n = len(col)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        levels = pd.Index(col.cat.categories)
        return codes, levels, _bincount(codes, None, len(levels))
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" and n:
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        span = hi - lo + 1
        if span <= max(n, 1 << 16) and -(2**62) < lo and hi < 2**62:
            counts = np.zeros(span)
            for b in _blocks(n):
                counts += np.bincount(v[b].astype(np.int64) - lo, minlength=span)
            present = np.flatnonzero(counts)
            code_of = np.zeros(span, dtype=_code_dtype(present.shape[0]))
            code_of[present] = np.arange(present.shape[0])
            codes = np.empty(n, dtype=code_of.dtype)
            for b in _blocks(n):
                np.take(code_of, v[b].astype(np.int64) - lo, out=codes[b])
            return codes, pd.Index((present + lo).astype(v.dtype)), counts[present]
    codes, uniques = pd.factorize(col)
    return codes, pd.Index(uniques), np.bincount(codes, minlength=len(uniques))


def _influence_columns(U):
    """Read influence values column by column: ``(column(j), n, k, assemble(fn), fresh)``.

    ``U`` is an (n,) or (n, k) array or a :class:`ColumnwiseInfluence`. ``assemble(fn)`` builds the
    result from the per-column function ``fn(j) -> (n,)``: an array shaped as ``U`` for an array
    (every column computed now), a ColumnwiseInfluence computing ``fn(j)`` when column j is read
    for a ColumnwiseInfluence, so that no n x k matrix is formed. Both run the same ``fn``, so
    they give the same numbers. ``fresh`` is True when every ``column(j)`` call returns a new
    array the caller may overwrite (a ColumnwiseInfluence with ``fresh = True``, as the ones the
    records return): the residual is then computed in it, one n-vector per column instead of two.
    """
    if isinstance(U, ColumnwiseInfluence):
        n, k = U.shape

        def lazy(fn):  # every residual column is a new array
            return ColumnwiseInfluence(n, k, fn, fresh=True)

        return U.column, n, k, lazy, U.fresh
    U = np.asarray(U, dtype=np.float64)
    x = U if U.ndim == 2 else U[:, None]
    n, k = x.shape

    def assemble(fn):
        out = np.empty((n, k), order="F")
        for j in range(k):
            out[:, j] = fn(j)
        return out if U.ndim == 2 else out[:, 0]

    return (lambda j: x[:, j]), n, k, assemble, False


def _label(value) -> str:
    return value if isinstance(value, str) else repr(value)


# ----------------------------------------------------------------------------------------------
# population margins -> integer codes and targets
# ----------------------------------------------------------------------------------------------
def _population_series(population, cols: Sequence[str]) -> pd.Series:
    """Normalise the accepted population forms to a Series of totals indexed by cell."""
    if isinstance(population, pd.DataFrame):
        missing = [c for c in cols if c not in population.columns]
        if missing:
            raise CalibrationError(
                f"population frame lacks the column(s) {missing}; it has {list(population.columns)}"
            )
        rest = [c for c in population.columns if c not in cols]
        if len(rest) != 1:
            raise CalibrationError(
                "population frame must hold the cell columns "
                f"{list(cols)} plus exactly one column of totals; extra columns: {rest}"
            )
        s = population.set_index(list(cols))[rest[0]]
    elif isinstance(population, pd.Series):
        s = population
    elif isinstance(population, Mapping):
        s = pd.Series(population)
    else:
        raise CalibrationError(
            f"population totals must be a pandas Series, a DataFrame or a dict; got {type(population)}"
        )
    if len(cols) > 1 and s.index.nlevels != len(cols):
        raise CalibrationError(
            f"population totals for the cells {list(cols)} need a {len(cols)}-level index; "
            f"got {s.index.nlevels} level(s)"
        )
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()].unique().tolist()
        raise CalibrationError(f"population totals for {list(cols)} list cell(s) {dup} twice")
    values = pd.to_numeric(s, errors="coerce")
    bad = values.isna() | (values < 0)
    if bad.any():
        raise CalibrationError(
            f"population totals for {list(cols)} must be non-negative numbers; "
            f"bad cell(s): {s[bad].to_dict()}"
        )
    return values.astype(np.float64)


@dataclass(frozen=True)
class Cells:
    """Sample rows mapped to population cells.

    ``codes[i]`` is the cell of row ``i`` (0..G-1), ``targets[g]`` the population total of cell
    ``g`` and ``labels[g]`` its name (a tuple of levels for several columns). :func:`cell_codes`
    gives the codes in the smallest integer type that holds them (int8 up to 127 cells), so cast
    them (``codes.astype(np.intp)``) before arithmetic that could leave that range.
    """

    columns: tuple[str, ...]
    codes: np.ndarray
    targets: np.ndarray
    labels: tuple

    @property
    def n_cells(self) -> int:
        return self.targets.shape[0]


def cell_codes(
    data: pd.DataFrame,
    cols: str | Sequence[str],
    population,
    *,
    weights: np.ndarray | None = None,
    partial: bool = False,
) -> Cells:
    """Map the rows of ``data`` to the cells of ``population`` and check that both agree.

    ``population``: a Series of totals indexed by the levels of ``cols`` (a MultiIndex for several
    columns), a dict level -> total, or a frame with the ``cols`` plus one column of totals.
    Raises :class:`CalibrationError` naming the level when a sample level is not in the population,
    or a populated cell (total > 0) has no sample rows (unless ``partial=True``, then it is dropped
    with a warning, as R's ``partial=TRUE``). Cells with total 0 and no sample rows are dropped.

    >>> df = pd.DataFrame({"sex": ["f", "m", "f"]})
    >>> c = cell_codes(df, "sex", pd.Series({"f": 60.0, "m": 40.0}))
    >>> c.codes.tolist(), c.targets.tolist()
    ([0, 1, 0], [60.0, 40.0])
    """
    cols = (cols,) if isinstance(cols, str) else tuple(cols)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise CalibrationError(f"data has no column(s) {missing} to calibrate on")
    pop = _population_series(population, cols)
    # a single column is read in place; data[[col]] would copy it
    sub = data[cols[0]] if len(cols) == 1 else data[list(cols)]
    na_rows = sub.isna().to_numpy() if len(cols) == 1 else sub.isna().any(axis=1).to_numpy()
    if na_rows.any():
        rows = data.index[na_rows][:10].tolist()
        raise CalibrationError(
            f"missing values in calibration column(s) {list(cols)} at row(s) {rows}"
            f"{' ...' if na_rows.sum() > 10 else ''}: every row needs a cell"
        )
    # the sample's distinct levels are looked up in the population, not every row
    if len(cols) == 1:
        sample_codes, levels, level_rows = _factorize(sub)
        pop_index = pop.index if pop.index.nlevels == 1 else pop.index.get_level_values(0)
        pop = pd.Series(pop.to_numpy(), index=pd.Index(pop_index))
    else:
        sample_codes, levels = pd.MultiIndex.from_frame(sub).factorize()
        level_rows = np.bincount(sample_codes, minlength=len(levels))
    cell_of = pop.index.get_indexer(levels)  # population cell of every sample level
    unknown = (cell_of < 0) & (level_rows > 0)
    if unknown.any():
        first_rows = data.index[np.flatnonzero(_take(unknown, sample_codes))[:5]].tolist()
        raise CalibrationError(
            f"sample level(s) {[_label(u) for u in np.asarray(levels[unknown], dtype=object)]} "
            f"of {list(cols)} (first rows {first_rows}) are not in the population totals, "
            f"whose levels are {[_label(v) for v in pop.index.tolist()]}"
        )
    targets = pop.to_numpy()
    G, used = len(pop), cell_of >= 0
    n_rows = np.bincount(cell_of[used], level_rows[used], G)
    if weights is not None:
        w2, _ = _as_2d(weights)
        level_sums = _bincount(sample_codes, w2[:, 0], len(levels))
        wsum = np.bincount(cell_of[used], weights=level_sums[used], minlength=G)
        empty = wsum <= 0
    else:
        empty = n_rows == 0
    absent = empty & (targets > 0)
    if absent.any():
        names = [_label(v) for v in pop.index[absent].tolist()]
        if not partial:
            raise CalibrationError(
                f"population cell(s) {names} of {list(cols)} have a positive total but no sample "
                "rows with positive weight: collapse cells, or pass partial=True to ignore them"
            )
        warnings.warn(
            f"population cell(s) {names} of {list(cols)} are absent from the sample and ignored "
            "(partial=True): the calibrated total will fall short of the population total",
            stacklevel=2,
        )
    zero_pop_in_sample = (targets == 0) & (n_rows > 0)
    if zero_pop_in_sample.any():
        names = [_label(v) for v in pop.index[zero_pop_in_sample].tolist()]
        raise CalibrationError(
            f"sample rows fall in cell(s) {names} of {list(cols)} whose population total is 0"
        )
    keep = ~(empty & ((targets == 0) | absent))
    remap = (np.cumsum(keep) - 1).astype(_code_dtype(int(keep.sum())))
    return Cells(
        columns=cols,
        codes=_take(remap[np.maximum(cell_of, 0)], sample_codes),
        targets=targets[keep],
        labels=tuple(pop.index[keep].tolist()),
    )


# ----------------------------------------------------------------------------------------------
# calibration records (what the variance engine needs)
# ----------------------------------------------------------------------------------------------
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


@dataclass(frozen=True, eq=False)
class GregCalibration(Calibration):
    """Record of ``calibrate`` (any distance): orthonormal basis of ``X sqrt(w0)`` and ``g sqrt(w0)``.

    ``residualize(U) = w * (r - Q Q' r)`` with ``r = U / w``, ``w = g sqrt(w0)``: R's
    ``qr.resid(qr(X * sqrt(w0)), U / w) * w``.
    """

    Q: np.ndarray
    w: np.ndarray
    X: np.ndarray
    targets: np.ndarray
    names: tuple[str, ...]
    method: str
    iterations: int
    bounds: tuple = (-np.inf, np.inf)
    epsilon: float = 1e-10
    maxit: int = 50
    kind: str = "calibrate"
    old_weights: np.ndarray | None = None  # the weights before this step
    variance: np.ndarray | None = None     # R's heteroscedastic calibration (replayed on replicates)
    #: (n,) cluster codes of R's aggregate.stage: X and the weights are cluster means
    aggregate: np.ndarray | None = None

    def residualize(self, U):
        column, n, _, assemble, fresh = _influence_columns(U)
        w, Q = self.w, self.Q
        dead = w == 0

        def residual(j):  # w * (r - Q Q'r), r = U / w (0 where w is 0)
            u = column(j)
            r = u if fresh else np.empty(n)
            np.divide(u, w, out=r, where=~dead)
            r[dead] = 0.0
            t = Q.T @ r
            for b in _blocks(n):  # no n-vector Q t
                r[b] -= Q[b] @ t
            r *= w
            return r

        return assemble(residual)

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        got = self.X.T @ weights
        return _margin_frame(f"{self.kind} ({self.method})", "model", self.names, self.targets, got)

    def replay(self, W: np.ndarray) -> np.ndarray:
        # as R's calibrate.svyrep.design: a replicate that does not converge only warns
        if self.aggregate is not None:
            Wa = cluster_means(np.asarray(W, dtype=np.float64), self.aggregate)
            G = calibrate_weights(Wa, self.X, self.targets, method=self.method,
                                  bounds=self.bounds, epsilon=self.epsilon, maxit=self.maxit,
                                  force=True, variance=self.variance)[0]
            return np.asarray(W) * np.divide(G, Wa, out=np.ones_like(G), where=Wa != 0)
        return calibrate_weights(
            W,
            self.X,
            self.targets,
            method=self.method,
            bounds=self.bounds,
            epsilon=self.epsilon,
            maxit=self.maxit,
            force=True,
            variance=self.variance,
        )[0]


@dataclass(frozen=True, eq=False)
class ClusterCalibration(Calibration):
    """Record of calibration within the sampling units of a stage (R's calibrate(stage = 1),
    Sarndal's case C). Its residuals act only on the variance of the later stages (R's
    multistage recursion): ``residualize`` leaves U as it is, ``residualize_within`` applies
    ``w * (r - Q_c Q_c' r)``, r = U / w, in every cluster c, with Q_c an orthonormal basis of
    the cluster's X * sqrt(conditional weights / sigma2) and w = g * weights * sqrt(sigma2)."""

    within_stage: int
    codes: np.ndarray            # (n,) cluster code of every row at that stage
    bases: tuple                 # per cluster: (rows, Q)
    w: np.ndarray                # (n,) R's caldata$w
    X: np.ndarray
    targets: dict                # cluster label -> (names, totals)
    kind: str = "calibrate within clusters"
    old_weights: np.ndarray | None = None

    def residualize(self, U):
        return U                 # stage-0 variance: unchanged (R applies it in the recursion)

    def residualize_within(self, U: np.ndarray) -> np.ndarray:
        U = np.array(U, dtype=np.float64)
        squeeze = U.ndim == 1
        U = U[:, None] if squeeze else U
        w = self.w[:, None]
        R = np.divide(U, w, out=np.zeros_like(U), where=w != 0)
        for rows, Q in self.bases:
            R[rows] -= Q @ (Q.T @ R[rows])
        out = R * w
        return out[:, 0] if squeeze else out

    def achieved(self, weights: np.ndarray) -> pd.DataFrame:
        frames = []
        for (label, (names, totals)), (rows, _) in zip(self.targets.items(), self.bases):
            got = self.X[rows].T @ weights[rows]
            frames.append(_margin_frame(self.kind, str(label), names, totals,
                                        got[: len(names)] if len(got) == len(names) else got))
        return pd.concat(frames, ignore_index=True)

    def replay(self, W: np.ndarray) -> np.ndarray:  # noqa: ARG002 (the Calibration interface)
        raise CalibrationError("replicate weights of a design calibrated within clusters "
                               "(stage=1) are not supported: replicate the design first, or "
                               "calibrate to population totals")


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


# ----------------------------------------------------------------------------------------------
# post-stratification
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# raking (iterative proportional fitting)
# ----------------------------------------------------------------------------------------------
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
    margin_tables: list[np.ndarray] = []
    converged = False
    iterations = 0
    delta = np.full(W.shape[1], np.inf)
    fixed = sweeps is not None
    while iterations < (sweeps if fixed else maxit):
        old = T.copy()
        margin_tables = []
        for m, lev in zip(margins, level):
            sums = _cell_sums(lev, m.n_cells, T, indicator_matrix(lev, m.n_cells))
            _check_cell_sums(sums, m)
            T *= (m.targets[:, None] / sums)[lev]
            if is_vec:
                margin_tables.append(T[:, 0].copy())
        delta = np.abs(T - old).max(axis=0)
        if not fixed and np.all(delta < threshold):
            converged = True
            break
        iterations += 1
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


# ----------------------------------------------------------------------------------------------
# GREG calibration (linear, raking, logit distances; bounds)
# ----------------------------------------------------------------------------------------------
def calibration_matrix(data: pd.DataFrame, totals: Mapping):
    """Model matrix and population totals from ``totals``: column -> total or Series of level totals.

    A number calibrates the column's total (a numeric column). A Series calibrates a categorical
    column: one indicator per level. The key ``"(Intercept)"`` adds a column of ones (population
    size). As in R's ``model.matrix``, with an intercept (or from the second categorical on) the
    first level's indicator is dropped; its total must then agree with the population size implied
    by the other totals (checked to 1e-9 relative), so the column space is the same as R's.

    Returns ``(X (n, p), targets (p,), names)``; names follow R (``"stypeH"``, ``"api99"``).

    >>> df = pd.DataFrame({"g": ["a", "b", "b"], "x": [1.0, 2.0, 3.0]})
    >>> X, t, names = calibration_matrix(df, {"g": pd.Series({"a": 5.0, "b": 7.0}), "x": 20.0})
    >>> names, t.tolist()
    (('ga', 'gb', 'x'), [5.0, 7.0, 20.0])
    """
    if not totals:
        raise CalibrationError("calibrate needs at least one population total")
    n = len(data)
    cols: list[np.ndarray] = []
    targets: list[float] = []
    names: list[str] = []
    size: float | None = None
    size_from: str | None = None
    if "(Intercept)" in totals:
        size = float(totals["(Intercept)"])
        size_from = "(Intercept)"
        cols.append(np.ones(n))
        targets.append(size)
        names.append("(Intercept)")
    for key, total in totals.items():
        if key == "(Intercept)":
            continue
        if key not in data.columns:
            raise CalibrationError(f"calibration total for {key!r} but data has no such column")
        if isinstance(total, (pd.Series, Mapping)):
            cells = cell_codes(data, key, total)
            dummies = np.zeros((n, cells.n_cells))
            dummies[np.arange(n), cells.codes] = 1.0
            level_sum = float(cells.targets.sum())
            first = 0
            if size is None:
                size, size_from = level_sum, key
            else:
                if abs(level_sum - size) > 1e-9 * max(abs(size), 1.0):
                    raise CalibrationError(
                        f"the level totals of {key!r} sum to {level_sum:.10g} but {size_from!r} "
                        f"implies a population size of {size:.10g}"
                    )
                first = 1
            for g in range(first, cells.n_cells):
                cols.append(dummies[:, g])
                targets.append(float(cells.targets[g]))
                names.append(f"{key}{cells.labels[g]}")
        else:
            x = pd.to_numeric(data[key], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(x)
            if bad.any():
                rows = data.index[bad][:10].tolist()
                raise CalibrationError(
                    f"calibration column {key!r} has missing or non-numeric values at row(s) {rows}"
                )
            cols.append(x)
            targets.append(float(total))
            names.append(str(key))
    return np.column_stack(cols), np.asarray(targets), tuple(names)


def _distance(method: str, lower, upper):
    """(F^{-1}(u) - 1 [the g - 1 of R's calfun$Fm1], its derivative) for R's calfuns."""
    if method == "linear":

        def fm1(u):
            return np.minimum(np.maximum(u + 1.0, lower), upper) - 1.0

        def dF(u):
            return ((u < upper - 1.0) & (u > lower - 1.0)).astype(np.float64)

    elif method == "raking":

        def fm1(u):
            return np.minimum(np.maximum(np.exp(u), lower), upper) - 1.0

        def dF(u):
            return np.where((u < upper - 1.0) & (u > lower - 1.0), np.exp(u), 0.0)

    elif method == "logit":
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise CalibrationError("logit calibration needs finite bounds=(L, U) with L < 1 < U")
        if np.any(np.asarray(lower) >= 1) or np.any(np.asarray(upper) <= 1):
            raise CalibrationError("logit calibration needs bounds L < 1 < U")
        L, U = lower, upper
        A = (U - L) / ((U - 1.0) * (1.0 - L))

        def fm1(u):
            e = np.exp(A * u)
            return (L * (U - 1.0) + U * (1.0 - L) * e) / (U - 1.0 + (1.0 - L) * e) - 1.0

        def dF(u):
            e = np.exp(A * u)
            den = U - 1.0 + (1.0 - L) * e
            return (
                U * (1.0 - L) * e * A / den
                - (L * (U - 1.0) + U * (1.0 - L) * e) * ((1.0 - L) * e * A) / den**2
            )

    else:
        raise CalibrationError(f"method must be 'linear', 'raking' or 'logit'; got {method!r}")
    return fm1, dF


def _crossprod_w(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Stack of X' diag(W[:, r]) X over columns r: (m, p, p), without an (n, p, p) temporary.

    For a weight matrix, one pass over W: ``W' [x_a x_b]`` for the p(p+1)/2 products of model
    columns, accumulated over blocks of rows so the products never take more than ~32 MB.
    """
    n, p = X.shape
    m = W.shape[1]
    if m <= 2:  # one or two weight columns: one matrix product each
        return np.stack([(X * W[:, r : r + 1]).T @ X for r in range(m)])
    ia, ib = np.triu_indices(p)
    acc = np.zeros((m, ia.shape[0]))
    step = max(1024, 4_000_000 // ia.shape[0])
    for lo in range(0, n, step):  # blocks of rows, a bounded number (not a loop over rows)
        Xc = X[lo : lo + step]
        acc += W[lo : lo + step].T @ (Xc[:, ia] * Xc[:, ib])
    out = np.empty((m, p, p))
    out[:, ia, ib] = acc
    out[:, ib, ia] = acc
    return out


def calibrate_weights(
    weights: np.ndarray,
    X: np.ndarray,
    targets: np.ndarray,
    *,
    method: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    epsilon: float = 1e-10,
    maxit: int = 50,
    force: bool = False,
    names: Sequence[str] | None = None,
    variance=None,
):
    """Calibrate weights so that ``X' w_new = targets`` (R's ``calibrate``).

    ``method``: ``"linear"`` (GREG; closed form when unbounded, as R's regcalibrate; truncated
    linear with bounds), ``"raking"`` (exponential distance) or ``"logit"`` (bounded, needs
    finite bounds ``L < 1 < U``). ``bounds`` bound the g-weights ``w_new / w``: two numbers, or
    one value per row (R's ``bounds = list(lower = ..., upper = ...)``). Bounded or
    non-linear distances use R's ``grake`` Newton iterations (generalised inverse, step halving,
    stop when ``|misfit| / (1 + |target|) < epsilon`` for every total; R's default epsilon is
    1e-7, ours 1e-10). A matrix (n, R) is calibrated column by column. Failure to converge
    raises :class:`CalibrationError` unless ``force=True`` (then it warns).
    ``variance``: R's heteroscedastic calibration, ``sigma2`` per row (an (n,) array) or as
    ``X @ variance`` (a (p,) vector): the g-weights become ``1 + F(x'eta / sigma2)``. As in R the
    variance residuals (the record) do not depend on it.

    Returns ``(new_weights, record)``; the record is a :class:`GregCalibration` for a vector.

    >>> X = np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 4.0]])
    >>> w, rec = calibrate_weights(np.ones(4), X, np.array([8.0, 24.0]))
    >>> np.round(X.T @ w, 10).tolist()
    [8.0, 24.0]
    """
    W0, is_vec = _as_2d(weights)
    X = np.asarray(X, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != W0.shape[0] or X.shape[1] != targets.shape[0]:
        raise CalibrationError(
            f"calibration matrix {X.shape}, weights {W0.shape} and totals {targets.shape} disagree"
        )
    lower, upper = _bound_pair(bounds, W0.shape[0])
    # one bound per row: (n, 1), so that it broadcasts over the weight columns
    lower = lower if np.ndim(lower) == 0 else lower[:, None]
    upper = upper if np.ndim(upper) == 0 else upper[:, None]
    unbounded = np.all(np.isneginf(lower)) and np.all(np.isposinf(upper))
    sigma2 = _sigma2(variance, X)
    sample_total = (W0.T @ X).T  # (p, m); this product order is the fast one for BLAS
    if method == "linear" and unbounded:
        T = _crossprod_w(X, W0 if sigma2 is None else W0 / sigma2[:, None])
        try:
            lam = np.linalg.solve(T, (targets[:, None] - sample_total).T[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError as exc:
            raise CalibrationError(
                "calibration matrix X'WX is singular: the calibration variables are collinear "
                f"or a level has no sample weight ({names or 'columns'})"
            ) from exc
        G = X @ lam.T
        if sigma2 is not None:
            G /= sigma2[:, None]
        G += 1.0
        iterations = 0
    else:
        G, iterations = _grake(
            W0, X, targets, sample_total, method, lower, upper, epsilon, maxit, force, sigma2
        )
    if not is_vec:  # a replicate matrix: the g-weights become the new weights in place
        return np.multiply(G, W0, out=G), None
    new = W0 * G
    w0 = W0[:, 0]
    whalf = np.sqrt(w0)
    # R: regcalibrate (linear, unbounded) projects on X sqrt(w0 / sigma2) and scales the residuals
    # by g sqrt(w0 sigma2); grake's path (bounds or other distances) ignores sigma2 there
    s = np.sqrt(sigma2) if sigma2 is not None and method == "linear" and unbounded else 1.0
    Q = _orthonormal_basis(X * (whalf / s)[:, None])
    record = GregCalibration(
        Q=Q,
        w=G[:, 0] * whalf * s,
        X=X,
        targets=targets,
        names=tuple(names) if names is not None else tuple(f"x{j}" for j in range(X.shape[1])),
        method=method,
        iterations=iterations,
        bounds=(lower, upper),
        epsilon=epsilon,
        maxit=maxit,
        old_weights=_frozen(weights),
        variance=None if variance is None else np.asarray(variance, dtype=np.float64),
    )
    return new[:, 0], record


def cluster_means(A: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Every row replaced by the mean of its cluster (R's ave(x, cluster)), column by column.

    >>> cluster_means(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 1])).tolist()
    [2.0, 2.0, 5.0]
    """
    A = np.asarray(A, dtype=np.float64)
    codes = np.asarray(codes)
    counts = np.bincount(codes).astype(np.float64)
    if A.ndim == 1:
        return (np.bincount(codes, weights=A, minlength=counts.shape[0]) / counts)[codes]
    out = np.empty_like(A)
    for j in range(A.shape[1]):
        out[:, j] = (np.bincount(codes, weights=A[:, j], minlength=counts.shape[0]) / counts)[codes]
    return out


def _bound_pair(bounds, n: int):
    """(lower, upper) of the g-weights: two numbers, or one value per row (arrays of length n,
    R's bounds = list(lower = ..., upper = ...)); a dict with "lower"/"upper" is accepted."""
    if isinstance(bounds, Mapping):
        unknown = set(bounds) - {"lower", "upper"}
        if unknown:
            raise CalibrationError(f"bounds takes the keys 'lower' and 'upper', got {sorted(unknown)}")
        bounds = (bounds.get("lower", -np.inf), bounds.get("upper", np.inf))
    if len(bounds) != 2:
        raise CalibrationError(f"bounds must be (lower, upper), got {len(bounds)} values")
    out = []
    for name, b in zip(("lower", "upper"), bounds):
        arr = np.asarray(b, dtype=np.float64)
        if arr.ndim == 0:
            out.append(float(arr))
            continue
        if arr.shape != (n,):
            raise CalibrationError(f"{name} bounds must be one number or one value per row "
                                   f"({n}), got shape {arr.shape}")
        if np.isnan(arr).any():
            row = int(np.flatnonzero(np.isnan(arr))[0])
            raise CalibrationError(f"{name} bound of row {row} is missing (NaN)")
        out.append(arr)
    lo, up = out
    if np.any(np.asarray(lo) > np.asarray(up)):
        bad = int(np.flatnonzero(np.broadcast_to(np.asarray(lo) > np.asarray(up), (n,)))[0])
        raise CalibrationError(f"lower bound above the upper bound (first at row {bad})")
    return lo, up


def _sigma2(variance, X: np.ndarray) -> np.ndarray | None:
    """R's grake: sigma2 = variance (one per row) or X @ variance (one per model column)."""
    if variance is None:
        return None
    v = np.asarray(variance, dtype=np.float64)
    if v.shape == (X.shape[0],):
        sigma2 = v
    elif v.shape == (X.shape[1],):
        sigma2 = X @ v
    else:
        raise CalibrationError(f"variance must have one value per row ({X.shape[0]}) or per "
                               f"calibration variable ({X.shape[1]}); got shape {v.shape}")
    if not np.all(np.isfinite(sigma2) & (sigma2 > 0)):
        row = int(np.flatnonzero(~(np.isfinite(sigma2) & (sigma2 > 0)))[0])
        raise CalibrationError(f"variance: sigma2 must be positive and finite; row {row} has "
                               f"{sigma2[row]}")
    return sigma2


def _orthonormal_basis(A: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of A (pivoted QR, rank as R's qr tol 1e-7)."""
    import scipy.linalg  # noqa: PLC0415 (lazy: designs and means do not need scipy.linalg)

    Q, R, _ = scipy.linalg.qr(A, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > 1e-7 * d[0])) if d.size and d[0] > 0 else 0
    return np.ascontiguousarray(Q[:, :rank])


def _grake(W0, X, targets, sample_total, method, lower, upper, epsilon, maxit, force,
           sigma2=None):
    """R's grake, vectorised over the weight columns; columns stop as they converge."""
    fm1, dF = _distance(method, lower, upper)
    m = W0.shape[1]
    # R rescales the weights when every total is more than 20 times the sample total
    scales = targets[:, None] / sample_total
    rescale = np.where(np.min(scales, axis=0) > 20, np.mean(scales, axis=0), 1.0)
    if np.any(rescale != 1.0) and not _unbounded(lower, upper):
        warnings.warn(
            "bounds apply after R's rescaling of weights by "
            f"{np.unique(np.round(rescale, 3)).tolist()} (totals > 20x the sample totals)",
            stacklevel=3,
        )
    W = W0 * rescale
    st = sample_total * rescale
    # exp() may overflow on a too-long Newton step; R's grake then halves the step, as we do below,
    # so the floating-point warnings are expected and handled, not hidden failures
    with np.errstate(over="ignore", invalid="ignore"):
        G, iterations, failed = _newton(W, X, targets, st, fm1, dF, epsilon, maxit, sigma2)
    G *= rescale
    if failed:
        cols = sorted(failed)
        msg = (
            f"{method} calibration did not converge in {maxit} iterations"
            + ("" if m == 1 else f" for weight column(s) {[c + 1 for c in cols][:10]}")
            + f": largest relative misfit {max(failed.values()):.3g} (epsilon {epsilon:g}); "
            "loosen bounds, raise maxit, or pass force=True to keep the unconverged weights"
        )
        if not force:
            raise CalibrationError(msg)
        warnings.warn(msg, stacklevel=3)
    return G, iterations


def _newton(W, X, targets, st, fm1, dF, epsilon, maxit, sigma2=None):
    """Newton iterations of grake for every column of W; converged columns are frozen.
    ``sigma2`` (n,): R's heteroscedastic variant, x'eta / sigma2 inside the distance."""
    n, m = W.shape
    s2 = np.ones((n, 1)) if sigma2 is None else sigma2[:, None]
    p = X.shape[1]
    eta = np.zeros((p, m))
    G = np.ones((n, m))
    active = np.arange(m)
    iterations = np.ones(m, dtype=int)
    failed: dict[int, float] = {}
    while active.size:
        Wa = W[:, active]
        xeta = X @ eta[:, active] / s2
        T = _crossprod_w(X, Wa * dF(xeta) / s2)
        misfit = targets[:, None] - st[:, active] - ((Wa * fm1(xeta)).T @ X).T
        deta = np.einsum("rij,jr->ir", np.linalg.pinv(T, rcond=256 * np.finfo(float).eps), misfit)
        eta_a = eta[:, active] + deta
        xeta = X @ eta_a / s2
        g = 1.0 + fm1(xeta)
        d = dF(xeta)
        # step halving for columns whose g (or derivative) left the finite range
        bad = ~(np.isfinite(g).all(axis=0) & np.isfinite(d).all(axis=0))
        while bad.any():
            can = bad & (iterations[active] < maxit)
            if not can.any():
                break
            iterations[active[can]] += 1
            deta[:, can] /= 2.0
            eta_a[:, can] -= deta[:, can]
            xeta[:, can] = X @ eta_a[:, can] / s2
            g[:, can] = 1.0 + fm1(xeta[:, can])
            d[:, can] = dF(xeta[:, can])
            bad = ~(np.isfinite(g).all(axis=0) & np.isfinite(d).all(axis=0))
        eta[:, active] = eta_a
        G[:, active] = g
        misfit = targets[:, None] - st[:, active] - ((Wa * (g - 1.0)).T @ X).T
        rel = np.abs(misfit) / (1.0 + np.abs(targets))[:, None]
        done = np.all(rel < epsilon, axis=0)
        iterations[active[~done]] += 1
        over = ~done & (iterations[active] > maxit)
        for j in np.flatnonzero(over):
            failed[int(active[j])] = float(np.nanmax(rel[:, j]))
        active = active[~done & ~over]
    return G, int(iterations.max()), failed


def _unbounded(lower, upper) -> bool:
    """True when no weight ratio is bounded (lower all -inf, upper all +inf)."""
    return bool(np.all(np.isneginf(lower)) and np.all(np.isposinf(upper)))


# ----------------------------------------------------------------------------------------------
# trimming
# ----------------------------------------------------------------------------------------------
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
