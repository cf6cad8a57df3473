"""Reading is a protocol (surveydata._records via read_export): broken quoting quarantines one
record and reading goes on, every line is accounted for, encodings are decided per line."""
import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import _records, read_export, validate
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()


@pytest.fixture()
def text():
    t = to_text(valid_coded(INST, 12, seed=21))
    t["comments"] = ""
    t.loc[7, "comments"] = 'Alles gut; "danke", wirklich'  # a quoted field further down
    return t


def _lines(t, sep=","):
    return to_csv_bytes(t, sep=sep).decode().split("\n")[:-1]


def _both_paths(path, monkeypatch):
    """read_export with pyarrow's blocks allowed and with the exact reader only: identical."""
    fast = read_export(path, INST)
    monkeypatch.setattr(_records, "_FAST", False)
    exact = read_export(path, INST)
    monkeypatch.setattr(_records, "_FAST", True)
    pd.testing.assert_frame_equal(fast, exact)
    assert fast.attrs == exact.attrs
    return fast


@pytest.mark.parametrize("column", ["comments", "federal_state"])
def test_unclosed_quote_quarantines_its_record_and_reading_goes_on(tmp_path, text, column,
                                                                    monkeypatch):
    lines = _lines(text)
    k = 3  # line 4 (record index 2) gets a quote that opens and never closes
    cells = lines[k].split(",")
    j = list(text.columns).index(column)
    cells[j] = '"' + cells[j]
    lines[k] = ",".join(cells)
    path = tmp_path / "runaway.csv"
    path.write_text("\n".join(lines) + "\n")
    raw = _both_paths(path, monkeypatch)
    assert len(raw) == 12 and raw["line"].tolist() == list(range(2, 14))
    info = raw.attrs["export"]
    assert info["n_records_by_line_count"] == 12 and info["n_physical_lines"] == 13
    assert info["broken_records"][0]["line"] == 4 and info["broken_records"][0]["column"] == column
    # no record's cell holds another record's text
    assert raw["response_id"].tolist() == text["response_id"].tolist()
    for c in text.columns:
        if c != column:
            assert raw[c].drop(index=2).tolist() == text[c].drop(index=2).tolist(), c
    assert not raw[column].str.contains("\n").any()
    res = validate(raw, INST)
    r = res.report
    assert (r["n_raw"], r["n_valid"], r["n_quarantined"]) == (12, 11, 1)
    assert (r["n_records_read"], r["n_records_by_line_count"]) == (12, 12)
    q = res.quarantine.iloc[0]
    assert q["line"] == 4 and q["response_id"] == text.loc[2, "response_id"]
    assert f"a quote opened in column '{column}' on line 4" in q["reasons"]
    assert "broken quoting on line 4" in res.summary()


def test_runaway_quote_that_closes_in_a_later_record_swallows_nothing(tmp_path, text, monkeypatch):
    lines = _lines(text)
    lines[2] = lines[2] + '"'  # an empty last cell that opens a quote; line 9 holds the next quote
    path = tmp_path / "runaway2.csv"
    path.write_text("\n".join(lines) + "\n")
    raw = _both_paths(path, monkeypatch)
    assert raw["response_id"].tolist() == text["response_id"].tolist()
    assert raw.loc[7, "comments"] == 'Alles gut; "danke", wirklich'
    assert raw["_row_error"].ne("").tolist() == [i == 1 for i in range(12)]


@pytest.mark.parametrize("first", [True, False])
def test_legitimate_multiline_values_stay_one_record(tmp_path, text, first, monkeypatch):
    t = text.copy()
    t.loc[2, "comments"] = "Zeile eins\nZeile zwei,mit,kommas\r\nZeile drei"
    t.loc[5, "comments"] = "a\rb"  # a lone CR inside quotes (csv quotes it only with QUOTE_ALL)
    if first:  # the multi-line value in the first column: its last line starts a "record"
        t = t[["comments", *[c for c in t.columns if c != "comments"]]]
    path = tmp_path / "multi.csv"
    path.write_bytes(to_csv_bytes(t, quote_all=True))
    raw = _both_paths(path, monkeypatch)
    assert raw["comments"].tolist() == t["comments"].tolist()
    assert raw["line"].tolist() == [2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 16]
    assert (raw["_row_error"] == "").all()
    assert raw.attrs["export"]["n_records_by_line_count"] == 12


