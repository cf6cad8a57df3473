"""Reading in pieces (io.ExportChunks) gives exactly what reading the whole file gives."""
import pandas as pd
import pytest

import schemas
from surveydata import _records, read_export
from surveydata.io import ExportChunks
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()


def _variants():
    t = to_text(valid_coded(INST, 60, seed=8))
    t["comments"] = ""
    t.loc[5, "comments"] = "eins\nzwei\r\ndrei"
    t.loc[17, "comments"] = "Größe; \"x\""
    t.loc[30, "comments"] = "a\nb"
    plain = to_csv_bytes(t, sep=";", newline="\r\n")
    lines = to_csv_bytes(t).decode().split("\n")
    lines[20] += '"'  # a quote that never closes
    lines[40] = lines[40].encode("utf-8").decode("utf-8")
    runaway = "\n".join(lines).encode()
    mixed_lines = to_csv_bytes(t).decode().split("\n")
    mixed = b"\n".join(x.encode("cp1252" if i == 18 else "utf-8") for i, x in enumerate(mixed_lines))
    return {"plain_crlf": plain, "runaway": runaway, "mixed": mixed,
            "bom_cr": b"\xef\xbb\xbf" + to_csv_bytes(t, newline="\r", quote_all=True),
            "cp1252": to_csv_bytes(t).decode().encode("cp1252"),
            "blank_and_empty": to_csv_bytes(t).replace(b"\nr008-00010", b"\n\n;;;\nr008-00010")}


@pytest.mark.parametrize("name", list(_variants()))
@pytest.mark.parametrize("chunk_bytes", [1024, 5000])
def test_pieces_equal_the_whole(tmp_path, name, chunk_bytes, monkeypatch):
    monkeypatch.setattr(_records, "MAX_RECORD_LINES", 6)  # pieces of a few lines still hold records
    path = tmp_path / f"{name}.csv"
    path.write_bytes(_variants()[name])
    whole = read_export(path, INST)
    chunks = ExportChunks(path, INST, chunk_bytes=chunk_bytes)
    pieces = list(chunks)
    assert len(pieces) > 3
    got = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(got, whole.reset_index(drop=True))
    info = dict(whole.attrs["export"])
    assert chunks.info == info
