"""LimeSurvey both ways: the instrument as a survey structure file (.lss, what "Import survey"
takes) with a code mapping beside it, and LimeSurvey's response export read back into the raw
export `surveydata validate` reads.

LimeSurvey's codes are stricter than ours, so some change, and the mapping says how
(`code_mapping`, written as CSV by `write_lss`):

* question codes: alphanumeric, starting with a letter, at most 20 characters, so
  ``phone_for_work_data`` -> ``phoneForWorkData`` (camel case; shortened and numbered where
  needed);
* answer codes: alphanumeric, at most 5 characters: substantive codes that already are (1, 2,
  'BW') stay, others become ``A<n>``; missing codes are named by kind (-8 or 98 don't know ->
  ``DK``, refused -> ``REF``, no answer of a multi-choice item -> ``NOANS``);
* "no answer" of a single-choice, rating or grid item is LimeSurvey's own "No answer" (the
  question is not mandatory; an empty cell in the export); a required item is mandatory;
* multi-choice items are type M (one subquestion per option, column ``q[sq]``; the item's
  missing codes are subquestions of their own; exclusive options and those codes exclude all
  others); an item with nothing ticked was answered "none of these" (every option 0), as in the
  project's own web form;
* single choice and ratings: type L (list, labelled in both languages); a `grid:` of scale items
  one array F (a subquestion per item); integers and numbers N (range and decimals as question
  attributes), dates D (``yyyy-mm-dd``), text S or T (maximum length);
* a "don't know"/"refused" code of a number or date item is a checkbox question of its own
  (type M, ``<code>Miss``) after it; ticking it hides the number (its relevance adds
  ``<code>Miss_DK.NAOK != "Y"``);
* ``ask_if`` becomes a relevance equation in ExpressionScript with ``.NAOK`` (a skipped item
  counts as empty, as our -7 is never equal to an answer code): ``role in [2, 5]`` ->
  ``(role.NAOK == "2" or role.NAOK == "5")``,
  ``'none' not in devices_used`` -> ``devicesUsed_none.NAOK != "Y"``.

Reading (`read_responses`): LimeSurvey's CSV response export with "question code" headings
(``q[sq]``; the Expression-Manager form ``q_sq`` is read too) and answer codes. ``id`` becomes
response_id, ``submitdate`` submitted_at (ISO, ``T``), ``interviewtime`` (or submitdate minus
startdate) duration_s. ``N/A`` (LimeSurvey did not show the question) becomes the
not-applicable code (-7, 97, ...; validation names it where the instrument would have asked);
an empty cell (shown, not answered) the not-applicable code where the instrument's skip logic
(evaluated on the answers read back) did not ask the item, else its no-answer code (a
multi-choice item shown with nothing ticked: every option 0); an answer code that is not in the mapping is kept as it is (so
validation quarantines it, naming it), never guessed.

Example (the packaged pharmacy staff instrument: missing codes 98 don't know, 99 no answer):
    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> m = code_mapping(inst)
    >>> m.question("phone_for_work_data"), m.answer("shared_login", 98)
    ('phoneForWorkData', 'DK')
    >>> relevance(schemas.parse_condition("role in [2, 5]").tree, inst, m)
    '(role.NAOK == "2" or role.NAOK == "5")'
    >>> relevance(inst.item("phone_for_work_data").ask_if.tree, inst, m)
    'devicesUsed_ownPhone.NAOK == "Y"'
"""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.conditions import And, Compare, In, Lit, Not, Or, Var
from schemas.instrument import Label
from surveydata.errors import SurveyDataError
from surveydata.fieldwork.form import Page, Questionnaire
from surveydata.platforms._rows import timestamp

__all__ = ["MAPPING_COLUMNS", "CodeMapping", "LimeSurveyError", "code_mapping", "lss_document",
           "read_mapping", "read_responses", "relevance", "write_lss"]

LANGS = ("de", "en")
DB_VERSION = "366"  # LimeSurvey 3.x layout (one row per language); LimeSurvey 3-6 import it
MAPPING_COLUMNS = ["kind", "variable", "code", "ls_question", "ls_subquestion", "ls_answer"]
_QCODE_MAX, _ACODE_MAX = 20, 5
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_KIND_CODES = {"dont_know": "DK", "refused": "REF", "no_answer": "NOANS",
               "not_applicable": "NAP"}
