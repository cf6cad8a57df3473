"""Fuzz: an export mutated at the byte level (quotes, separators, line breaks, encodings,
truncation) is read and validated with the invariants of issue 12:

* records read = valid + quarantined, and = the records counted from the file's lines;
* the ids of valid + quarantined rows are exactly the ids read;
* no value crosses records: a valid row holds the text of one record only, and every record
  whose line survived the mutations untouched is read with exactly its original values;
* no traceback: the only exception allowed is a `SurveyDataError` (a one-line message).
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from surveydata import read_export, validate
from surveydata.errors import SurveyDataError
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()
N = 8
BASE = to_text(valid_coded(INST, N, seed=17))
BASE["response_id"] = [f"id{i:03d}x" for i in range(N)]
BASE["comments"] = [f"tag{i:03d}" + (' "q", ok; und' if i % 3 == 0 else "") for i in range(N)]
TAG = re.compile(r"(?:id|tag)(\d{3})")

INSERTS = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b'""', b"\xc3", b"\xe4", b"\xc3\xa4",
           b"\x00", b" "]

mutation = st.one_of(
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(INSERTS)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 3)),
    st.tuples(st.just("replace"), st.floats(0, 1), st.sampled_from(INSERTS)),
    st.tuples(st.just("truncate"), st.floats(0.3, 1), st.just(None)),
)


def _mutate(data: bytes, header_end: int, mutations) -> bytes:
    for kind, where, arg in mutations:
        body = len(data) - header_end
        if body <= 0:
            break
        at = header_end + int(where * body)
        if kind == "insert":
            data = data[:at] + arg + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + arg:]
        elif kind == "replace":
            data = data[:at] + arg + data[at + len(arg):]
        else:
            data = data[:at]
    return data


def _check(path, original_lines):
    try:
        raw = read_export(path, INST)
    except SurveyDataError:
        return None  # a one-line message (the CLI test proves there is no traceback)
    res = validate(raw, INST)
    r = res.report
    assert r["n_raw"] == len(raw) == r["n_valid"] + r["n_quarantined"]
    assert r["n_records_by_line_count"] == r["n_records_read"] == len(raw)
    ids = sorted(res.valid["response_id"].astype(str).str.strip().tolist()  # valid ids: trimmed
                 + res.quarantine["response_id"].astype(str).str.strip().tolist())
    assert ids == sorted(raw["response_id"].astype(str).str.strip().tolist())
    lines = sorted(res.valid["line"].tolist() + res.quarantine["line"].tolist())
    assert lines == sorted(raw["line"].tolist())
    # no value crosses records: a valid row's text names one record only
    text_cols = [c for c in BASE.columns if c in raw.columns]
    valid_lines = set(res.valid["line"].tolist())
    for _, row in raw[raw["line"].isin(valid_lines)].iterrows():
        tags = set(TAG.findall(" ".join(str(row[c]) for c in text_cols)))
        assert len(tags) <= 1, (row["line"], tags)
    # every record whose line is in the file unchanged is read exactly
    data = path.read_bytes()
    physical = re.split(rb"\r\n|\r|\n", data)
    for i, line in original_lines.items():
        if physical.count(line) == 1:
            hit = raw[raw["response_id"] == BASE.loc[i, "response_id"]]
            assert len(hit) >= 1, i
            row = hit.iloc[0]
            assert [row[c] for c in BASE.columns] == BASE.loc[i].tolist(), i
            assert row["_row_error"] == ""
    return res


def _fuzz(mutations, sep, encoding, quote_all, crlf, tmp_path):
    text = to_csv_bytes(BASE, sep=sep, quote_all=quote_all, newline="\r\n" if crlf else "\n")
    decoded = text.decode("utf-8")
    data = decoded.encode(encoding)  # Python's utf-16 writes the BOM
    header_end = data.index(b"\n" if encoding != "utf-16" else "\n".encode("utf-16-le")) + 1
    original = {}
    if encoding != "utf-16":
        for i, line in enumerate(re.split(rb"\r\n|\r|\n", data)[1:N + 1]):
            original[i] = line
    path = tmp_path / "fuzzed.csv"
    path.write_bytes(_mutate(data, header_end, mutations))
    _check(path, original)


SETTINGS = {"deadline": None, "derandomize": True,
            "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
GIVEN = {"mutations": st.lists(mutation, min_size=1, max_size=4),
         "sep": st.sampled_from([",", ";", "\t"]),
         "encoding": st.sampled_from(["utf-8", "cp1252", "utf-16"]),
         "quote_all": st.booleans(), "crlf": st.booleans()}


@settings(max_examples=10, **SETTINGS)
@given(**GIVEN)
def test_byte_mutations_keep_the_invariants(tmp_path, mutations, sep, encoding, quote_all, crlf):
    _fuzz(mutations, sep, encoding, quote_all, crlf, tmp_path)


@pytest.mark.slow
@settings(max_examples=600, **SETTINGS)
@given(**GIVEN)
def test_byte_mutations_keep_the_invariants_many(tmp_path, mutations, sep, encoding, quote_all,
                                                 crlf):
    _fuzz(mutations, sep, encoding, quote_all, crlf, tmp_path)


def test_unmutated_base_is_all_valid(tmp_path):
    path = tmp_path / "base.csv"
    path.write_bytes(to_csv_bytes(BASE))
    res = _check(path, {})
    assert res.report["n_valid"] == N, res.quarantine["reasons"].tolist()
    assert np.array_equal(res.valid["line"].to_numpy(), np.arange(2, N + 2))
