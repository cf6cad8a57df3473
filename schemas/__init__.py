"""schemas: the questionnaire as code, and everything derived from it.

Imports nothing else of this project. The instrument YAML is the single source: the pandera
schema, the checks, the typed frame, the derived variables and the codebook are generated from it.

API
---
Instrument
    load_instrument(path=None) -> Instrument
        Load and validate an instrument YAML file, or a packaged one by name (default
        "practice_security", found with importlib.resources). A broken instrument raises
        InstrumentError naming the file, the item and the problem.
    parse_instrument(text, source="<string>") -> Instrument
    Instrument: .name .version .title .items .rules .derived .metadata .missing_codes .sections
        .columns (raw export columns in order, multi-choice as <var>__<option>), .variables,
        .item(var), .likert_items, .multi_columns(var), .column_item(column), .rule(id),
        .derived_variable(var); format 2 adds .format .scales .missing_set {code: kind}
        .not_applicable .no_answer .dont_know .refused .missing_categories .rating_items
        (see schemas/instruments/pharmacy_staff.yaml; `format:` absent = 1, today's rules)
    Item: .var .section .type (single|multi|integer|likert5|text; format 2 also
        number|scale|date|datetime) .text (Label) .codes
        {code: Label(de, en)} .missing (allowed -8/-9) .ask_if (Condition|None) .required
        .ordered .options (multi) .min .max .max_length .max_select .prior .basis .source
        .columns .substantive_codes .string_codes .label(code, lang); format 2: .unit
        .decimals .scale .grid .stem .reverse .specify .specify_for .missing_set
    Rule: .id .severity (hard|soft) .when .require (Condition) .builtin .message (Label)
        .violations(frame) -> bool Series

Conditions (skip logic and rules; a safe grammar, never eval)
    parse_condition(text) -> Condition; Condition.variables, Condition.evaluate(frame)

Checks on the RAW coded frame (Int64 codes, str state codes/text, -7/-8/-9 as codes)
    raw_dtypes(inst) -> {column: dtype}
    coerce_raw(frame, inst, decimal="auto") -> (coerced, problems)  # text export -> raw dtypes
    value_kinds(inst), parse_column(text, inst, column)          # which schemas.values parser
    (schemas.values: the one parser of export text; schemas._yaml: the one YAML loader)
    response_schema(inst) -> pandera DataFrameSchema             # hard checks only
    check_specs(inst) -> tuple[CheckSpec]                        # every check, hard and soft
    soft_rules(inst) -> tuple[CheckSpec]                         # flags, never rejections
    check_masks(frame, inst) -> {name: bool Series}              # the same checks as pandas masks
    split_check(failure_cases_check) -> (name, description)

Population margins
    load_population_margins(name="de_practices") -> {margin: count Series with source/year attrs}

Study (everything study-specific, declared: see schemas/study.py for the format)
    load_study(path=None) -> Study      # None: packaged practice study; a study YAML; an
                                        # instrument YAML or Instrument: instrument-only study
    Study: .name .format .source .title(lang) .languages .instrument .simulated .meta
        .population (.margins) .design (.strata .psu .fpc .base_weight .lonely_psu
        .strata_file .margin) .weighting (.rake [RakeStep margin variables collapse counts]
        .poststratify .trim) .derived (DerivedVariable, instrument's then study's) .analysis
        (.outcomes .domains .groups .models .blocks .controls .published) .disclosure
        (.min_cell .protection) .fieldwork (.targets) .report (.min_cell .pages .extra_pages)
    StudyError (a DeclarationError): one line naming file, key, problem and fix

Analysis frame and derived variables
    to_typed(frame, inst, lang="de", dont_know="missing") -> DataFrame
    scores(typed_frame, inst, items=None) -> DataFrame     # rating items as their codes, in one call
        labelled categoricals, Int64, boolean option columns, and <var>__missing
        (not_applicable / dont_know / no_answer) beside every item that can be missing
    derive(frame, inst_or_study, lang=None, variables=None) -> DataFrame
        the derived variables THAT declaration declares with `compute:` (instrument's, and
        the study's for a Study), from the raw coded frame; none declared -> no columns
    parse_expression(text) -> Expression   # the safe arithmetic of `expr:` (never eval)

Codebook
    codebook(inst, lang="de", fmt="md") -> str                   # fmt "md" or "html"

Modules: conditions (grammar), instrument (dataclasses, loading, self-validation), response
(checks and the pandera schema), typed (analysis frame), derived (derived variables), codebooks,
instruments/*.yaml (the questionnaires); populations is the weighting margins (separate owner).
"""

from .codebooks import codebook
from .conditions import Condition, ConditionError, parse_condition
from .derived import DerivedError, DerivedVariable, derive
from .expressions import ExpressionError, parse_expression
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
    Scale,
    Section,
    load_instrument,
    parse_instrument,
)
from .populations import load_population_margins
from .response import (
    CheckSpec,
    check_masks,
    check_specs,
    coerce_raw,
    parse_column,
    raw_dtypes,
    response_schema,
    soft_rules,
    split_check,
    value_kinds,
)
from .study import Study, StudyError, load_study, study_of_instrument
from .typed import MISSING_CATEGORIES, missing_column, scores, to_typed

__all__ = [
    "DONT_KNOW",
    "MISSING_CATEGORIES",
    "NOT_APPLICABLE",
    "NO_ANSWER",
    "CheckSpec",
    "Condition",
    "ConditionError",
    "Derived",
    "DerivedError",
    "DerivedVariable",
    "ExpressionError",
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
    "Study",
    "StudyError",
    "check_masks",
    "check_specs",
    "codebook",
    "coerce_raw",
    "derive",
    "load_instrument",
    "load_population_margins",
    "load_study",
    "missing_column",
    "parse_column",
    "parse_condition",
    "parse_expression",
    "parse_instrument",
    "raw_dtypes",
    "response_schema",
    "scores",
    "soft_rules",
    "split_check",
    "study_of_instrument",
    "to_typed",
    "value_kinds",
]
