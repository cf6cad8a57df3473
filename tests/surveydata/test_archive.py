"""Data that travels: SPSS, Stata, Parquet and R files of the validated demo data carry the
instrument's codes, value labels, variable labels and missing codes; each file is read back and
compared with the data it came from."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import schemas
import surveydata
from surveydata.archive import ArchiveError, coded_frame, stata_names, write_archive

INST = schemas.load_instrument()


@pytest.fixture(scope="module")
def demo():
    return surveydata.load_demo()


@pytest.fixture(scope="module")
def coded(demo):
    return coded_frame(demo, INST, lang="de")


def test_coded_frame_restores_every_missing_code(demo, coded):
    # incident_12m: answers as codes, "don't know" -8 and "no answer" -9 from __missing
    reason = demo["incident_12m__missing"].astype(object)
    assert (coded.loc[reason == "dont_know", "incident_12m"] == -8).all()
    assert (coded.loc[reason == "no_answer", "incident_12m"] == -9).all()
    assert (coded.loc[reason == "not_applicable", "incident_12m"] == -7).all() if (reason == "not_applicable").any() else True
    yes = demo["incident_12m"].astype(object) == "Ja"
    assert (coded.loc[yes, "incident_12m"] == 1).all() and yes.sum() > 0
    # skip logic: tm_mobile_lockcode not asked -> -7
    asked = demo["tm_mobile_lockcode__missing"].astype(object) == "not_applicable"
    assert asked.sum() > 0 and (coded.loc[asked, "tm_mobile_lockcode"] == -7).all()
    # multi-choice option columns are 1/0
    opt = "info_sources__kbv_kv"
    assert set(coded[opt].dropna().unique()) <= {0, 1, -7, -8, -9}
    assert "comments" not in coded.columns          # free text left out by default


def test_spss_round_trip(demo, coded, tmp_path):
    (path,) = write_archive(demo, INST, tmp_path, "sav", lang="de")
    back, meta = pyreadstat.read_sav(path, user_missing=True)
    np.testing.assert_array_equal(back["incident_12m"].to_numpy(),
                                  coded["incident_12m"].astype(float).to_numpy())
    assert meta.variable_value_labels["incident_12m"][1.0] == "Ja"
    assert meta.variable_value_labels["incident_12m"][-8.0] == "Weiß nicht"
    assert meta.column_names_to_labels["incident_12m"] == INST.item("incident_12m").text.de
    declared = {r["lo"] for r in meta.missing_ranges["incident_12m"]}
    assert declared == {-9.0, -8.0, -7.0}


def test_stata_round_trip_with_short_names(demo, coded, tmp_path):
    (path,) = write_archive(demo, INST, tmp_path, "dta", lang="de")
    back, meta = pyreadstat.read_dta(path)
    names = stata_names(coded.columns)
    assert all(len(n) <= 32 for n in back.columns)
    long = [c for c in coded.columns if len(c) > 32]
    assert long, "the demo has names over 32 characters"
    for ours in long:
        assert meta.column_names_to_labels[names[ours]] == ours   # read_export maps it back
    np.testing.assert_array_equal(back["practice_type"].to_numpy(),
                                  coded["practice_type"].astype(float).to_numpy())
    assert meta.variable_value_labels["practice_type"][4.0].startswith("Zahn")


def test_parquet_round_trip_keeps_the_typed_frame(demo, tmp_path):
    (path,) = write_archive(demo, INST, tmp_path, "parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == [c for c in demo.columns if c != "comments"]
    pd.testing.assert_series_equal(back["incident_12m"].astype(str), demo["incident_12m"].astype(str))


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (.ci/run installs r-base-core)")
def test_r_script_loads_factors_with_labels(demo, coded, tmp_path):
    write_archive(demo, INST, tmp_path, "r", lang="de")
    script = ('source("load.R"); cat(jsonlite_free <- paste0("{\\"yes\\":", '
              'sum(d$incident_12m == "Ja", na.rm = TRUE), ",\\"na\\":", sum(is.na(d$incident_12m)), '
              '",\\"label\\":\\"", attr(d$incident_12m, "label") != "", "\\"}"))')
    res = subprocess.run(["Rscript", "-e", script], check=False, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["yes"] == int((coded["incident_12m"] == 1).sum())
    assert got["na"] == int(coded["incident_12m"].isin([-7, -8, -9]).sum())
    assert got["label"] == "TRUE"


def test_wrong_language_and_format_are_one_line_errors(demo, tmp_path):
    with pytest.raises(ArchiveError, match="not en labels of item"):
        coded_frame(demo, INST, lang="en")
    with pytest.raises(ArchiveError, match="unknown format 'xlsx'"):
        write_archive(demo, INST, tmp_path, "xlsx")


def test_cli_exports_validated_data_and_the_ddi(tmp_path):
    from surveydata.cli import main

    checked = tmp_path / "checked"
    assert main(["validate", str(surveydata.demo.demo_path()), "--out", str(checked)]) == 0
    for fmt, name in (("sav", "data.sav"), ("dta", "data.dta"), ("parquet", "data.parquet"),
                      ("r", "load.R")):
        out = tmp_path / fmt
        assert main(["export", "--data", str(checked), "--format", fmt, "--out", str(out)]) == 0
        assert (out / name).is_file() and (out / "manifest.json").is_file()
    back, _meta = pyreadstat.read_sav(tmp_path / "sav" / "data.sav")
    assert len(back) == len(pd.read_parquet(checked / "valid.parquet"))
    assert main(["export", "--format", "ddi", "--out", str(tmp_path / "ddi")]) == 0
    assert (tmp_path / "ddi" / "practice_security.ddi.xml").read_text().count("<var ") > 100


def test_cli_export_mistakes_are_one_line(tmp_path, capsys):
    from surveydata.cli import main

    assert main(["export", "--data", str(tmp_path / "nothing"), "--format", "sav",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run `surveydata validate" in err
    assert not (tmp_path / "o").exists()


def _string_coded_items():
    items = [i for i in INST.items if i.string_codes]
    assert items, "the practice instrument has a text-coded item (federal states)"
    return items


@pytest.mark.parametrize("fmt", ["sav", "dta", "r"])
def test_text_codes_travel_as_text_in_every_format(demo, fmt, tmp_path):
    # a text-coded item ('BW', 'BY', ...) was once turned into numbers, i.e. all missing
    write_archive(demo, INST, tmp_path, fmt, lang="de")
    if fmt == "sav":
        back, _ = pyreadstat.read_sav(tmp_path / "data.sav")
    elif fmt == "dta":
        back, _ = pyreadstat.read_dta(tmp_path / "data.dta")
    else:
        back = pd.read_csv(tmp_path / "data.csv", dtype=str, keep_default_na=False)
    for item in _string_coded_items():
        code_of = {lab.de: code for code, lab in item.codes.items()}
        answered = demo[item.var].notna()
        expected = demo.loc[answered, item.var].astype(str).map(code_of)
        assert expected.notna().all() and len(expected) > 0
        assert back.loc[answered.to_numpy(), item.var].tolist() == expected.tolist()
