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
* R: ``data.csv`` (codes) + ``load.R``, a script that reads it with base R only, turns items
  with answer codes into factors with their labels, keeps numbers numeric, sets the missing
  codes to NA and keeps each missing value's reason in ``<var>__missing`` (a factor of the
  reason names ``not_applicable``, ``dont_know``, ... as in the typed frame, NA where answered),
  and variable labels as ``attr(x, "label")``.

Dates and datetimes: a date cannot hold a missing code, so a ``date``/``datetime`` item is
written as a date column (SPSS DATE11 / Stata %td for dates, DATETIME20 / %tc for datetimes,
ISO text in the R csv that load.R turns into ``Date`` / ``POSIXct``) beside ``<var>__missing``,
which holds the missing code (labelled with the instrument's missing labels; empty where the
item was answered). Datetimes are written in UTC, as validation stores them. Nothing becomes
missing silently: a value that does not fit its column is an `ArchiveError`.

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

__all__ = ["FORMATS", "ArchiveError", "archive_readme", "coded_frame", "detect_lang", "missing_companion",
           "restore_date_codes", "write_archive"]

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
    if item is None or item.type in DATE_TYPES:
        return None     # a date column holds no codes (its missing codes are in <var>__missing)
    missing = _missing_labels(inst, lang)
    if item.type == "multi":
        yes, no = ("ausgewählt", "nicht ausgewählt") if lang == "de" else ("selected", "not selected")
        return {1: yes, 0: no, **missing}
    codes = getattr(item, "codes", None) or {}
    if getattr(item, "string_codes", False):
        return None   # text codes ('BW') are written as text, labelled by the codebook
    if not codes or any(not isinstance(c, (int, np.integer)) for c in codes):
        return {**missing} if item.type != "text" else None
    return {int(c): lab.get(lang) for c, lab in codes.items()} | missing


DATE_TYPES = ("date", "datetime")


def missing_companion(var: str) -> str:
    """Name of the column holding the missing code of a date/datetime item (see the module doc)."""
    return f"{var}__missing"


def _as_dates(s: pd.Series, item, col: str) -> pd.Series:
    """A date/datetime item as tz-naive datetime64 (UTC), or an ArchiveError naming the value."""
    try:    # the validated frame holds datetime64 already; ISO text (a hand-made frame) is read
        d = s if pd.api.types.is_datetime64_any_dtype(s.dtype) else pd.to_datetime(
            s, format="ISO8601", utc=item.type == "datetime")
    except (ValueError, TypeError) as err:
        raise ArchiveError(f"column {col}: {item.type} item {item.var} holds values that are not "
                           f"dates ({err}); pass the valid.parquet `surveydata validate` wrote") from None
    if d.dt.tz is not None:
        d = d.dt.tz_convert("UTC").dt.tz_localize(None)
    return d.astype("datetime64[us]")


def _check_nothing_lost(before: pd.Series, after: pd.Series, col: str, what: str) -> None:
    lost = after.isna() & before.notna()
    if lost.any():
        raise ArchiveError(f"column {col}: value {before[lost].iloc[0]!r} (row {lost.idxmax()}) is not "
                           f"{what}; {int(lost.sum())} value(s) would be lost: check the instrument "
                           "declares the item's type")


def coded_frame(valid: pd.DataFrame, inst, lang: str = "de", include_text: bool = False) -> pd.DataFrame:
    """Items as response codes with the missing codes restored; date/datetime items as dates with
    their missing codes in ``<var>__missing``; other columns (metadata, derived variables, design
    and weights) as they are, categoricals as their labels."""
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
        if item.type in DATE_TYPES:
            out[col] = _as_dates(s, item, col)
            _check_nothing_lost(s, out[col], col, f"a {item.type}")
            if reason is not None:
                out[missing_companion(item.var)] = reason.astype(object).map(mcode).astype("Int64")
            continue
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
        _check_nothing_lost(values, numeric, col, "a number or a code")
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
    for col, var in _companions(inst, columns).items():
        labels[col] = _companion_label(inst, var, lang)
    return labels


def _companion_label(inst, var: str, lang: str) -> str:
    why = "Grund für fehlenden Wert" if lang == "de" else "reason for the missing value"
    return f"{inst.item(var).text.get(lang)} – {why}"


def _companions(inst, columns) -> dict[str, str]:
    """``<var>__missing`` columns of date/datetime items among ``columns`` -> the item's var."""
    out = {}
    for col in columns:
        item = _item_of(inst, col)
        if item is not None and item.type in DATE_TYPES and missing_companion(col) in columns:
            out[missing_companion(col)] = item.var
    return out


def _missing_labels(inst, lang: str) -> dict[int, str]:
    return {int(c): mc.label.get(lang) for c, mc in inst.missing_codes.items()}


