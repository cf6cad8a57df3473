"""Write CSV files that are safe to open in a spreadsheet (no formula injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel/LibreOffice (OWASP "CSV injection"). Free-text answers are data and are kept
verbatim in the frames; only when written to CSV is such a cell prefixed with ``'``, which
spreadsheets show as text. Plain numbers such as ``-7`` or ``+3.5`` cannot be formulas and are
left alone, so that missing codes stay readable.
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["neutralise", "neutralise_frame", "write_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")


def neutralise(value):
    """Prefix a text cell with ``'`` when a spreadsheet would evaluate it.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-7"), neutralise("ok")
    ('\\'=HYPERLINK("http://x")', '-7', 'ok')
    """
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell neutralised (numbers and categories' codes untouched).

    >>> neutralise_frame(pd.DataFrame({"t": ["@SUM(A1)", "x"]}))["t"].tolist()
    ["'@SUM(A1)", 'x']
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            continue
        text = s.astype("str")
        risky = text.str.startswith(_TRIGGERS).fillna(False).to_numpy(dtype=bool)
        if not risky.any():
            continue
        values = s.to_numpy(dtype=object).copy()
        values[risky] = [neutralise(v) for v in values[risky]]
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


def write_csv(df: pd.DataFrame, path, **kwargs) -> None:
    """``df.to_csv`` after `neutralise_frame`, UTF-8, no index (unless asked).

    >>> write_csv(pd.DataFrame({"t": ["=1+1"]}), "quarantine.csv")   # doctest: +SKIP
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("encoding", "utf-8")
    kwargs.setdefault("lineterminator", "\n")
    neutralise_frame(df).to_csv(path, **kwargs)


