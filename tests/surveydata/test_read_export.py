"""read_export: what platforms and Excel produce, read losslessly, with lines and sha256."""
import hashlib

import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import ExportError, read_export
from tests.export_factory import to_csv_bytes, to_text, valid_coded


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def text(inst):
    t = to_text(valid_coded(inst, 12, seed=3))
    t.loc[0, "comments"] = "Grüße aus Köln; \"IT\" ist schwierig, sagt die Ärztin"
    t.loc[1, "comments"] = "Zeile eins\nZeile zwei\r\nZeile drei"
    t.loc[2, "comments"] = "=HYPERLINK(\"http://x\")"
    return t


def _same(raw, text, order=True):
    if order:
        assert list(raw.columns[1:-1]) == list(text.columns)
    pd.testing.assert_frame_equal(raw[text.columns].reset_index(drop=True),
                                  text.astype("str").reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("cp1252", False),
                                          ("utf-16", False), ("utf-16-be", False)])
def test_separators_and_encodings_round_trip(tmp_path, inst, text, sep, encoding, bom):
    path = tmp_path / "export.csv"
    data = to_csv_bytes(text, sep=sep, encoding=encoding, bom=bom, newline="\r\n")
    if encoding == "utf-16-be":  # big-endian with its BOM (Python's "utf-16" writes LE here)
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    raw = read_export(path, inst)
    _same(raw, text)
    info = raw.attrs["export"]
    assert info["separator"] == sep
    assert info["encoding"] == {"utf-8": "utf-8-sig" if bom else "utf-8", "cp1252": "cp1252",
                                "utf-16": "utf-16-le", "utf-16-be": "utf-16-be"}[encoding]
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["format"] == "csv" and info["extra_columns"] == []


def test_line_numbers_count_embedded_newlines(tmp_path, inst, text):
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(text, quote_all=True))
    raw = read_export(path, inst)
    # row 1's comment spans three physical lines, so every later record starts two lines later
    assert raw["line"].tolist() == [2, 3, 6, *range(7, 16)]
    assert raw.loc[1, "comments"] == "Zeile eins\nZeile zwei\r\nZeile drei"


def test_blank_lines_are_not_records_but_keep_line_numbers(tmp_path, inst, text):
    body = to_csv_bytes(text.iloc[3:6]).decode()
    header, *rows = body.strip("\n").split("\n")
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, rows[0], "", rows[1], rows[2], "", ""]) + "\n")
    raw = read_export(path, inst)
    assert raw["line"].tolist() == [2, 4, 5]


def test_whitespace_quotes_and_decimal_comma_are_kept_as_text(tmp_path, inst, text):
    t = text.copy()
    t.loc[4, "n_physicians"] = " 2 "
    t.loc[4, "duration_s"] = "812,5"
    t.loc[4, "comments"] = 'sagt "nein"; und, ja'
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(t, sep=";"))
    raw = read_export(path, inst)
    assert raw.loc[4, "n_physicians"] == " 2 "
    assert raw.loc[4, "duration_s"] == "812,5"
    assert raw.loc[4, "comments"] == 'sagt "nein"; und, ja'


def test_missing_required_column_is_a_clear_error(tmp_path, inst, text):
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(text.drop(columns=["duration_s", "tm_mfa"])))
    with pytest.raises(ExportError) as err:
        read_export(path, inst)
    assert err.value.file == str(path) and err.value.line == 1
    assert err.value.column == "duration_s"
    assert "duration_s, tm_mfa" in str(err.value)


def test_extra_columns_are_kept_and_reported(tmp_path, inst, text):
    t = text.copy()
    t.insert(3, "panel_wave", "2")
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(t))
    raw = read_export(path, inst)
    assert raw.attrs["export"]["extra_columns"] == ["panel_wave"]
    assert (raw["panel_wave"] == "2").all()


def test_malformed_records_are_kept_and_marked(tmp_path, inst, text):
    body = to_csv_bytes(text.iloc[3:6]).decode().splitlines()
    body[2] = body[2] + ",surplus"
    body[3] = ",".join(body[3].split(",")[:10])
    path = tmp_path / "export.csv"
    path.write_text("\n".join(body) + "\n")
    raw = read_export(path, inst)
    assert len(raw) == 3
    assert raw["_row_error"].tolist()[0] == ""
    assert raw["_row_error"][1].startswith(f"record has {len(text.columns) + 1} fields")
    assert "surplus" in raw["_row_error"][1]
    assert raw["_row_error"][2] == f"record has 10 fields, the header has {len(text.columns)}"


@pytest.mark.parametrize("content,problem", [
    (None, "cannot read the file"),
    (b"", "empty"),
    (b"response_id,x\n\x81\x8d\x8f,1\n", "line 2: byte 0x81 at offset 14 is not valid UTF-8 nor cp1252"),
    (b"\xff\xfe\x00\x00r\x00\x00\x00", "line 1: the file is UTF-32-LE"),
    ("response_id,x\n1,2\n".encode("utf-16-le"), "looks like UTF-16 without a byte-order mark"),
])
def test_unreadable_files_raise_export_error(tmp_path, inst, content, problem):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ExportError) as err:
        read_export(path, inst)
    assert problem in str(err.value)
    assert str(path) in str(err.value)


