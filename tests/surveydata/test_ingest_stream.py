"""Validation in pieces (validate_chunks) gives exactly what validating the whole file gives:
duplicates across pieces, speeders against the median of all valid rows, broken records."""
import pandas as pd

import schemas
from surveydata import read_export, validate
from surveydata.demo import DEMO_DIR
from surveydata.io import ExportChunks
from surveydata.validate import validate_chunks
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()


def _same(a, b):
    r1, r2 = dict(a.report), dict(b.report)
    assert r1 == r2
    pd.testing.assert_frame_equal(a.quarantine.reset_index(drop=True),
                                  b.quarantine.reset_index(drop=True))
    key = ["line", "column", "rule", "value"]
    pd.testing.assert_frame_equal(a.failures.sort_values(key).reset_index(drop=True),
                                  b.failures.sort_values(key).reset_index(drop=True))
    pd.testing.assert_frame_equal(a.flags.sort_values(["line", "flag"]).reset_index(drop=True),
                                  b.flags.sort_values(["line", "flag"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(a.valid.reset_index(drop=True), b.valid.reset_index(drop=True))


def test_pieces_with_duplicates_across_them(tmp_path):
    t = to_text(valid_coded(INST, 80, seed=6))
    t["comments"] = ""
    t = pd.concat([t, t.iloc[[3]], t.iloc[[70]].assign(comments="anders"),
                   t.iloc[[10]].assign(response_id=" " + t.loc[10, "response_id"].upper())],
                  ignore_index=True)  # an exact copy, a changed copy, an id variant: far apart
    t.loc[5, "duration_s"] = "12.0"  # a speeder
    lines = to_csv_bytes(t).decode().split("\n")
    lines[40] += '"'  # a broken record
    path = tmp_path / "dups.csv"
    path.write_text("\n".join(lines))
    whole = validate(read_export(path, INST), INST)
    chunks = ExportChunks(path, INST, chunk_bytes=2048)
    assert len(list(chunks)) > 5
    streamed = validate_chunks(chunks, INST)
    _same(streamed, whole)
    rules = set(whole.failures["rule"])
    assert {"duplicate_row", "duplicate_response_id", "malformed_record"} <= rules
    assert "speeder" in set(whole.flags["flag"])


def test_demo_validates_identically_in_pieces():
    path = DEMO_DIR / "export.csv"
    whole = validate(read_export(path, INST), INST)
    streamed = validate_chunks(ExportChunks(path, INST, chunk_bytes=64 << 10), INST)
    _same(streamed, whole)


def test_valid_rows_are_written_piece_by_piece_with_whole_export_derived_values(tmp_path):
    t = to_text(valid_coded(INST, 40, seed=2))
    path = tmp_path / "e.csv"
    path.write_bytes(to_csv_bytes(t))
    out = tmp_path / "v.parquet"
    res = validate_chunks(ExportChunks(path, INST, chunk_bytes=4096), INST, valid_path=out)
    assert len(res.valid) == 0 and res.report["n_valid"] == 40
    got = pd.read_parquet(out)
    whole = validate(read_export(path, INST), INST).valid
    pd.testing.assert_frame_equal(got, whole)  # info_index: z-scores over all 40 rows
    assert not (tmp_path / "v.parquet.pieces").exists()
