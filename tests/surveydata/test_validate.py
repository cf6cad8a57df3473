"""validate: every kind of bad input ends in quarantine with the exact reason; nothing is lost."""
import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import read_export, validate
from tests.export_factory import to_csv_bytes, to_text, valid_coded

# One fully known, valid response: every skip condition in a known state.
BASE = {
    "practice_type": "2", "practice_form": "2", "federal_state": "NW", "n_physicians": "2",
    "n_persons_data": "6", "large_devices": "2", "networked_med_devices": "1",
    "uses_mobile_devices": "1", "tm_mobile_lockcode": "1", "it_support_model": "1",
    "provider_kbv_certified": "1", "tm_backup_plan": "1", "tm_backup_offline": "1",
    "tm_restore_test": "1", "training_12m": "1", "guideline_awareness": "1",
    "guideline_implementation": "1", "guideline_understandable": "3", "info_source_main": "1",
    "incident_12m": "2", "incident_downtime": "-7", "incident_ever": "2", "duration_s": "900",
    "info_sufficient": "2", "own_risk_high": "3",
}


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def base(inst):
    """12 valid rows; row 0 is the fully known BASE response."""
    text = to_text(valid_coded(inst, 12, seed=11))
    row = dict(BASE)
    for item in inst.items:
        if item.type != "multi":
            continue
        for col in item.columns:
            row[col] = "0"
    row.update({"training_format__kbv_kv_online": "1", "info_sources__kbv_kv": "1",
                "info_needs__checklist": "1", "internet_services__website": "1"})
    for col in inst.multi_columns("incident_types") + inst.multi_columns("incident_reported_to"):
        row[col] = "-7"
    for k, v in row.items():
        text.loc[0, k] = v
    return text


def _run(inst, text):
    res = validate(text.assign(line=np.arange(2, len(text) + 2)), inst)
    assert res.report["n_raw"] == res.report["n_valid"] + res.report["n_quarantined"]
    return res


def test_base_export_is_valid(inst, base):
    res = _run(inst, base)
    assert res.report["n_quarantined"] == 0, res.quarantine["reasons"].tolist()
    assert len(res.valid) == len(base) and len(res.failures) == 0


