"""The data a report analyses, and the design and weights it uses.

Every notebook starts with ``rd = load_data(data, instrument, lang)``: the export (default: the
embedded demo) validated, free text removed, and the sampling design attached (stratum, N_h,
n_h, base weight w). ``weighting(rd)`` then gives the designs of the report: the base design,
raked to the population margins, and trimmed. Keeping these steps here (tested once) is what
keeps the notebooks thin and all five of them on the same numbers.

Design of the practice surveys: a stratified random sample, strata = practice type x federal
state, ``N_h`` from the population margins (`schemas.populations`) or from a ``strata.csv``
beside the export (which also gives the number invited, for response rates).

Example
-------
>>> rd = load_data(lang="en")                         # doctest: +SKIP
>>> w = weighting(rd)                                 # doctest: +SKIP
>>> w.final.mean("tech_share", na_rm=True)            # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from surveydata import disclosure
from surveydata.errors import SurveyDataError
from surveydata.i18n import check_lang
from surveydata.strata import attach_design as strata_design

BUNDLE_MARKER = "reportdata.json"
WITHHELD = "<free text withheld>"
STRATA_FILE = "strata.csv"
#: Trimming of the raked weights at these quantiles (the instrument's weighting rule).
TRIM_QUANTILES = (0.01, 0.99)
#: Strata with one respondent: R's survey.lonely.psu = "adjust" (conservative, centred at the
#: grand mean), so that a small survey still gets its report.
LONELY_PSU = "adjust"


class ReportDataError(SurveyDataError):
    """The data cannot be prepared for the report; the message names file and reason."""


@dataclass
class ReportData:
    """What a notebook works with: validated data without free text, and where it came from.

    valid       validated responses, typed with labels in ``lang``, free-text columns removed,
                plus the design columns stratum, N_h, n_h (valid responses in the stratum), w
    quarantine  rejected rows: response_id, line, n_reasons (the reason texts quote raw values
                and are left out; ``failures`` has them by column and rule)
    failures    one row per failed check: response_id, line, column, value, rule, message
                (``value`` withheld for free-text columns)
    flags       soft warnings and quality screens on valid rows
    report      the validation report (counts, instrument, input sha256)
    source      kind ("demo" or "export"), name, sha256, format, seed (demo)
    strata      one row per stratum: N_h, n_invited (if known), n_valid
    lang        language of the category labels
    """

    valid: pd.DataFrame
    quarantine: pd.DataFrame
    failures: pd.DataFrame
    flags: pd.DataFrame
    report: dict
    source: dict
    strata: pd.DataFrame
    lang: str = "en"
    instrument: object = field(repr=False, default=None)

    @property
    def n_raw(self) -> int:
        return int(self.report.get("n_raw", len(self.valid) + len(self.quarantine)))


def instrument_of(instrument=None):
    """An Instrument from a path, a packaged name, an Instrument, or None (the default one)."""
    import schemas

    if instrument is None or isinstance(instrument, (str, os.PathLike)):
        return schemas.load_instrument(instrument)
    return instrument


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# design columns

def population_strata() -> pd.DataFrame:
    """Strata of the population frame: stratum "<practice_type>-<federal_state>" and N_h.

    >>> int(population_strata()["N_h"].sum())
    141655
    """
    from schemas.populations import load_population_margins

    cells = load_population_margins()["practice_type_x_federal_state"]
    strata = pd.DataFrame({"stratum": [f"{t}-{s}" for t, s in cells.index], "N_h": cells.to_numpy()})
    return strata.set_index("stratum")


def read_strata(path) -> pd.DataFrame:
    """A strata file (stratum, N_h[, n_invited, ...]) indexed by stratum."""
    strata = pd.read_csv(path, dtype={"stratum": "str"})
    missing = {"stratum", "N_h"} - set(strata.columns)
    if missing:
        raise ReportDataError(f"{path}: strata file lacks column(s) {sorted(missing)}")
    return strata.set_index("stratum")


def attach_design(valid: pd.DataFrame, raw: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    """``valid`` with stratum, N_h, n_h and w = N_h / n_h (see :func:`surveydata.strata.attach_design`);
    N_h as float, and an unknown stratum as a ReportDataError."""
    try:
        df = strata_design(valid, raw, strata)
    except ValueError as err:
        raise ReportDataError(str(err)) from err
    df["N_h"] = df["N_h"].astype(float)
    return df


def _strata_summary(valid: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    out = strata.copy()
    out["n_valid"] = valid.groupby("stratum").size().reindex(out.index, fill_value=0)
    keep = ["N_h"] + [c for c in ("n_invited",) if c in out] + ["n_valid"]
    return out[keep]


# ---------------------------------------------------------------------------------------------
# loading

def _sanitize(result, inst) -> dict:
    """The parts of a ValidationResult without free text: columns, quoted values, reason strings."""
    text_cols = disclosure.free_text_columns(inst)
    quarantine = result.quarantine.drop(columns=[c for c in ("reasons",) if c in result.quarantine])
    failures = result.failures.copy()
    if "value" in failures and "column" in failures:
        failures["value"] = failures["value"].astype(object).where(
            ~failures["column"].isin(text_cols), WITHHELD)
    return {"valid": disclosure.drop_free_text(result.valid, text_cols),
            "quarantine": disclosure.drop_free_text(quarantine, text_cols),
            "failures": failures,
            "flags": disclosure.drop_free_text(result.flags, text_cols)}


def _prepare(raw: pd.DataFrame, inst, lang: str, strata: pd.DataFrame, source: dict) -> ReportData:
    from surveydata.validate import validate

    result = validate(raw, inst, lang=lang)
    parts = _sanitize(result, inst)
    parts["valid"] = attach_design(parts["valid"], raw, strata)
    return ReportData(**parts, report=dict(result.report), source=source,
                      strata=_strata_summary(parts["valid"], strata), lang=lang, instrument=inst)


def raw_input(data=None, instrument=None) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The raw export (all text), a description of it, and its strata table."""
    import surveydata
    from surveydata.demo import DEMO_SETTINGS, demo_path

    inst = instrument_of(instrument)
    if data is None:
        raw = surveydata.load_demo(raw=True)
        source = {"kind": "demo", "name": demo_path().name, "seed": DEMO_SETTINGS["seed"]}
        strata = read_strata(demo_path(STRATA_FILE))
    else:
        path = Path(data)
        raw = surveydata.read_export(path, inst)
        source = {"kind": "export", "name": path.name}
        beside = path.with_name(STRATA_FILE)
        strata = read_strata(beside) if beside.is_file() else population_strata()
        source["strata"] = STRATA_FILE if beside.is_file() else "population margins"
    info = raw.attrs.get("export", {})
    source.update(sha256=info.get("sha256"), format=info.get("format"))
    return raw, source, strata


