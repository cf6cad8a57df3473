"""Model matrices from statsmodels-style formulas.

The formula engine is pinned to patsy: it is the engine statsmodels 0.15 selects by default when
patsy is installed (``statsmodels.formula.options.formula_engine == "patsy"``), so the column names
are exactly those ``statsmodels.formula.api.glm`` writes (``Intercept``, ``C(size)[T.large]``,
``a:b``). Pinning it here keeps the names stable if a user switches statsmodels' global option.

Rows with a missing value in any model variable are left out of the fit (as R's ``na.omit``) but
are reported in ``complete`` so the caller can give them zero influence while they keep their PSU.
"""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy


@dataclass(frozen=True)
class ModelFrame:
    """Response, design matrix and bookkeeping of one formula evaluated on one data frame."""

    formula: str
    y: np.ndarray                 # (n_used,) response (0/1 for a factor response of a binary model)
    X: np.ndarray                 # (n_used, p) design matrix
    names: list[str]              # column names of X, as statsmodels writes them
    complete: np.ndarray          # (n,) bool: row has no missing value in any model variable
    design_info: patsy.DesignInfo  # right-hand side, to build X for new data
    response: str                 # the left-hand side as written
    response_levels: tuple | None = None  # levels of a factor response (failure first for binary)
    terms: dict[str, list[str]] = field(default_factory=dict)  # term name -> its columns

    @property
    def has_intercept(self) -> bool:
        return "Intercept" in self.names


def _split(formula: str) -> tuple[str, str]:
    if formula.count("~") != 1:
        raise ValueError(f"formula {formula!r}: expected exactly one '~' (response ~ predictors)")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise ValueError(f"formula {formula!r}: the response (left of '~') is missing")
    return lhs, rhs


def _response_column(lhs: str, data: pd.DataFrame) -> str | None:
    """The data column a left-hand side names directly (``y`` or ``Q("y.name")``), else None."""
    if lhs in data.columns:
        return lhs
    for quote in ('"', "'"):
        if lhs.startswith(f"Q({quote}") and lhs.endswith(f"{quote})") and lhs[3:-2] in data.columns:
            return lhs[3:-2]
    return None


def model_frame(formula: str, data: pd.DataFrame, eval_env: patsy.EvalEnvironment,
                response: str = "numeric") -> ModelFrame:
    """Evaluate ``formula`` on ``data``.

    response: "numeric" (one numeric column), "binary" (numeric 0/1 .. or a two-level factor coded
    as R does: the first level is failure, the second success), "ordinal" (an ordered categorical or
    integer codes; y is returned as 0-based level index).

    >>> import pandas as pd, patsy
    >>> df = pd.DataFrame({"y": [1.0, 2.0, None], "x": [0.5, 1.5, 2.5]})
    >>> mf = model_frame("y ~ x", df, patsy.EvalEnvironment.capture())
    >>> mf.names, mf.complete.tolist()
    (['Intercept', 'x'], [True, True, False])
    """
    lhs, _ = _split(formula)
    if "offset(" in formula.replace(" ", ""):
        raise ValueError(f"formula {formula!r}: give an offset with the offset= argument (a column "
                         "name or an array), not as offset() in the formula")
    data = data.reset_index(drop=True)       # positions, whatever the caller's index was
    present, data = _numpy_columns(formula, data)
    try:
        Y, X = patsy.dmatrices(formula, data, eval_env=eval_env, NA_action="drop",
                               return_type="dataframe")
    except patsy.PatsyError as err:
        raise ValueError(f"formula {formula!r} could not be evaluated on the design's data: {err}") from err
    complete = np.zeros(len(present), dtype=bool)
    complete[np.flatnonzero(present)[X.index.to_numpy()]] = True
    levels = None
    col = _response_column(lhs, data)
    if response == "ordinal":
        kept = np.zeros(len(data), dtype=bool)       # rows of (the possibly filtered) data kept
        kept[X.index.to_numpy()] = True
        y, levels = _ordinal_response(formula, lhs, col, data, kept)
    elif Y.shape[1] == 1:
        y = Y.iloc[:, 0].to_numpy(dtype=float)
        if response == "binary" and not np.all((y >= 0) & (y <= 1)):
            bad = np.flatnonzero((y < 0) | (y > 1))[0]
            raise ValueError(f"formula {formula!r}: a binomial response must lie in [0, 1]; "
                             f"row {X.index[bad]} has {lhs} = {y[bad]!r}")
    elif response == "binary" and Y.shape[1] == 2:
        # patsy expands a two-level factor into one indicator per level, in level order. R codes
        # a factor response as 'first level = failure', so success is the second column.
        y = Y.iloc[:, 1].to_numpy(dtype=float)
        levels = tuple(str(c) for c in Y.columns)
    else:
        raise ValueError(f"formula {formula!r}: the response {lhs!r} expands to {Y.shape[1]} columns "
                         f"{list(Y.columns)}; expected one numeric column"
                         + (" or a two-level factor" if response == "binary" else ""))
    names = list(X.columns)
    terms = {name: names[sl] for name, sl in X.design_info.term_name_slices.items()}
    return ModelFrame(formula=formula, y=y, X=X.to_numpy(dtype=float), names=names,
                      complete=complete, design_info=X.design_info, response=lhs,
                      response_levels=levels, terms=terms)


