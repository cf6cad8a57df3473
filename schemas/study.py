"""The study declaration: everything study-specific, declared once in YAML, validated on load.

A study names its instrument and says who the population is (margins, each with source and
year), how the sample was drawn (design), how it is weighted, which analysis variables it derives
from the answers, what it estimates (outcomes, domains, models, blocks), what may be published
(disclosure) and how the report looks. Code under surveydata/ and analysis/ reads the Study;
none of it names a variable of a particular study.

``load_study(path=None)`` returns a frozen :class:`Study`: None -> the packaged practice study
(schemas/studies/practice_security.yaml, the demo's), a study YAML, or an instrument YAML (or an
Instrument): an *instrument-only* study with no population, design or weighting, whose results
are unweighted and labelled so. Every problem is a :class:`StudyError` (a DeclarationError),
one line: ``<file>: <key>: <problem>; <fix>``.

Format (``format: 1``; top-level keys fixed, every key below checked, unknown keys are errors)::

    format: 1
    study:
      name: my_study                      # letters, digits, _
      title: {de: "...", en: "..."}       # one text per language
      instrument: my_instrument           # packaged instrument name, or a path relative to this file
      languages: [en, de]                 # editions; the first is the default
      unit: {de: Praxis, en: practice}    # what one response stands for      (optional)
      fieldwork: {start: 2023-03-01, end: 2023-05-31, mode: online}          (optional)
      authors: ["..."]; publisher: "..."; citation: {..}; data_note: {..}     (optional)
      simulated: false                    # true: every report page says "simulated data"
    population:                           # optional: without it, no weighting to margins
      unit: practice
      total: 141655                       # optional; every margin must sum to it
      margins: de_practices               # packaged margins file (schemas/populations/), a path
                                          # relative to this file, or inline tables:
      # margins:
      #   role: {variables: [role], counts: {1: 5000, 2: 3000}, source: "...", year: 2024,
      #          stand_in: true}          # stand_in: invented or proxy numbers
      #   role_x_region: {variables: [role, region], counts: [[1, N, 1200], [1, S, 800], ...], ...}
    design:                               # optional: without it, unweighted, labelled so
      strata: [practice_type, federal_state]   # items; raw codes joined with "-" = stratum key
      stratum_sizes: {file: strata.csv, margin: practice_type_x_federal_state}
                                          # N_h from a file beside the export (stratum, N_h
                                          # [, n_invited]), else from this population margin
      psu: null                           # cluster column, or null
      fpc: N_h                            # N_h or null
      base_weight: inverse_sampling_fraction   # w = N_h / n_h; or "equal"
      lonely_psu: adjust                  # adjust | average | certainty | remove | fail
    weighting:                            # optional; needs population and design
      rake:                               # raking steps, each to one margin
        - margin: practice_type_x_form
          variables: [practice_type, practice_form]    # the margin's variables, in its order
          collapse: {practice_form: {4: 1}}            # answer code -> margin category
      poststratify: null                  # or one step like a rake step
      trim: {quantiles: [0.01, 0.99], strict: true}
    derived:                              # analysis variables (see schemas.derived):
      - var: guideline_full               # var, compute, and optionally type, label, codes,
        label: {de: "...", en: "..."}     # ordered, note
        compute: {indicator: guideline_implementation, codes: [1]}
    analysis:
      outcomes: [{var: guideline_full, kind: share, label: {..}}]   # kind: share | mean
      domains: [practice_type, kbv_size_class]
      groups: {technical: [tm_antivirus_full, ...]}   # named lists of variables for tables
                                      # (or {label: {de, en}, variables: [...]} with a heading)
      models:
        - {name: incident, formula: "y ~ x + C(z)", family: binomial, offset: null, label: {..}}
      blocks: {information: [training_all, ...], equipment: [...]}  # terms compared
                                      # (or {label: {de, en}, terms: [...]} with a heading)
      controls: ["C(kbv_size_class)"]
      published: {guideline_full: {value: 0.3333, source: "..."}}  # figures shown beside ours
      imputation:                         # optional: multiple imputation of item nonresponse
        variables: [guideline_full]       # imputed, each shown against complete cases
        missing: [dont_know, no_answer]   # which missing answers are imputed (default both;
                                          # "not asked" is never imputed)
        predictors: [practice_type, tech_share]   # complete variables of the imputation model
        m: 20                             # completed data sets (default 20)
        seed: 20261204                    # the imputations' random seed (default 1)
        models: [incident]                # planned models also fitted on the imputed data
                                          # (their variables' missing answers imputed)
    disclosure: {min_cell: 5, protection: {lower: 0.3, upper: 0.3}}
    fieldwork: {targets: {by: practice_type, response_rate: 0.2}}
    report: {min_cell: 5, pages: [generic], extra_pages: [05_information_vs_equipment.ipynb]}
    simulation: {parameters: .., frame: .., steps: [..], response: .., truth: ..}
                                          # optional: the population model the simulator runs
                                          # (format: surveydata.simulate.engine; checked by
                                          # schemas.simulation)

Only ``format`` and ``study`` are required. Formulas may name items, option columns, derived
variables (instrument's and study's) and the functions C(), I(), log(), np.log(), Q(); each name
must exist. Families: binomial, quasibinomial, poisson, quasipoisson, gaussian, ordinal
(and the aliases logistic, linear, proportional_odds, olr).

Example:
    >>> import schemas
    >>> study = schemas.load_study()
    >>> study.name, study.languages, study.design.strata
    ('practice_security', ('en', 'de'), ('practice_type', 'federal_state'))
    >>> [s.margin for s in study.weighting.rake]
    ['practice_type_x_form', 'federal_state']
    >>> study.analysis.models[0].family, study.source is None     # packaged
    ('quasibinomial', True)
    >>> plain = schemas.load_study(schemas.load_instrument().source)   # instrument only
    >>> plain.design is None, plain.weighting is None
    (True, True)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ._yaml import read_yaml
from .derived import DerivedError, DerivedVariable, compile_entries, compile_instrument
from .errors import DeclarationError, StudyError
from .instrument import LANGUAGES, Instrument, Label, load_instrument
from .populations import load_population_margins
from .simulation import parse_simulation

__all__ = [
    "FAMILIES",
    "AnalysisPlan",
    "DesignSpec",
    "DisclosurePolicy",
    "FieldworkSpec",
    "ImputationSpec",
    "ModelSpec",
    "Outcome",
    "Population",
    "Published",
    "RakeStep",
    "ReportSpec",
    "Study",
    "StudyError",
    "TrimSpec",
    "WeightingSpec",
    "load_study",
    "study_of_instrument",
]

DEFAULT_STUDY = "practice_security"
FORMATS = (1,)
_YEAR = re.compile(r"\b(1[89]|2[0-9])[0-9]{2}\b")  # a year a text names (e.g. "2022/23")
FAMILIES = ("binomial", "quasibinomial", "poisson", "quasipoisson", "gaussian", "ordinal",
            "logistic", "linear", "proportional_odds", "olr")
LONELY_PSU = ("adjust", "average", "certainty", "remove", "fail")
BASE_WEIGHTS = ("inverse_sampling_fraction", "equal")
OUTCOME_KINDS = ("share", "mean")
IMPUTED_MISSING = ("dont_know", "no_answer")  # missing answers that may be imputed
#: names a formula may use that are not variables
FORMULA_FUNCTIONS = {"C", "I", "Q", "log", "np", "exp", "sqrt", "Treatment", "Sum", "Diff",
                     "Poly", "Helmert", "center", "standardize", "scale", "bs", "cr",
                     "reference", "levels", "df", "degree"}  # the last: keyword arguments
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TOP = ("format", "study", "population", "design", "weighting", "derived", "analysis",
        "disclosure", "fieldwork", "report", "simulation")


# --------------------------------------------------------------------------- the Study


@dataclass(frozen=True)
class Population:
    """Who the sample stands for: `margins` {name: count Series (index named by the margin's
    variables; attrs source, year, stand_in)}, the `unit` and the `total`."""

    name: str
    unit: str | None
    total: int | None
    margins: Mapping[str, pd.Series]


@dataclass(frozen=True)
class DesignSpec:
    """How the sample was drawn: strata items, cluster column, fpc, base weight, lonely PSUs;
    N_h from `strata_file` beside the export or from the population margin `margin`."""

    strata: tuple[str, ...]
    psu: str | None
    fpc: str | None
    base_weight: str
    lonely_psu: str
    strata_file: str | None
    margin: str | None


@dataclass(frozen=True)
class RakeStep:
    """One margin to rake (or post-stratify) to: its `variables` (items), answer-code
    `collapse` per variable {code: margin category}, and the population `counts`."""

    margin: str
    variables: tuple[str, ...]
    collapse: Mapping[str, Mapping[Any, Any]]
    counts: pd.Series = field(repr=False)


@dataclass(frozen=True)
class TrimSpec:
    quantiles: tuple[float, float]
    strict: bool


@dataclass(frozen=True)
class WeightingSpec:
    rake: tuple[RakeStep, ...]
    poststratify: RakeStep | None
    trim: TrimSpec | None


@dataclass(frozen=True)
class Outcome:
    var: str
    kind: str  # share | mean
    label: Label | None = None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    formula: str
    family: str
    label: Label | None = None
    offset: str | None = None

    @property
    def response(self) -> str:
        return self.formula.split("~", 1)[0].strip()


@dataclass(frozen=True)
class Published:
    value: float
    source: Label        # one text for both languages, or {de, en}


@dataclass(frozen=True)
class ImputationSpec:
    """Which variables' missing answers are multiply imputed (``missing``: dont_know and/or
    no_answer; an item not asked stays missing), from which complete ``predictors``, with ``m``
    completed data sets and ``seed``; ``models``: planned models (by name) also fitted with the
    missing answers of their variables imputed."""

    variables: tuple[str, ...]
    predictors: tuple[str, ...] = ()
    missing: tuple[str, ...] = IMPUTED_MISSING
    m: int = 20
    seed: int = 1
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisPlan:
    """What the study estimates. Empty for an instrument-only study."""

    outcomes: tuple[Outcome, ...] = ()
    domains: tuple[str, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    models: tuple[ModelSpec, ...] = ()
    blocks: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    controls: tuple[str, ...] = ()
    published: Mapping[str, Published] = field(default_factory=lambda: MappingProxyType({}))
    imputation: ImputationSpec | None = None
    #: headings of groups and blocks where the declaration gives them ({name: Label})
    group_labels: Mapping[str, Label] = field(default_factory=lambda: MappingProxyType({}))
    block_labels: Mapping[str, Label] = field(default_factory=lambda: MappingProxyType({}))

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no planned model {name!r} ({', '.join(m.name for m in self.models)})")


@dataclass(frozen=True)
class DisclosurePolicy:
    """Minimum cell size k (respondents) and tau-Argus protection levels (lower, upper) as shares
    of k: an attacker's interval for a suppressed cell must reach that far below and above it.
    Omitted levels default to 0.3 of k, the report's default protection."""

    min_cell: int = 5
    protection: tuple[float, float] = (0.3, 0.3)  # (lower, upper)


