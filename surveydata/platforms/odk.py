"""Read an ODK Central / KoboToolbox CSV export of the XLSForm from `xlsform` back into the raw
export layout that `surveydata validate` reads.

Columns are matched by their last path component (``section_A-role``,
``section_A/role`` -> ``role``); ``select_multiple`` answers are the
space-separated choice names of the main column (split ``var/option`` columns are ignored);
``meta-instanceID`` / ``meta/instanceID`` / ``_uuid`` / ``KEY`` becomes response_id, ``end``
submitted_at and ``end - start`` duration_s. An item the platform left empty becomes -7 where the
instrument's skip logic did not ask it (the platform's ``relevant`` was false), -9 where it was
asked and "no answer" is allowed, and stays empty otherwise (validation then names it).

Example:
    >>> import io, schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> read_odk_csv(io.StringIO("start,end,meta-instanceID\\n"), inst)
    Traceback (most recent call last):
    ...
    surveydata.platforms.odk.OdkExportError: <odk export>: no column for item(s) role, role_other, pharmacy_size, weekly_hours, years_in_pharmacy, it_hours, shared_login, devices_used; was the form made by `surveydata.platforms.xlsform` from this instrument?
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pandas as pd

from surveydata.errors import SurveyDataError
from surveydata.fieldwork.form import Page, Questionnaire
from surveydata.platforms._rows import put_value

__all__ = ["OdkExportError", "read_odk_csv"]

_ID_COLUMNS = ("meta-instanceID", "meta/instanceID", "instanceID", "_uuid", "KEY")


class OdkExportError(SurveyDataError):
    """An ODK/Kobo export that cannot be read (names the file and the column)."""


def _last(name: str) -> str:
    return name.replace("/", "-").split("-")[-1]


def _seconds(start: str, end: str) -> str:
    try:
        a = datetime.fromisoformat(start.strip())
        b = datetime.fromisoformat(end.strip())
    except ValueError:
        return ""
    s = (b - a).total_seconds()
    return str(int(s)) if s == int(s) else f"{s:.1f}"


def read_odk_csv(source, inst) -> pd.DataFrame:
    """The export as an all-text frame with the instrument's columns (see the module doc)."""
    name = str(source) if isinstance(source, str | Path) else "<odk export>"
    if isinstance(source, str | Path):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as err:
            raise OdkExportError(f"{source}: cannot read ({err.strerror})") from None
        handle = io.StringIO(text)
    else:
        handle = source
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    by_var: dict[str, str] = {}
    for col in header:
        last = _last(col)
        if last not in by_var or "/" not in col.split("-")[-1]:
            by_var.setdefault(last, col)
    id_col = next((c for c in _ID_COLUMNS if c in header), None)
    if id_col is None:
        raise OdkExportError(f"{name}: no instance id column (one of {', '.join(_ID_COLUMNS)})")
    missing = [i.var for i in inst.items if i.var not in by_var]
    if missing:
        raise OdkExportError(f"{name}: no column for item(s) {', '.join(missing[:8])}; was the "
                             "form made by `surveydata.platforms.xlsform` from this instrument?")
    q = Questionnaire(inst)
    rows = []
    for rec in reader:
        row: dict = {}
        out = {"response_id": rec.get(id_col, ""), "submitted_at": rec.get("end", ""),
               "duration_s": _seconds(rec.get("start", ""), rec.get("end", ""))}
        for item in inst.items:
            value = (rec.get(by_var[item.var]) or "").strip()
            asked = bool(q.asked(Page(0, item.section, 1, (item,)), row))
            blank = item.no_answer if item.no_answer in item.missing else None
            if item.type == "multi":
                chosen = set(value.split())
                if not value:
                    fill = blank if asked else item.not_applicable
                    vals = {c: fill for c in item.columns}
                else:
                    miss = [int(m) for m in chosen if m.lstrip("-").isdigit()]
                    fill = miss[0] if miss else 0
                    vals = {f"{item.var}__{o.code}": 1 if o.code in chosen else fill
                            for o in item.options}
                row.update(vals)
                out.update({c: "" if v is None else str(v) for c, v in vals.items()})
                continue
            put_value(row, out, item, value, asked, blank)
        rows.append(out)
    frame = pd.DataFrame(rows, columns=list(inst.columns), dtype="str")
    frame.attrs["export"] = {"path": name, "format": "odk"}
    return frame