_RESERVED = {"id", "token", "submitdate", "lastpage", "startlanguage", "seed", "startdate",
             "datestamp", "ipaddr", "refurl", "interviewtime", "that", "self"}
_NULLS = {"", "N/A"}
_TICKS = {"Y": 1, "1": 1, "": 0, "N": 0, "0": 0, "N/A": "N/A"}


class LimeSurveyError(SurveyDataError):
    """A LimeSurvey export or mapping that does not fit the instrument (names file and fix)."""


def _camel(name: str) -> str:
    head, *rest = [p for p in name.split("_") if p]
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class _Codes:
    """Unique LimeSurvey codes within one namespace."""

    def __init__(self, limit: int, must_start_letter: bool):
        self.limit, self.letter, self.used = limit, must_start_letter, set()

    def make(self, wanted: str) -> str:
        code = re.sub(r"[^A-Za-z0-9]", "", wanted) or "Q"
        if self.letter and not code[0].isalpha():
            code = "Q" + code
        if code.lower() in _RESERVED:
            code += "Q"
        code = code[: self.limit]
        base, n = code, 1
        while code.lower() in self.used:
            n += 1
            code = base[: self.limit - len(str(n))] + str(n)
        self.used.add(code.lower())
        return code


@dataclass
class CodeMapping:
    """Our names and codes <-> LimeSurvey's (one row per question, option and answer code)."""

    rows: list[dict] = field(default_factory=list)

    def _find(self, kind, variable, code=None) -> dict:
        index = self.__dict__.get("_index")
        if index is None or index[0] != len(self.rows):  # built once (rebuilt if rows grew)
            table: dict = {}
            for r in self.rows:
                table.setdefault((r["kind"], r["variable"], r["code"]), r)
                table.setdefault((r["kind"], r["variable"], None), r)
            index = self.__dict__["_index"] = (len(self.rows), table)
        found = index[1].get((kind, variable, None if code is None else str(code)))
        if found is None:
            raise KeyError(f"mapping has no {kind} for {variable!r} "
                           f"{'' if code is None else code}")
        return found

    def question(self, var: str) -> str:
        """LimeSurvey question code of the item `var` (a grid row: the array's code)."""
        return self._find("question", var)["ls_question"]

    def subquestion(self, var: str) -> str:
        """Subquestion code of a grid row item (empty for a question of its own)."""
        return self._find("question", var)["ls_subquestion"]

    def option(self, var: str, option: str) -> str:
        """Subquestion code of a multi-choice option (or missing code) of `var`."""
        return self._find("option", var, option)["ls_subquestion"]

    def answer(self, var: str, code) -> str:
        """LimeSurvey answer code of our `code` of item `var`."""
        return self._find("answer", var, code)["ls_answer"]

    def missing_question(self, var: str) -> str | None:
        """The checkbox question holding a number/date item's missing codes, if any."""
        try:
            return self._find("missing", var)["ls_question"]
        except KeyError:
            return None

    def missing_box(self, var: str, code) -> str:
        return self._find("missing", var, code)["ls_subquestion"]

    def write(self, path) -> Path:
        path = Path(path)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, MAPPING_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(self.rows)
        return path


