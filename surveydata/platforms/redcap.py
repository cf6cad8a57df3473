"""REDCap both ways: the instrument as a REDCap data dictionary, and a REDCap record export read
back (checked against its data dictionary) into the raw export `surveydata validate` reads.

Data dictionary (`redcap_dictionary`): one REDCap instrument (form) per section, ``radio`` for
single and Likert items, ``checkbox`` for multi-choice items (REDCap column ``var___code``),
``text`` with integer validation and the range for counts, ``notes`` for free text; choices are
the instrument's codes (``1, Yes | 2, No | -8, Don't know``; "no answer" -9 where allowed),
format 2: ``text`` with ``number`` validation and the range for numbers, ``date_ymd`` /
``datetime_ymd`` for dates and date-times, ``radio`` with the scale's points and the offered
missing codes for scale items (grid rows share a ``Matrix Group Name``); skip logic becomes
branching logic (``[role] = '2' or [role] = '5'``,
``[devices_used(none)] <> '1'``). A hidden ``start_time`` field (@NOW) opens the first form,
so that duration_s can be computed from the survey timestamp.

Reading (`read_redcap`): the dictionary must describe the instrument's items with the same
choice codes (otherwise a one-line error names the field and code); ``record_id`` becomes
response_id, the last form's ``<form>_timestamp`` submitted_at, and that minus ``start_time``
duration_s. Hidden (branching) fields come back empty and become -7 where the instrument's skip
logic did not ask them, -9 where it did and "no answer" is allowed.

Example (the packaged pharmacy staff instrument):
    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> d = {r["Variable / Field Name"]: r for r in redcap_dictionary(inst)}
    >>> d["phone_for_work_data"]["Branching Logic (Show field only if...)"]
    "[devices_used(own_phone)] = '1'"
    >>> d["devices_used"]["Field Type"], d["years_in_pharmacy"]["Text Validation Max"]
    ('checkbox', '99')
    >>> branching(schemas.parse_condition("role in [2, 5]").tree, inst)
    "[role] = '2' or [role] = '5'"
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from schemas.conditions import And, Compare, In, Lit, Not, Or, Var
from surveydata.errors import SurveyDataError
from surveydata.fieldwork.form import Page, Questionnaire
from surveydata.platforms._rows import put_value, timestamp

__all__ = ["DICTIONARY_COLUMNS", "RedcapError", "read_redcap", "redcap_dictionary",
           "write_redcap_dictionary"]

DICTIONARY_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation"]
_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class RedcapError(SurveyDataError):
    """A REDCap export or dictionary that does not fit the instrument (names field and fix)."""


def _form(section: str) -> str:
    return f"section_{section.lower()}"


def _ref(name: str, inst) -> str:
    if "__" in name:
        item = inst.column_item(name)
        if item.type == "multi":
            return f"[{item.var}({name.split('__', 1)[1]})]"
    return f"[{name}]"


def _lit(v) -> str:
    return f"'{v}'"


def branching(node, inst) -> str:
    """REDCap branching logic for a parsed condition."""
    if isinstance(node, And | Or):
        word = " and " if isinstance(node, And) else " or "
        parts = [branching(n, inst) for n in node.operands]
        return word.join(f"({p})" if " or " in p or " and " in p else p for p in parts)
    if isinstance(node, Not):
        raise RedcapError("'not' has no REDCap branching equivalent; write the condition "
                          "with != / not in")
    if isinstance(node, In):
        ref = _ref(node.var.name, inst)
        if node.negated:
            return " and ".join(f"{ref} <> {_lit(v)}" for v in node.values)
        return " or ".join(f"{ref} = {_lit(v)}" for v in node.values)
    if isinstance(node, Compare):
        left = _ref(node.left.name, inst) if isinstance(node.left, Var) else _lit(node.left.value)
        right = (_ref(node.right.name, inst) if isinstance(node.right, Var)
                 else _lit(node.right.value) if isinstance(node.right, Lit) else "")
        return f"{left} {_OPS[node.op]} {right}"
    raise TypeError(f"unknown condition node {node!r}")


def redcap_dictionary(inst) -> list[dict]:
    """The data dictionary rows (REDCap's CSV columns)."""
    rows = [{"Variable / Field Name": "record_id", "Form Name": _form(inst.items[0].section),
             "Field Type": "text", "Field Label": "Record ID"},
            {"Variable / Field Name": "start_time", "Form Name": _form(inst.items[0].section),
             "Field Type": "text", "Field Label": "Start",
             "Text Validation Type OR Show Slider Number": "datetime_seconds_ymd",
             "Field Annotation": "@NOW @HIDDEN"}]
    section = None
    for item in inst.items:
        row = {"Variable / Field Name": item.var, "Form Name": _form(item.section),
               "Field Label": item.text.en}
        if item.section != section:
            section = item.section
            row["Section Header"] = inst.sections[section].title.en
        if item.required:
            row["Required Field?"] = "y"
        if item.ask_if is not None:
            row["Branching Logic (Show field only if...)"] = branching(item.ask_if.tree, inst)
        if item.type in ("single", "likert5", "multi", "scale"):
            row["Field Type"] = "checkbox" if item.type == "multi" else "radio"
            if item.grid is not None:
                row["Matrix Group Name"] = item.grid
            entries = ([(o.code, o.label) for o in item.options] if item.type == "multi"
                       else list(item.codes.items()))
            entries += [(m, inst.missing_codes[m].label) for m in item.missing
                        if m not in dict(entries)]
            row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                f"{c}, {label.en}" for c, label in entries)
        elif item.type in ("integer", "number"):
            # the range widened to the missing codes (REDCap has one range: 98/99 lie above it)
            row.update({"Field Type": "text", "Text Validation Type OR Show Slider Number":
                        item.type, "Text Validation Min": str(min([item.min, *item.missing])),
                        "Text Validation Max": str(max([item.max, *item.missing]))})
            if item.missing:
                row["Field Note"] = ", ".join(f"{m} = {inst.missing_codes[m].label.en}"
                                              for m in item.missing)
        elif item.type in ("date", "datetime"):
            row.update({"Field Type": "text", "Text Validation Type OR Show Slider Number":
                        f"{item.type}_ymd", "Text Validation Min": item.min,
                        "Text Validation Max": item.max})
        else:
            row["Field Type"] = "notes"
        rows.append(row)
    return rows


