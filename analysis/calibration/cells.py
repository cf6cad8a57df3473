"""Population margins -> integer cell codes and target totals (:func:`cell_codes`).

Refuses levels that appear in only one of sample and population, naming them; joint cells of
several margins are numbered in linear time where the table of all combinations is small."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calibration._arrays import (
    _as_2d,
    _bincount,
    _blocks,
    _code_dtype,
    _label,
    _take,
)
from analysis.calibration.errors import CalibrationError


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
