"""One answer of a platform's response record into the project's raw export row (shared by the
ODK and REDCap readers): an empty cell is the instrument's no-answer code where the skip logic
asked the item, its not-applicable code where it did not."""
from __future__ import annotations


def put_value(row: dict, out: dict, item, value: str, asked: bool, blank) -> None:
    """Set ``row`` (typed, for evaluating later skip conditions) and ``out`` (export text)."""
    if not value and item.type != "text":
        code = blank if asked else item.not_applicable
        row[item.var] = code
        out[item.var] = "" if code is None else str(code)
        return
    out[item.var] = value
    row[item.var] = (int(value) if value.lstrip("-").isdigit() and not item.string_codes
                     else value or None)
