"""From the raw coded frame to the analysis frame: labelled categoricals, nullable integers, and
the reason for every missing value kept beside it.

Representation (one choice for every item, so code downstream never guesses):

* the value column `<var>` holds answers only: a Categorical of the labels (ordered for Likert
  and for items marked `ordered`), `Int64` for counts, `boolean` for each multi-choice option
  column `<var>__<option>`, `str` for free text. Every missing code (-7, -8, -9) is NA there;
* the companion column `<var>__missing` (Categorical with the categories `not_applicable`,
  `dont_know`, `no_answer`, and `refused` between the last two when a format-2 instrument
  declares it: `Instrument.missing_categories`) says why a value is NA, and is NA where there is an answer. It exists
  for every item that can be missing (skip logic, -8 or -9 allowed); a multi-choice item has
  one for all its option columns.

Why: with NA in the value column every estimator excludes non-answers the same way (like R's
`na.rm`), means and ordinal models never see a "don't know" as a scale point, and yet nothing is
lost: "don't know" is an answer whose share can be estimated from `<var>__missing`, and -7 stays
distinguishable from a refusal. For tables that show "don't know" as a category, pass
`dont_know="category"`: the -8 label then becomes the last category of the value column (the
column is then unordered, since "don't know" is not a scale point); `<var>__missing` still says
`dont_know`.

Example:
    >>> import pandas as pd, schemas
    >>> inst = schemas.load_instrument()
    >>> raw = pd.DataFrame({"incident_12m": pd.array([1, 2, -8, -9], dtype="Int64")})
    >>> typed = to_typed(raw, inst, lang="en")
    >>> typed["incident_12m"].tolist()
    ['Yes', 'No', nan, nan]
    >>> typed["incident_12m__missing"].tolist()
    [nan, nan, 'dont_know', 'no_answer']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DeclarationError
from .instrument import Instrument, Item

__all__ = ["MISSING_CATEGORIES", "missing_column", "scores", "to_typed"]

MISSING_CATEGORIES = ("not_applicable", "dont_know", "no_answer")
_NA_CODE = -(2**31)


def missing_column(var: str) -> str:
    """Name of the missing-reason column of item `var`.

    Example:
        >>> missing_column("info_needs")
        'info_needs__missing'
    """
    return f"{var}__missing"


def _can_be_missing(item: Item) -> bool:
    return item.type != "text" and (item.ask_if is not None or bool(item.missing))


def _missing_reason(codes: np.ndarray, index, inst: Instrument) -> pd.Series:
    """Categorical reason from an (n,) or a (k, n) integer code array (any column decides)."""
    if codes.ndim == 2:
        # a multi-choice item is -7 or -9 in all its columns (the schema checks that): the
        # first column that is neither 0, 1 nor empty decides
        other = (codes != 0) & (codes != 1) & (codes != _NA_CODE)
        first = other.argmax(axis=0)
        codes = np.where(other.any(axis=0), codes[first, np.arange(codes.shape[1])], 0)
    categories = list(inst.missing_categories)
    position = np.full(codes.shape[-1], -1, dtype=np.int8)
    for code, name in inst.missing_set.items():
        if name in categories:
            position[codes == code] = categories.index(name)
    cat = pd.Categorical.from_codes(position, categories=categories)
    return pd.Series(cat, index=index)


def _check_codes(frame: pd.DataFrame, col: str, allowed) -> None:
    s = frame[col]
    bad = s.notna() & ~s.isin(list(allowed))
    if bad.any():
        row = bad.idxmax()
        value = s[row].item() if hasattr(s[row], "item") else s[row]
        raise ValueError(
            f"to_typed: column {col!r} holds {value!r} in row {row!r} (and {int(bad.sum()) - 1} "
            f"more), which is not one of its codes {sorted(allowed, key=str)}: validate first"
        )


def _labelled(frame: pd.DataFrame, item: Item, lang: str, dont_know: str) -> pd.Series:
    s = frame[item.var]
    missing_set = list(item.missing_set)
    missing_codes = [str(m) for m in missing_set] if item.string_codes else missing_set
    _check_codes(frame, item.var, [*item.codes, *missing_codes])
    codes = list(item.substantive_codes)
    labels = [item.codes[c].get(lang) for c in codes]
    ordered = item.ordered or item.rating
    dk = item.dont_know
    if dont_know == "category" and dk is not None and dk in item.codes:
        codes.append(dk)
        labels.append(item.codes[dk].get(lang))
        ordered = False
    # category position of each row by one vectorised comparison per code; -1 (NA) for the
    # missing codes and empty cells
    values = (
        s.to_numpy(dtype=object, na_value=None)
        if item.string_codes
        else (s.to_numpy(dtype="int64", na_value=_NA_CODE))
    )
    position = np.full(len(s), -1, dtype=np.int16)
    for k, code in enumerate(codes):
        position[values == code] = k
    cat = pd.Categorical.from_codes(position, categories=labels, ordered=ordered)
    return pd.Series(cat, index=frame.index, name=item.var)


def to_typed(
    frame: pd.DataFrame, inst: Instrument, lang: str = "de", dont_know: str = "missing"
) -> pd.DataFrame:
    """The analysis frame of a validated raw frame (see the module docstring for the layout).

    Columns: metadata (response_id str, submitted_at as UTC datetime, duration_s float), then
    every item in questionnaire order, each followed by its `<var>__missing` column when the item
    can be missing. Columns of `frame` that are not in the instrument are dropped. A value that
    is neither a code nor a missing code raises ValueError (naming column, value and row): the
    frame must have passed `response_schema` first.

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> raw = pd.DataFrame({"own_risk_high": pd.array([2, 5, -9], dtype="Int64")})
        >>> t = to_typed(raw, inst, lang="en")
        >>> t["own_risk_high"].cat.ordered, t["own_risk_high"].tolist()
        (True, ['Disagree', 'Strongly agree', nan])
    """
    if lang not in ("de", "en"):
        raise ValueError(f"lang must be 'de' or 'en', got {lang!r}")
    if dont_know not in ("missing", "category"):
        raise ValueError(f"dont_know must be 'missing' or 'category', got {dont_know!r}")
    out: dict[str, pd.Series] = {}
    for m in inst.metadata:
        if m.var not in frame.columns:
            continue
        s = frame[m.var]
        if m.type == "datetime":
            out[m.var] = pd.to_datetime(s, format="ISO8601", utc=True)
        elif m.type == "number":
            out[m.var] = s.astype("float64")
        else:
            out[m.var] = s.astype("str")
    for item in inst.items:
        if not set(item.columns) <= set(frame.columns):
            continue
        if item.type == "text":
            out[item.var] = frame[item.var].astype("str")
            continue
        missing_set = list(inst.missing_set)
        if item.type == "multi":
            for col in item.columns:
                _check_codes(frame, col, [0, 1, item.not_applicable, item.no_answer])
            matrix = np.vstack(
                [frame[c].to_numpy(dtype="int64", na_value=_NA_CODE) for c in item.columns]
            )
            for j, col in enumerate(item.columns):
                v = matrix[j]
                out[col] = pd.Series(
                    pd.arrays.BooleanArray(v == 1, (v != 0) & (v != 1)), index=frame.index
                )
        elif item.type == "integer" and inst.format == 1:
            s = frame[item.var].astype("Int64")
            bad = s.notna() & (s < 0) & ~s.isin(missing_set)
            if bad.any():
                _check_codes(frame, item.var, missing_set)
            out[item.var] = s.where(s >= 0)
            matrix = s.to_numpy(dtype="int64", na_value=_NA_CODE)
        elif item.type == "integer":
            s = frame[item.var].astype("Int64")
            out[item.var] = s.where(~s.isin(missing_set))
            matrix = s.to_numpy(dtype="int64", na_value=_NA_CODE)
        elif item.type == "number":
            x = frame[item.var].astype("float64")
            out[item.var] = x.where(~x.isin(missing_set))
            whole = x.where(x == x.round(), _NA_CODE)  # only whole values can be missing codes
            matrix = whole.fillna(_NA_CODE).to_numpy(dtype="int64")
        elif item.type in ("date", "datetime"):
            s = frame[item.var].astype("str")
            code_text = [str(c) for c in missing_set]
            answer = s.where(~s.isin(code_text))
            if item.type == "date":
                out[item.var] = pd.to_datetime(answer, format="%Y-%m-%d", errors="coerce")
            else:
                out[item.var] = pd.to_datetime(answer, format="ISO8601", utc=True, errors="coerce")
            codes = pd.to_numeric(s.where(s.isin(code_text)), errors="coerce")
            matrix = codes.fillna(0).to_numpy(dtype="int64")
        else:
            out[item.var] = _labelled(frame, item, lang, dont_know)
        if _can_be_missing(item):
            if item.type in ("multi", "integer", "number", "date", "datetime"):
                codes = matrix
            elif item.string_codes:
                s = frame[item.var]
                code_text = [str(c) for c in missing_set]
                codes = pd.to_numeric(s.where(s.isin(code_text)), errors="coerce")
                codes = codes.fillna(0).to_numpy(dtype="int64")
            else:
                codes = frame[item.var].to_numpy(dtype="int64", na_value=_NA_CODE)
            out[missing_column(item.var)] = _missing_reason(codes, frame.index, inst)
    return pd.DataFrame(out, index=frame.index)


def scores(frame: pd.DataFrame, inst: Instrument, items=None) -> pd.DataFrame:
    """Rating and other coded items of a typed frame as numbers: each labelled answer becomes its
    response code (labels in either language), NA stays NA - the scores a mean or a scale needs,
    in one call.

    ``items``: item names (default: every scale/likert item of the instrument in the frame).

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> raw = pd.DataFrame({"self_competence": pd.array([1, 5, -8], dtype="Int64")})
        >>> scores(to_typed(raw, inst, lang="en"), inst)["self_competence"].tolist()
        [1.0, 5.0, nan]
    """
    if items is None:
        items = [i.var for i in inst.items if i.type in ("likert5", "scale") and i.var in frame.columns]
    out = {}
    for var in items:
        item = inst.item(var)
        col = frame[var]
        lookup = {}
        for code, label in item.codes.items():
            if isinstance(code, (int, np.integer)) and code not in inst.missing_codes:
                for lang in ("de", "en"):
                    lookup[label.get(lang)] = float(code)
        values = col.astype(object).map(lookup)
        unknown = col.notna() & values.isna()
        if unknown.any():
            raise DeclarationError(f"{var}: {col[unknown].iloc[0]!r} is not a label of the item's "
                                   f"codes in instrument {inst.name!r}: were the data typed with "
                                   f"another instrument?")
        out[var] = values.astype(float)
    return pd.DataFrame(out, index=frame.index)
