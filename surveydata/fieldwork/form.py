"""The questionnaire as web pages, checked by the SAME checks that validate exports.

`Questionnaire(inst)` cuts the instrument into pages (one per section; a section is split where
an item's ``ask_if`` refers to an item on the same page, so that skip logic works without
JavaScript), turns posted form fields into raw codes (`parse`), builds the raw coded row from
the latest submission of every page (`assemble`: items whose ``ask_if`` is false get -7), and
finds the failing checks (`errors`) by running `schemas.check_specs` - the very functions
behind `schemas.response_schema`, which `surveydata validate` runs - on a one-row raw frame.
On a page only the checks that read its columns and nothing from later pages are reported.

Posted field names: ``q:<var>`` (the answer; several values for a multi-choice item), and for
integer, number, date, date-time and text items ``m:<var>`` (a missing code: "don't know" /
"no answer" checkboxes). Typed values are read by `schemas.response.parse_column`, the parser
`surveydata validate` uses (a decimal point or comma; dates ISO or DD.MM.YYYY, stored as
YYYY-MM-DD): a value it cannot read is a form error, never a crash.
An item left empty is coded -9 (the instrument's "no answer" code) where it allows "no answer",
else it stays empty
and fails ``not_nullable`` ("please answer"), as an empty cell fails validation. A multi-choice
item with nothing ticked is answered "none of these" (every option 0); "no answer" (-9) is its
own checkbox there.

Example (the packaged pharmacy staff instrument):
    >>> import schemas
    >>> q = Questionnaire(schemas.load_instrument("pharmacy_staff"))
    >>> [p.name for p in q.pages][:3]
    ['A', 'A2', 'B']
    >>> answers, problems = q.parse(q.pages[1], q.pages[1].items, {"q:pharmacy_size": ["2"]})
    >>> answers["pharmacy_size"], problems
    (2, {})
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

import schemas
from schemas.instrument import Item
from schemas.response import parse_column

__all__ = ["CHOICE_TYPES", "VALUE_TYPES", "Page", "Questionnaire", "message"]

CHOICE_TYPES = ("single", "likert5", "scale")  # one radio group (a grid row for a scale item)
VALUE_TYPES = ("integer", "number", "date", "datetime")  # a typed value or a missing-code box

_INT = re.compile(r"[+-]?\d{1,9}")
MAX_CODE_CHARS = 32
DEFAULT_TEXT_LIMIT = 2000


def _is_missing(item: Item, value) -> bool:
    """Whether a stored value of a value or text item is one of its missing codes."""
    try:
        return float(value) in item.missing and item.type != "text" or (
            item.type == "text" and isinstance(value, int) and value in item.missing_set)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Page:
    """One page of the form: items of one section (or part of a section)."""

    index: int
    section: str
    part: int
    items: tuple[Item, ...]

    @property
    def name(self) -> str:
        return self.section if self.part == 1 else f"{self.section}{self.part}"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for i in self.items for c in i.columns)


def _pages(inst) -> tuple[Page, ...]:
    pages: list[Page] = []
    current: list[Item] = []
    section, part = None, 1

    def close():
        if current:
            pages.append(Page(len(pages), section, part, tuple(current)))

    for item in inst.items:
        refs = set()
        if item.ask_if is not None:
            refs = {inst.column_item(v).var for v in item.ask_if.variables}
        if item.section != section:
            close()
            current, section, part = [], item.section, 1
        elif refs & {i.var for i in current}:
            close()
            current, part = [], part + 1
        current.append(item)
    close()
    return tuple(pages)


_MESSAGES = {
    "not_nullable": {"en": "Please answer this question.",
                     "de": "Bitte beantworten Sie diese Frage."},
    "codes": {"en": "Please choose one of the options.",
              "de": "Bitte wählen Sie eine der Antworten."},
    "likert": {"en": "Please choose one of the options.",
               "de": "Bitte wählen Sie eine der Antworten."},
    "binary": {"en": "Please choose among the options shown.",
               "de": "Bitte wählen Sie unter den gezeigten Antworten."},
    "range": {"en": "Please enter a whole number from {min} to {max}.",
              "de": "Bitte geben Sie eine ganze Zahl von {min} bis {max} ein."},
    "dtype": {"en": "Please enter a whole number.",
              "de": "Bitte geben Sie eine ganze Zahl ein."},
    "range_number": {"en": "Please enter a number from {min} to {max}.",
                     "de": "Bitte geben Sie eine Zahl von {min} bis {max} ein."},
    "dtype_number": {"en": "Please enter a number, e.g. 12.5.",
                     "de": "Bitte geben Sie eine Zahl ein, z. B. 12,5."},
    "decimals": {"en": "Please use at most {decimals} decimal place(s).",
                 "de": "Bitte verwenden Sie höchstens {decimals} Nachkommastelle(n)."},
    "range_date": {"en": "Please enter a date from {min} to {max}.",
                   "de": "Bitte geben Sie ein Datum vom {min} bis {max} ein."},
    "dtype_date": {"en": "Please enter a date (YYYY-MM-DD).",
                   "de": "Bitte geben Sie ein Datum ein (TT.MM.JJJJ)."},
    "range_datetime": {"en": "Please enter a date and time from {min} to {max}.",
                       "de": "Bitte geben Sie Datum und Uhrzeit vom {min} bis {max} ein."},
    "dtype_datetime": {"en": "Please enter a date and time.",
                       "de": "Bitte geben Sie Datum und Uhrzeit ein."},
    "max_length": {"en": "Please use at most {max_length} characters.",
                   "de": "Bitte verwenden Sie höchstens {max_length} Zeichen."},
    "multi_no_answer": {"en": "“No answer” cannot be combined with other options.",
                        "de": "„Keine Angabe“ kann nicht mit anderen Antworten kombiniert werden."},
    "exclusive": {"en": "“{exclusive}” cannot be combined with other options.",
                  "de": "„{exclusive}“ kann nicht mit anderen Antworten kombiniert werden."},
    "max_select": {"en": "Please choose at most {max_select} options.",
                   "de": "Bitte wählen Sie höchstens {max_select} Antworten."},
    "skip_not_asked": {"en": "This question does not apply to you.",
                       "de": "Diese Frage trifft auf Sie nicht zu."},
    "skip_asked": {"en": "Please answer this question.",
                   "de": "Bitte beantworten Sie diese Frage."},
    "form_one": {"en": "Please choose only one answer.",
                 "de": "Bitte wählen Sie nur eine Antwort."},
    "form_both": {"en": "Please either enter a value or tick the box, not both.",
                  "de": "Bitte geben Sie entweder einen Wert ein oder kreuzen Sie das Feld an."},
}


def message(check: str, item: Item | None, inst, lang: str) -> str:
    """The respondent's message for a failing check (a rule's own message for rules).

    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> message("range:years_in_pharmacy", inst.item("years_in_pharmacy"), inst, "en")
    'Please enter a whole number from 0 to 60.'
    """
    kind, _, target = check.partition(":")
    if kind == "rule":
        return inst.rule(target).message.get(lang)
    if item is not None and f"{kind}_{item.type}" in _MESSAGES:
        kind = f"{kind}_{item.type}"
    text = _MESSAGES.get(kind, _MESSAGES["codes"])[lang]
    if item is None:
        return text
    excl = ""
    if item.exclusive_options:
        opt = next(o for o in item.options if o.code == item.exclusive_options[0])
        excl = opt.label.get(lang)
    lo, hi = item.min, item.max
    if item.type == "number" and lang == "de":
        lo, hi = (str(v).replace(".", ",") for v in (lo, hi))
    return text.format(min=lo, max=hi, max_length=item.max_length, decimals=item.decimals,
                       max_select=item.max_select, exclusive=excl)


class Questionnaire:
    """Pages, parsing, assembly and checks of one instrument."""

    def __init__(self, inst: schemas.Instrument):
        self.inst = inst
        self.pages = _pages(inst)
        self.dtypes = schemas.raw_dtypes(inst)
        self.specs = tuple(s for s in schemas.check_specs(inst) if s.severity == "hard")
        self.page_of: dict[str, int] = {c: p.index for p in self.pages for c in p.columns}
        self.meta_columns = tuple(m.var for m in inst.metadata)
        self.text_columns = {i.var for i in inst.items if i.type == "text"}
        self._item_of = {c: i for i in inst.items for c in i.columns}
        self._asked_cache: dict[tuple, bool] = {}

    # ------------------------------------------------------------------ frames
    def frame(self, row: dict, columns=None) -> pd.DataFrame:
        """A one-row raw coded frame of every instrument column, or of `columns` (absent values
        are empty)."""
        data = {}
        for col in self.dtypes if columns is None else columns:
            dtype = self.dtypes[col]
            v = row.get(col)
            if dtype == "Int64":
                data[col] = pd.arrays.IntegerArray(np.array([0 if v is None else v], dtype="int64"),
                                                   np.array([v is None]))
            elif dtype == "float64":
                data[col] = pd.array([float("nan") if v is None else float(v)], dtype="float64")
            else:
                data[col] = pd.array([None if v is None else str(v)], dtype="str")
        return pd.DataFrame(data)

    @staticmethod
    def placeholder_meta() -> dict:
        return {"response_id": "form", "submitted_at": datetime.now(UTC).isoformat(
            timespec="seconds"), "duration_s": 0.0}

    def asked(self, page: Page, row: dict) -> list[Item]:
        """The items of `page` whose ask_if holds for the answers in `row` (earlier pages)."""
        out = []
        for item in page.items:
            if item.ask_if is None:
                out.append(item)
                continue
            key = (item.var, tuple(row.get(v) for v in item.ask_if.variables))
            hit = self._asked_cache.get(key)
            if hit is None:  # evaluated once per combination of the values it reads
                f = self.frame(row, item.ask_if.variables)
                hit = bool(item.ask_if.evaluate(f).iloc[0])
                if len(self._asked_cache) > 100_000:
                    self._asked_cache.clear()
                self._asked_cache[key] = hit
            if hit:
                out.append(item)
        return out

    # ------------------------------------------------------------------ parsing
    def parse(self, page: Page, shown: list[Item], form: dict[str, list[str]]
              ) -> tuple[dict, dict[str, list[str]]]:
        """Posted fields -> raw codes of every column of `page` (not shown items: -7), and
        form-level problems {var: [check names]} that no export could express."""
        answers: dict = {}
        problems: dict[str, list[str]] = {}
        shown_vars = {i.var for i in shown}
        for item in page.items:
            if item.var not in shown_vars:
                for col in item.columns:
                    answers[col] = None if item.type == "text" else item.not_applicable
                continue
            values = [v for v in form.get(f"q:{item.var}", []) if v is not None]
            missing = [v.strip() for v in form.get(f"m:{item.var}", []) if v.strip()]
            blank = item.no_answer if item.no_answer in item.missing else None
            if item.type in CHOICE_TYPES:
                values = [v.strip() for v in values if v.strip()]
                if len(values) > 1:
                    problems.setdefault(item.var, []).append("form_one")
                if not values:
                    answers[item.var] = (str(blank) if item.string_codes and blank is not None
                                         else blank)
                else:
                    answers[item.var] = self._code(item, values[0], problems)
            elif item.type in VALUE_TYPES:
                text = values[0].strip() if values else ""
                if text and missing:
                    problems.setdefault(item.var, []).append("form_both")
                if text:
                    answers[item.var] = self._value(item, text, problems)
                elif missing:
                    answers[item.var] = self._missing(item, missing[0], problems)
                else:
                    answers[item.var] = blank
            elif item.type == "multi":
                ticked = {v.strip() for v in values if v.strip()}
                codes = {o.code for o in item.options}
                miss = [int(v) for v in ticked - codes if _INT.fullmatch(v)]
                if ticked - codes - {str(m) for m in miss} or len(miss) > 1:
                    problems.setdefault(item.var, []).append("binary")
                fill = miss[0] if miss else 0  # nothing ticked: none applies (0)
                for o in item.options:
                    answers[f"{item.var}__{o.code}"] = 1 if o.code in ticked else fill
            else:  # text: kept verbatim (stripped); empty is an empty cell, as in an export
                text = values[0].strip() if values else ""
                limit = item.max_length or DEFAULT_TEXT_LIMIT
                answers[item.var] = text[: 10 * limit] or None
        return answers, problems

    def to_form(self, page: Page, answers: dict) -> dict[str, list[str]]:
        """Raw codes of a page back into the form fields that produce them (to show a stored
        page again, or to replay an export through the form).

        >>> import schemas
        >>> q = Questionnaire(schemas.load_instrument("pharmacy_staff"))
        >>> q.to_form(q.pages[1], {"pharmacy_size": 2, "weekly_hours": 38.5})
        {'q:pharmacy_size': ['2'], 'q:weekly_hours': ['38.5']}
        """
        out: dict[str, list[str]] = {}
        for item in page.items:
            if item.type == "multi":
                vals = [answers.get(c) for c in item.columns]
                if vals and vals[0] is not None and vals[0] < 0 and all(v == vals[0] for v in vals):
                    out[f"q:{item.var}"] = [str(vals[0])]
                else:
                    out[f"q:{item.var}"] = [o.code for o, v in zip(item.options, vals) if v == 1]
                continue
            v = answers.get(item.var)
            if v is None:
                continue
            if item.type not in CHOICE_TYPES and _is_missing(item, v):
                out[f"m:{item.var}"] = [str(int(v))]
                continue
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            out[f"q:{item.var}"] = [str(v)]
        return out

    def _value(self, item: Item, text: str, problems) -> int | float | str | None:
        """A typed answer read as `surveydata validate` reads the export cell."""
        text = text[:MAX_CODE_CHARS]
        parsed = parse_column(pd.Series([text], dtype=object), self.inst, item.var)
        if len(parsed.problems):
            kind = "range" if parsed.problems["problem"].iloc[0] == "out_of_range" else "dtype"
            problems.setdefault(item.var, []).append(f"{kind}:{item.var}")
            return None
        value = parsed.values.iloc[0]
        if pd.isna(value) or _is_missing(item, value) or str(value) in {
                str(m) for m in item.missing_set}:
            # a missing code typed into the box: the boxes below give those (a typed 99 hours
            # must not become "no answer")
            kind = "dtype" if item.type in ("date", "datetime") or pd.isna(value) else "range"
            problems.setdefault(item.var, []).append(f"{kind}:{item.var}")
            return None
        return int(value) if item.type == "integer" else (
            float(value) if item.type == "number" else str(value))

    def _missing(self, item: Item, text: str, problems) -> int | None:
        """A ticked missing-code box (a code it does not offer fails the validator's check;
        not-applicable is never offered: the form sets it itself)."""
        if not _INT.fullmatch(text) or int(text) == item.not_applicable:
            problems.setdefault(item.var, []).append(f"codes:{item.var}")
            return None
        return int(text)

    def _code(self, item: Item, text: str, problems) -> int | str | None:
        text = text.strip()[:MAX_CODE_CHARS]
        if item.string_codes:
            if text == str(item.not_applicable):
                problems.setdefault(item.var, []).append(f"codes:{item.var}")
                return None
            return text
        if not _INT.fullmatch(text):
            problems.setdefault(item.var, []).append(f"dtype:{item.var}")
            return None
        if int(text) == item.not_applicable:  # never offered: the form sets -7 itself
            problems.setdefault(item.var, []).append(f"codes:{item.var}")
            return None
        return int(text)

    # ------------------------------------------------------------------ assembly
    def assemble(self, latest: dict[int, dict], upto: int | None = None
                 ) -> tuple[dict, list[int], list[int]]:
        """The raw coded row from the latest answers of each page (pages < `upto` only, when
        given). Returns (row, asked pages, pages still to answer)."""
        row: dict = {}
        asked_pages, todo = [], []
        for page in self.pages:
            if upto is not None and page.index >= upto:
                break
            asked = {i.var for i in self.asked(page, row)}
            stored = latest.get(page.index)
            if asked:
                asked_pages.append(page.index)
            need = False
            for item in page.items:
                if item.var not in asked:
                    for c in item.columns:
                        row[c] = None if item.type == "text" else item.not_applicable
                    continue
                if stored is None or not all(c in stored for c in item.columns) or any(
                        stored[c] == item.not_applicable for c in item.columns
                        if item.type != "text"):
                    need = True
                    for c in item.columns:
                        row[c] = None
                else:
                    for c in item.columns:
                        row[c] = stored[c]
            if need:
                todo.append(page.index)
        return row, asked_pages, todo

    # ------------------------------------------------------------------ checks
    def errors(self, row: dict, page: Page | None = None) -> dict[str, list[str]]:
        """Failing hard checks {item var: [check names]} of the raw row.

        With `page`: only checks that read a column of that page and none of a later page
        (those are not answered yet). Without: every check (the whole response)."""
        full = {**self.placeholder_meta(), **row}
        for c in self.text_columns:
            if full.get(c) is None and (page is None or self.page_of[c] <= page.index):
                full[c] = ""  # an empty text cell reads as "" in validation too
        if page is None:
            relevant = set(self.page_of)
            cur = relevant
        else:
            relevant = {c for c, p in self.page_of.items() if p <= page.index}
            cur = set(page.columns)
        known = relevant | set(self.meta_columns)
        specs = [s for s in self.specs if set(s.columns) <= known and set(s.columns) & cur]
        needed = dict.fromkeys(c for s in specs for c in s.columns)
        needed.update(dict.fromkeys(c for c in self.dtypes if c in cur))
        f = self.frame(full, list(needed))
        out: dict[str, list[str]] = {}
        for col in self.page_of:
            if col in cur and col not in self.text_columns and pd.isna(f[col].iloc[0]):
                out.setdefault(self._item_of[col].var, []).append(f"not_nullable:{col}")
        for spec in specs:
            data = f[spec.columns[0]] if spec.level == "column" else f
            if bool(spec.passes(data).iloc[0]):
                continue
            blame = next((c for c in spec.columns if c in cur), spec.columns[0])
            names = out.setdefault(self._item_of[blame].var, [])
            if spec.name not in names:
                names.append(spec.name)
        return out

    def export_row(self, row: dict, response_id: str, started_at: float,
                   completed_at: float) -> dict:
        """The export record of a completed response (metadata first, instrument order)."""
        meta = {"response_id": response_id,
                "submitted_at": datetime.fromtimestamp(completed_at, UTC).isoformat(
                    timespec="seconds"),
                "duration_s": round(max(0.0, completed_at - started_at), 1)}
        return {c: (meta[c] if c in meta else row.get(c)) for c in self.inst.columns}
