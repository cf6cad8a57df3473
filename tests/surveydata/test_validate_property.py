"""Property: whatever a valid export is mutated into, reading and validating it never crashes and
loses no row: n_raw == rows written == n_valid + n_quarantined."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from surveydata import read_export, validate
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()
BASE = to_text(valid_coded(INST, 10, seed=7))
COLUMNS = list(BASE.columns)

# Text that a respondent, a platform or Excel might put in a cell: codes, numbers in other
# notations, separators, quotes, newlines, formulas, umlauts. (No NUL or other control
# characters: those are not text.)
cell_text = st.one_of(
    st.sampled_from(["-9", "-8", "-7", "0", "1", "2", "5", "7", "99", "", " ", " 3 ", "3,5",
                     "2.0", "1e3", "abc", "BW", "bw", "XX", "Y", "=1+1", "@x", "-", '"', ";",
                     ",", "\n", "ä", "2026-02-30T10:00:00", "NaN", "None"]),
    st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t;,\""),
            max_size=12),
)

mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 9), st.sampled_from(COLUMNS), cell_text),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("duplicate"), st.integers(0, 9)),
    st.tuples(st.just("same_id"), st.integers(0, 9), st.sampled_from(COLUMNS), cell_text),
)


def _assert_same_as_exact_reader(raw, path):
    """pyarrow's fast CSV path, when it is taken, gives exactly the csv-module path's frame."""
    from surveydata import _records

    _records._FAST = False
    try:
        exact = read_export(path, INST)
    finally:
        _records._FAST = True
    pd.testing.assert_frame_equal(raw, exact)
    assert raw.attrs == exact.attrs


def _apply(mutations) -> pd.DataFrame:
    df = BASE.copy()
    for m in mutations:
        if len(df) == 0:
            break
        i = m[1] % len(df)
        if m[0] == "set":
            df.loc[df.index[i], m[2]] = m[3]
        elif m[0] == "delete":
            df = df.drop(index=df.index[i])
        elif m[0] == "duplicate":
            df = pd.concat([df, df.iloc[[i]]])
        else:  # a second record with the same response_id and one cell changed
            extra = df.iloc[[i]].copy()
            extra.loc[:, m[2] if m[2] != "response_id" else "comments"] = m[3]
            df = pd.concat([df, extra])
    return df.reset_index(drop=True)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=st.lists(mutation, max_size=8),
       sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
       bom=st.booleans(), quote_all=st.booleans(), crlf=st.booleans())
def test_mutated_exports_never_crash_and_lose_nothing(tmp_path, mutations, sep, encoding, bom,
                                                       quote_all, crlf):
    df = _apply(mutations)
    text = to_csv_bytes(df, sep=sep, quote_all=quote_all,
                        newline="\r\n" if crlf else "\n").decode("utf-8")
    data = text.encode(encoding, errors="replace")  # cp1252 cannot hold every character
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / "mutated.csv"
    path.write_bytes(data)
    raw = read_export(path, INST)
    _assert_same_as_exact_reader(raw, path)
    res = validate(raw, INST)
    r = res.report
    assert r["n_raw"] == len(df) == len(raw)
    assert r["n_raw"] == r["n_valid"] + r["n_quarantined"]
    assert len(res.valid) == r["n_valid"] and len(res.quarantine) == r["n_quarantined"]
    # every quarantined row has at least one reason, and lines identify distinct records
    assert (res.quarantine["n_reasons"] >= 1).all()
    lines = np.concatenate([res.valid["line"].to_numpy(), res.quarantine["line"].to_numpy()])
    assert sorted(lines.tolist()) == sorted(raw["line"].tolist())


def test_unmutated_base_is_valid():
    res = validate(BASE.assign(line=np.arange(2, len(BASE) + 2)), INST)
    assert res.report["n_quarantined"] == 0, res.quarantine["reasons"].tolist()


@pytest.mark.parametrize("value", ["1e3", "NaN", "None", "３", "3 4", "0x10"])
def test_odd_numbers_in_integer_items_are_reasons(value):
    df = BASE.copy()
    df.loc[0, "n_workstations"] = value
    res = validate(df.assign(line=np.arange(2, len(df) + 2)), INST)
    f = res.failures
    assert f[["line", "column", "rule"]].values.tolist() == [
        [2, "n_workstations", "dtype:n_workstations"]]


def test_unicode_whitespace_around_numbers_is_stray_whitespace():
    df = BASE.copy()
    df.loc[0, "n_workstations"] = "\u00a03\u2009"  # Excel's no-break and thin spaces
    res = validate(df.assign(line=np.arange(2, len(df) + 2)), INST)
    assert res.report["n_quarantined"] == 0
    assert res.valid.loc[0, "n_workstations"] == 3