def test_header_problems(tmp_path, inst):
    path = tmp_path / "dup.csv"
    path.write_text("response_id,response_id\n1,2\n")
    with pytest.raises(ExportError, match="more than once"):
        read_export(path, inst)


def test_bracket_and_concatenated_multi_columns_are_renamed(tmp_path, inst, text):
    t = text.rename(columns={"info_needs__hotline": "info_needs[hotline]",
                             "info_sources__bsi": "info_sourcesbsi",
                             "incident_types__other": "incident_types_other"})
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(t))
    raw = read_export(path, inst)
    _same(raw, text)
    assert raw.attrs["export"]["renamed_columns"] == {
        "info_sourcesbsi": "info_sources__bsi", "info_needs[hotline]": "info_needs__hotline",
        "incident_types_other": "incident_types__other"}


# --------------------------------------------------------------------------- LimeSurvey


def _limesurvey_bytes(inst, text):
    """An export as LimeSurvey's CsvWriter writes it: BOM, all quoted, ';', CRLF, blank last line,
    'Question code' headings with var[option], answer codes, Y/empty for ticks, empty for skips."""
    ls = pd.DataFrame({"id": [str(i + 1) for i in range(len(text))],
                       "submitdate": text["submitted_at"].str.replace("T", " "),
                       "lastpage": "9", "startlanguage": "de", "seed": "12345",
                       "interviewtime": text["duration_s"]})
    for item in inst.items:
        for col in item.columns:
            v = text[col].copy()
            if item.type == "multi":
                opt = col.split("__", 1)[1]
                v = v.map({"1": "Y", "0": "", "-7": "", "-9": ""})
                ls[f"{item.var}[{opt}]"] = v
            elif item.type == "text":
                ls[col] = v
            else:
                ls[col] = v.replace({"-7": "", "-9": ""})
    return b"\xef\xbb\xbf" + to_csv_bytes(ls, sep=";", quote_all=True, newline="\r\n") + b"\r\n"


def test_limesurvey_answer_code_export(tmp_path, inst, text):
    path = tmp_path / "results-survey123456.csv"
    path.write_bytes(_limesurvey_bytes(inst, text))
    raw = read_export(path, inst)
    info = raw.attrs["export"]
    assert info["format"] == "limesurvey" and info["separator"] == ";"
    assert info["extra_columns"] == ["lastpage", "startlanguage", "seed"]
    assert info["renamed_columns"]["id"] == "response_id"
    assert info["renamed_columns"]["info_needs[hotline]"] == "info_needs__hotline"
    expected = text.copy()
    expected["response_id"] = [str(i + 1) for i in range(len(text))]
    # -9 that LimeSurvey wrote as an empty cell comes back as -9 (asked) and -7 stays -7
    _same(raw, expected, order=False)
    assert raw["line"].tolist() == [2, 3, 6, *range(7, 16)]  # row 1 has a 3-line comment


# --------------------------------------------------------------------------- SPSS / Stata


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_spss_and_stata(tmp_path, inst, text, suffix):
    import pyreadstat

    coded = valid_coded(inst, 6, seed=5)
    coded["comments"] = ["", "ok", "", "Grüße", "", ""]
    path = tmp_path / f"export{suffix}"
    frame = coded.copy()
    for c in frame.columns:
        if frame[c].dtype.kind in "iu":
            frame[c] = frame[c].astype(float)  # what SPSS stores: doubles
    shortened = {}
    if suffix == ".sav":
        pyreadstat.write_sav(frame, str(path))
    else:
        # Stata names have at most 32 characters: as a data manager would, the longer ones get
        # short names and keep ours as their variable label
        shortened = {c: f"v{i}_{c[:20]}" for i, c in enumerate(frame.columns) if len(c) > 32}
        assert len(shortened) >= 5
        frame = frame.rename(columns=shortened)
        pyreadstat.write_dta(frame, str(path), column_labels={s: c for c, s in shortened.items()})
    raw = read_export(path, inst)
    assert raw.attrs["export"]["format"] == ("spss" if suffix == ".sav" else "stata")
    assert raw.attrs["export"]["renamed_columns"] == {s: c for c, s in shortened.items()}
    assert list(raw.columns[1:-1]) == list(coded.columns)
    for c in coded.columns:
        if coded[c].dtype.kind in "iu":
            assert raw[c].tolist() == coded[c].astype(str).tolist(), c
    assert raw["line"].tolist() == list(range(2, 8))
    assert raw["n_physicians"].tolist() == coded["n_physicians"].astype(str).tolist()
    assert raw["large_devices"].tolist() == coded["large_devices"].astype(str).tolist()
    assert raw["duration_s"].tolist() == [repr(float(x)) if x != int(x) else str(int(x))
                                          for x in coded["duration_s"]]
    assert raw["comments"].tolist() == ["", "ok", "", "Grüße", "", ""]


