"""Array helpers shared by the weighting steps: weights as (n, m), cell sums, compact integer
codes read block by block (so a million rows of codes never become an n-sized intp copy),
read-only weights shared with the design, influence values read column by column, and
cluster means (R's ``ave``)."""

from __future__ import annotations

import numpy as np

from analysis.variance import ColumnwiseInfluence, indicator_matrix


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