@dataclass(frozen=True)
class FieldworkSpec:
    targets: Mapping[str, Any]


@dataclass(frozen=True)
class ReportSpec:
    min_cell: int = 5
    pages: tuple[str, ...] = ("generic",)
    extra_pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    """A validated study declaration. Build it with :func:`load_study`."""

    name: str
    format: int
    source: Path | None
    titles: Mapping[str, str]
    languages: tuple[str, ...]
    instrument: Instrument = field(repr=False)
    simulated: bool
    meta: Mapping[str, Any]
    population: Population | None
    design: DesignSpec | None
    weighting: WeightingSpec | None
    derived: tuple[DerivedVariable, ...] = field(repr=False)
    analysis: AnalysisPlan
    disclosure: DisclosurePolicy
    fieldwork: FieldworkSpec | None
    report: ReportSpec
    simulation: Any = field(default=None, repr=False)   # schemas.simulation.SimulationSpec

    def title(self, lang: str | None = None) -> str:
        """The title in `lang` (default: the study's first language).

        >>> load_study().title("en")
        'IT security in physician, dental and psychotherapy practices'
        """
        lang = lang or self.languages[0]
        if lang not in self.titles:
            raise StudyError(f"study {self.name!r} has no title in {lang!r} "
                             f"(languages: {', '.join(self.languages)})")
        return self.titles[lang]

    @property
    def weighted(self) -> bool:
        """True when the study declares a design (results are then design-weighted)."""
        return self.design is not None

    def derived_variable(self, var: str) -> DerivedVariable:
        for d in self.derived:
            if d.var == var:
                return d
        raise KeyError(f"study {self.name!r} has no derived variable {var!r}")


# --------------------------------------------------------------------------- reading


