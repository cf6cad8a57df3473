"""Platform bridges: the XLSForm export converts with pyxform (what ODK, KoboToolbox and Enketo
use) with the instrument's codes and skip logic; an ODK/Kobo CSV export of answers reads back
into the same raw export the web form produces, and validates."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

import schemas
from surveydata import read_export, validate
from surveydata.fieldwork.export import write_csv
from surveydata.fieldwork.form import Questionnaire
from surveydata.platforms.odk import OdkExportError, read_odk_csv
from surveydata.platforms.xlsform import condition_to_xpath, write_xlsform


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


def test_xlsform_converts_with_pyxform_and_keeps_codes_and_skip_logic(inst, tmp_path):
    pyxform = pytest.importorskip("pyxform.xls2xform", reason="pyxform is a dev dependency")
    path = write_xlsform(inst, tmp_path / "form.xlsx")
    warnings: list[str] = []
    xform = pyxform.convert(xlsform=str(path), warnings=warnings).xform
    assert warnings == []
    for item in inst.items:
        assert f"/{item.var}\"" in xform or f"/{item.var} " in xform, item.var
    assert 'relevant="( /data/section_A/practice_type  = 2 or  /data/section_A/practice_type  = 5)"' in xform
    assert "not(selected( /data/section_E/info_sources , &apos;none&apos;))" in xform or \
        "not(selected( /data/section_E/info_sources , 'none'))" in xform
    from openpyxl import load_workbook

    wb = load_workbook(path)
    choices = [(r[0], str(r[1])) for r in wb["choices"].iter_rows(min_row=2, values_only=True)]
    assert ("l_municipality_size", "-8") in choices and ("l_internet_services", "none") in choices
    assert ("l_practice_type", "-9") not in choices  # required: no "no answer"


def test_conditions_translate_to_xpath(inst):
    def xp(text):
        return condition_to_xpath(schemas.parse_condition(text).tree, inst)

    assert xp("uses_mobile_devices == 1") == "${uses_mobile_devices} = 1"
    assert xp("not practice_type in [3]") == "not((${practice_type} = 3))"
    assert xp("federal_state in ['BY', 'BE']") == "(${federal_state} = 'BY' or ${federal_state} = 'BE')"
    assert xp("info_sources__bsi == 1 and n_physicians > 2") == (
        "(selected(${info_sources}, 'bsi') and ${n_physicians} > 2)")
    with pytest.raises(ValueError, match="cannot express"):
        xp("info_sources__bsi > 0")


def _odk_csv(inst, rows) -> str:
    """What ODK Central exports for these raw rows: group-prefixed columns, select_multiple as
    space-separated names, empty where the form's `relevant` was false, start/end times."""
    out = io.StringIO()
    cols = ["SubmissionDate", "start", "end"] + [f"section_{i.section}-{i.var}" for i in inst.items]
    cols += ["meta-instanceID", "KEY"]
    w = csv.writer(out)
    w.writerow(cols)
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for k, row in enumerate(rows):
        rec = [t0.isoformat(), t0.isoformat(), (t0 + timedelta(seconds=600 + k)).isoformat()]
        for item in inst.items:
            if item.type == "multi":
                vals = [row[c] for c in item.columns]
                if all(v == -7 for v in vals):
                    rec.append("")
                elif all(v == vals[0] and v < 0 for v in vals):
                    rec.append(str(vals[0]))
                else:
                    rec.append(" ".join(o.code for o, v in zip(item.options, vals) if v == 1))
            else:
                v = row[item.var]
                rec.append("" if v is None or v == -7 else str(v))
        rec += [f"uuid:{k}", f"uuid:{k}"]
        w.writerow(rec)
    return out.getvalue()


def _answer_sets(inst):
    """Three complete raw rows answered through the form logic: skip logic both ways, a
    multi-choice "no answer", a free text with a comma and quotes."""
    q = Questionnaire(inst)
    rows = []
    for variant in range(3):
        latest = {}
        for page in q.pages:
            before, _, _ = q.assemble(latest, upto=page.index)
            shown = q.asked(page, before)
            form = {}
            for item in shown:
                if item.type == "multi":
                    form[f"q:{item.var}"] = ["-9"] if variant == 2 else [item.options[variant].code]
                elif item.type == "integer":
                    form[f"q:{item.var}"] = [str(2 + variant)]
                elif item.type == "text":
                    form[f"q:{item.var}"] = ["" if variant else "a, \"quoted\" answer"]
                else:
                    codes = item.substantive_codes
                    form[f"q:{item.var}"] = [str(codes[min(variant, len(codes) - 1)])]
            answers, _ = q.parse(page, shown, form)
            latest[page.index] = answers
        row, _, _ = q.assemble(latest)
        rows.append(row)
    return rows