CASES = [
    # (changes to row 0, [(column, value, rule), ...] expected as the row's complete failures)
    ({"practice_form": "7"}, [("practice_form", "7", "codes:practice_form")]),
    ({"federal_state": "XX"}, [("federal_state", "XX", "codes:federal_state")]),
    ({"federal_state": "by"}, [("federal_state", "by", "codes:federal_state")]),
    ({"n_physicians": "abc"}, [("n_physicians", "abc", "dtype:n_physicians")]),
    ({"n_physicians": "3,5"}, [("n_physicians", "3,5", "dtype:n_physicians")]),
    ({"n_physicians": "2.5"}, [("n_physicians", "2.5", "dtype:n_physicians")]),
    ({"n_physicians": "NaN"}, [("n_physicians", "NaN", "dtype:n_physicians")]),
    ({"n_physicians": "9" * 16}, [("n_physicians", "9" * 16, "overflow:n_physicians")]),
    ({"duration_s": "9" * 400}, [("duration_s", "9" * 400, "overflow:duration_s")]),
    ({"duration_s": "inf"}, [("duration_s", "inf", "dtype:duration_s")]),
    ({"submitted_at": "0000-01-01T00:00:00"},
     [("submitted_at", "0000-01-01T00:00:00", "date_range:submitted_at")]),
    ({"submitted_at": "1899-12-31"}, [("submitted_at", "1899-12-31", "date_range:submitted_at")]),
    ({"n_physicians": "0"}, [("n_physicians", "0", "range:n_physicians")]),
    ({"n_workstations": "2001"}, [("n_workstations", "2001", "range:n_workstations")]),
    ({"info_sufficient": "6"}, [("info_sufficient", "6", "likert:info_sufficient")]),
    ({"resp_age_group": "-8"}, [("resp_age_group", "-8", "codes:resp_age_group")]),
    ({"practice_form": "-9"}, [("practice_form", "-9", "codes:practice_form")]),
    ({"practice_form": ""}, [("practice_form", "", "not_nullable")]),
    ({"practice_form": "  "}, [("practice_form", "  ", "not_nullable")]),
    ({"info_needs__hotline": "2"}, [("info_needs__hotline", "2", "binary:info_needs__hotline")]),
    ({"info_needs__hotline": "x"}, [("info_needs__hotline", "x", "dtype:info_needs__hotline")]),
    ({"submitted_at": "31.02.2026 10:00"},
     [("submitted_at", "31.02.2026 10:00", "datetime:submitted_at")]),
    ({"duration_s": "-5"}, [("duration_s", "-5", "min:duration_s")]),
    ({"duration_s": "12 min"}, [("duration_s", "12 min", "dtype:duration_s")]),
    ({"comments": "x" * 2001}, [("comments", "x" * 2001, "max_length:comments")]),
    # skip logic, both directions
    ({"practice_type": "1"},
     [("large_devices", "large_devices=2, practice_type=1", "skip_not_asked:large_devices")]),
    ({"large_devices": "-7"},
     [("large_devices", "large_devices=-7, practice_type=2", "skip_asked:large_devices")]),
    ({"training_12m": "3"},
     [("training_format__kbv_kv_online", "training_format__kbv_kv_online=1, training_12m=3",
       "skip_not_asked:training_format")]),
    # multi-choice rules
    ({"info_sources__none": "1"},
     [("info_sources__none", "info_sources__none=1, info_sources__kbv_kv=1",
       "exclusive:info_sources"),
      ("info_source_main", "info_source_main=1, info_sources__none=1",
       "skip_not_asked:info_source_main")]),
    ({"info_needs__templates": "1", "info_needs__hotline": "1", "info_needs__funding": "1"},
     [("info_needs__checklist", ("info_needs__checklist=1, info_needs__templates=1, "
                                 "info_needs__hotline=1, info_needs__funding=1"),
       "max_select:info_needs")]),
    ({"info_needs__templates": "-9"},
     [("info_needs__checklist", "info_needs__checklist=1, info_needs__templates=-9",
       "multi_no_answer:info_needs")]),
    # hard cross-item rules
    ({"n_physicians": "9"},
     [("n_physicians", "n_physicians=9, n_persons_data=6", "rule:physicians_le_persons_data")]),
    ({"info_source_main": "4"},
     [("info_source_main", "info_source_main=4, info_sources__kbv_kv=1",
       "rule:info_source_main_ticked")]),
]


@pytest.mark.parametrize("changes,expected", CASES, ids=[
    ",".join(f"{k}={v[:12]}" for k, v in c.items()) for c, _ in CASES])
def test_bad_input_gives_exact_reason(inst, base, changes, expected):
    text = base.copy()
    for k, v in changes.items():
        text.loc[0, k] = v
    res = _run(inst, text)
    assert res.report["n_quarantined"] == 1 and res.report["n_valid"] == len(base) - 1
    q = res.quarantine.iloc[0]
    assert q["response_id"] == base.loc[0, "response_id"] and q["line"] == 2
    got = res.failures[["column", "value", "rule"]].apply(tuple, axis=1).tolist()
    assert sorted(got) == sorted(expected)
    for column, value, rule in expected:  # the human-readable reason names all three
        assert rule in q["reasons"] and column.split("__")[0] in q["reasons"]
        assert value[:40] in q["reasons"]


def test_incident_reported_without_incident_ever(inst, base):
    text = base.copy()
    text.loc[0, "incident_12m"] = "1"
    text.loc[0, "incident_downtime"] = "2"
    for col in inst.multi_columns("incident_types") + inst.multi_columns("incident_reported_to"):
        text.loc[0, col] = "0"
    text.loc[0, "incident_types__malware"] = "1"
    text.loc[0, "incident_reported_to__it_provider"] = "1"
    res = _run(inst, text)
    assert res.failures[["column", "value", "rule"]].apply(tuple, axis=1).tolist() == [
        ("incident_ever", "incident_ever=2, incident_12m=1", "rule:incident_ever_if_incident_12m")]
    text.loc[0, "incident_ever"] = "1"
    assert _run(inst, text).report["n_quarantined"] == 0


def test_every_reason_of_a_row_is_reported(inst, base):
    text = base.copy()
    text.loc[0, ["practice_form", "n_physicians", "info_sufficient"]] = ["9", "abc", "0"]
    res = _run(inst, text)
    assert sorted(res.failures["rule"]) == ["codes:practice_form", "dtype:n_physicians",
                                            "likert:info_sufficient"]
    assert res.quarantine.loc[0, "n_reasons"] == 3
    assert res.quarantine.loc[0, "reasons"].count("; ") == 2


