"""The ODK reader (and REDCap, same code) with an instrument of format 2 (pharmacy_staff: missing codes
97/98/99, numbers, a date, a grid): blanks become 97 where the skip logic did not ask and 99
where it did, never the practice instrument's -7/-9."""
from __future__ import annotations

import csv
import io

import pandas as pd

import schemas
from surveydata.platforms.odk import read_odk_csv
from surveydata.simulate.generic import simulate_responses


def test_odk_reader_uses_the_instruments_missing_codes():
    inst = schemas.load_instrument("pharmacy_staff")
    frame = simulate_responses(inst, n=80, seed=11, error_rate=0.0, decimal=".",
                               separator=";").frame.astype("str")
    na, noans = str(inst.not_applicable), str(inst.no_answer)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["start", "end", *[f"section_{i.section}-{i.var}" for i in inst.items],
                "meta-instanceID"])
    for _, raw in frame.iterrows():
        rec = ["2026-03-01T09:00:00", "2026-03-01T09:10:00"]
        for item in inst.items:
            if item.type == "multi":
                vals = [raw[c] for c in item.columns]
                if set(vals) == {na}:
                    rec.append("")
                elif len(set(vals)) == 1 and vals[0] not in ("0", "1"):
                    rec.append(vals[0])
                else:
                    rec.append(" ".join(o.code for o, v in zip(item.options, vals) if v == "1"))
            else:
                v = raw[item.var]
                rec.append("" if v in (na, noans) and item.type != "text" else v)
        rec.append(raw["response_id"])
        w.writerow(rec)
    back = read_odk_csv(io.StringIO(out.getvalue()), inst)
    items = [c for c in inst.columns if c not in ("submitted_at", "duration_s")]
    pd.testing.assert_frame_equal(back[items], frame[items], check_dtype=False)
    assert (back == "-7").sum().sum() == 0 and (back == na).sum().sum() > 0


def test_xlsform_types_format2_items_and_converts_with_pyxform(tmp_path):
    """QA finding F10: numbers, dates and scale/grid items are typed questions, not text."""
    import pytest

    pyxform = pytest.importorskip("pyxform.xls2xform", reason="pyxform is a dev dependency")
    from surveydata.platforms.xlsform import write_xlsform, xlsform_sheets

    inst = schemas.load_instrument("pharmacy_staff")
    sheets = xlsform_sheets(inst)
    rows = {r["name"]: r for r in sheets["survey"] if "name" in r}
    assert rows["weekly_hours"]["type"] == "decimal"
    assert rows["weekly_hours"]["constraint"] == "(. >= 1 and . <= 60) or . = 99"
    assert rows["years_in_pharmacy"]["type"] == "integer"
    assert rows["last_training"]["type"] == "date" and "2026-12-31" in rows["last_training"]["constraint"]
    grid = [rows[i.var] for i in inst.items if i.grid == "climate"]
    assert len(grid) == 4 and {r["type"] for r in grid} == {"select_one s_agree7_98_99"}
    listed = [(c["name"], c["label::English (en)"]) for c in sheets["choices"]
              if c["list_name"] == "s_agree7_98_99"]
    assert listed == [("1", "Strongly disagree"), ("2", "2"), ("3", "3"), ("4", "Neither/nor"),
                      ("5", "5"), ("6", "6"), ("7", "Strongly agree"), ("98", "Don't know"),
                      ("99", "No answer")]
    warnings: list[str] = []
    xform = pyxform.convert(xlsform=str(write_xlsform(inst, tmp_path / "f.xlsx")),
                            warnings=warnings).xform
    assert warnings == []
    assert 'type="date"' in xform and 'type="decimal"' in xform
    assert '<select1 ref="/data/section_C/climate_rules_clear" appearance="likert">' in xform
    assert 'nodeset="/data/section_D/last_training" type="date"' in xform


def test_redcap_types_format2_items_and_reads_back_what_validates(tmp_path):
    from surveydata import read_export, validate
    from surveydata.fieldwork.export import write_csv
    from surveydata.platforms.redcap import read_redcap, redcap_dictionary, write_redcap_dictionary

    inst = schemas.load_instrument("pharmacy_staff")
    d = {r["Variable / Field Name"]: r for r in redcap_dictionary(inst)}
    valid = "Text Validation Type OR Show Slider Number"
    assert (d["weekly_hours"]["Field Type"], d["weekly_hours"][valid]) == ("text", "number")
    assert (d["weekly_hours"]["Text Validation Min"], d["weekly_hours"]["Text Validation Max"]) == (
        "1", "99")  # the range widened to the no-answer code 99
    assert d["years_in_pharmacy"]["Text Validation Max"] == "99"
    assert (d["last_training"][valid], d["last_training"]["Text Validation Max"]) == (
        "date_ymd", "2026-12-31")
    assert d["climate_report_easy"]["Field Type"] == "radio"
    assert d["climate_report_easy"]["Matrix Group Name"] == "climate"
    assert d["climate_report_easy"]["Choices, Calculations, OR Slider Labels"] == (
        "1, Strongly disagree | 2, 2 | 3, 3 | 4, Neither/nor | 5, 5 | 6, 6 | 7, Strongly agree"
        " | 98, Don't know | 99, No answer")
    # simulated answers as REDCap exports them: hidden (branching) fields empty
    frame = simulate_responses(inst, n=60, seed=5, error_rate=0.0, decimal=".",
                               separator=";").frame.astype("str")
    na = str(inst.not_applicable)
    forms = list(dict.fromkeys(f"section_{i.section.lower()}" for i in inst.items))
    out = io.StringIO()
    cols = ["record_id", "start_time"]
    for item in inst.items:
        cols += ([f"{item.var}___{c}" for c in [*(o.code for o in item.options), *item.missing]]
                 if item.type == "multi" else [item.var])
    w = csv.DictWriter(out, [*cols, *(f"{f}_timestamp" for f in forms)])
    w.writeheader()
    for k, raw in frame.iterrows():
        rec = {"record_id": raw["response_id"], "start_time": "2026-03-01 09:00:00"}
        for item in inst.items:
            if item.type == "multi":
                vals = [raw[c] for c in item.columns]
                for o, v in zip(item.options, vals):
                    rec[f"{item.var}___{o.code}"] = "1" if v == "1" else "0"
                for m in item.missing:
                    rec[f"{item.var}___{m}"] = "1" if vals[0] == str(m) else "0"
            else:
                rec[item.var] = "" if raw[item.var] == na else raw[item.var]
        rec.update({f"{f}_timestamp": f"2026-03-01 09:{n + 5:02d}:00" for n, f in enumerate(forms)})
        w.writerow(rec)
    dictionary = write_redcap_dictionary(inst, tmp_path / "dictionary.csv")
    back = read_redcap(io.StringIO(out.getvalue()), dictionary, inst)
    items = [c for c in inst.columns if c not in ("submitted_at", "duration_s")]
    pd.testing.assert_frame_equal(back[items], frame[items], check_dtype=False)
    assert back["weekly_hours"].str.contains(r"\.\d").any()  # decimals survive
    path = tmp_path / "redcap.csv"
    write_csv(back.to_dict("records"), inst.columns, path)
    res = validate(read_export(path, inst), inst)
    assert res.report["n_quarantined"] == 0 and res.report["n_valid"] == 60