def _same_rows(inst, raw, rows):
    for k, row in enumerate(rows):
        for c in inst.columns[3:]:
            want = "" if row[c] is None else str(row[c])
            assert raw.loc[k, c] == want, (k, c)


def test_odk_export_reads_back_to_the_same_raw_export(inst, tmp_path):
    rows = _answer_sets(inst)
    raw = read_odk_csv(io.StringIO(_odk_csv(inst, rows)), inst)
    _same_rows(inst, raw, rows)
    assert raw["duration_s"].tolist() == ["600", "601", "602"]
    path = tmp_path / "odk.csv"
    write_csv(raw.to_dict("records"), inst.columns, path)
    res = validate(read_export(path, inst), inst)
    assert res.report["n_raw"] == 3
    assert "uuid:0" not in set(res.failures["response_id"])  # the consistent answer set is valid
    assert {c for c in res.failures["rule"]} <= {"rule:info_source_main_ticked",
                                                  "rule:incident_ever_if_incident_12m",
                                                  "rule:physicians_le_persons_data"}
    assert "-7" in set(raw["large_devices"]) or "-7" in set(raw["provider_kbv_certified"])


def test_odk_export_without_id_column_is_one_line_error(inst):
    with pytest.raises(OdkExportError, match="no instance id column"):
        read_odk_csv(io.StringIO("start,end\n"), inst)


def _redcap_records(inst, rows) -> str:
    """A REDCap raw-data export of these rows: checkbox columns var___code (0/1), hidden
    (branching) fields empty, a survey timestamp per form and the @NOW start_time."""
    from surveydata.platforms.redcap import _checkbox_column

    cols, forms = ["record_id", "start_time"], []
    for item in inst.items:
        form = f"section_{item.section.lower()}"
        if form not in forms:
            forms.append(form)
        if item.type == "multi":
            cols += [_checkbox_column(item.var, c) for c in
                     [*(o.code for o in item.options), *item.missing]]
        else:
            cols.append(item.var)
    cols += [f"{f}_timestamp" for f in forms]
    out = io.StringIO()
    w = csv.DictWriter(out, cols)
    w.writeheader()
    for k, row in enumerate(rows):
        rec = {"record_id": str(k + 1), "start_time": "2026-03-01 09:00:00"}
        for item in inst.items:
            if item.type == "multi":
                vals = [row[c] for c in item.columns]
                for o, v in zip(item.options, vals):
                    rec[_checkbox_column(item.var, o.code)] = "1" if v == 1 else "0"
                for m in item.missing:
                    rec[_checkbox_column(item.var, m)] = "1" if vals[0] == m else "0"
            else:
                v = row[item.var]
                rec[item.var] = "" if v is None or v == -7 else str(v)
        for n, f in enumerate(forms):
            rec[f"{f}_timestamp"] = f"2026-03-01 09:{n + 1:02d}:{k:02d}"
        w.writerow(rec)
    return out.getvalue()


def test_redcap_dictionary_and_export_read_back(inst, tmp_path):
    from surveydata.platforms.redcap import RedcapError, read_redcap, write_redcap_dictionary

    dictionary = write_redcap_dictionary(inst, tmp_path / "dictionary.csv")
    text = dictionary.read_text(encoding="utf-8")
    assert "[info_sources(none)] <> '1'" in text and "[tm_backup_plan] = '1' or" in text
    rows = _answer_sets(inst)
    raw = read_redcap(io.StringIO(_redcap_records(inst, rows)), dictionary, inst)
    _same_rows(inst, raw, rows)
    assert raw["duration_s"].tolist() == ["480", "481", "482"]  # last form's timestamp - start
    assert raw["response_id"].tolist() == ["1", "2", "3"]
    bad = text.replace("3, Psychotherapy", "33, Psychotherapy")
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(RedcapError, match="field practice_type: choice code '33'"):
        read_redcap(io.StringIO(_redcap_records(inst, rows)), tmp_path / "bad.csv", inst)
