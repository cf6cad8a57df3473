"""Export an instrument as an XLSForm (the spreadsheet format of ODK, KoboToolbox and Enketo).

One ``begin_group``/``end_group`` per section (shown as one screen: ``field-list``); single and
Likert items become ``select_one``, multi-choice items ``select_multiple`` (an exclusive option
is enforced by a constraint, "no answer" is the choice ``-9``), integers ``integer`` with the
instrument's range (or -9 / -8 where allowed) as a constraint, free text ``text`` with its
maximum length. Format 2: numbers become ``decimal`` (range or the offered missing codes as a
constraint), dates ``date`` and date-times ``dateTime`` (range as a constraint; a date has no
box for "don't know": left empty it reads back as "no answer"), scale items (and grid rows)
``select_one`` of one choice list per scale and missing-code set (the points with their labels,
then the offered don't know / no answer codes), shown with ``appearance: likert``. ``ask_if`` conditions are translated into XPath ``relevant`` expressions
(``role in [2, 5]`` -> ``(${role} = 2 or ${role} = 5)``; a multi-choice option
``devices_used__none != 1`` -> ``not(selected(${devices_used}, 'none'))``).
Choice names are the instrument's codes, so the platform's export reads back with the same codes
(`surveydata.platforms.odk.read_odk_csv`). ``start`` and ``end`` give submitted_at and
duration_s. Cross-item rules are not constraints in the form: validation after the import
checks them.

Example (the packaged pharmacy staff instrument):
    >>> import schemas
    >>> sheets = xlsform_sheets(schemas.load_instrument("pharmacy_staff"))
    >>> [r["relevant"] for r in sheets["survey"] if r.get("name") == "phone_for_work_data"]
    ["selected(${devices_used}, 'own_phone')"]
"""
from __future__ import annotations

from pathlib import Path

from schemas.conditions import And, Compare, In, Lit, Not, Or, Var

__all__ = ["condition_to_xpath", "write_xlsform", "xlsform_sheets"]

LANGS = {"en": "English (en)", "de": "Deutsch (de)"}
SURVEY_COLUMNS = ["type", "name", *[f"label::{v}" for v in LANGS.values()],
                  *[f"hint::{v}" for v in LANGS.values()], "required", "relevant", "constraint",
                  *[f"constraint_message::{v}" for v in LANGS.values()], "appearance"]
CHOICE_COLUMNS = ["list_name", "name", *[f"label::{v}" for v in LANGS.values()]]
_OPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _lit(value) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def condition_to_xpath(node, inst) -> str:
    """An XPath expression for a parsed condition (`Condition.tree`).

    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> condition_to_xpath(schemas.parse_condition("role in [2, 5]").tree, inst)
    '(${role} = 2 or ${role} = 5)'
    >>> condition_to_xpath(schemas.parse_condition("devices_used__none != 1").tree, inst)
    "not(selected(${devices_used}, 'none'))"
    """
    if isinstance(node, And | Or):
        word = " and " if isinstance(node, And) else " or "
        return "(" + word.join(condition_to_xpath(n, inst) for n in node.operands) + ")"
    if isinstance(node, Not):
        return f"not({condition_to_xpath(node.operand, inst)})"
    if isinstance(node, In):
        ref = _ref(node.var.name, inst)
        inner = "(" + " or ".join(f"{ref} = {_lit(v)}" for v in node.values) + ")"
        return f"not{inner}" if node.negated else inner
    if isinstance(node, Compare):
        left, right = node.left, node.right
        if isinstance(right, Var) and isinstance(left, Lit):
            left, right = right, left
        if isinstance(left, Var) and "__" in left.name and isinstance(right, Lit):
            item = inst.column_item(left.name)
            if item.type == "multi":
                opt = left.name.split("__", 1)[1]
                sel = f"selected(${{{item.var}}}, '{opt}')"
                ticked = {("==", 1), ("!=", 0)}
                unticked = {("==", 0), ("!=", 1)}
                if (node.op, right.value) in ticked:
                    return sel
                if (node.op, right.value) in unticked:
                    return f"not({sel})"
                raise ValueError(f"cannot express {left.name} {node.op} {right.value} in XPath")
        return f"{_side(left, inst)} {_OPS[node.op]} {_side(right, inst)}"
    raise TypeError(f"unknown condition node {node!r}")


def _ref(name: str, inst) -> str:
    return "${" + inst.column_item(name).var + "}" if "__" in name else "${" + name + "}"


def _side(x, inst) -> str:
    return _ref(x.name, inst) if isinstance(x, Var) else _lit(x.value)