def load_data(data=None, instrument=None, lang: str = "en") -> ReportData:
    """Validated data for the notebooks, free text removed, design columns attached.

    ``data`` is None (the embedded demo survey), a survey export (any format
    `surveydata.read_export` reads; a ``strata.csv`` beside it gives N_h and n_invited, else N_h
    comes from the population margins), or a bundle directory written by :func:`save_bundle`.

    >>> rd = load_data(lang="en")                          # doctest: +SKIP
    >>> "comments" in rd.valid.columns                     # doctest: +SKIP
    False
    """
    check_lang(lang)
    inst = instrument_of(instrument)
    if data is not None and Path(data).is_dir():
        return _bundle(Path(data), inst, lang)
    raw, source, strata = raw_input(data, inst)
    return _prepare(raw, inst, lang, strata, source)


# ---------------------------------------------------------------------------------------------
# bundles: prepared data handed from the report builder to the notebooks

_FRAMES = ("valid", "quarantine", "failures", "flags", "strata")


def save_bundle(rd: ReportData, directory) -> Path:
    """Write prepared report data to ``directory`` (read back by :func:`load_data`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in _FRAMES:
        with open(directory / f"{name}.pkl", "wb") as f:
            pickle.dump(getattr(rd, name), f, protocol=5)
    meta = {"report": rd.report, "source": rd.source, "lang": rd.lang}
    (directory / BUNDLE_MARKER).write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    return directory


def _bundle(directory: Path, inst, lang: str) -> ReportData:
    marker = directory / BUNDLE_MARKER
    if not marker.exists():
        raise ReportDataError(f"{directory}: a directory is accepted only as a prepared report "
                              f"bundle (it has no {BUNDLE_MARKER})")
    meta = json.loads(marker.read_text())
    if meta["lang"] != lang:
        raise ReportDataError(f"{directory}: bundle labelled in {meta['lang']!r}, asked for {lang!r}")
    frames = {}
    for name in _FRAMES:
        # Written by save_bundle of this package in this same report run: a trusted file.
        with open(directory / f"{name}.pkl", "rb") as f:
            frames[name] = pickle.load(f)
    return ReportData(**frames, report=meta["report"], source=meta["source"], lang=lang,
                      instrument=inst)


# ---------------------------------------------------------------------------------------------
# the report's weighting: base design -> raked to population margins -> trimmed

def codes(series: pd.Series, inst, var: str, lang: str) -> pd.Series:
    """Instrument codes of a labelled categorical column (NA stays NA).

    >>> import schemas
    >>> s = pd.Series(pd.Categorical(["Specialist"]))
    >>> codes(s, schemas.load_instrument(), "practice_type", "en").tolist()
    [2]
    """
    item = inst.item(var)
    lookup = {item.label(c, lang): c for c in item.codes}
    unknown = set(series.dropna().astype(str)) - set(lookup)
    if unknown:
        raise ReportDataError(f"column {var}: labels {sorted(unknown)} are not {lang} labels of the item")
    return series.astype(object).map(lookup)


@dataclass
class Weighting:
    """The designs of the report: ``base`` (w = N_h / n_h), ``raked`` (to ``margins``) and
    ``final`` (raked, trimmed at ``bounds``)."""

    base: object
    raked: object
    final: object
    margins: dict
    bounds: tuple[float, float]


def raking_margins(inst=None) -> dict:
    """Population margins the report rakes to, keyed by the frame columns they apply to.

    Practice type x practice form (published cells; Praxisgemeinschaft counts as single
    practice, as the margins file says) and federal state.
    """
    from schemas.populations import load_population_margins

    m = load_population_margins()
    return {("rake_practice_type", "rake_practice_form"): m["practice_type_x_form"],
            "rake_federal_state": m["federal_state"]}


def with_raking_columns(df: pd.DataFrame, inst, lang: str) -> pd.DataFrame:
    """``df`` with the code columns the raking margins refer to."""
    from schemas.populations import load_population_margins

    collapse = load_population_margins()["practice_form"].attrs.get("collapse_for_raking", {})
    out = df.copy()
    out["rake_practice_type"] = codes(df["practice_type"], inst, "practice_type", lang).astype("int64")
    form = codes(df["practice_form"], inst, "practice_form", lang)
    out["rake_practice_form"] = form.map(lambda c: collapse.get(c, c)).astype("int64")
    out["rake_federal_state"] = codes(df["federal_state"], inst, "federal_state", lang).astype(str)
    return out


def weighting(rd: ReportData, trim: tuple[float, float] = TRIM_QUANTILES) -> Weighting:
    """Base design, raked design and final (raked + trimmed) design of the report.

    The designs hold :func:`analysis_frame` (validated data plus the report's variables).

    Base: stratified by practice type x federal state with fpc N_h, w = N_h / n_h, lonely
    strata handled as :data:`LONELY_PSU`. Raked to
    :func:`raking_margins` (iterative proportional fitting to convergence). Trimmed at the
    ``trim`` quantiles of the raked weights (total kept, excess spread as R's trimWeights with
    strict = TRUE, so that no final weight is outside the bounds).
    """
    import analysis

    df = analysis_frame(rd)
    # A stratum with a single respondent (small surveys) has no variance of its own: R's
    # survey.lonely.psu = "adjust" centres it at the grand mean instead of failing.
    base = analysis.SurveyDesign(df, weights="w", strata="stratum", fpc="N_h", lonely_psu=LONELY_PSU)
    margins = raking_margins(rd.instrument)
    raked = base.rake(margins)
    lo, hi = np.quantile(raked.weights, trim)
    final = raked.trim(lower=float(lo), upper=float(hi), strict=True)  # repeat until inside
    return Weighting(base=base, raked=raked, final=final, margins=margins, bounds=(float(lo), float(hi)))


def indicators(df: pd.DataFrame, inst, lang: str, spec: dict) -> pd.DataFrame:
    """0/1 indicator columns (NA where the item has no answer) added to ``df``.

    ``spec`` maps a new column to ``(item, codes)``: 1 where the answer is one of ``codes``.

    >>> import schemas
    >>> d = pd.DataFrame({"incident_12m": pd.Categorical(["Yes", "No", None])})
    >>> indicators(d, schemas.load_instrument(), "en", {"incident": ("incident_12m", [1])})["incident"].tolist()
    [1.0, 0.0, nan]
    """
    out = df.copy()
    for name, (var, wanted) in spec.items():
        item = inst.item(var)
        labels = {item.label(c, lang) for c in wanted}
        col = df[var]
        out[name] = np.where(col.isna(), np.nan, col.astype(object).isin(labels).astype(float))
    return out


# ---------------------------------------------------------------------------------------------
# the report's analysis variables (one definition for all notebooks)

#: 0/1 indicators: name -> (item, codes counted as 1). NA where the item has no answer
#: (not asked, don't know, no answer): shares are among practices that answered.
REPORT_INDICATORS = {
    **{f"{v}_full": (v, [1]) for v in (
        "tm_antivirus", "tm_patching", "tm_backup_plan", "tm_backup_offline", "tm_restore_test",
        "tm_firewall", "tm_disk_encryption", "tm_individual_accounts", "tm_mfa",
        "tm_network_segmentation", "tm_admin_rights_restricted", "tm_mobile_lockcode")},
    "it_responsible": ("it_security_responsible", [1, 2]),
    "training_all": ("training_12m", [1]),
    "emergency_plan_yes": ("emergency_plan", [1]),
    "guideline_known": ("guideline_awareness", [1]),
    "guideline_full": ("guideline_implementation", [1]),
    "cyber_insurance_yes": ("cyber_insurance", [1]),
    "provider_certified": ("provider_kbv_certified", [1]),
    "unsupported_os_yes": ("unsupported_os", [1]),
    "incident_12m_yes": ("incident_12m", [1]),
    "incident_ever_yes": ("incident_ever", [1]),
}
TECHNICAL_MEASURES = [k for k in REPORT_INDICATORS if k.startswith("tm_")]
ORGANISATIONAL_MEASURES = ["it_responsible", "training_all", "emergency_plan_yes", "guideline_known",
                           "guideline_full", "cyber_insurance_yes"]
INCIDENTS = ["incident_12m_yes", "incident_ever_yes"]
#: Likert items used as 1-5 scores in models.
SCORES = ("info_sufficient", "self_competence", "guideline_understandable")


def analysis_frame(rd: ReportData) -> pd.DataFrame:
    """The validated data plus the report's analysis variables.

    Adds :data:`REPORT_INDICATORS`, ``n_info_sources`` (sources ticked, 'none' not counted),
    ``<item>_score`` (1-5) for :data:`SCORES`, and the raking code columns.
    """
    inst, lang = rd.instrument, rd.lang
    df = indicators(rd.valid, inst, lang, REPORT_INDICATORS)
    sources = [c for c in df.columns if c.startswith("info_sources__")
               and c not in ("info_sources__none", "info_sources__missing")]
    df["n_info_sources"] = df[sources].astype("Float64").sum(axis=1, skipna=False).astype(float)
    for var in SCORES:
        df[f"{var}_score"] = codes(df[var], inst, var, lang).astype(float)
    # guideline implementation from "hardly" up to "fully": a positive coefficient means more
    impl = df["guideline_implementation"]
    df["guideline_implementation_up"] = impl.cat.reorder_categories(
        list(impl.cat.categories[::-1]), ordered=True)
    n_app = df["n_applicable"].astype(float)
    df["log_n_applicable"] = np.log(n_app.where(n_app > 0))
    return with_raking_columns(df, inst, lang)


# ---------------------------------------------------------------------------------------------
# data-quality summaries (unweighted counts of records)

#: Validation rules grouped for publication: rule prefix -> group.
RULE_GROUPS = {"duplicate_row": "duplicates", "duplicate_response_id": "duplicates",
               "skip_asked": "skip_logic", "skip_not_asked": "skip_logic",
               "codes": "invalid_code", "likert": "invalid_code", "binary": "invalid_code",
               "exclusive": "invalid_code", "max_select": "invalid_code",
               "dtype": "invalid_number", "range": "invalid_number", "datetime": "invalid_number",
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
    respondents the skip logic did not ask (-7).
    """
    rows = []
    for col in [c for c in rd.valid.columns if c.endswith("__missing")]:
        reason = rd.valid[col].astype(object)
        rows.append({"item": col.removesuffix("__missing"),
                     "asked": int((reason != "not_applicable").sum()),
                     "dont_know": int((reason == "dont_know").sum()),
                     "no_answer": int((reason == "no_answer").sum())})
    out = pd.DataFrame(rows).set_index("item")
    out["share_missing"] = (out["dont_know"] + out["no_answer"]) / out["asked"].where(out["asked"] > 0)
    return out


def response_rates(rd: ReportData, by: str = "practice_type") -> pd.DataFrame:
    """Invited, valid responses and response rate by practice type or federal state.

    Needs ``n_invited`` in the strata table (the demo has it; an export needs a strata.csv
    beside it). Strata are "<practice_type>-<federal_state>" codes; labels from the instrument.
    """
    if "n_invited" not in rd.strata:
        raise ReportDataError("response rates need the number invited per stratum (n_invited in a "
                              "strata.csv beside the export)")
    part = 0 if by == "practice_type" else 1
    if by not in ("practice_type", "federal_state"):
        raise ValueError(f"response rates by practice_type or federal_state, not {by!r}")
    keys = rd.strata.index.str.split("-").str[part]
    item = rd.instrument.item(by)
    lookup = {str(c): item.label(c, rd.lang) for c in item.codes}
    table = rd.strata.groupby(keys.map(lookup), sort=False)[["n_invited", "n_valid"]].sum()
    table.index.name = by
    table["rate"] = table["n_valid"] / table["n_invited"]
    order = [item.label(c, rd.lang) for c in item.codes if item.label(c, rd.lang) in table.index]
    return table.loc[order]


def composition(w: Weighting, rd: ReportData, var: str) -> pd.DataFrame:
    """Shares of the categories of ``var``: sample (unweighted), population, weighted (final),
    and n, the respondents in each category.

    ``var`` is a raking variable (practice_type, practice_form, federal_state); population
    shares come from the raking margins; categories are labelled in the report language.
    """
    column = f"rake_{var}"
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
    if pop is None:
        raise ValueError(f"{column} is not a raking column ({list(w.margins)})")
    pop = pop / pop.sum()
    n = data[column].value_counts()
    out = pd.DataFrame({"sample": sample, "population": pop, "weighted": weighted, "n": n})
    out = out.loc[pop.index].fillna({"sample": 0.0, "weighted": 0.0, "n": 0})
    out["n"] = out["n"].astype("int64")
    item = rd.instrument.item(var)
    out.index = pd.Index([item.label(c, rd.lang) for c in out.index], name=var)
    return out


# ---------------------------------------------------------------------------------------------
# prevalences: one weighted mean per 0/1 indicator, each on its own answered rows

def prevalence(design, variables, by: str | None = None) -> pd.DataFrame:
    """Weighted shares of 0/1 indicators with design-based CIs and the respondent counts.

    Each variable is estimated on the rows that answered it (R's ``svymean(~x, na.rm=TRUE)``
    one variable at a time: several at once would drop every row missing any of them).
    Columns: estimate, se, ci_low, ci_high, n (answered), n_yes, n_no; indexed by variable, or
    by (domain, variable) with ``by`` (rows with no value of ``by`` belong to no domain).

    >>> prevalence(w.final, ["incident_12m_yes"], by="practice_type")   # doctest: +SKIP
    """
    frames = []
    if by is not None and design.data[by].isna().any():
        # rows without a domain (e.g. size class unknown) are in no domain: a subset keeps
        # them in the design for the variance, as R's subset()
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


def too_few(table: pd.DataFrame, k: int) -> pd.Series:
    """Rows of a :func:`prevalence` table to suppress: fewer than ``k`` respondents answered,
    or fewer than ``k`` (but some) said yes, or said no (either would single out practices)."""
    small = lambda c: (table[c] > 0) & (table[c] < k)
    return (table["n"] < k) | small("n_yes") | small("n_no")


def unweighted(design):
    """The same rows and strata with equal weights: the "unweighted" comparison of a model."""
    import analysis

    return analysis.SurveyDesign(design.data.assign(w_equal=1.0), weights="w_equal", strata="stratum",
                                 lonely_psu=LONELY_PSU)


# ---------------------------------------------------------------------------------------------
# the report's models and reference figures

MODELS = {
    "incident": ("incident_12m_yes ~ training_all + it_responsible + guideline_known"
                 " + emergency_plan_yes + tech_share + C(kbv_size_class) + C(practice_type)"),
    "measures": ("tech_index ~ org_index + n_info_sources + C(kbv_size_class) + C(practice_type)"
                 " + C(it_support_model)"),
    "implementation": ("guideline_implementation_up ~ tech_share + it_responsible + guideline_known"
                       " + training_all + guideline_understandable_score"),
}
#: Predictors compared in the "information vs equipment" question, and the controls.
BLOCKS = {"information": ["training_all", "it_responsible", "guideline_known", "emergency_plan_yes",
                          "n_info_sources"],
          "equipment": ["tech_share", "C(it_support_model)", "unsupported_os_yes"]}
CONTROLS = ["C(kbv_size_class)", "C(practice_type)"]
#: Published figures of the BSI's SiRiPrax survey (2024 press coverage; see the domain brief):
#: a third fully implemented the guideline, 10 % were ever affected by an incident.
PUBLISHED = {"guideline_full": 1 / 3, "incident_ever_yes": 0.10}
