"""CSV outputs are formula-safe after every line break (CR, LF, CRLF), and such cells quoted."""
import csv
import re

import pandas as pd
import pytest

from surveydata._safe_csv import neutralise, write_csv

HOSTILE = ["x\r=1+1", "y\n+2+2", "z\r\n@SUM(A1)", "a\r\r-1-1", "\r=x", "ok\n-7", "=cmd|' /C calc'!A0",
           "\t=1", "plain", "-7", "+3.5"]


def _physical_lines(text):
    return re.split(r"\r\n|\r|\n", text)


@pytest.mark.parametrize("value,safe", [
    ("x\r=1+1", "x\r'=1+1"), ("y\n+2+2", "y\n'+2+2"), ("z\r\n@S", "z\r\n'@S"),
    ("ok\n-7", "ok\n-7"), ("a\n\t=1", "a\n'\t=1"), ("\n=1", "'\n'=1"), ("1\n2", "1\n2"),
])
def test_every_line_of_a_cell_is_neutralised(value, safe):
    assert neutralise(value) == safe


@pytest.mark.parametrize("with_cr", [True, False])
def test_no_physical_line_of_the_file_starts_a_formula(tmp_path, with_cr):
    values = HOSTILE if with_cr else [v.replace("\r", "") for v in HOSTILE]
    df = pd.DataFrame({"response_id": values, "n": range(len(values)), "reasons": values[::-1]})
    path = tmp_path / "q.csv"
    write_csv(df, path)
    text = path.read_bytes().decode("utf-8")
    for line in _physical_lines(text):
        first = line.lstrip('"').split(",", 1)[0].rstrip('"')  # what a spreadsheet would evaluate
        assert not first.startswith(("=", "+", "-", "@", "\t")) or re.fullmatch(
            r"[+-]\d+(\.\d+)?", first), repr(line)
    # every cell with a line break is quoted, so a csv reader gets the (neutralised) cells back
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) == len(values) + 1
    assert [r[0] for r in rows[1:]] == [neutralise(v) for v in values]
    for cell in ("x\r'=1+1", "z\r\n'@SUM(A1)") if with_cr else ("y\n'+2+2",):
        assert f'"{cell}"' in text
