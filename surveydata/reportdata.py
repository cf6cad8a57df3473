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
from surveydata.i18n import check_lang

BUNDLE_MARKER = "reportdata.json"
WITHHELD = "<free text withheld>"
STRATA_FILE = "strata.csv"
#: Trimming of the raked weights at these quantiles (the instrument's weighting rule).
TRIM_QUANTILES = (0.01, 0.99)


class ReportDataError(ValueError):
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
    """``valid`` with stratum, N_h, n_h (valid responses in the stratum) and w = N_h / n_h.

    The stratum comes from the raw codes of practice_type and federal_state (the typed columns
    carry labels), matched by file line. A stratum missing from ``strata`` is an error naming it.
    """
    codes = raw.set_index("line")[["practice_type", "federal_state"]].loc[valid["line"].to_numpy()]
    stratum = (codes["practice_type"].str.strip() + "-" + codes["federal_state"].str.strip()).to_numpy()
    unknown = sorted(set(stratum) - set(strata.index))
    if unknown:
        raise ReportDataError(f"strata {unknown} of the data are not in the strata table "
                              f"({len(strata)} strata known)")
    df = valid.copy()
    df["stratum"] = pd.Series(stratum, index=df.index, dtype="str")
    df["N_h"] = strata.loc[stratum, "N_h"].to_numpy(dtype=float)
    df["n_h"] = df.groupby("stratum")["stratum"].transform("size").to_numpy()
    df["w"] = df["N_h"] / df["n_h"]
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

    Base: stratified by practice type x federal state with fpc N_h, w = N_h / n_h. Raked to
    :func:`raking_margins` (iterative proportional fitting to convergence). Trimmed at the
    ``trim`` quantiles of the raked weights (total kept, excess spread as R's trimWeights with
    strict = TRUE, so that no final weight is outside the bounds).
    """
    import analysis

    df = with_raking_columns(rd.valid, rd.instrument, rd.lang)
    base = analysis.SurveyDesign(df, weights="w", strata="stratum", fpc="N_h")
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