def write_redcap_dictionary(inst, path) -> Path:
    """Write the data dictionary CSV (upload it in REDCap: Project Setup -> Data Dictionary)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, DICTIONARY_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in redcap_dictionary(inst):
            w.writerow({c: r.get(c, "") for c in DICTIONARY_COLUMNS})
    return path


def _read_csv(source, what: str) -> tuple[list[str], list[dict]]:
    if isinstance(source, str | Path):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as err:
            raise RedcapError(f"{source}: cannot read the {what} ({err.strerror})") from None
        source = io.StringIO(text)
    reader = csv.DictReader(source)
    return list(reader.fieldnames or []), list(reader)


def _checkbox_column(var: str, code) -> str:
    return f"{var}___{str(code).lower().replace('-', '_')}"


def _check_dictionary(rows: list[dict], inst) -> None:
    fields = {r["Variable / Field Name"]: r for r in rows}
    for item in inst.items:
        r = fields.get(item.var)
        if r is None:
            raise RedcapError(f"data dictionary: no field {item.var!r} (the instrument's item); "
                              "was the project built from this instrument?")
        choices = r.get("Choices, Calculations, OR Slider Labels", "")
        if item.type in ("single", "likert5", "multi", "scale") and choices:
            codes = [part.split(",", 1)[0].strip() for part in choices.split("|")]
            known = ({o.code for o in item.options} if item.type == "multi"
                     else {str(c) for c in item.codes}) | {str(m) for m in item.missing}
            for code in codes:
                if code not in known:
                    raise RedcapError(f"data dictionary, field {item.var}: choice code {code!r} "
                                      f"is not a code of the instrument ({', '.join(sorted(known))})")


def read_redcap(records, dictionary, inst) -> pd.DataFrame:
    """A REDCap records export (raw codes, CSV) as the all-text raw export of `inst`."""
    _, dict_rows = _read_csv(dictionary, "data dictionary")
    _check_dictionary(dict_rows, inst)
    header, recs = _read_csv(records, "records export")
    if "record_id" not in header:
        raise RedcapError("records export: no column 'record_id' (export the raw data, CSV)")
    stamps = [c for c in header if re.fullmatch(r"section_[a-z0-9]+_timestamp", c)]
    q = Questionnaire(inst)
    out_rows = []
    for rec in recs:
        row: dict = {}
        done = [timestamp(rec.get(c, "")) for c in stamps]
        end = max((d for d in done if d is not None), default=None)
        start = timestamp(rec.get("start_time", ""))
        out = {"response_id": rec["record_id"],
               "submitted_at": end.isoformat() if end else "",
               "duration_s": (f"{(end - start).total_seconds():g}" if end and start else "")}
        for item in inst.items:
            asked = bool(q.asked(Page(0, item.section, 1, (item,)), row))
            blank = item.no_answer if item.no_answer in item.missing else None
            if item.type == "multi":
                ticked = {o.code for o in item.options
                          if rec.get(_checkbox_column(item.var, o.code), "0") == "1"}
                miss = [m for m in item.missing
                        if rec.get(_checkbox_column(item.var, m), "0") == "1"]
                if not ticked and not miss:
                    fill = blank if asked else item.not_applicable
                    vals = {c: fill for c in item.columns}
                else:
                    fill = miss[0] if miss else 0
                    vals = {f"{item.var}__{o.code}": 1 if o.code in ticked else fill
                            for o in item.options}
                row.update(vals)
                out.update({c: "" if v is None else str(v) for c, v in vals.items()})
                continue
            value = (rec.get(item.var) or "").strip()
            put_value(row, out, item, value, asked, blank)
        out_rows.append(out)
    frame = pd.DataFrame(out_rows, columns=list(inst.columns), dtype="str")
    frame.attrs["export"] = {"format": "redcap"}
    return frame
