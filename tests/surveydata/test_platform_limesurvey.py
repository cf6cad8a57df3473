"""LimeSurvey bridge: the .lss survey structure holds every item, option and answer in both
languages with a relevance equation per ask_if; a simulated response set written as LimeSurvey
would export it (question codes, answer codes, N/A where not shown) reads back to the same raw
export and validates with the same valid/quarantine split."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

import schemas
from surveydata import read_export, validate
from surveydata.demo import load_demo
from surveydata.platforms.limesurvey import LimeSurveyError, read_responses, relevance, write_lss
from surveydata.platforms.limesurvey import code_mapping as mapping_of
from surveydata.simulate.generic import simulate_responses


@pytest.fixture(scope="module", params=["practice_security", "pharmacy_staff"])
def inst(request):
    return schemas.load_instrument(request.param)


def _mapping_rows(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rows(root, table):
    fields = [f.text for f in root.find(table).find("fields")]
    return [{f: (r.findtext(f) or "") for f in fields} for r in root.find(table).find("rows")]


def test_lss_is_the_instrument(inst, tmp_path):
    lss, mapping = write_lss(inst, tmp_path)
    root = ET.parse(lss).getroot()  # well-formed XML
    assert root.findtext("LimeSurveyDocType") == "Survey"
    assert [e.text for e in root.find("languages")] == ["de", "en"]
    rows = _mapping_rows(mapping)
    qcode = {r["variable"]: (r["ls_question"], r["ls_subquestion"]) for r in rows
             if r["kind"] == "question"}
    assert set(qcode) == {i.var for i in inst.items}
    questions = _rows(root, "questions")
    subs = _rows(root, "subquestions")
    answers = _rows(root, "answers")
    by_title = {(q["title"], q["language"]): q for q in questions}
    qid_of = {q["title"]: q["qid"] for q in questions}
    for q in questions + subs:  # LimeSurvey's rules for question and subquestion codes
        assert q["title"].isalnum() and q["title"].isascii() and len(q["title"]) <= 20, q
        assert q["title"][0].isalpha() or q["parent_qid"] != "0", q
    assert len({q["title"] for q in questions}) == len(questions) // 2  # unique, de + en
    type_of = {q["qid"]: q["type"] for q in questions}
    assert all(s["type"] == type_of[s["parent_qid"]] for s in subs)  # as LimeSurvey writes them
    want_type = {"single": "L", "likert5": "L", "scale": "L", "multi": "M", "integer": "N",
                 "number": "N", "date": "D", "text": "T"}
    for a in answers:
        assert a["code"].isalnum() and a["code"].isascii() and len(a["code"]) <= 5, a
    for item in inst.items:
        q, sq = qcode[item.var]
        for lang in ("de", "en"):
            if item.grid:
                sub = [s for s in subs if s["title"] == sq and s["language"] == lang
                       and s["parent_qid"] == qid_of[q]]
                assert [s["question"] for s in sub] == [item.text.get(lang)]
                assert by_title[(q, lang)]["type"] == "F"
            else:
                assert by_title[(q, lang)]["question"] == item.text.get(lang)
                short = item.type == "text" and (item.max_length or 10**6) <= 255
                assert by_title[(q, lang)]["type"] == ("S" if short else want_type[item.type])
            rel = by_title[(q, lang)]["relevance"]
            boxes = [f'{r["ls_question"]}_{r["ls_subquestion"]}.NAOK != "Y"' for r in rows
                     if r["kind"] == "missing" and r["variable"] == item.var]
            if item.type in ("integer", "number", "date", "datetime"):
                assert len(boxes) == len([x for x in item.missing if x != item.no_answer])
            own = " and ".join(boxes) if boxes else "1"
            if item.ask_if is None:
                assert rel == own, item.var
            else:
                equation = relevance(item.ask_if.tree, inst, mapping_of(inst))
                assert rel == (equation if own == "1" else f"({equation}) and {own}"), item.var
        if item.type == "multi":
            opts = {r["code"]: r["ls_subquestion"] for r in rows
                    if r["kind"] == "option" and r["variable"] == item.var}
            assert set(opts) == {o.code for o in item.options} | {str(m) for m in item.missing}
            for o in item.options:
                got = [s for s in subs if s["parent_qid"] == qid_of[q]
                       and s["title"] == opts[o.code]]
                assert {s["language"]: s["question"] for s in got} == {
                    "de": o.label.de, "en": o.label.en}
        elif item.type in ("single", "likert5", "scale"):
            codes = {r["code"]: r["ls_answer"] for r in rows
                     if r["kind"] == "answer" and r["variable"] == item.var}
            want = ({str(c) for c in item.codes} | {str(m) for m in item.missing}) - {
                str(item.no_answer)}
            assert set(codes) == want, item.var
            for c, a in codes.items():
                assert a.isalnum() and len(a) <= 5
                got = {x["language"]: x["answer"] for x in answers
                       if x["qid"] == qid_of[q] and x["code"] == a}
                code = int(c) if c.lstrip("-").isdigit() else c
                label = (item.codes[code] if code in item.codes
                         else inst.missing_codes[code].label)
                assert got == {"de": label.de, "en": label.en}, (item.var, c)
            assert by_title[(q, "en")]["mandatory"] == ("Y" if item.required else "N")


def test_relevance_equations():
    inst = schemas.load_instrument()
    from surveydata.platforms.limesurvey import code_mapping

    m = code_mapping(inst)

    def rel(text):
        return relevance(schemas.parse_condition(text).tree, inst, m)

    assert rel("practice_type in [2, 5]") == (
        '(practiceType.NAOK == "2" or practiceType.NAOK == "5")')
    assert rel("'none' not in info_sources") == 'infoSources_none.NAOK != "Y"'
    assert rel("municipality_size == -8") == 'municipalitySize.NAOK == "DK"'
    assert rel("not n_physicians > 2") == "!(nPhysicians.NAOK > 2)"
    with pytest.raises(LimeSurveyError, match="cannot express"):
        rel("info_sources__bsi > 0")


def _limesurvey_csv(frame: pd.DataFrame, inst, rows: list[dict]) -> str:
    """What LimeSurvey exports for these raw rows, built from the mapping CSV alone:
    question-code headings (q, q[sq]), answer codes, Y for a ticked box, N/A where the
    question was not shown, empty where shown and not answered; BOM, ; and quotes."""
    q = {r["variable"]: (r["ls_question"], r["ls_subquestion"]) for r in rows
         if r["kind"] == "question"}
    opts = {(r["variable"], r["code"]): r["ls_subquestion"] for r in rows if r["kind"] == "option"}
    answers = {(r["variable"], r["code"]): r["ls_answer"] for r in rows if r["kind"] == "answer"}
    boxes = {(r["variable"], r["code"]): f"{r['ls_question']}[{r['ls_subquestion']}]"
             for r in rows if r["kind"] == "missing"}
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"]
    for item in inst.items:
        qq, sq = q[item.var]
        if item.type == "multi":
            header += [f"{qq}[{opts[(item.var, o.code)]}]" for o in item.options]
            header += [f"{qq}[{opts[(item.var, str(m))]}]" for m in item.missing]
        else:
            header.append(f"{qq}[{sq}]" if sq else qq)
            header += [b for (v, _), b in boxes.items() if v == item.var]
    header.append("interviewtime")
    na = str(inst.not_applicable)
    noans = str(inst.no_answer)
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(header)
    for _, raw in frame.iterrows():
        rec = {h: "" for h in header}
        rec.update({"id": raw["response_id"], "submitdate": raw["submitted_at"].replace("T", " "),
                    "lastpage": "4", "startlanguage": "de", "seed": "123",
                    "interviewtime": raw["duration_s"]})
        for item in inst.items:
            qq, sq = q[item.var]
            if item.type == "multi":
                vals = [raw[c] for c in item.columns]
                cols = [f"{qq}[{opts[(item.var, o.code)]}]" for o in item.options]
                if all(v == na for v in vals):
                    rec.update(dict.fromkeys(cols, "N/A"))
                    rec.update({f"{qq}[{opts[(item.var, str(m))]}]": "N/A" for m in item.missing})
                elif len(set(vals)) == 1 and vals[0] in {str(m) for m in item.missing}:
                    rec[f"{qq}[{opts[(item.var, vals[0])]}]"] = "Y"
                else:
                    rec.update({c: {"1": "Y", "0": ""}.get(v, v) for c, v in zip(cols, vals)})
                continue
            col = f"{qq}[{sq}]" if sq else qq
            v = raw[item.var]
            if v == na and item.type != "text":
                rec[col] = "N/A"
            elif v == noans:
                rec[col] = ""
            elif (item.var, v) in boxes:
                rec[boxes[(item.var, v)]] = "Y"
            elif (item.var, v) in answers:
                rec[col] = answers[(item.var, v)]
            elif item.type == "date" and len(v) == 10 and v[4] == "-":
                rec[col] = v + " 00:00:00"
            elif item.type in ("integer", "number") and re.fullmatch(r"-?\d+(\.\d+)?", v) \
                    and item.min <= float(v) <= item.max:  # (planted errors as they are)
                whole, _, frac = v.partition(".")  # LimeSurvey's decimal(30,10)
                rec[col] = f"{whole}.{frac.ljust(10, '0')}"
            else:
                rec[col] = v
        w.writerow([rec[h] for h in header])
    return "\ufeff" + out.getvalue() + "\r\n"


def _sim(inst, error_rate) -> pd.DataFrame:
    """A simulated raw export (all text): the demo's (surveydata.simulate, planted errors) for
    the practice instrument, the generic simulator's for any other."""
    if inst.name == "practice_security":
        raw = load_demo(raw=True).drop(columns=["line", "_row_error"]).iloc[:150]
        return raw.reset_index(drop=True)
    return simulate_responses(inst, n=120, seed=7, error_rate=error_rate, decimal=".",
                              separator=";").frame.astype("str")