def read_mapping(path) -> CodeMapping:
    """The mapping CSV written by `write_lss`."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LimeSurveyError(f"{path}: cannot read the code mapping ({err.strerror})") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != MAPPING_COLUMNS:
        raise LimeSurveyError(f"{path}: not a code mapping (columns must be "
                              f"{', '.join(MAPPING_COLUMNS)}); write it with `write_lss`")
    return CodeMapping([dict(r) for r in reader])


def _answer_code(code, kind: str | None, taken: set, n: int) -> str:
    text = str(code)
    if kind is None and _ALNUM.match(text) and len(text) <= _ACODE_MAX:
        wanted = text
    else:
        wanted = _KIND_CODES.get(kind, f"A{n}")
    out, k = wanted, 1
    while out in taken:
        k += 1
        out = wanted[: _ACODE_MAX - len(str(k))] + str(k)
    taken.add(out)
    return out


def _entries(item, inst) -> list[tuple]:
    """(our code, label, missing kind or None) offered as answers (no-answer excluded)."""
    out = []
    na = item.no_answer
    if item.type == "multi":
        out = [(o.code, o.label, None) for o in item.options]
        return out + [(m, inst.missing_codes[m].label, inst.missing_set[m])
                      for m in item.missing]
    for code, label in item.codes.items():
        if code == na:
            continue
        out.append((code, label, inst.missing_set.get(code) if isinstance(code, int) else None))
    for m in item.missing:
        if m != na and m not in item.codes:
            out.append((m, inst.missing_codes[m].label, inst.missing_set[m]))
    return out


def code_mapping(inst) -> CodeMapping:
    """The mapping of `inst`'s variables, options and codes to LimeSurvey codes."""
    qcodes = _Codes(_QCODE_MAX, True)
    rows: list[dict] = []
    grids: dict[str, str] = {}
    rows_of: dict[str, _Codes] = {}  # one namespace of subquestion codes per grid
    for item in inst.items:
        if item.grid:
            if item.grid not in grids:
                grids[item.grid] = qcodes.make(_camel(item.grid))
                rows_of[item.grid] = _Codes(_QCODE_MAX, True)
            sub = item.var[len(item.grid) + 1:] if item.var.startswith(item.grid + "_") \
                else item.var
            rows.append({"kind": "question", "variable": item.var, "code": "",
                         "ls_question": grids[item.grid],
                         "ls_subquestion": rows_of[item.grid].make(_camel(sub)),
                         "ls_answer": ""})
        else:
            rows.append({"kind": "question", "variable": item.var, "code": "",
                         "ls_question": qcodes.make(_camel(item.var)), "ls_subquestion": "",
                         "ls_answer": ""})
        q = rows[-1]["ls_question"]
        if item.type == "multi":
            subs = _Codes(_QCODE_MAX, True)
            for code, _label, kind in _entries(item, inst):
                sq = subs.make(_KIND_CODES[kind] if kind else _camel(str(code)))
                rows.append({"kind": "option", "variable": item.var, "code": str(code),
                             "ls_question": q, "ls_subquestion": sq, "ls_answer": ""})
        elif item.type in ("single", "likert5", "scale"):
            taken: set = set()
            for n, (code, _label, kind) in enumerate(_entries(item, inst), 1):
                rows.append({"kind": "answer", "variable": item.var, "code": str(code),
                             "ls_question": q, "ls_subquestion": "", "ls_answer": _answer_code(code, kind, taken, n)})
        elif item.type in ("integer", "number", "date", "datetime"):
            extra = [m for m in item.missing if m != item.no_answer]
            if extra:
                mq = qcodes.make(q[: _QCODE_MAX - 4] + "Miss")
                taken = set()
                for m in extra:
                    rows.append({"kind": "missing", "variable": item.var, "code": str(m),
                                 "ls_question": mq, "ls_subquestion": _answer_code(
                                     m, inst.missing_set[m], taken, 0), "ls_answer": "Y"})
    return CodeMapping(rows)


# --------------------------------------------------------------------------- relevance


def _q(s: str) -> str:
    return '"' + s.replace('"', "") + '"'


def _ref(var: str, inst, m: CodeMapping) -> tuple[str, object]:
    item = inst.column_item(var)
    if item.type == "multi":
        return f"{m.question(item.var)}_{m.option(item.var, var.split('__', 1)[1])}.NAOK", item
    if item.grid:
        return f"{m.question(item.var)}_{m.subquestion(item.var)}.NAOK", item
    return f"{m.question(item.var)}.NAOK", item


def _compare(ref: str, item, op: str, value, m: CodeMapping) -> str:
    emop = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[op]
    if item.type == "multi":
        ticked = {("==", 1), ("!=", 0)}
        unticked = {("==", 0), ("!=", 1)}
        if (op, value) in ticked:
            return f'{ref} == "Y"'
        if (op, value) in unticked:
            return f'{ref} != "Y"'
        raise LimeSurveyError(f"cannot express {item.var} {op} {value} in ExpressionScript")
    if value == item.not_applicable:
        return f'{ref} {emop} ""'
    if item.type in ("integer", "number", "date", "datetime") and value in item.missing:
        box = m.missing_question(item.var)
        if box is None or op not in ("==", "!="):
            raise LimeSurveyError(f"cannot express {item.var} {op} {value} in ExpressionScript")
        return f'{box}_{m.missing_box(item.var, value)}.NAOK {emop} "Y"'
    if item.type in ("single", "likert5", "scale"):
        try:
            code = m.answer(item.var, value)
        except KeyError:
            code = str(value)
        if op in ("==", "!="):
            return f"{ref} {emop} {_q(code)}"
        return f"{ref} {emop} {value}"
    return f"{ref} {emop} {value if isinstance(value, int) else _q(str(value))}"