class _Reader:
    """Checks one declaration, naming file and key in every message."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str):
        raise StudyError(f"{self.source}: {key}: {problem}")

    def mapping(self, key: str, value, allowed: Sequence[str], required: Sequence[str] = ()) -> dict:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a mapping (key: value), got {_kind(value)}")
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.fail(f"{key}.{k}" if key else str(k), f"unknown key; {hint}")
        for k in required:
            if value.get(k) is None:
                self.fail(f"{key}.{k}" if key else k, "is required")
        return dict(value)

    def text(self, key: str, value, *, optional=False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty text, got {_kind(value)}")
        return value

    def name(self, key: str, value) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            self.fail(key, f"must be a name (letters, digits, _), got {value!r}")
        return value

    def boolean(self, key: str, value, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {value!r}")
        return value

    def integer(self, key: str, value, *, minimum: int = 0, default=None):
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, f"must be a whole number >= {minimum}, got {value!r}")
        return value

    def number(self, key: str, value, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            self.fail(key, f"must be a number from {lo} to {hi}, got {value!r}")
        return float(value)

    def names(self, key: str, value, *, allow_empty=False) -> tuple[str, ...]:
        if value is None and allow_empty:
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence) or (not value and not allow_empty):
            self.fail(key, f"must be a list of names, got {_kind(value)}")
        out = tuple(self.name(f"{key}[{i}]", v) for i, v in enumerate(value))
        dup = sorted({v for v in out if out.count(v) > 1})
        if dup:
            self.fail(key, f"lists {dup[0]!r} twice")
        return out

    def texts(self, key: str, value, languages: Sequence[str], *, optional=False):
        """A text per language ({de: .., en: ..}) or one text for all."""
        if value is None and optional:
            return None
        if isinstance(value, str):
            return dict.fromkeys(languages, value)
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a text or a mapping language -> text, got {_kind(value)}")
        for k, v in value.items():
            if k not in LANGUAGES:
                self.fail(f"{key}.{k}", f"unknown language; languages: {', '.join(LANGUAGES)}")
            self.text(f"{key}.{k}", v)
        missing = [lang for lang in languages if lang not in value]
        if missing:
            self.fail(key, f"has no text in {missing[0]!r}; add {missing[0]}: \"...\"")
        return dict(value)

    def label(self, key: str, value, languages) -> Label | None:
        texts = self.texts(key, value, languages, optional=True)
        if texts is None:
            return None
        first = next(iter(texts.values()))
        return Label(texts.get("de", first), texts.get("en", first))


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (str, int, float, bool)):
        return f"{type(value).__name__} {value!r}"[:80]
    return type(value).__name__


def _freeze(value):
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class _StudyPart:
    """The declaration's key groups, one class each; they share the reader `r`, the
    declaration's `source` and `base` folder, and (once read) its instrument `inst`."""

    r: _Reader
    source: str
    base: Path | None
    inst: Instrument
    _derived: tuple[DerivedVariable, ...]


class _Meta(_StudyPart):
    """`study:` - name, title, languages, instrument and the descriptive fields."""

    def languages(self, value) -> tuple[str, ...]:
        if value is None:
            return ("en", "de")
        langs = self.r.names("study.languages", value)
        for i, lang in enumerate(langs):
            if lang not in LANGUAGES:
                self.r.fail(f"study.languages[{i}]", f"{lang!r} is not a language instrument texts "
                                                     f"exist in ({', '.join(LANGUAGES)})")
        return langs

    def instrument(self, value) -> Instrument:
        r = self.r
        r.text("study.instrument", value)
        try:
            if re.fullmatch(r"[A-Za-z0-9_\-]+", value):
                return _instrument(value)
            path = Path(value)
            if not path.is_absolute() and self.base is not None:
                path = self.base / path
            return _instrument(path)
        except DeclarationError as err:
            raise StudyError(f"{self.source}: study.instrument: {err}") from None

    def meta(self, info: dict, languages) -> dict:
        r = self.r
        meta = {}
        if info.get("unit") is not None:
            meta["unit"] = r.texts("study.unit", info["unit"], languages)
        if info.get("fieldwork") is not None:
            fw = r.mapping("study.fieldwork", info["fieldwork"], ("start", "end", "mode"))
            meta["fieldwork"] = {k: str(v) for k, v in fw.items() if v is not None}
            if "start" in fw and "end" in fw and str(fw["start"]) > str(fw["end"]):
                r.fail("study.fieldwork", f"starts ({fw['start']}) after it ends ({fw['end']})")
        if info.get("authors") is not None:
            authors = info["authors"]
            if isinstance(authors, str) or not isinstance(authors, Sequence):
                r.fail("study.authors", f"must be a list of names, got {_kind(authors)}")
            meta["authors"] = [r.text(f"study.authors[{i}]", a) for i, a in enumerate(authors)]
        if info.get("publisher") is not None:
            meta["publisher"] = r.text("study.publisher", info["publisher"])
        for key in ("citation", "data_note"):
            if info.get(key) is not None:
                meta[key] = r.texts(f"study.{key}", info[key], languages)
        return meta