def _labels(prefix: str, label) -> dict:
    return {f"{prefix}::{v}": label.get(k) for k, v in LANGS.items()}


def xlsform_sheets(inst) -> dict[str, list[dict]]:
    """The rows of the survey, choices and settings sheets."""
    survey: list[dict] = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    choices: list[dict] = []
    lists: set[str] = set()
    section = None
    for item in inst.items:
        if item.section != section:
            if section is not None:
                survey.append({"type": "end_group", "name": f"section_{section}"})
            section = item.section
            survey.append({"type": "begin_group", "name": f"section_{section}",
                           "appearance": "field-list",
                           **_labels("label", inst.sections[section].title)})
        row = {"name": item.var, **_labels("label", item.text)}
        if item.required:
            row["required"] = "yes"
        if item.ask_if is not None:
            row["relevant"] = condition_to_xpath(item.ask_if.tree, inst)
        lst = f"l_{item.var}"
        if item.type == "scale":
            lst = "s_" + "_".join([item.scale, *(str(m).replace("-", "m") for m in item.missing)])
            row["type"] = f"select_one {lst}"
            row["appearance"] = "likert"
            if lst not in lists:
                lists.add(lst)
                entries = list(item.codes.items())
                entries += [(m, inst.missing_codes[m].label) for m in item.missing
                            if m not in item.codes]
                for code, label in entries:
                    choices.append({"list_name": lst, "name": str(code),
                                    **_labels("label", label)})
        elif item.type in ("single", "likert5", "multi"):
            kind = "select_multiple" if item.type == "multi" else "select_one"
            row["type"] = f"{kind} {lst}"
            entries = ([(o.code, o.label) for o in item.options] if item.type == "multi"
                       else list(item.codes.items()))
            entries += [(m, inst.missing_codes[m].label) for m in item.missing
                        if m not in dict(entries)]
            for code, label in entries:
                choices.append({"list_name": lst, "name": str(code), **_labels("label", label)})
            if item.type == "multi":
                excl = [*item.exclusive_options, *(str(m) for m in item.missing)]
                parts = [f"not(selected(., '{e}') and count-selected(.) > 1)" for e in excl]
                if item.max_select:
                    parts.append(f"count-selected(.) <= {item.max_select}")
                if parts:
                    row["constraint"] = " and ".join(parts)
        elif item.type in ("date", "datetime"):
            row["type"] = "date" if item.type == "date" else "dateTime"
            row["constraint"] = (f"(decimal-date-time(.) >= decimal-date-time(date('{item.min}')) "
                                 f"and decimal-date-time(.) < decimal-date-time(date('{item.max}')) + 1)")
            row.update({f"hint::{v}": f"{item.min} – {item.max}" for v in LANGS.values()})
        elif item.type in ("integer", "number"):
            row["type"] = "integer" if item.type == "integer" else "decimal"
            ok = f"(. >= {item.min} and . <= {item.max})"
            extra = [f". = {m}" for m in item.missing]
            row["constraint"] = " or ".join([ok, *extra])
            row.update({f"hint::{v}": (f"{item.min}–{item.max}" + (
                f"; {inst.no_answer} = " + inst.missing_codes[inst.no_answer].label.get(k)
                if inst.no_answer in item.missing else "")) for k, v in LANGS.items()})
        else:
            row["type"] = "text"
            if item.max_length:
                row["constraint"] = f"string-length(.) <= {item.max_length}"
        if "constraint" in row:
            row.update({f"constraint_message::{v}": (
                "Bitte prüfen Sie Ihre Angabe." if k == "de" else "Please check your answer.")
                for k, v in LANGS.items()})
        survey.append(row)
    if section is not None:
        survey.append({"type": "end_group", "name": f"section_{section}"})
    settings = [{"form_title": inst.title.get("en"), "form_id": inst.name,
                 "version": inst.version, "default_language": LANGS["en"]}]
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(inst, path) -> Path:
    """Write the XLSForm workbook (.xlsx) to `path`."""
    from openpyxl import Workbook  # noqa: PLC0415 - 0.2 s to import, only when a workbook is written

    sheets = xlsform_sheets(inst)
    wb = Workbook()
    wb.remove(wb.active)
    columns = {"survey": SURVEY_COLUMNS, "choices": CHOICE_COLUMNS,
               "settings": ["form_title", "form_id", "version", "default_language"]}
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(columns[name])
        for r in rows:
            ws.append([r.get(c, "") for c in columns[name]])
    path = Path(path)
    wb.save(path)
    return path
