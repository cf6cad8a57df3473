"""The questionnaire as a typed, immutable object, loaded from YAML and validated on the way in.

`load_instrument` reads an instrument file (see schemas/instruments/practice_security.yaml for the
conventions) and refuses a broken one with an `InstrumentError` that names the file, the item and
the problem. The result is an `Instrument` of frozen dataclasses; mappings are read-only views.

The `format:` key at the top says which rules apply. Absent or 1: today's rules, unchanged (the
practice instrument). 2 (schemas/instruments/pharmacy_staff.yaml) adds:

* `missing_codes:` the instrument's own set (e.g. 97/98/99 or -1/-2), each code of a kind
  not_applicable, dont_know, refused or no_answer (the first and last required; default
  -7/-8/-9); an item's `missing:` lists the don't know/refused codes it offers, no_answer is
  added unless `required: true`; labels come from the instrument unless the item gives its own;
* `number` items (validation min/max/decimals, `unit`), integer items with substantive-missing
  codes; a range may not contain a missing code;
* `scales:` declared once (points, start, labels of at least the end points, `missing`), used by
  items of type `scale` and by `grid:` entries (one stem, scale, filter and missing codes shared
  by several rows; a row may be `reverse: true`);
* `date` / `datetime` items (validation min/max dates, default 1900-01-01..2100-12-31);
* `specify: <var>` on an option: a text item "<option>: please specify", asked exactly when the
  option is chosen.

Both formats: an item, a grid row or a derived variable may carry `short_label:` (one text, or
`{de: .., en: ..}` like a study's `label`), the name a table row or a figure axis shows instead of
the question text; read it as `item.short_label` (a `Label`, or None when not declared).

Both formats: YAML read by `schemas._yaml` (bounded, no object tags, duplicate keys refused,
only true/false are booleans); `required`, `ordered`, `exclusive`, `reverse` must be real
booleans (``required: 'no'`` is an error naming the key).

Example:
    >>> inst = load_instrument()                    # the packaged practice_security instrument
    >>> inst.name, inst.version
    ('practice_security', '1.0.0')
    >>> inst.item("large_devices").ask_if.text
    'practice_type in [2, 5]'
    >>> inst.multi_columns("info_needs")[:2]
    ('info_needs__checklist', 'info_needs__templates')
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ._yaml import load_yaml, read_yaml
from .conditions import Condition, ConditionError, parse_condition
from .errors import DeclarationError

__all__ = [
    "DONT_KNOW",
    "ITEM_TYPES",
    "LANGUAGES",
    "NOT_APPLICABLE",
    "NO_ANSWER",
    "Derived",
    "Instrument",
    "InstrumentError",
    "Item",
    "Label",
    "MetaColumn",
    "MissingCode",
    "Option",
    "Rule",
    "Scale",
    "Section",
    "load_instrument",
    "parse_instrument",
]

ITEM_TYPES_1 = ("single", "multi", "integer", "likert5", "text")
ITEM_TYPES = (*ITEM_TYPES_1, "number", "scale", "date", "datetime")  # format 2
FORMATS = (1, 2)
LANGUAGES = ("de", "en")  # the languages instrument texts exist in (Label.de, Label.en)
META_TYPES = ("id", "datetime", "number")
NOT_APPLICABLE, DONT_KNOW, NO_ANSWER = -7, -8, -9
MISSING_NAMES = {NOT_APPLICABLE: "not_applicable", DONT_KNOW: "dont_know", NO_ANSWER: "no_answer"}
# the kinds of missing code an instrument of format 2 may declare, in the order of the typed
# frame's <var>__missing categories; not_applicable and no_answer are required
MISSING_KINDS = ("not_applicable", "dont_know", "refused", "no_answer")
SUBSTANTIVE_MISSING = ("dont_know", "refused")  # offered by a question, listed in `missing:`
SPECIFY_MAX_LENGTH = 200
BUILTIN_RULES = ("skip_logic", "exclusive_options", "max_select")
DEFAULT_INSTRUMENT = "practice_security"

Code = int | str

_VAR = re.compile(r"^[a-z][a-z0-9_]*$")
_OPTION = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_KEYS = {
    "var",
    "section",
    "type",
    "text_de",
    "text_en",
    "ask_if",
    "required",
    "missing",
    "ordered",
    "codes",
    "validation",
    "max_select",
    "prior",
    "basis",
    "source",
    "short_label",
    # documentation kept as-is in Item.extra
    "note",
    "role",
    "kbv_ref",
    "model",
    "validation_rule",
}
_ITEM_KEYS_2 = {"unit", "scale", "reverse"}
_GRID_KEYS = {"grid", "section", "scale", "text_de", "text_en", "ask_if", "required", "missing",
              "prior", "basis", "source", "items", "note", "role"}
_GRID_ITEM_KEYS = {"var", "text_de", "text_en", "short_label", "prior", "reverse", "note", "role"}
_SCALE_KEYS = {"points", "start", "labels", "missing", "ordered", "note"}
_EXTRA_KEYS = ("note", "role", "kbv_ref", "model", "validation_rule")
#: the validation keys each item type reads (a typo would otherwise change a check silently)
_VALIDATION_KEYS = {"integer": ("min", "max"), "number": ("min", "max", "decimals"),
                    "date": ("min", "max"), "datetime": ("min", "max"), "text": ("max_length",)}
_RULE_KEYS = {"id", "severity", "when", "require", "builtin", "draft", "message_de", "message_en"}


class InstrumentError(DeclarationError):
    """The instrument file is broken; the message names the file, the item and the problem."""


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Label:
    """A text in German and English."""

    de: str
    en: str

    def get(self, lang: str) -> str:
        """The text in `lang` ("de" or "en").

        Example:
            >>> Label("Ja", "Yes").get("en")
            'Yes'
        """
        if lang not in LANGUAGES:
            raise ValueError(f"language must be 'de' or 'en', got {lang!r}")
        return self.de if lang == "de" else self.en


@dataclass(frozen=True)
class Section:
    code: str
    title: Label


@dataclass(frozen=True)
class MissingCode:
    code: int
    name: str  # not_applicable | dont_know | refused | no_answer
    label: Label


def _code_of(missing_set: Mapping[int, str], kind: str, *default):
    for code, name in missing_set.items():
        if name == kind:
            return code
    if default:
        return default[0]
    raise KeyError(f"no {kind} code in the missing-code set {dict(missing_set)}")


class _MissingCodeNames:
    """The instrument's code of each kind of missing answer, read from `missing_set` (shared by
    Instrument and Item: an item knows its instrument's codes)."""

    missing_set: Mapping[int, str]

    @property
    def not_applicable(self) -> int:
        """The code of "not asked" (skip logic): -7 unless the instrument declares another."""
        return _code_of(self.missing_set, "not_applicable")

    @property
    def no_answer(self) -> int:
        """The code of "no answer": -9 unless the instrument declares another."""
        return _code_of(self.missing_set, "no_answer")

    @property
    def dont_know(self) -> int | None:
        """The code of "don't know", None when the instrument declares none."""
        return _code_of(self.missing_set, "dont_know", None)

    @property
    def refused(self) -> int | None:
        """The code of "refused", None when the instrument declares none."""
        return _code_of(self.missing_set, "refused", None)


