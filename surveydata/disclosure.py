"""Statistical disclosure control for published tables.

Two rules keep a single practice from being recognised in a report:

1. **Threshold rule (primary suppression).** A table cell based on fewer than ``k`` respondents
   (default 5) is not published; it shows :data:`MARKER` instead.
2. **Secondary (complementary) suppression.** When a table also publishes row or column totals,
   one suppressed cell could be recovered by subtraction (``cell = total - other cells``). We then
   suppress further cells until no suppressed cell can be recovered *exactly* from the published
   cells and totals by any linear combination of the table's additivity equations.

Whether a suppressed cell is recoverable is decided exactly with linear algebra: the published
table fixes the suppressed cells up to the null space of the additivity equations restricted to
them, so a cell is recoverable iff every null-space vector is zero at that cell
(:func:`recoverable_cells`). Complementary cells are chosen greedily, cheapest first (the sum of
the counts they hide), preferring cells with a count above zero: hiding a zero gives one-sided
protection only, because counts cannot be negative.

Cells with a count of 0 are not suppressed by the threshold rule by default: they describe no
respondent. Pass ``suppress_zeros=True`` to suppress them too.

Free text (items of type ``text``, such as ``comments``) never reaches a report:
:func:`drop_free_text` removes it before any table is made.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.linalg import null_space

#: What a suppressed cell shows. The same marker for primary and secondary suppression, so the
#: marker itself does not tell which cells are small.
MARKER = "•"
DEFAULT_K = 5
TOTAL = "Total"

# A null-space component smaller than this is zero (the equations have coefficients 0 and +-1,
# so genuine components are of order 1 / sqrt(#cells)).
_NULL_TOL = 1e-9


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"disclosure threshold k must be a positive integer, got {k!r}")
    return int(k)


def primary_mask(counts: pd.DataFrame, k: int = DEFAULT_K, suppress_zeros: bool = False) -> pd.DataFrame:
    """Cells that the threshold rule suppresses: fewer than ``k`` respondents.

    Example
    -------
    >>> t = pd.DataFrame({"a": [1, 7], "b": [0, 9]})
    >>> primary_mask(t, k=5).to_numpy().tolist()
    [[True, False], [False, False]]
    """
    k = _check_k(k)
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("counts table has missing cells; a count table must be complete")
    if (values < 0).any():
        raise ValueError("counts table has negative cells; counts must be >= 0")
    small = values < k
    if not suppress_zeros:
        small &= values > 0
    return pd.DataFrame(small, index=counts.index, columns=counts.columns)


def with_totals(counts: pd.DataFrame, row_totals: bool = True, col_totals: bool = True,
                label: str = TOTAL) -> pd.DataFrame:
    """The table with a total column (``row_totals``) and/or a total row (``col_totals``).

    Example
    -------
    >>> with_totals(pd.DataFrame({"a": [1, 2], "b": [3, 4]})).loc[TOTAL, TOTAL]
    np.int64(10)
    """
    out = counts.copy()
    if row_totals:
        out[label] = counts.sum(axis=1)
    if col_totals:
        out.loc[label] = out.sum(axis=0)
    return out


def _equations(n_rows: int, n_cols: int, row_totals: bool, col_totals: bool) -> np.ndarray:
    """Additivity equations of a table laid out as :func:`with_totals` lays it out.

    The table has ``n_rows`` x ``n_cols`` interior cells, then a total column if ``row_totals``
    and a total row if ``col_totals``. One equation per published total: interior cells of the
    line minus the total = 0. Returns the coefficient matrix over the flattened (row-major) table.
    """
    R = n_rows + int(col_totals)
    C = n_cols + int(row_totals)
    idx = np.arange(R * C).reshape(R, C)
    rows = []
    if row_totals:
        for i in range(R):  # every row, the total row included, adds up to its total
            eq = np.zeros(R * C)
            eq[idx[i, :n_cols]] = 1.0
            eq[idx[i, n_cols]] = -1.0
            rows.append(eq)
    if col_totals:
        for j in range(C):  # every column, the total column included, adds up to its total
            eq = np.zeros(R * C)
            eq[idx[:n_rows, j]] = 1.0
            eq[idx[n_rows, j]] = -1.0
            rows.append(eq)
    return np.array(rows).reshape(len(rows), R * C)


def recoverable_cells(mask: pd.DataFrame, row_totals: bool = True, col_totals: bool = True) -> pd.DataFrame:
    """Suppressed cells whose exact value follows from the published cells and totals.

    ``mask`` is laid out as :func:`with_totals` lays the table out (totals included). A
    suppressed cell is recoverable iff it is zero in every vector of the null space of the
    additivity equations restricted to the suppressed cells.

    Example
    -------
    >>> m = pd.DataFrame([[True, False, False], [False, False, False], [False, False, False]],
    ...                  index=["x", "y", TOTAL], columns=["a", "b", TOTAL])
    >>> bool(recoverable_cells(m).iloc[0, 0])   # a lone suppressed cell: total - the other one
    True
    """
    n_rows = mask.shape[0] - int(col_totals)
    n_cols = mask.shape[1] - int(row_totals)
    flat = mask.to_numpy(dtype=bool).ravel()
    out = np.zeros(flat.size, dtype=bool)
    suppressed = np.flatnonzero(flat)
    if suppressed.size:
        eqs = _equations(n_rows, n_cols, row_totals, col_totals)
        if eqs.size:
            basis = null_space(eqs[:, suppressed])
            free = (np.abs(basis) > _NULL_TOL).any(axis=1) if basis.size else np.zeros(suppressed.size, bool)
            out[suppressed] = ~free
    return pd.DataFrame(out.reshape(mask.shape), index=mask.index, columns=mask.columns)


def _complement_candidates(r: int, c: int, R: int, C: int) -> Iterable[tuple[tuple[int, int], ...]]:
    """Cell sets that can hide cell (r, c): another cell on its row or column, or a rectangle."""
    for cc in range(C):
        if cc != c:
            yield ((r, cc),)
    for rr in range(R):
        if rr != r:
            yield ((rr, c),)
    for rr in range(R):
        for cc in range(C):
            if rr != r and cc != c:
                yield ((r, cc), (rr, c), (rr, cc))


def suppression_mask(counts: pd.DataFrame, k: int = DEFAULT_K, row_totals: bool = True,
                     col_totals: bool = True, suppress_zeros: bool = False) -> pd.DataFrame:
    """Primary plus secondary suppression for a count table and the totals published with it.

    Returns a boolean frame laid out as ``with_totals(counts, row_totals, col_totals)``: True
    means "do not publish". Totals below ``k`` are suppressed like any cell. Afterwards no
    suppressed cell is recoverable (:func:`recoverable_cells` is all False); this is checked
    before returning.

    Example
    -------
    >>> t = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
    >>> m = suppression_mask(t, k=5)
    >>> int(m.to_numpy().sum())   # the 2, its row partner, and a rectangle to protect both
    4
    """
    full = with_totals(counts, row_totals, col_totals)
    values = full.to_numpy(dtype=float)
    mask = primary_mask(full, k, suppress_zeros).to_numpy()
    R, C = mask.shape
    total_cost = values.sum() + 1.0
    # Cost of hiding a cell: its count; a zero is a poor complement (one-sided protection), so
    # it is used only when nothing else works.
    cost = np.where(values > 0, values, total_cost)

    def as_frame(m: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(m, index=full.index, columns=full.columns)

    for _ in range(R * C):  # each pass suppresses at least one more cell
        exposed = recoverable_cells(as_frame(mask), row_totals, col_totals).to_numpy()
        if not exposed.any():
            return as_frame(mask)
        r, c = (int(x) for x in np.argwhere(exposed)[0])
        options = []
        for cells in _complement_candidates(r, c, R, C):
            new = [cell for cell in cells if not mask[cell]]
            if new:
                options.append((sum(cost[cell] for cell in new), len(new), cells, new))
        options.sort(key=lambda o: (o[0], o[1], o[2]))
        for _cost, _n, _cells, new in options:
            trial = mask.copy()
            for cell in new:
                trial[cell] = True
            if not recoverable_cells(as_frame(trial), row_totals, col_totals).iloc[r, c]:
                mask = trial
                break
        else:
            mask[:] = True  # no complement protects it: publish nothing of this table
    raise RuntimeError("secondary suppression did not converge")  # unreachable: R*C passes suffice


def apply_mask(table: pd.DataFrame, mask: pd.DataFrame, marker: str = MARKER) -> pd.DataFrame:
    """The table with masked cells replaced by ``marker`` (values become text).

    Example
    -------
    >>> t = pd.DataFrame({"a": [1, 7]})
    >>> apply_mask(t, t < 5)["a"].tolist()
    ['•', '7']
    """
    if table.shape != mask.shape or not (table.index.equals(mask.index) and table.columns.equals(mask.columns)):
        raise ValueError(f"table {table.shape} and mask {mask.shape} must have the same rows and columns")
    text = table.astype(object).map(str)
    return text.mask(mask.to_numpy(dtype=bool), marker)


def protect_counts(counts: pd.DataFrame, k: int = DEFAULT_K, row_totals: bool = True,
                   col_totals: bool = True, suppress_zeros: bool = False,
                   marker: str = MARKER) -> pd.DataFrame:
    """A publishable count table: totals added, small cells and their complements suppressed.

    Example
    -------
    >>> t = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
    >>> protect_counts(t).loc["x"].tolist()
    ['•', '•', '11']
    """
    mask = suppression_mask(counts, k, row_totals, col_totals, suppress_zeros)
    return apply_mask(with_totals(counts, row_totals, col_totals), mask, marker)


def safe_crosstab(df: pd.DataFrame, row: str, col: str, k: int = DEFAULT_K,
                  marker: str = MARKER) -> pd.DataFrame:
    """Unweighted respondent counts of ``row`` x ``col`` with totals, disclosure-protected.

    Rows with a missing ``row`` or ``col`` value are not counted (they are not part of the
    table); levels of categorical columns are kept even when empty.

    Example
    -------
    >>> d = pd.DataFrame({"t": ["a"] * 12 + ["b"] * 3, "y": ["n", "y"] * 6 + ["y"] * 3})
    >>> safe_crosstab(d, "t", "y").loc["b"].tolist()
    ['0', '•', '•']
    """
    counts = pd.crosstab(df[row], df[col], dropna=False)
    counts.index.name, counts.columns.name = row, col
    return protect_counts(counts, k, marker=marker)


def suppress_small_domains(estimates: pd.DataFrame, n: pd.Series, k: int = DEFAULT_K,
                           marker: str = MARKER) -> pd.DataFrame:
    """Estimates (one row per domain) with rows of domains of fewer than ``k`` respondents masked.

    ``n`` holds the unweighted respondent count of each row's domain, indexed like
    ``estimates``. Masked rows show ``marker`` in every column; the other rows keep their values.

    Example
    -------
    >>> e = pd.DataFrame({"estimate": [0.5, 0.25]}, index=["a", "b"])
    >>> suppress_small_domains(e, pd.Series({"a": 40, "b": 3}))["estimate"].tolist()
    [0.5, '•']
    """
    k = _check_k(k)
    n = n.reindex(estimates.index)
    if n.isna().any():
        missing = list(n.index[n.isna()])
        raise ValueError(f"no respondent count for rows {missing}: every published estimate needs one")
    small = (n < k).to_numpy()
    out = estimates.astype(object)
    out.loc[small, :] = marker
    return out


def free_text_columns(instrument, df: pd.DataFrame | None = None) -> list[str]:
    """Names of the free-text items of an instrument (``type: text``), present in ``df`` if given.

    ``instrument`` is an Instrument (items with ``.var``/``.name`` and ``.type``), or any iterable
    of column names to treat as free text.

    Example
    -------
    >>> free_text_columns(["comments"], pd.DataFrame({"comments": ["x"], "a": [1]}))
    ['comments']
    """
    items = getattr(instrument, "items", None)
    if items is None:
        names = [str(c) for c in instrument]
    else:
        if isinstance(items, dict):
            items = items.values()
        names = [getattr(i, "var", None) or i.name for i in items
                 if str(getattr(i, "type", "")) in {"text", "ItemType.text", "ItemType.TEXT"}
                 or getattr(getattr(i, "type", None), "value", None) == "text"]
    if df is not None:
        names = [n for n in names if n in df.columns]
    return names


def drop_free_text(df: pd.DataFrame, instrument) -> pd.DataFrame:
    """``df`` without its free-text columns (see :func:`free_text_columns`).

    Example
    -------
    >>> drop_free_text(pd.DataFrame({"comments": ["call me"], "a": [1]}), ["comments"]).columns.tolist()
    ['a']
    """
    return df.drop(columns=free_text_columns(instrument, df))
