"""The one value parser: export text -> typed raw values, per item kind, with problems as data.

Every place that turns the text of an export cell into a value uses these functions: the
validator (`surveydata.validate`), `schemas.coerce_raw` and the fieldwork form. They never raise
for bad data: each returns a `Parsed` with the values (NA where the text was bad or empty) and
a `problems` frame listing every bad cell with the reason.

API
---
parse_integer(text, column="value", decimal="auto", hint=None) -> Parsed   # codes, counts: Int64
parse_number(text, column="value", decimal="auto", hint=None) -> Parsed    # decimals, float64
parse_date(text, column="value", earliest=None, latest=None, codes=()) -> Parsed
parse_datetime(text, column="value", earliest=None, latest=None, codes=()) -> Parsed
parse_values(text, kind, **options) -> Parsed                      # dispatch on KINDS
detect_decimal(text) -> "," | "." | None                         # a column's decimal mark
Parsed.values    pandas Series, same index as `text`: Int64 (integer), float64 (number),
                 str (date: ISO ``YYYY-MM-DD``; datetime: the trimmed ISO text; a missing code
                 in a date column as its digits, e.g. ``"-9"`` or ``"99"``)
Parsed.problems  DataFrame, one row per bad cell: row (0-based position), value (the original
                 text), problem (a short kind, see PROBLEMS), message (one line naming the column)
Parsed.bad       bool numpy array, True in the rows listed in problems

Rules (one place, so validation, the API and the form agree)
------------------------------------------------------------
* Whitespace around a value is ignored; an empty (or all-blank) cell is missing (NA), never a
  problem here: whether an empty cell is allowed is the schema's business.
* Integers (codes and counts): an optional sign, ``+`` included (``"+3"`` is 3), and digits.
  A zero fraction is accepted, ``"4.0"``, ``"4,00"`` and ``"4."`` are 4 (spreadsheets write
  whole numbers that way when a column is formatted as a number); any other fraction
  (``"2,5"``), words (``"ca. 10"``) and exponents (``"1e3"``) are ``invalid``. More than 15
  significant digits is ``overflow`` (beyond what every consumer represents exactly).
* Decimal separator: ``decimal="auto"`` accepts a point or a comma (one of them, once);
  ``decimal=","`` or ``"."`` accepts only that one (the export's declared separator). A
  thousands separator is never accepted: with ``decimal=","``, ``"1.000"`` is ``invalid``, not
  1000. With ``decimal="auto"`` the separator is DETECTED per column (`detect_decimal`): when
  the column's unambiguous values (``"2,5"``, ``"0,125"``, ``"12,25"``) all use a comma, the
  column's decimal mark is the comma, likewise for the point. Only when nothing decides (or
  both marks occur), one to three digits (not starting with 0), a separator and exactly three
  digits (``"1.000"``, ``"2,500"``) is ``ambiguous`` (thousands grouping or decimals?): a wrong
  guess would silently change a value by a factor of 1000, so the fix is to declare the
  separator. `hint` (the mark detected over the whole export, e.g. from its other number
  columns) decides a column that cannot decide itself.
* Numbers (decimals): an optional sign, digits, at most one decimal separator (``"2,5"``,
  ``".5"``, ``"3."``); no exponent, no ``inf``/``nan`` words. A value whose magnitude does not
  fit a float (``"9" * 400``) is ``overflow``, never stored as inf.
* Dates, strictly: ISO ``YYYY-MM-DD`` or German ``DD.MM.YYYY`` (``D.M.YYYY`` too); nothing
  else (no ``03/04/2026``: day and month cannot be told apart). The date must exist (no
  2026-02-30) and lie in the plausible range, by default 1900-01-01 to 2100-12-31
  (``out_of_range``): ``0000-01-01`` is quarantined with that reason.
* Date-times, strictly ISO 8601: ``YYYY-MM-DD``, optionally ``THH:MM[:SS[.f]]`` (a space for
  the T is accepted) and ``Z`` or ``+HH:MM``; the same existence and range checks.
* ``codes``: integer missing codes a date or date-time column may hold instead of a date
  (``-7``, ``-9``, ``99`` ...); they pass as their digits.

Example:
    >>> import pandas as pd
    >>> p = parse_integer(pd.Series(["+3", " 4.0 ", "2,5", "", "9" * 20]), column="n")
    >>> p.values.tolist()
    [3, 4, <NA>, <NA>, <NA>]
    >>> p.problems[["row", "problem"]].values.tolist()
    [[2, 'invalid'], [4, 'overflow']]
    >>> parse_number(pd.Series(["2,5", "1e3"]), column="hours", decimal=",").values.tolist()
    [2.5, nan]
    >>> parse_date(pd.Series(["2025-11-03", "3.11.2025", "0000-01-01"])).problems["problem"].tolist()
    ['out_of_range']
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DEFAULT_EARLIEST",
    "DEFAULT_LATEST",
    "KINDS",
    "MAX_DIGITS",
    "PROBLEMS",
    "Parsed",
    "detect_decimal",
    "parse_date",
    "parse_datetime",
    "parse_integer",
    "parse_number",
    "parse_values",
]

KINDS = ("integer", "number", "date", "datetime")
PROBLEMS = {
    "invalid": "the text is not a value of the column's kind",
    "overflow": "a number too large to store exactly (or at all)",
    "ambiguous": "1.000 / 2,500 with an undeclared decimal separator (thousands or decimals?)",
    "not_a_date": "not a date (or date-time) in an accepted format, or a day that does not exist",
    "out_of_range": "a date outside the plausible range",
}
MAX_DIGITS = 15
DEFAULT_EARLIEST = _dt.date(1900, 1, 1)
DEFAULT_LATEST = _dt.date(2100, 12, 31)
DECIMALS = ("auto", ",", ".")
PROBLEM_COLUMNS = ["row", "value", "problem", "message"]


@dataclass(frozen=True)
class Parsed:
    """Typed values of one column and the problems found (see the module docstring)."""

    values: pd.Series
    problems: pd.DataFrame

    @property
    def bad(self) -> np.ndarray:
        """True in the rows that have a problem."""
        out = np.zeros(len(self.values), dtype=bool)
        out[self.problems["row"].to_numpy(dtype=np.int64)] = True
        return out


# --------------------------------------------------------------------------- helpers


def _arrow_text(s: pd.Series) -> pa.Array:
    """The column as an arrow string array (zero-copy for pandas' arrow-backed ``str``)."""
    if s.dtype != "str":
        s = s.astype("str").where(s.notna())
    arr = s.array
    a = (
        pa.array(arr)
        if hasattr(arr, "__arrow_array__")
        else pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    )
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.cast(pa.string()) if a.type != pa.string() else a


def _mask(a) -> np.ndarray:
    return pc.fill_null(a, False).to_numpy(zero_copy_only=False).astype(bool)


def _matches(s: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.match_substring_regex(s, pattern))


def _problems(rows, original, kinds, messages) -> pd.DataFrame | None:
    """The problem rows as a frame, or None when there are none (most columns of most exports:
    building empty frames was most of the parsers' time). ``original`` is the column's text, an
    object array or the Series itself (read only here, for the rows with a problem)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return None
    if isinstance(original, pd.Series):
        original = original.iloc[rows].to_numpy(dtype=object)
    else:
        original = original[rows]
    return pd.DataFrame(
        {
            "row": rows,
            "value": pd.array([str(v) for v in original], dtype="str"),
            "problem": pd.array(np.broadcast_to(np.asarray(kinds, dtype=object), rows.shape), dtype="str"),
            "message": pd.array(np.broadcast_to(np.asarray(messages, dtype=object), rows.shape), dtype="str"),
        }
    )


_EMPTY_PROBLEMS = pd.DataFrame(
    {
        "row": pd.Series(dtype=np.int64),
        "value": pd.Series(dtype="str"),
        "problem": pd.Series(dtype="str"),
        "message": pd.Series(dtype="str"),
    }
)


def _no_problems() -> pd.DataFrame:
    return _EMPTY_PROBLEMS.copy(deep=False)


def _collect(parts: list[pd.DataFrame | None]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return _no_problems()
    if len(parts) == 1:
        return parts[0]
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def _sep_class(decimal: str) -> str:
    if decimal not in DECIMALS:
        raise ValueError(f"decimal must be one of {DECIMALS}, got {decimal!r}")
    return {"auto": "[.,]", ",": ",", ".": r"\."}[decimal]


def _sep_words(decimal: str) -> str:
    return {"auto": "decimal point or comma", ",": "decimal comma", ".": "decimal point"}[decimal]


def _text_and_blank(text: pd.Series):
    a = _arrow_text(text)
    s = pc.utf8_trim_whitespace(a)
    empty = _mask(pc.fill_null(pc.equal(s, ""), True))
    return s, empty, text  # the text itself: read only for the rows with a problem


# --------------------------------------------------------------------------- numbers


def _numeric_input(text: pd.Series, column: str, integer: bool) -> Parsed:
    """A column that is already numeric (a frame built in Python, e.g. by the simulator)."""
    x = text.astype("Float64")
    arr = x.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(arr) | np.isnan(arr)
    original = text.astype("str").to_numpy(dtype=object)
    parts = []
    overflow = ~finite | (integer & (np.abs(np.nan_to_num(arr, posinf=0, neginf=0)) >= 10**MAX_DIGITS))
    overflow |= ~finite
    if integer:
        whole = np.isnan(arr) | (np.round(arr) == arr)
        invalid = ~whole & finite
        keep = ~(invalid | overflow) & ~np.isnan(arr)
        out = pd.array(np.where(keep, arr, 0).astype(np.int64), dtype="Int64")
        out[~keep] = pd.NA
        values = pd.Series(out, index=text.index)
        parts.append(_problems(np.flatnonzero(invalid), original, "invalid", _INT_MESSAGE.format(column=column)))
    else:
        values = pd.Series(np.where(overflow, np.nan, arr), index=text.index, dtype="float64")
    parts.append(_problems(np.flatnonzero(overflow), original, "overflow", _OVERFLOW_MESSAGE.format(column=column)))
    return Parsed(values, _collect(parts))


_INT_MESSAGE = "{column} must be a whole number (a code or a count)"
_INT_OVERFLOW_MESSAGE = "{column} must be a whole number of at most 15 digits (too large)"
_NUMBER_MESSAGE = "{column} must be a number ({sep})"
_OVERFLOW_MESSAGE = "{column} is too large to be stored as a number"
_AMBIGUOUS_MESSAGE = (
    "{column} is ambiguous: a thousands separator or a decimal separator? "
    "Declare the export's decimal separator"
)
_AMBIGUOUS = r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$"


def _ambiguous(s: pa.Array, decimal: str) -> np.ndarray:
    if decimal != "auto":
        return np.zeros(len(s), dtype=bool)
    return _matches(s, _AMBIGUOUS)


def _resolve(s: pa.Array, decimal: str, hint: str | None = None) -> str:
    """`decimal`, or for "auto" the mark `detect_decimal` finds in the column, else `hint` (the
    mark detected over the whole export), else "auto"."""
    if decimal != "auto":
        return decimal
    if hint is not None and hint not in (",", "."):
        raise ValueError(f"hint must be ',', '.' or None, got {hint!r}")
    return _detect(s) or hint or "auto"


def _detect(s: pa.Array) -> str | None:
    numberlike = r"^[+-]?(?:\d+[.,]\d*|[.,]\d+)$"
    candidates = _matches(s, numberlike) & ~_matches(s, _AMBIGUOUS)
    if not candidates.any():
        return None
    comma = candidates & _matches(s, ",")
    point = candidates & ~comma
    if comma.any() and not point.any():
        return ","
    if point.any() and not comma.any():
        return "."
    return None


def detect_decimal(text: pd.Series) -> str | None:
    """The decimal mark a column of export text uses: "," or "." when its unambiguous numbers
    (one separator, not exactly three digits after a 1-3 digit whole part) all use that mark,
    None when none does or both occur.

    Example:
        >>> import pandas as pd
        >>> detect_decimal(pd.Series(["1,875", "2,5", "12"])), detect_decimal(pd.Series(["1.000"]))
        (',', None)
    """
    s, _, _ = _text_and_blank(text)
    return _detect(s)


# At most MAX_DIGITS digits and no separator: an integer that fits, whatever the decimal mark
_PLAIN_INTEGER = rf"^[+-]?\d{{1,{MAX_DIGITS}}}$"


def _plain_integers(s: pa.Array, plain: np.ndarray, index) -> pd.Series:
    """Int64 values of a column whose non-empty cells all match `_PLAIN_INTEGER`."""
    good = pc.if_else(pa.array(plain), s, pa.scalar(None, pa.string()))
    if pc.any(pc.starts_with(good, "+")).as_py():
        good = pc.replace_substring_regex(good, r"^\+", "")
    values = pc.cast(good, pa.int64())
    missing = values.is_null().to_numpy(zero_copy_only=False)
    filled = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Series(pd.arrays.IntegerArray(filled, missing), index=index)


def parse_integer(
    text: pd.Series, column: str = "value", decimal: str = "auto", hint: str | None = None
) -> Parsed:
    """Whole numbers (codes and counts) as Int64; ``"+3"`` is 3, ``"4.0"`` is 4.

    Example:
        >>> import pandas as pd
        >>> parse_integer(pd.Series(["-9", "+3", "4,0", "ca. 10", None])).values.tolist()
        [-9, 3, 4, <NA>, <NA>]
        >>> parse_integer(pd.Series(["4,0"]), decimal=".").problems["message"].tolist()
        ['value must be a whole number (a code or a count)']
    """
    _sep_class(decimal)
    if pd.api.types.is_numeric_dtype(text.dtype) and not pd.api.types.is_bool_dtype(text.dtype):
        return _numeric_input(text, column, integer=True)
    s, empty, original = _text_and_blank(text)
    if decimal == "auto" and hint not in (None, ",", "."):
        _resolve(s[:0], decimal, hint)  # raises as the full path does
    plain = _matches(s, _PLAIN_INTEGER)
    if (plain | empty).all():  # the common column: nothing to detect, resolve or report
        return Parsed(_plain_integers(s, plain, text.index), _no_problems())
    decimal = _resolve(s, decimal, hint)
    sep = _sep_class(decimal)
    shape = rf"^[+-]?\d+(?:{sep}0*)?$"
    fits = rf"^[+-]?0*\d{{1,{MAX_DIGITS}}}(?:{sep}0*)?$"
    ambiguous = _ambiguous(s, decimal)
    is_whole = _matches(s, shape) & ~ambiguous
    ok = _matches(s, fits) & ~ambiguous
    overflow = is_whole & ~ok
    invalid = ~is_whole & ~empty & ~ambiguous
    good = pc.if_else(pa.array(ok), s, pa.scalar(None, pa.string()))
    good = pc.replace_substring_regex(good, rf"{sep}0*$", "")
    good = pc.replace_substring_regex(good, r"^\+", "")
    values = pc.cast(good, pa.int64())
    missing = values.is_null().to_numpy(zero_copy_only=False)
    filled = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    out = pd.Series(pd.arrays.IntegerArray(filled, missing), index=text.index)
    problems = _collect(
        [
            _problems(np.flatnonzero(invalid), original, "invalid", _INT_MESSAGE.format(column=column)),
            _problems(
                np.flatnonzero(overflow), original, "overflow", _INT_OVERFLOW_MESSAGE.format(column=column)
            ),
            _problems(
                np.flatnonzero(ambiguous), original, "ambiguous", _AMBIGUOUS_MESSAGE.format(column=column)
            ),
        ]
    )
    return Parsed(out, problems)


def parse_number(
    text: pd.Series, column: str = "value", decimal: str = "auto", hint: str | None = None
) -> Parsed:
    """Decimal numbers as float64; ``"2,5"`` is 2.5; an overflow to inf is a problem.

    Example:
        >>> import pandas as pd
        >>> p = parse_number(pd.Series(["2,5", "+.5", "inf", "9" * 400]), column="hours")
        >>> p.values.tolist()[:2], p.problems["problem"].tolist()
        ([2.5, 0.5], ['invalid', 'overflow'])
    """
    _sep_class(decimal)
    if pd.api.types.is_numeric_dtype(text.dtype) and not pd.api.types.is_bool_dtype(text.dtype):
        return _numeric_input(text, column, integer=False)
    s, empty, original = _text_and_blank(text)
    shown = decimal
    decimal = _resolve(s, decimal, hint)
    sep = _sep_class(decimal)
    ambiguous = _ambiguous(s, decimal)
    ok = _matches(s, rf"^[+-]?(?:\d+(?:{sep}\d*)?|{sep}\d+)$") & ~ambiguous
    good = pc.if_else(pa.array(ok), s, pa.scalar(None, pa.string()))
    good = pc.replace_substring_regex(good, r"^\+", "")
    if decimal != ".":
        good = pc.replace_substring(good, ",", ".")
    values = pc.cast(good, pa.float64())
    arr = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False).astype(np.float64)
    overflow = np.isinf(arr)
    arr[overflow] = np.nan
    invalid = ~ok & ~empty & ~ambiguous
    message = _NUMBER_MESSAGE.format(column=column, sep=_sep_words(shown))
    problems = _collect(
        [
            _problems(np.flatnonzero(invalid), original, "invalid", message),
            _problems(np.flatnonzero(overflow), original, "overflow", _OVERFLOW_MESSAGE.format(column=column)),
            _problems(
                np.flatnonzero(ambiguous), original, "ambiguous", _AMBIGUOUS_MESSAGE.format(column=column)
            ),
        ]
    )
    return Parsed(pd.Series(arr, index=text.index, dtype="float64"), problems)


# --------------------------------------------------------------------------- dates

_ISO_DATE = r"^(\d{4})-(\d{2})-(\d{2})$"
_DE_DATE = r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"
_ISO_DATETIME = (
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def _ints(struct, field: str) -> np.ndarray:
    arr = pc.struct_field(struct, field)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pc.fill_null(pc.cast(arr, pa.int64()), -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _days_valid(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    # the year only matters for leap days: a proxy year with the same leap rule keeps year 0
    # and 9999 computable (they exist as dates; the plausible range then judges them)
    ok = (y >= 0) & (m >= 1) & (m <= 12) & (d >= 1)
    proxy = 2000 + np.where(ok, y, 0) % 400
    ym = np.where(ok, (proxy - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    dim = ((ym + 1).astype("datetime64[D]") - ym.astype("datetime64[D]")).astype(np.int64)
    return ok & (d <= dim)


def _as_date(value, default: _dt.date, what: str) -> _dt.date:
    if value is None:
        return default
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _code_mask(s: pa.Array, codes) -> np.ndarray:
    if not codes:
        return np.zeros(len(s), dtype=bool)
    return _mask(pc.is_in(s, value_set=pa.array([str(int(c)) for c in codes], pa.string())))


def _parse_dates(text, column, earliest, latest, codes, datetime: bool) -> Parsed:
    lo = _as_date(earliest, DEFAULT_EARLIEST, "earliest")
    hi = _as_date(latest, DEFAULT_LATEST, "latest")
    s, empty, original = _text_and_blank(text)
    n = len(s)
    is_code = _code_mask(s, codes)
    y = np.full(n, -1, dtype=np.int64)
    m = y.copy()
    d = y.copy()
    hh = np.zeros(n, dtype=np.int64)
    mm = hh.copy()
    ss = hh.copy()
    iso_pattern = _ISO_DATETIME if datetime else _ISO_DATE
    iso = _matches(s, iso_pattern)
    if iso.any():
        names = ["y", "m", "d", "hh", "mm", "ss"] if datetime else ["y", "m", "d"]
        named = iso_pattern
        for name in names:
            named = named.replace(r"(\d", f"(?P<{name}>\\d", 1)
        ex = pc.extract_regex(s, named)
        for name, target in zip(names, (y, m, d, hh, mm, ss)):
            vals = _ints(ex, name)
            target[iso] = vals[iso] if name in ("y", "m", "d") else np.maximum(vals[iso], 0)
    german = np.zeros(n, dtype=bool) if datetime else _matches(s, _DE_DATE)
    if german.any():
        ex = pc.extract_regex(s, r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$")
        for name, target in (("y", y), ("m", m), ("d", d)):
            target[german] = _ints(ex, name)[german]
    shaped = iso | german
    exists = shaped & _days_valid(y, m, d) & (hh <= 23) & (mm <= 59) & (ss <= 59)
    key = y * 10000 + m * 100 + d
    lo_key = lo.year * 10000 + lo.month * 100 + lo.day
    hi_key = hi.year * 10000 + hi.month * 100 + hi.day
    in_range = exists & (key >= lo_key) & (key <= hi_key)
    not_date = ~empty & ~is_code & ~exists
    out_of_range = exists & ~in_range & ~is_code
    if datetime:
        normal = pc.if_else(pa.array(in_range | is_code), s, pa.scalar(None, pa.string()))
    else:
        months = ((y[in_range] - 1970) * 12 + (m[in_range] - 1)).astype("datetime64[M]")
        days = months.astype("datetime64[D]") + (d[in_range] - 1).astype("timedelta64[D]")
        full = np.full(n, None, dtype=object)
        full[in_range] = np.datetime_as_string(days, unit="D").astype(object)
        codes_text = s.to_numpy(zero_copy_only=False)
        full[is_code] = codes_text[is_code]
        normal = pa.array(full, type=pa.string())
    values = pd.Series(normal.to_numpy(zero_copy_only=False), index=text.index, dtype="str")
    what = "date-time (ISO 8601, e.g. 2026-03-01T09:30:00)" if datetime else "date (YYYY-MM-DD or DD.MM.YYYY)"
    problems = _collect(
        [
            _problems(np.flatnonzero(not_date), original, "not_a_date", f"{column} must be a valid {what}"),
            _problems(
                np.flatnonzero(out_of_range),
                original,
                "out_of_range",
                f"{column} must be a date from {lo.isoformat()} to {hi.isoformat()} (implausible date)",
            ),
        ]
    )
    return Parsed(values, problems)


def parse_date(
    text: pd.Series, column: str = "value", earliest=None, latest=None, codes=()
) -> Parsed:
    """Dates (ISO or DD.MM.YYYY) as ISO text ``YYYY-MM-DD``; impossible or implausible dates
    are problems; integer missing `codes` pass as their digits.

    Example:
        >>> import pandas as pd
        >>> p = parse_date(pd.Series(["3.11.2025", "2026-02-30", "-9", "1899-12-31"]), codes=(-9,))
        >>> p.values.tolist()
        ['2025-11-03', nan, '-9', nan]
        >>> p.problems["problem"].tolist()
        ['not_a_date', 'out_of_range']
    """
    return _parse_dates(text, column, earliest, latest, codes, datetime=False)


def parse_datetime(
    text: pd.Series, column: str = "value", earliest=None, latest=None, codes=()
) -> Parsed:
    """ISO 8601 date-times, kept as their trimmed text; impossible or implausible ones are
    problems (``0000-01-01`` is out of range).

    Example:
        >>> import pandas as pd
        >>> p = parse_datetime(pd.Series(["2026-03-01T09:30:00", "2026-03-01 24:00", "0000-01-01"]))
        >>> p.problems["problem"].tolist()
        ['not_a_date', 'out_of_range']
    """
    return _parse_dates(text, column, earliest, latest, codes, datetime=True)


def parse_values(text: pd.Series, kind: str, **options) -> Parsed:
    """Dispatch on `kind` (one of KINDS) to the parser above, passing `options` through.

    Example:
        >>> import pandas as pd
        >>> parse_values(pd.Series(["7"]), "integer", column="n").values.tolist()
        [7]
    """
    parsers = {
        "integer": parse_integer,
        "number": parse_number,
        "date": parse_date,
        "datetime": parse_datetime,
    }
    if kind not in parsers:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return parsers[kind](text, **options)