def relevance(node, inst, m: CodeMapping) -> str:
    """An ExpressionScript relevance equation for a parsed condition (`Condition.tree`)."""
    if isinstance(node, And | Or):
        word = " and " if isinstance(node, And) else " or "
        return "(" + word.join(relevance(n, inst, m) for n in node.operands) + ")"
    if isinstance(node, Not):
        return f"!({relevance(node.operand, inst, m)})"
    if isinstance(node, In):
        ref, item = _ref(node.var.name, inst, m)
        parts = [_compare(ref, item, "==", v, m) for v in node.values]
        inner = "(" + " or ".join(parts) + ")"
        return f"!{inner}" if node.negated else inner
    if isinstance(node, Compare):
        left, right, op = node.left, node.right, node.op
        if isinstance(left, Lit) and isinstance(right, Var):
            flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
            left, right, op = right, left, flip.get(op, op)
        if isinstance(right, Lit):
            ref, item = _ref(left.name, inst, m)
            return _compare(ref, item, op, right.value, m)
        a, _ = _ref(left.name, inst, m)
        b, _ = _ref(right.name, inst, m)
        return f"{a} {op} {b}"
    raise TypeError(f"unknown condition node {node!r}")


# --------------------------------------------------------------------------- .lss


def _unless_boxed(rel: str, item, m: CodeMapping) -> str:
    """The relevance of a number/date question: hidden when one of its missing boxes is ticked."""
    box = m.missing_question(item.var)
    if box is None:
        return rel
    clauses = [f'{box}_{r["ls_subquestion"]}.NAOK != "Y"' for r in m.rows
               if r["kind"] == "missing" and r["variable"] == item.var]
    return " and ".join(([] if rel == "1" else [f"({rel})"]) + clauses)


class _Table:
    def __init__(self, fields: list[str]):
        self.fields, self.rows = fields, []

    def add(self, **values):
        self.rows.append(values)

    def element(self, name: str) -> ET.Element:
        el = ET.Element(name)
        fl = ET.SubElement(el, "fields")
        for f in self.fields:
            ET.SubElement(fl, "fieldname").text = f
        rows = ET.SubElement(el, "rows")
        for r in self.rows:
            row = ET.SubElement(rows, "row")
            for f in self.fields:
                if f in r:
                    ET.SubElement(row, f).text = str(r[f])
        return el


_Q_FIELDS = ["qid", "parent_qid", "sid", "gid", "type", "title", "question", "preg", "help",
             "other", "mandatory", "question_order", "language", "scale_id", "same_default",
             "relevance", "modulename"]


