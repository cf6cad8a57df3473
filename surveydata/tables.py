"""Publishable tables: estimates rounded and formatted with their CIs, codes replaced by labels,
and cells based on too few respondents suppressed (see `surveydata.disclosure`).

These helpers only present numbers that the analysis produced; they compute no statistic.
Formatting to text with a fixed number of digits keeps notebook outputs stable for nbval.

Example
-------
>>> import pandas as pd
>>> est = pd.DataFrame({"estimate": [0.3124], "se": [0.01], "ci_low": [0.2931], "ci_high": [0.3322]},
...                    index=["fully"])
>>> ci_table(est, lang="en").iloc[0].tolist()
['31.2', '29.3–33.2']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from surveydata.disclosure import DEFAULT_K, MARKER
from surveydata.i18n import check_lang, t

DASH = "–"


def _fmt(x: np.ndarray, scale: float, digits: int) -> np.ndarray:
    vals = np.asarray(x, dtype=float) * scale
    return np.array([("" if np.isnan(v) else f"{v:.{digits}f}") for v in vals], dtype=object)


def ci_table(est: pd.DataFrame, lang: str = "en", percent: bool = True, digits: int = 1,
             n: pd.Series | None = None, k: int = DEFAULT_K, marker: str = MARKER) -> pd.DataFrame:
    """Estimate and 95% CI as text columns, optionally with the respondent count ``n``.

    Rows whose ``n`` is below ``k`` show ``marker`` instead of numbers (the count included).

    >>> est = pd.DataFrame({"estimate": [0.5, 0.2], "ci_low": [0.4, 0.1], "ci_high": [0.6, 0.3]},
    ...                    index=["a", "b"])
    >>> ci_table(est, n=pd.Series({"a": 120, "b": 3}), lang="de").loc["b"].tolist()
    ['•', '•', '•']
    """
    check_lang(lang)
    scale = 100.0 if percent else 1.0
    est_text = _fmt(est["estimate"], scale, digits)
    lo, hi = _fmt(est["ci_low"], scale, digits), _fmt(est["ci_high"], scale, digits)
    ci = np.where((lo == "") | (hi == ""), "", lo + DASH + hi)
    out = pd.DataFrame({t("share_pct" if percent else "estimate", lang): est_text,
                        t("ci", lang): ci}, index=est.index)
    if n is not None:
        counts = n.reindex(est.index)
        if counts.isna().any():
            raise ValueError(f"no respondent count for rows {list(counts.index[counts.isna()])}")
        out[t("n", lang)] = counts.astype(int).astype(str).to_numpy()
        out.loc[(counts < k).to_numpy(), :] = marker
    return out


def ci_cells(est: pd.DataFrame, percent: bool = True, digits: int = 1) -> pd.Series:
    """One text per row: ``estimate (low–high)``, e.g. ``31.2 (29.3–33.2)``.

    >>> est = pd.DataFrame({"estimate": [0.312], "ci_low": [0.293], "ci_high": [0.332]})
    >>> ci_cells(est).tolist()
    ['31.2 (29.3–33.2)']
    """
    scale = 100.0 if percent else 1.0
    e = _fmt(est["estimate"], scale, digits)
    lo, hi = _fmt(est["ci_low"], scale, digits), _fmt(est["ci_high"], scale, digits)
    text = np.where(e == "", "", e + " (" + lo + DASH + hi + ")")
    return pd.Series(text, index=est.index, dtype=object)


def wide(est: pd.DataFrame, columns: str, percent: bool = True, digits: int = 1,
         n: pd.Series | None = None, k: int = DEFAULT_K, marker: str = MARKER) -> pd.DataFrame:
    """Domain estimates as a wide text table: the index level ``columns`` becomes the columns.

    ``n`` (indexed like ``est``) holds each cell's respondent count; cells below ``k`` show
    ``marker``.

    >>> idx = pd.MultiIndex.from_tuples([("GP", "fully"), ("PT", "fully")], names=["type", "level"])
    >>> est = pd.DataFrame({"estimate": [0.3, 0.2], "ci_low": [0.2, 0.1], "ci_high": [0.4, 0.3]}, index=idx)
    >>> wide(est, "type", n=pd.Series([50, 4], index=idx)).loc["fully"].tolist()
    ['30.0 (20.0–40.0)', '•']
    """
    cells = ci_cells(est, percent, digits)
    if n is not None:
        counts = n.reindex(est.index)
        if counts.isna().any():
            raise ValueError(f"no respondent count for cells {list(counts.index[counts.isna()])}")
        cells = cells.where(~(counts < k).to_numpy(), marker)
    table = cells.unstack(columns)
    table.columns.name = None
    return table


def label_index(frame: pd.DataFrame, inst, lang: str = "en", variables: dict | None = None) -> pd.DataFrame:
    """Codes in the index replaced by the instrument's answer labels, variable names by item texts.

    Index levels named like an instrument item get that item's labels; a ``level`` level next
    to a ``variable`` level gets the labels of the row's variable; a ``variable`` level gets
    ``variables[name]`` if given (short names for long question texts), else the name.

    >>> label_index(pd.DataFrame({"x": [1]}, index=pd.Index([4], name="practice_type")), inst, "en")  # doctest: +SKIP
    """
    check_lang(lang)
    variables = variables or {}
    names = list(frame.index.names)
    tuples = [i if isinstance(i, tuple) else (i,) for i in frame.index]

    def label(var, code):
        try:
            item = inst.item(var)
        except (KeyError, ValueError):
            return code
        try:
            return item.label(code, lang)
        except (KeyError, ValueError):
            return code

    new = []
    for tup in tuples:
        row = dict(zip(names, tup))
        out = []
        for name, value in zip(names, tup):
            if name == "level" and "variable" in row:
                out.append(label(row["variable"], value))
            elif name == "variable":
                out.append(variables.get(value, value))
            elif name is not None and _has_item(inst, name):
                out.append(label(name, value))
            else:
                out.append(value)
        new.append(tuple(out))
    index = (pd.MultiIndex.from_tuples(new, names=names) if len(names) > 1
             else pd.Index([n[0] for n in new], name=names[0]))
    result = frame.copy()
    result.index = index
    return result


def _has_item(inst, name: str) -> bool:
    try:
        inst.item(name)
    except (KeyError, ValueError):
        return False
    return True
