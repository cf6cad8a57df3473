"""Statistical disclosure control for published tables.

A :class:`DisclosurePolicy` says what a published table must protect; the study declaration
carries it (``disclosure: {min_cell: 5, protection: {lower: 0.3, upper: 0.3}}``):

1. **Threshold rule (primary suppression).** A cell based on 1 to ``k - 1`` respondents
   (unweighted; ``k = min_cell``, default 5) is not published; it shows :data:`MARKER` instead.
   A cell of exactly ``k`` is published. Zero cells describe no respondent and are published
   unless ``zeros="suppress"``; ``full_cells="suppress"`` also protects a cell that holds every
   respondent of its row or column (group disclosure: "all practices of this kind ...").
2. **Protection levels (secondary suppression).** Suppressing a small cell is not enough when
   the table publishes totals. As in tau-Argus and sdcTable, an attacker who knows every
   published cell and total and that counts are >= 0 computes, by linear programming, the
   interval in which each suppressed cell must lie. That interval must reach at least the
   *lower protection level* below the cell's true value (or down to 0) and the *upper
   protection level* above it. Levels are respondents, or a share of ``k`` (``0.3`` or
   ``"30%"`` = 30 % of ``k``, rounded up: 2 respondents for ``k = 5``).

The complementary cells are chosen at least cost by the mixed-integer program of Fischetti and
Salazar-Gonzalez (2001) that tau-Argus' optimal method and sdcTable's ``OPT`` solve, here with
scipy's HiGHS (:func:`scipy.optimize.milp`): a binary ``y_i`` per cell (1 = suppress) and, for
each sensitive cell ``p`` and each direction, deviations ``f, g >= 0`` with

.. code-block:: text

    A (f - g) = 0                      the deviated table still adds up
    f_i <= M y_i,  g_i <= a_i y_i      only suppressed cells move; none goes below 0
    f_p - g_p >= UPL_p   (upper)       or   g_p - f_p >= min(LPL_p, a_p)   (lower)
    minimise  sum_i w_i y_i            w_i = a_i (the count hidden); a zero costs more than
                                       the whole table, so it is a complement of last resort

A feasible (f, g) is an attacker's table that agrees with everything published and moves the
cell by the protection level, so the program's answer is exactly "the attacker's interval is
wide enough" - not merely "the cell cannot be recovered exactly" (:func:`recoverable_cells`).
A zero can only move up (``g_i <= 0``): a zero complement gives one-sided protection, which the
constraints see. Zeros are avoided as complements also because a reader may know them to be
structural (sdcTable marks empty cells ``z``: never a secondary suppression).

Free text (items of type ``text``, such as ``comments``) never reaches a report:
:func:`drop_free_text` removes it before any table is made.

Example
-------
>>> t = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
>>> attacker_intervals(with_totals(t), suppression_mask(t))[("x", "a")]
(0.0, 11.0)
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import sys
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import null_space
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from surveydata.errors import SurveyDataError

#: What a suppressed cell shows. The same marker for primary and secondary suppression, so the
#: marker itself does not tell which cells are small.
MARKER = "•"
DEFAULT_K = 5
TOTAL = "Total"
#: Default protection levels, as a share of k (tau-Argus' lower and upper protection levels).
DEFAULT_PROTECTION = 0.3
#: Environment variable naming the file where published tables are recorded for the audit
#: (set by the report builder for each notebook; see surveydata.report.disclosure_audit).
RECORD_ENV = "SURVEYDATA_DISCLOSURE_RECORD"

# A null-space component smaller than this is zero (the equations have coefficients 0 and +-1,
# so genuine components are of order 1 / sqrt(#cells)).
_NULL_TOL = 1e-9


class DisclosureError(SurveyDataError):
    """A disclosure policy or table that cannot be used; the message names the value and the fix."""


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"disclosure threshold k must be a positive integer, got {k!r}")
    return int(k)


def _level(value, k: int, name: str) -> int:
    """A protection level in respondents. The type says the unit: a whole number (``2``) is
    respondents; a fraction (``0.3``, as the study declaration writes it) or a percentage string
    (``"30%"``) is a share of k, rounded up."""
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise DisclosureError(f"disclosure protection {name}: {value!r} is not a number of "
                                  "respondents or a percentage of min_cell such as '30%'")
        try:
            share = float(text[:-1]) / 100.0
        except ValueError:
            raise DisclosureError(f"disclosure protection {name}: {value!r} is not a percentage "
                                  "such as '30%'") from None
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise DisclosureError(f"disclosure protection {name}: {value!r} is negative")
        return int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value):
        share = float(value)
    else:
        raise DisclosureError(f"disclosure protection {name}: {value!r} is not a number of "
                              "respondents (2), a share of min_cell (0.3) or a percentage ('30%')")
    if share < 0:
        raise DisclosureError(f"disclosure protection {name}: {value!r} is negative")
    return math.ceil(share * k - 1e-12)


@dataclass(frozen=True)
class DisclosurePolicy:
    """What published tables must protect.

    ``min_cell``: k, the fewest respondents (unweighted) a published cell may describe.
    ``lower``/``upper``: protection levels - how far below/above a sensitive cell's true value
    the attacker's interval must reach - in respondents (an int: 2), or as a share of k (a
    float, 0.3, or "30%"; rounded up). The upper level is at least 1.
    ``zeros``: "publish" (a zero describes nobody) or "suppress" (zeros are sensitive too: the
    attacker must not be able to prove that a cell is empty). ``full_cells``: "publish" or
    "suppress" (a cell holding every respondent of its row or column is sensitive: the attacker
    must not be able to prove it is full). ``dominance``: (n, percent) for magnitude tables: a
    cell whose n largest contributions exceed percent of its total is sensitive (none of the
    report's tables is a magnitude table; :func:`dominance_mask`).

    >>> p = DisclosurePolicy.from_any({"min_cell": 5, "protection": {"lower": 0.3, "upper": "40%"}})
    >>> p.min_cell, p.lower_level, p.upper_level
    (5, 2, 2)
    """

    min_cell: int = DEFAULT_K
    lower: object = DEFAULT_PROTECTION
    upper: object = DEFAULT_PROTECTION
    zeros: str = "publish"
    full_cells: str = "publish"
    dominance: tuple | None = None

    def __post_init__(self):
        try:
            _check_k(self.min_cell)
        except ValueError as err:
            raise DisclosureError(f"disclosure min_cell: {err}") from None
        self.lower_level, self.upper_level  # noqa: B018 - validates both levels now
        for name, allowed in (("zeros", ("publish", "suppress")), ("full_cells", ("publish", "suppress"))):
            if getattr(self, name) not in allowed:
                raise DisclosureError(f"disclosure {name}: {getattr(self, name)!r} is not one of "
                                      f"{', '.join(allowed)}")
        if self.dominance is not None:
            n, pct = self.dominance
            if int(n) < 1 or not 0 < float(pct) <= 100:
                raise DisclosureError(f"disclosure dominance: {self.dominance!r} must be (n >= 1, "
                                      "0 < percent <= 100), e.g. (2, 85)")

    @property
    def lower_level(self) -> int:
        """Lower protection level in respondents."""
        return _level(self.lower, self.min_cell, "lower")

    @property
    def upper_level(self) -> int:
        """Upper protection level in respondents; at least 1, whatever was declared: a small
        cell's attacker interval always reaches above it, so no cell is ever recovered exactly
        (the guarantee of the rank rule this policy replaced)."""
        return max(1, _level(self.upper, self.min_cell, "upper"))

    def with_k(self, k: int) -> DisclosurePolicy:
        """The same policy with threshold ``k`` (levels given as a share of k follow it)."""
        return DisclosurePolicy(_check_k(k), self.lower, self.upper, self.zeros, self.full_cells,
                                self.dominance)

    def as_dict(self) -> dict:
        """JSON-ready: the declared values and the levels in respondents."""
        return {"min_cell": self.min_cell, "protection": {"lower": self.lower, "upper": self.upper},
                "protection_respondents": {"lower": self.lower_level, "upper": self.upper_level},
                "zeros": self.zeros, "full_cells": self.full_cells,
                "dominance": list(self.dominance) if self.dominance else None}

    @classmethod
    def from_any(cls, policy=None, k: int | None = None) -> DisclosurePolicy:
        """A policy from None (the default), a mapping as the study declaration writes it, an
        object with the same attributes (the Study's policy), or a DisclosurePolicy; ``k``
        overrides ``min_cell`` when given (``--min-cell``)."""
        if policy is None:
            out = cls()
        elif isinstance(policy, cls):
            out = policy
        else:
            get = (policy.get if isinstance(policy, Mapping)
                   else lambda name, default=None: getattr(policy, name, default))
            # protection_respondents: as_dict()'s derived levels (a round trip reads them back)
            unknown = (set(policy) - {"min_cell", "protection", "zeros", "full_cells", "dominance",
                                      "protection_respondents"}
                       if isinstance(policy, Mapping) else set())
            if unknown:
                raise DisclosureError(f"disclosure: unknown key(s) {sorted(unknown)}; known: "
                                      "min_cell, protection, zeros, full_cells, dominance")
            prot = get("protection", None)
            if prot is None:
                lower = upper = DEFAULT_PROTECTION
            elif isinstance(prot, Mapping):
                lower, upper = prot.get("lower", DEFAULT_PROTECTION), prot.get("upper", DEFAULT_PROTECTION)
            elif isinstance(prot, (tuple, list)) and len(prot) == 2:
                lower, upper = prot
            elif hasattr(prot, "lower"):
                lower, upper = prot.lower, prot.upper
            else:
                lower = upper = prot
            dominance = get("dominance", None)
            if isinstance(dominance, Mapping):
                dominance = (dominance.get("n"), dominance.get("k", dominance.get("percent")))
            out = cls(min_cell=get("min_cell", DEFAULT_K) if get("min_cell", None) is not None else DEFAULT_K,
                      lower=lower, upper=upper, zeros=get("zeros", "publish") or "publish",
                      full_cells=get("full_cells", "publish") or "publish",
                      dominance=tuple(dominance) if dominance else None)
        return out.with_k(k) if k is not None else out


def primary_mask(counts: pd.DataFrame, k: int = DEFAULT_K, suppress_zeros: bool = False) -> pd.DataFrame:
    """Cells that the threshold rule suppresses: 1 to k-1 respondents (and 0 if ``suppress_zeros``).

    Example
    -------
    >>> t = pd.DataFrame({"a": [1, 7], "b": [0, 5]})
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


def full_cell_mask(full: pd.DataFrame, row_totals: bool = True, col_totals: bool = True) -> pd.DataFrame:
    """Interior cells that hold every respondent of their row or column (group disclosure).

    ``full`` is laid out as :func:`with_totals` lays it out. A line of one interior cell is not
    a disclosure (it is its own total).

    >>> t = with_totals(pd.DataFrame({"yes": [7, 3], "no": [0, 9]}, index=["GP", "PT"]))
    >>> full_cell_mask(t).to_numpy().tolist()   # all 7 GPs say yes; the only 9 "no" are PTs
    [[True, False, False], [False, True, False], [False, False, False]]
    """
    values = full.to_numpy(dtype=float)
    n_rows = values.shape[0] - int(col_totals)
    n_cols = values.shape[1] - int(row_totals)
    out = np.zeros(values.shape, dtype=bool)
    inner = values[:n_rows, :n_cols]
    if row_totals and n_cols > 1:
        out[:n_rows, :n_cols] |= (inner > 0) & (inner == values[:n_rows, [n_cols]])
    if col_totals and n_rows > 1:
        out[:n_rows, :n_cols] |= (inner > 0) & (inner == values[[n_rows], :n_cols])
    return pd.DataFrame(out, index=full.index, columns=full.columns)


def dominance_mask(contributions: Mapping, n: int = 2, percent: float = 85.0) -> dict:
    """(n, k) dominance rule for magnitude tables: a cell is sensitive when its ``n`` largest
    contributions make up more than ``percent`` % of its total.

    ``contributions`` maps each cell to the contributions (e.g. each practice's IT budget) it adds up.

    >>> dominance_mask({"a": [90, 5, 5], "b": [40, 30, 30]}, n=1, percent=85)
    {'a': True, 'b': False}
    """
    out = {}
    for cell, values in contributions.items():
        v = np.sort(np.asarray(values, dtype=float))[::-1]
        total = v.sum()
        out[cell] = bool(total > 0 and v[:n].sum() > percent / 100.0 * total)
    return out


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
    additivity equations restricted to the suppressed cells. (A necessary condition only: the
    protection levels of :func:`suppression_mask` also bound how *close* an attacker gets.)

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


def attacker_intervals(full: pd.DataFrame, mask: pd.DataFrame, row_totals: bool = True,
                       col_totals: bool = True) -> dict:
    """{(row, column): (low, high)} of every suppressed cell, as an attacker computes them.

    The attacker knows every published cell and total of ``full`` (laid out as
    :func:`with_totals`), that the table adds up and that counts are >= 0, and minimises and
    maximises each suppressed cell by linear programming (HiGHS). ``high`` is ``inf`` when
    nothing bounds the cell from above.

    >>> t = with_totals(pd.DataFrame({"a": [2, 10], "b": [9, 11]}, index=["x", "y"]))
    >>> m = t.map(lambda v: False); m.iloc[:2, :2] = True
    >>> attacker_intervals(t, m)[("x", "a")]
    (0.0, 11.0)
    """
    values = full.to_numpy(dtype=float)
    hidden = mask.to_numpy(dtype=bool).ravel()
    n_rows = values.shape[0] - int(col_totals)
    n_cols = values.shape[1] - int(row_totals)
    eqs = _equations(n_rows, n_cols, row_totals, col_totals)
    unknown = np.flatnonzero(hidden)
    a = values.ravel()
    out = {}
    if not unknown.size:
        return out
    if eqs.size:
        A = eqs[:, unknown]
        b = -eqs[:, ~hidden] @ a[~hidden]
        keep = np.abs(A).sum(axis=1) > 0
        A, b = A[keep], b[keep]
    else:
        A = b = None
    for pos, cell in enumerate(unknown):
        c = np.zeros(unknown.size)
        c[pos] = 1.0
        bounds_ = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=A if A is not None and len(A) else None,
                          b_eq=b if A is not None and len(A) else None, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                bounds_.append(-np.inf if sign > 0 else np.inf)
            elif res.status != 0:
                raise DisclosureError(f"attacker LP failed ({res.message}); the published table "
                                      "does not add up")
            else:
                bounds_.append(float(sign * res.fun) + 0.0)
        r, col = divmod(int(cell), values.shape[1])
        out[(full.index[r], full.columns[col])] = (round(bounds_[0], 9) + 0.0, round(bounds_[1], 9) + 0.0)
    return out


def sensitive_cells(full: pd.DataFrame, policy: DisclosurePolicy, row_totals: bool = True,
                    col_totals: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary-sensitive cells of a table with totals and their protection levels in respondents.

    Returns (sensitive mask, lower levels, upper levels), each shaped like ``full``. Small cells
    (1 to k-1) need ``lower`` below (at most down to 0) and ``upper`` above; suppressed zeros need
    ``upper`` above (the attacker must not prove the cell empty); full cells need 1 below (the
    attacker must not prove that every respondent of the line is in the cell).
    """
    values = full.to_numpy(dtype=float)
    small = primary_mask(full, policy.min_cell, suppress_zeros=False).to_numpy()
    lower = np.zeros(values.shape)
    upper = np.zeros(values.shape)
    lower[small] = np.minimum(policy.lower_level, values[small])
    upper[small] = policy.upper_level
    sensitive = small.copy()
    if policy.zeros == "suppress":
        zero = values == 0
        sensitive |= zero
        upper[zero] = max(policy.upper_level, 1)
    if policy.full_cells == "suppress":
        fullc = full_cell_mask(full, row_totals, col_totals).to_numpy()
        sensitive |= fullc
        lower[fullc] = np.maximum(lower[fullc], 1.0)
    return sensitive, lower, upper


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to flush (not on this platform)
        pass


@contextmanager
def _quiet_solver():
    """HiGHS' MIP solver (scipy 1.17) prints debugging lines through C stdio to file descriptor
    1, which a notebook kernel would show as output: send fd 1 to /dev/null while it runs, and
    flush C's buffer before giving fd 1 back."""
    sys.stdout.flush()
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 at all
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                _flush_c_stdio()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _cost(values: np.ndarray) -> np.ndarray:
    """What hiding each cell costs: its count (tau-Argus' "cell value" cost); a zero costs more
    than hiding the whole rest of the table (a complement of last resort: a reader may know it
    to be a structural zero). Ties are broken by reading order (adds < 1 in all)."""
    n = values.size
    cost = np.where(values > 0, values, values.sum() + 1.0)
    return cost + (np.arange(n) + 1.0) / (n * (n + 1.0))


def _optimal_pattern(values: np.ndarray, eqs: np.ndarray, sensitive: np.ndarray, lower: np.ndarray,
                     upper: np.ndarray, known: np.ndarray | None = None,
                     never: np.ndarray | None = None) -> np.ndarray:
    """The least-cost suppression pattern that gives every sensitive cell its protection levels
    (the mixed-integer program in the module docstring). ``values`` etc. are flattened;
    ``known`` cells cannot be complements, ``never`` cells are suppressed whatever it costs."""
    n = values.size
    if never is not None:
        sensitive_or_never = sensitive | never
    else:
        sensitive_or_never = sensitive
    grand = float(values.max()) if n else 0.0
    cost = _cost(values)
    big = 2.0 * grand + float(upper.max() if n else 0) + float(lower.max() if n else 0) + 1.0
    subproblems = [(p, "upper", upper[p]) for p in np.flatnonzero(sensitive) if upper[p] > 0]
    subproblems += [(p, "lower", lower[p]) for p in np.flatnonzero(sensitive) if lower[p] > 0]
    primary = sensitive_or_never.astype(float)
    if not subproblems or eqs.size == 0:
        return sensitive_or_never.copy()
    S = len(subproblems)
    m = eqs.shape[0]
    nvar = n + 2 * n * S
    E = sparse.csr_matrix(eqs)
    blocks, lo, hi = [], [], []

    def add(rows, low, high):
        blocks.append(rows)
        lo.extend(low)
        hi.extend(high)

    ident = sparse.identity(n, format="csr")
    for s, (p, kind, level) in enumerate(subproblems):
        f0 = n + 2 * n * s
        g0 = f0 + n
        # A (f - g) = 0
        rows = sparse.hstack([sparse.csr_matrix((m, f0)), E, -E, sparse.csr_matrix((m, nvar - g0 - n))])
        add(rows, [0.0] * m, [0.0] * m)
        # f_i - M y_i <= 0 ; g_i - a_i y_i <= 0
        rows = sparse.hstack([-big * ident, sparse.csr_matrix((n, f0 - n)), ident,
                              sparse.csr_matrix((n, nvar - f0 - n))])
        add(rows, [-np.inf] * n, [0.0] * n)
        rows = sparse.hstack([-sparse.diags(values), sparse.csr_matrix((n, g0 - n)), ident,
                              sparse.csr_matrix((n, nvar - g0 - n))])
        add(rows, [-np.inf] * n, [0.0] * n)
        # the sensitive cell moves by its protection level
        row = np.zeros(nvar)
        sign = 1.0 if kind == "upper" else -1.0
        row[f0 + p], row[g0 + p] = sign, -sign
        add(sparse.csr_matrix(row), [float(level)], [np.inf])
    A = sparse.vstack(blocks, format="csr")
    c = np.concatenate([cost, np.zeros(2 * n * S)])
    integrality = np.concatenate([np.ones(n), np.zeros(2 * n * S)])
    lb = np.concatenate([primary, np.zeros(2 * n * S)])
    ub = np.concatenate([np.ones(n), np.full(2 * n * S, np.inf)])
    if known is not None:  # published elsewhere: cannot be a complement (a sensitive cell still hides)
        ub[:n][known & ~sensitive] = 0.0
    with _quiet_solver():
        res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=integrality,
                   bounds=Bounds(lb, ub), options={"mip_rel_gap": 0.0})
    if res.status != 0 or res.x is None:
        return np.ones(n, dtype=bool)  # cannot happen (suppressing everything protects), but safe
    return (res.x[:n] > 0.5) | sensitive_or_never


def suppression_mask(counts: pd.DataFrame, k: int | None = None, row_totals: bool = True,
                     col_totals: bool = True, suppress_zeros: bool = False, policy=None,
                     name: str | None = None, published: pd.DataFrame | None = None,
                     hidden: pd.DataFrame | None = None, exempt: pd.DataFrame | None = None) -> pd.DataFrame:
    """Primary plus secondary suppression for a count table and the totals published with it.

    Returns a boolean frame laid out as ``with_totals(counts, row_totals, col_totals)``: True
    means "do not publish". Totals below ``k`` are suppressed like any cell. The pattern is the
    cheapest that gives every sensitive cell the policy's protection levels (module docstring);
    ``policy`` is a :class:`DisclosurePolicy` or a mapping (default: k = 5, 30 % of k = 2
    respondents each way); ``k`` overrides its ``min_cell``; ``suppress_zeros`` its ``zeros``.
    ``name`` labels the table in the disclosure audit's record (see surveydata.report.disclosure_audit).
    ``published`` (booleans, rows and columns of the table or of its totals) marks cells that
    another table publishes anyway: they are never chosen as complements (tau-Argus' status
    "safe, must be published"). ``hidden`` (booleans, same layout) marks cells that are never
    published (counts the page does not show, or that another table suppresses): they are
    suppressed here whatever they cost, and the other cells protect them if they are sensitive.
    ``exempt`` (same layout) marks cells that need no protection in this table because other
    published tables give their value away anyway (e.g. an item's non-answers in all: the
    number of respondents minus the item's n).

    Example
    -------
    >>> t = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
    >>> m = suppression_mask(t, k=5)
    >>> int(m.to_numpy().sum())   # the 2, its row partner, and a rectangle to protect both
    4
    """
    pol = DisclosurePolicy.from_any(policy, k)
    if suppress_zeros:
        pol = DisclosurePolicy(pol.min_cell, pol.lower, pol.upper, "suppress", pol.full_cells, pol.dominance)
    full = with_totals(counts, row_totals, col_totals)
    values = full.to_numpy(dtype=float)
    sensitive, lower, upper = sensitive_cells(full, pol, row_totals, col_totals)
    if exempt is not None:
        sensitive = sensitive & ~(exempt.reindex(index=full.index, columns=full.columns).fillna(False)
                                  .to_numpy(dtype=bool))
    eqs = _equations(values.shape[0] - int(col_totals), values.shape[1] - int(row_totals),
                     row_totals, col_totals)
    known = never = None
    if published is not None:
        known = (published.reindex(index=full.index, columns=full.columns).fillna(False)
                 .to_numpy(dtype=bool).ravel())
    if hidden is not None:
        never = (hidden.reindex(index=full.index, columns=full.columns).fillna(False)
                 .to_numpy(dtype=bool).ravel())
        if known is not None:
            known = known & ~never
    flat = _optimal_pattern(values.ravel(), eqs, sensitive.ravel(), lower.ravel(), upper.ravel(), known,
                            never)
    mask = pd.DataFrame(flat.reshape(values.shape), index=full.index, columns=full.columns)
    if os.environ.get(RECORD_ENV):
        record_table(full, mask, row_totals, col_totals, pol, name=name,
                                      sensitive=sensitive)
    return mask


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


def protect_counts(counts: pd.DataFrame, k: int | None = None, row_totals: bool = True,
                   col_totals: bool = True, suppress_zeros: bool = False,
                   marker: str = MARKER, policy=None, name: str | None = None) -> pd.DataFrame:
    """A publishable count table: totals added, small cells and their complements suppressed.

    Example
    -------
    >>> t = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
    >>> protect_counts(t).loc["x"].tolist()
    ['•', '•', '11']
    """
    mask = suppression_mask(counts, k, row_totals, col_totals, suppress_zeros, policy=policy, name=name)
    return apply_mask(with_totals(counts, row_totals, col_totals), mask, marker)


def safe_crosstab(df: pd.DataFrame, row: str, col: str, k: int | None = None,
                  marker: str = MARKER, policy=None) -> pd.DataFrame:
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
    return protect_counts(counts, k, marker=marker, policy=policy, name=f"{row} x {col}")


def suppress_small_domains(estimates: pd.DataFrame, n: pd.Series, k: int | None = None,
                           marker: str = MARKER, policy=None) -> pd.DataFrame:
    """Estimates (one row per domain) with rows of domains of fewer than ``k`` respondents masked.

    ``n`` holds the unweighted respondent count of each row's domain, indexed like
    ``estimates``. Masked rows show ``marker`` in every column; the other rows keep their values.

    Example
    -------
    >>> e = pd.DataFrame({"estimate": [0.5, 0.25]}, index=["a", "b"])
    >>> suppress_small_domains(e, pd.Series({"a": 40, "b": 3}))["estimate"].tolist()
    [0.5, '•']
    """
    k = DisclosurePolicy.from_any(policy, k).min_cell
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


# ---------------------------------------------------------------------------------------------
# the record of a published table, for the attacker's audit (surveydata.report.disclosure_audit)

def _record_label(value) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _record_key(parts: dict) -> str:
    return json.dumps({str(k): _record_label(v) for k, v in sorted(parts.items())}, ensure_ascii=False,
                      sort_keys=True)


def table_record(full: pd.DataFrame, mask: pd.DataFrame, row_totals: bool, col_totals: bool,
                 policy, name: str | None = None, sensitive=None) -> dict:
    """One published table as the audit reads it (JSON-ready; holds true values: never publish).

    ``full`` is laid out as :func:`with_totals`; ``mask`` is True where a
    cell is suppressed. ``full.attrs["given"]`` (a mapping, e.g. ``{"smoker": "yes"}``) names
    the domain a table is restricted to, so that its cells link to the same counts elsewhere. A table of one column without a total column is a one-way table of its
    row variable: its cells are keyed by the row variable alone (so they link to the same
    margin published elsewhere).
    """
    pol = DisclosurePolicy.from_any(policy)
    values = full.to_numpy(dtype=float)
    hidden = mask.to_numpy(dtype=bool)
    if sensitive is None:
        sensitive = sensitive_cells(full, pol, row_totals, col_totals)[0]
    n_rows = values.shape[0] - int(col_totals)
    n_cols = values.shape[1] - int(row_totals)
    row_var = str(full.index.name) if full.index.name is not None else "row"
    col_var = str(full.columns.name) if full.columns.name is not None else "column"
    one_way = n_cols == 1 and not row_totals
    full_cells = full_cell_mask(full, row_totals, col_totals).to_numpy()

    given = dict(full.attrs.get("given", {}))  # the domain all cells are counted in

    def key(i, j):
        parts = dict(given)
        if i < n_rows:
            parts[row_var] = full.index[i]
        if j < n_cols and not one_way:
            parts[col_var] = full.columns[j]
        return _record_key(parts)

    cells, index = [], {}
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            kind = ("small" if 0 < v < pol.min_cell else "zero" if v == 0 else
                    "full" if full_cells[i, j] else None) if sensitive[i, j] else None
            index[(i, j)] = len(cells)
            cells.append({"row": _record_label(full.index[i]), "column": _record_label(full.columns[j]),
                          "key": key(i, j), "value": float(v), "suppressed": bool(hidden[i, j]),
                          "sensitive": kind, "total": i >= n_rows or j >= n_cols})
    relations = []
    if row_totals:
        for i in range(values.shape[0]):
            relations.append([index[(i, n_cols)], [index[(i, j)] for j in range(n_cols)]])
    if col_totals:
        for j in range(values.shape[1]):
            relations.append([index[(n_rows, j)], [index[(i, j)] for i in range(n_rows)]])
    title = name or (row_var if one_way else f"{row_var} x {col_var}")
    return {"table": title, "cells": cells, "relations": relations, "policy": pol.as_dict()}


def record_table(full, mask, row_totals, col_totals, policy, name=None, sensitive=None) -> None:
    """Append the table's record to the file named by ``RECORD_ENV`` (if set): one JSON line."""
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    rec = table_record(full, mask, row_totals, col_totals, policy, name, sensitive)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