def lss_document(inst, mapping: CodeMapping | None = None, sid: int = 100001) -> ET.Element:
    """The survey structure as an XML element tree (root ``document``)."""
    m = mapping or code_mapping(inst)
    groups = _Table(["gid", "sid", "group_name", "group_order", "description", "language",
                     "randomization_group", "grelevance"])
    questions, subquestions = _Table(_Q_FIELDS), _Table(_Q_FIELDS)
    answers = _Table(["qid", "code", "answer", "sortorder", "assessment_value", "language",
                      "scale_id"])
    attributes = _Table(["qid", "attribute", "value", "language"])
    gid_of = {s: k + 1 for k, s in enumerate(inst.sections)}
    for s, gid in gid_of.items():
        for lang in LANGS:
            groups.add(gid=gid, sid=sid, group_name=inst.sections[s].title.get(lang),
                       group_order=gid - 1, description="", language=lang,
                       randomization_group="", grelevance="1")
    qid = 0
    order = 0
    grid_qid: dict[str, int] = {}

    def question(qtype, title, text, gid, mandatory, rel, parent=0, q_order=None):
        for lang in LANGS:
            (subquestions if parent else questions).add(
                qid=qid, parent_qid=parent, sid=sid, gid=gid, type=qtype, title=title,
                question=text.get(lang) if hasattr(text, "get") else text, preg="", help="",
                other="N", mandatory=mandatory, question_order=order if q_order is None
                else q_order, language=lang, scale_id=0, same_default=0, relevance=rel,
                modulename="")

    def answer_rows(q, entries, var):
        for k, (code, label, _kind) in enumerate(entries):
            for lang in LANGS:
                answers.add(qid=q, code=m.answer(var, code), answer=label.get(lang),
                            sortorder=k + 1, assessment_value=0, language=lang, scale_id=0)

    for item in inst.items:
        gid = gid_of[item.section]
        rel = "1" if item.ask_if is None else relevance(item.ask_if.tree, inst, m)
        mandatory = "Y" if item.required else "N"
        qcode = m.question(item.var)
        if item.grid:
            if item.grid not in grid_qid:
                qid += 1
                order += 1
                grid_qid[item.grid] = qid
                stem = item.stem or item.text
                question("F", qcode, stem, gid, mandatory, rel)
                answer_rows(qid, _entries(item, inst), item.var)
            parent = grid_qid[item.grid]
            qid += 1
            n_rows = sum(1 for r in subquestions.rows if r["parent_qid"] == parent) // 2
            question("F", m.subquestion(item.var), item.text, gid, "", "1", parent=parent,
                     q_order=n_rows + 1)
            continue
        qid += 1
        order += 1
        main = qid
        if item.type == "multi":
            question("M", qcode, item.text, gid, mandatory, rel)
            excl = []
            for k, (code, label, kind) in enumerate(_entries(item, inst)):
                qid += 1
                sq = m.option(item.var, code)
                question("M", sq, label, gid, "", "1", parent=main, q_order=k + 1)
                if kind or code in item.exclusive_options:
                    excl.append(sq)
            if excl:
                attributes.add(qid=main, attribute="exclude_all_others", value=";".join(excl),
                               language="")
            if item.max_select:
                attributes.add(qid=main, attribute="max_answers", value=item.max_select,
                               language="")
        elif item.type in ("single", "likert5", "scale"):
            question("L", qcode, item.text, gid, mandatory, rel)
            answer_rows(main, _entries(item, inst), item.var)
        elif item.type in ("integer", "number"):
            own = _unless_boxed(rel, item, m)
            question("N", qcode, item.text, gid, mandatory, own)
            if item.min is not None:
                attributes.add(qid=main, attribute="min_num_value_n", value=item.min,
                               language="")
            if item.max is not None:
                attributes.add(qid=main, attribute="max_num_value_n", value=item.max,
                               language="")
            if item.type == "integer":
                attributes.add(qid=main, attribute="num_value_int_only", value=1, language="")
        elif item.type in ("date", "datetime"):
            question("D", qcode, item.text, gid, mandatory, _unless_boxed(rel, item, m))
            fmt = "yyyy-mm-dd" if item.type == "date" else "yyyy-mm-dd HH:MM"
            attributes.add(qid=main, attribute="date_format", value=fmt, language="")
            for attr, v in (("date_min", item.min), ("date_max", item.max)):
                if v is not None:
                    attributes.add(qid=main, attribute=attr, value=str(v)[:10], language="")
        else:
            long = item.max_length is None or item.max_length > 255
            question("T" if long else "S", qcode, item.text, gid, mandatory, rel)
            if item.max_length:
                attributes.add(qid=main, attribute="maximum_chars", value=item.max_length,
                               language="")
        box = m.missing_question(item.var)
        if box is not None:
            qid += 1
            order += 1
            parent = qid
            question("M", box, Label("Keine Zahl/kein Datum, sondern:",
                                     "Instead of an answer:"), gid, "N", rel)
            for k, mcode in enumerate([x for x in item.missing if x != item.no_answer]):
                qid += 1
                question("M", m.missing_box(item.var, mcode), inst.missing_codes[mcode].label,
                         gid, "", "1", parent=parent, q_order=k + 1)
    return _document(inst, sid, answers, groups, questions, subquestions, attributes)