def _for_readstat(frame: pd.DataFrame, dates=()) -> pd.DataFrame:
    """Nullable integers as float (readstat writes NaN as system-missing), text as object, the
    columns ``dates`` as ``datetime.date`` (readstat's date format), datetimes tz-naive in UTC."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            out[col] = s.dt.date.astype(object).where(s.notna(), None) if col in dates else s
        elif isinstance(s.dtype, (pd.Int64Dtype, pd.Float64Dtype, pd.BooleanDtype)):
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
    companions = _companions(inst, coded.columns)
    missing_labels = _missing_labels(inst, lang)
    dates = {c for c in coded.columns if (i := _item_of(inst, c)) is not None and i.type == "date"}
    missing = sorted(inst.missing_codes)
    if fmt == "sav":
        path = out / "data.sav"
        frame = _for_readstat(coded, dates)
        pyreadstat.write_sav(
            frame, path, column_labels={c: labels.get(c) for c in frame.columns},
            variable_value_labels={c: {float(k): v for k, v in vl.items()}
                                   for c, vl in (value_labels | dict.fromkeys(companions, missing_labels)).items()},
            # a companion holds only missing codes: its values are the reasons, not user-missing
            missing_ranges={c: [float(m) for m in missing][:3] for c in value_labels})
        return [path]
    if fmt == "dta":
        path = out / "data.dta"
        names = stata_names(coded.columns)
        frame = _for_readstat(coded, dates).rename(columns=names)
        col_labels = {}
        for ours, theirs in names.items():
            text = ours if ours != theirs else (labels.get(ours) or "")
            col_labels[theirs] = text[:80]
        pyreadstat.write_dta(
            frame, path, column_labels=col_labels,
            variable_value_labels={names[c]: {float(k): v[:80] for k, v in vl.items()}
                                   for c, vl in (value_labels | dict.fromkeys(companions, missing_labels)).items()})
        return [path]
    # R: codes as CSV (dates as ISO text) and a base-R script that labels them
    data_path, script_path = out / "data.csv", out / "load.R"
    _iso_text(coded, dates).to_csv(data_path, index=False)
    script_path.write_text(_r_script(coded, inst, labels, value_labels, valid.columns, dates, lang),
                           encoding="utf-8")
    return [data_path, script_path]


def _iso_text(coded: pd.DataFrame, dates) -> pd.DataFrame:
    """Date columns as YYYY-MM-DD, datetimes as YYYY-MM-DD HH:MM:SS[.ffffff] in UTC (empty if NA)."""
    out = coded.copy()
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        fmt = ("%Y-%m-%d" if col in dates else
               "%Y-%m-%d %H:%M:%S.%f" if (s.dt.microsecond.fillna(0) != 0).any() else "%Y-%m-%d %H:%M:%S")
        out[col] = s.dt.strftime(fmt).where(s.notna(), None)
    return out


def _r_string(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _r_script(coded: pd.DataFrame, inst, labels: dict, value_labels: dict, typed_columns,
              dates, lang: str) -> str:
    """load.R: factors for items with answer codes, numbers stay numbers, Date/POSIXct for dates;
    every missing code becomes NA with its reason in ``<var>__missing`` (the typed frame's names)."""
    names = [mc.name for mc in inst.missing_codes.values()]
    lines = [
        "## Reads data.csv (written by `surveydata export --format r`) with base R only.",
        "## Items with answer codes become factors with the instrument's labels, numbers stay numeric,",
        "## dates become Date (datetimes POSIXct in UTC). Every missing code becomes NA; its reason is",
        "## kept in <var>__missing (a factor: " + ", ".join(names) + "; NA where answered).",
        "## Run it in this folder: source(\"load.R\") (or Rscript load.R) gives the data frame d.",
        'd <- read.csv("data.csv", stringsAsFactors = FALSE, check.names = FALSE, na.strings = "",',
        '              fileEncoding = "UTF-8")',
        f"missing_codes <- c({', '.join(str(m) for m in inst.missing_codes)})",
        f"missing_reasons <- c({', '.join(_r_string(n) for n in names)})",
        "reason <- function(x) factor(ifelse(x %in% missing_codes, as.character(x), NA),",
        "                             levels = missing_codes, labels = missing_reasons)",
    ]
    posix = 'as.POSIXct(as.character(d[[{c}]]), tz = "UTC", format = "%Y-%m-%d %H:%M:%OS")'
    order, date_companions = [], _companions(inst, coded.columns)
    for col in coded.columns:
        c = _r_string(col)
        order.append(col)
        item = _item_of(inst, col)
        if col in date_companions:      # a date item's missing codes
            lines.append(f"d[[{c}]] <- factor(d[[{c}]], levels = missing_codes, labels = missing_reasons)")
        elif item is not None and item.type in DATE_TYPES:
            lines.append(f'd[[{c}]] <- as.Date(as.character(d[[{c}]]), format = "%Y-%m-%d")'
                         if col in dates else f"d[[{c}]] <- " + posix.format(c=c))
        elif item is None and pd.api.types.is_datetime64_any_dtype(coded[col].dtype):
            lines.append(f"d[[{c}]] <- " + posix.format(c=c))    # metadata, e.g. submitted at
        elif item is not None and item.type != "text":
            companion = missing_companion(item.var)
            if companion in typed_columns and col == item.columns[0]:
                # the reason, once per item (a multi-choice item's columns share it)
                lines.append(f"d[[{_r_string(companion)}]] <- reason(d[[{c}]])")
                lines.append(f"attr(d[[{_r_string(companion)}]], \"label\") <- "
                             f"{_r_string(_companion_label(inst, item.var, lang))}")
            lines.append(f"d[[{c}]][d[[{c}]] %in% missing_codes] <- NA")
            vl = value_labels.get(col) or {}
            answer = [k for k in vl if k not in inst.missing_codes]
            if answer:      # a factor only for answer codes: a number with missing codes stays numeric
                lines.append(f"d[[{c}]] <- factor(d[[{c}]], levels = c({', '.join(str(k) for k in answer)}), "
                             f"labels = c({', '.join(_r_string(vl[k]) for k in answer)}))")
            if companion in typed_columns and col == item.columns[-1]:
                order.append(companion)
        if col in labels:
            lines.append(f"attr(d[[{c}]], \"label\") <- {_r_string(labels[col])}")
    lines.append("d <- d[c(" + ", ".join(_r_string(c) for c in order) + ")]")
    return "\n".join(lines) + "\n"


def archive_readme(valid: pd.DataFrame, inst, fmt: str, files, lang: str = "de",
                   include_text: bool = False, study=None) -> str:
    """README.md of an export folder: what the files hold and what they leave out (so a secondary
    analyst knows what can and cannot be reproduced from them). No timestamps, no paths."""
    texts = [i.var for i in inst.items if i.type == "text"]
    dates = [i.var for i in inst.items if i.type in DATE_TYPES and i.var in valid.columns]
    codes = ", ".join(f"{c} = {mc.name}" for c, mc in inst.missing_codes.items())
    lines = [
        f"# Validated data of {inst.name} {inst.version} ({fmt})",
        "",
        f"Files: {', '.join(Path(f).name for f in files)}. {len(valid)} valid responses; labels in {lang}.",
        "",
        "## Included",
        "",
        "- every item of the instrument and its metadata columns, with variable and value labels;",
    ]
    if fmt == "parquet":
        lines.append("- the typed frame: answers as labelled categories, NA for every missing value and its "
                     "reason in `<var>__missing`;")
    else:
        lines.append(f"- answers as the instrument's codes; missing codes {codes}"
                     + (" (declared user-missing)" if fmt == "sav" else
                        " (set to NA by load.R, reason kept in `<var>__missing`)" if fmt == "r" else
                        " (labelled; Stata has no user-missing numbers)") + ";")
        if dates:
            lines.append(f"- date/datetime items ({', '.join(dates)}) as dates (datetimes in UTC); their "
                         "missing codes in `<var>__missing` (empty where answered);")
    lines += ["", "## Not included", ""]
    if texts:
        lines.append(f"- free text ({', '.join(texts)}): " + ("included (--include-text)" if include_text else
                     "left out, it may identify a respondent (--include-text keeps it)") + ";")
    derived = [d.var for d in getattr(study, "derived", ()) if d.var not in valid.columns]
    if derived:
        lines.append(f"- the study's derived variables ({', '.join(derived)}): compute them from the "
                     "study declaration (`derived:`), as `surveydata report --study` does;")
    design = getattr(study, "design", None)
    if design is not None:
        lines.append(f"- design and weights (strata {', '.join(design.strata) or '-'}, N_h, base and final "
                     "weights): not in these files; they follow from the study declaration (`design:`, "
                     "`population:`, `weighting:`) and are computed by `surveydata report --study`;")
    if len(lines) and lines[-1] == "":
        lines.append("- nothing else: the files hold every validated column.")
    lines += ["", "Quarantined responses (failed validation) are not in these files.", ""]
    return "\n".join(lines)


def restore_date_codes(frame: pd.DataFrame, inst) -> pd.DataFrame:
    """The inverse of the date convention, for reading an archive file back as an export: each
    date/datetime item as ISO text with its missing code (from ``<var>__missing``, then dropped)
    where there is no date. Other columns are unchanged.

    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")
    >>> f = pd.DataFrame({"last_training": pd.to_datetime(["2024-05-02", None]),
    ...                   "last_training__missing": [None, 98.0]})
    >>> restore_date_codes(f, inst)["last_training"].tolist()
    ['2024-05-02', '98']
    """
    out = frame.copy()
    for item in inst.items:
        companion = missing_companion(item.var)
        if item.type not in DATE_TYPES or item.var not in out.columns:
            continue
        s = pd.to_datetime(out[item.var])
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        text = s.dt.strftime("%Y-%m-%d" if item.type == "date" else "%Y-%m-%dT%H:%M:%S").astype(object)
        text = text.where(s.notna(), None)
        if companion in out.columns:
            code = pd.to_numeric(out[companion], errors="coerce")
            fill = code.map(lambda c: None if pd.isna(c) else str(int(c)))
            text = text.where(text.notna(), fill)
            out = out.drop(columns=companion)
        out[item.var] = text
    return out
