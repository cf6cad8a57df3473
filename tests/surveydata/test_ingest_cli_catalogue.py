"""The catalogue of hostile and broken inputs of issue 12 (reading, validating, writing), each run
through the command line: a result (exit 0) or one line naming the problem (exit 2), never a
traceback, never a previous output damaged."""
import re

import numpy as np
import pytest

import schemas
from surveydata.cli import main
from tests.export_factory import to_csv_bytes, to_text, valid_coded

INST = schemas.load_instrument()
TEXT = to_text(valid_coded(INST, 12, seed=31))
TEXT["comments"] = ""


def _csv(t=TEXT, **kw):
    return to_csv_bytes(t, **kw)


def _set(**cells):
    t = TEXT.copy()
    for key, value in cells.items():
        t.loc[2, key] = value
    return t


def _runaway():
    lines = _csv().decode().split("\n")
    lines[3] += '"'
    return "\n".join(lines).encode()


def _mixed():
    t = _set(comments="Größe")
    t.loc[4, "comments"] = "Grüße"
    lines = _csv(t).decode().split("\n")
    return b"\n".join(line.encode("cp1252" if i == 3 else "utf-8") for i, line in enumerate(lines))


def _sav(path):
    import pyreadstat

    frame = valid_coded(INST, 4, seed=5)
    for c in frame.columns:
        if frame[c].dtype.kind in "iu":
            frame[c] = frame[c].astype(float)
    frame.loc[1, "duration_s"] = np.inf
    pyreadstat.write_sav(frame, str(path))


# name: (file content or writer, exit code, what stdout (0) or stderr (2) must say)
CATALOGUE = {
    "runaway_quote_last_column": (_runaway(), 0, "broken quoting on line 4"),
    "formula_after_cr": (_csv(_set(n_physicians="x\r=1+1"), quote_all=True), 0, "1 quarantined"),
    "nines_overflow": (_csv(_set(duration_s="9" * 400)), 0, "overflow:duration_s"),
    "mixed_encodings": (_mixed(), 0, "mixed encodings: 1 line(s) are not UTF-8"),
    "year_zero": (_csv(_set(submitted_at="0000-01-01T00:00:00")), 0, "date_range:submitted_at"),
    "id_case": (_csv(_set(response_id=TEXT.loc[0, "response_id"].upper())), 0,
                "duplicate_response_id"),
    "id_zero_width": (_csv(_set(response_id="\u200b" + TEXT.loc[0, "response_id"])), 0,
                      "duplicate_response_id"),
    "plus_sign": (_csv(_set(n_workstations="+3")), 0, "12 valid"),
    "quoted_header_newline": (_csv(TEXT.assign(**{"Notiz\nintern": "x"})), 0,
                              "extra columns kept: Notiz\nintern"),
    "ten_mb_cell": (_csv(_set(comments="x" * 10_000_000)), 0, "1 quarantined"),
    "utf16_without_bom": (_csv().decode().encode("utf-16-le"), 2, "UTF-16 without a byte-order mark"),
    "utf32": ("\ufeff".encode("utf-32-le") + _csv().decode().encode("utf-32-le"), 2, "UTF-32"),
    "spss_inf": (_sav, 0, "dtype:duration_s"),
    "not_a_csv": (b"\x00\x01\x02garbage", 2, "NUL byte"),
    "empty": (b"", 2, "empty"),
}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_catalogue_through_the_cli(tmp_path, capsys, name):
    content, code, says = CATALOGUE[name]
    path = tmp_path / (f"{name}.sav" if callable(content) else f"{name}.csv")
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    out = tmp_path / "out"
    rc = main(["validate", str(path), "--out", str(out)])
    std = capsys.readouterr()
    assert "Traceback" not in std.err + std.out
    assert rc == code, std.err
    if code == 2:
        assert len(std.err.strip().splitlines()) == 1 and says in std.err
        assert str(path) in std.err
        assert not out.exists()  # nothing half-written
    else:
        assert says in std.out or says in (out / "failures.csv").read_text(encoding="utf-8")
        for csv_name in ("quarantine.csv", "failures.csv", "flags.csv"):
            text = (out / csv_name).read_text(encoding="utf-8")
            for line in re.split(r"\r\n|\r|\n", text):
                first = line.lstrip('"').split(",", 1)[0]
                assert not first.startswith(("=", "+", "@")), (csv_name, line)


def test_symlink_in_out_is_refused_and_victim_untouched(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_bytes(_csv())
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "quarantine.csv").symlink_to("../victim.txt")
    rc = main(["validate", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "quarantine.csv: is a symbolic link" in err and len(err.splitlines()) == 1
    assert victim.read_text() == "precious"


def test_unwritable_out_names_the_folder(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_bytes(_csv())
    (tmp_path / "afile").write_text("")
    rc = main(["validate", str(path), "--out", str(tmp_path / "afile" / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "afile" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_failed_run_leaves_previous_outputs_and_keeps_foreign_files(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(_csv())
    out = tmp_path / "out"
    assert main(["validate", str(good), "--out", str(out)]) == 0
    (out / "my_notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    assert main(["validate", str(bad), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["validate", str(good), "--out", str(out)]) == 0
    assert (out / "my_notes.txt").read_text() == "mine"
    assert "kept, not written by this run: my_notes.txt" in capsys.readouterr().out