def test_every_line_is_accounted_for(tmp_path, text, monkeypatch):
    lines = _lines(text, sep=";")
    empty = ";" * (len(text.columns) - 1)
    body = ("\r\n".join([lines[0], "", lines[1], empty, lines[2], "", "", lines[3]])
            + "\r" + "\n".join(lines[4:]) + "\n\n")
    path = tmp_path / "mixed_breaks.csv"
    path.write_text(body, newline="")
    raw = _both_paths(path, monkeypatch)
    info = raw.attrs["export"]
    assert raw["line"].tolist() == [3, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    assert info["empty_records_skipped"] == [4]
    assert info["blank_lines"] == 4 and info["n_physical_lines"] == 18
    assert info["n_records_by_line_count"] == len(raw) == 12


def test_mixed_utf8_and_cp1252_is_read_per_line_and_reported(tmp_path, text):
    t = text.copy()
    t.loc[1, "comments"] = "Grüße aus Köln"
    t.loc[6, "comments"] = "Größe"
    data = to_csv_bytes(t).decode()
    raw_lines = [line.encode("utf-8") for line in data.split("\n")]
    raw_lines[7] = data.split("\n")[7].encode("cp1252")  # record 6 (line 8) saved as cp1252
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(raw_lines))
    raw = read_export(path, INST)
    info = raw.attrs["export"]
    assert info["encoding"] == "utf-8+cp1252" and info["lines_not_utf8"] == [8]
    assert raw.loc[1, "comments"] == "Grüße aus Köln" and raw.loc[6, "comments"] == "Größe"
    res = validate(raw, INST)
    assert res.report["lines_not_utf8"] == [8]
    assert "mixed encodings: 1 line(s) are not UTF-8" in res.summary()
    # a whole file in cp1252 is simply cp1252
    path.write_bytes(data.encode("cp1252"))
    info = read_export(path, INST).attrs["export"]
    assert info["encoding"] == "cp1252" and info["lines_not_utf8"] == []


def test_quoted_header_name_with_a_newline(tmp_path, text, monkeypatch):
    t = text.copy()
    t["Bemerkung\nintern"] = "x"
    path = tmp_path / "header.csv"
    path.write_bytes(to_csv_bytes(t))
    raw = _both_paths(path, monkeypatch)
    assert raw.attrs["export"]["extra_columns"] == ["Bemerkung\nintern"]
    assert raw["line"].tolist() == list(range(3, 15))  # the header spans lines 1-2


def test_a_10_mb_cell_names_the_first_line_of_its_record(tmp_path, text, monkeypatch):
    t = text.copy()
    t.loc[0, "comments"] = "x" * 10_000_000
    path = tmp_path / "big.csv"
    path.write_bytes(to_csv_bytes(t))
    raw = _both_paths(path, monkeypatch)
    assert len(raw) == 12
    err = raw.loc[0, "_row_error"]
    assert "column 'comments' holds 10,000,000 characters" in err
    assert "record starting on line 2" in err
    assert (raw["_row_error"].iloc[1:] == "").all()
    res = validate(raw, INST)
    assert res.quarantine["line"].tolist() == [2]


def test_inf_in_an_spss_column_is_reported_as_inf(tmp_path):
    import pyreadstat

    coded = valid_coded(INST, 4, seed=5)
    frame = coded.copy()
    for c in frame.columns:
        if frame[c].dtype.kind in "iu":
            frame[c] = frame[c].astype(float)
    frame.loc[1, "duration_s"] = np.inf
    frame.loc[2, "duration_s"] = np.nan
    path = tmp_path / "inf.sav"
    pyreadstat.write_sav(frame, str(path))
    raw = read_export(path, INST)
    assert raw["duration_s"].tolist()[1:3] == ["inf", ""]
    res = validate(raw, INST)
    f = res.failures.set_index("line")
    assert f.loc[3, "value"] == "inf" and f.loc[3, "rule"] == "dtype:duration_s"
    assert f.loc[4, "rule"] == "not_nullable"


def test_invariant_break_is_a_named_error(tmp_path, text, monkeypatch):
    """A reader that loses a line (simulated) is caught by the second count, not trusted."""
    path = tmp_path / "ok.csv"
    path.write_bytes(to_csv_bytes(text))
    real = _records.newlines
    monkeypatch.setattr(_records, "newlines", lambda s: real(s) + (1 if len(s) > 500 else 0))
    with pytest.raises(_records.ReadInvariantError, match="12 records read but 13 by the count"):
        read_export(path, INST)


def test_a_cell_of_exactly_the_limit_is_an_answer_and_one_more_is_not():
    """MAX_CELL_CHARS is the largest cell kept as an answer (the exact reader decides cells at
    and around the limit; pyarrow's blocks hand such blocks to it)."""
    limit = _records.MAX_CELL_CHARS
    text = f"id,c\n1,{'x' * limit}\n2,{'y' * (limit + 1)}\n3,ok\n"
    recs = _records.split(text, ",", "big.csv")
    assert recs.frame["line"].tolist() == [2, 3, 4]
    errors = recs.frame["_row_error"].tolist()
    assert errors[0] == "" and errors[2] == ""
    assert f"holds {limit + 1:,} characters (more than {limit:,})" in errors[1]
    assert len(recs.frame.loc[0, "c"]) == limit


def test_a_second_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path, text):
    """A file saved twice with a BOM (by a tool that adds one to text that has one) starts with
    two: the decoder takes the first, the header names drop the second."""
    from surveydata.io import ExportChunks

    path = tmp_path / "two_boms.csv"
    path.write_bytes(b"\xef\xbb\xbf" * 2 + to_csv_bytes(text))
    raw = read_export(path, INST)
    assert raw.columns[1] == "response_id" and len(raw) == 12
    assert raw.attrs["export"]["encoding"] == "utf-8-sig"
    pieces = list(ExportChunks(path, INST, chunk_bytes=2048))
    assert pieces[0].columns[1] == "response_id"
    assert sum(len(p) for p in pieces) == 12