@dataclass(frozen=True)
class Scale:
    """A rating scale declared once under `scales:` (format 2) and shared by items and grids.

    `points` are the integer answer codes in order (e.g. 1..7), `labels` label each point
    (points without a label of their own are labelled by their number), `missing` lists the
    non-substantive codes the scale offers (the instrument's "don't know"/"refused" codes).
    """

    name: str
    points: tuple[int, ...]
    labels: Mapping[int, Label]
    missing: tuple[int, ...] = ()
    ordered: bool = True


@dataclass(frozen=True)
class Option:
    """One option of a multi-choice item; its export column is `<var>__<code>`."""

    code: str
    label: Label
    exclusive: bool = False


@dataclass(frozen=True)
class Item(_MissingCodeNames):
    """One question (one variable; a multi-choice item expands to one column per option).

    `codes` holds every labelled code of the item including a -8 (don't know) or -9 the question
    offers itself; `missing` lists the missing codes accepted when the item was asked; -7 (not
    applicable) is accepted exactly when `ask_if` is false. `missing_set` is the instrument's
    whole missing-code set ({code: kind}; -7/-8/-9 unless the instrument declares others).

    Format 2 adds: `number` (decimals; `decimals`, `unit`), `scale` (a rating item on a named
    scale: `scale`, and `grid`/`stem` when it came from a grid), `date`/`datetime` (`min`/`max`
    are ISO dates), `specify_for` (the "other (specify)" text of an option: (item, code)).
    `short_label` is the name tables and figures show (None when the file gives none).
    """

    var: str
    section: str
    type: str
    text: Label
    codes: Mapping[Code, Label]
    missing: tuple[int, ...]
    ask_if: Condition | None = None
    required: bool = False
    ordered: bool = False
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    max_select: int | None = None
    prior: Mapping[Any, Any] | None = None
    basis: str | None = None
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    missing_set: Mapping[int, str] = field(default_factory=lambda: MappingProxyType(MISSING_NAMES))
    unit: Label | None = None
    decimals: int | None = None
    scale: str | None = None
    grid: str | None = None
    stem: Label | None = None
    reverse: bool = False
    specify: Mapping[Code, str] = field(default_factory=lambda: MappingProxyType({}))
    specify_for: tuple[str, Code] | None = None
    short_label: Label | None = None

    @property
    def rating(self) -> bool:
        """A rating item (likert5 or an item on a declared scale): ordered integer points."""
        return self.type in ("likert5", "scale")

    @property
    def columns(self) -> tuple[str, ...]:
        """Export columns: `var`, or `<var>__<option>` for each option of a multi-choice item."""
        if self.type == "multi":
            return tuple(f"{self.var}__{o.code}" for o in self.options)
        return (self.var,)

    @property
    def string_codes(self) -> bool:
        """True when the codes are strings (e.g. federal_state: 'BW', 'BY', ...)."""
        return self.type == "single" and any(isinstance(c, str) for c in self.codes)

    @property
    def substantive_codes(self) -> tuple[Code, ...]:
        """The answer codes that are not missing codes (-8/-9 excluded), in questionnaire order."""
        return tuple(c for c in self.codes if c not in self.missing_set)

    @property
    def exclusive_options(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.options if o.exclusive)

    def label(self, code: Code, lang: str = "de") -> str:
        """Label of `code` (substantive or missing) in `lang`.

        Example:
            >>> load_instrument().item("incident_12m").label(-8, "en")
            "Don't know"
        """
        if code in self.codes:
            return self.codes[code].get(lang)
        raise KeyError(f"item {self.var!r} has no code {code!r}")


@dataclass(frozen=True)
class MetaColumn:
    """A metadata column every export carries (response_id, submitted_at, duration_s)."""

    var: str
    type: str  # id | datetime | number
    text: Label
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Rule:
    """A cross-item rule: violated in the rows where `when` holds and `require` does not.

    `builtin` rules (skip_logic, exclusive_options, max_select) document checks that the item
    definitions already generate; response_schema does not add them a second time.
    """

    id: str
    severity: str  # hard | soft
    message: Label
    when: Condition | None = None
    require: Condition | None = None
    builtin: str | None = None
    draft: str | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for cond in (self.when, self.require):
            if cond is not None:
                for v in cond.variables:
                    seen.setdefault(v)
        return tuple(seen)

    def violations(self, frame: pd.DataFrame) -> pd.Series:
        """Boolean Series: True in the rows that violate the rule (never for builtin rules
        without a `require`).

        Example:
            >>> import pandas as pd
            >>> rule = load_instrument().rule("physicians_le_persons_data")
            >>> frame = pd.DataFrame({"n_physicians": [2, 9, -9], "n_persons_data": [5, 4, 3]})
            >>> rule.violations(frame).tolist()
            [False, True, False]
        """
        if self.require is None:
            return pd.Series(False, index=frame.index)
        bad = ~self.require.evaluate(frame)
        if self.when is not None:
            bad &= self.when.evaluate(frame)
        return bad


@dataclass(frozen=True)
class Derived:
    """A derived variable (computed by schemas.derive, or by analysis for `weight`)."""

    var: str
    type: str
    text: Label
    rule: str
    inputs: tuple[str, ...] = ()
    codes: Mapping[Code, Label] = field(default_factory=lambda: MappingProxyType({}))
    ordered: bool = False
    range: tuple[float, float] | None = None
    computed_by: str = "schemas.derive"
    prior: Mapping[Any, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    short_label: Label | None = None


@dataclass(frozen=True)
class Instrument(_MissingCodeNames):
    """A validated questionnaire. Build it with `load_instrument`."""

    name: str
    version: str
    title: Label
    sections: Mapping[str, Section]
    missing_codes: Mapping[int, MissingCode]
    metadata: tuple[MetaColumn, ...]
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    derived: tuple[Derived, ...]
    meta: Mapping[str, Any]
    hypotheses: Mapping[str, str]
    source: str
    format: int = 1
    scales: Mapping[str, Scale] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def missing_set(self) -> Mapping[int, str]:
        """{missing code: kind} (kinds: not_applicable, dont_know, refused, no_answer)."""
        return MappingProxyType({c: m.name for c, m in self.missing_codes.items()})

    @property
    def missing_categories(self) -> tuple[str, ...]:
        """Categories of the typed frame's `<var>__missing` columns, in a fixed order.

        >>> load_instrument().missing_categories
        ('not_applicable', 'dont_know', 'no_answer')
        """
        names = set(self.missing_set.values())
        if self.format == 1:
            return ("not_applicable", "dont_know", "no_answer")
        return tuple(k for k in MISSING_KINDS if k in names)

    @property
    def rating_items(self) -> tuple[Item, ...]:
        """Likert items and items on declared scales."""
        return tuple(i for i in self.items if i.rating)

    @property
    def columns(self) -> tuple[str, ...]:
        """The raw export columns in order: metadata, then items (multi-choice expanded)."""
        cols = [m.var for m in self.metadata]
        for item in self.items:
            cols.extend(item.columns)
        return tuple(cols)

    @property
    def variables(self) -> tuple[str, ...]:
        """Item variables in questionnaire order (multi-choice items by their stem)."""
        return tuple(i.var for i in self.items)

    @property
    def likert_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.type == "likert5")

    def item(self, var: str) -> Item:
        """The item named `var` (KeyError naming the instrument when unknown).

        >>> inst.item("practice_type").type  # doctest: +SKIP
        'single'
        """
        for i in self.items:
            if i.var == var:
                return i
        raise KeyError(f"instrument {self.name!r} has no item {var!r}")

    def rule(self, rule_id: str) -> Rule:
        """The cross-item rule with id `rule_id` (KeyError naming the instrument when unknown).

        >>> inst.rule(inst.rules[0].id) is inst.rules[0]  # doctest: +SKIP
        True
        """
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"instrument {self.name!r} has no rule {rule_id!r}")

    def derived_variable(self, var: str) -> Derived:
        """The derived variable named `var` (KeyError naming the instrument when unknown).

        >>> inst.derived_variable("tech_index").var  # doctest: +SKIP
        'tech_index'
        """
        for d in self.derived:
            if d.var == var:
                return d
        raise KeyError(f"instrument {self.name!r} has no derived variable {var!r}")

    def multi_columns(self, var: str) -> tuple[str, ...]:
        """Columns `<var>__<option>` of the multi-choice item `var`.

        >>> inst.multi_columns("info_needs")[-1]  # doctest: +SKIP
        'info_needs__none'
        """
        item = self.item(var)
        if item.type != "multi":
            raise KeyError(f"item {var!r} is {item.type}, not multi-choice")
        return item.columns

    def column_item(self, column: str) -> Item:
        """The item an export column belongs to (`info_needs__none` -> info_needs).

        >>> inst.column_item("info_needs__none").var  # doctest: +SKIP
        'info_needs'
        """
        for i in self.items:
            if column in i.columns:
                return i
        raise KeyError(f"instrument {self.name!r} has no item column {column!r}")