def _document(inst, sid: int, answers, groups, questions, subquestions, attributes) -> ET.Element:
    """The .lss document around the question tables: survey settings in both languages."""
    root = ET.Element("document")
    ET.SubElement(root, "LimeSurveyDocType").text = "Survey"
    ET.SubElement(root, "DBVersion").text = DB_VERSION
    langs = ET.SubElement(root, "languages")
    for lang in LANGS:
        ET.SubElement(langs, "language").text = lang
    root.append(answers.element("answers"))
    root.append(groups.element("groups"))
    root.append(questions.element("questions"))
    root.append(subquestions.element("subquestions"))
    root.append(attributes.element("question_attributes"))
    survey = _Table(["sid", "admin", "language", "additional_languages", "format", "active",
                     "anonymized", "datestamp", "savetimings", "shownoanswer", "showprogress",
                     "allowprev", "allowsave", "tokenanswerspersistence"])
    survey.add(sid=sid, admin="", language="de", additional_languages="en", format="G",
               active="N", anonymized="Y", datestamp="Y", savetimings="Y", shownoanswer="Y",
               showprogress="Y", allowprev="Y", allowsave="Y", tokenanswerspersistence="N")
    root.append(survey.element("surveys"))
    settings = _Table(["surveyls_survey_id", "surveyls_language", "surveyls_title",
                       "surveyls_description", "surveyls_welcometext", "surveyls_endtext",
                       "surveyls_dateformat", "surveyls_numberformat"])
    for lang in LANGS:
        settings.add(surveyls_survey_id=sid, surveyls_language=lang,
                     surveyls_title=inst.title.get(lang),
                     surveyls_description=f"{inst.name} {inst.version}",
                     surveyls_welcometext="", surveyls_endtext="",
                     surveyls_dateformat=6, surveyls_numberformat=0 if lang == "en" else 1)
    root.append(settings.element("surveys_languagesettings"))
    return root


