"""The data a report analyses, and the design and weights it uses, all read from the study.

Every notebook starts with ``rd = load_data(data, study, lang)``: the export (default: the
embedded demo of the default study) validated, free text removed, the study's derived variables
computed, and the sampling design of the study's declaration attached (stratum, N_h, n_h, base
weight w). ``weighting(rd)`` then gives the designs of the report: the base design, raked to the
declared population margins, and trimmed. Nothing here names a variable of any one study: the
design, the weighting plan, the outcomes, domains, models and blocks come from the declaration
(`schemas.load_study`). A study without a design (an instrument alone) gets equal weights, and
``rd.weighted`` is False so that every page can say "unweighted".

Example
-------
>>> rd = load_data(lang="en")                         # doctest: +SKIP
>>> w = weighting(rd)                                 # doctest: +SKIP
>>> prevalence(w.final, rd.outcomes("share"))         # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import analysis
import schemas
import surveydata
from analysis.errors import AnalysisError
from schemas.multi_item import multi_item_scales
from surveydata.demo import DEMO_SETTINGS, demo_path, demo_study_name
from surveydata.errors import SurveyDataError
from surveydata.report import disclosure, labels
from surveydata.report.i18n import check_lang
from surveydata.strata import attach_design as strata_design
from surveydata.validate import _parse, validate

BUNDLE_MARKER = "reportdata.json"
WITHHELD = "<free text withheld>"
#: Column prefix of the code columns the raking margins refer to.
RAKE_PREFIX = "rake__"
#: Defaults where a declaration leaves them open.
TRIM_QUANTILES = (0.01, 0.99)
LONELY_PSU = "adjust"


class ReportDataError(SurveyDataError):
    """The data cannot be prepared for the report; the message names file and reason."""


# ---------------------------------------------------------------------------------------------
# the study: its declaration, read through small accessors (a study without design is fine)

def study_of(study=None, instrument=None):
    """A study from a path, a Study, or None (the packaged default study).

    ``instrument`` alone (a path, a packaged name or an Instrument) gives the instrument-only
    study: no population, design or weighting, every result unweighted.
    """

    if study is not None and not isinstance(study, (str, os.PathLike)):
        return study
    if study is not None:
        return schemas.load_study(study)
    if instrument is None:
        return schemas.load_study(None)
    if isinstance(instrument, (str, os.PathLike)):
        path = Path(instrument)
        if not path.is_file():  # a packaged instrument's name
            instrument = schemas.load_instrument(str(instrument))
        else:
            return schemas.load_study(path)
    return schemas.load_study(instrument)


def _text(label, lang: str) -> str | None:
    return labels.text(label, lang)


@dataclass
class ReportData:
    """What a notebook works with: validated data without free text, and where it came from.

    valid       validated responses, typed with labels in ``lang``, free-text columns removed,
                plus the design columns stratum, N_h, n_h (valid responses in the stratum), w
    derived     the study's derived (analysis) variables and the raking code columns, same rows
    quarantine  rejected rows: response_id, line, n_reasons (the reason texts quote raw values
                and are left out; ``failures`` has them by column and rule)
    failures    one row per failed check: response_id, line, column, value, rule, message
                (``value`` withheld for free-text columns)
    flags       soft warnings and quality screens on valid rows
    report      the validation report (counts, instrument, input sha256)
    source      kind ("demo" or "export"), name, sha256, format, seed (demo), strata
    strata      one row per stratum: N_h, n_invited (if known), n_valid (empty: no design)
    lang        language of the category labels
    study       the study declaration (`schemas.load_study`)
    """

    valid: pd.DataFrame
    derived: pd.DataFrame
    quarantine: pd.DataFrame
    failures: pd.DataFrame
    flags: pd.DataFrame
    report: dict
    source: dict
    strata: pd.DataFrame
    lang: str = "en"
    study: object = field(repr=False, default=None)

    @property
    def instrument(self):
        return self.study.instrument

    @property
    def n_raw(self) -> int:
        return int(self.report.get("n_raw", len(self.valid) + len(self.quarantine)))

    @property
    def weighted(self) -> bool:
        """True when the study declares a design: estimates are weighted to the population."""
        return getattr(self.study, "design", None) is not None

    def outcomes(self, kind: str | None = None) -> list[str]:
        """The study's outcomes (of ``kind`` "share" or "mean") present in the data."""
        plan = getattr(self.study, "analysis", None)
        out = [o.var for o in getattr(plan, "outcomes", ()) or ()
               if kind is None or getattr(o, "kind", None) == kind]
        return [v for v in out if v in self.valid or v in self.derived]

    def domains(self) -> list[str]:
        plan = getattr(self.study, "analysis", None)
        return [d for d in getattr(plan, "domains", ()) or ()
                if d in self.valid or d in self.derived]

    def label(self, var: str) -> str:
        """A readable name of a variable in the report language: the outcome's label, the
        derived variable's label, or the item's text (the name itself when there is none)."""
        return variable_label(self.study, var, self.lang)

    def term_label(self, term: str) -> str:
        """A model term made readable: ``C(x)[T.b]`` -> "<label of x>: b", ``x`` -> its label."""
        m = re.fullmatch(r"C\((\w+)\)\[T\.(.*)\]", term)
        if m:
            return f"{self.label(m.group(1))}: {m.group(2)}"
        m = re.fullmatch(r"(\w+)\[T\.(.*)\]", term)
        if m:
            return f"{self.label(m.group(1))}: {m.group(2)}"
        return self.label(term)

    def title(self) -> str:
        try:
            return self.study.title(self.lang)
        except Exception:  # noqa: BLE001 - a title is decoration; the name will do
            return str(getattr(self.study, "name", ""))


def variable_label(study, var: str, lang: str) -> str:
    """Label of ``var`` in ``lang`` from the study (outcomes, derived variables, instrument; see
    `surveydata.report.labels.label`)."""
    return labels.label(var, lang, study)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# design columns