def formula_columns(formula: str, columns) -> list[str]:
    """Data columns a formula reads: the names in its factors' code and Q("...") strings."""
    desc = patsy.ModelDesc.from_formula(formula)
    found = []
    for term in desc.lhs_termlist + desc.rhs_termlist:
        for factor in term.factors:
            for tok in tokenize.generate_tokens(io.StringIO(factor.code).readline):
                if tok.type == tokenize.NAME:
                    found.append(tok.string)
                elif tok.type == tokenize.STRING:
                    found.append(ast.literal_eval(tok.string))
    cols = set(columns)
    return [c for c in dict.fromkeys(found) if c in cols]


def _numpy_columns(formula: str, data: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows with every model column present, and those rows with dtypes patsy understands.

    patsy cannot read pandas' nullable dtypes (Int64, Float64, boolean, string with pd.NA), which
    validated survey frames use. Rows with a missing value in a model column are left out here
    (patsy would drop them anyway), so that nullable integers can become int64 (``C(x)`` then
    keeps its level names, ``C(x)[T.2]``, as on an int64 column); nullable floats and booleans
    become float64 (a boolean enters as a numeric 0/1 column) and strings object.
    """
    cols = formula_columns(formula, data.columns)
    present = ~data[cols].isna().any(axis=1).to_numpy() if cols else np.ones(len(data), dtype=bool)
    convert = {}
    for c in cols:
        dt = data[c].dtype
        if isinstance(dt, pd.CategoricalDtype) or not isinstance(dt, pd.api.extensions.ExtensionDtype):
            continue
        if pd.api.types.is_bool_dtype(dt) or pd.api.types.is_float_dtype(dt):
            convert[c] = "float64"
        elif pd.api.types.is_integer_dtype(dt):
            convert[c] = "int64"
        elif pd.api.types.is_string_dtype(dt) and dt.na_value is pd.NA:
            convert[c] = object
    if present.all() and not convert:
        return present, data
    out = data[present].reset_index(drop=True)
    return present, out.astype(convert) if convert else out


def _ordinal_response(formula, lhs, col, data, complete):
    if col is None:
        raise ValueError(f"formula {formula!r}: an ordinal response must be a column of the data "
                         f"(an ordered categorical or integer codes), got the expression {lhs!r}")
    s = data[col][complete]
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.dtype.ordered:
            raise ValueError(f"column {col!r}: an ordinal response must be an *ordered* categorical "
                             f"(its categories {list(s.dtype.categories)} have no declared order)")
        levels = tuple(s.dtype.categories)
        codes = s.cat.codes.to_numpy()
    elif pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=float)
        if not np.all(values == np.round(values)):
            raise ValueError(f"column {col!r}: an ordinal response given as numbers must be integer codes")
        uniq = np.unique(values)
        levels = tuple(int(v) for v in uniq)
        codes = np.searchsorted(uniq, values)
    else:
        raise ValueError(f"column {col!r} has dtype {s.dtype}: an ordinal response must be an ordered "
                         "categorical or integer codes (text sorts alphabetically, not by order)")
    counts = np.bincount(codes, minlength=len(levels))
    if len(levels) < 3:
        raise ValueError(f"column {col!r}: an ordinal response needs at least 3 levels, got {list(levels)}")
    if np.any(counts == 0):
        empty = [levels[i] for i in np.flatnonzero(counts == 0)]
        raise ValueError(f"column {col!r}: level(s) {empty} have no observation among the complete rows; "
                         "drop unused categories (cat.remove_unused_categories) first")
    return codes.astype(float), levels


def new_design_matrix(mf: ModelFrame, newdata: pd.DataFrame) -> np.ndarray:
    """X for new data with the fitted model's coding (factor levels, contrasts, transforms)."""
    try:
        (X,) = patsy.build_design_matrices([mf.design_info], newdata, NA_action="raise",
                                           return_type="dataframe")
    except patsy.PatsyError as err:
        raise ValueError(f"newdata cannot be coded like the fitted model {mf.formula!r}: {err}") from err
    return X.to_numpy(dtype=float)