def test_whitespace_and_decimal_comma_are_accepted(inst, base):
    text = base.copy()
    text.loc[0, ["n_physicians", "duration_s", "federal_state"]] = [" 2 ", "812,5", " NW"]
    res = _run(inst, text)
    assert res.report["n_quarantined"] == 0
    row = res.valid.iloc[0]
    assert row["duration_s"] == 812.5 and int(row["n_physicians"]) == 2


def test_exact_duplicate_keeps_the_first(inst, base):
    text = pd.concat([base, base.iloc[[3]]], ignore_index=True)
    res = _run(inst, text)
    assert res.report["n_valid"] == len(base) and res.report["n_quarantined"] == 1
    f = res.failures.iloc[0]
    assert (f["rule"], f["line"], f["message"]) == ("duplicate_row", len(base) + 2,
                                                    "exact copy of line 5")
    assert base.loc[3, "response_id"] in res.valid["response_id"].tolist()


def test_same_id_different_content_quarantines_all(inst, base):
    other = base.iloc[[3]].copy()
    other["own_risk_high"] = "5" if base.loc[3, "own_risk_high"] != "5" else "4"
    text = pd.concat([base, other, base.iloc[[3]]], ignore_index=True)
    res = _run(inst, text)
    rid = base.loc[3, "response_id"]
    assert rid not in res.valid["response_id"].tolist()
    f = res.failures.sort_values("line")
    assert f[["line", "rule"]].values.tolist() == [
        [5, "duplicate_response_id"], [len(base) + 2, "duplicate_response_id"],
        [len(base) + 3, "duplicate_row"]]
    assert f["message"].iloc[0] == f"response_id shared by records that differ, lines 5, {len(base) + 2}"
    assert res.report["n_raw"] == len(base) + 2 and res.report["n_quarantined"] == 3


def test_malformed_record_from_file(tmp_path, inst, base):
    lines = to_csv_bytes(base).decode().splitlines()
    lines[3] = lines[3] + ",oops"
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    res = validate(read_export(path, inst), inst)
    f = res.failures
    assert f[["line", "column", "rule"]].values.tolist() == [[4, "(row)", "malformed_record"]]
    assert "oops" in f["message"].iloc[0]


def test_free_text_with_formula_is_kept_verbatim(inst, base):
    text = base.copy()
    text.loc[1, "comments"] = "=HYPERLINK(\"http://evil\",\"x\")"
    res = _run(inst, text)
    assert res.report["n_quarantined"] == 0
    assert res.valid.loc[1, "comments"] == "=HYPERLINK(\"http://evil\",\"x\")"


def test_report_counts_and_provenance(tmp_path, inst, base):
    text = base.copy()
    text.loc[0, "practice_form"] = "7"
    text.loc[1, "practice_form"] = "8"
    text.loc[2, "n_physicians"] = "x"
    path = tmp_path / "export.csv"
    path.write_bytes(to_csv_bytes(text))
    raw = read_export(path, inst)
    res = validate(raw, inst)
    r = res.report
    assert (r["n_raw"], r["n_valid"], r["n_quarantined"]) == (12, 9, 3)
    assert r["failures_by_rule"] == {"codes:practice_form": 2, "dtype:n_physicians": 1}
    assert r["input_sha256"] == raw.attrs["export"]["sha256"]
    assert r["instrument"] == {"name": "practice_security", "version": inst.version}
    assert res.quarantine["line"].tolist() == [2, 3, 4]


def test_valid_keeps_line_and_missing_code_distinction(inst, base):
    text = base.copy()
    text.loc[1, "municipality_size"] = "-8"
    text.loc[2, "municipality_size"] = "-9"
    res = _run(inst, text)
    v = res.valid.set_index("response_id")
    assert v["line"].tolist() == list(range(2, 14))
    assert v["municipality_size"].iloc[1:3].isna().all()  # no answer value in the value column
    # ... but don't know and no answer stay apart, and -7 is kept as not applicable
    assert v["municipality_size__missing"].iloc[1:3].tolist() == ["dont_know", "no_answer"]
    assert pd.isna(v["large_devices__missing"].iloc[0])  # row 0 was asked and answered
    skipped = v["practice_type"].isin(["Hausärztlich", "Psychotherapeutisch",
                                       "Zahnärztlich / kieferorthopädisch"])
    assert (v.loc[skipped, "large_devices__missing"] == "not_applicable").all()
    assert isinstance(v["practice_type"].dtype, pd.CategoricalDtype)
    assert str(v["n_physicians"].dtype) == "Int64"
    assert {"kbv_size_class", "tech_index", "risk_gap", "east_west"} <= set(v.columns)