# --------------------------------------------------------------------------- loading


def _freeze(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass
class _Answers:
    """What an item accepts, while its entry is read (see `_Items.answers`)."""

    codes: dict[Code, Label] = field(default_factory=dict)
    specify: dict[Code, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    scale: Scale | None = None
    lo: Any = None
    hi: Any = None
    max_length: int | None = None
    max_select: int | None = None
    decimals: int | None = None


class _Reader:
    """Reads YAML values one by one; every problem is an InstrumentError naming file and key.

    The parts below (missing codes, scales, items, logic) share these helpers and the state the
    builder sets from the head of the file (format, missing-code set, scales).
    """

    source: str
    format: int
    missing_set: Mapping[int, str]
    scales: dict[str, Scale]
    missing_labels: dict[int, Label]

    def fail(self, where: str, problem: str):
        raise InstrumentError(f"{self.source}: {where}: {problem}")

    def mapping(self, where: str, value: Any, what: str) -> Mapping:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"{what} must be a mapping (key: value), got {_kind(value)}")
        return value

    def flag(self, where: str, raw: Mapping, key: str, default: bool = False) -> bool:
        if key not in raw:
            return default
        value = raw[key]
        if not isinstance(value, bool):
            self.fail(where, f"{key} must be true or false (unquoted), got {value!r}")
        return value

    def text(self, where: str, raw: Mapping, stem: str) -> Label:
        values = []
        for lang in ("de", "en"):
            v = raw.get(f"{stem}_{lang}")
            if not isinstance(v, str) or not v.strip():
                self.fail(where, f"missing {stem}_{lang}")
            values.append(v)
        return Label(*values)

    def short_label(self, where: str, raw: Mapping) -> Label | None:
        """`short_label`: one text for both languages or {de: .., en: ..}, as a study's `label`."""
        if "short_label" not in raw:
            return None
        value = raw["short_label"]
        if isinstance(value, str):
            if not value.strip():
                self.fail(where, "short_label is empty; give a text or remove the key")
            return Label(value, value)
        if not isinstance(value, dict):
            self.fail(where, f"short_label must be a text or {{de: .., en: ..}}, got {_kind(value)}")
        unknown = sorted(set(value) - set(LANGUAGES), key=str)
        if unknown:
            self.fail(where, f"short_label: unknown language {unknown[0]!r}; "
                             f"languages: {', '.join(LANGUAGES)}")
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.fail(where, f"short_label has no text in {lang!r}; add {lang}: \"...\"")
        return Label(value["de"], value["en"])

    def codes(self, where: str, raw: Any, *, allow_exclusive: bool = False, allow_specify: bool = False):
        if not isinstance(raw, dict) or not raw:
            self.fail(where, "codes must be a non-empty mapping of code -> {label_de, label_en}")
        codes: dict[Code, Label] = {}
        exclusive: dict[Code, bool] = {}
        specify: dict[Code, str] = {}
        allowed = {"label_de", "label_en"}
        if allow_exclusive:
            allowed.add("exclusive")
        if allow_specify:
            allowed.add("specify")
        for code, spec in raw.items():
            if isinstance(code, bool) or not isinstance(code, (int, str)):
                self.fail(
                    where,
                    f"code {code!r} is neither an integer nor a string "
                    "(quote YAML words such as NO, ON, YES)",
                )
            if not isinstance(spec, dict):
                self.fail(where, f"code {code!r} needs {{label_de, label_en}}")
            for lang in ("de", "en"):
                label = spec.get(f"label_{lang}")
                if not isinstance(label, str) or not label.strip():
                    self.fail(where, f"code {code!r} has no label_{lang}")
            unknown = set(spec) - allowed
            if unknown:
                self.fail(where, f"code {code!r} has unknown key(s) {sorted(unknown)}")
            codes[code] = Label(spec["label_de"], spec["label_en"])
            exclusive[code] = self.flag(f"{where}: code {code!r}", spec, "exclusive")
            if "specify" in spec:
                target = spec["specify"]
                if not isinstance(target, str) or not _VAR.match(target) or "__" in target:
                    self.fail(
                        where,
                        f"code {code!r}: specify must name the text variable of the "
                        f"'other (specify)' answer (a lower-case name), got {target!r}",
                    )
                specify[code] = target
        for lang in ("de", "en"):
            labels = [lab.get(lang) for lab in codes.values()]
            dupes = sorted({x for x in labels if labels.count(x) > 1})
            if dupes:
                self.fail(where, f"label_{lang} {dupes[0]!r} is used for more than one code")
        return codes, exclusive, specify

    def condition(self, where: str, what: str, text: Any) -> Condition:
        try:
            return parse_condition(text)
        except ConditionError as exc:
            self.fail(where, f"{what}: {exc}")

    def missing_words(self) -> str:
        """'-7/-8/-9' or '97/98/99': the instrument's codes for messages."""
        return "/".join(str(c) for c in self.missing_set)

    def code_of(self, kind: str):
        return _code_of(self.missing_set, kind, None)


class _MissingCodes(_Reader):
    """`missing_codes:` of the instrument, and the `missing:` list of an item (formats 1 and 2)."""

    def missing_codes(self, raw) -> Mapping[int, MissingCode]:
        if self.format >= 2:
            return self.missing_codes_2(raw)
        if not isinstance(raw, dict):
            self.fail("missing_codes", "must map -7, -8 and -9 to {name, label_de, label_en}")
        out = {}
        for code, name in MISSING_NAMES.items():
            spec = raw.get(code)
            if not isinstance(spec, dict):
                self.fail("missing_codes", f"code {code} ({name}) is not defined")
            if spec.get("name") != name:
                self.fail(
                    "missing_codes", f"code {code} must be named {name!r}, not {spec.get('name')!r}"
                )
            out[code] = MissingCode(code, name, self.text(f"missing code {code}", spec, "label"))
        extra = set(raw) - set(MISSING_NAMES)
        if extra:
            self.fail(
                "missing_codes",
                f"unknown missing code(s) {sorted(extra, key=str)}; only -7, -8, -9 exist "
                "(declare format: 2 for another missing-code set)",
            )
        return MappingProxyType(out)

    def missing_codes_2(self, raw) -> Mapping[int, MissingCode]:
        """Format 2: any integer codes, each of a kind; not_applicable and no_answer required.
        Without `missing_codes:` the default set -7/-8/-9 applies."""
        if raw is None:
            return MappingProxyType(
                {
                    c: MissingCode(c, n, Label(*_DEFAULT_MISSING_LABELS[n]))
                    for c, n in MISSING_NAMES.items()
                }
            )
        if not isinstance(raw, dict) or not raw:
            self.fail(
                "missing_codes",
                "must map each missing code to {name, label_de, label_en} "
                f"(names: {', '.join(MISSING_KINDS)})",
            )
        out = {}
        seen: dict[str, int] = {}
        for code, spec in raw.items():
            if isinstance(code, bool) or not isinstance(code, int):
                self.fail("missing_codes", f"code {code!r} must be an integer (e.g. -9 or 99)")
            if not isinstance(spec, dict):
                self.fail("missing_codes", f"code {code} needs {{name, label_de, label_en}}")
            name = spec.get("name")
            if name not in MISSING_KINDS:
                self.fail(
                    "missing_codes",
                    f"code {code}: name must be one of {', '.join(MISSING_KINDS)}, got {name!r}",
                )
            if name in seen:
                self.fail("missing_codes", f"codes {seen[name]} and {code} are both {name}")
            seen[name] = code
            unknown = set(spec) - {"name", "label_de", "label_en"}
            if unknown:
                self.fail("missing_codes", f"code {code} has unknown key(s) {sorted(unknown)}")
            out[code] = MissingCode(code, name, self.text(f"missing code {code}", spec, "label"))
        for need in ("not_applicable", "no_answer"):
            if need not in seen:
                self.fail("missing_codes", f"a code named {need} is required")
        return MappingProxyType(out)

    def substantive_missing(self, where, raw) -> tuple[int, ...]:
        """Codes listed under a scale's `missing`: "don't know"/"refused" of the instrument."""
        if not isinstance(raw, list):
            self.fail(where, f"missing must be a list of codes, got {_kind(raw)}")
        allowed = [c for c, n in self.missing_set.items() if n in SUBSTANTIVE_MISSING]
        for m in raw:
            if m not in allowed or isinstance(m, bool):
                self.fail(
                    where,
                    f"missing may list only the instrument's don't know/refused codes "
                    f"({', '.join(map(str, allowed)) or 'none declared'}), not {m!r}",
                )
        return tuple(raw)

    def item_missing(self, where, raw, kind, codes, required) -> tuple[int, ...]:
        if kind == "text":
            if "missing" in raw:
                self.fail(where, "a text item has no missing codes (an empty text is no answer)")
            return ()
        if self.format >= 2:
            return self.item_missing_2(where, raw, kind, codes, required)
        missing = raw.get("missing")
        if not isinstance(missing, list):
            self.fail(
                where,
                "missing must list the missing codes allowed when asked ([] / [-9] / [-8, -9])",
            )
        for m in missing:
            if m not in (DONT_KNOW, NO_ANSWER) or isinstance(m, bool):
                self.fail(
                    where, f"missing may only list -8 and -9, not {m!r} (-7 follows from ask_if)"
                )
        if len(set(missing)) != len(missing):
            self.fail(where, "missing lists a code twice")
        if required and NO_ANSWER in missing:
            self.fail(where, "a required item cannot allow -9 (no answer)")
        if not required and NO_ANSWER not in missing:
            self.fail(where, "-9 (no answer) must be allowed unless the item is required: true")
        if DONT_KNOW in missing and DONT_KNOW not in codes:
            self.fail(
                where,
                "missing allows -8 (don't know), but codes give no -8 label (the question must offer it)",
            )
        if DONT_KNOW in codes and DONT_KNOW not in missing:
            self.fail(where, "code -8 (don't know) is offered, but missing does not allow -8")
        if NO_ANSWER in codes and NO_ANSWER not in missing:
            self.fail(where, "code -9 is labelled, but missing does not allow -9")
        if kind == "multi" and DONT_KNOW in missing:
            self.fail(
                where, "a multi-choice item cannot have -8 (offer a 'dont_know' option instead)"
            )
        return tuple(sorted(missing, reverse=True))

    def item_missing_2(self, where, raw, kind, codes, required) -> tuple[int, ...]:
        """Format 2: `missing` lists the instrument's codes (not not_applicable) the question
        accepts when asked; no_answer is added unless the item is required; a scale item
        also gets its scale's codes. Order: the instrument's declaration order."""
        na, no_answer = self.code_of("not_applicable"), self.code_of("no_answer")
        missing = raw.get("missing", [])
        if not isinstance(missing, list):
            self.fail(where, f"missing must be a list of missing codes, got {_kind(missing)}")
        for m in missing:
            if not _hashable(m) or m not in self.missing_set or isinstance(m, bool):
                self.fail(
                    where,
                    f"missing lists {m!r}, which is not one of the instrument's missing codes "
                    f"({self.missing_words()})",
                )
            if m == na:
                self.fail(where, f"missing may not list {na} (not applicable follows from ask_if)")
        if len(set(missing)) != len(missing):
            self.fail(where, "missing lists a code twice")
        if kind == "multi":
            bad = [m for m in missing if m != no_answer]
            if bad:
                self.fail(
                    where,
                    f"a multi-choice item accepts only {no_answer} (no answer); offer a "
                    "'dont_know' option instead",
                )
        chosen = set(missing)
        if kind == "scale":
            chosen |= set(self.scales[raw["scale"]].missing)
        if required and no_answer in chosen:
            self.fail(where, f"a required item cannot allow {no_answer} (no answer)")
        if not required:
            chosen.add(no_answer)
        for c in codes:
            if c in self.missing_set and c not in chosen:
                self.fail(where, f"code {c} is labelled, but missing does not allow {c}")
        return tuple(c for c in self.missing_set if c in chosen)


class _Scales(_Reader):
    """`scales:` (format 2): rating scales declared once, used by scale items and grids."""

    def parse_scales(self, raw) -> dict[str, Scale]:
        raw = self.mapping("scales", raw, "scales")
        out = {}
        for name, spec in raw.items():
            where = f"scale {name!r}"
            if not isinstance(name, str) or not _VAR.match(name):
                self.fail(where, "scale names must be lower-case identifiers (e.g. agree7)")
            if not isinstance(spec, dict):
                self.fail(where, f"must be a mapping with points and labels, got {_kind(spec)}")
            unknown = set(spec) - _SCALE_KEYS
            if unknown:
                self.fail(where, f"unknown key(s) {sorted(unknown)}")
            points, start = spec.get("points"), spec.get("start", 1)
            for key, v, lo in (("points", points, 2), ("start", start, -1000)):
                if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                    self.fail(where, f"{key} must be an integer of at least {lo}, got {v!r}")
            if points > 101:
                self.fail(where, f"points must be at most 101, got {points}")
            values = tuple(range(start, start + points))
            clash = sorted(set(values) & set(self.missing_set))
            if clash:
                self.fail(
                    where,
                    f"point {clash[0]} is also a missing code ({self.missing_words()}); "
                    "choose another start or other missing codes",
                )
            labels = {}
            raw_labels = spec.get("labels")
            if not isinstance(raw_labels, dict) or not raw_labels:
                self.fail(where, "labels must label at least the end points: {1: {label_de, label_en}, ...}")
            for code, lab in raw_labels.items():
                if code not in values or isinstance(code, bool):
                    self.fail(where, f"label for {code!r}, which is not a point ({values[0]}..{values[-1]})")
                if not isinstance(lab, dict):
                    self.fail(where, f"label of point {code} needs {{label_de, label_en}}")
                labels[code] = self.text(f"{where}: point {code}", lab, "label")
            for end in (values[0], values[-1]):
                if end not in labels:
                    self.fail(where, f"the end point {end} needs a label")
            full = {v: labels.get(v, Label(str(v), str(v))) for v in values}
            missing = self.substantive_missing(where, spec.get("missing", []))
            out[name] = Scale(
                name,
                values,
                MappingProxyType(full),
                missing,
                self.flag(where, spec, "ordered", True),
            )
        return out


class _ItemAnswers(_Reader):
    """What an item accepts as an answer, by item type: codes (single, multi, likert5, scale),
    options (multi), a range (integer, number, date/datetime), a length (text), a unit."""

    def answers(self, where, var, kind, raw, validation) -> _Answers:
        """What the item accepts as an answer, by item type: codes (single, multi, likert5,
        scale), options (multi), a range (integer, number, date/datetime), a length (text)."""
        ans = _Answers()
        exclusive: dict[Code, bool] = {}
        if kind in ("single", "multi", "likert5"):
            if "codes" not in raw:
                self.fail(where, f"a {kind} item needs codes")
            ans.codes, exclusive, ans.specify = self.codes(
                where,
                raw["codes"],
                allow_exclusive=(kind == "multi"),
                allow_specify=self.format >= 2 and kind in ("single", "multi"),
            )
        elif "codes" in raw:
            self.fail(where, f"a {kind} item has no codes")
        if kind == "single":
            kinds = {type(c) for c in ans.codes if c not in self.missing_set}
            if len(kinds) > 1:
                self.fail(where, "codes mix integers and strings")
            self.check_answer_codes(where, ans.codes)
        if kind == "likert5" and sorted(ans.codes) != [1, 2, 3, 4, 5]:
            self.fail(
                where,
                f"a likert5 item needs exactly the codes 1..5, got {sorted(ans.codes, key=str)}",
            )
        if kind == "scale":
            ans.scale, ans.codes = self.scale_codes(where, raw)
        elif "scale" in raw:
            self.fail(where, "scale is only for items of type scale")
        if kind == "multi":
            ans.options, ans.max_select = self.multi_options(where, var, raw, ans.codes, exclusive)
        elif "max_select" in raw:
            self.fail(where, "max_select is only for multi-choice items")
        if kind == "integer":
            ans.lo, ans.hi = self.integer_range(where, validation)
        if kind == "number":
            ans.lo, ans.hi, ans.decimals = self.number_range(where, validation)
        if kind in ("integer", "number") and self.format >= 2:
            clash = sorted(c for c in self.missing_set if ans.lo <= c <= ans.hi)
            if clash:
                self.fail(
                    where,
                    f"validation range {ans.lo}..{ans.hi} contains the missing code {clash[0]}; "
                    "narrow the range or declare missing codes outside it",
                )
        if kind in ("date", "datetime"):
            ans.lo = self.date_bound(where, validation, "min", "1900-01-01")
            ans.hi = self.date_bound(where, validation, "max", "2100-12-31")
            if ans.lo > ans.hi:
                self.fail(where, f"validation.min {ans.lo} is later than validation.max {ans.hi}")
        if kind == "text":
            ans.max_length = validation.get("max_length")
            if (not isinstance(ans.max_length, int) or isinstance(ans.max_length, bool)
                    or ans.max_length < 1):
                self.fail(
                    where,
                    f"a text item needs a positive validation.max_length, got {ans.max_length!r}",
                )
        return ans

    def scale_codes(self, where, raw) -> tuple[Scale, dict[Code, Label]]:
        """A scale item: its scale's points, and the scale's don't know/refused codes."""
        name = raw.get("scale")
        if not _hashable(name) or name not in self.scales:
            known = ", ".join(self.scales) or "none declared under scales:"
            self.fail(where, f"unknown scale {name!r} (scales: {known})")
        scale = self.scales[name]
        codes = dict(scale.labels)
        for m in scale.missing:
            codes[m] = self.missing_labels[m]
        return scale, codes

    def multi_options(self, where, var, raw, codes, exclusive) -> tuple[tuple[Option, ...], int | None]:
        """A multi-choice item: one option per code (a column each), and `max_select`."""
        for c in codes:
            if not isinstance(c, str) or not _OPTION.match(c) or "__" in c:
                self.fail(
                    where,
                    f"option {c!r} must be a lower-case name (it becomes the column {var}__<option>)",
                )
        if "missing" in codes:
            self.fail(
                where,
                f"option 'missing' is reserved ({var}__missing is the missing-reason column)",
            )
        options = tuple(Option(c, codes[c], exclusive[c]) for c in codes)
        max_select = None
        if "max_select" in raw:
            max_select = raw["max_select"]
            if (
                not isinstance(max_select, int)
                or isinstance(max_select, bool)
                or not 1 <= max_select < len(options)
            ):
                self.fail(
                    where,
                    f"max_select must be an integer from 1 to {len(options) - 1}, got {max_select!r}",
                )
        return options, max_select

    def validation_keys(self, where, kind, validation) -> None:
        allowed = _VALIDATION_KEYS.get(kind, ())
        for key in validation:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = (f"; did you mean {close[0]!r}?" if close else
                    f"; {kind} items take {', '.join(allowed)}" if allowed else
                    f"; {kind} items take no validation keys")
            self.fail(where, f"validation: unknown key {key!r}{hint}")

    def integer_range(self, where, validation) -> tuple[int, int]:
        lo, hi = validation.get("min"), validation.get("max")
        for name, v in (("min", lo), ("max", hi)):
            if not isinstance(v, int) or isinstance(v, bool):
                self.fail(
                    where, f"an integer item needs an integer validation.{name}, got {v!r}"
                )
        if lo > hi:
            self.fail(where, f"validation.min {lo} is larger than validation.max {hi}")
        if self.format < 2 and lo < 0:
            self.fail(
                where, f"validation.min {lo} would collide with the missing codes -7/-8/-9"
            )
        return lo, hi

    def number_range(self, where, validation) -> tuple[float, float, int]:
        lo, hi = validation.get("min"), validation.get("max")
        for name, v in (("min", lo), ("max", hi)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                self.fail(where, f"a number item needs a numeric validation.{name}, got {v!r}")
        if lo > hi:
            self.fail(where, f"validation.min {lo} is larger than validation.max {hi}")
        decimals = validation.get("decimals", 2)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 10:
            self.fail(where, f"validation.decimals must be an integer from 0 to 10, got {decimals!r}")
        return lo, hi, decimals

    def check_answer_codes(self, where, codes):
        if self.format < 2:
            for c in codes:
                if isinstance(c, int) and c < 0 and c not in (DONT_KNOW, NO_ANSWER):
                    self.fail(
                        where,
                        f"code {c} is reserved (negative codes other than -8/-9 are not answers)",
                    )
            return
        for c in codes:
            if c in self.missing_set and self.missing_set[c] not in ("dont_know", "refused", "no_answer"):
                self.fail(where, f"code {c} is the instrument's not-applicable code, not an answer")

    def unit(self, where, raw) -> Label:
        if isinstance(raw, str) and raw.strip():
            return Label(raw, raw)
        if isinstance(raw, dict):
            return self.text(f"{where}: unit", raw, "label")
        self.fail(where, f"unit must be a text (e.g. 'h') or {{label_de, label_en}}, got {raw!r}")

    def date_bound(self, where, validation, key, default) -> str:
        value = validation.get(key, default)
        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, _dt.date):
            return value.isoformat()
        try:
            return _dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.fail(where, f"validation.{key} must be a date YYYY-MM-DD, got {value!r}")


class _Items(_MissingCodes, _ItemAnswers):
    """`items:`: one entry -> its items (a grid expands, an option with `specify:` adds a text
    item); each item type checks its own keys (codes, options, ranges, dates, text length)."""

    def expand(self, pos: int, raw, sections) -> list[Item]:
        """One YAML entry -> its items: a grid expands to one item per row, an option with
        `specify:` adds its "other (specify)" text item right after the item."""
        if isinstance(raw, dict) and "grid" in raw and "var" not in raw:
            if self.format < 2:
                self.fail(f"items[{pos}]", "grids need format: 2 at the top of the instrument")
            items = self.grid(pos, raw, sections)
        else:
            items = [self.item(pos, raw, sections)]
        out = []
        for item in items:
            out.append(item)
            for code, target in item.specify.items():
                out.append(self.specify_item(item, code, target))
        return out

    def grid(self, pos: int, raw, sections) -> list[Item]:
        name = raw.get("grid")
        where = f"grid {name!r}"
        if not isinstance(name, str) or not _VAR.match(name):
            self.fail(f"items[{pos}]", "grid must be a lower-case name (e.g. safety_climate)")
        unknown = set(raw) - _GRID_KEYS
        if unknown:
            self.fail(where, f"unknown key(s) {sorted(unknown)}")
        rows = raw.get("items")
        if not isinstance(rows, list) or not rows:
            self.fail(where, "items must list the grid's rows ({var, text_de, text_en})")
        stem = self.text(where, raw, "text")
        shared = {k: raw[k] for k in ("section", "scale", "ask_if", "required", "missing", "prior",
                                      "basis", "source") if k in raw}
        out = []
        for row in rows:
            if not isinstance(row, dict) or "var" not in row:
                self.fail(where, "each row needs var, text_de and text_en")
            extra = set(row) - _GRID_ITEM_KEYS
            if extra:
                self.fail(f"{where}: row {row.get('var')!r}", f"unknown key(s) {sorted(extra)}")
            item = self.item(pos, {**shared, **row, "type": "scale"}, sections)
            out.append(dataclasses.replace(item, grid=name, stem=stem))
        return out

    def specify_item(self, item: Item, code: Code, target: str) -> Item:
        label = item.codes[code]
        if item.type == "multi":
            cond = f"{item.var}__{code} == 1"
        elif isinstance(code, str):
            cond = f"{item.var} == '{code}'"
        else:
            cond = f"{item.var} == {code}"
        return Item(
            var=target,
            section=item.section,
            type="text",
            text=Label(f"{label.de}: bitte angeben", f"{label.en}: please specify"),
            codes=MappingProxyType({}),
            missing=(),
            ask_if=parse_condition(cond),
            max_length=SPECIFY_MAX_LENGTH,
            missing_set=self.missing_set,
            specify_for=(item.var, code),
        )

    def item(self, pos: int, raw, sections) -> Item:
        var, kind = self.item_head(pos, raw, sections)
        where = f"item {var!r}"
        text = self.text(where, raw, "text")
        required = self.flag(where, raw, "required")
        validation = raw.get("validation") or {}
        if not isinstance(validation, dict):
            self.fail(where, "validation must be a mapping")
        self.validation_keys(where, kind, validation)
        ans = self.answers(where, var, kind, raw, validation)
        unit = None
        if "unit" in raw:
            if kind not in ("integer", "number"):
                self.fail(where, "unit is only for integer and number items")
            unit = self.unit(where, raw["unit"])

        missing = self.item_missing(where, raw, kind, ans.codes, required)
        if self.format >= 2 and kind in ("single", "integer", "number", "date", "datetime"):
            for m in missing:
                if self.missing_set[m] in SUBSTANTIVE_MISSING and m not in ans.codes:
                    ans.codes[m] = self.missing_labels[m]
        ask_if = self.condition(where, "ask_if", raw["ask_if"]) if "ask_if" in raw else None
        prior = raw.get("prior")
        if prior is not None:
            self.check_prior(where, kind, prior, ans.codes, missing)
        scale = ans.scale
        return Item(
            var=var,
            section=raw["section"],
            type=kind,
            text=text,
            codes=MappingProxyType(ans.codes),
            missing=missing,
            ask_if=ask_if,
            required=required,
            ordered=self.flag(where, raw, "ordered") or (scale is not None and scale.ordered),
            options=ans.options,
            min=ans.lo,
            max=ans.hi,
            max_length=ans.max_length,
            max_select=ans.max_select,
            prior=_freeze(prior),
            basis=raw.get("basis"),
            source=raw.get("source"),
            extra=_freeze({k: raw[k] for k in _EXTRA_KEYS if k in raw}),
            missing_set=self.missing_set,
            unit=unit,
            decimals=ans.decimals,
            scale=scale.name if scale is not None else None,
            reverse=self.flag(where, raw, "reverse"),
            specify=MappingProxyType(ans.specify),
            short_label=self.short_label(where, raw),
        )

    def item_head(self, pos: int, raw, sections) -> tuple[str, str]:
        """The item's variable name and type, after checking its keys and its section."""
        if not isinstance(raw, dict) or "var" not in raw:
            self.fail(f"items[{pos}]", "missing 'var'")
        var = raw["var"]
        where = f"item {var!r}"
        if (
            not isinstance(var, str)
            or not _VAR.match(var)
            or "__" in var
            or keyword.iskeyword(var)
            or var in ("and", "or", "not", "in")
        ):
            self.fail(
                where,
                "variable names must be lower-case identifiers without '__' (e.g. n_physicians)",
            )
        allowed_keys = _ITEM_KEYS | (_ITEM_KEYS_2 if self.format >= 2 else set())
        unknown = set(raw) - allowed_keys
        if unknown:
            self.fail(where, f"unknown key(s) {sorted(unknown)}")
        kind = raw.get("type")
        types = ITEM_TYPES if self.format >= 2 else ITEM_TYPES_1
        if kind not in types:
            if kind in ITEM_TYPES:
                self.fail(where, f"item type {kind!r} needs format: 2 at the top of the instrument")
            self.fail(
                where, f"unknown item type {kind!r} (expected one of {', '.join(types)})"
            )
        if not _hashable(raw.get("section")) or raw.get("section") not in sections:
            self.fail(
                where, f"unknown section {raw.get('section')!r} (sections: {', '.join(sections)})"
            )
        return var, kind

    def check_prior(self, where, kind, prior, codes, missing=()):
        if not isinstance(prior, dict):
            self.fail(where, "prior must be a mapping")
        if kind in ("single", "likert5", "multi", "scale"):
            allowed = set(codes) | set(missing)
            unknown = [k for k in prior if k not in allowed]
            if unknown:
                self.fail(where, f"prior has code {unknown[0]!r}, which is not one of the codes")
            for k, v in prior.items():
                if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                    self.fail(where, f"prior of code {k!r} must be a percentage, got {v!r}")
        if kind in ("single", "likert5", "scale"):
            total = sum(prior.values())
            if abs(total - 100) > 0.5:
                self.fail(where, f"prior must sum to 100 over the codes, sums to {total:g}")
        if kind == "multi" and any(v > 100 for v in prior.values()):
            self.fail(where, "prior of a multi-choice option is the % ticking it (at most 100)")
        if kind in ("integer", "number") and self.format >= 2:
            dist = prior.get("distribution", "normal")
            if dist not in PRIOR_DISTRIBUTIONS:
                self.fail(
                    where,
                    f"prior distribution {dist!r} is not one of {', '.join(PRIOR_DISTRIBUTIONS)}",
                )
            for key, v in prior.items():
                if key in ("distribution", "missing"):
                    continue
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    self.fail(where, f"prior {key} must be a number, got {v!r}")
            need = {"normal": ("mean", "sd"), "lognormal": ("median",), "uniform": ()}[dist]
            for key in need:
                if key not in prior:
                    self.fail(where, f"a {dist} prior needs {key}")


class _Logic(_Reader):
    """What reads other items: `ask_if` conditions, cross-item `rules:` and `derived:` variables."""

    def check_conditions(self, items: list[Item]):
        """ask_if may only read EARLIER items, with literals that match their codes."""
        columns, position = _where_items(items)
        for pos, item in enumerate(items):
            if item.ask_if is None:
                continue
            where = f"item {item.var!r}"
            self.check_references(where, "ask_if", item.ask_if, columns, position)
            for var in item.ask_if.variables:
                ref_pos = columns[var][0]
                if ref_pos == pos:
                    self.fail(where, f"ask_if refers to the item itself ({var!r})")
                if ref_pos > pos:
                    self.fail(
                        where,
                        f"ask_if refers to {var!r}, which comes later in the questionnaire "
                        f"(item {ref_pos + 1}, this is item {pos + 1}); move this item after "
                        f"{var!r} or filter on an earlier item",
                    )

    def check_references(self, where, what, cond: Condition, columns, position):
        for var in cond.variables:
            if var not in columns:
                if var in position:
                    self.fail(
                        where,
                        f"{what} refers to multi-choice item {var!r} directly; use {var}__<option>",
                    )
                stem = var.split("__")[0]
                if "__" in var and stem in position:
                    self.fail(
                        where,
                        f"{what} refers to {var!r}, but {stem!r} has no option {var.split('__', 1)[1]!r}",
                    )
                self.fail(where, f"{what} refers to unknown variable {var!r}")
            ref = columns[var][1]
            if ref.type == "text":
                self.fail(where, f"{what} refers to text item {var!r}, which cannot be compared")
            if ref.type in ("date", "datetime"):
                self.fail(where, f"{what} refers to {ref.type} item {var!r}, which cannot be compared")
        for var, literals in cond.literals().items():
            ref = columns[var][1]
            for lit in literals:
                self.check_literal(where, what, var, ref, lit)

    def check_literal(self, where, what, var, ref: Item, lit):
        missing = tuple(self.missing_set)
        na, no_answer = self.code_of("not_applicable"), self.code_of("no_answer")
        if ref.type == "multi":
            allowed = (0, 1, na, no_answer)
            if lit not in allowed or isinstance(lit, str):
                self.fail(
                    where,
                    f"{what} compares multi-choice column {var!r} with {lit!r} "
                    f"(it holds 0, 1, {na}, {no_answer})",
                )
            return
        if ref.string_codes:
            if not isinstance(lit, str) and lit not in missing:
                self.fail(where, f"{what} compares {var!r} (string codes) with the integer {lit!r}")
            if isinstance(lit, str) and lit not in ref.codes:
                self.fail(
                    where, f"{what} uses code {lit!r} of {var!r}, which is not one of its codes"
                )
            return
        if isinstance(lit, str):
            self.fail(where, f"{what} compares {var!r} (integer codes) with the string {lit!r}")
        if ref.type in ("single", "likert5", "scale") and lit not in ref.codes and lit not in missing:
            codes = ", ".join(str(c) for c in ref.codes)
            self.fail(
                where,
                f"{what} uses code {lit} of {var!r}, which is not one of its codes ({codes}) "
                f"or {self.missing_words()}",
            )

    def rules(self, raw_rules, items: list[Item]) -> tuple[Rule, ...]:
        columns, position = _where_items(items)
        out = []
        seen = set()
        for pos, raw in enumerate(raw_rules, start=1):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                self.fail(f"rules[{pos}]", "needs an 'id'")
            rid = raw["id"]
            where = f"rule {rid!r}"
            if rid in seen:
                self.fail(where, "duplicate rule id")
            seen.add(rid)
            unknown = set(raw) - _RULE_KEYS
            if unknown:
                self.fail(where, f"unknown key(s) {sorted(unknown)}")
            if raw.get("severity") not in ("hard", "soft"):
                self.fail(where, f"severity must be 'hard' or 'soft', got {raw.get('severity')!r}")
            builtin = raw.get("builtin")
            if builtin is not None and builtin not in BUILTIN_RULES:
                self.fail(
                    where,
                    f"unknown builtin {builtin!r} (expected one of {', '.join(BUILTIN_RULES)})",
                )
            if builtin is None and "require" not in raw:
                self.fail(where, "needs a 'require' condition")
            conds = {}
            for key in ("when", "require"):
                if key in raw:
                    conds[key] = self.condition(where, key, raw[key])
                    self.check_references(where, key, conds[key], columns, position)
            message = Label(*(raw.get(f"message_{lang}") for lang in ("de", "en")))
            for lang in ("de", "en"):
                if not isinstance(message.get(lang), str) or not message.get(lang).strip():
                    self.fail(where, f"missing message_{lang}")
            out.append(
                Rule(
                    rid,
                    raw["severity"],
                    message,
                    conds.get("when"),
                    conds.get("require"),
                    builtin,
                    raw.get("draft"),
                )
            )
        return tuple(out)

    def derived(self, raw, names) -> Derived:
        if not isinstance(raw, dict) or not isinstance(raw.get("var"), str):
            self.fail("derived", "each derived variable needs 'var'")
        var = raw["var"]
        where = f"derived variable {var!r}"
        if var in names:
            self.fail(where, f"duplicate variable {var!r} (already a {names[var]})")
        names[var] = "derived variable"
        codes = {}
        if "codes" in raw:
            codes, _, _ = self.codes(where, raw["codes"])
        if not isinstance(raw.get("rule"), str):
            self.fail(where, "needs a 'rule' describing the computation")
        rng = raw.get("range")
        if rng is not None and not (isinstance(rng, list) and len(rng) == 2):
            self.fail(where, f"range must be a list [low, high], got {rng!r}")
        inputs = raw.get("inputs") or ()
        if not isinstance(inputs, list | tuple):
            self.fail(where, f"inputs must be a list of variables, got {_kind(inputs)}")
        known = {
            "var",
            "type",
            "text_de",
            "text_en",
            "rule",
            "inputs",
            "codes",
            "ordered",
            "range",
            "computed_by",
            "prior",
            "short_label",
        }
        return Derived(
            var=var,
            type=str(raw.get("type", "number")),
            text=self.text(where, raw, "text"),
            rule=raw["rule"].strip(),
            inputs=tuple(inputs),
            codes=MappingProxyType(codes),
            ordered=self.flag(where, raw, "ordered"),
            range=tuple(rng) if rng is not None else None,
            computed_by=str(raw.get("computed_by", "schemas.derive")),
            prior=_freeze(raw.get("prior")),
            extra=_freeze({k: v for k, v in raw.items() if k not in known}),
            short_label=self.short_label(where, raw),
        )


class _Builder(_Items, _Scales, _Logic):
    """Turns the parsed YAML into an Instrument, checking everything on the way."""

    def __init__(self, data: Any, source: str):
        self.data = data
        self.source = source
        self.format = 1
        self.missing_set: Mapping[int, str] = MappingProxyType(dict(MISSING_NAMES))
        self.scales: dict[str, Scale] = {}
        self.missing_labels: dict[int, Label] = {}

    def build(self) -> Instrument:
        data = self.data
        if not isinstance(data, dict):
            self.fail("top level", "an instrument must be a YAML mapping")
        fmt = data.get("format", 1)
        if isinstance(fmt, bool) or fmt not in FORMATS:
            self.fail("format", f"must be 1 or 2 (the rules the file follows), got {fmt!r}")
        self.format = fmt
        head = data.get("instrument")
        if not isinstance(head, dict) or not head.get("name") or not head.get("version"):
            self.fail("instrument", "needs 'name' and 'version'")
        meta = self.mapping("meta", data.get("meta"), "meta")
        title = self.text("meta", meta, "title")

        missing_codes = self.missing_codes(data.get("missing_codes"))
        self.missing_set = MappingProxyType({c: m.name for c, m in missing_codes.items()})
        self.missing_labels = {c: m.label for c, m in missing_codes.items()}
        sections = self.sections(data.get("sections"))
        if self.format >= 2:
            self.scales = self.parse_scales(data.get("scales"))

        raw_meta = data.get("metadata") or []
        if not isinstance(raw_meta, list):
            self.fail("metadata", f"must be a list of columns, got {_kind(raw_meta)}")
        metadata = tuple(self.meta_column(i, m) for i, m in enumerate(raw_meta))
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            self.fail("items", "must be a non-empty list")

        names: dict[str, str] = {m.var: "metadata column" for m in metadata}
        if len(names) != len(metadata):
            self.fail("metadata", "duplicate metadata column")
        items = self.items(raw_items, sections, names)
        self.check_conditions(items)

        raw_derived = data.get("derived") or []
        if not isinstance(raw_derived, list):
            self.fail("derived", f"must be a list of derived variables, got {_kind(raw_derived)}")
        derived = tuple(self.derived(d, names) for d in raw_derived)
        raw_rules = data.get("rules") or []
        if not isinstance(raw_rules, list):
            self.fail("rules", f"must be a list of rules, got {_kind(raw_rules)}")
        rules = self.rules(raw_rules, items)
        hypotheses = self.mapping("hypotheses", data.get("hypotheses"), "hypotheses")
        return Instrument(
            name=str(head["name"]),
            version=str(head["version"]),
            title=title,
            sections=MappingProxyType(sections),
            missing_codes=missing_codes,
            metadata=metadata,
            items=tuple(items),
            rules=rules,
            derived=derived,
            meta=_freeze({k: v for k, v in meta.items()}),
            hypotheses=_freeze(dict(hypotheses)),
            source=self.source,
            format=self.format,
            scales=MappingProxyType(dict(self.scales)),
        )

    def sections(self, raw) -> dict[str, Section]:
        sections = {}
        for code, spec in self.mapping("sections", raw, "sections").items():
            if spec is not None and not isinstance(spec, dict):
                self.fail(
                    f"section {code}",
                    f"must be a mapping {{title_de, title_en}}, got {_kind(spec)}",
                )
            sections[str(code)] = Section(
                str(code), self.text(f"section {code}", spec or {}, "title")
            )
        if not sections:
            self.fail("sections", "at least one section is needed")
        return sections

    def items(self, raw_items: list, sections, names: dict[str, str]) -> list[Item]:
        """Every item in questionnaire order; `names` (variable -> what it is) grows with them."""
        items: list[Item] = []
        for pos, raw in enumerate(raw_items, start=1):
            for item in self.expand(pos, raw, sections):
                for col in {item.var, *item.columns}:
                    if col in names:
                        self.fail(
                            f"item {item.var!r}",
                            f"duplicate variable {col!r} (already a {names[col]})",
                        )
                    names[col] = f"variable of item {pos}"
                items.append(item)
        return items

    def meta_column(self, pos: int, raw) -> MetaColumn:
        if not isinstance(raw, dict) or not isinstance(raw.get("var"), str):
            self.fail(f"metadata[{pos}]", "needs 'var'")
        where = f"metadata column {raw['var']!r}"
        if raw.get("type") not in META_TYPES:
            self.fail(
                where, f"unknown type {raw.get('type')!r} (expected one of {', '.join(META_TYPES)})"
            )
        val = self.mapping(where, raw.get("validation"), "validation")
        return MetaColumn(
            raw["var"], raw["type"], self.text(where, raw, "text"), val.get("min"), val.get("max")
        )


PRIOR_DISTRIBUTIONS = ("normal", "lognormal", "uniform")
_DEFAULT_MISSING_LABELS = {
    "not_applicable": ("Trifft nicht zu (Filter)", "Not applicable (skipped)"),
    "dont_know": ("Weiß nicht", "Don't know"),
    "no_answer": ("Keine Angabe", "No answer"),
}


def _where_items(items: list[Item]) -> tuple[dict[str, tuple[int, Item]], dict[str, int]]:
    """({export column: (position, item)}, {item variable: position}) for reading references."""
    columns: dict[str, tuple[int, Item]] = {}
    position: dict[str, int] = {}
    for pos, item in enumerate(items):
        position[item.var] = pos
        for col in item.columns:
            columns[col] = (pos, item)
    return columns, position


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _kind(value: Any) -> str:
    """'a list', 'the number 5', ...: what a YAML value is, for messages."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{value!r}"


def parse_instrument(text: str | bytes, source: str = "<string>") -> Instrument:
    """Build and validate an Instrument from YAML text (`source` names it in errors).

    The YAML is read by `schemas._yaml.load_yaml` (size, depth and alias budgets, YAML 1.2
    booleans, no duplicate keys).

    Example:
        >>> from pathlib import Path
        >>> path = Path(load_instrument().source)
        >>> parse_instrument(path.read_text(encoding="utf-8")).name
        'practice_security'
    """
    data = load_yaml(text, source=source, error=InstrumentError)
    return _Builder(data, source).build()


def load_instrument(path: str | Path | None = None) -> Instrument:
    """Load and validate an instrument.

    `path` is a YAML file, or the name of a packaged instrument (default: practice_security),
    found with importlib.resources so the package works from any directory.

    Example:
        >>> inst = load_instrument("practice_security")
        >>> len(inst.items), inst.columns[:3]
        (55, ('response_id', 'submitted_at', 'duration_s'))
    """
    if path is None:
        path = DEFAULT_INSTRUMENT
    if isinstance(path, str) and re.fullmatch(r"[A-Za-z0-9_\-]+", path):
        resource = resources.files("schemas") / "instruments" / f"{path}.yaml"
        if not resource.is_file():
            known = sorted(r.name[:-5] for r in resource.parent.iterdir() if r.name.endswith(".yaml"))
            raise InstrumentError(f"no packaged instrument named {path!r}; packaged: {known}")
        return parse_instrument(resource.read_text(encoding="utf-8"), source=str(resource))
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise InstrumentError(f"{path}: is a folder, not an instrument file")
        raise InstrumentError(f"{path}: instrument file not found")
    data = read_yaml(path, error=InstrumentError)
    return _Builder(data, str(path)).build()