class _Codes(_StudyPart):
    """Items as margin/strata variables, and population margins named by other keys."""

    def item_codes(self, at: str, var: str) -> list:
        """Substantive codes of item `var` (StudyError when it is not an item with codes)."""
        try:
            item = self.inst.item(var)
        except KeyError:
            close = difflib.get_close_matches(var, self.inst.variables, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.r.fail(at, f"{var!r} is not an item of instrument {self.inst.name!r}{hint}")
        codes = list(item.substantive_codes)
        if not codes or item.type == "multi":
            self.r.fail(at, f"{var!r} is a {item.type} item; margins and strata need an item "
                            "with one coded answer")
        return codes

    def check_margin(self, at: str, name: str, counts: pd.Series, collapse=None) -> None:
        """Every level is an item; every category a code of it; every code (after collapse)
        has a category, so that each respondent falls into a cell."""
        collapse = collapse or {}
        for level, var in enumerate(counts.index.names):
            codes = self.item_codes(f"{at} (margin {name!r})", var)
            cats = list(counts.index.get_level_values(level).unique())
            unknown = [c for c in cats if c not in codes]
            if unknown:
                self.r.fail(at, f"margin {name!r} has category {unknown[0]!r} of {var!r}, which is "
                                f"not a code of the item (codes: {', '.join(map(str, codes))})")
            folded = {collapse.get(var, {}).get(c, c) for c in codes}
            uncovered = sorted((c for c in folded if c not in cats), key=str)
            if uncovered:
                self.r.fail(at, f"answer {uncovered[0]!r} of {var!r} has no category in margin "
                                f"{name!r}; add it, or map it with collapse: {{{var}: {{{uncovered[0]}: "
                                f"<category>}}}}")

    def margin(self, at: str, name, population) -> pd.Series:
        if population is None:
            self.r.fail(at, f"names margin {name!r}, but the study declares no population: "
                            "add population: {margins: ...}")
        if name not in population.margins:
            close = difflib.get_close_matches(str(name), list(population.margins), n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                f"margins: {', '.join(population.margins)}"
            self.r.fail(at, f"no population margin {name!r}; {hint}")
        return population.margins[name]


class _Population(_Codes):
    """`population:` - the margins (a packaged or own file, or inline tables) and total."""

    def population(self, value) -> Population | None:
        if value is None:
            return None
        r = self.r
        pop = r.mapping("population", value, ("margins", "unit", "total"), required=("margins",))
        total = r.integer("population.total", pop.get("total"), minimum=1)
        unit = r.text("population.unit", pop.get("unit"), optional=True)
        spec = pop["margins"]
        if isinstance(spec, str):
            margins, name, inline = self.margins_file(spec), spec, False
        elif isinstance(spec, Mapping) and spec:
            margins, name, inline = self.margins_inline(spec), "inline", True
        else:
            r.fail("population.margins", f"must be a margins file name or path, or tables "
                                         f"{{name: {{variables, counts, source, year}}}}, got {_kind(spec)}")
        for key, counts in margins.items():
            if inline:
                self.check_margin(f"population.margins.{key}", key, counts)
            if total is not None and int(counts.sum()) != total:
                r.fail(f"population.margins.{key}", f"sums to {int(counts.sum())}, but "
                                                    f"population.total says {total}")
        self.consistent(margins)
        return Population(name, unit, total, MappingProxyType(margins))

    def consistent(self, margins: Mapping[str, pd.Series]) -> None:
        """A table by more variables must sum to every margin by fewer of them (raking to
        margins that disagree cannot converge)."""
        for small, a in margins.items():
            for big, b in margins.items():
                names_a, names_b = list(a.index.names), list(b.index.names)
                if small == big or not set(names_a) < set(names_b):
                    continue
                summed = b.groupby(level=names_a).sum()
                if summed.index.nlevels != a.index.nlevels:
                    continue
                summed = summed.reorder_levels(names_a) if len(names_a) > 1 else summed
                diff = [k for k in a.index.union(summed.index)
                        if a.get(k, 0) != summed.get(k, 0)]
                if diff:
                    k = diff[0]
                    self.r.fail(f"population.margins.{big}", f"sums to {summed.get(k, 0)} for "
                                f"{', '.join(names_a)} = {k!r}, but margin {small!r} says "
                                f"{a.get(k, 0)}; make the tables agree")

    def margins_file(self, spec: str) -> dict:
        try:
            if re.fullmatch(r"[A-Za-z0-9_\-]+", spec):
                margins = dict(load_population_margins(spec))
            else:
                path = Path(spec)
                if not path.is_absolute() and self.base is not None:
                    path = self.base / path
                margins = dict(load_population_margins(path=path))
            for m in margins.values():  # a proxy (e.g. population shares) stands in for counts
                m.attrs.setdefault("stand_in", m.attrs.get("basis") in ("proxy", "stand_in"))
            return margins
        except FileNotFoundError:
            self.r.fail("population.margins", f"no margins file {spec!r} (a packaged name in "
                                              f"schemas/populations/, or a path relative to the study)")
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, DeclarationError):
                raise StudyError(f"{self.source}: population.margins: {err}") from None
            self.r.fail("population.margins", f"{spec!r} is not a margins file this version reads "
                                              f"({type(err).__name__}: {err}); declare the tables inline")

    def margins_inline(self, spec: Mapping) -> dict:
        r = self.r
        out = {}
        for key, table in spec.items():
            at = f"population.margins.{key}"
            r.name(at, key)
            t = r.mapping(at, table, ("variables", "counts", "source", "year", "stand_in", "basis",
                                      "note"), required=("variables", "counts", "source", "year"))
            variables = r.names(f"{at}.variables", t["variables"])
            r.text(f"{at}.source", t["source"])
            year = t["year"]
            if isinstance(year, bool) or not isinstance(year, (int, str, list)) or not all(
                    isinstance(y, int) and not isinstance(y, bool) or isinstance(y, str)
                    and _YEAR.search(y) for y in (year if isinstance(year, list) else [year])):
                r.fail(f"{at}.year", f"must be a year or a list of years (e.g. 2024, [2022, 2024] "
                                     f"or \"2022/23\"), got {year!r}")
            counts = t["counts"]
            rows = []
            if len(variables) == 1 and isinstance(counts, Mapping):
                rows = [((k,), v) for k, v in counts.items()]
            elif isinstance(counts, Sequence) and not isinstance(counts, str):
                for i, row in enumerate(counts):
                    if (isinstance(row, str) or not isinstance(row, Sequence)
                            or len(row) != len(variables) + 1):
                        r.fail(f"{at}.counts[{i}]", f"must be [{', '.join(variables)}, count]")
                    rows.append((tuple(row[:-1]), row[-1]))
            else:
                r.fail(f"{at}.counts", "must be {category: count} (one variable) or rows "
                                       "[category, ..., count]")
            if not rows:
                r.fail(f"{at}.counts", "is empty")
            for cats, n in rows:
                if isinstance(n, bool) or not isinstance(n, (int, float)) or n < 0:
                    r.fail(f"{at}.counts", f"count of {list(cats)} must be a number >= 0, got {n!r}")
            index = pd.MultiIndex.from_tuples([c for c, _ in rows], names=list(variables)) \
                if len(variables) > 1 else pd.Index([c[0] for c, _ in rows], name=variables[0])
            if index.has_duplicates:
                r.fail(f"{at}.counts", f"lists category {index[index.duplicated()][0]!r} twice")
            s = pd.Series([n for _, n in rows], index=index, name="N")
            s = s.astype("int64") if all(float(n).is_integer() for _, n in rows) else s.astype(float)
            s.attrs.update(source=t["source"], year=year,
                           stand_in=r.boolean(f"{at}.stand_in", t.get("stand_in"), False),
                           basis=t.get("basis") or ("stand_in" if t.get("stand_in") else "published"))
            if t.get("note"):
                s.attrs["note"] = str(t["note"])
            out[key] = s
        return out


class _Design(_Codes):
    """`design:` - strata, stratum sizes, PSU, fpc, base weights."""

    def design(self, value, population) -> DesignSpec | None:
        if value is None:
            return None
        r = self.r
        d = r.mapping("design", value, ("strata", "stratum_sizes", "psu", "fpc", "base_weight",
                                        "lonely_psu"), required=("strata",))
        strata = r.names("design.strata", d["strata"])
        for i, var in enumerate(strata):
            self.item_codes(f"design.strata[{i}]", var)
        sizes = r.mapping("design.stratum_sizes", d.get("stratum_sizes"), ("file", "margin"))
        strata_file = r.text("design.stratum_sizes.file", sizes.get("file"), optional=True)
        margin = sizes.get("margin")
        if margin is not None:
            r.name("design.stratum_sizes.margin", margin)
            counts = self.margin("design.stratum_sizes.margin", margin, population)
            if tuple(counts.index.names) != strata:
                r.fail("design.stratum_sizes.margin", f"margin {margin!r} is by "
                       f"{', '.join(map(str, counts.index.names))}, the strata are by "
                       f"{', '.join(strata)}; name a margin with the strata variables in that order")
            self.check_margin("design.stratum_sizes.margin", margin, counts)
        psu = d.get("psu")
        if psu is not None:
            r.name("design.psu", psu)
            if psu not in self.inst.columns:
                r.fail("design.psu", f"{psu!r} is not a column of instrument {self.inst.name!r}")
        fpc = d.get("fpc")
        if fpc not in (None, "N_h"):
            r.fail("design.fpc", f"must be N_h (the stratum sizes) or null, got {fpc!r}")
        base = d.get("base_weight", "inverse_sampling_fraction")
        if base not in BASE_WEIGHTS:
            r.fail("design.base_weight", f"must be one of {', '.join(BASE_WEIGHTS)}, got {base!r}")
        lonely = d.get("lonely_psu", "adjust")
        if lonely not in LONELY_PSU:
            r.fail("design.lonely_psu", f"must be one of {', '.join(LONELY_PSU)}, got {lonely!r}")
        if strata_file is None and margin is None:
            r.fail("design.stratum_sizes", "needs file: (N_h beside the export) and/or margin: "
                                           "(N_h from the population margins)")
        return DesignSpec(strata, psu, fpc, base, lonely, strata_file, margin)


class _Weighting(_Codes):
    """`weighting:` - raking steps, post-stratification, trimming."""

    def step(self, at: str, value, population) -> RakeStep:
        r = self.r
        s = r.mapping(at, value, ("margin", "variables", "collapse"), required=("margin",))
        name = r.name(f"{at}.margin", s["margin"])
        counts = self.margin(f"{at}.margin", name, population)
        names = tuple(str(n) for n in counts.index.names)
        variables = r.names(f"{at}.variables", s.get("variables") or list(names))
        if variables != names:
            r.fail(f"{at}.variables", f"margin {name!r} is by {', '.join(names)}; list exactly "
                                      "those variables in that order")
        collapse_raw = r.mapping(f"{at}.collapse", s.get("collapse"), variables)
        collapse = {}
        for var, mapping in collapse_raw.items():
            if not isinstance(mapping, Mapping) or not mapping:
                r.fail(f"{at}.collapse.{var}", "must map answer codes to margin categories "
                                               "{code: category}")
            codes = self.item_codes(f"{at}.collapse.{var}", var)
            level = variables.index(var)
            cats = set(counts.index.get_level_values(level))
            for src, dst in mapping.items():
                if src not in codes:
                    r.fail(f"{at}.collapse.{var}", f"{src!r} is not a code of {var!r} "
                                                   f"(codes: {', '.join(map(str, codes))})")
                if dst not in cats:
                    r.fail(f"{at}.collapse.{var}", f"{dst!r} is not a category of margin {name!r}")
            collapse[var] = MappingProxyType(dict(mapping))
        self.check_margin(at, name, counts, collapse)
        return RakeStep(name, variables, MappingProxyType(collapse), counts)

    def weighting(self, value, population, design) -> WeightingSpec | None:
        if value is None:
            return None
        r = self.r
        w = r.mapping("weighting", value, ("rake", "poststratify", "trim"))
        if design is None:
            r.fail("weighting", "needs a design (base weights) to adjust: add design: or remove "
                                "weighting:")
        rake = w.get("rake") or []
        if isinstance(rake, (str, Mapping)) or not isinstance(rake, Sequence):
            r.fail("weighting.rake", f"must be a list of steps {{margin, variables, collapse}}, "
                                     f"got {_kind(rake)}")
        steps = tuple(self.step(f"weighting.rake[{i}]", s, population) for i, s in enumerate(rake))
        post = w.get("poststratify")
        post = self.step("weighting.poststratify", post, population) if post is not None else None
        trim = None
        if w.get("trim") is not None:
            t = r.mapping("weighting.trim", w["trim"], ("quantiles", "strict"), required=("quantiles",))
            q = t["quantiles"]
            if isinstance(q, str) or not isinstance(q, Sequence) or len(q) != 2:
                r.fail("weighting.trim.quantiles", f"must be [lower, upper], got {_kind(q)}")
            lo = r.number("weighting.trim.quantiles[0]", q[0], 0.0, 1.0)
            hi = r.number("weighting.trim.quantiles[1]", q[1], 0.0, 1.0)
            if lo >= hi:
                r.fail("weighting.trim.quantiles", f"lower {lo} must be below upper {hi}")
            trim = TrimSpec((lo, hi), r.boolean("weighting.trim.strict", t.get("strict"), True))
        return WeightingSpec(steps, post, trim)


class _Variables(_StudyPart):
    """`derived:`, and the names analysis keys may use (items, columns, derived variables)."""

    def derived(self, value, inst, languages=LANGUAGES) -> tuple[DerivedVariable, ...]:
        if isinstance(value, Sequence) and not isinstance(value, str):
            # labels are shown in every edition: a text per study language (or one for all)
            for i, entry in enumerate(value):
                if not isinstance(entry, Mapping):
                    continue
                at = f"derived[{i}] ({entry.get('var')})"
                if isinstance(entry.get("label"), Mapping):
                    self.r.texts(f"{at}.label", entry["label"], languages)
                if isinstance(entry.get("codes"), Mapping):
                    for code, lab in entry["codes"].items():
                        if isinstance(lab, Mapping):
                            self.r.texts(f"{at}.codes.{code}", lab, languages)
        try:
            own = compile_instrument(inst, where=f"{inst.source}: derived")
        except DerivedError as err:
            raise StudyError(f"{self.source}: study.instrument: {err}") from None
        if value is None:
            return own
        try:
            return compile_entries(value, inst, origin="study", where=f"{self.source}: derived",
                                   before=own)
        except DerivedError as err:
            raise StudyError(str(err)) from None

    def known(self, inst, derived) -> dict[str, str]:
        out = {c: "column" for c in inst.columns}
        out.update({v: "item" for v in inst.variables})
        out.update({d.var: "derived variable" for d in inst.derived})
        out.update({d.var: "derived variable" for d in derived})
        return out

    def binary(self, at: str, var) -> None:
        """A share outcome must be a 0/1 variable (its mean is the share): an indicator, an
        option column, or a recode/cases to 0 and 1; a score, count or coded answer is not."""
        if not isinstance(var, str):
            return
        derived = {d.var: d for d in self._derived}  # the instrument's and the study's, compiled
        fix = ("; derive a 0/1 indicator (compute: {indicator: ITEM, codes: [..]}) or use "
               "kind: mean")
        if var in derived:
            compute = dict(derived[var].compute)
            name = next(iter(compute), None)
            values = None
            if name == "recode" and isinstance(compute.get("map"), Mapping):
                values = list(compute["map"].values())
            elif name == "cases" and isinstance(compute.get("cases"), Sequence):
                values = [c.get("value") for c in compute["cases"] if isinstance(c, Mapping)]
            if name in ("mean", "sum", "ratio", "zmean", "count", "count_valid", "n_ticked",
                        "reverse", "bins") or (values is not None and not set(values) <= {0, 1}):
                self.r.fail(at, f"share of {var!r}, which is not a 0/1 variable ({name}){fix}")
            return
        try:
            item = self.inst.item(var)
        except KeyError:
            return  # an option column (0/1), or an unknown name reported by variable()
        if item.type != "multi":
            self.r.fail(at, f"share of {var!r}, a {item.type} item with answers other than 0/1"
                            f"{fix}")

    def analysable(self, at: str, var: str) -> None:
        """`var` can be analysed: not a multi item (no column of its own), not free text (never
        in the report's data), not a date (no number until a derived variable makes one)."""
        try:
            item = self.inst.item(var)
        except KeyError:
            return
        if item.type == "multi":
            self.r.fail(at, f"{var!r} is a multi-choice item, not one variable; name an option "
                            f"column ({item.columns[0]}, ...) or derive one (n_ticked, indicator)")
        if item.type == "text" or item.specify_for is not None:
            self.r.fail(at, f"{var!r} is free text, which is never analysed or published; "
                            "use a coded item or derive one")
        if item.type in ("date", "datetime"):
            self.r.fail(at, f"{var!r} is a {item.type} item; derive a number or a category from "
                            "it (e.g. bins, cases) and use that")

    def variable(self, at: str, var, known) -> str:
        self.r.name(at, var)
        if var in known:
            self.analysable(at, var)
        if var not in known:
            close = difflib.get_close_matches(var, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                "declare it under derived: or use an item"
            self.r.fail(at, f"{var!r} is neither an item nor a derived variable; {hint}")
        return var

    def terms(self, at: str, text, known) -> tuple[str, ...]:
        """The variable names of formula text `text` (each must exist)."""
        if not isinstance(text, str) or not text.strip():
            self.r.fail(at, f"must be a formula text, got {_kind(text)}")
        # option columns (<multi>__<option>) are names; any other "__" is not a formula
        plain = re.sub(r"[A-Za-z][A-Za-z0-9_]*__[A-Za-z0-9_]+",
                       lambda m: "x" if m.group(0) in known else m.group(0), text)
        if re.search(r"__|\b(lambda|import|exec|eval|open)\b|[;\[\]{}@`]", plain):
            self.r.fail(at, f"{text!r} is not a plain formula (names, + - * : / ** ~ and "
                            f"{', '.join(sorted(FORMULA_FUNCTIONS))}(...))")
        unquoted = re.sub(r"(['\"]).*?\1", "", text)
        dotted = [m for m in re.findall(r"([A-Za-z_]\w*)\s*\.\s*([A-Za-z_]\w*)", unquoted)
                  if m[0] != "np" or m[1] not in FORMULA_FUNCTIONS]
        if dotted:  # attribute access runs code when the formula is evaluated
            self.r.fail(at, f"{text!r}: '{dotted[0][0]}.{dotted[0][1]}' is attribute access, "
                            "not a formula term; use names and C(), I(), log(), np.log(), Q()")
        for name in re.findall(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(?![\w])", unquoted):
            if name in FORMULA_FUNCTIONS:
                continue
            if name in known:
                self.analysable(at, name)
                continue
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                "declare it under derived: or use an item"
            self.r.fail(at, f"formula names {name!r}, which is neither an item nor a derived "
                            f"variable; {hint}")
        return text


class _Analysis(_Variables):
    """`analysis:` - outcomes, domains, groups, models, blocks, controls, published, imputation."""

    def analysis(self, value, known, languages) -> AnalysisPlan:
        if value is None:
            return AnalysisPlan()
        r = self.r
        a = r.mapping("analysis", value, ("outcomes", "domains", "groups", "models", "blocks",
                                          "controls", "published", "imputation"))
        outcomes = []
        raw = a.get("outcomes") or []
        if isinstance(raw, (str, Mapping)) or not isinstance(raw, Sequence):
            r.fail("analysis.outcomes", f"must be a list of {{var, kind}}, got {_kind(raw)}")
        for i, o in enumerate(raw):
            at = f"analysis.outcomes[{i}]"
            o = r.mapping(at, o, ("var", "kind", "label"), required=("var", "kind"))
            if o["kind"] not in OUTCOME_KINDS:
                r.fail(f"{at}.kind", f"must be one of {', '.join(OUTCOME_KINDS)}, got {o['kind']!r}")
            if o["kind"] == "share":
                self.binary(f"{at}.kind", o["var"])
            outcomes.append(Outcome(self.variable(f"{at}.var", o["var"], known), o["kind"],
                                    r.label(f"{at}.label", o.get("label"), languages)))
        domains = r.names("analysis.domains", a.get("domains"), allow_empty=True)
        for i, d in enumerate(domains):
            self.variable(f"analysis.domains[{i}]", d, known)
        groups, group_labels = {}, {}
        for g, members in r.mapping("analysis.groups", a.get("groups"), _AnyKey()).items():
            r.name("analysis.groups", g)
            members, label = self.labelled(f"analysis.groups.{g}", members, "variables", languages)
            if label is not None:
                group_labels[g] = label
            names = r.names(f"analysis.groups.{g}", members)
            for i, v in enumerate(names):
                self.variable(f"analysis.groups.{g}[{i}]", v, known)
            groups[g] = names
        models = []
        raw = a.get("models") or []
        if isinstance(raw, (str, Mapping)) or not isinstance(raw, Sequence):
            r.fail("analysis.models", f"must be a list of {{name, formula, family}}, got {_kind(raw)}")
        for i, m in enumerate(raw):
            at = f"analysis.models[{i}]"
            m = r.mapping(at, m, ("name", "formula", "family", "label", "offset"),
                          required=("name", "formula"))
            name = r.name(f"{at}.name", m["name"])
            if any(x.name == name for x in models):
                r.fail(f"{at}.name", f"model {name!r} is declared twice")
            formula = self.terms(f"{at}.formula", m["formula"], known)
            lhs, _, rhs = formula.partition("~")
            if (formula.count("~") != 1 or not re.fullmatch(r"\s*(\w+|[A-Za-z.]+\(.*\))\s*", lhs)
                    or not rhs.strip() or re.search(r"[-+*:/~(|]\s*$", rhs)):
                r.fail(f"{at}.formula", f"must be 'response ~ predictors' (one response, at least "
                                        f"one predictor, no trailing operator), got {formula!r}")
            family = m.get("family", "gaussian")
            if family not in FAMILIES:
                r.fail(f"{at}.family", f"unknown family {family!r}; one of {', '.join(FAMILIES)}")
            offset = m.get("offset")
            if offset is not None:
                self.terms(f"{at}.offset", offset, known)
            models.append(ModelSpec(name, " ".join(formula.split()), family,
                                    r.label(f"{at}.label", m.get("label"), languages), offset))
        blocks, block_labels = {}, {}
        for b, terms in r.mapping("analysis.blocks", a.get("blocks"), _AnyKey()).items():
            r.name("analysis.blocks", b)
            terms, label = self.labelled(f"analysis.blocks.{b}", terms, "terms", languages)
            if label is not None:
                block_labels[b] = label
            if isinstance(terms, str) or not isinstance(terms, Sequence) or not terms:
                r.fail(f"analysis.blocks.{b}", f"must be a list of formula terms, got {_kind(terms)}")
            blocks[b] = tuple(self.terms(f"analysis.blocks.{b}[{i}]", t, known)
                              for i, t in enumerate(terms))
        controls = a.get("controls") or []
        if isinstance(controls, str) or not isinstance(controls, Sequence):
            r.fail("analysis.controls", f"must be a list of formula terms, got {_kind(controls)}")
        controls = tuple(self.terms(f"analysis.controls[{i}]", t, known)
                         for i, t in enumerate(controls))
        published = {}
        for var, p in r.mapping("analysis.published", a.get("published"), _AnyKey()).items():
            at = f"analysis.published.{var}"
            self.variable(at, var, known)
            p = r.mapping(at, p, ("value", "source"), required=("value", "source"))
            if isinstance(p["value"], bool) or not isinstance(p["value"], (int, float)):
                r.fail(f"{at}.value", f"must be a number, got {_kind(p['value'])}")
            published[var] = Published(float(p["value"]), r.label(f"{at}.source", p["source"], languages))
        return AnalysisPlan(tuple(outcomes), domains, MappingProxyType(groups), tuple(models),
                            MappingProxyType(blocks), controls, MappingProxyType(published),
                            self.imputation(a.get("imputation"), known, models),
                            MappingProxyType(group_labels), MappingProxyType(block_labels))

    def labelled(self, at: str, value, members: str, languages):
        """A group or block given as a plain list, or as ``{label: .., <members>: [..]}``:
        (the list, its Label or None)."""
        if not isinstance(value, Mapping):
            return value, None
        m = self.r.mapping(at, value, ("label", members), required=(members,))
        return m[members], self.r.label(f"{at}.label", m.get("label"), languages)

    def imputation(self, value, known, models=()) -> ImputationSpec | None:
        if value is None:
            return None
        r, at = self.r, "analysis.imputation"
        i = r.mapping(at, value, ("variables", "predictors", "missing", "m", "seed", "models"),
                      required=("variables",))
        variables = r.names(f"{at}.variables", i["variables"])
        for n, v in enumerate(variables):
            self.variable(f"{at}.variables[{n}]", v, known)
        predictors = r.names(f"{at}.predictors", i.get("predictors"), allow_empty=True)
        for n, v in enumerate(predictors):
            self.variable(f"{at}.predictors[{n}]", v, known)
            if v in variables:
                r.fail(f"{at}.predictors[{n}]", f"{v!r} is imputed (listed under variables); a "
                                                 "predictor must be a complete variable")
        missing = r.names(f"{at}.missing", i.get("missing", list(IMPUTED_MISSING)))
        for n, kind in enumerate(missing):
            if kind not in IMPUTED_MISSING:
                r.fail(f"{at}.missing[{n}]", f"must be one of {', '.join(IMPUTED_MISSING)}, got "
                                             f"{kind!r} (an item not asked is never imputed)")
        m = r.integer(f"{at}.m", i.get("m"), minimum=2, default=20)
        seed = r.integer(f"{at}.seed", i.get("seed"), minimum=0, default=1)
        fitted = r.names(f"{at}.models", i.get("models"), allow_empty=True)
        declared = [x.name for x in models]
        for n, name in enumerate(fitted):
            if name not in declared:
                close = difflib.get_close_matches(name, declared, n=1)
                hint = f"did you mean {close[0]!r}?" if close else \
                    f"declared: {', '.join(declared) or 'none'}"
                r.fail(f"{at}.models[{n}]", f"{name!r} is not a model of analysis.models; {hint}")
        return ImputationSpec(variables, predictors, missing, m, seed, fitted)


class _Policies(_Codes):
    """`disclosure:`, `fieldwork:` and `report:`."""

    def disclosure(self, value) -> DisclosurePolicy:
        r = self.r
        d = r.mapping("disclosure", value, ("min_cell", "protection"))
        k = r.integer("disclosure.min_cell", d.get("min_cell"), minimum=1, default=5)
        p = r.mapping("disclosure.protection", d.get("protection"), ("lower", "upper"))
        lower = r.number("disclosure.protection.lower", p.get("lower", 0.3), 0.0, 1.0)
        upper = r.number("disclosure.protection.upper", p.get("upper", 0.3), 0.0, 1.0)
        return DisclosurePolicy(k, (lower, upper))

    def fieldwork(self, value) -> FieldworkSpec | None:
        if value is None:
            return None
        r = self.r
        f = r.mapping("fieldwork", value, ("targets",))
        t = r.mapping("fieldwork.targets", f.get("targets"), ("by", "response_rate", "n"))
        if t.get("by") is not None:
            self.item_codes("fieldwork.targets.by", r.name("fieldwork.targets.by", t["by"]))
        if t.get("response_rate") is not None:
            r.number("fieldwork.targets.response_rate", t["response_rate"], 0.0, 1.0)
        r.integer("fieldwork.targets.n", t.get("n"), minimum=1)
        return FieldworkSpec(_freeze(t))

    def report(self, value) -> ReportSpec:
        r = self.r
        rep = r.mapping("report", value, ("min_cell", "pages", "extra_pages"))
        k = r.integer("report.min_cell", rep.get("min_cell"), minimum=1, default=5)
        pages = rep.get("pages") or ["generic"]
        if isinstance(pages, str) or not isinstance(pages, Sequence):
            r.fail("report.pages", f"must be a list of page names, got {_kind(pages)}")
        pages = tuple(r.text(f"report.pages[{i}]", p) for i, p in enumerate(pages))
        extra = rep.get("extra_pages") or []
        if isinstance(extra, str) or not isinstance(extra, Sequence):
            r.fail("report.extra_pages", f"must be a list of notebook files, got {_kind(extra)}")
        for i, nb in enumerate(extra):
            r.text(f"report.extra_pages[{i}]", nb)
            if not nb.endswith(".ipynb") or "/" in nb or "\\" in nb or nb.startswith("."):
                r.fail(f"report.extra_pages[{i}]", f"{nb!r} must be a notebook file name "
                                                   "(NAME.ipynb, no folder)")
        return ReportSpec(k, pages, tuple(extra))


class _StudyBuilder(_Meta, _Population, _Design, _Weighting, _Analysis, _Policies):
    """Turns the parsed YAML into a Study, checking every key group on the way."""

    def __init__(self, data, source: str, base: Path | None):
        self.r = _Reader(source)
        self.data = data
        self.source = source
        self.base = base

    def build(self) -> Study:
        r = self.r
        top = r.mapping("", self.data, _TOP, required=("format", "study"))
        fmt = top["format"]
        if fmt not in FORMATS:
            r.fail("format", f"unknown declaration format {fmt!r}; this version reads "
                             f"{', '.join(map(str, FORMATS))}")
        info = r.mapping("study", top["study"],
                         ("name", "title", "instrument", "languages", "unit", "fieldwork",
                          "authors", "publisher", "citation", "data_note", "simulated"),
                         required=("name", "title", "instrument"))
        name = r.name("study.name", info["name"])
        languages = self.languages(info.get("languages"))
        inst = self.instrument(info["instrument"])
        titles = r.texts("study.title", info["title"], languages)
        meta = self.meta(info, languages)
        self.inst = inst
        population = self.population(top.get("population"))
        design = self.design(top.get("design"), population)
        weighting = self.weighting(top.get("weighting"), population, design)
        derived = self.derived(top.get("derived"), inst, languages)
        self._derived = derived
        known = self.known(inst, derived)
        analysis = self.analysis(top.get("analysis"), known, languages)
        disclosure = self.disclosure(top.get("disclosure"))
        fieldwork = self.fieldwork(top.get("fieldwork"))
        report = self.report(top.get("report"))
        simulation = None
        if top.get("simulation") is not None:   # the population model (surveydata.simulate.engine)
            simulation = parse_simulation(top["simulation"], self.source, inst,
                                          design.strata if design else ())
        return Study(name=name, format=fmt, source=Path(self.source) if self.base else None,
                     titles=MappingProxyType(titles), languages=languages, instrument=inst,
                     simulated=r.boolean("study.simulated", info.get("simulated"), False),
                     meta=_freeze(meta), population=population, design=design,
                     weighting=weighting, derived=derived, analysis=analysis,
                     disclosure=disclosure, fieldwork=fieldwork, report=report, simulation=simulation)


@functools.lru_cache(maxsize=8)
def _instrument_at(key: str, _stamp: tuple) -> Instrument:
    # _stamp (mtime, size, inode of the file) is part of the cache key only: a changed file reloads
    return load_instrument(key)


def _instrument(where) -> Instrument:
    """load_instrument, reusing the Instrument while its file is unchanged (it is frozen)."""
    if isinstance(where, Path):
        try:
            st = where.stat()
        except OSError:
            return load_instrument(where)
        return _instrument_at(str(where), (st.st_mtime_ns, st.st_size, st.st_ino))
    return _instrument_at(where, ())


class _AnyKey(tuple):
    """`allowed` for mappings whose keys are names the declaration chooses."""

    def __contains__(self, key) -> bool:
        return True


# --------------------------------------------------------------------------- public


def study_of_instrument(inst: Instrument) -> Study:
    """The instrument-only study: no population, design or weighting; the instrument's derived
    variables; an empty analysis plan.

    >>> s = study_of_instrument(load_instrument())
    >>> s.name, s.weighted
    ('practice_security', False)
    """
    try:
        derived = compile_instrument(inst)
    except DerivedError as err:
        raise StudyError(str(err)) from None
    return Study(name=inst.name, format=FORMATS[-1], source=Path(inst.source),
                 titles=MappingProxyType({lang: inst.title.get(lang) for lang in ("en", "de")}),
                 languages=("en", "de"), instrument=inst, simulated=False,
                 meta=MappingProxyType({}), population=None, design=None, weighting=None,
                 derived=derived, analysis=AnalysisPlan(), disclosure=DisclosurePolicy(),
                 fieldwork=None, report=ReportSpec())


def _is_instrument(data) -> bool:
    return isinstance(data, Mapping) and "items" in data and "study" not in data


def parse_study(data, source: str = "<study>", base: Path | None = None) -> Study:
    """A Study from already-parsed YAML data (`source` names it in messages, `base` is the
    folder relative paths start from)."""
    return _StudyBuilder(data, source, base).build()


def load_study(path=None) -> Study:
    """Load and validate a study declaration.

    `path`: None (the packaged practice study), a packaged study name, a study YAML, an
    instrument YAML or an Instrument (-> the instrument-only study). Raises StudyError (or the
    instrument's InstrumentError) with a one-line message naming file, key and fix.

    >>> load_study().instrument.name
    'practice_security'
    >>> load_study("no_such_study")
    Traceback (most recent call last):
    ...
    schemas.errors.StudyError: no packaged study named 'no_such_study'; packaged: ['pharmacy_staff', 'practice_security']
    """
    if isinstance(path, Instrument):
        return study_of_instrument(path)
    if path is None:
        path = DEFAULT_STUDY
    if isinstance(path, str) and re.fullmatch(r"[A-Za-z0-9_\-]+", path):
        folder = resources.files("schemas") / "studies"
        resource = folder / f"{path}.yaml"
        if not resource.is_file():
            known = sorted(r.name[:-5] for r in folder.iterdir() if r.name.endswith(".yaml"))
            raise StudyError(f"no packaged study named {path!r}; packaged: {known}")
        path = Path(str(resource))
        data = read_yaml(path, error=StudyError)
        return dataclasses.replace(parse_study(data, str(path), path.parent), source=None)
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a study file" if path.is_dir() else "study file not found"
        raise StudyError(f"{path}: {what}")
    data = read_yaml(path, error=StudyError)
    if _is_instrument(data):
        return study_of_instrument(load_instrument(path))
    if not isinstance(data, Mapping) or "study" not in data:
        raise StudyError(f"{path}: neither a study declaration (format, study, ...) nor an "
                         "instrument (items: ...); check the file")
    return parse_study(data, str(path), path.parent)
