"""Write CSV files that are safe to open in a spreadsheet (no formula injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel/LibreOffice (OWASP "CSV injection"). The same holds for every *line* of a cell:
a reader that breaks records on a lone CR (old Mac line ends, some importers) or that is handed
an unquoted LF starts a new row with what follows it, so ``x\\r=1+1`` must not reach the file as
it is. Free-text answers are data and are kept verbatim in the frames; only when written to CSV

* every line of a text cell (the cell's start, and after each CR, LF or CRLF) that starts with a
  trigger is prefixed with ``'``, which spreadsheets show as text; plain numbers such as ``-7``
  or ``+3.5`` cannot be formulas and are left alone, so that missing codes stay readable;
* every cell that contains a line break is quoted (Python's csv module quotes a cell holding the
  line terminator, LF, but not one holding only a CR: when any cell holds a CR, the file is
  written with every text cell quoted).
"""
from __future__ import annotations

import csv
import re

import pandas as pd

__all__ = ["neutralise", "neutralise_frame", "write_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")
_BREAK = re.compile(r"(\r\n|\r|\n)")
_RISKY = r"(?:^|[\r\n])[=+\-@\t\r]"  # a trigger at the start of the cell or of any line in it


def _neutralise_line(line: str) -> str:
    if line.startswith(_TRIGGERS[:-1]) and not _PLAIN_NUMBER.fullmatch(line):
        return "'" + line
    return line


def neutralise(value):
    """Prefix the cell, and every line inside it, with ``'`` where a spreadsheet would evaluate it.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-7"), neutralise("ok")
    ('\\'=HYPERLINK("http://x")', '-7', 'ok')
    >>> neutralise("x\\r=1+1"), neutralise("a\\r\\n@SUM(A1)\\n-7"), neutralise("\\r=x")
    ("x\\r'=1+1", "a\\r\\n'@SUM(A1)\\n-7", "'\\r'=x")
    """
    if not isinstance(value, str):
        return value
    parts = _BREAK.split(value)  # lines at even positions, the breaks between them at odd ones
    parts[::2] = [_neutralise_line(p) for p in parts[::2]]
    out = "".join(parts)
    if value.startswith(("\r", "\n")):  # a cell starting with a line break: mark the cell too
        out = "'" + out
    return out


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell neutralised (numbers and categories' codes untouched).

    >>> neutralise_frame(pd.DataFrame({"t": ["@SUM(A1)", "x", "ok\\n+1+1"]}))["t"].tolist()
    ["'@SUM(A1)", 'x', "ok\\n'+1+1"]
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            continue
        text = s.astype("str")
        risky = text.str.contains(_RISKY, regex=True).fillna(False).to_numpy(dtype=bool)
        if not risky.any():
            continue
        values = s.to_numpy(dtype=object).copy()
        values[risky] = [neutralise(v) for v in values[risky]]
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


def _has_cr(df: pd.DataFrame) -> bool:
    for col in df.columns:
        s = df[col]
        text = pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
        if text and s.astype("str").str.contains("\r", regex=False).fillna(False).any():
            return True
    return False


def write_csv(df: pd.DataFrame, path, **kwargs) -> None:
    """``df.to_csv`` after `neutralise_frame`, UTF-8, no index (unless asked), LF line ends,
    every cell holding a line break quoted.

    >>> write_csv(pd.DataFrame({"t": ["=1+1"]}), "quarantine.csv")   # doctest: +SKIP
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("encoding", "utf-8")
    kwargs.setdefault("lineterminator", "\n")
    safe = neutralise_frame(df)
    if _has_cr(safe):
        kwargs["quoting"] = csv.QUOTE_NONNUMERIC
    safe.to_csv(path, **kwargs)