def test_numeric_frames_from_python_are_accepted(inst, base):
    """A coded frame built in Python (ints, floats) validates like its text export."""
    coded = valid_coded(inst, 12, seed=11)
    coded["n_workstations"] = coded["n_workstations"].astype(float)
    coded.loc[3, "n_workstations"] = 2.5
    res = validate(coded, inst)
    assert res.failures[["line", "column", "value", "rule"]].values.tolist() == [
        [5, "n_workstations", "2.5", "dtype:n_workstations"]]
    assert res.report["n_valid"] == 11


def test_single_schema_error_is_mapped_to_rows():
    """pandera's non-lazy SchemaError (one failing check) is read like SchemaErrors."""
    import pandera.pandas as pa

    from surveydata.validate import _single_error_cases

    schema = pa.DataFrameSchema({"x": pa.Column(int, pa.Check.isin([1, 2], name="codes:x"))})
    with pytest.raises(pa.errors.SchemaError) as err:
        schema.validate(pd.DataFrame({"x": [1, 7, 2, 9]}))
    cases = _single_error_cases(err.value)
    assert cases[["schema_context", "column", "index"]].values.tolist() == [
        ["Column", "x", 1], ["Column", "x", 3]]
    assert cases["failure_case"].tolist() == [7, 9]


def test_reasons_of_a_row_follow_the_steps_parse_before_schema(inst, base):
    """A row's reasons are in the order of the steps (module docstring): the value that did not
    parse (step 2) before the schema's check (step 4), whatever the rule names' alphabet says."""
    text = base.copy()
    text.loc[0, ["practice_form", "n_physicians"]] = ["9", "abc"]
    res = _run(inst, text)
    assert res.quarantine.loc[0, "reasons"] == (
        "n_physicians='abc': dtype:n_physicians (n_physicians must be a whole number (a code or "
        "a count)); practice_form='9': codes:practice_form (practice_form must be one of 1, 2, 3, 4)")
    assert res.failures["rule"].tolist() == ["dtype:n_physicians", "codes:practice_form"]


def test_a_hash_collision_never_makes_two_records_exact_copies(inst, base, monkeypatch):
    """Exact copies are found by hashing rows, then confirmed cell by cell: with every row
    hashing alike (a collision everywhere), records that share an id but differ in one cell are
    still two different records (duplicate_response_id), and a true copy is still a copy."""
    other = base.iloc[[3]].copy()
    other["own_risk_high"] = "5" if base.loc[3, "own_risk_high"] != "5" else "4"
    text = pd.concat([base, other, base.iloc[[3]]], ignore_index=True)
    monkeypatch.setattr(pd.util, "hash_pandas_object",
                        lambda frame, index=False: pd.Series(np.zeros(len(frame), dtype=np.uint64)))
    res = _run(inst, text)
    f = res.failures.sort_values("line")
    assert f[["line", "rule"]].values.tolist() == [
        [5, "duplicate_response_id"], [len(base) + 2, "duplicate_response_id"],
        [len(base) + 3, "duplicate_row"]]
    assert f["message"].iloc[2] == "exact copy of line 5"


def test_the_exports_decimal_mark_decides_an_integer_cell_such_as_2_000(inst, base):
    """"2,000" alone is ambiguous (two thousand, or 2 with a zero fraction?); in an export whose
    number column writes decimals with a comma ("812,5") it is 2, and in one that writes them
    with a point it is no whole number (a thousands separator is never accepted)."""
    text = base.copy()
    text["duration_s"] = "812,5"
    text.loc[0, "n_physicians"] = "2,000"
    res = _run(inst, text)
    assert res.report["n_quarantined"] == 0
    assert int(res.valid.loc[0, "n_physicians"]) == 2
    text["duration_s"] = "812.5"
    res = _run(inst, text)
    assert res.quarantine["reasons"].tolist() == [
        ("n_physicians='2,000': dtype:n_physicians (n_physicians must be a whole number (a code "
         "or a count))")]
