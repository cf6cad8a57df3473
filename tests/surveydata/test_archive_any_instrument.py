"""Data that travels, for any questionnaire: date, datetime and decimal-number items with the
instrument's own missing codes (97/98/99) survive SPSS, Stata and R (read back by R itself).

Instruments: the QA nurses' survey (tests/data/unseen/nurses.yaml: a date and a datetime item, two
decimal numbers, 97/98/99) and the packaged pharmacy staff survey (a filtered date item, numbers,
multiple choice). Data: simulated, validated; every value is compared with the validated frame.

The convention checked (surveydata.archive's module doc): a date column cannot hold a missing
code, so a date/datetime item is a date column plus ``<var>__missing`` with the missing code
(labelled, empty where answered); number items keep their codes in SPSS (user-missing) and
Stata (labelled); in R every number stays numeric and every missing code is NA with its reason in
``<var>__missing`` (the typed frame's reason names).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import schemas
from surveydata import read_export
from surveydata.archive import ArchiveError, restore_date_codes, write_archive
from surveydata.simulate.generic import simulate_responses
from surveydata.validate import validate

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENTS = {
    "nurses": ROOT / "tests" / "data" / "unseen" / "nurses.yaml",
    "pharmacy_staff": ROOT / "schemas" / "instruments" / "pharmacy_staff.yaml",
}


@pytest.fixture(scope="module", params=sorted(INSTRUMENTS))
def checked(request, tmp_path_factory):
    """(instrument, validated typed frame in German) of 120 simulated respondents."""
    inst = schemas.load_instrument(INSTRUMENTS[request.param])
    sim = simulate_responses(inst, n=120, seed=4, error_rate=0.0)
    path = tmp_path_factory.mktemp(request.param) / "export.csv"
    path.write_bytes(sim.to_bytes())
    valid = validate(read_export(path, inst), inst, lang="de").valid
    return inst, valid.reset_index(drop=True)


def _items(inst, *types):
    return [i for i in inst.items if i.type in types]


def _code_of(inst) -> dict[str, float]:
    return {mc.name: float(c) for c, mc in inst.missing_codes.items()}


def _expected_dates(valid, item):
    s = valid[item.var]
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s


def test_the_fixtures_have_what_the_test_is_about(checked):
    inst, valid = checked
    dates = _items(inst, "date", "datetime")
    assert dates and _items(inst, "number") and set(inst.missing_codes) == {97, 98, 99}
    for item in dates:      # answered and missing (with a reason) dates in the data
        assert valid[item.var].notna().sum() > 10
        assert valid[f"{item.var}__missing"].notna().sum() > 3


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_dates_and_numbers_in_spss_and_stata(checked, fmt, tmp_path):
    inst, valid = checked
    (path,) = write_archive(valid, inst, tmp_path, fmt, lang="de")
    back, meta = (pyreadstat.read_sav(path, user_missing=True) if fmt == "sav" else pyreadstat.read_dta(path))
    code = _code_of(inst)
    for item in _items(inst, "date", "datetime"):
        expected = _expected_dates(valid, item)
        got = pd.to_datetime(back[item.var])
        answered = expected.notna()
        assert (got[answered] == expected[answered]).all(), item.var
        assert got[~answered].isna().all()
        kind = meta.original_variable_types[item.var]
        assert kind == {("sav", "date"): "DATE11", ("sav", "datetime"): "DATETIME20",
                        ("dta", "date"): "%td", ("dta", "datetime"): "%tc"}[fmt, item.type]
        # the missing code is kept beside the date, labelled; empty where answered
        reason = valid[f"{item.var}__missing"].astype(object)
        companion = back[f"{item.var}__missing"]
        np.testing.assert_array_equal(companion[reason.notna()].to_numpy(), reason.dropna().map(code).to_numpy())
        assert companion[reason.isna()].isna().all()
        assert meta.variable_value_labels[f"{item.var}__missing"][98.0] == "Weiß nicht"
    for item in _items(inst, "number"):
        reason = valid[f"{item.var}__missing"].astype(object)
        expected = valid[item.var].astype(float).where(reason.isna(), reason.map(code))
        np.testing.assert_allclose(back[item.var].to_numpy(dtype=float), expected.to_numpy(dtype=float),
                                   rtol=1e-12)
        if fmt == "sav":
            assert {r["lo"] for r in meta.missing_ranges[item.var]} == {97.0, 98.0, 99.0}


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (.ci/run installs r-base-core)")
def test_r_reads_dates_numbers_and_missing_reasons(checked, tmp_path):
    inst, valid = checked
    write_archive(valid, inst, tmp_path, "r", lang="de")
    dates, numbers = _items(inst, "date", "datetime"), _items(inst, "number")
    singles = [i for i in inst.items if i.type == "single" and f"{i.var}__missing" in valid.columns
               and not i.string_codes][:2]
    multis = [i.var for i in inst.items if i.type == "multi"]     # one reason for all option columns
    cols = [i.var for i in (*dates, *numbers, *singles)]
    reasons = [f"{v}__missing" for v in (*cols, *multis) if f"{v}__missing" in valid.columns]
    # R writes what it read (dates as text in a fixed format) and each column's class
    script = "\n".join([
        'source("load.R")',
        f"cols <- c({', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)})",
        f"reasons <- c({', '.join(repr(c).replace(chr(39), chr(34)) for c in reasons)})",
        ('out <- lapply(cols, function(v) if (inherits(d[[v]], "POSIXct")) format(d[[v]], "%Y-%m-%d %H:%M:%S", tz = "UTC")'
         '  else if (inherits(d[[v]], "Date")) format(d[[v]]) else if (is.factor(d[[v]])) as.character(d[[v]])'
         '  else sprintf("%.10g", d[[v]]))'),
        "names(out) <- cols",
        "out <- c(out, lapply(reasons, function(v) as.character(d[[v]])))",
        "names(out)[seq_along(reasons) + length(cols)] <- reasons",
        'write.csv(as.data.frame(out, check.names = FALSE), "back.csv", row.names = FALSE, na = "")',
        ('cat(paste(c(cols, reasons), sapply(c(cols, reasons), function(v) class(d[[v]])[1]),'
         ' sapply(c(cols, reasons), function(v) !is.null(attr(d[[v]], "label"))), sep = ":"), sep = "\\n")'),
    ])
    res = subprocess.run(["Rscript", "-e", script], check=False, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    classes = {}
    for line in res.stdout.split():
        var, cls, labelled = line.split(":")
        classes[var] = cls
        assert labelled == "TRUE", var
    back = pd.read_csv(tmp_path / "back.csv", dtype=str, keep_default_na=False)
    assert len(back) == len(valid)
    for item in dates:
        assert classes[item.var] == ("Date" if item.type == "date" else "POSIXct")
        fmt = "%Y-%m-%d" if item.type == "date" else "%Y-%m-%d %H:%M:%S"
        expected = _expected_dates(valid, item).dt.strftime(fmt).fillna("")
        assert back[item.var].tolist() == expected.tolist(), item.var
    for item in numbers:
        assert classes[item.var] == "numeric"      # never a factor without levels (all NA)
        got = pd.to_numeric(back[item.var].replace({"NA": None}))
        np.testing.assert_allclose(got.to_numpy(dtype=float), valid[item.var].to_numpy(dtype=float),
                                   rtol=1e-9, equal_nan=True)
    for item in singles:
        assert classes[item.var] == "factor"
        assert back[item.var].tolist() == valid[item.var].astype(object).fillna("").tolist()
    for name in reasons:     # the typed frame's reason names, NA where answered
        assert classes[name] == "factor"
        assert back[name].tolist() == valid[name].astype(object).fillna("").tolist(), name
    assert any(back[name].ne("").any() for name in reasons)


def test_a_value_that_does_not_fit_is_an_error_not_a_silent_nan(checked, tmp_path):
    inst, valid = checked
    number = _items(inst, "number")[0].var
    bad = valid.copy()
    bad[number] = bad[number].astype(object)
    bad.loc[bad[number].notna().idxmax(), number] = "12 h"
    with pytest.raises(ArchiveError, match=rf"column {number}: value '12 h' .* is not a number"):
        write_archive(bad, inst, tmp_path, "sav", lang="de")
    date = _items(inst, "date")[0].var
    bad = valid.copy()
    bad[date] = bad[date].astype(object)
    bad.loc[bad[date].notna().idxmax(), date] = "soon"
    with pytest.raises(ArchiveError, match=rf"column {date}: date item {date} holds values that are not dates"):
        write_archive(bad, inst, tmp_path, "r", lang="de")


def test_export_readme_says_what_the_files_leave_out(tmp_path, capsys):
    # F12: an export of a study's data holds the items; the README names the derived variables,
    # the design/weights and the free text it does not hold
    from surveydata.cli import main

    study_file = ROOT / "tests" / "data" / "unseen" / "nurses_study.yaml"
    study = schemas.load_study(study_file)
    inst = study.instrument
    sim = simulate_responses(inst, n=60, seed=2, error_rate=0.0)
    (tmp_path / "export.csv").write_bytes(sim.to_bytes())
    checked = tmp_path / "checked"
    checked.mkdir()
    validate(read_export(tmp_path / "export.csv", inst), inst, lang="de").valid.to_parquet(checked / "valid.parquet")
    assert main(["export", "--study", str(study_file), "--data", str(checked), "--format", "dta",
                 "--out", str(tmp_path / "out")]) == 0
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert study.derived and study.design is not None
    for d in study.derived:
        assert d.var in readme
    assert f"strata {', '.join(study.design.strata)}" in readme and "weights" in readme
    for item in inst.items:
        if item.type == "text":
            assert item.var in readme
    assert "60 valid responses" in readme and str(tmp_path) not in readme
    assert "last_night_shift, shift_start" in readme


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_restore_date_codes_gives_the_export_convention_back(checked, fmt, tmp_path):
    # a reader of our own archive files (validate back) needs a date item as one column again:
    # ISO text where there is a date, the missing code where there is none
    inst, valid = checked
    (path,) = write_archive(valid, inst, tmp_path, fmt, lang="de")
    back = (pyreadstat.read_sav(path) if fmt == "sav" else pyreadstat.read_dta(path))[0]
    restored = restore_date_codes(back, inst)
    code = {mc.name: str(c) for c, mc in inst.missing_codes.items()}
    for item in _items(inst, "date", "datetime"):
        assert f"{item.var}__missing" not in restored.columns
        fmt_ = "%Y-%m-%d" if item.type == "date" else "%Y-%m-%dT%H:%M:%S"
        expected = _expected_dates(valid, item).dt.strftime(fmt_).astype(object)
        reason = valid[f"{item.var}__missing"].astype(object)
        expected = expected.where(expected.notna(), reason.map(code))
        assert restored[item.var].tolist() == expected.tolist(), item.var
