"""schemas.values: the one parser of export text (integers, decimals, dates, date-times)."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from schemas import values as V


def _series(*texts, index=None):
    return pd.Series(list(texts), index=index, dtype="str")


@pytest.mark.parametrize(
    "text, expected",
    [("3", 3), ("+3", 3), ("-9", -9), (" 12 ", 12), ("4.0", 4), ("4,00", 4), ("4.", 4),
     ("007", 7), ("+0", 0), ("99", 99), ("0" * 30 + "5", 5)],
)
def test_integer_accepts(text, expected):
    p = V.parse_integer(_series(text), column="n")
    assert p.values.tolist() == [expected]
    assert len(p.problems) == 0


@pytest.mark.parametrize(
    "text, problem",
    [("2,5", "invalid"), ("2.5", "invalid"), ("ca. 10", "invalid"), ("10 Personen", "invalid"),
     ("1e3", "invalid"), ("inf", "invalid"), ("++3", "invalid"), ("3-", "invalid"),
     ("1.000", "ambiguous"), ("12,000", "ambiguous"),
     ("9" * 16, "overflow"), ("9" * 400, "overflow"), ("-" + "9" * 400 + ".0", "overflow")],
)
def test_integer_problems(text, problem):
    p = V.parse_integer(_series("1", text), column="n_staff")
    assert p.values.isna().tolist() == [False, True]
    assert p.problems[["row", "value", "problem"]].values.tolist() == [[1, text, problem]]
    assert p.problems["message"].iloc[0].startswith("n_staff ")
    assert p.bad.tolist() == [False, True]


def test_integer_declared_separator_decides_zero_fraction_and_grouping():
    # with a declared decimal comma, "1.000" is not 1 (and not 1000): a problem
    p = V.parse_integer(_series("1.000", "1,000", "4,0"), decimal=",")
    assert p.values.tolist()[1:] == [1, 4]
    assert p.problems["problem"].tolist() == ["invalid"]
    p = V.parse_integer(_series("4,0"), decimal=".")
    assert p.problems["problem"].tolist() == ["invalid"]


def test_empty_cells_are_missing_not_problems_and_index_is_kept():
    idx = pd.Index([10, 20, 30, 40])
    text = pd.Series(["", "  ", None, "5"], index=idx, dtype="str")
    for parse in (V.parse_integer, V.parse_number, V.parse_date, V.parse_datetime):
        p = parse(text)
        assert list(p.values.index) == [10, 20, 30, 40]
        assert p.values.iloc[:3].isna().all()
    assert V.parse_integer(text).values.loc[40] == 5
    assert len(V.parse_integer(text).problems) == 0


@pytest.mark.parametrize(
    "text, decimal, expected",
    [("2,5", "auto", 2.5), ("2.5", "auto", 2.5), ("2,5", ",", 2.5), ("2.5", ".", 2.5),
     (".5", "auto", 0.5), ("+3,", "auto", 3.0), ("-0,25", ",", -0.25), ("812,5", "auto", 812.5),
     ("0,125", "auto", 0.125), ("1234,567", "auto", 1234.567), ("1,000", ",", 1.0)],
)
def test_number_accepts(text, decimal, expected):
    p = V.parse_number(_series(text), column="hours", decimal=decimal)
    assert p.values.tolist() == [expected]
    assert len(p.problems) == 0


@pytest.mark.parametrize(
    "text, decimal, problem",
    [("2.5", ",", "invalid"), ("2,5", ".", "invalid"), ("1.000,5", "auto", "invalid"),
     ("1e3", "auto", "invalid"), ("inf", "auto", "invalid"), ("nan", "auto", "invalid"),
     ("2,5 h", "auto", "invalid"), ("1,500", "auto", "ambiguous"),
     ("9" * 400, "auto", "overflow"), ("-" + "9" * 400, ",", "overflow")],
)
def test_number_problems(text, decimal, problem):
    p = V.parse_number(_series(text), column="hours", decimal=decimal)
    assert np.isnan(p.values.iloc[0])
    assert p.problems["problem"].tolist() == [problem]
    assert not np.isinf(p.values.to_numpy()).any()


def test_numeric_input_from_python_frames():
    p = V.parse_integer(pd.Series([1.0, 2.5, np.inf, np.nan]), column="n")
    assert p.values.tolist()[:1] == [1]
    assert p.values.isna().tolist() == [False, True, True, True]
    assert p.problems["problem"].tolist() == ["invalid", "overflow"]
    q = V.parse_number(pd.Series([1.5, -np.inf]), column="x")
    assert q.values.tolist()[0] == 1.5 and q.problems["problem"].tolist() == ["overflow"]


@pytest.mark.parametrize(
    "text, expected",
    [("2025-11-03", "2025-11-03"), ("3.11.2025", "2025-11-03"), ("03.11.2025", "2025-11-03"),
     ("2024-02-29", "2024-02-29"), ("1900-01-01", "1900-01-01"), ("2100-12-31", "2100-12-31")],
)
def test_date_accepts(text, expected):
    p = V.parse_date(_series(text), column="trained_on")
    assert p.values.tolist() == [expected] and len(p.problems) == 0


@pytest.mark.parametrize(
    "text, problem",
    [("2026-02-30", "not_a_date"), ("2025-02-29", "not_a_date"), ("2025-13-01", "not_a_date"),
     ("03/11/2025", "not_a_date"), ("2025-1-3", "not_a_date"), ("yesterday", "not_a_date"),
     ("2025-11-03T10:00", "not_a_date"), ("0000-01-01", "out_of_range"),
     ("1899-12-31", "out_of_range"), ("2101-01-01", "out_of_range"), ("9999-12-31", "out_of_range")],
)
def test_date_problems(text, problem):
    p = V.parse_date(_series(text), column="trained_on")
    assert p.values.isna().all()
    assert p.problems["problem"].tolist() == [problem]
    if problem == "out_of_range":
        assert "1900-01-01 to 2100-12-31" in p.problems["message"].iloc[0]


def test_date_range_and_missing_codes_are_declared():
    p = V.parse_date(_series("2019-12-31", "2020-01-01", "99", "-9", "98"), earliest="2020-01-01",
                     latest="2026-12-31", codes=(97, 98, 99))
    assert p.values.iloc[1:3].tolist() == ["2020-01-01", "99"] and p.values.iloc[4] == "98"
    assert p.values.iloc[[0, 3]].isna().all()  # "-9" is not in this instrument's code set
    assert p.problems[["row", "problem"]].values.tolist() == [[0, "out_of_range"], [3, "not_a_date"]]


@pytest.mark.parametrize(
    "text, ok",
    [("2026-03-01T09:30:00", True), ("2026-03-01 09:30", True), ("2026-03-01T09:30:00.123Z", True),
     ("2026-03-01T09:30:00+01:00", True), ("2026-03-01", True), ("2026-03-01T24:00:00", False),
     ("2026-03-01T09:60", False), ("2026-02-30T10:00", False), ("01.03.2026 09:30", False),
     ("0000-01-01T00:00:00", False)],
)
def test_datetime(text, ok):
    p = V.parse_datetime(_series(text), column="submitted_at")
    assert (len(p.problems) == 0) is ok
    if ok:
        assert p.values.tolist() == [text]


def test_dispatch_and_bad_arguments():
    assert V.parse_values(_series("2,5"), "number").values.tolist() == [2.5]
    with pytest.raises(ValueError, match="kind must be one of"):
        V.parse_values(_series("1"), "likert")
    with pytest.raises(ValueError, match="decimal must be one of"):
        V.parse_number(_series("1"), decimal=";")


def test_vectorised_speed_on_a_large_column():
    n = 300_000
    text = pd.Series(np.char.mod("%d", np.arange(n)).astype(object), dtype="str")
    start = time.perf_counter()
    p = V.parse_integer(text, column="n")
    elapsed = time.perf_counter() - start
    assert p.values.iloc[-1] == n - 1 and len(p.problems) == 0
    assert elapsed < 5  # vectorised (arrow): a Python loop over 300k cells would be far slower


def test_auto_detects_the_columns_decimal_mark():
    # a German export: "1,875" is 1.875 because the column's other decimals use a comma
    p = V.parse_number(_series("1,875", "2,5", "12"), column="h")
    assert p.values.tolist() == [1.875, 2.5, 12.0] and len(p.problems) == 0
    p = V.parse_number(_series("1.875", "0.25"), column="h")
    assert p.values.tolist() == [1.875, 0.25]
    # a point column: "1,875" would be thousands grouping, which is never accepted
    p = V.parse_number(_series("1,875", "2.5"), column="h")
    assert p.problems["problem"].tolist() == ["invalid"] and p.values.iloc[1] == 2.5
    # both marks in one column: nothing is guessed
    p = V.parse_number(_series("1,875", "2.5", "0,5"), column="h")
    assert p.problems["problem"].tolist() == ["ambiguous"] and p.values.tolist()[1:] == [2.5, 0.5]
    # integers: a zero fraction with the detected comma; "1.000" then is no number of this column
    p = V.parse_integer(_series("4,0", "1.000"), column="n")
    assert p.values.iloc[0] == 4 and p.problems["problem"].tolist() == ["invalid"]
    assert V.detect_decimal(_series("1,875", "2,5")) == ","
    assert V.detect_decimal(_series("1.000", "7")) is None


def test_plain_integer_columns_give_what_the_full_parse_gives():
    # a column of plain integers (sign, at most 15 digits, nothing else) takes a short path;
    # one cell with a separator sends the same cells through the full parse: the same values
    plain = ["12", "+3", "-7", "", " 5 ", "007", "123456789012345", None]
    expected = [12, 3, -7, pd.NA, 5, 7, 123456789012345, pd.NA]
    p = V.parse_integer(pd.Series(plain, dtype="str"), column="n")
    assert p.values.tolist() == expected and str(p.values.dtype) == "Int64"
    assert p.problems.columns.tolist() == ["row", "value", "problem", "message"] and len(p.problems) == 0
    q = V.parse_integer(pd.Series(plain + ["4,0"], dtype="str"), column="n")
    assert q.values.tolist() == expected + [4] and len(q.problems) == 0
    # 16 digits is no plain integer: too large, with or without leading zeros before 15 digits
    r = V.parse_integer(_series("1", "1234567890123456", "000123456789012345"), column="n")
    assert r.values.tolist() == [1, pd.NA, 123456789012345]
    assert r.problems[["row", "problem"]].values.tolist() == [[1, "overflow"]]
    # a bad hint is refused on either path, and ignored when the mark is declared
    with pytest.raises(ValueError, match="hint must be"):
        V.parse_integer(_series("1"), hint=";")
    assert V.parse_integer(_series("1"), decimal=",", hint=";").values.tolist() == [1]


def test_the_plausible_date_range_includes_its_ends():
    p = V.parse_date(_series("1900-01-01", "2100-12-31", "1899-12-31", "2101-01-01"))
    assert p.values.tolist()[:2] == ["1900-01-01", "2100-12-31"]
    assert p.problems[["row", "problem"]].values.tolist() == [[2, "out_of_range"], [3, "out_of_range"]]
    q = V.parse_date(_series("2026-03-01", "2026-03-02"), earliest="2026-01-01", latest="2026-03-01")
    assert q.problems["row"].tolist() == [1]