@pytest.mark.parametrize("name, error_rate", [("practice_security", None),
                                              ("pharmacy_staff", 0.0), ("pharmacy_staff", 0.1)])
def test_simulated_responses_round_trip_and_validate_alike(name, error_rate, tmp_path):
    inst = schemas.load_instrument(name)
    frame = _sim(inst, error_rate)
    original = tmp_path / "original.csv"
    frame.to_csv(original, sep=";", index=False)
    _, mapping = write_lss(inst, tmp_path)
    ls_file = tmp_path / "limesurvey_results.csv"
    ls_file.write_text(_limesurvey_csv(frame, inst, _mapping_rows(mapping)),
                       encoding="utf-8")
    back = read_responses(ls_file, inst, mapping)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back.attrs["export"]["conflicts"] == []
    again = tmp_path / "back.csv"
    back.to_csv(again, sep=";", index=False)
    a = validate(read_export(original, inst), inst)
    b = validate(read_export(again, inst), inst)
    assert len(a.valid) == len(b.valid) and len(a.quarantine) == len(b.quarantine)
    assert sorted(a.quarantine["response_id"]) == sorted(b.quarantine["response_id"])
    assert (len(b.quarantine) == 0) == (error_rate == 0.0)


def test_shown_unanswered_and_hidden_cells(tmp_path):
    """The reader's own decisions: an empty multi-choice shown is 'none of these' (0s), N/A is
    not-applicable, an empty single-choice asked is no answer, an unknown answer code is kept."""
    inst = schemas.load_instrument()
    frame = _sim(inst, 0.0)
    _, mapping = write_lss(inst, tmp_path)
    rows = _mapping_rows(mapping)
    text = _limesurvey_csv(frame.iloc[:1], inst, rows)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    header, rec = reader.fieldnames, next(reader)
    info = [h for h in header if h.startswith("infoSources[")]
    rec.update(dict.fromkeys(info, ""))
    rec["municipalitySize"] = ""
    rec["practiceForm"] = "Z9"
    out = io.StringIO()
    w = csv.DictWriter(out, header, delimiter=";")
    w.writeheader()
    w.writerow(rec)
    back = read_responses(io.StringIO("\ufeff" + out.getvalue()), inst, mapping)  # BOM
    assert {back.loc[0, c] for c in inst.item("info_sources").columns} == {"0"}
    assert back.loc[0, "municipality_size"] == "-9"
    assert back.loc[0, "practice_form"] == "Z9"


