"""schemas: the questionnaire as code, and everything derived from it.

API
---
load_instrument(path=None) -> Instrument
    Load and validate an instrument YAML (or a packaged one by name; default practice_security).
    Raises InstrumentError naming the file, item and problem.
parse_instrument(text, source="<string>") -> Instrument
    The same from YAML text.
parse_condition(text) -> Condition
    The safe condition grammar of ask_if and rules; Condition.variables, Condition.evaluate(frame).
Instrument: .name, .version, .items, .rules, .derived, .metadata, .columns, .item(var),
    .likert_items, .multi_columns(var), .column_item(column), .rule(id)
"""

from .conditions import Condition, ConditionError, parse_condition
from .instrument import (
    DONT_KNOW,
    NO_ANSWER,
    NOT_APPLICABLE,
    Derived,
    Instrument,
    InstrumentError,
    Item,
    Label,
    MetaColumn,
    MissingCode,
    Option,
    Rule,
    Section,
    load_instrument,
    parse_instrument,
)

__all__ = [
    "DONT_KNOW",
    "NOT_APPLICABLE",
    "NO_ANSWER",
    "Condition",
    "ConditionError",
    "Derived",
    "Instrument",
    "InstrumentError",
    "Item",
    "Label",
    "MetaColumn",
    "MissingCode",
    "Option",
    "Rule",
    "Section",
    "load_instrument",
    "parse_condition",
    "parse_instrument",
]
