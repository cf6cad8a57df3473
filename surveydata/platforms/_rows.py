"""What the platform readers share: one answer of a platform's response record into the
project's raw export row (ODK and REDCap: an empty cell is the instrument's no-answer code where
the skip logic asked the item, its not-applicable code where it did not), and the timestamps the
platforms write (REDCap and LimeSurvey).

>>> timestamp("2024-05-01 09:30"), timestamp("01.05.2024")
(datetime.datetime(2024, 5, 1, 9, 30), None)
"""
from __future__ import annotations

from datetime import datetime


def put_value(row: dict, out: dict, item, value: str, asked: bool, blank) -> None:
    """Set ``row`` (typed, for evaluating later skip conditions) and ``out`` (export text)."""
    if not value and item.type != "text":
        code = blank if asked else item.not_applicable
        row[item.var] = code
        out[item.var] = "" if code is None else str(code)
        return
    out[item.var] = value
    if item.type == "number":  # typed for skip conditions: a decimal point (both platforms)
        try:
            row[item.var] = float(value)
        except ValueError:
            row[item.var] = value  # validation reports it
        return
    row[item.var] = (int(value) if value.lstrip("-").isdigit() and not item.string_codes
                     else value or None)


def timestamp(text: str) -> datetime | None:
    """A platform's date-time (``2024-05-01 09:30[:00]`` or ISO with ``T``), None when it is none."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None