def _design(study):
    return getattr(study, "design", None)


def population_strata(study=None) -> pd.DataFrame:
    """Strata of the population frame from the margin the study's design names: N_h indexed by
    the stratum key (the strata variables' codes joined with "-")."""
    study = study_of(study)
    design = _design(study)
    name = getattr(design, "margin", None)
    population = getattr(study, "population", None)
    margins = getattr(population, "margins", None) or {}
    if name is None or name not in margins:
        raise ReportDataError(f"study {study.name}: the design gives no strata file beside the export "
                              f"and no population margin for N_h (design.stratum_sizes.margin)")
    cells = margins[name]
    keys = ["-".join(str(k) for k in (key if isinstance(key, tuple) else (key,))) for key in cells.index]
    return pd.DataFrame({"N_h": cells.to_numpy()}, index=pd.Index(keys, name="stratum"))


def read_strata(path) -> pd.DataFrame:
    """A strata file (stratum, N_h[, n_invited, ...]) indexed by stratum."""
    strata = pd.read_csv(path, dtype={"stratum": "str"})
    missing = {"stratum", "N_h"} - set(strata.columns)
    if missing:
        raise ReportDataError(f"{path}: strata file lacks column(s) {sorted(missing)}")
    return strata.set_index("stratum")


def unanswered_strata(valid: pd.DataFrame, raw: pd.DataFrame, columns, inst) -> None:
    """A ReportDataError when a valid response has a missing code (or nothing) in a strata
    variable: it belongs to no stratum. Names the variable, the code, the file lines, the fix."""
    rows = raw.set_index("line").loc[valid["line"].to_numpy()]
    for var in columns:
        if var not in rows:
            continue
        try:
            missing = dict(inst.item(var).missing_set)
        except (KeyError, ValueError, AttributeError):
            missing = {}
        codes = rows[var].astype("string").str.strip().fillna("")
        bad = codes.eq("") | codes.isin([str(c) for c in missing])
        if bad.any():
            first = codes[bad].iloc[0]
            what = (f"{first} = {missing[int(first)]}" if first.lstrip("-").isdigit()
                    and int(first) in missing else "empty")
            lines = [int(x) for x in rows.index[bad.to_numpy()][:5]]
            more = ", ..." if bad.sum() > 5 else ""
            raise ReportDataError(
                f"strata variable {var}: {int(bad.sum())} valid response(s) have no stratum ({what}; "
                f"line(s) {', '.join(map(str, lines))}{more}); the design needs it from everyone: make "
                f"{var} required: true in the instrument (without missing codes), or correct those rows")


def attach_design(valid: pd.DataFrame, raw: pd.DataFrame, strata: pd.DataFrame,
                  columns, inst=None) -> pd.DataFrame:
    """``valid`` with stratum, N_h, n_h and w = N_h / n_h (see :func:`surveydata.strata.attach_design`);
    N_h as float, and an unknown stratum as a ReportDataError (with ``inst``: a strata variable
    left unanswered is named first, see :func:`unanswered_strata`)."""
    if inst is not None:
        unanswered_strata(valid, raw, columns, inst)
    try:
        df = strata_design(valid, raw, strata, columns)
    except ValueError as err:
        raise ReportDataError(str(err)) from err
    df["N_h"] = df["N_h"].astype(float)
    return df