def write_lss(inst, out_dir) -> tuple[Path, Path]:
    """Write ``<name>.lss`` and ``<name>_limesurvey_codes.csv`` into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = code_mapping(inst)
    tree = ET.ElementTree(lss_document(inst, m))
    ET.indent(tree, space=" ")
    lss = out / f"{inst.name}.lss"
    tree.write(lss, encoding="UTF-8", xml_declaration=True)
    return lss, m.write(out / f"{inst.name}_limesurvey_codes.csv")


# --------------------------------------------------------------------------- responses


def _number(text: str, item) -> str:
    """Trailing zeros LimeSurvey adds (``2.5000000000``) cut to the item's decimals (never a
    non-zero digit); any other text is kept as it is (validation reads and judges it)."""
    places = 0 if item.type == "integer" else (item.decimals or 0)
    mm = re.fullmatch(r"(-?\d+)\.(\d*?)(0*)", text)
    if mm is None:
        return text
    if len(mm.group(2)) > places:  # more decimals than allowed: kept for validation to name
        return mm.group(1) + "." + mm.group(2)
    digits = mm.group(2) + mm.group(3)
    if len(digits) <= places:
        return text
    kept = digits[:places]
    return mm.group(1) + ("." + kept if places else "")


def _columns(header: list[str]) -> dict[str, str]:
    """Column lookup by ``q`` / ``q[sq]``; the ``q_sq`` heading is read as ``q[sq]``."""
    out = {}
    for h in header:
        key = h.strip()
        out.setdefault(key, h)
        mm = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9]+)", key)
        if mm:
            out.setdefault(f"{mm.group(1)}[{mm.group(2)}]", h)
    return out


def _read_text(path) -> str:
    if not isinstance(path, str | Path):
        return path.read().lstrip("\ufeff")
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LimeSurveyError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise LimeSurveyError(f"{path}: not UTF-8; export the responses from LimeSurvey as "
                              "CSV (it writes UTF-8)") from None


def read_responses(path, inst, mapping) -> pd.DataFrame:
    """LimeSurvey's response export (CSV, question codes, answer codes) as the all-text raw
    export of `inst` (see the module doc). `mapping`: a CodeMapping or the mapping CSV's path.
    ``attrs["export"]["conflicts"]`` lists cells where a number and a missing-code box were
    both given (the number is kept)."""
    name = str(path) if isinstance(path, str | Path) else "<limesurvey export>"
    m = mapping if isinstance(mapping, CodeMapping) else read_mapping(mapping)
    text = _read_text(path)
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=sep)
    header = list(reader.fieldnames or [])
    cols = _columns(header)
    if "id" not in cols:
        raise LimeSurveyError(f"{name}: no column 'id'; export the responses as CSV with "
                              "'Question code' headings and 'Answer codes'")

    def col(item, sub=None):
        q = m.question(item.var)
        key = f"{q}[{sub}]" if sub else (f"{q}[{m.subquestion(item.var)}]" if item.grid else q)
        if key not in cols:
            raise LimeSurveyError(f"{name}: no column {key!r} for item {item.var}; was the "
                                  "survey imported from this instrument's .lss?")
        return cols[key]

    for item in inst.items:  # fail before reading rows when a column is missing
        if item.type == "multi":
            for o in item.options:
                col(item, m.option(item.var, o.code))
        else:
            col(item)
    back = {}  # var -> {ls answer code: our code}
    for r in m.rows:
        if r["kind"] == "answer":
            back.setdefault(r["variable"], {})[r["ls_answer"]] = r["code"]
    q = Questionnaire(inst)
    out_rows, conflicts = [], []
    for line, rec in enumerate(reader, start=2):
        def cell(h, rec=rec):
            return (rec.get(h) or "").strip()

        row: dict = {}
        submitted = cell(cols.get("submitdate", ""))
        end, start = timestamp(submitted), timestamp(cell(cols.get("startdate", "")))
        duration = cell(cols.get("interviewtime", ""))
        if not duration and end and start:
            duration = f"{(end - start).total_seconds():g}"
        out = {"response_id": cell(cols["id"]),
               "submitted_at": end.isoformat() if end else submitted,
               "duration_s": duration}
        for item in inst.items:
            asked = bool(q.asked(Page(0, item.section, 1, (item,)), row))
            blank = item.no_answer if item.no_answer in item.missing else None
            na = item.not_applicable
            if item.type == "multi":
                cells = {o.code: cell(col(item, m.option(item.var, o.code)))
                         for o in item.options}
                miss = [x for x in item.missing
                        if cell(cols.get(f"{m.question(item.var)}[{m.option(item.var, x)}]",
                                         "")) in ("Y", "1")]
                ticked = any(v in ("Y", "1") for v in cells.values())
                odd = any(v not in _TICKS for v in cells.values())
                if not miss and all(v == "N/A" for v in cells.values()):
                    vals = {c: na for c in item.columns}  # LimeSurvey did not show it
                elif miss and not ticked and not odd:
                    vals = {c: miss[0] for c in item.columns}
                elif not asked and not ticked and not odd:
                    vals = {c: na for c in item.columns}
                else:  # shown; nothing ticked is "none of these", as in the web form
                    vals = {f"{item.var}__{k}": _TICKS.get(v, v) for k, v in cells.items()}
                    vals = {k: na if v == "N/A" else v for k, v in vals.items()}
                row.update(vals)
                out.update({c: "" if v is None else str(v) for c, v in vals.items()})
                continue
            value = cell(col(item))
            box = m.missing_question(item.var)
            boxed = []
            if box is not None:
                boxed = [int(r["code"]) for r in m.rows if r["kind"] == "missing"
                         and r["variable"] == item.var and cell(cols.get(
                             f"{box}[{r['ls_subquestion']}]", "")) in ("Y", "1")]
            if value in _NULLS and boxed:
                value = str(boxed[0])
                row[item.var] = boxed[0]
                out[item.var] = value
                continue
            if value not in _NULLS and boxed:
                conflicts.append({"line": line, "variable": item.var, "value": value})
            if value == "N/A":  # LimeSurvey did not show it (relevance false)
                row[item.var] = None if item.type == "text" else na
                out[item.var] = "" if item.type == "text" else str(na)
                continue
            if value == "":
                if item.type == "text":
                    out[item.var] = ""
                    row[item.var] = None
                    continue
                code = blank if asked else na
                row[item.var] = code
                out[item.var] = "" if code is None else str(code)
                continue
            if item.type in ("single", "likert5", "scale"):
                value = back.get(item.var, {}).get(value, value)
            elif item.type in ("integer", "number"):
                value = _number(value, item)
            elif item.type == "date":
                value = value[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00(:00)?)?",
                                                   value) else value
            elif item.type == "datetime":
                value = value.replace(" ", "T", 1) if re.fullmatch(
                    r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", value) else value
            out[item.var] = value
            try:
                row[item.var] = float(value) if item.type == "number" else int(value)
            except ValueError:
                row[item.var] = value
        out_rows.append(out)
    frame = pd.DataFrame(out_rows, columns=list(inst.columns), dtype="str")
    frame.attrs["export"] = {"path": name, "format": "limesurvey-lss", "conflicts": conflicts}
    return frame

