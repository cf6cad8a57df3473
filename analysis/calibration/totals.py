"""Population totals -> the calibration model matrix and its targets: R's ``model.matrix`` of a
calibration formula (:func:`model_matrix`, totals named after its columns) or totals given per
column (:func:`calibration_matrix`)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.calibration.cells import cell_codes
from analysis.calibration.errors import CalibrationError
from analysis.factors import factor_levels, is_categorical


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


def _r_level(level) -> str:
    """A level as R prints it in model-matrix names (logicals as TRUE/FALSE)."""
    if isinstance(level, (bool, np.bool_)):
        return "TRUE" if level else "FALSE"
    return str(level)


def _formula_terms(formula: str) -> tuple[list[tuple[str, ...]], bool]:
    """Terms of a calibration formula in R's order (by degree, then as written) and whether it
    has an intercept. ``a*b`` expands to ``a + b + a:b``; ``- 1`` / ``+ 0`` drop the intercept."""
    rhs = formula.split("~", 1)[-1]
    if any(op in rhs for op in ("^", "(", "|", "%in%", "/")):
        raise CalibrationError(
            f"calibration formula {formula!r}: only main effects and interactions (a:b, a*b) "
            "of columns are supported"
        )
    intercept = True
    terms: list[tuple[str, ...]] = []
    for raw in rhs.replace("-", "+-").split("+"):
        t = raw.strip()
        if not t:
            continue
        if t.replace(" ", "") in ("-1", "0", "-0"):
            intercept = False
        elif t == "1":
            intercept = True
        elif "*" in t:
            parts = [p.strip() for p in t.split("*")]
            for size in range(1, len(parts) + 1):
                terms += list(itertools.combinations(parts, size))
        else:
            terms.append(tuple(p.strip() for p in t.split(":")))
    unique = list(dict.fromkeys(terms))
    return sorted(unique, key=len), intercept   # sorted() is stable: as written within a degree


def numeric_column(data: pd.DataFrame, column: str) -> np.ndarray:
    if column not in data.columns:
        raise CalibrationError(f"variance column {column!r} is not in the data")
    v = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.all(np.isfinite(v)):
        rows = data.index[~np.isfinite(v)][:10].tolist()
        raise CalibrationError(f"variance column {column!r} is missing or not numeric at row(s) {rows}")
    return v


def model_matrix(data: pd.DataFrame, formula: str | Sequence[str]):
    """R's ``model.matrix`` for a calibration formula: intercept, treatment-coded factors and
    their interactions.

    ``formula``: ``"~ stype + api99"``, ``"~ stype * sch.wide"`` (= main effects + ``stype:sch.wide``)
    or a list of columns; ``- 1`` or ``+ 0`` drops the intercept. Categorical, string and boolean
    columns become indicators of every level but the first (all levels for the first factor
    without an intercept); names follow R (``stypeH``, ``sch.wideYes``, ``flagTRUE``,
    ``stypeH:sch.wideYes``). An interaction needs the main effect of each of its columns in the
    formula (hierarchical formulas, where R's coding is the product of the main effects' codings);
    its columns are those products, the first factor's levels varying fastest, as R's. Columns
    are ordered as R's (main effects, then interactions). Returns ``(X, names)``.

    >>> df = pd.DataFrame({"g": ["a", "b", "c"], "x": [1.0, 2.0, 4.0]})
    >>> model_matrix(df, "~ g + x")[1]
    ('(Intercept)', 'gb', 'gc', 'x')
    >>> model_matrix(df, "~ g * x")[1]
    ('(Intercept)', 'gb', 'gc', 'x', 'gb:x', 'gc:x')
    """
    if isinstance(formula, str):
        terms, intercept = _formula_terms(formula)
    else:
        terms, intercept = [(c,) for c in formula], True
    n = len(data)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        blocks.append(np.ones((n, 1)))
        names.append("(Intercept)")
    full_rank_done = intercept
    coded: dict[str, tuple[np.ndarray, list[str]]] = {}   # main effect -> its columns and names
    for term in terms:
        if len(term) > 1:
            absent = [c for c in term if c not in coded]
            if absent:
                raise CalibrationError(
                    f"calibration formula {formula!r}: the interaction {':'.join(term)} needs the "
                    f"main effect(s) {absent} in the formula too (write {'*'.join(term)})"
                )
            X, nm = coded[term[0]]
            for c in term[1:]:
                Xc, nmc = coded[c]
                # R: the first factor's columns vary fastest
                X = np.column_stack([X[:, i] * Xc[:, j] for j in range(Xc.shape[1])
                                     for i in range(X.shape[1])])
                nm = [f"{a}:{b}" for b in nmc for a in nm]
            blocks.append(X)
            names += nm
            continue
        (c,) = term
        if c not in data.columns:
            raise CalibrationError(f"calibration formula names {c!r}, not a column of the data")
        col = data[c]
        if col.isna().any():
            rows = data.index[col.isna().to_numpy()][:10].tolist()
            raise CalibrationError(
                f"calibration variable {c!r} has missing values at row(s) {rows}"
            )
        if is_categorical(col):
            levels = factor_levels(col)
            codes = pd.Index(levels).get_indexer(col.to_numpy(dtype=object))
            keep = levels if not full_rank_done else levels[1:]
            start = 0 if not full_rank_done else 1
            D = np.zeros((n, len(levels)))
            D[np.arange(n), codes] = 1.0
            block, block_names = D[:, start:], [f"{c}{_r_level(lv)}" for lv in keep]
            full_rank_done = True
        else:
            block, block_names = pd.to_numeric(col).to_numpy(dtype=np.float64)[:, None], [c]
        coded[c] = (block, block_names)
        blocks.append(block)
        names += block_names
    return np.hstack(blocks), tuple(names)


def population_totals(data: pd.DataFrame, totals, formula: str | Sequence[str] | None = None):
    """The calibration model matrix and its targets, ``(X, targets, names)``: from ``totals``
    per column (:func:`calibration_matrix`) without a formula, else from the model matrix of
    ``formula`` (:func:`model_matrix`) and ``totals`` keyed by its column names, every column
    given and nothing else.

    >>> df = pd.DataFrame({"g": ["a", "b", "b"], "x": [1.0, 2.0, 3.0]})
    >>> population_totals(df, {"(Intercept)": 12.0, "gb": 7.0, "x": 20.0}, "~ g + x")[1].tolist()
    [12.0, 7.0, 20.0]
    """
    if formula is None:
        return calibration_matrix(data, totals)
    X, names = model_matrix(data, formula)
    given = pd.Series(totals, dtype=np.float64)
    missing = [nm for nm in names if nm not in given.index]
    extra = [nm for nm in given.index if nm not in names]
    if missing or extra:
        raise CalibrationError(
            f"population totals do not match the model matrix of {formula!r}: "
            f"missing {missing}, not in the model {extra}; model columns are {list(names)}"
        )
    return X, given.loc[list(names)].to_numpy(), names