def _strata_summary(valid: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    out = strata.copy()
    out["n_valid"] = valid.groupby("stratum").size().reindex(out.index, fill_value=0)
    keep = ["N_h"] + [c for c in ("n_invited",) if c in out] + ["n_valid"]
    return out[keep]


def _no_strata() -> pd.DataFrame:
    return pd.DataFrame({"N_h": pd.Series(dtype=float), "n_valid": pd.Series(dtype="int64")},
                        index=pd.Index([], name="stratum", dtype="str"))


# ---------------------------------------------------------------------------------------------
# loading

def undeclared_columns(frame: pd.DataFrame, inst) -> list[str]:
    """Columns of a validated frame that the instrument does not declare (a platform's e-mail,
    IP address or note column, kept by validation as the text it was): never handed to a page."""
    items = {i.var for i in inst.items}
    keep = (set(inst.columns) | items | {m.var for m in inst.metadata} | {"line"}
            | {f"{v}__missing" for v in items})
    return [c for c in frame.columns if c not in keep]


def _sanitize(result, inst) -> dict:
    """The parts of a ValidationResult without free text: columns, quoted values, reason strings;
    undeclared columns (and their values in the failures) left out."""
    text_cols = list(disclosure.free_text_columns(inst)) + undeclared_columns(result.valid, inst)
    quarantine = result.quarantine.drop(columns=[c for c in ("reasons",) if c in result.quarantine])
    failures = result.failures.copy()
    if "value" in failures and "column" in failures:
        failures["value"] = failures["value"].astype(object).where(
            ~failures["column"].isin(text_cols), WITHHELD).astype("str")
    return {"valid": disclosure.drop_free_text(result.valid, text_cols),
            "quarantine": disclosure.drop_free_text(quarantine, text_cols),
            "failures": failures,
            "flags": disclosure.drop_free_text(result.flags, text_cols)}


def _raw_of_valid(raw: pd.DataFrame, valid: pd.DataFrame) -> pd.DataFrame:
    """The raw (text) records of the valid rows, in the order of ``valid``."""
    return raw.set_index("line").loc[valid["line"].to_numpy()].reset_index()


def _to_float(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable numeric columns as float64 with NaN (what the estimators take)."""
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_numeric_dtype(dtype)
                                                 and not isinstance(dtype, pd.CategoricalDtype)):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def study_derived(study, raw: pd.DataFrame, valid: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The study's derived variables for the valid rows, from their raw codes (`schemas.derive`
    with the study), without those the validated frame already holds."""

    inst = study.instrument
    if not getattr(study, "derived", ()):
        return pd.DataFrame(index=valid.index)
    coded, _ = _parse(raw, inst)
    lines = raw["line"].to_numpy() if "line" in raw else np.arange(2, len(raw) + 2)
    pos = pd.Series(np.arange(len(raw)), index=lines).loc[valid["line"].to_numpy()].to_numpy()
    coded_valid = coded.iloc[pos].reset_index(drop=True)
    wanted = [d.var for d in study.derived if d.var not in valid.columns]
    if not wanted:
        return pd.DataFrame(index=valid.index)
    out = schemas.derive(coded_valid, study, lang=lang, variables=wanted)
    out = out[[c for c in out.columns if c not in valid.columns]]
    out.index = valid.index
    return _to_float(out)


def _rake_steps(study) -> list:
    return list(getattr(getattr(study, "weighting", None), "rake", ()) or ())


def _post_step(study):
    return getattr(getattr(study, "weighting", None), "poststratify", None)


def _calibration_steps(study) -> list:
    """Every margin the weighting plan calibrates to: the post-stratification cells, then the
    raking margins."""
    post = _post_step(study)
    return ([post] if post is not None else []) + _rake_steps(study)


def _margin_counts(study, step) -> pd.Series:
    counts = getattr(step, "counts", None)
    if counts is not None:
        return counts
    margins = getattr(getattr(study, "population", None), "margins", None) or {}
    if step.margin not in margins:
        raise ReportDataError(f"study {study.name}: weighting margin {step.margin!r} is not in the "
                              f"population margins ({', '.join(margins) or 'none'})")
    return margins[step.margin]


def _same_type(values: pd.Series, like) -> pd.Series:
    """Raw code texts converted to the type of the margin's categories (int or str)."""
    text = values.astype("str").str.strip()
    if pd.api.types.is_integer_dtype(np.asarray(like).dtype):
        num = pd.to_numeric(text, errors="coerce")
        return num.astype("Int64")
    if pd.api.types.is_float_dtype(np.asarray(like).dtype):
        return pd.to_numeric(text, errors="coerce")
    return text


def raking_columns(study, raw_valid: pd.DataFrame, index) -> pd.DataFrame:
    """The code columns ``rake__<var>`` of every raking variable, typed like its margin's
    categories and with the declared collapses applied (e.g. a category counted as another)."""
    out = pd.DataFrame(index=index)
    for step in _calibration_steps(study):
        counts = _margin_counts(study, step)
        for level, var in enumerate(step.variables):
            like = counts.index.get_level_values(level) if counts.index.nlevels > 1 else counts.index
            col = _same_type(raw_valid[var].reset_index(drop=True), like)
            collapse = (getattr(step, "collapse", None) or {}).get(var, {})
            if collapse:
                col = col.map(lambda c, m=dict(collapse): m.get(c, c) if pd.notna(c) else c)
            col.index = index
            unknown = sorted(set(col.dropna()) - set(like), key=str)
            if col.isna().any() or unknown:
                what = f"codes {unknown} not in margin {step.margin!r}" if unknown else "missing values"
                raise ReportDataError(f"raking variable {var}: {what}; every valid response needs a "
                                      f"category of the margin")
            col = col.astype("int64") if pd.api.types.is_integer_dtype(
                np.asarray(like).dtype) else col.astype(object).astype(str)
            if RAKE_PREFIX + var in out and not (out[RAKE_PREFIX + var].to_numpy()
                                                 == col.to_numpy()).all():
                raise ReportDataError(f"weighting variable {var}: two margins code it differently "
                                      f"(collapse); declare the same collapse in both")
            out[RAKE_PREFIX + var] = col
    return out


def _prepare(raw: pd.DataFrame, study, lang: str, strata: pd.DataFrame | None,
             source: dict) -> ReportData:

    inst = study.instrument
    result = validate(raw, inst, lang=lang)
    parts = _sanitize(result, inst)
    dropped = undeclared_columns(result.valid, inst)
    if dropped:  # their names only: what the report left out, never a value
        source = {**source, "undeclared_columns_dropped": dropped}
    valid = parts["valid"]
    raw_valid = _raw_of_valid(raw, valid)
    if _design(study) is not None and strata is not None:
        valid = attach_design(valid, raw, strata, _design(study).strata, inst)
        if getattr(_design(study), "base_weight", None) == "equal":
            valid["w"] = 1.0  # equal starting weights; calibration brings them to the totals
        summary = _strata_summary(valid, strata)
    else:
        valid = valid.assign(w=1.0)
        summary = _no_strata()
    parts["valid"] = valid
    derived = study_derived(study, raw, valid, lang) if len(valid) else pd.DataFrame(index=valid.index)
    if _design(study) is not None and len(valid):
        derived = pd.concat([derived, raking_columns(study, raw_valid, valid.index)], axis=1)
    return ReportData(**parts, derived=derived, report=dict(result.report), source=source,
                      strata=summary, lang=lang, study=study)


def _demo_of(study) -> bool:
    """True when the embedded demo belongs to ``study`` (the packaged default study)."""

    return getattr(study, "name", None) == demo_study_name()


def raw_input(data=None, study=None) -> tuple[pd.DataFrame, dict, pd.DataFrame | None]:
    """The raw export (all text), a description of it, and its strata table (None: no design)."""

    study = study_of(study)
    inst = study.instrument
    design = _design(study)
    strata_file = getattr(design, "strata_file", None) or "strata.csv"
    if data is None:
        if not _demo_of(study):
            raise ReportDataError(f"study {study.name} has no embedded demo data: give the export "
                                  f"(--data EXPORT)")
        raw = surveydata.load_demo(raw=True)
        source = {"kind": "demo", "name": demo_path().name, "seed": DEMO_SETTINGS["seed"]}
        strata = read_strata(demo_path(strata_file)) if design is not None else None
        if design is not None:
            source["strata"] = strata_file
    else:
        path = Path(data)
        raw = surveydata.read_export(path, inst)
        source = {"kind": "export", "name": path.name}
        strata = None
        if design is not None:
            beside = path.with_name(strata_file)
            strata = read_strata(beside) if beside.is_file() else population_strata(study)
            source["strata"] = strata_file if beside.is_file() else "population margins"
    info = raw.attrs.get("export", {})
    source.update(sha256=info.get("sha256"), format=info.get("format"))
    source["study"] = study.name
    source["weighted"] = design is not None
    return raw, source, strata


def load_data(data=None, study=None, lang: str | None = None, instrument=None) -> ReportData:
    """Validated data for the notebooks, free text removed, derived variables and design attached.

    ``data`` is None (the embedded demo survey of the default study), a survey export (any format
    `surveydata.read_export` reads; a strata file beside it gives N_h and n_invited, else N_h
    comes from the population margin the design names), or a bundle directory written by
    :func:`save_bundle`. ``study`` is a study declaration (path or Study; None: the default);
    ``instrument`` alone gives the instrument-only study (unweighted). ``lang`` defaults to the
    study's first language.

    >>> rd = load_data(lang="en")                          # doctest: +SKIP
    >>> rd.weighted, rd.lang                               # doctest: +SKIP
    (True, 'en')
    """
    study = study_of(study, instrument)
    if lang is None:
        lang = (getattr(study, "languages", None) or ("en",))[0]
    check_lang(lang)
    if data is not None and Path(data).is_dir():
        return _bundle(Path(data), study, lang)
    raw, source, strata = raw_input(data, study)
    return _prepare(raw, study, lang, strata, source)


# ---------------------------------------------------------------------------------------------
# bundles: prepared data handed from the report builder to the notebooks (Parquet + JSON only)

_FRAMES = ("valid", "derived", "quarantine", "failures", "flags", "strata")


def save_bundle(rd: ReportData, directory) -> Path:
    """Write prepared report data to ``directory`` as Parquet files and one JSON file (read back
    by :func:`load_data`). Nothing in a bundle is executable."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in _FRAMES:
        getattr(rd, name).to_parquet(directory / f"{name}.parquet")
    meta = {"report": rd.report, "source": rd.source, "lang": rd.lang,
            "study": getattr(rd.study, "name", None)}
    (directory / BUNDLE_MARKER).write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    return directory


def _bundle(directory: Path, study, lang: str) -> ReportData:
    marker = directory / BUNDLE_MARKER
    if not marker.exists():
        raise ReportDataError(f"{directory}: a directory is accepted only as a prepared report "
                              f"bundle (it has no {BUNDLE_MARKER})")
    meta = json.loads(marker.read_text())
    if meta["lang"] != lang:
        raise ReportDataError(f"{directory}: bundle labelled in {meta['lang']!r}, asked for {lang!r}")
    if meta.get("study") not in (None, getattr(study, "name", None)):
        raise ReportDataError(f"{directory}: bundle of study {meta['study']!r}, asked for "
                              f"{getattr(study, 'name', None)!r}")
    frames = {}
    for name in _FRAMES:
        path = directory / f"{name}.parquet"
        if not path.is_file():
            raise ReportDataError(f"{directory}: bundle lacks {path.name} (only Parquet and JSON "
                                  f"files are read from a bundle)")
        frames[name] = pd.read_parquet(path)
    return ReportData(**frames, report=meta["report"], source=meta["source"], lang=lang, study=study)


# ---------------------------------------------------------------------------------------------
# the report's weighting: base design -> raked to population margins -> trimmed

@dataclass
class Weighting:
    """The designs of the report: ``base`` (w = N_h / n_h), ``raked`` (to ``margins``) and
    ``final`` (raked, trimmed at ``bounds``). Without a design all three are the same
    equal-weight design, ``weighted`` is False and ``margins`` is empty."""

    base: object
    raked: object
    final: object
    margins: dict
    bounds: tuple[float, float] | None
    weighted: bool = True


def _columns_key(step):
    cols = tuple(RAKE_PREFIX + v for v in step.variables)
    return cols if len(cols) > 1 else cols[0]


def raking_margins(study) -> dict:
    """Population margins the report rakes to, keyed by the ``rake__<var>`` columns they apply to
    (a tuple for a cross-classified margin), in the order of the declaration."""
    out = {}
    for step in _rake_steps(study):
        cols = tuple(RAKE_PREFIX + v for v in step.variables)
        out[cols if len(cols) > 1 else cols[0]] = _margin_counts(study, step)
    return out


def analysis_frame(rd: ReportData) -> pd.DataFrame:
    """The validated data plus the study's derived variables and the raking code columns."""
    return pd.concat([rd.valid, rd.derived], axis=1)


def _trim_spec(study):
    trim = getattr(getattr(study, "weighting", None), "trim", None)
    if trim is None:
        return None, True
    if isinstance(trim, dict):
        return tuple(trim.get("quantiles", TRIM_QUANTILES)), bool(trim.get("strict", True))
    return tuple(getattr(trim, "quantiles", TRIM_QUANTILES)), bool(getattr(trim, "strict", True))


def weighting(rd: ReportData) -> Weighting:
    """Base design, raked design and final (raked + trimmed) design of the report.

    Base: stratified by the design's strata with fpc N_h, w = N_h / n_h, lonely strata handled
    by the design's rule (R's survey.lonely.psu; default "adjust"). Raked to
    :func:`raking_margins` (iterative proportional fitting to convergence), then trimmed at the
    declared quantiles of the raked weights (total kept, excess spread as R's trimWeights; with
    strict, repeated until no final weight is outside the bounds). A study without a design gets
    one equal-weight design for all three.
    """

    df = analysis_frame(rd)
    design = _design(rd.study)
    if design is None or len(rd.strata) == 0:
        flat = analysis.SurveyDesign(df.assign(w=1.0), weights="w")
        return Weighting(base=flat, raked=flat, final=flat, margins={}, bounds=None, weighted=False)
    lonely = getattr(design, "lonely_psu", None) or LONELY_PSU
    psu = getattr(design, "psu", None)
    fpc = "N_h" if getattr(design, "fpc", None) == "N_h" else None  # null: no fpc, as declared
    if psu is not None and fpc is not None:
        # N_h counts the population's units; a cluster design's first-stage fpc counts clusters
        raise ReportDataError(f"study {rd.study.name}: design.fpc: N_h gives each stratum's number of "
                              f"units, but the design samples clusters (psu: {psu}), whose fpc needs "
                              f"the number of clusters per stratum; declare fpc: null (clusters "
                              f"treated as drawn with replacement: conservative)")
    try:
        base = analysis.SurveyDesign(df, weights="w", strata="stratum", psu=psu, fpc=fpc,
                                     lonely_psu=lonely)
    except analysis.AnalysisError as err:
        if psu is None or "nest" not in str(err):
            raise
        raise ReportDataError(f"study {rd.study.name}: cluster ids of psu {psu} repeat across "
                              f"strata; give every cluster an id of its own across strata (the "
                              f"declaration has no nest option)") from err
    margins = raking_margins(rd.study)
    calibrated = base
    post = _post_step(rd.study)
    if post is not None:  # post-stratified first, then raked (each to its declared counts)
        key = _columns_key(post)
        calibrated = base.poststratify(list(key) if isinstance(key, tuple) else key,
                                       _margin_counts(rd.study, post))
    raked = calibrated.rake(margins) if margins else calibrated
    if post is not None:
        margins = {_columns_key(post): _margin_counts(rd.study, post), **margins}
    quantiles, strict = _trim_spec(rd.study)
    if quantiles is None:
        return Weighting(base=base, raked=raked, final=raked, margins=margins, bounds=None)
    lo, hi = np.quantile(raked.weights, quantiles)
    final = raked.trim(lower=float(lo), upper=float(hi), strict=strict)
    return Weighting(base=base, raked=raked, final=final, margins=margins,
                     bounds=(float(lo), float(hi)))


# ---------------------------------------------------------------------------------------------
# data-quality summaries (unweighted counts of records)

#: Validation rules grouped for publication: rule prefix -> group.
RULE_GROUPS = {"duplicate_row": "duplicates", "duplicate_response_id": "duplicates",
               "skip_asked": "skip_logic", "skip_not_asked": "skip_logic",
               "codes": "invalid_code", "likert": "invalid_code", "binary": "invalid_code",
               "exclusive": "invalid_code", "max_select": "invalid_code", "scale": "invalid_code",
               "dtype": "invalid_number", "range": "invalid_number", "datetime": "invalid_number",
               "date": "invalid_number", "decimal": "invalid_number",
               "malformed": "malformed_record"}


def quarantine_by_reason(rd: ReportData) -> pd.Series:
    """Quarantined records per group of reasons (a record with several reasons counts in each).

    Unknown rules form the group ``other_rule``: nothing is dropped.
    """
    f = rd.failures
    if f.empty:
        return pd.Series(dtype="int64", name="records")
    prefix = f["rule"].astype(str).str.split(":").str[0]
    group = prefix.map(RULE_GROUPS).fillna("other_rule")
    counts = (pd.DataFrame({"group": group, "line": f["line"]}).drop_duplicates()
              .groupby("group").size().rename("records"))
    return counts.sort_values(ascending=False, kind="stable")


def item_nonresponse(rd: ReportData) -> pd.DataFrame:
    """Per item: respondents asked, and how many answered "don't know" or gave no answer.

    Items come from the ``<item>__missing`` columns of the validated data; ``asked`` excludes
    respondents the skip logic did not ask.
    """
    rows = []
    for col in [c for c in rd.valid.columns if c.endswith("__missing")]:
        reason = rd.valid[col].astype(object)
        rows.append({"item": col.removesuffix("__missing"),
                     "asked": int((reason != "not_applicable").sum()),
                     "dont_know": int((reason == "dont_know").sum()),
                     "no_answer": int((reason == "no_answer").sum())})
    out = pd.DataFrame(rows, columns=["item", "asked", "dont_know", "no_answer"]).set_index("item")
    out["share_missing"] = (out["dont_know"] + out["no_answer"]) / out["asked"].where(out["asked"] > 0)
    return out


def strata_variables(rd: ReportData) -> list[str]:
    """The design's strata variables (empty without a design)."""
    return list(getattr(_design(rd.study), "strata", ()) or ())


def _code_label(rd: ReportData, var: str):
    item = rd.instrument.item(var)
    return {str(c): item.label(c, rd.lang) for c in item.codes}, [item.label(c, rd.lang) for c in item.codes]


def response_rates(rd: ReportData, by: str) -> pd.DataFrame:
    """Invited, valid responses and response rate by one of the design's strata variables.

    Needs ``n_invited`` in the strata table (a strata file beside the export). Stratum keys are
    the strata variables' codes joined with "-"; labels from the instrument.
    """
    if "n_invited" not in rd.strata:
        raise ReportDataError("response rates need the number invited per stratum (n_invited in a "
                              "strata file beside the export)")
    names = strata_variables(rd)
    if by not in names:
        raise ReportDataError(f"response rates by a strata variable ({', '.join(names)}), not {by!r}")
    keys = rd.strata.index.str.split("-").str[names.index(by)]
    lookup, order = _code_label(rd, by)
    table = rd.strata.groupby(keys.map(lambda k: lookup.get(k, k)), sort=False)[
        ["n_invited", "n_valid"]].sum()
    table.index.name = by
    table["rate"] = table["n_valid"] / table["n_invited"]
    order = [o for o in order if o in table.index] + [o for o in table.index if o not in order]
    return table.loc[order]


def response_rate(rd: ReportData) -> float | None:
    """Valid responses per invited unit overall (None when the number invited is unknown)."""
    if "n_invited" not in rd.strata or rd.strata["n_invited"].sum() == 0:
        return None
    return float(rd.strata["n_valid"].sum() / rd.strata["n_invited"].sum())


def raking_variables(rd: ReportData) -> list[str]:
    """Every variable of the weighting plan's margins, in declaration order."""
    return list(dict.fromkeys(v for step in _calibration_steps(rd.study) for v in step.variables))


def composition(w: Weighting, rd: ReportData, var: str) -> pd.DataFrame:
    """Shares of the categories of ``var``: sample (unweighted), population, weighted (final),
    and n, the respondents in each category.

    ``var`` is a raking variable; population shares come from the raking margins (summed over
    the other variables of a cross-classified margin); categories labelled in the report language.
    """
    column = RAKE_PREFIX + var
    data = w.final.data
    sample = data[column].value_counts(normalize=True)
    weighted = pd.Series(w.final.weights, index=data.index).groupby(data[column]).sum()
    weighted = weighted / weighted.sum()
    pop = None
    for key, margin in w.margins.items():
        cols = key if isinstance(key, tuple) else (key,)
        if column in cols:
            level = cols.index(column)
            pop = margin.groupby(level=level).sum() if margin.index.nlevels > 1 else margin
            break
    if pop is None:
        raise ReportDataError(f"{var} is not a raking variable ({', '.join(raking_variables(rd))})")
    pop = pop / pop.sum()
    n = data[column].value_counts()
    out = pd.DataFrame({"sample": sample, "population": pop, "weighted": weighted, "n": n})
    out = out.loc[pop.index].fillna({"sample": 0.0, "weighted": 0.0, "n": 0})
    out["n"] = out["n"].astype("int64")
    lookup, _ = _code_label(rd, var)
    out.index = pd.Index([lookup.get(str(c), str(c)) for c in out.index], name=var)
    return out


# ---------------------------------------------------------------------------------------------
# estimates: one weighted mean per variable, each on its own answered rows

def prevalence(design, variables, by: str | None = None) -> pd.DataFrame:
    """Weighted means (shares of 0/1 indicators) with design-based CIs and respondent counts.

    Each variable is estimated on the rows that answered it (R's ``svymean(~x, na.rm=TRUE)``
    one variable at a time: several at once would drop every row missing any of them).
    Columns: estimate, se, ci_low, ci_high, n (answered), n_yes, n_no (for 0/1 variables;
    otherwise n_yes/n_no count values 1 and 0); indexed by variable, or by (domain, variable)
    with ``by`` (rows with no value of ``by`` belong to no domain).

    >>> prevalence(w.final, ["some_indicator"], by="some_domain")   # doctest: +SKIP
    """
    frames = []
    if by is not None and design.data[by].isna().any():
        # rows without a domain are in no domain: a subset keeps them in the design for the
        # variance, as R's subset()
        design = design.subset(design.data[by].notna().to_numpy())
    data = design.data
    for var in variables:
        if by is None:
            est = pd.DataFrame(design.mean(var, na_rm=True))
            groups = pd.Series(var, index=data.index)
        else:
            est = pd.DataFrame(design.by(by).mean(var, na_rm=True))
            groups = data[by]
        x = data[var]
        counts = pd.DataFrame({"n": x.notna(), "n_yes": x == 1, "n_no": x == 0}).groupby(
            groups.to_numpy(), observed=True).sum()
        if by is None:
            est[["n", "n_yes", "n_no"]] = counts.loc[var].to_numpy()
        else:
            dom = est.index.get_level_values(by)
            est[["n", "n_yes", "n_no"]] = counts.reindex(dom).to_numpy()
        frames.append(est[["estimate", "se", "ci_low", "ci_high", "n", "n_yes", "n_no"]])
    return pd.concat(frames)


def too_few(table: pd.DataFrame, k: int, binary: bool = True) -> pd.Series:
    """Rows of a :func:`prevalence` table to suppress: fewer than ``k`` respondents answered,
    or (for 0/1 variables) fewer than ``k`` (but some) said yes, or said no (either would
    single out respondents)."""
    if not binary:
        return table["n"] < k
    small = lambda c: (table[c] > 0) & (table[c] < k)
    return (table["n"] < k) | small("n_yes") | small("n_no")


def unweighted(design):
    """The same rows and strata with equal weights: the "unweighted" comparison of a model."""

    strata = "stratum" if "stratum" in design.data else None
    return analysis.SurveyDesign(design.data.assign(w_equal=1.0), weights="w_equal", strata=strata,
                                 lonely_psu=LONELY_PSU if strata else "fail")


# ---------------------------------------------------------------------------------------------
# the planned models, blocks and published figures

#: Declared families -> how the report fits them (quasi families: no fixed dispersion, as R's
#: svyglm recommends for survey data).
FAMILIES = {"binomial": "quasibinomial", "quasibinomial": "quasibinomial", "logistic": "quasibinomial",
            "poisson": "quasipoisson", "quasipoisson": "quasipoisson", "gaussian": "gaussian",
            "linear": "gaussian", "ordinal": "ordinal", "proportional_odds": "ordinal",
            "olr": "ordinal"}


@dataclass(frozen=True)
class Model:
    """One planned model: name, formula, family (as fitted), offset column or None, label."""

    name: str
    formula: str
    family: str
    offset: str | None
    label: str

    @property
    def response(self) -> str:
        return self.formula.split("~", 1)[0].strip()

    @property
    def ratio(self) -> str | None:
        """What exp(coefficient) is: OR (odds ratio), RR (rate ratio), or None (linear)."""
        return {"quasibinomial": "OR", "ordinal": "OR", "quasipoisson": "RR"}.get(self.family)


def models(rd: ReportData) -> list[Model]:
    """The study's planned models (empty without an analysis plan)."""
    plan = getattr(rd.study, "analysis", None)
    out = []
    for spec in getattr(plan, "models", ()) or ():
        family = str(getattr(spec, "family", "gaussian") or "gaussian")
        if family not in FAMILIES:
            raise ReportDataError(f"model {spec.name}: family {family!r} is not one of "
                                  f"{', '.join(sorted(FAMILIES))}")
        offset = getattr(spec, "offset", None)
        out.append(Model(spec.name, spec.formula, FAMILIES[family], offset,
                         _text(getattr(spec, "label", None), rd.lang) or spec.name))
    return out


def fit(model: Model, design):
    """Fit a planned model on ``design`` (svyglm, or svyolr for an ordinal family)."""

    if model.family == "ordinal":
        return analysis.svyolr(model.formula, design)
    return analysis.svyglm(model.formula, design, family=model.family, offset=model.offset)


def blocks(rd: ReportData) -> dict[str, list[str]]:
    plan = getattr(rd.study, "analysis", None)
    return {k: list(v) for k, v in (getattr(plan, "blocks", None) or {}).items()}


def controls(rd: ReportData) -> list[str]:
    plan = getattr(rd.study, "analysis", None)
    return list(getattr(plan, "controls", None) or ())


def block_outcomes(rd: ReportData) -> list[tuple[str, str]]:
    """(response, family) of the models whose blocks can be compared: the planned glm models
    without an offset, one per response."""
    seen = {}
    for m in models(rd):
        if m.family in ("quasibinomial", "gaussian") and m.offset is None:
            seen.setdefault(m.response, m.family)
    return list(seen.items())


def published(rd: ReportData) -> pd.DataFrame:
    """Published reference figures of the study: value and source, indexed by variable."""
    plan = getattr(rd.study, "analysis", None)
    rows = {}
    for var, ref in (getattr(plan, "published", None) or {}).items():
        if isinstance(ref, dict):
            value, source = ref.get("value"), ref.get("source")
        elif isinstance(ref, (tuple, list)):
            value, source = ref[0], ref[1] if len(ref) > 1 else None
        else:
            value, source = getattr(ref, "value", ref), getattr(ref, "source", None)
        rows[var] = {"value": float(value), "source": _text(source, rd.lang)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["value", "source"])


def coefficient_frame(fit, rd: ReportData, drop=("Intercept",)) -> pd.DataFrame:
    """Coefficients of a fitted model (estimate, ci_low, ci_high, p on the link scale) indexed by
    readable terms; a category term says its reference category ("b (vs a)"). Cut points of an
    ordinal model are left out."""
    ci = fit.conf_int()
    frame = pd.DataFrame({"estimate": fit.params, "ci_low": ci.iloc[:, 0], "ci_high": ci.iloc[:, 1],
                          "p": fit.pvalues})
    frame = frame.loc[[i for i in frame.index if i not in drop and "|" not in str(i)]]
    frame.index = pd.Index([_term_with_reference(str(i), rd, fit) for i in frame.index])
    return frame


def _term_with_reference(term: str, rd: ReportData, fit) -> str:
    m = re.fullmatch(r"C\((\w+)\)\[T\.(.*)\]", term) or re.fullmatch(r"(\w+)\[T\.(.*)\]", term)
    if not m:
        return rd.label(term)
    var, level = m.group(1), m.group(2)
    ref = reference_category(fit, var)
    suffix = f" (vs {ref})" if rd.lang == "en" else f" (gegenüber {ref})"
    return f"{rd.label(var)}: {level}" + (suffix if ref is not None else "")


def reference_category(fit, var: str):
    """The category of ``var`` a model's coefficients compare against (the first level without
    a term of its own), or None."""
    names = [str(i) for i in fit.params.index]
    data = getattr(getattr(fit, "design", None), "data", None)
    if data is None or var not in data:
        return None
    col = data[var]
    levels = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(
        col.dropna().unique(), key=str)
    for level in levels:
        if not any(n.endswith(f"[T.{level}]") and var in n for n in names):
            return level
    return None


def item_frequencies(rd: ReportData, var: str) -> pd.DataFrame:
    """Unweighted frequencies of one categorical item among those who answered it: n and share
    per answer label (answers in the instrument's order)."""
    col = rd.valid[var]
    counts = col.value_counts(sort=False, dropna=True)
    if isinstance(col.dtype, pd.CategoricalDtype):
        counts = counts.reindex(col.cat.categories, fill_value=0)
    n = int(counts.sum())
    return pd.DataFrame({"n": counts.astype("int64"), "share": counts / n if n else np.nan})


def item_numeric(rd: ReportData, var: str) -> pd.Series:
    """n, mean, median, min and max of one numeric item (unweighted, answered rows)."""
    x = pd.to_numeric(rd.valid[var], errors="coerce").astype(float).dropna()
    return pd.Series({"n": len(x), "mean": x.mean(), "median": x.median(), "min": x.min(),
                      "max": x.max()}, name=var)


def described_items(rd: ReportData) -> list[tuple[str, str]]:
    """(variable, kind) of every item of the instrument that the descriptive page shows:
    "categorical" (single choice and rating scales), "numeric" or "multi"; free text is never
    shown."""
    out = []
    for item in rd.instrument.items:
        var = item.var
        kind = str(getattr(item, "type", ""))
        if kind == "text" or var in disclosure.free_text_columns(rd.instrument):
            continue
        if kind == "multi":
            cols = [c for c in rd.valid.columns if c.startswith(var + "__") and c != var + "__missing"]
            if cols:
                out.append((var, "multi"))
        elif var in rd.valid:
            col = rd.valid[var]
            if isinstance(col.dtype, pd.CategoricalDtype):
                out.append((var, "categorical"))
            elif pd.api.types.is_numeric_dtype(col.dtype):
                out.append((var, "numeric"))
    return out


def multi_shares(rd: ReportData, var: str) -> pd.DataFrame:
    """Unweighted share of respondents ticking each option of a multiple-choice item, among those
    who answered it."""
    item = rd.instrument.item(var)
    cols = [c for c in rd.valid.columns if c.startswith(var + "__") and c != var + "__missing"]
    frame = rd.valid[cols].astype("Float64")
    answered = frame.notna().all(axis=1)
    ticked = frame[answered].sum()
    n = int(answered.sum())
    options = {str(o.code): _text(o.label, rd.lang) for o in getattr(item, "options", ()) or ()}
    labels = {c: options.get(c.removeprefix(var + "__"), c.removeprefix(var + "__")) for c in cols}
    return pd.DataFrame({"n": ticked.astype("int64").to_numpy(),
                         "share": (ticked / n).to_numpy() if n else np.nan},
                        index=[labels[c] for c in cols])


# ---------------------------------------------------------------------------------------------
# the pages of a study's report

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


def _has(study, need: str) -> bool:
    if need == "design":
        return _design(study) is not None
    plan = getattr(study, "analysis", None)
    return bool(getattr(plan, need, None))


def study_notebooks(study=None, notebooks_dir=None) -> list[Path]:
    """The notebooks of a study's report, in number order: the generic pages in
    ``notebooks_dir`` (default: the repository's notebooks/) that the study has something for
    (a page whose metadata ``report.needs`` names "design" or "models" is left out of a study
    without them), plus the study's ``report.extra_pages``, found beside the declaration, in
    ``notebooks_dir/studies/<study name>/`` or in ``notebooks_dir``.
    """
    import nbformat  # noqa: PLC0415 - the notebook stack loads only where notebooks are read

    study = study_of(study)
    directory = Path(notebooks_dir) if notebooks_dir is not None else (
        Path(__file__).resolve().parents[2] / "notebooks")
    pages = []
    for path in sorted(directory.glob(NOTEBOOK_GLOB)):
        needs = nbformat.read(path, as_version=4).metadata.get("report", {}).get("needs", [])
        if all(_has(study, n) for n in needs):
            pages.append(path)
    extra = getattr(getattr(study, "report", None), "extra_pages", ()) or ()
    source = getattr(study, "source", None)
    for name in extra:
        places = ([Path(source).parent / name] if source else []) + [
            directory / "studies" / str(study.name) / name, directory / name]
        found = next((p for p in places if p.is_file()), None)
        if found is None:
            raise ReportDataError(f"study {study.name}: extra page {name} not found (looked in "
                                  f"{', '.join(str(p.parent) for p in places)})")
        if found not in pages:
            pages.append(found)
    return sorted(pages, key=lambda p: p.name)


# ---------------------------------------------------------------------------------------------
# multi-item scales: the study's scale scores and the instrument's grids

@dataclass(frozen=True)
class ScaleSpec:
    """A multi-item scale: name, label, its items and the reverse-keyed ones among them."""

    name: str
    label: str
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()


def scales(rd: ReportData) -> list[ScaleSpec]:
    """The scales whose reliability the report shows, as the declaration names them
    (`schemas.multi_item.multi_item_scales`): every derived scale score of the study (``mean:``
    or ``sum:`` over two or more items; reverse-keyed: its ``reverse:`` items and the items the
    instrument declares reverse-keyed), then every grid of the instrument that no score covers."""

    out = []
    for scale in multi_item_scales(rd.study):
        if scale.how == "grid":
            stem = _text(scale.label, rd.lang)
            label = stem or scale.name.replace("_", " ").capitalize()
        else:
            label = rd.label(scale.name)
        out.append(ScaleSpec(scale.name, label, scale.items, scale.reverse))
    return out


def item_scores(rd: ReportData, var: str, reverse: bool = False) -> pd.Series:
    """The answer codes of a rating item as numbers (missing and non-substantive answers NaN);
    reversed (min + max - code) for a reverse-keyed item."""
    item = rd.instrument.item(var)
    codes = [c for c in item.substantive_codes if isinstance(c, (int, np.integer))]
    lookup = {item.label(c, rd.lang): float(c) for c in codes}
    col = rd.valid[var]
    values = (col.astype(object).map(lookup) if isinstance(col.dtype, pd.CategoricalDtype)
              else pd.to_numeric(col, errors="coerce").where(lambda x: x.isin(codes)))
    values = values.astype(float)
    if reverse and codes:
        values = min(codes) + max(codes) - values
    return values


def scale_reliability(rd: ReportData, design, spec: ScaleSpec):
    """Cronbach's alpha and McDonald's omega of a scale under the design
    (`analysis.scales.reliability`), on the item codes (reverse-keyed items reversed)."""
    from analysis.scales import reliability  # noqa: PLC0415 - scipy.optimize loads only when reliability is computed

    frame = pd.DataFrame({f"scale__item{i}": item_scores(rd, v, v in spec.reverse).to_numpy()
                          for i, v in enumerate(spec.items)}, index=design.data.index)
    result = reliability(design.assign(**{c: frame[c].to_numpy() for c in frame.columns}),
                         list(frame.columns))
    result.items.index = pd.Index([rd.label(v) for v in spec.items])
    return result



def scale_numbers(rd: ReportData, design) -> dict[str, dict]:
    """Reliability of every scale for the codebook (`schemas.codebook(..., reliability=)`):
    scale name -> {"alpha": (estimate, ci_low, ci_high), "omega": (...), "n": rows used,
    "weighted": bool}, or {"error": reason} where it cannot be computed (too few complete rows,
    an item without variation)."""

    out = {}
    for spec in scales(rd):
        try:
            result = scale_reliability(rd, design, spec)
        except AnalysisError as err:
            out[spec.name] = {"error": str(err)}
            continue
        est = result.estimates
        out[spec.name] = {stat: tuple(float(est.loc[stat, c]) for c in ("estimate", "ci_low", "ci_high"))
                          for stat in ("alpha", "omega") if stat in est.index}
        out[spec.name].update(n=int(result.n), weighted=bool(rd.weighted))
    return out
