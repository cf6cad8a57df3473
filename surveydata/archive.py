"""Data that travels: the validated (and weighted) data as SPSS, Stata, Parquet and R files, with
the instrument's variable labels, value labels and missing-value definitions.

The validated frame keeps answers and the reason for every missing value apart (``<var>`` and
``<var>__missing``, see `schemas.typed`). Archives and statistics packages expect the survey
convention instead: one numeric column per item holding the response code, the instrument's
missing codes (default -7 not applicable, -8 don't know, -9 no answer) where there was no
answer, value labels for every code, and the missing codes declared as missing. ``coded_frame``
builds exactly that (the inverse of `schemas.to_typed` for the items); the writers add labels:

* ``.sav`` (pyreadstat): variable labels, value labels, missing codes as user-missing values;
* ``.dta`` (pyreadstat): variable labels, value labels (missing codes labelled; Stata has no
  user-missing numbers); names over 32 characters are shortened and the full name becomes the
  variable label, which `surveydata.read_export` maps back;
* ``.parquet``: the typed frame as it is (labelled categoricals, ``__missing`` columns);
* R: ``data.csv`` (codes) + ``load.R``, a script that reads it with base R only, turns coded
  items into factors with their labels, sets the missing codes to NA and keeps variable labels
  as ``attr(x, "label")``.

Free-text items are left out unless ``include_text=True`` (they may identify a respondent).

Example (the embedded demo; every single-choice column holds an answer code or a missing code):

>>> import schemas, surveydata
>>> inst = schemas.load_study(None).instrument       # the demo's study, the packaged default
>>> coded = coded_frame(surveydata.load_demo(), inst, lang="de")
>>> single = [i for i in inst.items if i.type == "single"]
>>> all(coded[i.var].isin([*i.codes, *inst.missing_set]).all() for i in single)
True
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from surveydata.errors import SurveyDataError

__all__ = ["FORMATS", "ArchiveError", "coded_frame", "detect_lang", "write_archive"]

FORMATS = ("sav", "dta", "parquet", "r")
#: Stata allows 32 characters, but readstat names each value-label set after its variable plus a
#: running number (up to 3 digits here) and refuses names over 31: 28 keeps both valid
STATA_NAME_MAX = 28


class ArchiveError(SurveyDataError):
    """The data cannot be written in the asked format; the message names column and fix."""


def _missing_code_of(inst) -> dict[str, int]:
    return {mc.name: int(code) for code, mc in inst.missing_codes.items()}


def _item_of(inst, column: str):
    try:
        return inst.column_item(column)
    except (KeyError, ValueError):
        return None


def _value_labels(inst, column: str, lang: str) -> dict | None:
    """Code -> label of an item column (options: 1/0), with the missing codes."""
    item = _item_of(inst, column)
    if item is None:
        return None
    missing = {int(c): mc.label.get(lang) for c, mc in inst.missing_codes.items()}
    if item.type == "multi":
        yes, no = ("ausgewählt", "nicht ausgewählt") if lang == "de" else ("selected", "not selected")
        return {1: yes, 0: no, **missing}
    codes = getattr(item, "codes", None) or {}
    if getattr(item, "string_codes", False):
        return None   # text codes ('BW') are written as text, labelled by the codebook
    if not codes or any(not isinstance(c, (int, np.integer)) for c in codes):
        return {**missing} if item.type != "text" else None
    return {int(c): lab.get(lang) for c, lab in codes.items()} | missing


def coded_frame(valid: pd.DataFrame, inst, lang: str = "de", include_text: bool = False) -> pd.DataFrame:
    """Items as response codes with the missing codes restored; other columns (metadata,
    derived variables, design and weights) as they are, categoricals as their labels."""
    mcode = _missing_code_of(inst)
    out = {}
    for col in valid.columns:
        if col.endswith("__missing"):
            continue
        item = _item_of(inst, col)
        s = valid[col]
        if item is None:
            out[col] = s.astype(object).where(s.notna(), None).astype(str).where(s.notna()) \
                if isinstance(s.dtype, pd.CategoricalDtype) else s
            continue
        if item.type == "text":
            if include_text:
                out[col] = s
            continue
        reason = valid.get(f"{item.var}__missing")
        if isinstance(s.dtype, pd.CategoricalDtype):
            lookup = {lab.get(lang): c for c, lab in item.codes.items()}
            unknown = set(s.dropna().astype(str)) - set(lookup)
            if unknown:
                raise ArchiveError(f"column {col}: labels {sorted(unknown)[:3]} are not {lang} labels "
                                   f"of item {item.var}; pass the language the data were labelled in")
            values = s.astype(object).map(lookup)
        elif pd.api.types.is_bool_dtype(s.dtype):
            values = s.astype("Float64").astype(object)
        else:
            values = s.astype(object)
        values = values.where(s.notna(), None)
        if reason is not None:
            fill = reason.astype(object).map(mcode)
            values = values.where(values.notna(), fill)
        if item.string_codes:   # 'BW', 'BY', ...: text codes (a missing code as its digits)
            out[col] = values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        out[col] = numeric.astype("Int64") if (numeric.dropna() % 1 == 0).all() else numeric
    return pd.DataFrame(out, index=valid.index)


def detect_lang(valid: pd.DataFrame, inst, langs=("de", "en")) -> str:
    """The language the categorical items of ``valid`` are labelled in (the first that fits all).

    >>> import schemas, surveydata
    >>> detect_lang(surveydata.load_demo(), schemas.load_instrument())
    'de'
    """
    for lang in langs:
        ok = True
        for col in valid.columns:
            item = _item_of(inst, col)
            s = valid[col]
            if item is None or not isinstance(s.dtype, pd.CategoricalDtype) or not item.codes:
                continue
            labels = {lab.get(lang) for lab in item.codes.values()}
            if not set(s.dropna().astype(str)) <= labels:
                ok = False
                break
        if ok:
            return lang
    raise ArchiveError(f"the data's category labels are not the {' or '.join(langs)} labels of "
                       f"instrument {inst.name}: was it validated with another instrument?")


def _labels(inst, columns, lang: str) -> dict[str, str]:
    labels = {}
    for col in columns:
        item = _item_of(inst, col)
        if item is not None:
            text = item.text.get(lang)
            if item.type == "multi":
                opt = col.removeprefix(f"{item.var}__")
                option = next((o for o in getattr(item, "options", ()) if str(o.code) == opt), None)
                text = f"{text} – {option.label.get(lang) if option is not None else opt}"
            labels[col] = text
    for meta in getattr(inst, "metadata", ()):
        if meta.var in columns:
            labels[meta.var] = meta.text.get(lang)
    return labels


def _for_readstat(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers as float (readstat writes NaN as system-missing), text as object."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, (pd.Int64Dtype, pd.Float64Dtype, pd.BooleanDtype)):
            out[col] = s.astype("float64")
        elif pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            out[col] = s.astype(object).where(s.notna(), "")
    return out


def stata_names(columns) -> dict[str, str]:
    """Our name -> a unique Stata name of at most 28 characters (the same name when it fits).

    >>> stata_names(["a", "training_format__commercial_elearning_provider"])["training_format__commercial_elearning_provider"]
    'training_format__commercia_1'
    """
    used, out = set(), {}
    for col in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", col)
        if len(name) > STATA_NAME_MAX:
            stem, k = name[:STATA_NAME_MAX - 2], 1
            while f"{stem}_{k}" in used:
                k += 1
                stem = name[:STATA_NAME_MAX - 1 - len(str(k))]
            name = f"{stem}_{k}"
        used.add(name)
        out[col] = name
    return out


def write_archive(valid: pd.DataFrame, inst, out, fmt: str, lang: str = "de",
                  include_text: bool = False) -> list[Path]:
    """Write the data in ``fmt`` (one of :data:`FORMATS`) into the folder ``out``; returns the
    files written."""
    out = Path(out)
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path = out / "data.parquet"
        keep = valid if include_text else valid.drop(
            columns=[c for c in valid.columns if (_item_of(inst, c) is not None
                                                  and _item_of(inst, c).type == "text")])
        keep.to_parquet(path, index=False)
        return [path]
    coded = coded_frame(valid, inst, lang, include_text)
    labels = _labels(inst, coded.columns, lang)
    value_labels = {c: v for c in coded.columns if (v := _value_labels(inst, c, lang))}
    missing = sorted(inst.missing_codes)
    if fmt == "sav":
        path = out / "data.sav"
        frame = _for_readstat(coded)
        pyreadstat.write_sav(
            frame, path, column_labels={c: labels.get(c) for c in frame.columns},
            variable_value_labels={c: {float(k): v for k, v in vl.items()} for c, vl in value_labels.items()},
            missing_ranges={c: [float(m) for m in missing][:3] for c in value_labels})
        return [path]
    if fmt == "dta":
        path = out / "data.dta"
        names = stata_names(coded.columns)
        frame = _for_readstat(coded).rename(columns=names)
        col_labels = {}
        for ours, theirs in names.items():
            text = ours if ours != theirs else (labels.get(ours) or "")
            col_labels[theirs] = text[:80]
        pyreadstat.write_dta(
            frame, path, column_labels=col_labels,
            variable_value_labels={names[c]: {float(k): v[:80] for k, v in vl.items()}
                                   for c, vl in value_labels.items()})
        return [path]
    # R: codes as CSV and a base-R script that labels them
    data_path, script_path = out / "data.csv", out / "load.R"
    coded.to_csv(data_path, index=False)
    script_path.write_text(_r_script(coded, labels, value_labels, missing), encoding="utf-8")
    return [data_path, script_path]


def _r_string(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _r_script(coded: pd.DataFrame, labels: dict, value_labels: dict, missing: list[int]) -> str:
    lines = [
        "## Reads data.csv (written by `surveydata export --format r`) with base R only.",
        "## Coded items become factors with the instrument's labels; missing codes become NA.",
        "## Run it in this folder: source(\"load.R\") (or Rscript load.R) gives the data frame d.",
        'd <- read.csv("data.csv", stringsAsFactors = FALSE, check.names = FALSE)',
        f"missing_codes <- c({', '.join(str(m) for m in missing)})",
    ]
    for col in coded.columns:
        vl = value_labels.get(col)
        if vl:
            codes = [k for k in vl if k not in missing]
            levels = ", ".join(str(k) for k in codes)
            labs = ", ".join(_r_string(vl[k]) for k in codes)
            lines.append(f"d[[{_r_string(col)}]][d[[{_r_string(col)}]] %in% missing_codes] <- NA")
            lines.append(f"d[[{_r_string(col)}]] <- factor(d[[{_r_string(col)}]], levels = c({levels}), "
                         f"labels = c({labs}))")
        if col in labels:
            lines.append(f"attr(d[[{_r_string(col)}]], \"label\") <- {_r_string(labels[col])}")
    return "\n".join(lines) + "\n"