def test_unknown_format_and_unreadable_sav(tmp_path, inst):
    path = tmp_path / "x.sav"
    path.write_bytes(b"not a sav file")
    with pytest.raises(ExportError, match="cannot read as spss"):
        read_export(path, inst)
    with pytest.raises(ExportError, match="unknown format"):
        read_export(path, inst, format="xlsx")


def test_line_numbers_are_integers_and_values_text(tmp_path, inst, text):
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(text))
    raw = read_export(path, inst)
    assert raw["line"].dtype == np.int64
    assert all(str(raw[c].dtype) == "str" for c in text.columns)


def test_separator_only_rows_are_skipped_and_listed(tmp_path, inst, text):
    body = to_csv_bytes(text.iloc[3:5], sep=";").decode().splitlines()
    empty = ";" * (len(text.columns) - 1)
    path = tmp_path / "excel.csv"
    path.write_text("\n".join([body[0], body[1], empty, body[2], empty, " ;  ;"]) + "\n")
    raw = read_export(path, inst)
    assert raw["line"].tolist() == [2, 4]
    assert raw.attrs["export"]["empty_records_skipped"] == [3, 5, 6]


def test_fast_and_exact_csv_paths_agree(tmp_path, inst, text, monkeypatch):
    """pyarrow's reader is used when it provably gives the csv module's result; compare them
    on files that take the fast path and on files that must fall back."""
    from surveydata import _records

    t = text.copy()
    t.loc[5, "comments"] = '  ;;"\r\n x'
    blank = ";" * (len(t.columns) - 1)
    variants = {
        "plain": to_csv_bytes(t, sep=";"),
        "crlf_quoted": to_csv_bytes(t, sep=",", quote_all=True, newline="\r\n"),
        "no_final_newline": to_csv_bytes(t, sep="\t").rstrip(b"\n"),
        "separator_rows": to_csv_bytes(t, sep=";") + (blank + "\n" + blank + "\n").encode(),
        "blank_lines": to_csv_bytes(t, sep=";").replace(b"\nr003-00004", b"\n\nr003-00004"),
        "short_record": to_csv_bytes(t, sep=";") + b"r999;1;2\n",
    }
    fast_used = {}
    real_fast = _records._fast_block

    def spy(*a, **k):
        out = real_fast(*a, **k)
        fast_used[name] = fast_used.get(name, True) and out is not None
        return out

    monkeypatch.setattr(_records, "_fast_block", spy)
    for name, data in variants.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        fast = read_export(path, inst)
        monkeypatch.setattr(_records, "_FAST", False)
        exact = read_export(path, inst)
        monkeypatch.setattr(_records, "_FAST", True)
        pd.testing.assert_frame_equal(fast, exact, obj=name)
        assert fast.attrs == exact.attrs, name
    assert fast_used == {"plain": True, "crlf_quoted": True, "no_final_newline": True,
                         "separator_rows": True, "blank_lines": False, "short_record": False}


def test_broken_quoting_is_read_leniently_but_listed(tmp_path, inst, text):
    body = to_csv_bytes(text.iloc[3:6], sep=";").decode().splitlines()
    cells = body[2].split(";")
    cells[-1] = '"kein"Kommentar'  # a closing quote followed by text: broken quoting
    body[2] = ";".join(cells)
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(body) + "\n")
    raw = read_export(path, inst)
    assert raw.loc[1, "comments"] == "keinKommentar"  # what Excel and LibreOffice read
    assert raw.attrs["export"]["lines_with_inner_quotes"] == [3]


def test_limesurvey_export_validates_and_incomplete_responses_are_quarantined(tmp_path, inst,
                                                                              text):
    from surveydata import validate

    data = _limesurvey_bytes(inst, text).decode("utf-8-sig")
    lines = data.split("\r\n")
    k = next(i for i, line in enumerate(lines) if line.startswith('"4";'))
    cells = lines[k].split(";")
    cells[1] = '""'  # submitdate empty: LimeSurvey's incomplete response
    lines[k] = ";".join(cells)
    path = tmp_path / "results-survey1.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    res = validate(read_export(path, inst), inst)
    assert res.report["n_valid"] == len(text) - 1
    assert res.failures[["response_id", "column", "value", "rule"]].values.tolist() == [
        ["4", "submitted_at", "", "not_nullable"]]


def test_rename_maps_a_files_own_column_names_and_is_recorded(tmp_path, inst, text):
    theirs = text.rename(columns={"duration_s": "Dauer", "n_physicians": "aerzte"})
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(theirs))
    with pytest.raises(ExportError, match="missing required column"):
        read_export(path, inst)
    raw = read_export(path, inst, rename={"Dauer": "duration_s", "aerzte": "n_physicians"})
    _same(raw, text)
    assert raw.attrs["export"]["renamed_columns"] == {"Dauer": "duration_s", "aerzte": "n_physicians"}
    with pytest.raises(ExportError, match=r"rename: column\(s\) \['Duration'\] are not in the file"):
        read_export(path, inst, rename={"Duration": "duration_s"})
    with pytest.raises(ExportError, match=r"already has column\(s\) \['response_id'\]"):
        read_export(path, inst, rename={"Dauer": "response_id"})
