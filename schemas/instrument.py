"""The questionnaire as a typed, immutable object, loaded from YAML and validated on the way in.

`load_instrument` reads an instrument file (see schemas/instruments/practice_security.yaml for the
conventions) and refuses a broken one with an `InstrumentError` that names the file, the item and
the problem. The result is an `Instrument` of frozen dataclasses; mappings are read-only views.

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

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .conditions import Condition, ConditionError, parse_condition
from .errors import DeclarationError

__all__ = [
    "DONT_KNOW",
    "ITEM_TYPES",
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
    "Section",
    "load_instrument",
    "parse_instrument",
]

ITEM_TYPES = ("single", "multi", "integer", "likert5", "text")
META_TYPES = ("id", "datetime", "number")
NOT_APPLICABLE, DONT_KNOW, NO_ANSWER = -7, -8, -9
MISSING_NAMES = {NOT_APPLICABLE: "not_applicable", DONT_KNOW: "dont_know", NO_ANSWER: "no_answer"}
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
    # documentation kept as-is in Item.extra
    "note",
    "role",
    "kbv_ref",
    "model",
    "validation_rule",
}
_EXTRA_KEYS = ("note", "role", "kbv_ref", "model", "validation_rule")
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
        if lang not in ("de", "en"):
            raise ValueError(f"language must be 'de' or 'en', got {lang!r}")
        return self.de if lang == "de" else self.en


@dataclass(frozen=True)
class Section:
    code: str
    title: Label


@dataclass(frozen=True)
class MissingCode:
    code: int
    name: str  # not_applicable | dont_know | no_answer
    label: Label


@dataclass(frozen=True)
class Option:
    """One option of a multi-choice item; its export column is `<var>__<code>`."""

    code: str
    label: Label
    exclusive: bool = False


@dataclass(frozen=True)
class Item:
    """One question (one variable; a multi-choice item expands to one column per option).

    `codes` holds every labelled code of the item including a -8 (don't know) or -9 the question
    offers itself; `missing` lists the missing codes accepted when the item was asked; -7 (not
    applicable) is accepted exactly when `ask_if` is false.
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
        return tuple(c for c in self.codes if c not in MISSING_NAMES)

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

    def violations(self, frame) -> pd.Series:  # noqa: F821 - pandas imported lazily
        """Boolean Series: True in the rows that violate the rule (never for builtin rules
        without a `require`).

        Example:
            >>> import pandas as pd
            >>> rule = load_instrument().rule("physicians_le_persons_data")
            >>> frame = pd.DataFrame({"n_physicians": [2, 9, -9], "n_persons_data": [5, 4, 3]})
            >>> rule.violations(frame).tolist()
            [False, True, False]
        """
        import pandas as pd

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


@dataclass(frozen=True)
class Instrument:
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


class _Builder:
    """Turns the parsed YAML into an Instrument, checking everything on the way."""

    def __init__(self, data: Any, source: str):
        self.data = data
        self.source = source

    def fail(self, where: str, problem: str):
        raise InstrumentError(f"{self.source}: {where}: {problem}")

    # -- small helpers ------------------------------------------------------------------

    def text(self, where: str, raw: Mapping, stem: str) -> Label:
        values = []
        for lang in ("de", "en"):
            v = raw.get(f"{stem}_{lang}")
            if not isinstance(v, str) or not v.strip():
                self.fail(where, f"missing {stem}_{lang}")
            values.append(v)
        return Label(*values)

    def codes(self, where: str, raw: Any, *, allow_exclusive: bool = False):
        if not isinstance(raw, dict) or not raw:
            self.fail(where, "codes must be a non-empty mapping of code -> {label_de, label_en}")
        codes: dict[Code, Label] = {}
        exclusive: dict[Code, bool] = {}
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
            unknown = (
                set(spec) - {"label_de", "label_en"} - ({"exclusive"} if allow_exclusive else set())
            )
            if unknown:
                self.fail(where, f"code {code!r} has unknown key(s) {sorted(unknown)}")
            codes[code] = Label(spec["label_de"], spec["label_en"])
            exclusive[code] = bool(spec.get("exclusive", False))
        for lang in ("de", "en"):
            labels = [lab.get(lang) for lab in codes.values()]
            dupes = sorted({x for x in labels if labels.count(x) > 1})
            if dupes:
                self.fail(where, f"label_{lang} {dupes[0]!r} is used for more than one code")
        return codes, exclusive

    def condition(self, where: str, what: str, text: Any) -> Condition:
        try:
            return parse_condition(text)
        except ConditionError as exc:
            self.fail(where, f"{what}: {exc}")

    # -- parts --------------------------------------------------------------------------

    def build(self) -> Instrument:
        data = self.data
        if not isinstance(data, dict):
            self.fail("top level", "an instrument must be a YAML mapping")
        head = data.get("instrument")
        if not isinstance(head, dict) or not head.get("name") or not head.get("version"):
            self.fail("instrument", "needs 'name' and 'version'")
        meta = data.get("meta") or {}
        title = self.text("meta", meta, "title")

        missing_codes = self.missing_codes(data.get("missing_codes"))
        sections = {}
        for code, spec in (data.get("sections") or {}).items():
            sections[str(code)] = Section(
                str(code), self.text(f"section {code}", spec or {}, "title")
            )
        if not sections:
            self.fail("sections", "at least one section is needed")

        metadata = tuple(self.meta_column(i, m) for i, m in enumerate(data.get("metadata") or []))
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            self.fail("items", "must be a non-empty list")

        names: dict[str, str] = {m.var: "metadata column" for m in metadata}
        if len(names) != len(metadata):
            self.fail("metadata", "duplicate metadata column")
        items: list[Item] = []
        for pos, raw in enumerate(raw_items, start=1):
            item = self.item(pos, raw, sections)
            for col in {item.var, *item.columns}:
                if col in names:
                    self.fail(
                        f"item {item.var!r}", f"duplicate variable {col!r} (already a {names[col]})"
                    )
                names[col] = f"variable of item {pos}"
            items.append(item)
        self.check_conditions(items)

        derived = tuple(self.derived(d, names) for d in data.get("derived") or [])
        rules = self.rules(data.get("rules") or [], items)
        hypotheses = data.get("hypotheses") or {}
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
        )

    def missing_codes(self, raw) -> Mapping[int, MissingCode]:
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
                "missing_codes", f"unknown missing code(s) {sorted(extra)}; only -7, -8, -9 exist"
            )
        return MappingProxyType(out)

    def meta_column(self, pos: int, raw) -> MetaColumn:
        if not isinstance(raw, dict) or not isinstance(raw.get("var"), str):
            self.fail(f"metadata[{pos}]", "needs 'var'")
        where = f"metadata column {raw['var']!r}"
        if raw.get("type") not in META_TYPES:
            self.fail(
                where, f"unknown type {raw.get('type')!r} (expected one of {', '.join(META_TYPES)})"
            )
        val = raw.get("validation") or {}
        return MetaColumn(
            raw["var"], raw["type"], self.text(where, raw, "text"), val.get("min"), val.get("max")
        )

    def item(self, pos: int, raw, sections) -> Item:
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
        unknown = set(raw) - _ITEM_KEYS
        if unknown:
            self.fail(where, f"unknown key(s) {sorted(unknown)}")
        kind = raw.get("type")
        if kind not in ITEM_TYPES:
            self.fail(
                where, f"unknown item type {kind!r} (expected one of {', '.join(ITEM_TYPES)})"
            )
        if raw.get("section") not in sections:
            self.fail(
                where, f"unknown section {raw.get('section')!r} (sections: {', '.join(sections)})"
            )
        text = self.text(where, raw, "text")
        required = bool(raw.get("required", False))
        validation = raw.get("validation") or {}
        if not isinstance(validation, dict):
            self.fail(where, "validation must be a mapping")

        codes: dict[Code, Label] = {}
        options: tuple[Option, ...] = ()
        lo = hi = max_length = max_select = None
        if kind in ("single", "multi", "likert5"):
            if "codes" not in raw:
                self.fail(where, f"a {kind} item needs codes")
            codes, exclusive = self.codes(where, raw["codes"], allow_exclusive=(kind == "multi"))
        elif "codes" in raw:
            self.fail(where, f"a {kind} item has no codes")

        if kind == "single":
            kinds = {type(c) for c in codes if c not in MISSING_NAMES}
            if len(kinds) > 1:
                self.fail(where, "codes mix integers and strings")
            for c in codes:
                if isinstance(c, int) and c < 0 and c not in (DONT_KNOW, NO_ANSWER):
                    self.fail(
                        where,
                        f"code {c} is reserved (negative codes other than -8/-9 are not answers)",
                    )
        if kind == "likert5" and sorted(codes) != [1, 2, 3, 4, 5]:
            self.fail(
                where, f"a likert5 item needs exactly the codes 1..5, got {sorted(codes, key=str)}"
            )
        if kind == "multi":
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
        elif "max_select" in raw:
            self.fail(where, "max_select is only for multi-choice items")
        if kind == "integer":
            lo, hi = validation.get("min"), validation.get("max")
            for name, v in (("min", lo), ("max", hi)):
                if not isinstance(v, int) or isinstance(v, bool):
                    self.fail(
                        where, f"an integer item needs an integer validation.{name}, got {v!r}"
                    )
            if lo > hi:
                self.fail(where, f"validation.min {lo} is larger than validation.max {hi}")
            if lo < 0:
                self.fail(
                    where, f"validation.min {lo} would collide with the missing codes -7/-8/-9"
                )
        if kind == "text":
            max_length = validation.get("max_length")
            if not isinstance(max_length, int) or max_length < 1:
                self.fail(
                    where, f"a text item needs a positive validation.max_length, got {max_length!r}"
                )

        missing = self.item_missing(where, raw, kind, codes, required)
        ask_if = self.condition(where, "ask_if", raw["ask_if"]) if "ask_if" in raw else None
        prior = raw.get("prior")
        if prior is not None:
            self.check_prior(where, kind, prior, codes)
        return Item(
            var=var,
            section=raw["section"],
            type=kind,
            text=text,
            codes=MappingProxyType(codes),
            missing=missing,
            ask_if=ask_if,
            required=required,
            ordered=bool(raw.get("ordered", False)),
            options=options,
            min=lo,
            max=hi,
            max_length=max_length,
            max_select=max_select,
            prior=_freeze(prior),
            basis=raw.get("basis"),
            source=raw.get("source"),
            extra=_freeze({k: raw[k] for k in _EXTRA_KEYS if k in raw}),
        )

    def item_missing(self, where, raw, kind, codes, required) -> tuple[int, ...]:
        if kind == "text":
            if "missing" in raw:
                self.fail(where, "a text item has no missing codes (an empty text is no answer)")
            return ()
        missing = raw.get("missing")
        if not isinstance(missing, list):
            self.fail(
                where,
                "missing must list the missing codes allowed when asked ([] / [-9] / [-8, -9])",
            )
        for m in missing:
            if m not in (DONT_KNOW, NO_ANSWER):
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

    def check_prior(self, where, kind, prior, codes):
        if not isinstance(prior, dict):
            self.fail(where, "prior must be a mapping")
        if kind in ("single", "likert5", "multi"):
            unknown = [k for k in prior if k not in codes]
            if unknown:
                self.fail(where, f"prior has code {unknown[0]!r}, which is not one of the codes")
        if kind in ("single", "likert5"):
            total = sum(prior.values())
            if abs(total - 100) > 0.5:
                self.fail(where, f"prior must sum to 100 over the codes, sums to {total:g}")

    def check_conditions(self, items: list[Item]):
        """ask_if may only read EARLIER items, with literals that match their codes."""
        position = {}
        columns: dict[str, tuple[int, Item]] = {}
        for pos, item in enumerate(items):
            position[item.var] = pos
            for col in item.columns:
                columns[col] = (pos, item)
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
                        f"(item {ref_pos + 1}, this is item {pos + 1})",
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
        for var, literals in cond.literals().items():
            ref = columns[var][1]
            for lit in literals:
                self.check_literal(where, what, var, ref, lit)

    def check_literal(self, where, what, var, ref: Item, lit):
        missing = tuple(MISSING_NAMES)
        if ref.type == "multi":
            allowed = (0, 1, NOT_APPLICABLE, NO_ANSWER)
            if lit not in allowed or isinstance(lit, str):
                self.fail(
                    where,
                    f"{what} compares multi-choice column {var!r} with {lit!r} (it holds 0, 1, -7, -9)",
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
        if ref.type in ("single", "likert5") and lit not in ref.codes and lit not in missing:
            codes = ", ".join(str(c) for c in ref.codes)
            self.fail(
                where,
                f"{what} uses code {lit} of {var!r}, which is not one of its codes ({codes}) or -7/-8/-9",
            )

    def rules(self, raw_rules, items: list[Item]) -> tuple[Rule, ...]:
        columns = {}
        position = {}
        for pos, item in enumerate(items):
            position[item.var] = pos
            for col in item.columns:
                columns[col] = (pos, item)
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
            codes, _ = self.codes(where, raw["codes"])
        if not isinstance(raw.get("rule"), str):
            self.fail(where, "needs a 'rule' describing the computation")
        rng = raw.get("range")
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
        }
        return Derived(
            var=var,
            type=str(raw.get("type", "number")),
            text=self.text(where, raw, "text"),
            rule=raw["rule"].strip(),
            inputs=tuple(raw.get("inputs") or ()),
            codes=MappingProxyType(codes),
            ordered=bool(raw.get("ordered", False)),
            range=tuple(rng) if rng is not None else None,
            computed_by=str(raw.get("computed_by", "schemas.derive")),
            prior=_freeze(raw.get("prior")),
            extra=_freeze({k: v for k, v in raw.items() if k not in known}),
        )


def parse_instrument(text: str, source: str = "<string>") -> Instrument:
    """Build and validate an Instrument from YAML text (`source` names it in errors).

    Example:
        >>> from pathlib import Path
        >>> path = Path(load_instrument().source)
        >>> parse_instrument(path.read_text(encoding="utf-8")).name
        'practice_security'
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(f"{source}: {where}: not valid YAML: {problem}") from exc
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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InstrumentError(f"{path}: instrument file not found") from exc
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return parse_instrument(text, source=str(path))