def test_missing_column_is_one_line_error(tmp_path):
    inst = schemas.load_instrument()
    _, mapping = write_lss(inst, tmp_path)
    with pytest.raises(LimeSurveyError, match=r"no column 'practiceType' for item practice_type"):
        read_responses(io.StringIO("id;submitdate\n1;\n"), inst, mapping)
    with pytest.raises(LimeSurveyError, match="no column 'id'"):
        read_responses(io.StringIO("x,y\n"), inst, mapping)


def test_platform_command_exports_and_imports(tmp_path, capsys):
    """`surveydata platform export --to lss` then `platform import --from limesurvey`: the raw
    export in DIR/export.csv validates like the original; xlsform and redcap exports too; a
    REDCap import without its dictionary is a one-line error."""
    from surveydata.cli import main

    inst = schemas.load_instrument("pharmacy_staff")
    out = tmp_path / "lss"
    assert main(["platform", "export", "--to", "lss", "--instrument", "pharmacy_staff",
                 "--out", str(out)]) == 0
    mapping = out / "pharmacy_staff_limesurvey_codes.csv"
    assert (out / "pharmacy_staff.lss").is_file() and mapping.is_file()
    frame = _sim(inst, 0.1)
    ls_file = tmp_path / "results.csv"
    ls_file.write_text(_limesurvey_csv(frame, inst, _mapping_rows(mapping)), encoding="utf-8")
    for extra in ([], ["--mapping", str(mapping)]):
        assert main(["platform", "import", "--from", "limesurvey", str(ls_file), "--instrument",
                     "pharmacy_staff", "--out", str(tmp_path / "in"), *extra]) == 0
        back = read_export(tmp_path / "in" / "export.csv", inst)
        assert back[list(inst.columns)].equals(frame.astype("str")[list(inst.columns)])
    assert f"{len(frame)} response(s) from limesurvey" in capsys.readouterr().out
    for target, name in (("xlsform", "pharmacy_staff.xlsx"),
                         ("redcap", "pharmacy_staff_redcap_dictionary.csv")):
        assert main(["platform", "export", "--format", target, "--instrument", "pharmacy_staff",
                     "--out", str(tmp_path / target)]) == 0
        assert (tmp_path / target / name).stat().st_size > 0
    assert main(["platform", "import", "--from", "redcap", str(ls_file), "--out",
                 str(tmp_path / "r")]) == 2
    assert "--from redcap needs --dictionary" in capsys.readouterr().err


def test_expression_manager_headings_and_comma_separator(tmp_path):
    """LimeSurvey's other heading style, ``q_sq`` (Expression Manager codes), with ',' between
    fields and no BOM, reads to the same raw export."""
    inst = schemas.load_instrument("pharmacy_staff")
    frame = _sim(inst, 0.0).iloc[:30].reset_index(drop=True)
    _, mapping = write_lss(inst, tmp_path)
    text = _limesurvey_csv(frame, inst, _mapping_rows(mapping)).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    rows[0] = [re.sub(r"^(\w+)\[(\w+)\]$", r"\1_\2", h) for h in rows[0]]
    assert any("_" in h for h in rows[0]) and not any("[" in h for h in rows[0])
    out = io.StringIO()
    csv.writer(out).writerows(r for r in rows if r)
    back = read_responses(io.StringIO(out.getvalue()), inst, mapping)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
